"""customers.analysis on tiny literal histories: types, values, forecasts, output shape."""

import numpy as np
import pandas as pd
import pytest

from customers import analysis
from customers.analysis import Thresholds, analyse, monthly_from_transactions, to_output_frame

AS_OF = pd.Timestamp("2024-12-01")
# A small fixed wiggle so that no series is a perfect line (t statistics stay finite).
WIGGLE = np.array([1.0, 1.03, 0.97, 1.02, 0.98, 1.01])


def months_up_to_as_of(n: int) -> pd.DatetimeIndex:
    return pd.date_range(end=AS_OF, periods=n, freq="MS")


def history(series: dict[str, list[float]], margins: dict[str, list[float]] | None = None):
    """One row per customer and month, the last value in the as-of month; NaN = no row."""
    rows = []
    for customer, values in series.items():
        margin = (margins or {}).get(customer, [np.nan] * len(values))
        for period, revenue, m in zip(months_up_to_as_of(len(values)), values, margin, strict=True):
            if not np.isnan(revenue):
                rows.append((customer, period, float(revenue), float(m)))
    return pd.DataFrame(rows, columns=list(analysis.HISTORY_COLUMNS))


def wiggled(values) -> list[float]:
    values = np.asarray(values, dtype=float)
    return list(values * np.resize(WIGGLE, len(values)))


def december_only(years: int) -> list[float]:
    # Ends in December (AS_OF), so the series starts in a January.
    return [1200.0 if (i % 12) == 11 else np.nan for i in range(12 * years)]


TYPE_EXAMPLES = {
    "growth": wiggled(100 * 1.06 ** np.arange(24)),
    "new": [500.0, 520.0, 480.0, 510.0],
    "december": december_only(3),
    "burr": wiggled([1000.0] * 24),
    "bell": wiggled([100, 400, 800, 1000, 850, 700, 560, 450, 360, 290, 230, 180, 150, 120]),
    "shrinking": wiggled(np.linspace(1000, 150, 24)),
    "steady": wiggled([200, 500, 800] + [1000] * 33),
}
EXPECTED_TYPES = {
    "bell": "bell",
    "burr": "burr",
    "december": "cyclic",
    "growth": "growth",
    "new": "insufficient_data",
    "shrinking": "shrinking",
    "steady": "steady",
}


@pytest.fixture(scope="module")
def typed():
    # Every customer earns a 30 % margin but the loyal burr: 1 % of its revenue, 10 a month,
    # tiny against the typical customer's margin.
    margins = {c: [v * 0.3 for v in values] for c, values in TYPE_EXAMPLES.items()}
    margins["burr"] = [1.0] * 24
    return analyse(history(TYPE_EXAMPLES, margins), as_of=AS_OF)


def test_it_assigns_each_type(typed):
    expected = pd.Series(EXPECTED_TYPES, name="value_type").rename_axis("customer_id")
    pd.testing.assert_series_equal(typed["value_type"], expected, check_dtype=False)


def test_it_flags_burr_customers_for_a_cost_review(typed):
    assert typed["cost_review"].to_dict() == {c: c == "burr" for c in EXPECTED_TYPES}
    assert typed.loc["burr", "margin_ratio"] == pytest.approx(0.001, rel=0.05)


def test_it_finds_the_cycle_of_a_december_customer(typed):
    december = typed.loc["december"]
    assert december["cycle_length"] == 12
    assert december["seasonal_strength"] == pytest.approx(1.0)
    assert december["active_share"] == pytest.approx(3 / 25)  # Dec 2022 .. Dec 2024


def test_it_explains_a_bell_customer_by_its_peak(typed):
    bell = typed.loc["bell"]
    assert 0.1 < bell["peak_position"] < 0.5
    assert bell["decline_from_peak"] > 0.7
    assert bell["rise_to_peak"] > 0.6


def test_forecast_direction_follows_the_type(typed):
    future, current = typed["future_value"], typed["current_value"]
    assert future["growth"] > 1.3 * current["growth"]
    assert future["bell"] < 0.5 * current["bell"]
    assert future["shrinking"] < 0.8 * current["shrinking"]
    assert future["december"] == pytest.approx(current["december"])  # the cycle repeats
    assert future["steady"] == pytest.approx(current["steady"], rel=0.05)
    # insufficient_data: not three times what it brought in its 4 months (its run rate),
    # at most twice (short_history_max_future: its pace for half a year).
    assert future["new"] == pytest.approx(2 * current["new"])
    assert current["new"] == pytest.approx(0.3 * sum(TYPE_EXAMPLES["new"]))
    assert (future >= 0).all()


def test_the_forecast_path_sums_to_the_future_value(typed):
    paths = typed["forecast_path"].map(sum)
    pd.testing.assert_series_equal(
        paths, typed["future_value"], check_names=False, atol=0.1, check_exact=False
    )
    assert typed["forecast_path"].map(len).eq(12).all()


def test_a_steady_customers_level_leaves_out_only_its_start_up_phase():
    # Two years at about the same level: the level is the mean of both, not of the later
    # year alone (1,050); a start-up over six months, then 1,000: the level leaves the
    # start-up months out (with them it would be about 880).
    step = wiggled([950.0] * 12 + [1050.0] * 12)
    ramp = wiggled([100.0, 250.0, 400.0, 550.0, 700.0, 850.0] + [1000.0] * 18)
    result = analyse(history({"step": step, "ramp": ramp}), as_of=AS_OF)
    assert result["value_type"].tolist() == ["steady", "steady"]
    assert result.loc["step", "future_value"] == pytest.approx(12 * np.mean(step))
    assert result.loc["ramp", "future_value"] == pytest.approx(12_000, rel=0.01)


def test_missing_months_count_as_zero():
    # Business in 4 of 6 months: the two months without a row are months without value.
    frame = history({"gappy": [100.0, np.nan, 100.0, np.nan, 100.0, 100.0]})
    row = analyse(frame, as_of=AS_OF).loc["gappy"]
    assert row["periods"] == 6
    assert row["active_share"] == pytest.approx(4 / 6)
    assert row["mean_value"] == pytest.approx(400 / 6)
    assert row["current_value"] == 400


def test_months_before_the_first_business_do_not_count():
    frame = history({"late": [0.0, 0.0, 50.0, 50.0, 50.0, 50.0, 50.0, 50.0]})
    assert analyse(frame, as_of=AS_OF).loc["late", "periods"] == 6


def test_it_values_by_margin_where_the_data_has_margins():
    frame = history(
        {"with_margin": [1000.0] * 12, "revenue_only": [1000.0] * 12},
        margins={"with_margin": [300.0] * 12},
    )
    result = analyse(frame, as_of=AS_OF)
    assert result.loc["with_margin", "current_value"] == pytest.approx(3600)
    assert result.loc["with_margin", "margin_ratio"] == pytest.approx(0.3)
    assert result.loc["revenue_only", "current_value"] == pytest.approx(12000)
    assert np.isnan(result.loc["revenue_only", "margin_ratio"])


def test_a_month_without_margin_gets_the_customers_margin_ratio():
    margins = [250.0] * 11 + [np.nan]
    frame = history({"partly": [1000.0] * 12}, margins={"partly": margins})
    assert analyse(frame, as_of=AS_OF).loc["partly", "current_value"] == pytest.approx(3000)


def test_current_value_is_the_last_twelve_periods():
    frame = history({"c": [float(v) for v in range(1, 19)]})
    assert analyse(frame, as_of=AS_OF).loc["c", "current_value"] == sum(range(7, 19))


def test_rows_after_as_of_are_ignored():
    frame = history({"c": [100.0] * 12})
    later = pd.DataFrame(
        [("c", AS_OF + pd.DateOffset(months=1), 99999.0, np.nan)],
        columns=list(analysis.HISTORY_COLUMNS),
    )
    result = analyse(pd.concat([frame, later]), as_of=AS_OF)
    assert result.loc["c", "current_value"] == 1200


def test_horizon_sets_the_length_of_the_forecast():
    frame = history({"s": wiggled([1000.0] * 36)})
    result = analyse(frame, as_of=AS_OF, horizon=6)
    assert len(result.loc["s", "forecast_path"]) == 6
    assert result.loc["s", "future_value"] == pytest.approx(6000, rel=0.05)


def test_output_frame_columns_come_in_cli_order(typed):
    out = to_output_frame(typed)
    heads = ["customer_id", "value_type", "current_value", "future_value"]
    assert list(out.columns[:4]) == heads
    assert out.columns[4] == "value_basis"
    assert list(out.columns[5:9]) == [
        "hidden_pearl",
        "cost_review",
        "thin_margin",
        "forecast_uncertain",
    ]
    assert list(out.columns[9:]) == list(analysis.FIGURES)
    assert "forecast_path" in to_output_frame(typed, include_path=True).columns


def test_thresholds_can_be_overridden_from_a_mapping():
    thresholds = Thresholds.from_mapping({"min_periods": "3", "pearl_max_value_quantile": 0.9})
    assert thresholds.min_periods == 3
    assert thresholds.pearl_max_value_quantile == 0.9
    frame = history({"new": [500.0, 520.0, 480.0, 510.0]})
    assert analyse(frame, as_of=AS_OF, thresholds=thresholds).loc["new", "value_type"] != (
        "insufficient_data"
    )


def test_thresholds_reject_unknown_names():
    with pytest.raises(ValueError, match="min_period"):
        Thresholds.from_mapping({"min_period": 3})


def test_it_accepts_an_empty_history():
    frame = history({})
    result = analyse(frame, as_of=AS_OF)
    assert result.empty
    assert list(to_output_frame(result).columns[:4]) == [
        "customer_id",
        "value_type",
        "current_value",
        "future_value",
    ]


def test_monthly_from_transactions_sums_per_customer_and_month():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "date": pd.to_datetime(["2024-01-03", "2024-01-28", "2024-03-01", "2024-01-15"]),
            "amount": [10.0, 5.0, 7.0, 3.0],
            "margin": [2.0, np.nan, np.nan, 1.0],
        }
    )
    expected = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "period": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-01"]),
            "revenue": [15.0, 7.0, 3.0],
            "margin": [2.0, np.nan, 1.0],
        }
    )
    result = monthly_from_transactions(tx)
    pd.testing.assert_frame_equal(result, expected, check_dtype=False)


def test_irregular_buyers_get_the_repeat_buying_forecast():
    # 200 customers buying in a few random months of two years: no type rule projects
    # that; the BG/BB x Gamma-Gamma forecast does.
    rng = np.random.default_rng(3)
    series = {}
    for i in range(200):
        bought = rng.uniform(size=24) < rng.uniform(0.05, 0.4)
        bought[0] = True
        series[f"r{i}"] = list(np.where(bought, rng.gamma(2.0, 50.0, 24), np.nan))
    result = analyse(history(series), as_of=AS_OF)
    repeat = result[result["forecast_method"] == "repeat_buying"]
    assert len(repeat) > 150
    assert np.isfinite(repeat["future_value"]).all()
    assert (repeat["future_value"] >= 0).all()
    # More periods with business lately means more expected value.
    busy = repeat["recent_level"] > repeat["recent_level"].median()
    assert repeat.loc[busy, "future_value"].mean() > repeat.loc[~busy, "future_value"].mean()


def irregular_transactions(n: int = 300, seed: int = 5) -> pd.DataFrame:
    """n customers buying on a few random days of the two years up to AS_OF's month."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    rows = []
    for i in range(n):
        count = rng.integers(1, 12)
        when = np.sort(rng.choice(len(days), size=count, replace=False))
        for d in when:
            rows.append((f"t{i:03d}", days[d], float(rng.gamma(2.0, 50.0)), np.nan))
    return pd.DataFrame(rows, columns=list(analysis.TRANSACTION_COLUMNS))


@pytest.fixture(scope="module")
def with_transactions():
    tx = irregular_transactions()
    monthly = monthly_from_transactions(tx)
    return tx, analyse(monthly, as_of=AS_OF, transactions=tx), analyse(monthly, as_of=AS_OF)


def test_with_transactions_irregular_buyers_get_the_forecast_from_purchase_days(
    with_transactions,
):
    tx, result, monthly_only = with_transactions
    repeat = result["forecast_method"] == "repeat_buying"
    assert repeat.sum() > 250
    assert np.isfinite(result["future_value"]).all()
    # (A shrinking customer without business in the last 12 months keeps none: the
    # type's direction wins over the model, and the customer is marked uncertain.)
    confirmed = repeat & ~result["forecast_uncertain"]
    assert (result.loc[confirmed, "future_value"] > 0).all()
    # The purchase days, not the months, drive it: the forecasts differ.
    assert not np.allclose(
        result.loc[repeat, "future_value"], monthly_only.loc[repeat, "future_value"]
    )
    # A customer who bought lately is worth more than one of the same history length
    # whose last purchase lies long back.
    last = tx.groupby("customer_id")["date"].max()
    recent = last.reindex(result.index) >= pd.Timestamp("2024-10-01")
    assert result.loc[repeat & recent, "future_value"].mean() > (
        result.loc[repeat & ~recent, "future_value"].mean()
    )


def test_with_transactions_the_forecast_path_spreads_over_the_calendar_months(with_transactions):
    _, result, _ = with_transactions
    paths = result["forecast_path"]
    assert paths.map(len).eq(12).all()
    pd.testing.assert_series_equal(
        paths.map(sum), result["future_value"], check_names=False, atol=0.1, check_exact=False
    )
    # January (31 days) expects more purchases than February (28 days).
    repeat = result[(result["forecast_method"] == "repeat_buying") & ~result["forecast_uncertain"]]
    assert (repeat["forecast_path"].map(lambda p: p[0] > p[1])).all()


def test_with_transactions_margin_customers_are_valued_by_their_margin_ratio(with_transactions):
    tx, result, _ = with_transactions
    with_margin = tx.assign(margin=0.25 * tx["amount"])
    margined = analyse(
        monthly_from_transactions(with_margin), as_of=AS_OF, transactions=with_margin
    )
    repeat = result["forecast_method"] == "repeat_buying"
    assert (margined["forecast_method"] == result["forecast_method"]).all()
    pd.testing.assert_series_equal(
        margined.loc[repeat, "future_value"], 0.25 * result.loc[repeat, "future_value"], rtol=1e-6
    )


def test_with_transactions_regular_customers_keep_their_type_forecast(with_transactions):
    tx, _, _ = with_transactions
    # One purchase on the 10th of every month for three years: a steady customer.
    months = pd.date_range(end=AS_OF, periods=36, freq="MS") + pd.Timedelta(days=9)
    steady = pd.DataFrame(
        {
            "customer_id": "regular",
            "date": months,
            "amount": 1000.0 * np.resize(WIGGLE, 36),
            "margin": np.nan,
        }
    )
    both = pd.concat([tx, steady], ignore_index=True)
    monthly = monthly_from_transactions(both)
    result = analyse(monthly, as_of=AS_OF, transactions=both).loc["regular"]
    assert result["value_type"] == "steady"
    assert result["forecast_method"] == "type"
    assert result["future_value"] == analyse(monthly, as_of=AS_OF).loc["regular", "future_value"]


def test_with_transactions_purchases_after_the_as_of_month_are_ignored(with_transactions):
    tx, result, _ = with_transactions
    later = pd.DataFrame([("t000", pd.Timestamp("2025-01-15"), 5000.0, np.nan)], columns=tx.columns)
    again = analyse(monthly_from_transactions(tx), as_of=AS_OF, transactions=pd.concat([tx, later]))
    pd.testing.assert_series_equal(again["future_value"], result["future_value"])


# --- the method's meaning (issue 11): burr by money, swings, value basis, pearls, forecasts


def portfolio(extra: dict, extra_margins: dict | None = None, months: int = 36, ratio=0.3):
    """20 ordinary loyal customers (1,000-2,900 a month at a 30 % margin) plus `extra`."""
    series = {f"o{i:02d}": wiggled([1000.0 + 100 * i] * months) for i in range(20)}
    margins = {c: [v * ratio for v in values] for c, values in series.items()}
    series.update(extra)
    margins.update(extra_margins or {})
    return history(series, margins)


def test_a_loyal_key_account_with_a_thin_margin_ratio_is_no_burr():
    # 1 M revenue a month at 4 %: 40,000 of margin a month, many times the typical
    # customer's. The thin ratio is a flag, not the burr type.
    revenue = wiggled([1_000_000.0] * 36)
    result = analyse(portfolio({"key": revenue}, {"key": [r * 0.04 for r in revenue]}), as_of=AS_OF)
    key = result.loc["key"]
    assert key["value_type"] == "steady"
    assert not key["cost_review"]
    assert key["thin_margin"]
    assert key["margin_ratio"] == pytest.approx(0.04)
    assert key["relative_value"] > 10
    assert not result.drop(index="key")["thin_margin"].any()


def test_a_loyal_customer_earning_a_tiny_margin_in_money_is_a_burr():
    # 40 revenue a month at a 30 % margin ratio: 12 a month, tiny against the typical
    # customer's 300 to 870.
    revenue = wiggled([40.0] * 36)
    result = analyse(
        portfolio({"tiny": revenue}, {"tiny": [r * 0.3 for r in revenue]}), as_of=AS_OF
    )
    tiny = result.loc["tiny"]
    assert tiny["value_type"] == "burr"
    assert tiny["cost_review"]
    assert not tiny["thin_margin"]
    assert tiny["value_basis"] == "margin"
    assert tiny["relative_value"] < 0.05
    assert (result.drop(index="tiny")["value_type"] == "steady").all()


def test_a_loyal_customer_losing_money_is_a_burr_whatever_its_size():
    revenue = wiggled([5000.0] * 24)
    result = analyse(
        portfolio({"loss": revenue}, {"loss": [-0.02 * r for r in revenue]}), as_of=AS_OF
    )
    assert result.loc["loss", "value_type"] == "burr"
    assert result.loc["loss", "current_value"] < 0


def test_without_margins_the_burr_is_judged_on_revenue():
    series = {f"r{i:02d}": wiggled([1000.0 + 100 * i] * 36) for i in range(20)}
    series["tiny"] = wiggled([20.0] * 36)
    result = analyse(history(series), as_of=AS_OF)
    assert result.loc["tiny", "value_type"] == "burr"
    assert (result["value_basis"] == "revenue").all()
    assert not result["thin_margin"].any()  # no margins, no margin flag


def test_a_mixed_portfolio_names_each_customers_basis():
    revenue_only = wiggled([900.0] * 36)
    frame = pd.concat([portfolio({}), history({"plain": revenue_only})], ignore_index=True)
    result = analyse(frame, as_of=AS_OF)
    assert result.loc["plain", "value_basis"] == "revenue"
    assert (result.drop(index="plain")["value_basis"] == "margin").all()
    # A revenue customer is compared with the typical revenue, not with margins: 900 a
    # month is about half the typical customer's revenue, no burr.
    assert result.loc["plain", "value_type"] == "steady"
    assert result.loc["plain", "relative_value"] == pytest.approx(900 / 1950, rel=0.05)
    out = to_output_frame(result)
    assert list(out.columns[:5]) == [
        "customer_id",
        "value_type",
        "current_value",
        "future_value",
        "value_basis",
    ]


def project_customers(n: int = 60, seed: int = 11) -> dict[str, list[float]]:
    """Business in 20-40 % of 36 months, big orders, nothing in between, no trend."""
    rng = np.random.default_rng(seed)
    series = {}
    for i in range(n):
        share = rng.uniform(0.2, 0.4)
        bought = rng.uniform(size=36) < share
        bought[0] = True
        orders = rng.lognormal(np.log(5000.0), 0.3, 36)
        series[f"p{i:02d}"] = list(np.where(bought, orders, np.nan))
    return series


def test_project_customers_with_strong_swings_and_no_trend_are_cyclic():
    result = analyse(history(project_customers()), as_of=AS_OF)
    cyclic = result["value_type"] == "cyclic"
    assert cyclic.sum() >= 57, result["value_type"].value_counts()
    # No regular period: the explaining figure is the swing, not a cycle length.
    assert (result.loc[cyclic, "zero_share"] >= 0.35).all()


def test_steady_means_small_fluctuations_only():
    rng = np.random.default_rng(4)
    series = {f"s{i}": list(1000 * rng.lognormal(0, 0.15, 36)) for i in range(30)}
    result = analyse(history(series), as_of=AS_OF)
    assert (result["value_type"] == "steady").all()
    # The same customers with strong swings (half the months 5 % of the others) are cyclic.
    swings = {
        c: [v * (1.0 if rng.uniform() < 0.5 else 0.05) for v in values]
        for c, values in series.items()
    }
    swung = analyse(history(swings), as_of=AS_OF)
    assert (swung["value_type"] == "cyclic").mean() >= 0.9


def test_a_december_customer_keeps_its_cycle_as_the_explaining_figure(typed):
    assert typed.loc["december", "value_type"] == "cyclic"
    assert typed.loc["december", "cycle_length"] == 12


def pearl_portfolio(margined: bool = True) -> pd.DataFrame:
    """Steady customers at a 20 % margin ratio, the biggest ones too, and two pearls."""
    series = {f"s{i:02d}": wiggled([500.0 + 100 * i] * 36) for i in range(20)}
    series["big"] = wiggled([50_000.0] * 36)
    series["rich"] = wiggled([700.0] * 36)  # modest size, 45 % margin ratio
    # The margin ratio rises from 20 % to 24 % on a falling revenue: the same margin.
    series["rising"] = wiggled([1000.0] * 24 + [1000.0 / 1.2] * 12)
    margins = {c: [v * 0.2 for v in values] for c, values in series.items()}
    margins["rich"] = [v * 0.45 for v in series["rich"]]
    margins["rising"] = [v * (0.2 if i < 24 else 0.24) for i, v in enumerate(series["rising"])]
    return history(series, margins if margined else None)


def test_hidden_pearls_are_steady_customers_better_than_they_look():
    result = analyse(pearl_portfolio(), as_of=AS_OF)
    assert (result["value_type"] == "steady").all()
    assert sorted(result.index[result["hidden_pearl"]]) == ["rich", "rising"]
    # The biggest steady account is known to everybody: no hidden pearl.
    assert not result.loc["big", "hidden_pearl"]
    assert result.loc["rich", "margin_ratio_rank"] >= 0.75
    assert result.loc["rising", "margin_ratio_change"] == pytest.approx(0.04, abs=0.005)


def test_no_pearls_without_margins():
    result = analyse(pearl_portfolio(margined=False), as_of=AS_OF)
    assert not result["hidden_pearl"].any()
    assert result["margin_ratio_rank"].isna().all()


def test_forecasts_follow_the_types_direction_on_a_mixed_portfolio():
    from customers import synthetic

    frame, _, _ = synthetic.generate(1500, seed=5, as_of=AS_OF, months=36, hard=True)
    result = analyse(frame, as_of=AS_OF)
    rate = result["current_value"] / result["periods"].clip(upper=12)
    future = result["future_value"] / 12
    kind = result["value_type"]
    assert (future[kind == "growth"] > rate[kind == "growth"]).all()
    falling = kind.isin(["bell", "shrinking"])
    assert (future[falling] <= rate[falling] + 1e-6).all()
    new = kind == "insufficient_data"
    assert (result.loc[new, "future_value"] <= 12 * result.loc[new, "mean_value"] + 1e-6).all()
    # Not three times what it brought so far (a 4-month customer's run rate): at most twice.
    so_far = result.loc[new, "current_value"]
    assert (result.loc[new, "future_value"] <= 2 * so_far + 1e-6).all()
    assert (result.loc[new, "future_value"] < 3 * so_far).all()
    assert result.loc[new, "forecast_uncertain"].all()
    assert (result.loc[new, "forecast_uncertain_reason"] == "short_history").all()


def test_where_the_model_disagrees_with_the_type_the_type_wins_and_says_so():
    # 150 irregular buyers give the repeat-buying model its population; one of them
    # shrinks clearly and has bought once lately, more than the model would guess.
    rng = np.random.default_rng(3)
    series = {}
    for i in range(150):
        bought = rng.uniform(size=24) < rng.uniform(0.05, 0.4)
        bought[0] = True
        series[f"r{i}"] = list(np.where(bought, rng.gamma(2.0, 50.0, 24), np.nan))
    fading = [800, 760, 720, 690, 650, 620, 600, None, 510, 480, 420, 400]
    fading += [380, 330, 310, 280, 240, 220, 200, 150, 120, 90, 60, 40]
    series["fading"] = [np.nan if v is None else v for v in fading]
    result = analyse(history(series), as_of=AS_OF)
    fading = result.loc["fading"]
    assert fading["value_type"] in ("shrinking", "bell")
    assert fading["future_value"] <= fading["current_value"]
    if fading["forecast_method"] == "repeat_buying" and fading["forecast_uncertain"]:
        assert fading["forecast_uncertain_reason"] == "model_above_fall"
        assert fading["model_future_value"] > fading["future_value"]
    assert np.isnan(result.loc[~result["forecast_uncertain"], "model_future_value"]).all()
