"""Repeat-buying models (customers/bgnbd.py) and our forecast on real transaction data.

The data: CDNOW (Fader and Hardie), the purchases of the 23,570 customers who first
bought at the online CD store CDNOW in the first quarter of 1997, until June 1998. It
ships inside the PyPI wheel Lifetimes==0.11.3 as lifetimes/datasets/CDNOW_master.txt
(and the 1/10 sample CDNOW_sample.txt used in the papers). The files are found through
the installed package's location without importing it: `import lifetimes` (and so
`importlib.resources.files("lifetimes.datasets")`) fails without autograd and dill,
which we do not need. Install the data with
`pip install --no-deps Lifetimes==0.11.3`; without it these tests are skipped.

Calibration: the first 39 weeks (1997-01-01..1997-09-30); holdout: the next 39 weeks
(1997-10-01..1998-06-30, exactly the 9 months October..June). The reference predicts each
customer's holdout spend as BG/NBD expected purchases x Gamma-Gamma expected spend per
purchase, from the daily transactions. Ours is `analysis.analyse()` on the monthly
history with the calibration transactions (as of 1997-09, horizon 9), as the
analyze_customers command runs it on a transaction file; "ours, monthly" is the same
without the transactions, as an analysis run from the database's monthly records makes it.
The forecast from transactions was not tuned on the holdout: it is the published
BG/NBD x Gamma-Gamma with rules written down before its first run (purchase = a day with
revenue, T to the end of the as_of month, calendar months ahead), at the default
thresholds, which were left as they were.
"""

import numpy as np
import pandas as pd
import pytest

from customers import analysis, bgnbd
from tests.customers import cdnow

DATASETS = cdnow.datasets_folder()
pytestmark = pytest.mark.skipif(
    DATASETS is None, reason="CDNOW data not installed (pip install --no-deps Lifetimes==0.11.3)"
)

CALIBRATION_END = cdnow.CALIBRATION_END
HOLDOUT_WEEKS = 39
HOLDOUT_MONTHS = 9


@pytest.fixture(scope="module")
def sample_summary() -> pd.DataFrame:
    sample = cdnow.read(
        "CDNOW_sample.txt", ["master_id", "customer_id", "date", "cds", "dollars"], None
    )
    calibration = sample[sample["date"] <= CALIBRATION_END]
    return bgnbd.rfm_summary(
        calibration["customer_id"],
        calibration["date"],
        calibration["dollars"],
        end=CALIBRATION_END,
    )


def test_bgnbd_reproduces_the_published_cdnow_estimates(sample_summary):
    # Fader, Hardie, Lee (2005), section 4: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426.
    assert len(sample_summary) == 2357
    fitted = bgnbd.fit_bgnbd(
        sample_summary[bgnbd.FREQUENCY], sample_summary[bgnbd.RECENCY], sample_summary[bgnbd.AGE]
    )
    assert fitted.r == pytest.approx(0.243, abs=0.001)
    assert fitted.alpha == pytest.approx(4.414, abs=0.001)
    assert fitted.a == pytest.approx(0.793, abs=0.001)
    assert fitted.b == pytest.approx(2.426, abs=0.001)


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(sample_summary):
    # Fader, Hardie (2013), on the 946 repeat buyers: p = 6.25, q = 3.74, gamma = 15.44.
    assert (sample_summary[bgnbd.FREQUENCY] > 0).sum() == 946
    fitted = bgnbd.fit_gamma_gamma(sample_summary[bgnbd.FREQUENCY], sample_summary[bgnbd.MONETARY])
    assert fitted.p == pytest.approx(6.25, abs=0.01)
    assert fitted.q == pytest.approx(3.74, abs=0.01)
    assert fitted.gamma == pytest.approx(15.44, abs=0.02)


def test_bgnbd_conditional_expectation_matches_the_worked_example():
    # Hardie's note "Implementing the BG/NBD model in Excel": x = 2, t_x = 30.43,
    # T = 38.86 expects 1.226 purchases in the next 39 weeks.
    params = bgnbd.BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    assert bgnbd.expected_purchases(params, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)
    assert bgnbd.probability_alive(params, 0, 0, 38.86) == 1.0


def test_bgnbd_expectation_stays_finite_for_very_frequent_buyers():
    # 5,000 purchases in 260 weeks, the last just now: the textbook form gives NaN
    # (0 x infinity); a bit below the purchase rate times the weeks ahead is right.
    params = bgnbd.BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    rate = (params.r + 5000) / (params.alpha + 260)
    expected = bgnbd.expected_purchases(
        params, np.array([[13.0, 52.0]]), [[5000]], [[259.9]], [[260]]
    )
    assert np.isfinite(expected).all()
    assert 0.85 * rate * 13 < expected[0, 0] < rate * 13
    assert 0.85 * rate * 52 < expected[0, 1] < rate * 52


def test_bgbb_reproduces_the_published_donation_estimates():
    # Fader, Hardie, Shang (2010), 11,104 donors over 6 years: alpha = 1.204,
    # beta = 0.750, gamma = 0.657, delta = 2.783.
    donations = pd.read_csv(DATASETS / "donations.csv")
    assert donations["weights"].sum() == 11104
    fitted = bgnbd.fit_bgbb(
        donations["frequency"],
        donations["recency"],
        donations["periods"],
        weights=donations["weights"],
    )
    assert fitted.alpha == pytest.approx(1.204, abs=0.001)
    assert fitted.beta == pytest.approx(0.750, abs=0.001)
    assert fitted.gamma == pytest.approx(0.657, abs=0.001)
    assert fitted.delta == pytest.approx(2.783, abs=0.001)


def test_bgbb_conditional_expectation_matches_a_simulation():
    params = bgnbd.BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    rng = np.random.default_rng(0)
    n, observed, future = 400_000, 6, 5
    p = rng.beta(params.alpha, params.beta, n)
    theta = rng.beta(params.gamma, params.delta, n)
    # Each period: die first (probability theta), then buy if alive (probability p).
    alive = np.cumprod(rng.uniform(size=(n, observed + future)) >= theta[:, None], axis=1)
    bought = alive.astype(bool) & (rng.uniform(size=(n, observed + future)) < p[:, None])
    seen, later = bought[:, :observed], bought[:, observed:].sum(axis=1)
    x = seen.sum(axis=1)
    t_x = np.where(x > 0, observed - np.argmax(seen[:, ::-1], axis=1), 0)
    for xx, tt in [(0, 0), (1, 2), (3, 5), (6, 6)]:
        group = (x == xx) & (t_x == tt)
        expected = bgnbd.bgbb_expected_purchases(params, future, [xx], [tt], [observed])[0]
        assert later[group].mean() == pytest.approx(expected, rel=0.05)


@pytest.fixture(scope="module")
def holdout() -> dict:
    customers, calibration, actual = cdnow.holdout_split()

    summary = bgnbd.rfm_summary(
        calibration["customer_id"], calibration["date"], calibration["dollars"], end=CALIBRATION_END
    )
    purchases = bgnbd.fit_bgnbd(
        summary[bgnbd.FREQUENCY], summary[bgnbd.RECENCY], summary[bgnbd.AGE]
    )
    spend = bgnbd.fit_gamma_gamma(summary[bgnbd.FREQUENCY], summary[bgnbd.MONETARY])
    reference = bgnbd.expected_purchases(
        purchases,
        HOLDOUT_WEEKS,
        summary[bgnbd.FREQUENCY],
        summary[bgnbd.RECENCY],
        summary[bgnbd.AGE],
    ) * bgnbd.expected_spend(spend, summary[bgnbd.FREQUENCY], summary[bgnbd.MONETARY])
    reference = pd.Series(reference, index=summary.index).reindex(customers, fill_value=0.0)

    transactions = calibration.rename(columns={"dollars": analysis.AMOUNT})
    transactions[analysis.MARGIN] = np.nan
    transactions = transactions[list(analysis.TRANSACTION_COLUMNS)]
    monthly = analysis.monthly_from_transactions(transactions)
    as_of = pd.Timestamp("1997-09-01")
    predictions = {"reference": reference}
    for name, given in (("ours", transactions), ("ours, monthly", None)):
        result = analysis.analyse(monthly, as_of=as_of, horizon=HOLDOUT_MONTHS, transactions=given)
        predictions[name] = result["future_value"].reindex(customers, fill_value=0.0)

    figures = {
        name: {
            "rmse": _rmse(prediction, actual),
            "mae": float((prediction - actual).abs().mean()),
            "top10": _top_share(prediction, actual),
        }
        for name, prediction in predictions.items()
    }
    print(
        f"\nCDNOW holdout, {len(customers):,} customers, actual spend {actual.sum():,.0f}:\n"
        + "\n".join(
            f"  {name}: RMSE {f['rmse']:.3f}, MAE {f['mae']:.3f}, "
            f"top 10 % capture {f['top10']:.3%}, total {predictions[name].sum():,.0f}"
            for name, f in figures.items()
        )
    )
    return {"actual": actual, **predictions, "figures": figures}


def _rmse(prediction: pd.Series, actual: pd.Series) -> float:
    return float(np.sqrt(((prediction - actual) ** 2).mean()))


def _top_share(prediction: pd.Series, actual: pd.Series) -> float:
    """Share of all actual spend that the top 10 % of customers by prediction made."""
    top = prediction.sort_values(ascending=False, kind="stable").index[: round(len(actual) / 10)]
    return float(actual[top].sum() / actual.sum())


def test_the_reference_fit_on_the_master_data_is_sane(holdout):
    # The full cohort's parameters differ from the sample's, but not by much.
    assert holdout["reference"].sum() == pytest.approx(holdout["actual"].sum(), rel=0.25)


def test_our_top_decile_captures_at_least_as_much_spend_as_the_reference(holdout):
    figures = holdout["figures"]
    assert figures["ours"]["top10"] >= figures["reference"]["top10"], figures


# With at most 9 months of history every CDNOW customer is irregular, so ours is the
# reference model here, except that 73 zero-dollar days are no purchases to us (70
# customers with only such a day have no business at all): a near tie by both measures
# (RMSE 92.936 vs 92.939, top 10 % 51.564 % vs 51.563 %), not a clear win.
def test_our_rmse_is_at_least_as_good_as_the_reference(holdout):
    figures = holdout["figures"]
    assert figures["ours"]["rmse"] <= figures["reference"]["rmse"], figures


def test_from_monthly_values_alone_our_top_decile_captures_as_much(holdout):
    figures = holdout["figures"]
    assert figures["ours, monthly"]["top10"] >= figures["reference"]["top10"], figures


def test_from_monthly_values_alone_our_rmse_stays_within_three_percent(holdout):
    # Months lose the timing within the month that BG/NBD uses (94.8 vs 92.9).
    figures = holdout["figures"]
    assert figures["ours, monthly"]["rmse"] <= 1.03 * figures["reference"]["rmse"], figures
