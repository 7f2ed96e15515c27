"""Where to act next: the places in a chain where effort pays most for the chain's goal.

`rank` is a pure function (docs/where-to-act.md has the formula and the weights): it
reads the chain and its customers' assessments as plain facts (`ChainFacts`, gathered by
customers.plan in a fixed number of queries), the weights (`Weights`, from
settings.WHERE_TO_ACT_WEIGHTS) and today's date; it asks no database, clock or setting
and draws no random numbers, so the same facts give the same list. Only the words of
the reasons follow the active language.

Every score is `sum of parts × product of factors`:

- a part is the kind's points × the goal's factor for the kind × how strongly it
  applies (1 for nobody known, less for a known person without direct contact, ...);
- the factors are the actor's importance (importance / 5, unrated counts as 3), the
  goal's factor for downstream actors and influencers, the value factor
  1 + Σ weight × share (the value parts below), and for a target that already has an open
  action the `action_open` share.

The value parts are shares of the chain's linked customers' value, per value basis
(margin and revenue are never added; the larger weighted share counts): the future value
of the actor's (or customer's) customers, the future value of its growth customers, the
current value of its bell and shrinking customers (value at risk), and its burr
customers' share of the chain's linked customers by count.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy

from chain.models import CUSTOMER_STAGE_ROLES, Action, Chain, Contact, StageRole
from lib.value_types import ValueType

from .templatetags.money import money, number, percent
from .value_basis import BASES, LABELS

# The entry kinds, in the order that breaks a tie of scores.
WHITE_SPOT, CRITIC, CONTACT, INFLUENCE, TYPE_CHANGE = (
    "white_spot",
    "critic",
    "contact",
    "influence",
    "type_change",
)
KINDS = (TYPE_CHANGE, WHITE_SPOT, CRITIC, INFLUENCE, CONTACT)
KIND_LABELS = {
    WHITE_SPOT: gettext_lazy("White spot"),
    CRITIC: pgettext_lazy("where to act", "Critic among the decision makers"),
    CONTACT: pgettext_lazy("where to act", "Relationship"),
    INFLUENCE: pgettext_lazy("where to act", "Way in through an influence"),
    TYPE_CHANGE: pgettext_lazy("where to act", "Value type changed"),
}
# The parts a score is made of: each has its points in the weights.
PART_LABELS = {
    "white_spot": pgettext_lazy("where to act", "white spot"),
    "critic": pgettext_lazy("where to act", "critic"),
    "relationship": pgettext_lazy("where to act", "relationship"),
    "stale_contact": pgettext_lazy("where to act", "last contact"),
    "influence": pgettext_lazy("where to act", "strong influence"),
    "type_change": pgettext_lazy("where to act", "type change"),
}
PARTS = tuple(PART_LABELS)
VALUE_PARTS = ("future_value", "growth", "at_risk", "burr")
GOAL_KEYS = (*PARTS, *VALUE_PARTS, *BASES, "downstream")
# Roles whose actors the innovation goal looks at first (the goal's "downstream" factor).
DOWNSTREAM_ROLES = (StageRole.CUSTOMERS_CUSTOMER, StageRole.DOWNSTREAM, StageRole.INFLUENCER)
AT_RISK_TYPES = (ValueType.BELL, ValueType.SHRINKING)
# How strongly a type change applies, by (from, to); other changes that count get 0.8
# (to bell or shrinking, to burr) or 0.5 (away from growth to anything else).
CHANGE_SEVERITY = {
    (ValueType.GROWTH, ValueType.BELL): 1.0,
    (ValueType.GROWTH, ValueType.SHRINKING): 1.0,
}
STRONG = 3  # Influence.Strength.STRONG
RELATION_STEPS = [value for value, _label in Contact.Relation.choices]
UNRATED_IMPORTANCE = 3


def type_change_counts(old: str, new: str) -> bool:
    """Whether a change of a customer's value type is worth acting on: to bell, shrinking
    or burr, or away from growth (docs/where-to-act.md, "Type changes")."""
    if not old or old == new:
        return False
    return new in (ValueType.BELL, ValueType.SHRINKING, ValueType.BURR) or old == ValueType.GROWTH


def change_severity(old: str, new: str) -> float:
    if (old, new) in CHANGE_SEVERITY:
        return CHANGE_SEVERITY[(old, new)]
    if new in (ValueType.BELL, ValueType.SHRINKING, ValueType.BURR):
        return 0.8
    return 0.5


# --- the facts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A contact person of a member, as far as the ranking reads it."""

    pk: int
    name: str
    role: str = ""
    buying_role: str = ""
    attitude: str = Contact.Attitude.UNKNOWN
    level: str = Contact.Level.NONE
    relation_now: str = Contact.Relation.NONE
    relation_goal: str = ""
    last_contact: date | None = None


@dataclass(frozen=True)
class Member:
    """A chain member (ChainLink): its actor, its stage's role and its people."""

    pk: int
    actor_id: int
    name: str
    stage_role: str
    importance: int | None = None
    is_own: bool = False
    people: tuple[Person, ...] = ()

    @property
    def has_direct_contact(self) -> bool:
        direct = (Contact.Level.REGULAR, Contact.Level.OCCASIONAL)
        return any(person.level in direct for person in self.people)

    @property
    def knows_somebody(self) -> bool:
        return any(person.name for person in self.people)


@dataclass(frozen=True)
class InfluenceFact:
    source: int  # member pk
    target: int
    strength: int


@dataclass(frozen=True)
class CustomerFact:
    """A customer linked to one of the chain's actors, in the latest analysis."""

    number: str
    name: str
    actor_id: int
    value_type: str
    current: float
    future: float
    basis: str  # value_basis.MARGIN or REVENUE
    previous_type: str = ""  # in the analysis before; "" if there was none
    cost_review: bool = False


@dataclass(frozen=True)
class TypeChange:
    """A recorded type change of a linked customer (chain.models.ChainEvent)."""

    link: int | None
    customer: str
    name: str
    old: str
    new: str
    product: str
    on: date


@dataclass(frozen=True)
class OpenAction:
    link: int | None = None
    contact: int | None = None
    customer: str = ""


@dataclass(frozen=True)
class ChainFacts:
    goal: str
    members: tuple[Member, ...] = ()
    influences: tuple[InfluenceFact, ...] = ()
    customers: tuple[CustomerFact, ...] = ()
    changes: tuple[TypeChange, ...] = ()
    actions: tuple[OpenAction, ...] = ()
    analysed_on: date | None = None  # the day of the latest analysis (its type changes)


# --- the weights ---------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    white_spot: float
    critic: float
    relationship: float
    stale_contact: float
    influence: float
    type_change: float
    no_direct_contact: float
    action_open: float
    stale_after_days: int
    stale_full_days: int
    goals: dict[str, dict[str, float]]

    @classmethod
    def from_mapping(cls, mapping: Mapping) -> "Weights":
        """The weights of settings.WHERE_TO_ACT_WEIGHTS; a missing or unknown key stops
        with an error that names it, so that a typo never silently changes the list."""
        names = {f.name for f in fields(cls)}
        _check_keys("WHERE_TO_ACT_WEIGHTS", set(mapping), names)
        goals = mapping["goals"]
        _check_keys("WHERE_TO_ACT_WEIGHTS['goals']", set(goals), set(Chain.Goal.values))
        for goal, weights in goals.items():
            _check_keys(f"WHERE_TO_ACT_WEIGHTS['goals'][{goal!r}]", set(weights), set(GOAL_KEYS))
        values = {name: mapping[name] for name in names if name != "goals"}
        return cls(
            **{k: float(v) if "days" not in k else int(v) for k, v in values.items()},
            goals={g: {k: float(v) for k, v in w.items()} for g, w in goals.items()},
        )

    def points(self, part: str) -> float:
        return getattr(self, part)


def _check_keys(where: str, given: set[str], wanted: set[str]) -> None:
    missing, unknown = sorted(wanted - given), sorted(given - wanted)
    if missing or unknown:
        raise ImproperlyConfigured(f"{where}: missing {missing}, unknown {unknown}")


# --- the result ----------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One place to act, with the reasons in words and how its score is made."""

    kind: str
    score: float
    about: str  # the actor, contact person or customer, by name
    actor: str  # the actor it belongs to
    reasons: tuple[str, ...]
    parts: tuple[tuple[str, float], ...]  # (what, points) summed
    factors: tuple[tuple[str, float], ...]  # (what, factor) multiplied
    action_title: str
    source: str  # Action.Source: where_to_act or type_change, as text
    link: int | None = None
    contact: int | None = None
    customer: str = ""
    action_open: bool = False
    order: tuple = field(default=(), compare=False, repr=False)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def formula(self) -> str:
        """How the score is made, with the figures: "(30 critic + 8 relationship) × 0.6
        (importance 3 of 5) × 2.5 (value) = 57"."""
        parts = " + ".join(f"{number(points, 1)} {what}" for what, points in self.parts)
        if len(self.parts) > 1:
            parts = f"({parts})"
        factors = "".join(f" × {number(factor, 2)} ({what})" for what, factor in self.factors)
        return f"{parts}{factors} = {number(self.score, 1)}"

    @property
    def action_params(self) -> dict[str, str]:
        """The query of the prefilled action form (chain:action-new): one target only."""
        params = {"source": self.source, "title": self.action_title}
        if self.customer:
            params["customer"] = self.customer
        elif self.contact is not None:
            params["contact"] = str(self.contact)
        elif self.link is not None:
            params["link"] = str(self.link)
        return params


# --- the ranking ---------------------------------------------------------------------


@dataclass
class _Value:
    """Per basis sums of some customers: future, growth future, current at risk; and how
    many of them are burrs."""

    future: dict[str, float] = field(default_factory=dict)
    growth: dict[str, float] = field(default_factory=dict)
    at_risk: dict[str, float] = field(default_factory=dict)
    burrs: int = 0
    customers: int = 0

    def add(self, customer: CustomerFact, *, growth: bool | None = None) -> None:
        basis = customer.basis
        future, current = max(customer.future, 0.0), max(customer.current, 0.0)
        self.future[basis] = self.future.get(basis, 0.0) + future
        if (customer.value_type == ValueType.GROWTH) if growth is None else growth:
            self.growth[basis] = self.growth.get(basis, 0.0) + future
        if customer.value_type in AT_RISK_TYPES:
            self.at_risk[basis] = self.at_risk.get(basis, 0.0) + current
        self.burrs += customer.value_type == ValueType.BURR or customer.cost_review
        self.customers += 1


@dataclass(frozen=True)
class _Totals:
    """The chain's linked customers, per basis: the denominators of the shares."""

    future: dict[str, float]
    current: dict[str, float]
    customers: int


def _share(
    part: dict[str, float], total: dict[str, float], basis_weight: dict[str, float]
) -> tuple[float, str]:
    """The largest weighted share over the bases, with its basis."""
    best, best_basis = 0.0, ""
    for basis in BASES:
        if total.get(basis, 0.0) > 0 and part.get(basis, 0.0) > 0:
            share = basis_weight[basis] * part[basis] / total[basis]
            if share > best:
                best, best_basis = share, basis
    return best, best_basis


class _Ranker:
    def __init__(self, facts: ChainFacts, weights: Weights, today: date, recent_days: int):
        self.facts, self.weights, self.today, self.recent_days = facts, weights, today, recent_days
        self.goal = weights.goals.get(facts.goal) or weights.goals[Chain.Goal.GROWTH]
        self.members = {m.pk: m for m in facts.members}
        self.by_actor = {m.actor_id: m for m in facts.members}
        self.position = {m.pk: i for i, m in enumerate(facts.members)}
        self.values: dict[int, _Value] = {}
        future: dict[str, float] = {}
        current: dict[str, float] = {}
        for customer in facts.customers:
            self.values.setdefault(customer.actor_id, _Value()).add(customer)
            future[customer.basis] = future.get(customer.basis, 0.0) + max(customer.future, 0)
            current[customer.basis] = current.get(customer.basis, 0.0) + max(customer.current, 0)
        self.totals = _Totals(future, current, len(facts.customers))
        self.open_links = {a.link for a in facts.actions if a.link is not None}
        self.open_contacts = {a.contact for a in facts.actions if a.contact is not None}
        self.open_customers = {a.customer for a in facts.actions if a.customer}

    # The common factors ----------------------------------------------------------------

    def _importance(self, *members: Member) -> tuple[str, float]:
        level = max(m.importance or UNRATED_IMPORTANCE for m in members)
        return _("importance %(n)s of 5") % {"n": level}, level / 5

    def _value_factor(self, value: _Value | None, *, one: bool) -> tuple[float, list[str]]:
        """1 + Σ goal weight × share, and the reasons with the figures behind the shares
        (`one`: the value of one customer, whose figures the entry names already)."""
        if value is None or not value.customers:
            return 1.0, []
        goal, totals = self.goal, self.totals
        basis_weight = {basis: goal[basis] for basis in BASES}
        reasons = []
        factor = 1.0
        share, basis = _share(value.future, totals.future, basis_weight)
        if share:
            factor += goal["future_value"] * share
            shown = _percent(share / basis_weight[basis])
            reasons.append(
                _("That is %(share)s of the chain's linked future value.") % {"share": shown}
                if one
                else ngettext(
                    "%(n)s linked customer, future value %(value)s (%(basis)s): %(share)s of "
                    "the chain's linked future value.",
                    "%(n)s linked customers, future value %(value)s (%(basis)s): %(share)s of "
                    "the chain's linked future value.",
                    value.customers,
                )
                % {
                    "n": value.customers,
                    "value": money(value.future[basis], 0),
                    "basis": _basis(basis),
                    "share": shown,
                }
            )
        share, basis = _share(value.growth, totals.future, basis_weight)
        if share:
            factor += goal["growth"] * share
        if share and not one:
            reasons.append(
                _("From growth customers: %(value)s (%(basis)s).")
                % {"value": money(value.growth[basis], 0), "basis": _basis(basis)}
            )
        share, basis = _share(value.at_risk, totals.current, basis_weight)
        if share:
            factor += goal["at_risk"] * share
        if share and not one:
            reasons.append(
                _("Value at risk: %(value)s (%(basis)s) now with bell and shrinking customers.")
                % {"value": money(value.at_risk[basis], 0), "basis": _basis(basis)}
            )
        if value.burrs and totals.customers:
            factor += goal["burr"] * value.burrs / totals.customers
        if value.burrs and not one:
            reasons.append(
                ngettext(
                    "%(n)s burr customer: check what it costs to serve.",
                    "%(n)s burr customers: check what they cost to serve.",
                    value.burrs,
                )
                % {"n": value.burrs}
            )
        return factor, reasons

    def _entry(
        self,
        kind: str,
        *,
        members: tuple[Member, ...],
        parts: list[tuple[str, float]],
        value: _Value | None,
        reasons: list[str],
        about: str,
        action_title: str,
        source: str = Action.Source.WHERE_TO_ACT,
        contact: int | None = None,
        customer: str = "",
        order: tuple = (),
    ) -> Entry:
        member = members[0]
        label_, importance = self._importance(*members)
        factors = [(label_, importance)]
        if member.stage_role in DOWNSTREAM_ROLES and self.goal["downstream"] != 1:
            factors.append((_("downstream or influencer, for this goal"), self.goal["downstream"]))
        value_factor, value_reasons = self._value_factor(value, one=bool(customer))
        if contact is not None:
            value_reasons = value_reasons[:1]  # the actor's value once; its card has the rest
        if value_factor != 1:
            factors.append((pgettext("where to act", "value"), value_factor))
        is_open = (
            customer in self.open_customers
            if customer
            else contact in self.open_contacts
            if contact is not None
            else member.pk in self.open_links
        )
        if is_open:
            factors.append(
                (pgettext("where to act", "an action is open"), self.weights.action_open)
            )
        score = sum(points for _what, points in parts) * math.prod(f for _w, f in factors)
        return Entry(
            kind=kind,
            score=score,
            about=about,
            actor=member.name,
            reasons=(*reasons, *value_reasons),
            parts=tuple(parts),
            factors=tuple(factors),
            action_title=action_title[:200],
            source=str(source),
            link=member.pk,
            contact=contact,
            customer=customer,
            action_open=is_open,
            order=(KINDS.index(kind), self.position[member.pk], *order),
        )

    def _part(self, part: str, strength: float) -> tuple[str, float]:
        return str(PART_LABELS[part]), self.weights.points(part) * self.goal[part] * strength

    # The kinds -------------------------------------------------------------------------

    def white_spots(self) -> list[Entry]:
        entries = []
        for member in self.facts.members:
            if member.is_own or member.stage_role not in CUSTOMER_STAGE_ROLES:
                continue
            if member.has_direct_contact:
                continue
            if member.knows_somebody:
                strength, reason = (
                    self.weights.no_direct_contact,
                    _(
                        "A person is known at this customer-tier actor, but nobody has direct "
                        "contact."
                    ),
                )
            else:
                strength, reason = 1.0, _("Nobody known at this customer-tier actor.")
            entries.append(
                self._entry(
                    WHITE_SPOT,
                    members=(member,),
                    parts=[self._part("white_spot", strength)],
                    value=self.values.get(member.actor_id),
                    reasons=[reason],
                    about=member.name,
                    action_title=_("Get to know the decision makers at %(actor)s")
                    % {"actor": member.name},
                )
            )
        return entries

    def people(self) -> list[Entry]:
        """One entry per contact person: a critic decision maker, a relationship far from
        its aim, a contact long ago; the parts of one person add up."""
        entries = []
        for member in self.facts.members:
            if member.is_own:
                continue
            for person in member.people:
                entry = self._person(member, person)
                if entry is not None:
                    entries.append(entry)
        return entries

    def _person(self, member: Member, person: Person) -> Entry | None:
        if not person.name:
            return None  # a placeholder: the actor's white spot
        parts, reasons = [], []
        critic = (
            person.buying_role == Contact.BuyingRole.DECISION_MAKER
            and person.attitude == Contact.Attitude.CRITIC
        )
        if critic:
            parts.append(self._part("critic", 1.0))
            reasons.append(
                _("%(name)s decides on purchases and is a critic.") % {"name": person.name}
            )
        steps = _relation_steps(person)
        if steps > 0:
            parts.append(self._part("relationship", steps / 4))
            relations = dict(Contact.Relation.choices)
            reasons.append(
                ngettext(
                    "Relationship now: %(now)s; aim: %(aim)s (%(n)s step to go).",
                    "Relationship now: %(now)s; aim: %(aim)s (%(n)s steps to go).",
                    steps,
                )
                % {
                    "now": relations[person.relation_now],
                    "aim": relations[person.relation_goal],
                    "n": steps,
                }
            )
        days = (self.today - person.last_contact).days if person.last_contact else None
        if days is not None and days >= self.weights.stale_after_days:
            strength = min(1.0, days / max(self.weights.stale_full_days, 1))
            parts.append(self._part("stale_contact", strength))
            reasons.append(
                ngettext("Last contact %(n)s day ago.", "Last contact %(n)s days ago.", days)
                % {"n": number(days)}
            )
        if not parts:
            return None
        if critic:
            title = _("Win over %(name)s (%(actor)s)")
        elif days is not None and days >= self.weights.stale_after_days:
            title = _("Get in touch with %(name)s (%(actor)s) again")
        else:
            title = _("Develop the relationship with %(name)s (%(actor)s)")
        return self._entry(
            CRITIC if critic else CONTACT,
            members=(member,),
            parts=parts,
            value=self.values.get(member.actor_id),
            reasons=reasons,
            about=person.name,
            action_title=title % {"name": person.name, "actor": member.name},
            contact=person.pk,
            order=(person.pk,),
        )

    def influences(self) -> list[Entry]:
        """A downstream actor or influencer that strongly influences a customer-tier actor
        with linked value where we have no direct contact: the way in."""
        entries = []
        for influence in self.facts.influences:
            source = self.members.get(influence.source)
            target = self.members.get(influence.target)
            if source is None or target is None or influence.strength < STRONG:
                continue
            if source.is_own or source.stage_role not in DOWNSTREAM_ROLES:
                continue
            if target.stage_role not in CUSTOMER_STAGE_ROLES or target.has_direct_contact:
                continue
            value = self.values.get(target.actor_id)
            if value is None or not any(v > 0 for v in value.future.values()):
                continue
            entries.append(
                self._entry(
                    INFLUENCE,
                    members=(source, target),
                    parts=[self._part("influence", 1.0)],
                    value=value,
                    reasons=[
                        _(
                            "%(source)s strongly influences %(target)s, where we have no "
                            "direct contact."
                        )
                        % {"source": source.name, "target": target.name}
                    ],
                    about=source.name,
                    action_title=_("Reach %(target)s through %(source)s")
                    % {"target": target.name, "source": source.name},
                    order=(self.position[target.pk],),
                )
            )
        return entries

    def type_changes(self) -> list[Entry]:
        """Recent changes of linked customers' types: recorded ones (chain events) and
        those between the latest two analyses, each customer and product once."""
        changes: dict[tuple[str, str], TypeChange] = {}
        for change in sorted(self.facts.changes, key=lambda c: (c.on, c.customer, c.product)):
            changes[(change.customer, change.product)] = change  # the latest wins
        if self.facts.analysed_on is not None:
            for customer in self.facts.customers:
                member = self.by_actor.get(customer.actor_id)
                key = (customer.number, "")
                if (
                    member
                    and key not in changes
                    and type_change_counts(customer.previous_type, customer.value_type)
                ):
                    changes[key] = TypeChange(
                        member.pk,
                        customer.number,
                        customer.name,
                        customer.previous_type,
                        customer.value_type,
                        "",
                        self.facts.analysed_on,
                    )
        customers = {c.number: c for c in self.facts.customers}
        entries = []
        for change in changes.values():
            entry = self._type_change(change, customers.get(change.customer))
            if entry is not None:
                entries.append(entry)
        return entries

    def _type_change(self, change: TypeChange, customer: CustomerFact | None) -> Entry | None:
        member = self.members.get(change.link) if change.link is not None else None
        if member is None and customer is not None:
            member = self.by_actor.get(customer.actor_id)
        age = (self.today - change.on).days
        # A customer whose type over all products has moved on since (recovered, say) is
        # judged by its latest type, not by the old news.
        moved_on = customer is not None and not change.product and customer.value_type != change.new
        if (
            member is None
            or moved_on
            or age > self.recent_days
            or not type_change_counts(change.old, change.new)
        ):
            return None
        recency = 1 - 0.5 * max(age, 0) / max(self.recent_days, 1)
        types = dict(ValueType.choices)
        name = change.name or change.customer
        reason = _("%(customer)s changed from %(old)s to %(new)s.") % {
            "customer": name,
            "old": types.get(change.old, change.old),
            "new": types.get(change.new, change.new),
        }
        if change.product:
            reason += " " + _("Product: %(product)s.") % {"product": change.product}
        reasons = [reason]
        if age:
            reasons.append(
                ngettext("Noticed %(n)s day ago.", "Noticed %(n)s days ago.", age) % {"n": age}
            )
        value = None
        if customer is not None:
            value = _Value()
            value.add(customer, growth=ValueType.GROWTH in (change.old, change.new))
            reasons.append(
                _("Current value %(current)s, future value %(future)s (%(basis)s).")
                % {
                    "current": money(customer.current, 0),
                    "future": money(customer.future, 0),
                    "basis": _basis(customer.basis),
                }
            )
        strength = change_severity(change.old, change.new) * recency
        return self._entry(
            TYPE_CHANGE,
            members=(member,),
            parts=[self._part("type_change", strength)],
            value=value,
            reasons=reasons,
            about=name,
            action_title=_("Find out why %(customer)s is now a %(new)s")
            % {"customer": name, "new": types.get(change.new, change.new)},
            source=Action.Source.TYPE_CHANGE,
            customer=change.customer,
            order=(change.customer, change.product),
        )


def _relation_steps(person: Person) -> int:
    if not person.relation_goal or person.relation_goal not in RELATION_STEPS:
        return 0
    now = person.relation_now if person.relation_now in RELATION_STEPS else RELATION_STEPS[0]
    return RELATION_STEPS.index(person.relation_goal) - RELATION_STEPS.index(now)


def _basis(basis: str) -> str:
    return str(LABELS.get(basis, basis))


def _percent(share: float) -> str:
    return percent(100 * share, 0)


def rank(facts: ChainFacts, *, weights: Weights, today: date, recent_days: int) -> list[Entry]:
    """The places to act in the chain, best first (see the module's docstring).

    Ties are broken by kind (KINDS), the member's place in the chain, then the contact or
    customer: never by chance. A type change older than `recent_days` does not count.
    """
    ranker = _Ranker(facts, weights, today, recent_days)
    entries = [
        *ranker.white_spots(),
        *ranker.people(),
        *ranker.influences(),
        *ranker.type_changes(),
    ]
    return sorted(entries, key=lambda e: (-round(e.score, 9), e.order))
