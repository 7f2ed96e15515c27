"""Keeping the stored analysis runs small (docs/operations.md, "Analysis runs on disk").

Every analysis stores an assessment per customer (and per customer and product) with the
figures that explain it: a portfolio of a million customers analysed after each import
would grow by gigabytes a month. What the pages read of older runs is little: the type
history (the latest run of each period, `selectors.assessment_history`) and the type
changes between the latest run and the one before (`chain_events`). So:

- the newest `ANALYSIS_KEEP_FULL_RUNS` runs (default 2) stay whole;
- of the older ones, the latest run of each period stays, its assessments reduced to the
  type, the values and the value basis (the figures and forecast path go);
- an older run that a later run of the same period replaced is deleted;
- with `ANALYSIS_KEEP_PERIODS` set (default 0: all), runs of periods further back than
  that many periods are deleted too.

The analysis compacts after every run; `manage.py compact_analyses` does it on demand.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import JSONObject

from .models import AnalysisRun, Assessment

# What an older run's assessment keeps of its figures: the history shows the value basis.
KEPT_FIGURES = ("value_basis",)


@dataclass(frozen=True)
class Compaction:
    runs_deleted: int
    assessments_deleted: int
    assessments_reduced: int

    def __str__(self) -> str:
        return (
            f"{self.runs_deleted} runs deleted ({self.assessments_deleted} assessments), "
            f"{self.assessments_reduced} assessments reduced to their type"
        )


def analysis_runs_compact(
    *, keep_full: int | None = None, keep_periods: int | None = None, dry_run: bool = False
) -> Compaction:
    """Compact the stored runs as the module says; `dry_run` counts without changing."""
    keep_full = settings.ANALYSIS_KEEP_FULL_RUNS if keep_full is None else keep_full
    keep_periods = settings.ANALYSIS_KEEP_PERIODS if keep_periods is None else keep_periods
    keep_full = max(1, keep_full)  # the latest run always stays whole
    runs = list(AnalysisRun.objects.order_by("-created_at", "-pk").values_list("pk", "as_of"))
    full = {pk for pk, _ in runs[:keep_full]}
    latest_of_period: dict = {}
    for pk, as_of in runs:
        latest_of_period.setdefault(as_of, pk)
    periods = sorted(latest_of_period, reverse=True)
    kept_periods = set(periods[:keep_periods]) if keep_periods > 0 else set(periods)
    doomed = [
        pk
        for pk, as_of in runs
        if pk not in full and (latest_of_period[as_of] != pk or as_of not in kept_periods)
    ]
    reduced = [pk for pk, _ in runs if pk not in full and pk not in doomed]
    # Only assessments that still carry their figures (every stored one has a forecast
    # path, if an empty one).
    heavy = Assessment.objects.filter(run__in=reduced, figures__has_key="forecast_path")
    doomed_assessments = Assessment.objects.filter(run__in=doomed)
    if dry_run:
        return Compaction(len(doomed), doomed_assessments.count(), heavy.count())
    with transaction.atomic():
        # One DELETE each (nothing refers to an assessment), not an object per row.
        deleted, _ = doomed_assessments.delete()
        AnalysisRun.objects.filter(pk__in=doomed).delete()
        kept = {name: KeyTransform(name, "figures") for name in KEPT_FIGURES}
        count = heavy.update(figures=JSONObject(**kept))
    return Compaction(len(doomed), deleted, count)
