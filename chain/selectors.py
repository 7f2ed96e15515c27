"""Reads: querysets scoped to what a user may see, and the chain page's data in one go."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    Field,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, npgettext, pgettext_lazy

from lib.palette import TYPE_COLOURS
from lib.value_types import ValueType

from .activity import Entry, activity_list
from .decorations import ChainDecoration, chain_decoration, value_type_counts
from .models import (
    CHAIN_QUESTIONS,
    CORE_STAGE_ROLES,
    CUSTOMER_STAGE_ROLES,
    Action,
    Actor,
    Chain,
    ChainEvent,
    ChainLink,
    Contact,
    Coverage,
    Influence,
    ReviewComment,
    Stage,
    StageRole,
    SuccessFactor,
    Team,
    WorksheetAnswer,
)

User = AbstractBaseUser | AnonymousUser


def chain_list_for_user(user: User, *, edit: bool = False) -> QuerySet[Chain]:
    """Every chain access goes through here.

    To see: the chains of the user's teams; managers (`view_all_chains`) see every chain.
    To change: the chains of the user's teams, for users with the sales role's
    `change_chain`. Superusers see and change everything.
    """
    chains = Chain.objects.all()
    if not user.is_authenticated:
        return chains.none()
    if user.is_superuser:
        return chains
    if edit:
        if not user.has_perm("chain.change_chain"):
            return chains.none()
    elif user.has_perm("chain.view_all_chains"):
        return chains
    return chains.filter(team__in=team_ids_for_user(user))


def team_ids_for_user(user: User) -> list[int]:
    """The user's teams, asked once per request (kept on the user object)."""
    if not hasattr(user, "_team_ids"):
        user._team_ids = list(user.teams.values_list("pk", flat=True))
    return user._team_ids


def chain_can_edit(user: User, chain: Chain) -> bool:
    if user.is_superuser:
        return True
    return user.has_perm("chain.change_chain") and chain.team_id in team_ids_for_user(user)


def chain_can_review(user: User, chain: Chain) -> bool:
    return user.has_perm("chain.review_chain")


def actor_catalog_editable_by(actor: Actor, user: User) -> bool:
    """Whether `user` may change the actor's catalog facts (kind, size class).

    They describe the organisation in every chain that uses the actor. Administrators
    (`change_actor`: the administrator role, superusers) may always; anyone else only while
    every chain using the actor belongs to one of their own teams, so that no team changes
    what another team's chain shows.
    """
    if user.has_perm("chain.change_actor"):
        return True
    others = actor.links.exclude(chain__team__in=team_ids_for_user(user))
    return not others.exists()


def catalog_pickable_by(user: User) -> bool:
    """Whether `user` picks from the catalogs on a page: who may change a chain (the forms
    to add and characterise a member list every actor and every success factor)."""
    return chain_list_for_user(user, edit=True).exists()


def actor_list_for_user(user: User) -> QuerySet[Actor]:
    """The catalog actors `user` sees on the pages.

    The whole catalog for who picks from it: who may change a chain (adding a member),
    who links customers to actors (`customers.import_values`, the customer page) and who
    keeps it in /admin/ (`view_actor` with staff status). Anyone else sees the members
    of the chains they may see.
    """
    actors = Actor.objects.all()
    if not user.is_authenticated:
        return actors.none()
    if (
        user.is_superuser
        or user.has_perm("customers.import_values")
        or (user.is_staff and user.has_perm("chain.view_actor"))
        or catalog_pickable_by(user)
    ):
        return actors
    members = ChainLink.objects.filter(chain__in=chain_list_for_user(user).values("pk"))
    return actors.filter(Exists(members.filter(actor_id=OuterRef("pk"))))


def success_factor_list_for_user(user: User) -> QuerySet[SuccessFactor]:
    """The success factors `user` sees on the pages: all for who characterises members
    (may change a chain) or keeps the catalog in /admin/; else those named by members
    of the chains they may see."""
    factors = SuccessFactor.objects.all()
    if not user.is_authenticated:
        return factors.none()
    if (
        user.is_superuser
        or (user.is_staff and user.has_perm("chain.view_successfactor"))
        or catalog_pickable_by(user)
    ):
        return factors
    members = ChainLink.objects.filter(chain__in=chain_list_for_user(user).values("pk"))
    used = members.filter(success_factors=OuterRef("pk"))
    return factors.filter(Exists(used))


def chain_get_for_user(user: User, pk: int, *, edit: bool = False) -> Chain:
    """The chain, or 404 if the user may not see it, or 403 if they may see but not change it."""
    chain = get_object_or_404(chain_list_for_user(user).select_related("team"), pk=pk)
    _check_edit(user, chain, edit)
    return chain


def _check_edit(user: User, chain: Chain, edit: bool) -> None:
    if edit and not chain_can_edit(user, chain):
        raise PermissionDenied(_("Only the chain's team may change it."))


def _for_user(queryset: QuerySet, user: User, pk: int, *, edit: bool, path: str = "chain"):
    """Fetch one chain part by pk: 404 unless its chain is visible, 403 if read-only."""
    visible = chain_list_for_user(user).values("pk")
    obj = get_object_or_404(queryset.filter(**{f"{path}__in": visible}), pk=pk)
    chain = obj
    for step in path.split("__"):
        chain = getattr(chain, step)
    _check_edit(user, chain, edit)
    return obj


def stage_get_for_user(user: User, pk: int, *, edit: bool = False) -> Stage:
    return _for_user(Stage.objects.select_related("chain"), user, pk, edit=edit)


def link_get_for_user(user: User, pk: int, *, edit: bool = False) -> ChainLink:
    links = ChainLink.objects.select_related("chain", "actor__kind", "stage")
    return _for_user(links, user, pk, edit=edit)


def contact_get_for_user(user: User, pk: int, *, edit: bool = False) -> Contact:
    contacts = Contact.objects.select_related("link__chain", "link__actor")
    return _for_user(contacts, user, pk, edit=edit, path="link__chain")


def influence_get_for_user(user: User, pk: int, *, edit: bool = False) -> Influence:
    influences = Influence.objects.select_related("chain", "source__actor", "target__actor")
    return _for_user(influences, user, pk, edit=edit)


def comment_get_for_user(user: User, pk: int) -> ReviewComment:
    comments = ReviewComment.objects.select_related("chain", "parent")
    return _for_user(comments, user, pk, edit=False)


def review_comments(chain: Chain) -> list[ReviewComment]:
    """The chain's comments, newest first, each with its replies (`reply_list`, oldest
    first), in one query."""
    rows = list(
        chain.comments.select_related("author", "link__actor", "resolved_by").order_by(
            "-created_at", "-pk"
        )
    )
    comments = [c for c in rows if c.parent_id is None]
    by_pk = {c.pk: c for c in comments}
    for comment in comments:
        comment.reply_list = []
    for reply in reversed(rows):
        if reply.parent_id in by_pk:
            by_pk[reply.parent_id].reply_list.append(reply)
    return comments


def chain_changes_since_approval(chain: Chain, *, limit: int = 20) -> tuple[list[Entry], bool]:
    """What changed in an approved chain since its approval, newest first (the activity
    feed after `approved_at`), and whether there is more than `limit`."""
    if not chain.is_changed_approval or chain.approved_at is None:
        return [], False
    return activity_list(chain, limit=limit, since=chain.approved_at, follow_up=False)


def _count(model) -> Subquery:
    """Correlated COUNT(*) subquery of `model` rows per chain: joining several to-many
    relations would multiply rows."""
    rows = model.objects.filter(chain=OuterRef("pk")).order_by().values("chain")
    return Subquery(
        rows.annotate(n=Func(F("pk"), function="COUNT")).values("n"), output_field=IntegerField()
    )


def _open_comments() -> Coalesce:
    """Correlated count of the chain's open review comments (replies are not counted:
    they belong to their comment, which is what gets resolved)."""
    rows = ReviewComment.objects.filter(
        chain=OuterRef("pk"), parent__isnull=True, resolved_at__isnull=True
    )
    counted = rows.order_by().values("chain").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def chain_list_with_counts(user: User) -> QuerySet[Chain]:
    return (
        chain_list_for_user(user)
        .select_related("team", "owner")
        .annotate(
            n_links=Coalesce(_count(ChainLink), 0),
            n_influences=Coalesce(_count(Influence), 0),
            n_open_comments=_open_comments(),
        )
    )


@dataclass
class Column:
    stage: Stage
    members: list[ChainLink] = field(default_factory=list)


@dataclass
class Completeness:
    """The parts of the completeness figure (docs/method.md, "Completeness")."""

    questions_answered: int
    questions_total: int
    characterised: int
    known: int
    direct: int
    actors: int
    roles_present: int = 0
    roles_total: int = len(CORE_STAGE_ROLES)
    tier_known: int = 0  # customer-tier actors with a known person
    tier_actors: int = 0
    influences: int = 0

    @staticmethod
    def _ratio(part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    @property
    def percent(self) -> int:
        """Mean of the seven parts; an empty chain is at most a seventh done."""
        parts = [
            self._ratio(self.questions_answered, self.questions_total),
            self._ratio(self.characterised, self.actors),
            self._ratio(self.known, self.actors),
            self._ratio(self.direct, self.actors),
            self._ratio(self.roles_present, self.roles_total),
            self._ratio(self.tier_known, self.tier_actors),
            1.0 if self.influences else 0.0,
        ]
        return round(100 * sum(parts) / len(parts))


@dataclass
class WhiteSpot:
    link: ChainLink
    reason: str
    placeholder: "Contact | ContactFacts | None" = None


class ChainBoard:
    """Everything the chain page shows, loaded with a fixed number of queries.

    Each part loads when it is first asked for, so that a region of the page reloaded on
    its own pays only for what it shows: the summary needs the members with their
    contacts, the answers and the chain's counts, the influence list the members and the
    influences, the review region nothing of this. The whole page asks for everything.
    """

    def __init__(self, chain: Chain, *, today: date | None = None) -> None:
        self.chain = chain
        self.today = today or timezone.localdate()
        self._value_types_loaded = False
        self._marks_loaded = False

    @cached_property
    def _links(self) -> list[ChainLink]:
        """The members in (position, pk) order, with their stage, without their contacts."""
        links = links_with_factors(ChainLink.objects.filter(chain=self.chain))
        return list(links.select_related("actor__kind", "stage").order_by("position", "pk"))

    @cached_property
    def _members(self) -> list[ChainLink]:
        """The members, each with its contacts in card order (`contact_list`)."""
        links = self._links
        by_pk = {link.pk: link for link in links}
        contacts: dict[int, list[Contact]] = {link.pk: [] for link in links}
        # One query with a join, as a prefetch would do with the members' ids, but cheaper.
        # The page shows no contact's owner.
        rows = Contact.objects.filter(link__chain=self.chain).order_by("name", "role", "pk")
        for contact in rows:
            Contact.link.field.set_cached_value(contact, by_pk[contact.link_id])
            contacts[contact.link_id].append(contact)
        for link in links:
            link.contact_list = contacts[link.pk]
        return links

    def _value_types_load(self) -> None:
        """Give the members the value types of their linked customers (cards, diagram)."""
        if self._value_types_loaded:
            return
        links = self._members
        if self.decoration is not None:
            # The customer app's numbers (chain.decorations): the types by their share of
            # the value, and the value lines and link for the box.
            actors = self.decoration.values.actors
            for link in links:
                link.customer_value = actors.get(link.actor_id)
                types = link.customer_value.types if link.customer_value else []
                link.value_types = [(t.code, t.customers) for t in types]
        else:
            types = value_type_counts("actor", [link.actor_id for link in links])
            for link in links:
                # The linked customers' value type, the most common one first.
                link.value_types = types.get(link.actor_id, [])
                link.customer_value = None
        self._value_types_loaded = True

    @cached_property
    def _action_counts(self) -> dict[int | None, "ActionCount"]:
        return link_action_counts(self.chain, self.today)

    @cached_property
    def _type_changes(self) -> dict[int | None, list["TypeChange"]]:
        return link_type_changes(self.chain, self.today)

    def _marks_load(self) -> None:
        """Give the members their open actions and recent type changes (cards, diagram):
        two queries for all members, which the light's counts share."""
        if self._marks_loaded:
            return
        for link in self._members:
            count = self._action_counts.get(link.pk)
            link.open_actions, link.overdue_actions = (count.n, count.late) if count else (0, 0)
            link.type_changes = self._type_changes.get(link.pk, [])
        self._marks_loaded = True

    @cached_property
    def decoration(self) -> ChainDecoration | None:
        """What the customer app adds to the page (its tab, the actors' value), if any."""
        return chain_decoration(self.chain)

    @cached_property
    def _columns(self) -> list[Column]:
        stages = list(self.chain.stages.all())
        columns = {stage.pk: Column(stage) for stage in stages}
        for link in self._members:
            columns[link.stage_id].members.append(link)
        return [columns[s.pk] for s in stages]

    @cached_property
    def columns(self) -> list[Column]:
        """The stages in order with their members, as on the board."""
        self._value_types_load()
        self._marks_load()
        return self._columns

    @cached_property
    def links(self) -> dict[int, ChainLink]:
        self._value_types_load()
        self._marks_load()
        return {link.pk: link for link in self._members}

    def members_in_stage_order(self) -> list[ChainLink]:
        """The members stage by stage, with their contacts but without value types."""
        return [link for column in self._columns for link in column.members]

    @cached_property
    def influences(self) -> list[Influence]:
        influences = list(self.chain.influences.order_by("pk"))
        by_pk = {link.pk: link for link in self._links}
        for influence in influences:
            # Reuse the loaded members instead of a query per arrow.
            influence.source = by_pk[influence.source_id]
            influence.target = by_pk[influence.target_id]
        return influences

    @cached_property
    def answers(self) -> dict[tuple[int | None, str], WorksheetAnswer]:
        # The chain's own questions; the per-actor answers load when an actor is opened.
        return {(None, a.question): a for a in self.chain.answers.filter(link__isnull=True)}

    @cached_property
    def counts(self) -> "ChainCounts":
        """What the light reads of the other tables, from the parts the page loads anyway
        (influences, the members' actions and type changes) and the open comments' count.
        Cheaper than `chain_counts`, whose subqueries cost more to build than to run."""
        actions = self._action_counts.values()
        comments = ReviewComment.objects.filter(
            chain=self.chain, parent__isnull=True, resolved_at__isnull=True
        )
        return ChainCounts(
            influences=len(self.influences),
            open_comments=comments.count(),
            open_actions=sum(a.n for a in actions),
            overdue_actions=sum(a.late for a in actions),
            oldest_due=min((a.oldest for a in actions if a.oldest), default=None),
            type_changes=sum(len(changes) for changes in self._type_changes.values()),
        )

    @cached_property
    def health(self) -> "Health":
        return _health(self._members, self.answers, self.counts, self.today)

    @property
    def completeness(self) -> Completeness:
        return self.health.completeness

    @property
    def white_spots(self) -> list[WhiteSpot]:
        return self.health.white_spots

    @property
    def light(self) -> str:
        return self.health.light

    @property
    def light_reasons(self) -> list[str]:
        return self.health.light_reasons

    def answer(self, question: str, link: ChainLink | None = None) -> str:
        found = self.answers.get((link.pk if link else None, question))
        return found.text if found else ""


# The traffic light's thresholds (docs/method.md, "Traffic light"). A key actor is one of
# importance 4 or 5; a customer tier is amber while fewer than half of its actors have a
# known person; an action overdue for more than four weeks turns the light red; a type
# change counts for 90 days until somebody has seen it.
GREEN_MIN_PERCENT = 75
RED_MAX_PERCENT = 40
KEY_IMPORTANCE = 4
TIER_KNOWN_MIN = 0.5
OVERDUE_RED_DAYS = 28
TYPE_CHANGE_DAYS = 90

# The reasons a light can give, in the order they are listed; the dashboard filters by them.
REASONS = {
    "incomplete": pgettext_lazy("light", "incomplete"),
    "missing_role": pgettext_lazy("light", "missing role"),
    "customers_unknown": pgettext_lazy("light", "customers not known"),
    "key_actors": pgettext_lazy("light", "key actors not reached"),
    "no_influences": pgettext_lazy("light", "no influences"),
    "open_comments": pgettext_lazy("light", "open review comments"),
    "overdue_actions": pgettext_lazy("light", "overdue actions"),
    "type_changes": pgettext_lazy("light", "type changes"),
}


def links_with_factors(links: QuerySet[ChainLink]) -> QuerySet[ChainLink]:
    """Annotate whether each member has catalog success factors (for `is_characterised`)."""
    factors = ChainLink.success_factors.through.objects.filter(chainlink_id=OuterRef("pk"))
    return links.annotate(has_success_factors=Exists(factors))


def chain_board(chain: Chain) -> ChainBoard:
    return ChainBoard(chain)


def _recent_type_changes(today: date) -> Q:
    since = timezone.make_aware(datetime.combine(today - timedelta(days=TYPE_CHANGE_DAYS), time()))
    return Q(kind=ChainEvent.Kind.TYPE_CHANGE, seen_at__isnull=True, created_at__gte=since)


@dataclass(frozen=True)
class ActionCount:
    n: int  # open
    late: int  # of them overdue
    oldest: date | None  # the earliest due date among the overdue


def link_action_counts(chain: Chain, today: date) -> dict[int | None, ActionCount]:
    """Open and overdue actions per member of the chain (None: about no member), in one
    query."""
    late = Q(due__lt=today)
    rows = (
        Action.objects.filter(chain=chain, status=Action.Status.OPEN)
        .order_by()
        .values("link_id")
        .annotate(n=Count("pk"), late=Count("pk", filter=late), oldest=Min("due", filter=late))
        .values_list("link_id", "n", "late", "oldest")
    )
    return {link_id: ActionCount(n, k, oldest) for link_id, n, k, oldest in rows}


@dataclass(frozen=True)
class TypeChange:
    """A linked customer's value type changed (a ChainEvent): what the marks say."""

    customer: str
    old: str
    new: str

    @property
    def text(self) -> str:
        labels = dict(ValueType.choices)
        text = _("customer type changed: %(customer)s %(old)s → %(new)s") % {
            "customer": self.customer,
            "old": labels.get(self.old, self.old) or "–",
            "new": labels.get(self.new, self.new) or "–",
        }
        return " ".join(text.split())


def link_type_changes(chain: Chain, today: date) -> dict[int | None, list[TypeChange]]:
    """The recent, unseen type changes per member (None: about no member), newest first,
    in one query."""
    rows = ChainEvent.objects.filter(_recent_type_changes(today), chain=chain)
    changes: dict[int | None, list[TypeChange]] = {}
    for link_id, data in rows.order_by("-created_at", "-pk").values_list("link_id", "data"):
        data = data if isinstance(data, dict) else {}
        change = TypeChange(
            str(data.get("name") or data.get("customer") or ""),
            str(data.get("from") or ""),
            str(data.get("to") or ""),
        )
        changes.setdefault(link_id, []).append(change)
    return changes


@dataclass(frozen=True)
class ChainCounts:
    """What the light reads of a chain's other tables."""

    influences: int = 0
    open_comments: int = 0
    open_actions: int = 0
    overdue_actions: int = 0
    oldest_due: date | None = None  # of the overdue actions
    type_changes: int = 0


def _correlated(rows: QuerySet, aggregate: Func, output: Field) -> Subquery:
    """One aggregate over `rows` per chain, as a correlated subquery."""
    value = rows.filter(chain=OuterRef("pk")).order_by().values("chain")
    value = value.annotate(v=aggregate).values("v")
    return Subquery(value, output_field=output)


def chain_counts(ids: list[int], today: date) -> dict[int, ChainCounts]:
    """Influences, open comments, open and overdue actions and type changes of many chains,
    in one query whatever their number."""
    if not ids:
        return {}
    actions = Action.objects.filter(status=Action.Status.OPEN)
    overdue = actions.filter(due__lt=today)
    comments = ReviewComment.objects.filter(parent__isnull=True, resolved_at__isnull=True)
    events = ChainEvent.objects.filter(_recent_type_changes(today))
    n = IntegerField()
    rows = (
        Chain.objects.filter(pk__in=ids)
        .order_by()
        .annotate(
            n_influences=_correlated(Influence.objects.all(), Count("pk"), n),
            n_comments=_correlated(comments, Count("pk"), n),
            n_open=_correlated(actions, Count("pk"), n),
            n_overdue=_correlated(overdue, Count("pk"), n),
            oldest=_correlated(overdue, Min("due"), DateField()),
            n_changes=_correlated(events, Count("pk"), n),
        )
        .values_list(
            "pk", "n_influences", "n_comments", "n_open", "n_overdue", "oldest", "n_changes"
        )
    )
    return {
        pk: ChainCounts(inf or 0, com or 0, op or 0, late or 0, oldest, changes or 0)
        for pk, inf, com, op, late, oldest, changes in rows
    }


@dataclass(frozen=True)
class Issue:
    """One reason of the traffic light: a code (REASONS), its colour and its words."""

    code: str
    severity: str  # "red" or "amber"
    text: str


@dataclass
class Health:
    """Completeness, white spots and traffic light of one chain."""

    completeness: Completeness
    white_spots: list[WhiteSpot]
    light: str
    light_reasons: list[str]
    issues: list[Issue] = field(default_factory=list)
    counts: ChainCounts = field(default_factory=ChainCounts)

    @property
    def codes(self) -> set[str]:
        return {issue.code for issue in self.issues}

    @property
    def open_actions(self) -> int:
        return self.counts.open_actions

    @property
    def overdue_actions(self) -> int:
        return self.counts.overdue_actions


def is_us(link: ChainLink) -> bool:
    """Our own company: never a white spot, never counted as an actor to reach."""
    return link.actor.is_own_company


def _health(
    links: list[ChainLink],
    answers: dict[tuple[int | None, str], WorksheetAnswer],
    counts: ChainCounts,
    today: date,
) -> Health:
    coverage = {link.pk: link.coverage for link in links}
    # Our own company is not characterised or contacted like the other actors.
    others = [link for link in links if not is_us(link)]
    tier = [link for link in others if link.stage.role in CUSTOMER_STAGE_ROLES]
    present = {link.stage.role for link in links}
    completeness = Completeness(
        questions_answered=sum(
            1 for q in CHAIN_QUESTIONS if answers.get((None, q)) and answers[(None, q)].text.strip()
        ),
        questions_total=len(CHAIN_QUESTIONS),
        characterised=sum(1 for link in others if link.is_characterised),
        known=sum(1 for link in others if coverage[link.pk] != Coverage.NOBODY),
        direct=sum(
            1 for link in others if coverage[link.pk] in (Coverage.REGULAR, Coverage.DIRECT)
        ),
        actors=len(others),
        roles_present=sum(1 for role in CORE_STAGE_ROLES if role in present),
        tier_known=sum(1 for link in tier if coverage[link.pk] != Coverage.NOBODY),
        tier_actors=len(tier),
        influences=counts.influences,
    )
    issues = _light_issues(completeness, links, coverage, counts, today)
    light = "red" if any(i.severity == "red" for i in issues) else "amber" if issues else "green"
    reasons = [_("%(percent)s %% complete") % {"percent": completeness.percent}]
    reasons += [issue.text for issue in issues if issue.code != "incomplete"]
    return Health(completeness, _white_spots(links, coverage), light, reasons, issues, counts)


@dataclass(slots=True)
class ContactFacts:
    """What the traffic light and the white spots read of a contact person."""

    name: str
    role: str
    level: str

    @property
    def is_placeholder(self) -> bool:
        return not self.name


def chain_health(chains: list[Chain], *, today: date | None = None) -> dict[int, Health]:
    """Health of many chains at once, with four queries whatever their number.

    The contacts are read as `ContactFacts`, not as model instances: the lists show
    only the light and the counts, and a page of chains has a thousand contacts.
    """
    today = today or timezone.localdate()
    ids = [chain.pk for chain in chains]
    links = list(
        links_with_factors(ChainLink.objects.filter(chain__in=ids)).select_related("actor", "stage")
    )
    contacts: dict[int, list[ContactFacts]] = {link.pk: [] for link in links}
    rows = Contact.objects.filter(link__chain__in=ids).order_by("name", "role", "pk")
    for link_id, name, role, level in rows.values_list("link_id", "name", "role", "level"):
        contacts[link_id].append(ContactFacts(name, role, level))
    answers = WorksheetAnswer.objects.filter(chain__in=ids, link__isnull=True)
    counts = chain_counts(ids, today)
    links_of: dict[int, list[ChainLink]] = {pk: [] for pk in ids}
    answers_of: dict[int, dict] = {pk: {} for pk in ids}
    for link in links:
        link.contact_list = contacts[link.pk]
        links_of[link.chain_id].append(link)
    for answer in answers:
        answers_of[answer.chain_id][(None, answer.question)] = answer
    return {
        pk: _health(links_of[pk], answers_of[pk], counts.get(pk, ChainCounts()), today)
        for pk in ids
    }


def _white_spots(links: list[ChainLink], coverage: dict[int, str]) -> list[WhiteSpot]:
    spots: list[WhiteSpot] = []
    for link in links:
        if is_us(link):
            continue
        if coverage[link.pk] == Coverage.NOBODY:
            spots.append(WhiteSpot(link, _("nobody known")))
        elif coverage[link.pk] == Coverage.KNOWN:
            spots.append(WhiteSpot(link, _("no direct contact")))
        for contact in link.contact_list:
            if contact.is_placeholder:
                spots.append(
                    WhiteSpot(link, _("%(role)s: name unknown") % {"role": contact.role}, contact)
                )
    # Most important first; unrated actors last, then in chain order.
    return sorted(spots, key=lambda s: -(s.link.importance or 0))


def _light_issues(
    completeness: Completeness,
    links: list[ChainLink],
    coverage: dict[int, str],
    counts: ChainCounts,
    today: date,
) -> list[Issue]:
    """The reasons of the light, each red or amber (docs/method.md, "Traffic light")."""
    others = [link for link in links if not is_us(link)]
    issues: list[Issue] = []
    percent = completeness.percent
    if percent < GREEN_MIN_PERCENT:
        severity = "red" if percent < RED_MAX_PERCENT else "amber"
        text = _("%(percent)s %% complete") % {"percent": percent}
        issues.append(Issue("incomplete", severity, text))
    issues += _role_issues(links)
    issues += _tier_issues(others, coverage)
    issues += _key_actor_issues(others, coverage)
    if len(links) > 1 and not counts.influences:
        issues.append(Issue("no_influences", "amber", _("no influences recorded")))
    if counts.open_comments:
        n = counts.open_comments
        text = ngettext("%(n)s open review comment", "%(n)s open review comments", n)
        issues.append(Issue("open_comments", "amber", text % {"n": n}))
    if counts.overdue_actions:
        n = counts.overdue_actions
        late = counts.oldest_due is not None and (today - counts.oldest_due).days > OVERDUE_RED_DAYS
        text = npgettext("light", "%(n)s overdue action", "%(n)s overdue actions", n) % {"n": n}
        if late:
            text += " " + _("(one for more than %(days)s days)") % {"days": OVERDUE_RED_DAYS}
        issues.append(Issue("overdue_actions", "red" if late else "amber", text))
    if counts.type_changes:
        n = counts.type_changes
        text = ngettext(
            "%(n)s recent customer type change", "%(n)s recent customer type changes", n
        )
        issues.append(Issue("type_changes", "amber", text % {"n": n}))
    return issues


def _role_issues(links: list[ChainLink]) -> list[Issue]:
    """Every core role needs a stage of that role with an actor in it; without our company
    or a customer there is no chain to work with (red), without a supplier or a
    customer's customer it is only half drawn (amber)."""
    present = {link.stage.role for link in links}
    missing = [role for role in CORE_STAGE_ROLES if role not in present]
    if not missing:
        return []
    severe = StageRole.OWN in missing or StageRole.CUSTOMER in missing
    names = ", ".join(str(StageRole(role).label) for role in missing)
    text = ngettext("no actor as %(roles)s", "no actors as %(roles)s", len(missing))
    return [Issue("missing_role", "red" if severe else "amber", text % {"roles": names})]


def _tier_issues(others: list[ChainLink], coverage: dict[int, str]) -> list[Issue]:
    """Each customer tier with actors: red when nobody is known in it, amber while fewer
    than TIER_KNOWN_MIN of its actors have a known person."""
    issues = []
    for role in CUSTOMER_STAGE_ROLES:
        tier = [link for link in others if link.stage.role == role]
        if not tier:
            continue
        known = sum(1 for link in tier if coverage[link.pk] != Coverage.NOBODY)
        label = str(StageRole(role).label)
        if not known:
            text = _("%(tier)s: nobody known") % {"tier": label}
            issues.append(Issue("customers_unknown", "red", text))
        elif known < TIER_KNOWN_MIN * len(tier):
            text = _("%(tier)s: %(known)s of %(n)s actors with a known person") % {
                "tier": label,
                "known": known,
                "n": len(tier),
            }
            issues.append(Issue("customers_unknown", "amber", text))
    return issues


def _key_actor_issues(others: list[ChainLink], coverage: dict[int, str]) -> list[Issue]:
    key = [link for link in others if (link.importance or 0) >= KEY_IMPORTANCE]
    unknown = sum(1 for link in key if coverage[link.pk] == Coverage.NOBODY)
    indirect = sum(1 for link in key if coverage[link.pk] == Coverage.KNOWN)
    issues = []
    if unknown:
        text = ngettext(
            "%(n)s key actor with nobody known", "%(n)s key actors with nobody known", unknown
        )
        issues.append(Issue("key_actors", "red", text % {"n": unknown}))
    if indirect:
        text = ngettext(
            "%(n)s key actor without direct contact",
            "%(n)s key actors without direct contact",
            indirect,
        )
        issues.append(Issue("key_actors", "amber", text % {"n": indirect}))
    return issues


# Managers' dashboard ----------------------------------------------------------------------

LIGHTS = ("red", "amber", "green")
DASHBOARD_PAGE_SIZE = 50


@dataclass(frozen=True)
class DashboardFilters:
    """The dashboard's filters as read from the query string; unknown values are ignored."""

    q: str = ""
    scope_kind: str = ""
    team: int | None = None
    status: str = ""
    light: str = ""
    stale: bool = False
    changed: bool = False  # approved chains changed since their approval
    reason: str = ""  # one of the light's reasons (REASONS)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "DashboardFilters":
        def choice(name: str, allowed: Iterable[str]) -> str:
            value = params.get(name, "")
            return value if value in allowed else ""

        team = params.get("team", "")
        return cls(
            q=params.get("q", "").strip(),
            scope_kind=choice("scope_kind", Chain.ScopeKind.values),
            # Digits only, and short enough for an integer column.
            team=int(team) if team.isascii() and team.isdigit() and len(team) < 10 else None,
            status=choice("status", Chain.Status.values),
            light=choice("light", LIGHTS),
            stale=params.get("stale", "") in ("1", "on"),
            changed=params.get("changed", "") in ("1", "on"),
            reason=choice("reason", REASONS),
        )

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def query(self, **changes: object) -> str:
        """The query string of these filters with `changes`; without a page, so it restarts."""
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        return urlencode(
            {name: "1" if value is True else value for name, value in values.items() if value}
        )

    def matches(self, chain: Chain, *, skip: str = "") -> bool:
        """Whether the chain passes the summary's filters (status, light, stale, changed
        since approval, a reason of the light), but `skip`."""
        return (
            (skip == "status" or not self.status or chain.status == self.status)
            and (skip == "light" or not self.light or chain.health.light == self.light)
            and (skip == "stale" or not self.stale or chain.is_stale)
            and (skip == "changed" or not self.changed or chain.is_changed_approval)
            and (skip == "reason" or not self.reason or self.reason in chain.health.codes)
        )


@dataclass
class Facet:
    """One clickable count of the summary: clicking sets its filter, or clears it if active."""

    label: str
    count: int
    active: bool
    query: str
    css: str


@dataclass
class TypeShare:
    """One value type among a chain's linked customers, placed on the chain's mix bar."""

    code: str
    label: str
    count: int
    start: float  # percent of the bar left of this type
    percent: float
    colour: str


@dataclass
class ScopeGroup:
    """The chains of one scope on the page; several teams may map the same product."""

    kind: str
    kind_label: str
    name: str
    chains: list[Chain]


@dataclass
class Dashboard:
    filters: DashboardFilters
    groups: list[ScopeGroup]
    page: Page
    # Chains matching scope, team and search, before the summary's filters narrow them.
    total: int
    statuses: list[Facet]
    lights: list[Facet]
    stale: Facet
    changed: Facet
    reasons: list[Facet]
    stale_days: int
    teams: list[Team]


def chain_dashboard(
    user: User,
    filters: DashboardFilters,
    *,
    page: str | int | None = None,
    stale_days: int | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """Every chain the user sees, with its health, grouped per scope, in a fixed number of queries.

    The traffic light is computed in Python (`chain_health`), so the summary's counts and
    the light filter need the health of every chain matching scope, team and search, not
    only of the page's: a few queries and fine for the hundreds of chains a company maps.
    """
    stale_days = settings.CHAIN_STALE_DAYS if stale_days is None else stale_days
    now = now or timezone.now()
    chains = _dashboard_chains(user, filters)
    health = chain_health(chains, today=timezone.localdate(now))
    stale_before = now - timedelta(days=stale_days)
    for chain in chains:
        chain.health = health[chain.pk]
        chain.is_stale = chain.updated_at < stale_before
        chain.age_days = (now - chain.updated_at).days
    kinds = Chain.ScopeKind.values
    shown = sorted(
        (chain for chain in chains if filters.matches(chain)),
        key=lambda c: (kinds.index(c.scope_kind), c.scope_name.casefold(), c.team.name, c.pk),
    )
    page_obj = Paginator(shown, DASHBOARD_PAGE_SIZE).get_page(page)
    on_page = list(page_obj.object_list)
    types = value_type_counts("chain", [chain.pk for chain in on_page])
    for chain in on_page:
        chain.value_types = _shares(types.get(chain.pk, []))
    return Dashboard(
        filters=filters,
        groups=_scope_groups(on_page),
        page=page_obj,
        total=len(chains),
        statuses=_facets(chains, filters, "status", Chain.Status.choices),
        lights=_facets(
            chains,
            filters,
            "light",
            [("red", _("red")), ("amber", _("amber")), ("green", _("green"))],
        ),
        stale=Facet(
            label=_("stale"),
            count=sum(1 for c in chains if c.is_stale and filters.matches(c, skip="stale")),
            active=filters.stale,
            query=filters.query(stale=not filters.stale),
            css="stale",
        ),
        changed=Facet(
            label=_("changed since approval"),
            count=sum(
                1 for c in chains if c.is_changed_approval and filters.matches(c, skip="changed")
            ),
            active=filters.changed,
            query=filters.query(changed=not filters.changed),
            css="changed",
        ),
        reasons=_reason_facets(chains, filters),
        stale_days=stale_days,
        teams=list(Team.objects.order_by("name")),
    )


def _dashboard_chains(user: User, filters: DashboardFilters) -> list[Chain]:
    """The chains matching scope, team and search; the summary's filters apply in Python."""
    chains = (
        chain_list_for_user(user)
        .select_related("team", "owner", "approved_by")
        .annotate(n_open_comments=_open_comments())
    )
    if filters.q:
        chains = chains.filter(scope_name__icontains=filters.q)
    if filters.scope_kind:
        chains = chains.filter(scope_kind=filters.scope_kind)
    if filters.team:
        chains = chains.filter(team_id=filters.team)
    return list(chains)


def _facets(
    chains: list[Chain], filters: DashboardFilters, name: str, choices: list[tuple[str, str]]
) -> list[Facet]:
    """Counts per value of one filter, among the chains passing the other filters."""
    counts = Counter(
        chain.health.light if name == "light" else chain.status
        for chain in chains
        if filters.matches(chain, skip=name)
    )
    current = getattr(filters, name)
    return [
        Facet(
            label=str(label),
            count=counts[value],
            active=current == value,
            query=filters.query(**{name: "" if current == value else value}),
            css=f"{name}-{value}",
        )
        for value, label in choices
    ]


def _reason_facets(chains: list[Chain], filters: DashboardFilters) -> list[Facet]:
    """Per reason of the light, the chains that give it, among those passing the others."""
    counts = Counter(
        code
        for chain in chains
        if filters.matches(chain, skip="reason")
        for code in chain.health.codes
    )
    return [
        Facet(
            label=str(label),
            count=counts[code],
            active=filters.reason == code,
            query=filters.query(reason="" if filters.reason == code else code),
            css=f"reason-{code}",
        )
        for code, label in REASONS.items()
        if code != "incomplete"
    ]


def _scope_groups(chains: list[Chain]) -> list[ScopeGroup]:
    """Consecutive chains of the same scope kind and name (ignoring case) form a group."""
    groups: list[ScopeGroup] = []
    for chain in chains:
        key = (chain.scope_kind, chain.scope_name.strip().casefold())
        last = groups[-1] if groups else None
        if last is None or (last.kind, last.name.strip().casefold()) != key:
            last = ScopeGroup(
                chain.scope_kind, chain.get_scope_kind_display(), chain.scope_name, []
            )
            groups.append(last)
        last.chains.append(chain)
    return groups


def _shares(types: list[tuple[str, int]]) -> list[TypeShare]:
    labels = {value: str(label) for value, label in ValueType.choices}
    total = sum(n for _code, n in types)
    shares, start = [], 0.0
    for code, n in types:
        percent = 100 * n / total
        shares.append(TypeShare(code, labels[code], n, start, percent, TYPE_COLOURS[code]))
        start += percent
    return shares
