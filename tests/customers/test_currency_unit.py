"""A change of currency unit changes neither the types nor the forecast (issue 13): the
repeat-buying fits work in the portfolio's own unit (customers/bgnbd.py)."""

import numpy as np
import pandas as pd

from customers import analysis

AS_OF = pd.Timestamp("2024-12-01")


def _irregular_buyers(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Customers buying now and then until they drop out, revenue only; a fifth every month."""
    rng = np.random.default_rng(seed)
    months = 36
    steady = rng.random(n) < 0.2
    buy = np.where(steady, 1.0, rng.beta(1.2, 3.0, n))
    drop = np.where(steady, 0.0, rng.beta(1.0, 12.0, n))
    alive = np.cumsum(rng.random((n, months)) < drop[:, None], axis=1) == 0
    bought = (rng.random((n, months)) < buy[:, None]) & alive
    customer, month = np.nonzero(bought)
    spend = rng.gamma(2.0, 150.0, n)[customer] * rng.gamma(4.0, 0.25, len(customer))
    periods = pd.date_range(end=AS_OF, periods=months, freq="MS")
    return pd.DataFrame(
        {
            "customer_id": [f"C{c:05d}" for c in customer],
            "period": periods[month],
            "revenue": np.round(spend, 2),
            "margin": np.nan,
        }
    )


def test_a_unit_ten_thousand_times_smaller_gives_the_same_types_and_values():
    """As from euros to Indonesian rupiah, roughly: without the fits' own unit the
    Gamma-Gamma fit ends elsewhere and the forecasts differ."""
    euros = _irregular_buyers()
    small = euros.assign(revenue=euros["revenue"] * 10_000)
    in_euros = analysis.analyse(euros, as_of=AS_OF, horizon=12)
    in_small = analysis.analyse(small, as_of=AS_OF, horizon=12)
    # The repeat-buying model forecasts most of them: the fits are what is tested.
    assert (in_euros["forecast_method"] == "repeat_buying").mean() > 0.5
    assert (in_small["value_type"] == in_euros["value_type"]).all()
    assert (in_small["forecast_method"] == in_euros["forecast_method"]).all()
    np.testing.assert_allclose(
        in_small["future_value"], in_euros["future_value"] * 10_000, rtol=1e-4, atol=1e-6
    )
