"""What the analysis means for a sales team: descriptions, advice, reasons, focus lists.

Turns stored assessments into ready-made text and numbers for the templates.
"""

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import charts
from .models import Assessment, Customer, ValueType
from .templatetags.money import (
    MISSING,
    currency_affixes,
    money,
    number,
    percent,
    plotly_separators,
)

DESCRIPTIONS = {
    ValueType.STEADY: gettext_lazy(
        "Value built up in a start-up phase, then stays about constant with small swings."
    ),
    ValueType.CYCLIC: gettext_lazy(
        "Value swings strongly: periods of high value alternate with little or none "
        "(seasons, budgets, projects), with or without a regular period."
    ),
    ValueType.BELL: gettext_lazy(
        "Value rose fast after entry, peaked, and falls continuously since: the customer is "
        "being lost."
    ),
    ValueType.GROWTH: gettext_lazy("Value rises continuously."),
    ValueType.SHRINKING: gettext_lazy(
        "Value falls continuously towards a minimum, until the relationship ends."
    ),
    ValueType.BURR: gettext_lazy(
        "Loyal for a long time, but brings very little: its contribution margin in money is "
        "minimal against the typical customer's, or negative."
    ),
    ValueType.INSUFFICIENT_DATA: gettext_lazy("Too short a history to judge."),
}

ADVICE = {
    ValueType.STEADY: gettext_lazy(
        "Keep the relationship healthy and look closer: pearls hide among steady customers, "
        "for example a high or rising margin ratio at a modest size."
    ),
    ValueType.CYCLIC: gettext_lazy(
        "Plan visits and offers before the high season or the budget month; stay in touch "
        "in the quiet periods."
    ),
    ValueType.BELL: gettext_lazy(
        "Find out why the value falls (a competitor, a changed need, a problem with us) "
        "before the customer is gone."
    ),
    ValueType.GROWTH: gettext_lazy(
        "Invest: coach this customer, know the people along its chain, grow with it."
    ),
    ValueType.SHRINKING: gettext_lazy(
        "Decide consciously: win back with a clear offer, or reduce the effort."
    ),
    ValueType.BURR: gettext_lazy(
        "Review the cost to serve: minimum order sizes, prices, a cheaper service channel."
    ),
    ValueType.INSUFFICIENT_DATA: gettext_lazy("Look again once six periods of business exist."),
}

# Explaining figures as the analysis names them: label and how to show the number.
FIGURES = {
    "periods": (gettext_lazy("periods since first business"), "int"),
    "active_share": (gettext_lazy("share of periods with business"), "percent"),
    "trend_slope": (gettext_lazy("trend per period (relative to the mean)"), "percent"),
    "trend_r2": (gettext_lazy("how well a straight trend fits (R²)"), "ratio"),
    "peak_position": (gettext_lazy("where the peak lies in the history (0 start, 1 now)"), "ratio"),
    "decline_from_peak": (gettext_lazy("fall since the peak"), "percent"),
    "seasonal_strength": (gettext_lazy("strength of the seasonal swing"), "ratio"),
    "margin_ratio": (gettext_lazy("contribution margin per revenue"), "percent"),
    "mean_value": (gettext_lazy("mean value per period"), "money"),
    "recent_level": (gettext_lazy("recent value per period"), "money"),
    "relative_value": (
        gettext_lazy("current value relative to the typical customer's (same basis)"),
        "ratio",
    ),
    "value_basis": (gettext_lazy("value basis"), "basis"),
    "thin_margin": (gettext_lazy("large account with a thin margin ratio"), "bool"),
    "forecast_uncertain": (gettext_lazy("forecast uncertain"), "bool"),
    "forecast_uncertain_reason": (gettext_lazy("why the forecast is uncertain"), "reason"),
    "model_future_value": (gettext_lazy("future value the model expected"), "money"),
    "margin_ratio_rank": (
        gettext_lazy("share of the customers with margins that have a lower margin ratio"),
        "percent",
    ),
    "margin_ratio_change": (
        gettext_lazy("change of the margin ratio in the last 12 periods (percentage points)"),
        "points",
    ),
    "zero_share": (
        gettext_lazy("share of periods without business between the first and the last"),
        "percent",
    ),
    "recent_slope": (gettext_lazy("recent trend per period"), "percent"),
    "rise_to_peak": (gettext_lazy("rise from the start to the peak"), "percent"),
    "cycle_length": (gettext_lazy("length of the cycle (periods)"), "int"),
    "cv": (gettext_lazy("variation (coefficient of variation)"), "ratio"),
    "forecast_method": (gettext_lazy("how the forecast was made"), "text"),
    "trend_t": (gettext_lazy("how certain the trend is (t value; beyond ±2 it is clear)"), "ratio"),
    "end_slope": (gettext_lazy("trend at the end, per period (relative to the mean)"), "percent"),
    "curvature_t": (
        gettext_lazy(
            "bend of the trend (t value; below −2 flattening or turning down, above +2 speeding up)"
        ),
        "ratio",
    ),
    "fall_slope": (
        gettext_lazy("trend since the peak, per period (relative to the mean since then)"),
        "percent",
    ),
    "fall_t": (gettext_lazy("how certain the fall since the peak is (t value)"), "ratio"),
    "roughness": (
        gettext_lazy("typical jump from one period to the next (relative to the mean)"),
        "percent",
    ),
}


BASIS_LABELS = {
    "margin": gettext_lazy("contribution margin"),
    "revenue": gettext_lazy("revenue"),
}

UNCERTAIN_REASONS = {
    "short_history": gettext_lazy("too short a history: capped by what it brought so far"),
    "model_below_growth": gettext_lazy(
        "the statistical forecast expected less than a growth customer brings now"
    ),
    "model_above_fall": gettext_lazy(
        "the statistical forecast expected more than a falling customer brings now"
    ),
}
# What made the forecast that the type overruled (figures["forecast_method"]).
FORECAST_SOURCES = {
    "repeat_buying": gettext_lazy("the repeat-buying model"),
    "type": gettext_lazy("the trend of its history"),
}


def _fmt(value: object, kind: str) -> str:
    """A figure in the active language: grouped, with its unit ("12,5 %", "1.234 €")."""
    if value is None:
        return MISSING
    if kind == "basis":
        return str(BASIS_LABELS.get(str(value), value))
    if kind == "reason":
        return str(UNCERTAIN_REASONS.get(str(value), value)) if value else _("no")
    if kind == "text":
        return str(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if not isinstance(value, int | float):
        return str(value)
    if kind == "int":
        return number(value, 0)
    if kind == "percent":
        return percent(100 * value, 1)
    if kind == "points":
        return number(100 * value, 1)
    if kind == "money":
        return money(value, 0)
    return number(value, 2)


def explain(assessment: Assessment) -> list[tuple[str, str]]:
    """The figures the type rests on, labelled, in the user's language."""
    rows = []
    for key, value in assessment.figures.items():
        if key in ("hidden_pearl", "cost_review", "forecast_path") or value is None:
            continue
        label, kind = FIGURES.get(key, (key.replace("_", " "), "number"))
        rows.append((str(label), _fmt(value, kind)))
    return rows


def reason(assessment: Assessment) -> str:
    """One sentence: the figures that decided the type, against their thresholds."""
    f, t = assessment.figures, assessment.run.thresholds

    def pct(key: str, source: dict | None = None) -> str:
        return _fmt((source if source is not None else f).get(key), "percent")

    def num(key: str, source: dict | None = None) -> str:
        return _fmt((source if source is not None else f).get(key), "ratio")

    value_type = assessment.value_type
    if value_type == ValueType.INSUFFICIENT_DATA:
        return _("Only %(n)s periods since the first business; the analysis needs %(min)s.") % {
            "n": _fmt(f.get("periods"), "int"),
            "min": _fmt(t.get("min_periods"), "int"),
        }
    if value_type == ValueType.BURR:
        return _burr_reason(f, t, assessment.current_value)
    if value_type == ValueType.CYCLIC:
        if (f.get("cycle_length") or 0) > 0 and f.get("seasonal_strength") is not None:
            return _(
                "The value repeats every %(length)s periods: seasonal strength %(strength)s "
                "(cyclic from %(min)s) and variation %(cv)s (from %(min_cv)s)."
            ) % {
                "length": _fmt(f.get("cycle_length"), "int"),
                "strength": num("seasonal_strength"),
                "min": num("cyclic_min_strength", t),
                "cv": num("cv"),
                "min_cv": num("cyclic_min_cv", t),
            }
        if f.get("zero_share") is not None and f.get("cv") is not None:
            return _(
                "The value swings strongly without a clear trend and without a regular "
                "period: no business in %(zero)s of the periods between the first and the "
                "last business, variation %(cv)s (cyclic from %(min_zero)s without business "
                "or a variation of %(min_cv)s)."
            ) % {
                "zero": pct("zero_share"),
                "cv": num("cv"),
                "min_zero": pct("cyclic_min_zero_share", t),
                "min_cv": num("cyclic_swing_min_cv", t),
            }
        return _("The value swings strongly: periods of high value alternate with little or none.")
    if value_type == ValueType.BELL:
        return _(
            "Rose by %(rise)s to a peak at %(position)s of the history, and has fallen by "
            "%(fall)s since (a bell customer has fallen by at least %(min)s)."
        ) % {
            "rise": pct("rise_to_peak"),
            "position": pct("peak_position"),
            "fall": pct("decline_from_peak"),
            "min": pct("bell_min_decline", t),
        }
    if value_type == ValueType.SHRINKING:
        return _(
            "Has fallen by %(fall)s since the peak (shrinking from %(min)s) with a falling "
            "trend of %(slope)s per period."
        ) % {
            "fall": pct("decline_from_peak"),
            "min": pct("shrinking_min_decline", t),
            "slope": pct("trend_slope"),
        }
    if value_type == ValueType.GROWTH:
        return _(
            "A rising trend of %(slope)s per period that still rises at the end; the peak "
            "lies at %(position)s of the history."
        ) % {"slope": pct("trend_slope"), "position": pct("peak_position")}
    return _(
        "No strong trend, cycle or fall: trend %(slope)s per period, variation %(cv)s, "
        "business in %(active)s of the periods."
    ) % {"slope": pct("trend_slope"), "cv": num("cv"), "active": pct("active_share")}


def _basis(figures: dict) -> str:
    """What the customer's values are: contribution margin, or revenue without margins."""
    if figures.get("value_basis"):
        return figures["value_basis"]
    # Assessments from before the value basis was stored: margins make the basis.
    return "margin" if figures.get("margin_ratio") is not None else "revenue"


def _burr_reason(f: dict, t: dict, current_value: float | None) -> str:
    """Why a burr: loyal, and a tiny or negative value in money; says the basis."""
    basis = _basis(f)
    loyal = _("Business in %(active)s of %(n)s periods") % {
        "active": _fmt(f.get("active_share"), "percent"),
        "n": _fmt(f.get("periods"), "int"),
    }
    relative = f.get("relative_value")
    if basis == "margin":
        if current_value is not None and current_value < 0:
            return _(
                "%(loyal)s, but a negative contribution margin of %(value)s over the last "
                "12 periods: the customer costs more than it brings."
            ) % {"loyal": loyal, "value": money(current_value, 0)}
        if relative is not None:
            return _(
                "%(loyal)s, but a contribution margin in money of only %(share)s of the "
                "typical customer's (a burr customer earns at most %(max)s)."
            ) % {
                "loyal": loyal,
                "share": _fmt(relative, "percent"),
                "max": _fmt(t.get("burr_max_relative_value"), "percent"),
            }
        return _("%(loyal)s, but a minimal contribution margin in money.") % {"loyal": loyal}
    if relative is not None:
        return _(
            "%(loyal)s, but a revenue of only %(share)s of the typical customer's (a burr "
            "customer brings at most %(max)s). Judged by revenue: the data has no "
            "contribution margins."
        ) % {
            "loyal": loyal,
            "share": _fmt(relative, "percent"),
            "max": _fmt(t.get("burr_max_relative_value"), "percent"),
        }
    return _(
        "%(loyal)s, but a minimal revenue. Judged by revenue: the data has no contribution margins."
    ) % {"loyal": loyal}


def pearl_reason(assessment: Assessment) -> str:
    """One sentence: why this steady customer is a hidden pearl ("" if it is none)."""
    f = assessment.figures
    if not assessment.hidden_pearl:
        return ""
    t = assessment.run.thresholds
    value = money(assessment.current_value, 0)
    rank, ratio, change = (
        f.get("margin_ratio_rank"),
        f.get("margin_ratio"),
        f.get("margin_ratio_change"),
    )
    rising = change is not None and change >= t.get("pearl_min_ratio_rise", np.inf)
    if not rising and rank is not None and ratio is not None:
        return _(
            "Better than it looks: a margin ratio of %(ratio)s, higher than %(rank)s of the "
            "customers with margins, at a modest current contribution margin of %(value)s."
        ) % {"ratio": _fmt(ratio, "percent"), "rank": _fmt(rank, "percent"), "value": value}
    if rising:
        return _(
            "Better than it looks: its margin ratio rose by %(change)s percentage points in "
            "the last 12 periods, at a modest current contribution margin of %(value)s."
        ) % {"change": _fmt(change, "points"), "value": value}
    return _(
        "Better than it looks: a steady customer with a good margin at a modest current "
        "contribution margin of %(value)s."
    ) % {"value": value}


def thin_margin_reason(assessment: Assessment) -> str:
    """One sentence for a large account with a thin margin ratio ("" if it is none)."""
    f = assessment.figures
    if not f.get("thin_margin"):
        return ""
    if f.get("margin_ratio") is None or f.get("relative_value") is None:
        return _(
            "A large account with a thin margin ratio: no burr, as it earns a large margin "
            "in money, but worth a look at prices and the cost to serve."
        )
    return _(
        "A large account with a thin margin ratio of %(ratio)s: no burr, as its contribution "
        "margin is %(relative)s times the typical customer's, but worth a look at prices and "
        "the cost to serve."
    ) % {
        "ratio": _fmt(f.get("margin_ratio"), "percent"),
        "relative": _fmt(f.get("relative_value"), "ratio"),
    }


def forecast_note(assessment: Assessment) -> str:
    """One sentence when the forecast is uncertain, with the reason ("" otherwise)."""
    f = assessment.figures
    if not f.get("forecast_uncertain"):
        return ""
    code = f.get("forecast_uncertain_reason") or ""
    if code == "short_history":
        # The cap of the run that made the forecast (earlier runs stored 1).
        times = float(assessment.run.thresholds.get("short_history_max_future", 1.0))
        if times == 1.0:
            return _(
                "Forecast uncertain: only %(n)s periods of history, so the future value is at "
                "most what the customer brought so far."
            ) % {"n": _fmt(f.get("periods"), "int")}
        return _(
            "Forecast uncertain: only %(n)s periods of history, so the future value is at "
            "most %(times)s times what the customer brought so far."
        ) % {
            "n": _fmt(f.get("periods"), "int"),
            "times": number(times, 0 if times.is_integer() else 1),
        }
    model = f.get("model_future_value")
    if code in ("model_below_growth", "model_above_fall") and model is not None:
        source = FORECAST_SOURCES.get(f.get("forecast_method"), FORECAST_SOURCES["type"])
        return _(
            "Forecast uncertain: %(source)s expected %(model)s; the forecast follows the "
            "customer's type instead (%(why)s)."
        ) % {"source": source, "model": money(model, 0), "why": UNCERTAIN_REASONS[code]}
    return _("Forecast uncertain: %(why)s.") % {"why": _fmt(code, "reason")}


@dataclass
class TimelineEntry:
    as_of: object
    value_type: str
    label: str
    changed: bool


def timeline(assessments: list[Assessment]) -> list[TimelineEntry]:
    entries, previous = [], None
    for a in assessments:
        entries.append(
            TimelineEntry(
                a.run.as_of, a.value_type, a.get_value_type_display(), a.value_type != previous
            )
        )
        previous = a.value_type
    return entries


# A change from a good type to one of these is an early warning.
WARNING_CHANGES = {
    (ValueType.GROWTH, ValueType.BELL),
    (ValueType.GROWTH, ValueType.SHRINKING),
    (ValueType.STEADY, ValueType.SHRINKING),
    (ValueType.STEADY, ValueType.BELL),
    (ValueType.CYCLIC, ValueType.SHRINKING),
}


def early_warning(assessments: list[Assessment]) -> str:
    if len(assessments) < 2:
        return ""
    before, now = assessments[-2], assessments[-1]
    if (before.value_type, now.value_type) in WARNING_CHANGES:
        return _(
            "Early warning: was a %(before)s as of %(then)s, is a %(now)s as of %(as_of)s."
        ) % {
            "before": before.get_value_type_display(),
            "then": date_format(before.run.as_of, "YEAR_MONTH_FORMAT"),
            "now": now.get_value_type_display(),
            "as_of": date_format(now.run.as_of, "YEAR_MONTH_FORMAT"),
        }
    return ""


def type_summary(frame: pd.DataFrame) -> list[dict]:
    """Count and value share per type, with description and advice, in the order of
    docs/method.md."""
    total = float(frame["current_value"].clip(lower=0).sum()) or 1.0
    grouped = frame.groupby("value_type").agg(
        n=("value_type", "size"), value=("current_value", lambda s: float(s.clip(lower=0).sum()))
    )
    rows = []
    for code, label in ValueType.choices:
        n = int(grouped["n"].get(code, 0))
        value = float(grouped["value"].get(code, 0.0))
        rows.append(
            {
                "code": code,
                "label": label,
                "n": n,
                "share": 100 * value / total,
                "description": DESCRIPTIONS[code],
                "advice": ADVICE[code],
            }
        )
    return rows


@dataclass
class FocusEntry:
    assessment: Assessment
    reason: str


def focus_lists(assessments: list[Assessment]) -> dict:
    """The promising customers for each goal, hidden pearls and burr customers."""

    def gain(a: Assessment) -> float:
        return a.future_value - a.current_value

    def whole(x: float) -> str:
        return money(x, 0)

    # Too short a history gives no reliable gain; burr customers are not worth the push.
    unreliable = (ValueType.BURR, ValueType.INSUFFICIENT_DATA)
    growth = sorted(
        (a for a in assessments if gain(a) > 0 and a.value_type not in unreliable),
        key=gain,
        reverse=True,
    )[:15]
    profit = sorted(
        (
            a
            for a in assessments
            if a.value_type in (ValueType.STEADY, ValueType.GROWTH, ValueType.CYCLIC)
        ),
        key=lambda a: a.future_value,
        reverse=True,
    )[:15]
    innovation = sorted(
        (a for a in assessments if a.value_type == ValueType.GROWTH),
        key=lambda a: a.figures.get("trend_slope") or 0,
        reverse=True,
    )[:15]
    pearls = sorted(
        (a for a in assessments if a.hidden_pearl), key=lambda a: a.current_value, reverse=True
    )
    burrs = sorted(
        (a for a in assessments if a.value_type == ValueType.BURR or a.cost_review),
        key=lambda a: a.current_value,
    )
    return {
        "goals": [
            (
                _("Revenue growth"),
                [
                    FocusEntry(a, _("expected to gain %(gain)s") % {"gain": whole(gain(a))})
                    for a in growth
                ],
            ),
            (
                _("Profitability"),
                [
                    FocusEntry(
                        a,
                        _("%(type)s with a future value of %(value)s")
                        % {"type": a.get_value_type_display(), "value": whole(a.future_value)},
                    )
                    for a in profit
                ],
            ),
            (
                _("Innovation"),
                [FocusEntry(a, _("grows fastest: a partner for new products")) for a in innovation],
            ),
        ],
        "pearls": [
            FocusEntry(
                a,
                pearl_reason(a)
                or _("steady for %(n)s periods at %(value)s")
                % {"n": _fmt(a.figures.get("periods"), "int"), "value": whole(a.current_value)},
            )
            for a in pearls
        ],
        "burrs": [
            FocusEntry(
                a,
                _burr_reason(a.figures, a.run.thresholds, a.current_value),
            )
            for a in burrs
        ],
    }


def chart_data(figure: go.Figure, div_id: str, *, link_points: bool = False) -> dict:
    """What templates/customers/_chart.html needs to draw `figure`.

    Not `figure.to_html()`: its inline <script> is blocked by the Content-Security-Policy.
    The figure travels as JSON (plotly's own encoding, which knows numpy and dates) in a
    non-executed script element, and static/js/app.js draws it.
    """
    return {"id": div_id, "figure": json.loads(figure.to_json()), "link_points": link_points}


def history_chart(customer: Customer, records: pd.DataFrame, latest: Assessment | None) -> dict:
    """The customer's value per period with the forecast continuation, for _chart.html."""
    records = records.copy()
    revenue = pd.to_numeric(records["revenue"], errors="coerce").astype(float)
    margin = pd.to_numeric(records["margin"], errors="coerce").astype(float)
    # The value is the contribution margin where the data has it, else revenue.
    records["value"] = margin if margin.notna().any() else revenue
    records["period"] = pd.to_datetime(records["period"])
    forecast = pd.DataFrame(columns=["period", "value"])
    path = (latest.figures.get("forecast_path") if latest else None) or []
    if latest and path:
        start = pd.Timestamp(latest.run.as_of) + pd.offsets.MonthBegin(1)
        forecast = pd.DataFrame(
            {"period": pd.date_range(start, periods=len(path), freq="MS"), "value": path}
        )
    figure = charts.history(
        records[["period", "value"]],
        forecast,
        labels={"past": _("value"), "forecast": _("forecast"), "value": _("value per period")},
        separators=plotly_separators(),
        currency=currency_affixes(),
        month=lambda period: date_format(period.date(), "YEAR_MONTH_FORMAT"),
    )
    return chart_data(figure, "history-chart")
