"""Reads for where to act next: one chain's facts in six queries, then the ranking.

`where_to_act_facts` turns the database into the plain facts that the pure ranking in
customers/where_to_act.py reads (docs/where-to-act.md); `chain_plan` adds the weights
from the settings and today's date.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from chain.models import Action, Chain, ChainEvent, ChainLink, Contact, Influence

from .models import Assessment
from .selectors import run_subquery, value_basis
from .where_to_act import (
    ChainFacts,
    CustomerFact,
    Entry,
    InfluenceFact,
    Member,
    OpenAction,
    Person,
    TypeChange,
    Weights,
    rank,
)


def _members(chain: Chain) -> tuple[Member, ...]:
    """The members in chain order with their people (two queries)."""
    people: dict[int, list[Person]] = {}
    contacts = Contact.objects.filter(link__chain=chain).order_by("pk")
    for row in contacts.values(
        "pk",
        "link_id",
        "name",
        "role",
        "buying_role",
        "attitude",
        "level",
        "relation_now",
        "relation_goal",
        "last_contact",
    ):
        link_id = row.pop("link_id")
        people.setdefault(link_id, []).append(Person(**row))
    links = ChainLink.objects.filter(chain=chain).order_by("stage__position", "position", "pk")
    return tuple(
        Member(
            pk=row["pk"],
            actor_id=row["actor_id"],
            name=row["actor__name"],
            stage_role=row["stage__role"],
            importance=row["importance"],
            is_own=row["actor__is_own_company"] or row["stage__role"] == "own",
            people=tuple(people.get(row["pk"], ())),
        )
        for row in links.values(
            "pk", "actor_id", "actor__name", "actor__is_own_company", "stage__role", "importance"
        )
    )


def _customers(chain: Chain) -> tuple[tuple[CustomerFact, ...], date | None]:
    """The customers linked to the chain's actors in the latest analysis, over all their
    products, with their type in the analysis before (one query)."""
    previous = Assessment.objects.filter(
        run=run_subquery(1), customer_id=OuterRef("customer_id"), product=""
    ).values("value_type")[:1]
    rows = (
        Assessment.objects.filter(
            run=run_subquery(0),
            product="",
            customer__actor_id__in=ChainLink.objects.filter(chain=chain).values("actor_id"),
        )
        .annotate(basis=value_basis(), previous=Subquery(previous))
        .order_by("customer__number")
        .values(
            "customer__number",
            "customer__name",
            "customer__actor_id",
            "value_type",
            "previous",
            "current_value",
            "future_value",
            "basis",
            "cost_review",
            "run__created_at",
        )
    )
    customers, analysed = [], None
    for row in rows:
        analysed = timezone.localdate(row["run__created_at"])
        customers.append(
            CustomerFact(
                number=row["customer__number"],
                name=row["customer__name"],
                actor_id=row["customer__actor_id"],
                value_type=row["value_type"],
                current=float(row["current_value"]),
                future=float(row["future_value"]),
                basis=row["basis"],
                previous_type=row["previous"] or "",
                cost_review=row["cost_review"],
            )
        )
    return tuple(customers), analysed


def _changes(chain: Chain, since: date) -> tuple[TypeChange, ...]:
    start = timezone.make_aware(datetime.combine(since, time.min))
    events = ChainEvent.objects.filter(
        chain=chain, kind=ChainEvent.Kind.TYPE_CHANGE, created_at__gte=start
    ).order_by("created_at", "pk")
    return tuple(
        TypeChange(
            link=row["link_id"],
            customer=str(row["data"].get("customer", "")),
            name=str(row["data"].get("name", "")),
            old=str(row["data"].get("from", "")),
            new=str(row["data"].get("to", "")),
            product=str(row["data"].get("product") or ""),
            on=timezone.localdate(row["created_at"]),
        )
        for row in events.values("link_id", "data", "created_at")
        if row["data"].get("customer")
    )


def where_to_act_facts(chain: Chain, *, since: date) -> ChainFacts:
    """Everything the ranking reads of one chain, in six queries whatever its size; the
    type-change events from `since` on."""
    influences = Influence.objects.filter(chain=chain).order_by("pk")
    actions = Action.objects.filter(chain=chain, status=Action.Status.OPEN).order_by("pk")
    customers, analysed = _customers(chain)
    return ChainFacts(
        goal=chain.goal,
        members=_members(chain),
        influences=tuple(
            InfluenceFact(source, target, strength)
            for source, target, strength in influences.values_list(
                "source_id", "target_id", "strength"
            )
        ),
        customers=customers,
        changes=_changes(chain, since),
        actions=tuple(
            OpenAction(link, contact, customer)
            for link, contact, customer in actions.values_list(
                "link_id", "contact_id", "customer_number"
            )
        ),
        analysed_on=analysed,
    )


@dataclass(frozen=True)
class Plan:
    entries: list[Entry]  # best first
    actors: int  # the chain's members but our company, to say why the list is empty
    customers: int  # linked customers in the latest analysis
    stale_after_days: int
    recent_days: int


def chain_plan(chain: Chain, *, today: date | None = None) -> Plan:
    """Where to act next in the chain, best first, with the weights of the settings."""
    today = today or timezone.localdate()
    recent_days = settings.CHAIN_EVENT_RECENT_DAYS
    facts = where_to_act_facts(chain, since=today - timedelta(days=recent_days))
    weights = Weights.from_mapping(settings.WHERE_TO_ACT_WEIGHTS)
    return Plan(
        entries=rank(facts, weights=weights, today=today, recent_days=recent_days),
        actors=sum(1 for member in facts.members if not member.is_own),
        customers=len(facts.customers),
        stale_after_days=weights.stale_after_days,
        recent_days=recent_days,
    )
