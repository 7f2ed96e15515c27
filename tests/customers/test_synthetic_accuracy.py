"""The analysis against labelled synthetic histories (customers.synthetic): the clear cases
and the hard ones (18-36 months, more noise and gaps, start-up phases, budget months,
project customers, burrs by money, thin-margin key accounts).

The issue's targets are 99 % on the clear cases, 95 % on the hard ones and a future-value
error of at most 0.40x the naive forecast's on the hard ones; bench/analysis.py prints
what the analysis reaches on larger sets. 10,000 customers per set: at 99 % right, the
share has a standard error of 0.1 percentage points (0.18 with 3,000). The type targets
are asserted as they are; the error is asserted a little above what the analysis
reaches on these seeds (0.55x clear, 0.64x hard; without the customers with too little
data 0.47x and 0.61x), so that a change that makes it worse fails. The 0.40x is out of
reach: even the generator's own expected future value, a forecast that knows every
customer's parameters, makes about 0.39x under the cap for customers with too little
data (twice what they brought so far, `short_history_max_future`), and most of the rest
is the trend of growth customers estimated from 18-36 noisy months (bench/forecast_floor.py;
docs/method.md, "How good the types and the forecast are").
"""

import pandas as pd
import pytest

from customers import analysis, synthetic

AS_OF = pd.Timestamp("2024-12-01")


def _labelled(hard: bool):
    months = 36 if hard else 60
    history, true_type, true_future = synthetic.generate(
        10_000, seed=20240, as_of=AS_OF, months=months, hard=hard
    )
    result = analysis.analyse(history, as_of=AS_OF, horizon=synthetic.FUTURE_MONTHS)
    return result.reindex(true_type.index), true_type, true_future


@pytest.fixture(scope="module")
def clear():
    return _labelled(hard=False)


@pytest.fixture(scope="module")
def hard():
    return _labelled(hard=True)


def _per_type(right: pd.Series, true_type: pd.Series) -> str:
    shares = right.groupby(true_type).mean().reindex(analysis.VALUE_TYPES)
    return ", ".join(f"{code} {share:.1%}" for code, share in shares.items())


def _accuracy(labelled) -> tuple[float, str]:
    result, true_type, _ = labelled
    right = result["value_type"] == true_type
    confusion = pd.crosstab(true_type, result["value_type"])
    return right.mean(), f"accuracy {right.mean():.1%}; {_per_type(right, true_type)}\n{confusion}"


def _error_ratio(labelled, *, judged_only: bool = False) -> tuple[float, str]:
    result, true_type, true_future = labelled
    if judged_only:
        judged = true_type != "insufficient_data"
        result, true_type, true_future = result[judged], true_type[judged], true_future[judged]
    ours = (result["future_value"] - true_future).abs()
    # The naive forecast: the next 12 periods repeat the last 12.
    naive = (result["current_value"] - true_future).abs()
    by_type = pd.DataFrame({"ours": ours, "naive": naive}).groupby(true_type).mean()
    return (
        ours.mean() / naive.mean(),
        f"MAE ours {ours.mean():.1f}, naive {naive.mean():.1f}\n{by_type}",
    )


def test_it_generates_every_type_with_its_history():
    history, true_type, true_future = synthetic.generate(700, seed=1, as_of=AS_OF)
    assert set(true_type) == set(analysis.VALUE_TYPES)
    assert history["period"].max() == AS_OF
    assert history["period"].min() == AS_OF - pd.DateOffset(months=59)
    assert history["margin"].isna().any() and history["margin"].notna().any()
    assert (history["margin"] < 0).any()  # loss-making burr customers
    assert true_future.index.equals(true_type.index)


def test_the_hard_cases_are_18_to_36_months_long():
    history, true_type, _ = synthetic.generate(2_000, seed=2, as_of=AS_OF, months=36, hard=True)
    first = history[history["revenue"] != 0].groupby("customer_id", observed=True)["period"].min()
    months = (AS_OF.year - first.dt.year) * 12 + (AS_OF.month - first.dt.month) + 1
    judged = months[true_type.reindex(months.index) != "insufficient_data"]
    assert judged.max() <= 36
    assert (judged >= 18).mean() > 0.95  # budget customers may start with a quiet month


def test_it_is_reproducible_from_the_seed():
    first = synthetic.generate(50, seed=9, as_of=AS_OF)
    second = synthetic.generate(50, seed=9, as_of=AS_OF)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_series_equal(first[2], second[2])


def test_it_assigns_the_clear_cases_right(clear):
    accuracy, details = _accuracy(clear)
    assert accuracy >= 0.99, details


def test_it_assigns_the_hard_cases_right(hard):
    accuracy, details = _accuracy(hard)
    assert accuracy >= 0.955, details


def test_project_customers_burrs_by_money_and_key_accounts_come_out_right(hard):
    # The examples in the hard set: cyclic and burr customers are nearly all
    # found, and no thin-margin key account is a burr.
    result, true_type, _ = hard
    for code in ("cyclic", "burr"):
        found = (result["value_type"] == code)[true_type == code].mean()
        assert found >= 0.97, (code, found)
    thin = result["thin_margin"]
    assert thin.any()
    assert not (result.loc[thin, "value_type"] == "burr").any()


def test_its_future_value_beats_the_naive_forecast(clear, hard):
    # (Customers with too little data are forecast at most at twice what they brought so
    # far, the naive forecast's figure for them being once.)
    ratio, details = _error_ratio(clear)
    assert ratio <= 0.57, details
    ratio, details = _error_ratio(hard)
    assert ratio <= 0.66, details


def test_its_future_value_of_the_judged_customers_beats_the_naive_forecast_clearly(clear, hard):
    # Without the customers with too little data, whose forecast the type caps.
    ratio, details = _error_ratio(clear, judged_only=True)
    assert ratio <= 0.48, details
    ratio, details = _error_ratio(hard, judged_only=True)
    assert ratio <= 0.62, details
