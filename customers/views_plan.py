"""Where to act next: the ranked list of a chain, as a region of its Actions tab."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from chain.models import Chain
from chain.selectors import chain_can_edit, chain_get_for_user

from .plan import chain_plan

SHOWN = 10  # entries before "show all"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def action_new_url(chain: Chain) -> str:
    """The prefilled action form (chain:action-new, /chains/<pk>/actions/new/)."""
    try:
        return reverse("chain:action-new", args=[chain.pk])
    except NoReverseMatch:  # the actions views are not wired up in this build
        return reverse("chain:detail", args=[chain.pk]) + "actions/new/"


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def chain_plan_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    # Whoever sees the chain sees where to act in it; only its team creates actions.
    chain = chain_get_for_user(request.user, pk)
    plan = chain_plan(chain)
    entries = plan.entries
    show_all = request.GET.get("all") == "1"
    new_url = action_new_url(chain) if chain_can_edit(request.user, chain) else ""
    rows = [
        (entry, f"{new_url}?{urlencode(entry.action_params)}" if new_url else "")
        for entry in (entries if show_all else entries[:SHOWN])
    ]
    context = {
        "chain": chain,
        "plan": plan,
        "rows": rows,
        "more": len(entries) - len(rows),
        "url": reverse("customers:chain-plan", args=[chain.pk]),
        "page_url": reverse("chain:detail", args=[chain.pk]) + "?tab=actions",
    }
    template = "customers/chain_plan.html"
    if request.htmx:
        template += "#chain-plan-content"
    return render(request, template, context)
