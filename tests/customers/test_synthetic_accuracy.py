"""The analysis against labelled synthetic histories (customers.synthetic)."""

import pandas as pd
import pytest

from customers import analysis, synthetic

AS_OF = pd.Timestamp("2024-12-01")


@pytest.fixture(scope="module")
def labelled():
    history, true_type, true_future = synthetic.generate(3_000, seed=20240, as_of=AS_OF)
    result = analysis.analyse(history, as_of=AS_OF, horizon=synthetic.FUTURE_MONTHS)
    return result.reindex(true_type.index), true_type, true_future


def _per_type(right: pd.Series, true_type: pd.Series) -> str:
    shares = right.groupby(true_type).mean().reindex(analysis.VALUE_TYPES)
    return ", ".join(f"{code} {share:.1%}" for code, share in shares.items())


def test_it_generates_every_type_with_its_history():
    history, true_type, true_future = synthetic.generate(700, seed=1, as_of=AS_OF)
    assert set(true_type) == set(analysis.VALUE_TYPES)
    assert history["period"].max() == AS_OF
    assert history["period"].min() == AS_OF - pd.DateOffset(months=59)
    assert history["margin"].isna().any() and history["margin"].notna().any()
    assert (history["margin"] < 0).any()  # loss-making burr customers
    assert true_future.index.equals(true_type.index)


def test_it_is_reproducible_from_the_seed():
    first = synthetic.generate(50, seed=9, as_of=AS_OF)
    second = synthetic.generate(50, seed=9, as_of=AS_OF)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_series_equal(first[2], second[2])


def test_it_assigns_at_least_95_percent_of_the_types_right(labelled):
    result, true_type, _ = labelled
    right = result["value_type"] == true_type
    confusion = pd.crosstab(true_type, result["value_type"])
    assert right.mean() >= 0.95, (
        f"accuracy {right.mean():.1%}; per type: {_per_type(right, true_type)}\n{confusion}"
    )


def test_its_future_value_beats_the_naive_forecast(labelled):
    result, true_type, true_future = labelled
    ours = (result["future_value"] - true_future).abs()
    naive = (result["current_value"] - true_future).abs()
    by_type = pd.DataFrame({"ours": ours, "naive": naive}).groupby(true_type).mean()
    assert ours.mean() <= 0.8 * naive.mean(), (
        f"MAE ours {ours.mean():.1f}, naive {naive.mean():.1f}\n{by_type}"
    )
