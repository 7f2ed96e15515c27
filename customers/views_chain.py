"""The chain page's customers tab: the customers in the chain's scope and their value."""

import pandas as pd
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import capfirst
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from chain.models import Chain
from chain.selectors import chain_get_for_user
from chain.templatetags.chain_urls import pk_url

from . import guidance, value_basis
from .chain_values import chain_assessments
from .models import ValueType
from .selectors import latest_run
from .views import portfolio_chart

# The focus list that serves each chain goal (guidance.focus_lists, in its order).
GOAL_LIST = {Chain.Goal.GROWTH: 0, Chain.Goal.PROFITABILITY: 1, Chain.Goal.INNOVATION: 2}
SHOWN = 50  # rows of the table; the chart and the sums cover every customer


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def chain_customers(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    # Whoever may see the chain may see the customers in its scope: its team, whose
    # customers they are, and the managers, who see all (docs/architecture.md).
    chain = chain_get_for_user(request.user, pk)
    actors = {link.actor_id: link.actor for link in chain.links.select_related("actor")}
    actor_id = request.GET.get("actor", "")
    actor_id = int(actor_id) if actor_id.isdigit() and int(actor_id) in actors else None
    value_type = request.GET.get("type", "")
    if value_type not in ValueType.values:
        value_type = ""
    run = latest_run()
    rows = chain_assessments(chain, actor_id=actor_id) if run else []
    assessments = [row.assessment for row in rows]
    shown = [row for row in rows if not value_type or row.assessment.value_type == value_type]
    page_url = reverse("chain:detail", args=[chain.pk]) + "?tab=customers"
    context = {
        "chain": chain,
        "run": run,
        "rows": shown[:SHOWN],
        "more": max(0, len(shown) - SHOWN),
        "count": len(rows),
        "actor": actors.get(actor_id),
        "actor_id": actor_id,
        "value_type": value_type,
        "types": _type_counts(assessments),
        "target": chain.customer_type,
        "target_label": chain.get_customer_type_display() if chain.customer_type else "",
        "url": reverse("customers:chain-customers", args=[chain.pk]),
        "page_url": page_url,
    }
    if assessments:
        frame = _frame(assessments)
        context["totals"] = value_basis.totals(frame)
        context["chart"] = guidance.chart_data(
            portfolio_chart(frame), f"chain-portfolio-{chain.pk}", link_points=True
        )
        goal, entries = guidance.focus_lists(assessments)["goals"][GOAL_LIST[chain.goal]]
        context["focus_title"], context["focus"] = goal, entries[:10]
    template = "customers/chain_customers.html"
    if request.htmx:
        template += "#chain-customers-content"
    return render(request, template, context)


def _type_counts(assessments: list) -> list[tuple[str, str, int]]:
    counts: dict[str, int] = {}
    for assessment in assessments:
        counts[assessment.value_type] = counts.get(assessment.value_type, 0) + 1
    return [
        (code, str(capfirst(label)), counts[code])
        for code, label in ValueType.choices
        if code in counts
    ]


def _frame(assessments: list) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer": [a.customer.name or a.customer.number for a in assessments],
            "url": [pk_url("customers:detail", a.customer_id) for a in assessments],
            "value_type": [a.value_type for a in assessments],
            "value_basis": [a.value_basis for a in assessments],
            "current_value": [a.current_value for a in assessments],
            "future_value": [a.future_value for a in assessments],
        }
    )
    return frame
