"""The analysis thresholds in the app: the defaults, the administrators' changes, and a
dry run of proposed thresholds (docs/operations.md, "Analysis thresholds").

The thresholds in force are the defaults (customers.analysis.Thresholds, overlaid with
settings.CUSTOMER_ANALYSIS["thresholds"]) overlaid with the latest ThresholdSettings
version, which holds only the thresholds that differed from the defaults when it was
saved. A later change of a default in the settings applies wherever the administrators
kept the default.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from . import analysis
from .models import AnalysisRun, Assessment, Customer, ThresholdSettings
from .selectors import User, customer_list_for_user, history_frame

log = logging.getLogger(__name__)

# --- what each threshold is ----------------------------------------------------------

# Kinds of values, with their ranges (checked by the form, ThresholdForm).
PERIODS = "periods"  # a whole number of periods, at least 1
PERIODS_OR_NONE = "periods0"  # a whole number of periods, 0 or more
ODD = "odd"  # an odd whole number, at least 1
COUNT = "count"  # a whole number of customers, at least 1
SHARE = "share"  # a share from 0 to 1
SLOPE = "slope"  # a relative change per period, from -1 to 1
FACTOR = "factor"  # a number, 0 or more


@dataclass(frozen=True)
class Spec:
    name: str
    kind: str
    label: Promise
    help: Promise


@dataclass(frozen=True)
class Group:
    key: str
    title: Promise
    intro: Promise
    specs: tuple[Spec, ...]


GROUPS: tuple[Group, ...] = (
    Group(
        "history",
        _("History and levels"),
        _("How much history a customer needs and how levels are averaged."),
        (
            Spec(
                "min_periods",
                PERIODS,
                _("Minimum history (periods)"),
                _("Customers with fewer periods since their first business get too little data."),
            ),
            Spec(
                "smoothing_window",
                ODD,
                _("Smoothing window (periods, odd)"),
                _("The centred moving mean that smooths the value before peak and rise."),
            ),
            Spec(
                "gap_max_periods",
                PERIODS_OR_NONE,
                _("Bridged gaps (periods)"),
                _("Runs of months without business up to this length count as gaps; 0 = none."),
            ),
            Spec(
                "start_periods",
                PERIODS,
                _("Start level (periods)"),
                _("Periods averaged into the start level that the rise to the peak compares."),
            ),
            Spec(
                "recent_periods",
                PERIODS,
                _("Recent level (periods)"),
                _("Periods averaged into the recent level that the fall since the peak compares."),
            ),
            Spec(
                "level_periods",
                PERIODS,
                _("Kept level (periods)"),
                _("Periods averaged into the level that steady and burr customers keep."),
            ),
            Spec(
                "level_min_share",
                SHARE,
                _("End of the start-up phase (share)"),
                _("The kept level starts where the value first reached this share of it."),
            ),
        ),
    ),
    Group(
        "trend",
        _("Growth and shrinking customers"),
        _("When a trend counts, and how sure a rise or a fall must be."),
        (
            Spec(
                "trend_min_slope",
                FACTOR,
                _("Minimum trend (share per period)"),
                _("A trend counts from this relative slope per period (0.01 = 1 %)."),
            ),
            Spec(
                "trend_min_t",
                FACTOR,
                _("Minimum trend certainty (t)"),
                _("A trend counts from this t statistic."),
            ),
            Spec(
                "growth_min_t",
                FACTOR,
                _("Growth certainty (t)"),
                _("A regular buyer is a growth customer from this t statistic of its rising line."),
            ),
            Spec(
                "growth_min_end_slope",
                SLOPE,
                _("Growth still rising at the end (share per period)"),
                _("The relative slope at the end of the history must be at least this."),
            ),
            Spec(
                "growth_max_flattening_t",
                FACTOR,
                _("Growth flattening out (t)"),
                _("A curve that flattens with a t statistic beyond this is no growth."),
            ),
            Spec(
                "growth_min_peak_position",
                SHARE,
                _("Growth peak position (share of the history)"),
                _("The peak must lie at least this far into the history."),
            ),
            Spec(
                "shrinking_min_decline",
                SHARE,
                _("Shrinking: fall from the peak (share)"),
                _("A shrinking customer's recent level is at least this share below its peak."),
            ),
        ),
    ),
    Group(
        "bell",
        _("Bell customers"),
        _("A rise to a peak and a clear fall since."),
        (
            Spec(
                "bell_min_rise",
                SHARE,
                _("Rise to the peak (share)"),
                _("The start lies at least this share below the peak."),
            ),
            Spec(
                "bell_min_rise_periods",
                PERIODS,
                _("Rise lasts at least (periods)"),
                _("The peak comes at least this many periods after the start."),
            ),
            Spec(
                "bell_min_decline",
                SHARE,
                _("Fall since the peak (share)"),
                _("The recent level lies at least this share below the peak."),
            ),
            Spec(
                "bell_min_fall_slope",
                SHARE,
                _("Fall per period (share)"),
                _("The line since the peak falls by at least this share of its mean per period."),
            ),
            Spec(
                "bell_min_fall_t",
                FACTOR,
                _("Fall certainty (t)"),
                _("The fall since the peak needs at least this t statistic."),
            ),
        ),
    ),
    Group(
        "cyclic",
        _("Cyclic customers"),
        _("A regular season, or strong swings without a clear trend."),
        (
            Spec(
                "cyclic_min_strength",
                SHARE,
                _("Seasonal strength"),
                _("A regular cycle needs at least this seasonal strength (0 to 1)."),
            ),
            Spec(
                "cyclic_min_cv",
                FACTOR,
                _("Variation of a cycle"),
                _("A regular cycle needs at least this coefficient of variation."),
            ),
            Spec(
                "cyclic_min_periods",
                PERIODS,
                _("Cycle history (periods)"),
                _("A regular cycle needs at least this many periods (and two full cycles)."),
            ),
            Spec(
                "cyclic_swing_min_periods",
                PERIODS,
                _("Swing history (periods)"),
                _("Swings without a regular cycle need at least this many periods."),
            ),
            Spec(
                "cyclic_min_zero_share",
                SHARE,
                _("Months without business (share)"),
                _("Swings are strong with at least this share of months without business."),
            ),
            Spec(
                "cyclic_swing_min_cv",
                FACTOR,
                _("Variation of swings"),
                _("... or with at least this coefficient of variation."),
            ),
            Spec(
                "cyclic_swing_max_trend_t",
                FACTOR,
                _("Trend among swings (t)"),
                _("Among strong swings only a trend with at least this t statistic counts."),
            ),
        ),
    ),
    Group(
        "burr",
        _("Burr customers"),
        _("Loyal and long, but worth little."),
        (
            Spec(
                "burr_min_periods",
                PERIODS,
                _("Burr history (periods)"),
                _("A burr customer has at least this many periods of history."),
            ),
            Spec(
                "burr_min_active_share",
                SHARE,
                _("Burr: periods with business (share)"),
                _("... and business in at least this share of them."),
            ),
            Spec(
                "burr_max_relative_value",
                FACTOR,
                _("Burr: value against the typical customer"),
                _("... and a current value of at most this multiple of the median customer's."),
            ),
            Spec(
                "thin_margin_max_ratio",
                SHARE,
                _("Thin margin ratio"),
                _("A cost review is flagged for a margin ratio at most this ..."),
            ),
            Spec(
                "thin_margin_min_relative_value",
                FACTOR,
                _("Thin margin: size against the typical customer"),
                _("... on an account of at least this multiple of the median customer's margin."),
            ),
        ),
    ),
    Group(
        "pearl",
        _("Hidden pearls"),
        _("Steady customers with margins that are better than they look."),
        (
            Spec(
                "pearl_min_periods",
                PERIODS,
                _("Pearl history (periods)"),
                _("A hidden pearl has at least this many periods of history."),
            ),
            Spec(
                "pearl_min_ratio_rank",
                SHARE,
                _("Margin ratio rank (share)"),
                _("Its margin ratio ranks at least this high among the customers with margins ..."),
            ),
            Spec(
                "pearl_min_ratio_rise",
                SHARE,
                _("Margin ratio rise"),
                _("... or rose by at least this (0.03 = 3 percentage points)."),
            ),
            Spec(
                "pearl_max_value_quantile",
                SHARE,
                _("Size at most (quantile)"),
                _("Its current value is at most this quantile of the steady customers'."),
            ),
        ),
    ),
    Group(
        "forecast",
        _("Irregular buyers and forecast"),
        _("Who buys irregularly, and how the future value is projected."),
        (
            Spec(
                "regular_min_active_share",
                SHARE,
                _("Regular buyer: periods with business (share)"),
                _("Customers with business in a smaller share of their periods buy irregularly."),
            ),
            Spec(
                "erratic_min_roughness",
                FACTOR,
                _("Erratic value (roughness)"),
                _("A value jumping by this share of its mean from period to period is irregular."),
            ),
            Spec(
                "type_forecast_min_periods",
                PERIODS,
                _("History for a type forecast (periods)"),
                _("Shorter histories get the repeat-buying forecast."),
            ),
            Spec(
                "repeat_buying_min_customers",
                COUNT,
                _("Customers for the repeat-buying models"),
                _("The models are fitted only with at least this many irregular customers."),
            ),
            Spec(
                "repeat_buying_max_fit_customers",
                COUNT,
                _("Customers the models are fitted on, at most"),
                _("A larger portfolio is fitted on an evenly spaced selection."),
            ),
            Spec(
                "short_history_max_future",
                FACTOR,
                _("Too little data: future value at most (multiple)"),
                _("The forecast is at most this multiple of the value brought so far."),
            ),
            Spec(
                "growth_fit_periods",
                PERIODS,
                _("Growth and shrinking: fitted periods"),
                _("The line or curve is fitted over this many recent periods."),
            ),
            Spec(
                "growth_damping",
                SHARE,
                _("Growth and shrinking: damping per period"),
                _("The slope is multiplied by this factor per period ahead."),
            ),
            Spec(
                "decay_window",
                PERIODS,
                _("Bell and shrinking: fitted window (periods)"),
                _("At most this many periods per fitted window."),
            ),
            Spec(
                "cyclic_years",
                PERIODS,
                _("Cyclic: years averaged"),
                _("A regular cycle repeats the mean of at most this many recent years."),
            ),
            Spec(
                "cyclic_level_periods",
                PERIODS,
                _("Cyclic without a cycle: periods averaged"),
                _("The forecast is the mean of at most this many recent periods."),
            ),
        ),
    ),
)

SPECS: dict[str, Spec] = {spec.name: spec for group in GROUPS for spec in group.specs}
INTEGER_KINDS = {PERIODS, PERIODS_OR_NONE, ODD, COUNT}


# --- the thresholds in force ------------------------------------------------------------


def defaults() -> dict[str, Any]:
    """The thresholds without the administrators' changes: the code's defaults overlaid
    with settings.CUSTOMER_ANALYSIS["thresholds"]."""
    base = analysis.Thresholds.from_mapping(settings.CUSTOMER_ANALYSIS["thresholds"])
    return dataclasses.asdict(base)


def settings_in_force() -> ThresholdSettings | None:
    """The latest saved version, or None when the administrators never changed any."""
    return (
        ThresholdSettings.objects.select_related("changed_by")
        .order_by("-changed_at", "-pk")
        .first()
    )


def overrides(version: ThresholdSettings | None) -> dict[str, Any]:
    """The version's changed thresholds that the analysis still knows (a threshold that
    a later version of the app removed is left out)."""
    values = (version.values if version else None) or {}
    known = {f.name for f in dataclasses.fields(analysis.Thresholds)}
    return {name: value for name, value in values.items() if name in known}


def thresholds_in_force() -> tuple[analysis.Thresholds, ThresholdSettings | None]:
    """The thresholds the next analysis uses, and the version they come from."""
    version = settings_in_force()
    return analysis.Thresholds.from_mapping({**defaults(), **overrides(version)}), version


def thresholds_save(*, values: dict[str, Any], user: User | None) -> ThresholdSettings:
    """Store `values` (all thresholds, or some) as the new version in force: only those
    that differ from the defaults are kept."""
    base = defaults()
    changed = {
        name: value
        for name, value in values.items()
        if name in base and not _same(value, base[name])
    }
    return ThresholdSettings.objects.create(values=changed, changed_by=user)


def thresholds_reset(*, user: User | None) -> ThresholdSettings:
    """Back to the defaults: a version without changes, so the record keeps who reset it."""
    return ThresholdSettings.objects.create(values={}, changed_by=user)


def _same(a: Any, b: Any) -> bool:
    return float(a) == float(b)


def changes(version: ThresholdSettings | None) -> list[dict[str, Any]]:
    """The version's changes against today's defaults, for the pages: name, label, value
    and default, in the page's order."""
    base = defaults()
    values = overrides(version)
    return [
        {"name": name, "label": spec.label, "value": values[name], "default": base[name]}
        for name, spec in SPECS.items()
        if name in values and not _same(values[name], base[name])
    ]


# --- the dry run --------------------------------------------------------------------------


@dataclass
class Preview:
    run: AnalysisRun
    customers: int  # analysed in the preview
    total: int  # assessed in the run
    sampled: bool
    changed: int = 0
    # (from type, to type) -> count, and up to EXAMPLES customers per pair
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    examples: dict[tuple[str, str], list[Customer]] = field(default_factory=dict)
    types: list[str] = field(default_factory=list)  # the rows and columns of the table


EXAMPLES = 3


def preview(
    thresholds: analysis.Thresholds, *, user: User, run: AnalysisRun | None
) -> Preview | None:
    """How many customers of the latest run would change type with `thresholds`.

    Analyses the stored histories up to the run's last period (nothing is stored), at
    most settings.THRESHOLD_PREVIEW_MAX_CUSTOMERS of them (an evenly spaced sample of the
    run's customers, by customer number), so the request stays within seconds. The
    future values and forecasts are not computed from the purchases here: they do not
    decide the type. Examples only name customers `user` may see.
    """
    if run is None:
        return None
    assessed = Assessment.objects.filter(run=run, product="")
    before = dict(assessed.values_list("customer__number", "value_type"))
    total = len(before)
    if not total:
        return None
    numbers = sorted(before)
    limit = max(1, int(settings.THRESHOLD_PREVIEW_MAX_CUSTOMERS))
    sampled = total > limit
    if sampled:
        picks = np.linspace(0, total - 1, limit).round().astype(int)
        numbers = [numbers[i] for i in np.unique(picks)]
    history = history_frame(customer_numbers=numbers if sampled else None)
    if history.empty:
        return None
    as_of = pd.Timestamp(run.as_of)
    history = history[history["period"] <= as_of]
    result = analysis.analyse(history, as_of=as_of, horizon=run.horizon, thresholds=thresholds)
    output = analysis.to_output_frame(result)
    after = dict(
        zip(output["customer_id"].astype(str), output["value_type"].astype(str), strict=True)
    )
    out = Preview(run=run, customers=len(after), total=total, sampled=sampled)
    pairs: dict[tuple[str, str], list[str]] = {}
    for number, new in after.items():
        old = before.get(number)
        if old is None or old == new:
            continue
        pairs.setdefault((old, new), []).append(number)
    out.counts = {pair: len(members) for pair, members in sorted(pairs.items())}
    out.changed = sum(out.counts.values())
    order = [code for code, _label in _type_choices()]
    seen = Counter(t for pair in out.counts for t in pair)
    out.types = [code for code in order if code in seen]
    visible = _visible(user, [n for members in pairs.values() for n in members[:50]])
    for pair, members in pairs.items():
        out.examples[pair] = [visible[n] for n in members if n in visible][:EXAMPLES]
    return out


def _type_choices():
    from lib.value_types import ValueType

    return ValueType.choices


def _visible(user: User, numbers: list[str]) -> dict[str, Customer]:
    customers: QuerySet[Customer] = customer_list_for_user(user).filter(number__in=numbers)
    return {c.number: c for c in customers}
