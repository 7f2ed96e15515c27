"""customers/bgnbd.py without data files: the BG/BB likelihood as the fit evaluates it."""

import numpy as np
import pytest
from scipy import special

from customers import bgnbd


def bgbb_paper(params: bgnbd.BGBB, x: float, t_x: float, n: float) -> float:
    """Fader, Hardie, Shang (2010), eq. 5, term by term."""
    al, be, ga, de = params.alpha, params.beta, params.gamma, params.delta
    total = np.exp(
        special.betaln(al + x, be + n - x)
        - special.betaln(al, be)
        + special.betaln(ga, de + n)
        - special.betaln(ga, de)
    )
    for i in range(int(n - t_x)):
        total += np.exp(
            special.betaln(al + x, be + t_x - x + i)
            - special.betaln(al, be)
            + special.betaln(ga + 1, de + t_x + i)
            - special.betaln(ga, de)
        )
    return float(np.log(total))


@pytest.mark.parametrize(
    "params", [bgnbd.BGBB(1.204, 0.750, 0.657, 2.783), bgnbd.BGBB(0.3, 4.0, 20.0, 900.0)]
)
def test_the_bgbb_likelihood_is_the_papers_for_each_customer(params):
    # Customers share distinct values and sums in the fast evaluation: each one's
    # likelihood must still be its own, the same as alone.
    rng = np.random.default_rng(3)
    x = rng.integers(0, 20, 400).astype(float)
    t_x = x + rng.integers(0, 15, 400) * (x > 0)
    n = t_x + rng.integers(0, 25, 400)

    together = bgnbd.bgbb_log_likelihood(params, x, t_x, n)

    expected = [bgbb_paper(params, *row) for row in zip(x, t_x, n, strict=True)]
    assert together == pytest.approx(expected, rel=1e-10)
    alone = [
        bgnbd.bgbb_log_likelihood(params, [a], [b], [c])[0]
        for a, b, c in zip(x[:30], t_x[:30], n[:30], strict=True)
    ]
    assert together[:30] == pytest.approx(alone, rel=1e-12)
    assert bgnbd.bgbb_log_likelihood(params, 2.0, 3.0, 5.0) == pytest.approx(
        bgbb_paper(params, 2.0, 3.0, 5.0), rel=1e-10
    )
