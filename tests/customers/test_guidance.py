"""The one-sentence explanations of types and flags: they name the value basis and never
show an empty figure (customers.guidance on analysis results)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from django.utils import translation

from customers import analysis, guidance
from customers.models import AnalysisRun, Assessment
from customers.templatetags.money import MISSING
from tests.customers.test_analysis import AS_OF, history, pearl_portfolio, portfolio, wiggled


def assessments(frame: pd.DataFrame) -> dict[str, Assessment]:
    """Unsaved assessments as the analysis service stores them: the figures are every
    output column after the head, NaN left out as None."""
    output = analysis.to_output_frame(analysis.analyse(frame, as_of=AS_OF))
    run = AnalysisRun(as_of=AS_OF.date(), thresholds=dataclasses.asdict(analysis.Thresholds()))
    out = {}
    for row in output.to_dict("records"):
        figures = {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in row.items()
            if k not in analysis.OUTPUT_HEAD
        }
        out[row["customer_id"]] = Assessment(
            run=run,
            value_type=row["value_type"],
            current_value=row["current_value"],
            future_value=row["future_value"],
            hidden_pearl=bool(row["hidden_pearl"]),
            cost_review=bool(row["cost_review"]),
            figures=figures,
        )
    return out


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_a_burr_by_money_says_how_small_its_margin_is():
    revenue = wiggled([40.0] * 36)
    a = assessments(portfolio({"tiny": revenue}, {"tiny": [r * 0.3 for r in revenue]}))["tiny"]
    sentence = guidance.reason(a)
    assert "contribution margin in money" in sentence
    assert "typical customer" in sentence
    assert MISSING not in sentence


def test_a_burr_losing_money_says_so():
    revenue = wiggled([5000.0] * 24)
    a = assessments(portfolio({"loss": revenue}, {"loss": [-0.02 * r for r in revenue]}))["loss"]
    assert "costs more than it brings" in guidance.reason(a)


def test_a_burr_without_margins_is_judged_by_revenue_and_says_so():
    series = {f"r{i:02d}": wiggled([1000.0 + 100 * i] * 36) for i in range(20)}
    series["tiny"] = wiggled([20.0] * 36)
    a = assessments(history(series))["tiny"]
    sentence = guidance.reason(a)
    assert a.value_type == "burr"
    assert "Judged by revenue" in sentence
    assert "Deckungsbeitrag" not in sentence and MISSING not in sentence
    assert dict(guidance.explain(a))["value basis"] == "revenue"


def test_no_explanation_shows_an_empty_figure():
    frame = pd.concat(
        [pearl_portfolio(), history({"plain": wiggled([900.0] * 36), "new": [5.0, 6.0, 7.0]})],
        ignore_index=True,
    )
    for a in assessments(frame).values():
        texts = [guidance.reason(a), guidance.pearl_reason(a), guidance.forecast_note(a)]
        texts += [shown for _, shown in guidance.explain(a)]
        assert not any(MISSING in text for text in texts), (a.value_type, texts)


def test_each_pearl_is_explained_in_one_sentence():
    found = assessments(pearl_portfolio())
    assert "higher than" in guidance.pearl_reason(found["rich"])
    assert "rose by 4.0 percentage points" in guidance.pearl_reason(found["rising"])
    assert guidance.pearl_reason(found["big"]) == ""


def test_a_thin_margin_key_account_is_explained_as_no_burr():
    revenue = wiggled([1_000_000.0] * 36)
    a = assessments(portfolio({"key": revenue}, {"key": [r * 0.04 for r in revenue]}))["key"]
    assert "no burr" in guidance.thin_margin_reason(a)
    assert "4.0" in guidance.thin_margin_reason(a)


def test_a_project_customer_is_explained_by_its_swings():
    from tests.customers.test_analysis import project_customers

    found = assessments(history(project_customers(5)))
    cyclic = [a for a in found.values() if a.value_type == "cyclic"]
    assert cyclic
    assert all("without a regular period" in guidance.reason(a) for a in cyclic)


def test_a_short_history_says_its_forecast_is_uncertain():
    a = assessments(history({"new": [500.0, 520.0, 480.0, 510.0]}))["new"]
    assert a.value_type == "insufficient_data"
    # At most twice its value so far (short_history_max_future), never three times.
    assert "at most 2 times what the customer brought so far" in guidance.forecast_note(a)
    # A run made with a cap of 1 says so as before.
    a.run.thresholds["short_history_max_future"] = 1.0
    assert "at most what the customer brought so far" in guidance.forecast_note(a)


def test_the_sentences_are_german_for_german_users():
    series = {f"r{i:02d}": wiggled([1000.0 + 100 * i] * 36) for i in range(20)}
    series["tiny"] = wiggled([20.0] * 36)
    a = assessments(history(series))["tiny"]
    with translation.override("de"):
        assert "Nach Umsatz beurteilt" in guidance.reason(a)


def test_an_overruled_forecast_names_what_made_it():
    """The type overrules the statistical forecast: the note says which forecast that was,
    the repeat-buying model only where it made it."""
    figures = {
        "forecast_uncertain": True,
        "forecast_uncertain_reason": "model_above_fall",
        "model_future_value": 1200.0,
    }
    by_trend = Assessment(value_type="bell", figures={**figures, "forecast_method": "type"})
    by_model = Assessment(
        value_type="bell", figures={**figures, "forecast_method": "repeat_buying"}
    )
    assert "the trend of its history expected" in guidance.forecast_note(by_trend)
    assert "repeat-buying" not in guidance.forecast_note(by_trend)
    assert "the repeat-buying model expected" in guidance.forecast_note(by_model)
    with translation.override("de"):
        assert "der Trend seiner bisherigen Werte erwartete" in guidance.forecast_note(by_trend)
