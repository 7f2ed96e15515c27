"""Type changes as chain events: after an analysis, each chain hears of the linked
customers whose value type turned for the worse (docs/where-to-act.md, "Type changes").

A change counts when a customer linked to an actor turns bell, shrinking or burr, or
away from growth (where_to_act.type_change_counts), compared with the analysis run
before. Every chain with that actor gets one ChainEvent(kind="type_change"); a change
of the customer's type in one product only reaches the product and service chains of
that product. The chain app shows the events (activity feed, diagram, dashboard) without
knowing customers: the event's data carries what it shows.
"""

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Upper
from django.urls import reverse

import webhooks
from chain.models import Chain, ChainEvent, ChainLink
from lib.value_types import ValueType

from .models import AnalysisRun, Assessment
from .where_to_act import type_change_counts

CHUNK = 500  # customers' actors per query, events per insert


def _previous_run(run: AnalysisRun) -> AnalysisRun | None:
    earlier = Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, pk__lt=run.pk)
    return AnalysisRun.objects.filter(earlier).order_by("-created_at", "-pk").first()


def _changes(run: AnalysisRun, previous: AnalysisRun) -> list[dict]:
    """The run's assessments of linked customers whose type changed in a way that counts
    (one query; the final test in Python keeps the rule in one place)."""
    before = Assessment.objects.filter(
        run=previous, customer_id=OuterRef("customer_id"), product=OuterRef("product")
    ).values("value_type")[:1]
    bad = (ValueType.BELL, ValueType.SHRINKING, ValueType.BURR)
    rows = (
        Assessment.objects.filter(run=run, customer__actor__isnull=False)
        .annotate(old=Subquery(before))
        .filter(old__isnull=False)
        .exclude(value_type=F("old"))
        .filter(Q(value_type__in=bad) | Q(old=ValueType.GROWTH))
        .order_by("customer__number", "product")
        .values(
            "customer_id",
            "customer__number",
            "customer__name",
            "customer__actor_id",
            "product",
            "old",
            "value_type",
        )
    )
    return [row for row in rows if type_change_counts(row["old"], row["value_type"])]


def _links(actor_ids: list[int]) -> dict[int, list[dict]]:
    """Per actor, the chain members that hold it, with their chain's product scope."""
    by_actor: dict[int, list[dict]] = {}
    for start in range(0, len(actor_ids), CHUNK):
        rows = (
            ChainLink.objects.filter(actor_id__in=actor_ids[start : start + CHUNK])
            .annotate(scope=Upper("chain__scope_name"))
            .order_by("chain_id", "pk")
            .values("pk", "chain_id", "actor_id", "chain__scope_kind", "scope")
        )
        for row in rows:
            by_actor.setdefault(row["actor_id"], []).append(row)
    return by_actor


def _reaches(link: dict, product: str) -> bool:
    """A change over all products reaches every chain; one in a product only the product
    and service chains of that product."""
    if not product:
        return True
    products = (Chain.ScopeKind.PRODUCT, Chain.ScopeKind.SERVICE)
    return link["chain__scope_kind"] in products and link["scope"] == product.upper()


def type_change_events_create(*, run: AnalysisRun) -> int:
    """Record the run's type changes of linked customers as chain events; returns how
    many. A run already recorded is not recorded again."""
    previous = _previous_run(run)
    if previous is None:
        return 0
    if ChainEvent.objects.filter(kind=ChainEvent.Kind.TYPE_CHANGE, data__run=run.pk).exists():
        return 0
    changes = _changes(run, previous)
    links = _links(sorted({row["customer__actor_id"] for row in changes}))
    events = [
        ChainEvent(
            chain_id=link["chain_id"],
            link_id=link["pk"],
            kind=ChainEvent.Kind.TYPE_CHANGE,
            data={
                "customer": row["customer__number"],
                "name": row["customer__name"],
                "from": row["old"],
                "to": row["value_type"],
                "product": row["product"],
                "run": run.pk,
            },
        )
        for row in changes
        for link in links.get(row["customer__actor_id"], [])
        if _reaches(link, row["product"])
    ]
    ChainEvent.objects.bulk_create(events, batch_size=CHUNK)
    _emit(run, changes, links)
    return len(events)


def _emit(run: AnalysisRun, changes: list[dict], links: dict[int, list[dict]]) -> None:
    """One webhook event per customer change that reached a chain, naming those chains."""
    from webhooks.services import site_url

    if not webhooks.subscribed("customer.type_changed"):
        return
    names = dict(
        Chain.objects.filter(
            pk__in={link["chain_id"] for rows in links.values() for link in rows}
        ).values_list("pk", "scope_name")
    )
    for row in changes:
        chain_ids = sorted(
            {
                link["chain_id"]
                for link in links.get(row["customer__actor_id"], [])
                if _reaches(link, row["product"])
            }
        )
        if not chain_ids:
            continue
        webhooks.emit(
            "customer.type_changed",
            {
                "customer": {
                    "id": row["customer_id"],
                    "number": row["customer__number"],
                    "name": row["customer__name"],
                    "url": site_url(reverse("customers:detail", args=[row["customer_id"]])),
                },
                "product": row["product"],
                "from": row["old"],
                "to": row["value_type"],
                "run": run.pk,
                "chains": [
                    {
                        "id": pk,
                        "name": names.get(pk, ""),
                        "url": site_url(reverse("chain:detail", args=[pk])),
                    }
                    for pk in chain_ids
                ],
            },
        )
