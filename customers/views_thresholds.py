"""The administrators' page of the analysis thresholds: change, preview, reset
(docs/operations.md, "Analysis thresholds")."""

import dataclasses

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from lib.value_types import ValueType

from . import analysis, thresholds
from .forms import ThresholdForm
from .selectors import latest_run


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_thresholdsettings", raise_exception=True)
def thresholds_page(request: HttpRequest) -> HttpResponse:
    defaults = thresholds.defaults()
    in_force, version = thresholds.thresholds_in_force()
    action = request.POST.get("action", "")
    if request.method == "POST" and action == "reset":
        thresholds.thresholds_reset(user=request.user)
        messages.success(
            request,
            _("The thresholds are back to the defaults; the next analysis uses them."),
        )
        return redirect("customers:thresholds")
    form = ThresholdForm(
        request.POST if request.method == "POST" else None,
        initial=dataclasses.asdict(in_force),
        defaults=defaults,
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        proposed = analysis.Thresholds.from_mapping(form.cleaned_data)
        if action == "save":
            thresholds.thresholds_save(values=form.cleaned_data, user=request.user)
            messages.success(
                request,
                _(
                    "The thresholds are saved; the next analysis uses them. Managers start "
                    "one with “Analyse all customers again” on the import page, and every "
                    "import starts one."
                ),
            )
            return redirect("customers:thresholds")
        preview = thresholds.preview(proposed, user=request.user, run=latest_run())
        if preview is None:
            messages.info(request, _("No analysis yet: there is nothing to compare with."))
    labels = {code: str(capfirst(label)) for code, label in ValueType.choices}
    context = {
        "form": form,
        "groups": [
            {"group": group, "fields": [form[spec.name] for spec in group.specs]}
            for group in thresholds.GROUPS
        ],
        "version": version,
        "changes": thresholds.changes(version),
        "confirm_reset": request.method == "GET" and request.GET.get("reset") == "1",
        "preview": preview,
        "table": _table(preview, labels) if preview else None,
        "sample_size": settings.THRESHOLD_PREVIEW_MAX_CUSTOMERS,
    }
    return render(request, "customers/thresholds.html", context)


def _table(preview: thresholds.Preview, labels: dict[str, str]) -> dict:
    """The from-type x to-type table of the preview: rows and cells in type order, and
    the changes with their examples."""
    rows = []
    for old in preview.types:
        cells = [preview.counts.get((old, new), 0) if old != new else None for new in preview.types]
        if any(cells):
            rows.append({"label": labels[old], "cells": cells, "total": sum(c or 0 for c in cells)})
    changes = [
        {
            "old": labels[old],
            "new": labels[new],
            "count": count,
            "examples": preview.examples.get((old, new), []),
        }
        for (old, new), count in sorted(preview.counts.items(), key=lambda item: -item[1])
    ]
    return {"columns": [labels[code] for code in preview.types], "rows": rows, "changes": changes}
