"""Dated snapshots of a chain: what is frozen, and how a snapshot compares with another.

`snapshot_data` turns the chain page's data into plain JSON; `snapshot_compare` is a pure
function of two such dicts (no ORM), so a snapshot keeps comparing the same way however
the chain's tables change later. Labels of the codes are looked up lazily at render time.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Action, Chain, ChainLink, Coverage, Influence
from .selectors import ChainBoard

# Bump when the layout of `snapshot_data` changes; `snapshot_compare` reads older formats
# with defaults for keys they lack. 2: stages have their role, and the actions are frozen.
FORMAT = 2

# What a member change may consist of, in the order the compare page lists them.
MEMBER_FIELDS = ("stage", "importance", "relationship", "coverage", "contacts")
INFLUENCE_FIELDS = ("strength", "description")
ACTION_FIELDS = ("title", "owner", "due", "status")

LIGHTS = {"green": _("green"), "amber": _("amber"), "red": _("red")}


def snapshot_data(board: ChainBoard) -> dict[str, Any]:
    """The state of the chain worth comparing later, JSON-serialisable.

    Layout (format 2): `members` is keyed by actor id as a string (JSON object keys are
    strings, so the dict equals its own round trip through the database), each with its
    place in chain order; `influences` name their ends by actor id; `actions` are keyed by
    their id as a string, the owner by id and by name (the name as it was then).
    """
    chain = board.chain
    stages: list[dict[str, Any]] = []
    members: dict[str, dict[str, Any]] = {}
    for column in board.columns:
        stage = column.stage
        stages.append(
            {
                "id": stage.pk,
                "name": stage.name,
                "position": stage.position,
                "own": stage.is_own,
                "role": stage.role,
            }
        )
        for link in column.members:
            members[str(link.actor_id)] = _member_data(link, order=len(members))
    completeness = board.completeness
    return {
        "format": FORMAT,
        "chain": {"id": chain.pk, "scope_name": chain.scope_name},
        "status": chain.status,
        "version": chain.version,
        "completeness": {
            "percent": completeness.percent,
            "questions_answered": completeness.questions_answered,
            "questions_total": completeness.questions_total,
            "characterised": completeness.characterised,
            "known": completeness.known,
            "direct": completeness.direct,
            "actors": completeness.actors,
        },
        "light": board.light,
        "white_spots": len(board.white_spots),
        "stages": stages,
        "members": members,
        "influences": [
            {
                "source": str(influence.source.actor_id),
                "target": str(influence.target.actor_id),
                "strength": influence.strength,
                "description": influence.description,
            }
            for influence in board.influences
        ],
        "actions": _actions_data(chain),
    }


def _actions_data(chain: Chain) -> dict[str, dict[str, Any]]:
    actions = chain.actions.select_related("owner")
    return {
        str(action.pk): {
            "title": action.title,
            "owner_id": action.owner_id,
            "owner": (action.owner.get_full_name() or action.owner.get_username())
            if action.owner
            else "",
            "due": action.due.isoformat() if action.due else None,
            "status": action.status,
        }
        for action in actions
    }


def _member_data(link: ChainLink, *, order: int) -> dict[str, Any]:
    contacts = link.contact_list
    return {
        "name": link.actor.name,
        "own_company": link.actor.is_own_company,
        "order": order,
        "stage_id": link.stage_id,
        "stage": link.stage.name,
        "importance": link.importance,
        "relationship": link.relationship,
        "coverage": Coverage(link.coverage).value,
        "contacts": len(contacts),
        "named_contacts": sum(1 for contact in contacts if contact.name),
        "characterised": link.is_characterised,
        # Set by `chain_board`: the linked customers' value types, most common first.
        "value_types": [[value_type, n] for value_type, n in getattr(link, "value_types", [])],
    }


def suggested_label(today: date, taken: Collection[str]) -> str:
    """“Review 2027-Q1” for the current quarter, or with the day if that label is taken."""
    quarter = (today.month - 1) // 3 + 1
    label = gettext("Review %(year)s-Q%(quarter)s") % {"year": today.year, "quarter": quarter}
    if label in taken:
        label = gettext("Review %(date)s") % {"date": today.isoformat()}
    return label


# Comparison -------------------------------------------------------------------------------


def importance_dots(importance: int | None) -> str:
    filled = importance or 0
    return "●" * filled + "○" * (5 - filled)


def _choice_label(choices: type, value: object) -> str | Promise:
    """The translated label of a code; an unknown code (a choice removed later) as it is."""
    if value in ("", None):
        return "–"
    try:
        return choices(value).label
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class Member:
    """One actor of the chain as a snapshot recorded it."""

    actor_id: str
    name: str
    order: int
    stage_id: int | None
    stage: str
    importance: int | None
    relationship: str
    coverage: str
    contacts: int

    @classmethod
    def from_data(cls, actor_id: str, data: dict[str, Any]) -> "Member":
        return cls(
            actor_id=actor_id,
            name=data.get("name", ""),
            order=data.get("order", 0),
            stage_id=data.get("stage_id"),
            stage=data.get("stage", ""),
            importance=data.get("importance"),
            relationship=data.get("relationship", ""),
            coverage=data.get("coverage", Coverage.NOBODY.value),
            contacts=data.get("contacts", 0),
        )

    @property
    def importance_dots(self) -> str:
        return importance_dots(self.importance)

    @property
    def coverage_label(self) -> str | Promise:
        return _choice_label(Coverage, self.coverage)

    @property
    def relationship_label(self) -> str | Promise:
        return _choice_label(ChainLink.Relationship, self.relationship)

    def differences(self, new: "Member") -> tuple[str, ...]:
        """The fields of MEMBER_FIELDS that differ in `new`.

        A stage counts as moved when its id differs: renaming a stage moves nobody. Data
        without stage ids compares the names.
        """
        changed = []
        for name in MEMBER_FIELDS:
            if name == "stage" and self.stage_id is not None and new.stage_id is not None:
                differs = self.stage_id != new.stage_id
            else:
                differs = getattr(self, name) != getattr(new, name)
            if differs:
                changed.append(name)
        return tuple(changed)


Entry = TypeVar("Entry")


@dataclass(frozen=True)
class Change(Generic[Entry]):
    """A member, influence or action in both the snapshot and now: the fields that differ."""

    old: Entry
    new: Entry
    fields: tuple[str, ...]


@dataclass(frozen=True)
class InfluenceEntry:
    source: str
    target: str
    source_name: str
    target_name: str
    strength: int
    description: str

    @property
    def strength_label(self) -> str | Promise:
        return _choice_label(Influence.Strength, self.strength)


@dataclass(frozen=True)
class ActionEntry:
    """One action as a snapshot recorded it."""

    key: str
    title: str
    owner_id: int | None
    owner: str
    due: date | None
    status: str

    @classmethod
    def from_data(cls, key: str, data: dict[str, Any]) -> "ActionEntry":
        due = data.get("due")
        return cls(
            key=key,
            title=data.get("title", ""),
            owner_id=data.get("owner_id"),
            owner=data.get("owner", ""),
            due=date.fromisoformat(due) if due else None,
            status=data.get("status", Action.Status.OPEN.value),
        )

    @property
    def is_open(self) -> bool:
        return self.status == Action.Status.OPEN

    @property
    def status_label(self) -> str | Promise:
        return _choice_label(Action.Status, self.status)

    def differences(self, new: "ActionEntry") -> tuple[str, ...]:
        """The fields of ACTION_FIELDS that differ in `new`; the owner by id where known."""
        changed = []
        for name in ACTION_FIELDS:
            if name == "owner" and self.owner_id is not None and new.owner_id is not None:
                differs = self.owner_id != new.owner_id
            elif name == "owner":
                differs = (self.owner_id, self.owner) != (new.owner_id, new.owner)
            else:
                differs = getattr(self, name) != getattr(new, name)
            if differs:
                changed.append(name)
        return tuple(changed)


@dataclass(frozen=True)
class Figure:
    """A summary figure at the snapshot and now, with its label where it is a code."""

    old: Any
    new: Any
    old_label: str | Promise = ""
    new_label: str | Promise = ""

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def difference(self) -> int | None:
        """New minus old for counts and percentages, None for codes."""
        if isinstance(self.old, int) and isinstance(self.new, int):
            return self.new - self.old
        return None


@dataclass(frozen=True)
class Comparison:
    completeness: Figure
    light: Figure
    white_spots: Figure
    actors: Figure
    influences: Figure
    status: Figure
    added: tuple[Member, ...] = ()
    removed: tuple[Member, ...] = ()
    changed: tuple[Change[Member], ...] = ()
    influences_added: tuple[InfluenceEntry, ...] = ()
    influences_removed: tuple[InfluenceEntry, ...] = ()
    influences_changed: tuple[Change[InfluenceEntry], ...] = ()
    # Snapshots before format 2 recorded no actions: then nothing is said about them.
    actions_known: bool = False
    open_actions: Figure = Figure(0, 0)
    actions_added: tuple[ActionEntry, ...] = ()
    actions_closed: tuple[Change[ActionEntry], ...] = ()
    actions_removed: tuple[ActionEntry, ...] = ()
    actions_changed: tuple[Change[ActionEntry], ...] = ()
    figures_changed: bool = field(init=False)

    def __post_init__(self) -> None:
        figures = (self.completeness, self.light, self.white_spots, self.status)
        object.__setattr__(self, "figures_changed", any(f.changed for f in figures))

    @property
    def has_changes(self) -> bool:
        """Actors or influences differ (the summary figures may change without them)."""
        return bool(
            self.added
            or self.removed
            or self.changed
            or self.influences_added
            or self.influences_removed
            or self.influences_changed
        )

    @property
    def has_action_changes(self) -> bool:
        return bool(
            self.actions_added
            or self.actions_closed
            or self.actions_removed
            or self.actions_changed
        )


def snapshot_compare(old: dict[str, Any], new: dict[str, Any]) -> Comparison:
    """What changed from the `old` snapshot data to the `new` (both from `snapshot_data`)."""
    old_members = _members(old)
    new_members = _members(new)
    added = [m for key, m in new_members.items() if key not in old_members]
    removed = [m for key, m in old_members.items() if key not in new_members]
    changed = []
    for key, member in new_members.items():
        if key in old_members:
            fields = old_members[key].differences(member)
            if fields:
                changed.append(Change(old_members[key], member, fields))
    old_influences = _influences(old, old_members)
    new_influences = _influences(new, new_members)
    influences_changed = []
    for key, entry in new_influences.items():
        if key in old_influences:
            before = old_influences[key]
            fields = tuple(f for f in INFLUENCE_FIELDS if getattr(before, f) != getattr(entry, f))
            if fields:
                influences_changed.append(Change(before, entry, fields))
    return Comparison(
        completeness=Figure(_percent(old), _percent(new)),
        light=_coded(old.get("light", ""), new.get("light", ""), LIGHTS.get),
        white_spots=Figure(old.get("white_spots", 0), new.get("white_spots", 0)),
        actors=Figure(len(old_members), len(new_members)),
        influences=Figure(len(old_influences), len(new_influences)),
        status=_coded(
            old.get("status", ""),
            new.get("status", ""),
            lambda code: _choice_label(Chain.Status, code),
        ),
        added=tuple(sorted(added, key=_in_order)),
        removed=tuple(sorted(removed, key=_in_order)),
        changed=tuple(sorted(changed, key=lambda c: _in_order(c.new))),
        influences_added=tuple(e for k, e in new_influences.items() if k not in old_influences),
        influences_removed=tuple(e for k, e in old_influences.items() if k not in new_influences),
        influences_changed=tuple(influences_changed),
        **_compare_actions(old, new),
    )


def _compare_actions(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Added, closed (open then, done or dropped now), removed and otherwise changed
    actions, for the Comparison's fields; nothing for a snapshot without actions."""
    if "actions" not in old:
        return {}
    before, after = _actions(old), _actions(new)
    closed, changed = [], []
    for key, entry in after.items():
        if key not in before:
            continue
        fields = before[key].differences(entry)
        if before[key].is_open and not entry.is_open:
            closed.append(Change(before[key], entry, fields))
        elif fields:
            changed.append(Change(before[key], entry, fields))
    return {
        "actions_known": True,
        "open_actions": Figure(
            sum(e.is_open for e in before.values()), sum(e.is_open for e in after.values())
        ),
        "actions_added": tuple(
            sorted((e for k, e in after.items() if k not in before), key=_by_due)
        ),
        "actions_closed": tuple(closed),
        "actions_removed": tuple(e for k, e in before.items() if k not in after),
        "actions_changed": tuple(sorted(changed, key=lambda c: _by_due(c.new))),
    }


def _actions(data: dict[str, Any]) -> dict[str, ActionEntry]:
    return {
        str(key): ActionEntry.from_data(str(key), value)
        for key, value in data.get("actions", {}).items()
    }


def _by_due(entry: ActionEntry) -> tuple[date, int]:
    return (entry.due or date.max, int(entry.key) if entry.key.isdigit() else 0)


def _members(data: dict[str, Any]) -> dict[str, Member]:
    return {
        str(key): Member.from_data(str(key), value)
        for key, value in data.get("members", {}).items()
    }


def _influences(
    data: dict[str, Any], members: dict[str, Member]
) -> dict[tuple[str, str], InfluenceEntry]:
    """Keyed by (source, target) actor ids: a chain has one influence per direction."""
    entries = {}
    for item in data.get("influences", []):
        source, target = str(item["source"]), str(item["target"])
        entries[(source, target)] = InfluenceEntry(
            source=source,
            target=target,
            source_name=members[source].name if source in members else "?",
            target_name=members[target].name if target in members else "?",
            strength=item.get("strength", Influence.Strength.MEDIUM.value),
            description=item.get("description", ""),
        )
    return entries


def _percent(data: dict[str, Any]) -> int:
    return data.get("completeness", {}).get("percent", 0)


def _coded(old: str, new: str, label: Any) -> Figure:
    return Figure(old, new, label(old) or old, label(new) or new)


def _in_order(member: Member) -> tuple[int, str]:
    return (member.order, member.name)
