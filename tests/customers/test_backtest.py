"""The backtest (customers/backtest.py): on portfolios whose answer is known, stored
with the run, shown on the portfolio page."""

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from customers import bgnbd
from customers.analysis import Thresholds, analyse
from customers.backtest import backtest, bgbb_probability_buying
from customers.models import AnalysisRun
from customers.services import analysis_run_backtest, analysis_run_create, value_records_load

AS_OF = pd.Timestamp("2026-06-01")
CUT = pd.Timestamp("2025-06-01")
MONTHS = pd.date_range("2023-07-01", AS_OF, freq="MS")  # 36 months, the last 12 held out


def _rows(customer: str, values, months=MONTHS) -> list[dict]:
    return [
        {"customer_id": customer, "period": p, "revenue": float(v), "margin": np.nan}
        for p, v in zip(months, values, strict=True)
    ]


def _portfolio() -> pd.DataFrame:
    """Two steady customers, one who stops buying at the cut, a linear grower, one with
    too little history before the cut and one who starts in the held-out year."""
    rows = (
        _rows("STEADY-1", [1000] * 36)
        + _rows("STEADY-2", [2000] * 36)
        + _rows("STOPS", [500] * 24, MONTHS[:24])
        + _rows("GROWS", [100 + 10 * t for t in range(36)])
        + _rows("SHORT", [800] * 18, MONTHS[18:])
        + _rows("NEW", [700] * 6, MONTHS[30:])
    )
    return pd.DataFrame(rows)


def _grower_forecast() -> float:
    """The grower's forecast as the analysis at the cut makes it."""
    history = _portfolio()
    at_cut = analyse(history[history["period"] <= CUT], as_of=CUT, horizon=12)
    assert at_cut.loc["GROWS", "value_type"] == "growth"
    return float(at_cut.loc["GROWS", "future_value"])


# The grower's value in the held-out year (t = 24..35) and in the year before (12..23).
GROWER_ACTUAL = sum(100 + 10 * t for t in range(24, 36))
GROWER_NAIVE = sum(100 + 10 * t for t in range(12, 24))


def test_backtest_on_a_portfolio_with_a_known_answer():
    figures = backtest(_portfolio(), as_of=AS_OF, horizon=12, thresholds=Thresholds())
    assert GROWER_ACTUAL - GROWER_NAIVE == 1440  # 12 months x 12 months x 10 a month
    grower_error = abs(_grower_forecast() - GROWER_ACTUAL)
    assert figures["cut"] == "2025-06-01"
    assert (figures["holdout_from"], figures["holdout_to"]) == ("2025-07-01", "2026-06-01")
    assert figures["judged"] == 4
    assert figures["left_out_short"] == 1  # SHORT: 6 months before the cut
    assert figures["left_out_new"] == 1  # NEW
    overall = figures["overall"]
    # Steady: 0 and 0; the customer who stopped: forecast and naive both 12 x 500 = 6000
    # against nothing; the grower: naive misses by 1440.
    assert overall["mae_naive"] == pytest.approx((0 + 0 + 6000 + 1440) / 4)
    assert overall["mae"] == pytest.approx((0 + 0 + 6000 + grower_error) / 4)
    assert overall["ratio"] == pytest.approx(overall["mae"] / overall["mae_naive"])
    assert overall["actual_mean"] == pytest.approx((12000 + 24000 + 0 + GROWER_ACTUAL) / 4)
    by_type = {row["value_type"]: row for row in figures["types"]}
    assert set(by_type) == {"steady", "growth"}
    steady = by_type["steady"]
    assert (steady["n"], steady["mae"], steady["mae_naive"]) == (3, pytest.approx(2000), 2000)
    assert steady["ratio"] == pytest.approx(1.0)
    growth = by_type["growth"]
    assert growth["n"] == 1
    assert growth["mae_naive"] == pytest.approx(1440)
    assert growth["mae"] == pytest.approx(grower_error)
    # The grower's forecast beats repeating the year before.
    assert growth["ratio"] < 1
    # Fewer than ten judged: one group each, ordered by forecast.
    calibration = figures["calibration"]
    assert [g["n"] for g in calibration] == [1, 1, 1, 1]
    forecasts = [g["forecast_mean"] for g in calibration]
    assert forecasts == sorted(forecasts)
    assert calibration[0]["forecast_mean"] == pytest.approx(_grower_forecast())
    assert calibration[0]["actual_mean"] == pytest.approx(GROWER_ACTUAL)
    assert calibration[1]["forecast_mean"] == pytest.approx(6000)  # the one who stopped
    assert calibration[1]["actual_mean"] == 0
    assert calibration[-1]["actual_mean"] == pytest.approx(24000)  # STEADY-2


def test_steady_customers_alone_are_exact_and_have_no_ratio():
    history = pd.DataFrame(_rows("A", [1000] * 36) + _rows("B", [300] * 36))
    overall = backtest(history, as_of=AS_OF, horizon=12, thresholds=Thresholds())["overall"]
    assert (overall["mae"], overall["mae_naive"], overall["ratio"]) == (0.0, 0.0, None)


def test_margins_value_the_held_out_months_like_the_analysis():
    """Valued by margin: a held-out month without a margin counts revenue x the margin
    ratio the customer had at the cut."""
    rows = _rows("M", [1000] * 36)
    for i, row in enumerate(rows):
        if i < 30:
            row["margin"] = 250.0  # a ratio of 0.25; the last 6 months have no margin
    figures = backtest(pd.DataFrame(rows), as_of=AS_OF, horizon=12, thresholds=Thresholds())
    assert figures["overall"]["actual_mean"] == pytest.approx(12 * 250)
    assert figures["overall"]["mae"] == pytest.approx(0)


def test_too_little_history_judges_nobody():
    history = pd.DataFrame(_rows("A", [1000] * 20, MONTHS[16:]))
    figures = backtest(history, as_of=AS_OF, horizon=12, thresholds=Thresholds())
    assert figures["judged"] == 0
    assert figures["left_out_short"] == 1
    assert figures["overall"] is None


def test_probability_of_buying_in_one_period_is_the_expected_purchases_then():
    """For one period ahead, P(at least one purchase) = E[purchases] (BG/BB buys at
    most once a period), and more periods ahead can only raise it."""
    params = bgnbd.BGBB(1.204, 0.750, 0.657, 2.783)
    x, t_x, n = np.array([0.0, 2, 5, 5]), np.array([0.0, 3, 6, 9]), np.array([6.0, 6, 9, 9])
    one = bgbb_probability_buying(params, 1, x, t_x, n)
    assert one == pytest.approx(bgnbd.bgbb_expected_purchases(params, 1.0, x, t_x, n), rel=1e-9)
    twelve = bgbb_probability_buying(params, 12, x, t_x, n)
    assert np.all(twelve > one)
    assert np.all(twelve < 1)
    assert twelve[3] > twelve[2]  # a recent purchase: more likely alive


def test_activity_of_irregular_customers():
    """Irregular buyers (repeat-buying forecast): the share that bought in the held-out
    year is counted from the data; the predicted probabilities lie in [0, 1]."""
    rng = np.random.default_rng(3)
    rows = []
    bought = {}
    for i in range(150):
        months = MONTHS[rng.random(36) < 0.25]
        months = months.union(pd.DatetimeIndex([MONTHS[0]]))  # history from the start
        rows += _rows(f"I{i:03}", [400] * len(months), months)
        bought[f"I{i:03}"] = bool((months > CUT).any())
    history = pd.DataFrame(rows)
    figures = backtest(history, as_of=AS_OF, horizon=12, thresholds=Thresholds())
    at_cut = analyse(history[history["period"] <= CUT], as_of=CUT, horizon=12)
    irregular = at_cut.index[at_cut["forecast_method"] == "repeat_buying"]
    assert len(irregular) >= 100
    activity = figures["activity"]
    assert activity["n"] == len(irregular)
    assert activity["share_buying"] == pytest.approx(np.mean([bought[c] for c in irregular]))
    assert sum(b["n"] for b in activity["bands"]) == activity["n"]
    assert 0 < activity["predicted"] < 1
    for band in activity["bands"]:
        assert band["low"] <= band["predicted"] <= band["high"]


@pytest.fixture
def portfolio_run(db):
    value_records_load(history=_portfolio())
    return analysis_run_create()


def test_the_figures_are_stored_with_the_run(portfolio_run):
    run = AnalysisRun.objects.get(pk=portfolio_run.pk)
    assert run.backtest["status"] == "done"
    assert run.backtest["judged"] == 4
    assert run.backtest["overall"]["mae_naive"] == pytest.approx(1860)
    assert {t["value_type"] for t in run.backtest["types"]} == {"steady", "growth"}


def test_the_portfolio_page_shows_the_backtest(portfolio_run, client_manager):
    ratio = portfolio_run.backtest["overall"]["ratio"]
    body = client_manager.get("/customers/portfolio/").content.decode()
    assert "How good was the forecast?" in body
    less = round((1 - ratio) * 100)
    assert (
        f"the forecast for the last 12 months missed by {less}% less than assuming each "
        "customer repeats its previous 12 months" in body
    )
    assert 'id="backtest-chart-data"' in body
    assert 'data-type="growth"' in body and 'data-type="steady"' in body
    assert "1 customer left out" not in body and "2 customers left out" in body
    with translation.override("de"):
        body = client_manager.get("/customers/portfolio/", HTTP_ACCEPT_LANGUAGE="de").content
    assert "Wie gut war die Prognose?" in body.decode()


def test_the_page_says_when_there_is_too_little_history(db, client_manager):
    value_records_load(history=pd.DataFrame(_rows("A", [1000] * 20, MONTHS[16:])))
    analysis_run_create()
    body = client_manager.get("/customers/portfolio/").content.decode()
    assert 'id="backtest-empty"' in body
    assert "Not enough history for a backtest" in body
    assert "missed by" not in body


def test_a_large_portfolio_runs_it_on_request(db, settings, client_manager, manager):
    settings.CUSTOMER_ANALYSIS = {**settings.CUSTOMER_ANALYSIS, "backtest_max_customers": 3}
    value_records_load(history=_portfolio())
    run = analysis_run_create()
    assert run.backtest == {"status": "on_request"}
    if not manager.has_perm("customers.import_values"):
        manager.user_permissions.add(Permission.objects.get(codename="import_values"))
    body = client_manager.get("/customers/portfolio/").content.decode()
    assert "Run the backtest" in body
    response = client_manager.post("/customers/backtest/")
    assert response.status_code == 302
    # The tests run background tasks at once (analysis_run_backtest).
    run.refresh_from_db()
    assert run.backtest["status"] == "done"
    assert run.backtest["overall"]["mae_naive"] == pytest.approx(1860)
    body = client_manager.get("/customers/portfolio/").content.decode()
    assert "Run the backtest" not in body and "missed by" in body
    # Asked again, it is not queued again.
    from customers.services import analysis_run_backtest_request

    assert not analysis_run_backtest_request(run)


def test_a_queued_backtest_computes_the_same_figures(portfolio_run):
    figures = portfolio_run.backtest
    portfolio_run.backtest = {"status": "queued"}
    portfolio_run.save()
    analysis_run_backtest(portfolio_run)
    portfolio_run.refresh_from_db()
    assert portfolio_run.backtest == figures
