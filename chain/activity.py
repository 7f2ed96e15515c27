"""The activity feed of a chain: who changed what and when, from the change history.

django-simple-history keeps a row per save and delete of each chain part (see `models`).
This module reads those rows for one chain with a fixed number of queries and turns them
into entries a person reads: "Bob changed Contact Anna Weber: contact level none → regular".
Actions (created, changed, closed) come from their history the same way; what happened to
the chain outside its tables (`ChainEvent`: a linked customer's value type changed in an
analysis) joins the feed from its own table.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import formats
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _

from lib.value_types import ValueType

from .models import (
    Action,
    Actor,
    ActorKind,
    Chain,
    ChainEvent,
    ChainLink,
    Contact,
    Influence,
    Question,
    Stage,
    SuccessFactor,
    WorksheetAnswer,
)

KINDS: dict[str, tuple[type[models.Model], str]] = {
    "chain": (Chain, gettext_lazy("Chain")),
    "stage": (Stage, gettext_lazy("Stage")),
    "link": (ChainLink, gettext_lazy("Actor")),
    "actor": (Actor, gettext_lazy("Actor (catalog)")),
    "contact": (Contact, gettext_lazy("Contact")),
    "influence": (Influence, gettext_lazy("Influence")),
    "answer": (WorksheetAnswer, pgettext_lazy("worksheet", "Answer")),
    "action": (Action, gettext_lazy("Action")),
}
# Entries that are not the map itself but the work on it (left out of "changed since
# approval"), and the kind of ChainEvent rows, which have no history table.
FOLLOW_UP = {"action", "event"}
EVENT_LABEL = gettext_lazy("Customer value")
# Deleted rows of these kinds can be brought back from the feed.
RESTORABLE = {"link", "contact", "influence"}
# Bookkeeping, or changes shown elsewhere (positions: drag and drop).
SKIPPED_FIELDS = {"id", "version", "position", "chain", "created_at", "updated_at", "updated_by"}
# The review's bookkeeping on the chain: its status change says who submitted or approved.
SKIPPED_FIELDS |= {"submitted_by", "approved_by", "approved_at", "changed_since_approval"}
# An action's closing shows as "closed" with its new status; who closed it made the change.
SKIPPED_FIELDS |= {"created_by", "closed_by", "closed_at", "comment"}
# Each history table is read back this far; older rows drop out of the feed.
RECENT = 500
# Consecutive edits of one thing by one person within this time read as one entry.
MERGE_WITHIN = timedelta(minutes=10)


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    kind: str
    # "+" added, "~" changed, "-" removed: simple-history's history_type; "x" an action
    # closed (done or dropped), "e" a chain event.
    action: str
    label: str
    when: datetime
    who: object
    history_pk: int
    object_id: int
    changes: list[Change] = field(default_factory=list)
    restorable: bool = False
    closed_as: str = ""  # an action closed: its new status, "done" or "dropped"

    @property
    def who_name(self) -> str:
        if self.kind == "event":
            return _("Customer analysis")
        if self.who is None:
            return _("system")
        return self.who.get_full_name() or self.who.get_username()

    @property
    def kind_label(self) -> str:
        return str(EVENT_LABEL if self.kind == "event" else KINDS[self.kind][1])


@cache
def _history(model: type[models.Model]) -> models.Manager:
    """The plain manager of the model's history table, looked up once: `Model.history`
    builds a new manager class on every access."""
    return model.history.model._default_manager


def _records(chain: Chain) -> dict[str, list[SimpleNamespace]]:
    """The newest RECENT history rows of each kind, oldest last.

    Read as plain rows with the historical models' attributes (and `history_user`, and for
    members `factor_ids`) rather than as model instances: building an instance per row
    made up most of the feed's time, and the feed reloads after every change.
    """
    links = _history(ChainLink).filter(chain_id=chain.pk)
    sources = {
        "chain": _history(Chain).filter(id=chain.pk),
        "stage": _history(Stage).filter(chain_id=chain.pk),
        "link": links,
        "actor": _history(Actor).filter(id__in=links.values("actor_id")),
        "contact": _history(Contact).filter(link_id__in=links.values("id")),
        "influence": _history(Influence).filter(chain_id=chain.pk),
        "answer": _history(WorksheetAnswer).filter(chain_id=chain.pk),
        "action": _history(Action).filter(chain_id=chain.pk),
    }
    records = {}
    for kind, qs in sources.items():
        columns = [f.attname for f in qs.model._meta.concrete_fields]
        rows = qs.order_by("-history_date", "-history_id").values(*columns)[:RECENT]
        records[kind] = [SimpleNamespace(**row) for row in rows]
    _factors_attach(records["link"])
    return records


def _factors_attach(rows: list[SimpleNamespace]) -> None:
    """Each member row's catalog success factors as they were then (`factor_ids`)."""
    factors = _history(ChainLink).model.historicalchainlink_success_factors_set.field.model
    by_row: dict[int, set[int]] = {row.history_id: set() for row in rows}
    pairs = factors.objects.filter(history_id__in=list(by_row)).values_list(
        "history_id", "successfactor_id"
    )
    for history_id, factor_id in pairs:
        by_row[history_id].add(factor_id)
    for row in rows:
        row.factor_ids = by_row[row.history_id]


def _users_attach(records: dict[str, list[SimpleNamespace]]) -> dict[int, models.Model]:
    """Who made each change (`history_user`); with the contacts' owners, in one query."""
    ids = {r.history_user_id for rows in records.values() for r in rows if r.history_user_id}
    ids |= {r.owner_id for r in records["contact"] + records["action"] if r.owner_id}
    users = get_user_model().objects.in_bulk(ids)
    for rows in records.values():
        for r in rows:
            r.history_user = users.get(r.history_user_id)
    return users


class _Names:
    """Names for the ids in history rows, loaded once for the whole feed."""

    def __init__(self, records: dict[str, list], users: dict[int, models.Model]):
        links = records["link"]
        self.actor_of_link = {r.id: r.actor_id for r in links}
        actor_ids = {r.actor_id for r in links} | {r.id for r in records["actor"]}
        self.actors = dict(Actor.objects.filter(pk__in=actor_ids).values_list("pk", "name"))
        # Newest first: the first name seen is the current one.
        self.stages: dict[int, str] = {}
        for r in records["stage"]:
            self.stages.setdefault(r.id, r.name)
        self.contacts: dict[int, str] = {}
        for r in records["contact"]:
            self.contacts.setdefault(r.id, r.name or r.role)
        self.kinds = dict(ActorKind.objects.values_list("pk", "name"))
        self.factors = dict(SuccessFactor.objects.values_list("pk", "name"))
        self.users = {pk: u.get_full_name() or u.get_username() for pk, u in users.items()}

    def link(self, link_id: int | None) -> str:
        return self.actors.get(self.actor_of_link.get(link_id), "?")

    def value(self, model_field: models.Field, value: object) -> str:
        if value in (None, ""):
            return "–"
        lookup = {
            "actor": self.actors,
            "stage": self.stages,
            "kind": self.kinds,
            "owner": self.users,
            "contact": self.contacts,
        }.get(model_field.name)
        if lookup is not None:
            return lookup.get(value, "?")
        if model_field.name in ("link", "source", "target"):
            return self.link(value)
        if model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(value, date) and not isinstance(value, datetime):
            return formats.date_format(value, "SHORT_DATE_FORMAT")
        text = str(value)
        return text if len(text) <= 80 else text[:79] + "…"

    def label(self, kind: str, r) -> str:
        if kind == "chain":
            return r.scope_name
        if kind == "stage":
            return r.name
        if kind == "link":
            return self.actors.get(r.actor_id, "?")
        if kind == "actor":
            return r.name
        if kind == "contact":
            return f"{r.name or r.role} ({self.link(r.link_id)})"
        if kind == "influence":
            return f"{self.link(r.source_id)} → {self.link(r.target_id)}"
        if kind == "action":
            return r.title
        question = str(Question(r.question).label) if r.question in Question.values else r.question
        return f"{question} ({self.link(r.link_id)})" if r.link_id else question


@lru_cache(maxsize=64)
def _shown_fields(model: type[models.Model], language: str) -> list[tuple[models.Field, str]]:
    """The fields whose changes the feed shows, with their labels in `language` (the
    active one: the label is translated here once, not for every change)."""
    return [
        (f, str(f.verbose_name))
        for f in model._meta.concrete_fields
        if f.name not in SKIPPED_FIELDS
    ]


def _changes(model: type[models.Model], old, new, names: _Names) -> list[Change]:
    changes = []
    for model_field, label in _shown_fields(model, get_language()):
        before, after = getattr(old, model_field.attname), getattr(new, model_field.attname)
        if before != after:
            changes.append(
                Change(label, names.value(model_field, before), names.value(model_field, after))
            )
    if model is ChainLink:
        before, after = old.factor_ids, new.factor_ids
        if before != after:
            join = lambda ids: ", ".join(sorted(names.factors.get(i, "?") for i in ids)) or "–"  # noqa: E731
            changes.append(Change(_("success factors"), join(before), join(after)))
    return changes


def _merge(entry: Entry, later: Entry) -> None:
    """Fold a later edit into an entry: earliest old value, latest new value."""
    entry.when, entry.history_pk = later.when, later.history_pk
    if entry.action == "+":
        return  # "added" says it all; the card shows what it is now
    by_label = {c.label: c for c in entry.changes}
    for change in later.changes:
        if change.label in by_label:
            by_label[change.label].new = change.new
        else:
            entry.changes.append(change)
    entry.changes = [c for c in entry.changes if c.old != c.new]


def _current_ids(chain: Chain) -> dict[str, set[int]]:
    return {
        "link": set(chain.links.values_list("pk", flat=True)),
        "contact": set(Contact.objects.filter(link__chain=chain).values_list("pk", flat=True)),
        "influence": set(chain.influences.values_list("pk", flat=True)),
    }


def activity_list(
    chain: Chain, *, limit: int = 50, since: datetime | None = None, follow_up: bool = True
) -> tuple[list[Entry], bool]:
    """The newest `limit` entries of the chain's feed, and whether there are more.

    With `since`, only the changes made after that moment (edits on either side of it are
    not merged into one entry). Without `follow_up`, only the map: no actions and events.
    """
    records = _records(chain)
    if not follow_up:
        records["action"] = []
    names = _Names(records, _users_attach(records))
    current = _current_ids(chain)
    entries: list[Entry] = []
    for kind, rows in records.items():
        model = KINDS[kind][0]
        last_of: dict[int, Entry] = {}
        previous: dict[int, object] = {}
        for r in reversed(rows):  # oldest first
            entry = Entry(
                kind=kind,
                action=r.history_type,
                label=names.label(kind, r),
                when=r.history_date,
                who=r.history_user,
                history_pk=r.history_id,
                object_id=r.id,
            )
            before = previous.get(r.id)
            previous[r.id] = r
            if r.history_type == "~" and before is not None:
                entry.changes = _changes(model, before, r, names)
                if not entry.changes:
                    continue  # only bookkeeping changed (a move, a version)
                if kind == "action" and _closes(before, r):
                    entry.action, entry.closed_as = "x", r.status
            last = last_of.get(r.id)
            if (
                last
                and entry.action == "~"
                and last.action in "+~"
                and last.who == entry.who
                and entry.when - last.when <= MERGE_WITHIN
                and (since is None or last.when > since)
            ):
                _merge(last, entry)
                continue
            entries.append(entry)
            last_of[r.id] = entry
        for object_id, entry in last_of.items():
            entry.restorable = (
                kind in RESTORABLE and entry.action == "-" and object_id not in current[kind]
            )
    if follow_up:
        entries += _event_entries(chain)
    if since is not None:
        entries = [entry for entry in entries if entry.when > since]
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit], len(entries) > limit


def _closes(before: SimpleNamespace, after: SimpleNamespace) -> bool:
    return before.status == Action.Status.OPEN and after.status != Action.Status.OPEN


def _event_entries(chain: Chain) -> list[Entry]:
    """The chain's events, newest RECENT: "Customer 4711 Müller (Baustoff Nord) changed
    from growth customer to bell customer"."""
    events = chain.events.select_related("link__actor").order_by("-created_at", "-pk")[:RECENT]
    return [
        Entry(
            kind="event",
            action="e",
            label=_event_text(event),
            when=event.created_at,
            who=None,
            history_pk=event.pk,
            object_id=event.pk,
        )
        for event in events
    ]


def _type_label(code: object) -> str:
    return str(ValueType(code).label) if code in ValueType.values else str(code or "–")


def _event_text(event: ChainEvent) -> str:
    data = event.data or {}
    customer = " ".join(str(part) for part in (data.get("customer"), data.get("name")) if part)
    if event.link_id:
        customer += f" ({event.link.actor.name})"
    text = _("Customer %(customer)s changed from %(old)s to %(new)s") % {
        "customer": customer or "?",
        "old": _type_label(data.get("from")),
        "new": _type_label(data.get("to")),
    }
    if data.get("product"):
        text += " · " + _("product %(product)s") % {"product": data["product"]}
    return text
