"""The problem-solving chain: catalogs, chains, stages, links, contacts, influences."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from lib.value_types import CHAIN_VALUE_TYPES

from .history import HistoryBatch


def _history(**options: object) -> HistoricalRecords:
    """Who changed what and when, for the activity feed and for restoring deletions."""
    return HistoricalRecords(bases=[HistoryBatch], **options)


class Versioned(models.Model):
    """A row edited in forms: the version a form was loaded with must still be current.

    `services.versioned_save` refuses a save whose version is stale instead of silently
    overwriting what somebody else saved in between.
    """

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class Team(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class ActorKind(models.Model):
    """Catalog: supplier, manufacturer, wholesale/retail, user/end customer, ..."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("actor kind")
        verbose_name_plural = _("actor kinds")

    def __str__(self) -> str:
        return self.name


class SuccessFactor(models.Model):
    """Catalog of factors that decide whether an actor wins in its market."""

    name = models.CharField(_("name"), max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("success factor")
        verbose_name_plural = _("success factors")

    def __str__(self) -> str:
        return self.name


class CompetitivePosition(models.TextChoices):
    LEADER = "leader", _("market leader")
    CHALLENGER = "challenger", _("challenger")
    FOLLOWER = "follower", _("follower")
    NICHE = "niche", _("niche player")


class Actor(Versioned):
    """An organisation, or a group of like organisations, reusable across chains.

    Only what describes the organisation itself lives here (name, kind, size class); its
    place in one chain's market (competitive position, count, importance, ...) belongs to
    the `ChainLink`, so that one team's chain never changes another's (docs/architecture.md).
    """

    class Size(models.TextChoices):
        MICRO = "micro", _("micro (< 10 staff)")
        SMALL = "small", _("small (10-49)")
        MEDIUM = "medium", _("medium (50-249)")
        LARGE = "large", _("large (250+)")
        GROUP = "group", _("group / corporation")

    name = models.CharField(_("name"), max_length=160, unique=True)
    kind = models.ForeignKey(
        ActorKind, on_delete=models.PROTECT, related_name="actors", verbose_name=_("kind")
    )
    size = models.CharField(_("size class"), max_length=12, choices=Size.choices, blank=True)
    is_own_company = models.BooleanField(
        _("our own company"), default=False, help_text=_("Highlighted in every chain.")
    )
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    history = _history()

    class Meta:
        ordering = ["name"]
        verbose_name = _("actor")
        verbose_name_plural = _("actors")

    def __str__(self) -> str:
        return self.name


class Chain(Versioned):
    class ScopeKind(models.TextChoices):
        PRODUCT = "product", _("product")
        SERVICE = "service", _("service")
        CUSTOMER_TYPE = "customer_type", _("customer type")

    class Goal(models.TextChoices):
        GROWTH = "growth", _("revenue growth")
        PROFITABILITY = "profitability", _("profitability")
        INNOVATION = "innovation", _("innovation")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")
        RETURNED = "returned", _("returned")

    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="chains", verbose_name=_("team")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_chains",
        verbose_name=_("owner"),
    )
    scope_kind = models.CharField(
        _("scope"), max_length=16, choices=ScopeKind.choices, default=ScopeKind.PRODUCT
    )
    scope_name = models.CharField(_("product, service or customer type"), max_length=160)
    goal = models.CharField(_("goal"), max_length=16, choices=Goal.choices, default=Goal.GROWTH)
    customer_type = models.CharField(
        _("customer value type"), max_length=16, choices=CHAIN_VALUE_TYPES, blank=True
    )
    coach_whom = models.TextField(_("customers to coach"), max_length=5000, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    # The review's four eyes: who submitted, who approved and when; any change to the chain
    # or its parts after approval sets `changed_since_approval` (services.chain_touch).
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    changed_since_approval = models.BooleanField(_("changed since approval"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Any change to the chain or its parts (services.chain_touch), for "stale" and sorting.
    updated_at = models.DateTimeField(_("last change"), auto_now=True)
    history = _history(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["scope_name", "pk"]
        verbose_name = _("chain")
        verbose_name_plural = _("chains")
        permissions = [
            ("view_all_chains", _("Can see the chains of every team")),
            ("review_chain", _("Can review chains: approve, return, comment, snapshot")),
        ]

    def __str__(self) -> str:
        return self.scope_name

    def get_absolute_url(self) -> str:
        return reverse("chain:detail", args=[self.pk])

    # The review: draft → submitted → approved, or back to the team as returned. An
    # approved chain changed since its approval may be submitted or approved again.
    @property
    def can_submit(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED) or self.is_changed_approval

    @property
    def can_approve(self) -> bool:
        return self.status == self.Status.SUBMITTED or self.is_changed_approval

    @property
    def is_changed_approval(self) -> bool:
        """Approved, and changed since (see services.chain_touch)."""
        return self.status == self.Status.APPROVED and self.changed_since_approval

    @property
    def can_return(self) -> bool:
        return self.status in (self.Status.SUBMITTED, self.Status.APPROVED)


class StageRole(models.TextChoices):
    """What a stage is in the chain; everything that speaks of "the customer tier" uses it.

    The order is the chain's direction (upstream to downstream); influencers stand beside
    it. `OWN` and `Stage.is_own` always agree (a database constraint checks it).
    """

    SUPPLIER = "supplier", _("supplier")
    OWN = "own", _("our company")
    CUSTOMER = "customer", _("customer")
    CUSTOMERS_CUSTOMER = "customers_customer", _("customer's customer")
    DOWNSTREAM = "downstream", _("further downstream")
    INFLUENCER = "influencer", _("influencer or partner")


# The roles a complete chain has (see docs/method.md, "Traffic light").
CORE_STAGE_ROLES = (
    StageRole.SUPPLIER,
    StageRole.OWN,
    StageRole.CUSTOMER,
    StageRole.CUSTOMERS_CUSTOMER,
)
# The customer tiers: where known people matter most.
CUSTOMER_STAGE_ROLES = (StageRole.CUSTOMER, StageRole.CUSTOMERS_CUSTOMER, StageRole.DOWNSTREAM)


class Stage(Versioned):
    chain = models.ForeignKey(
        Chain, on_delete=models.CASCADE, related_name="stages", verbose_name=_("chain")
    )
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_own = models.BooleanField(_("holds our company"), default=False)
    role = models.CharField(
        _("role in the chain"), max_length=20, choices=StageRole.choices, default=StageRole.CUSTOMER
    )
    history = _history()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(
                fields=["chain"], condition=Q(is_own=True), name="one_own_stage_per_chain"
            ),
            models.CheckConstraint(
                condition=Q(is_own=True, role="own") | (Q(is_own=False) & ~Q(role="own")),
                name="own_stage_has_own_role",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Coverage(models.TextChoices):
    """How well we know an actor, derived from its contacts (best first)."""

    REGULAR = "regular", _("regular direct contact")
    DIRECT = "direct", _("some direct contact")
    KNOWN = "known", _("known person only")
    NOBODY = "nobody", _("nobody known")


class ChainLink(Versioned):
    """An actor's place in one chain, with what is specific to that chain."""

    class Relationship(models.TextChoices):
        DIRECT_CUSTOMER = "direct_customer", _("direct customer")
        INDIRECT_CUSTOMER = "indirect_customer", _("indirect customer")
        SUPPLIER = "supplier", _("supplier")
        PARTNER = "partner", _("partner")
        COMPETITOR = "competitor", _("competitor")
        NONE = "none", _("no relationship")

    chain = models.ForeignKey(
        Chain, on_delete=models.CASCADE, related_name="links", verbose_name=_("chain")
    )
    actor = models.ForeignKey(
        Actor, on_delete=models.PROTECT, related_name="links", verbose_name=_("actor")
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, related_name="links", verbose_name=_("stage")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    importance = models.PositiveSmallIntegerField(
        _("importance"), null=True, blank=True, help_text=_("1 (low) to 5 (key actor)")
    )
    relationship = models.CharField(
        _("relationship with us"), max_length=20, choices=Relationship.choices, blank=True
    )
    competitive_position = models.CharField(
        _("competitive position"), max_length=12, choices=CompetitivePosition.choices, blank=True
    )
    count = models.PositiveIntegerField(
        _("count"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("How many such organisations this box stands for."),
    )
    success_factors = models.ManyToManyField(
        SuccessFactor, blank=True, related_name="links", verbose_name=_("success factors")
    )
    success_factors_text = models.TextField(_("other success factors"), max_length=2000, blank=True)
    problems_needs = models.TextField(_("problems and needs"), max_length=5000, blank=True)
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    history = _history(m2m_fields=[success_factors])

    class Meta:
        ordering = ["stage__position", "position", "pk"]
        verbose_name = _("chain member")
        verbose_name_plural = _("chain members")
        constraints = [
            models.UniqueConstraint(fields=["chain", "actor"], name="actor_once_per_chain"),
            models.CheckConstraint(
                condition=Q(importance__isnull=True) | Q(importance__gte=1, importance__lte=5),
                name="importance_1_to_5",
            ),
            models.CheckConstraint(condition=Q(count__gte=1), name="link_count_positive"),
        ]

    def __str__(self) -> str:
        return str(self.actor)

    @property
    def is_characterised(self) -> bool:
        """Importance, relationship and at least one success factor or need are known.

        Uses the `has_success_factors` annotation where the selector added it
        (`selectors.links_with_factors`), else asks the database.
        """
        has_factors = getattr(self, "has_success_factors", None)
        if has_factors is None:
            has_factors = self.success_factors.exists()
        described = bool(
            self.problems_needs.strip() or self.success_factors_text.strip() or has_factors
        )
        return self.importance is not None and bool(self.relationship) and described

    @cached_property
    def contact_list(self) -> list["Contact"]:
        """The contacts as loaded (prefetched on the chain page); kept for this instance."""
        return list(self.contacts.all())

    @cached_property
    def coverage(self) -> str:
        """Best contact level among the contacts, from `contact_list`."""
        levels = {c.level for c in self.contact_list}
        if Contact.Level.REGULAR in levels:
            return Coverage.REGULAR
        if Contact.Level.OCCASIONAL in levels:
            return Coverage.DIRECT
        if any(c.name for c in self.contact_list):
            return Coverage.KNOWN
        return Coverage.NOBODY

    @property
    def importance_dots(self) -> str:
        filled = self.importance or 0
        return "●" * filled + "○" * (5 - filled)

    @property
    def coverage_label(self) -> str:
        return Coverage(self.coverage).label


class Contact(Versioned):
    """A person at a chain member; without a name it is a placeholder for a known role."""

    class BuyingRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("decision maker")
        INFLUENCER = "influencer", _("influencer")
        USER = "user", _("user")
        GATEKEEPER = "gatekeeper", _("gatekeeper")
        OTHER = "other", _("other")

    class Attitude(models.TextChoices):
        SUPPORTER = "supporter", _("supporter")
        NEUTRAL = "neutral", _("neutral")
        CRITIC = "critic", _("critic")
        UNKNOWN = "unknown", _("unknown")

    class Level(models.TextChoices):
        NONE = "none", _("no contact")
        INDIRECT = "indirect", _("indirect (through a colleague or partner)")
        OCCASIONAL = "occasional", _("occasional direct contact")
        REGULAR = "regular", _("regular direct contact")

    class Relation(models.TextChoices):
        NONE = "none", _("none yet")
        VENDOR = "vendor", _("vendor")
        CREDIBLE_SOURCE = "credible_source", _("credible source")
        PROBLEM_SOLVER = "problem_solver", _("problem solver")
        TRUSTED_ADVISOR = "trusted_advisor", _("trusted advisor")

    link = models.ForeignKey(
        ChainLink, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("actor")
    )
    name = models.CharField(
        _("name"), max_length=160, blank=True, help_text=_("Leave empty for a role we know exists.")
    )
    role = models.CharField(pgettext_lazy("job", "role"), max_length=160, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    buying_role = models.CharField(
        _("role in buying decisions"), max_length=16, choices=BuyingRole.choices, blank=True
    )
    attitude = models.CharField(
        _("attitude towards us"),
        max_length=12,
        choices=Attitude.choices,
        default=Attitude.UNKNOWN,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_contacts",
        verbose_name=_("contact owner on our side"),
    )
    level = models.CharField(
        _("contact level"), max_length=12, choices=Level.choices, default=Level.NONE
    )
    relation_now = models.CharField(
        _("our relationship now"), max_length=16, choices=Relation.choices, default=Relation.NONE
    )
    relation_goal = models.CharField(
        _("relationship we aim for"), max_length=16, choices=Relation.choices, blank=True
    )
    last_contact = models.DateField(_("last contact"), null=True, blank=True)
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    history = _history()

    class Meta:
        ordering = ["name", "role", "pk"]
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        constraints = [
            # Nobody has direct contact with a person whose name we do not know.
            models.CheckConstraint(
                condition=~Q(name="") | Q(level__in=["none", "indirect"]),
                name="direct_contact_needs_name",
            ),
            models.CheckConstraint(
                condition=~Q(name="") | ~Q(role=""), name="contact_has_name_or_role"
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(_("(unnamed) %(role)s") % {"role": self.role})

    @property
    def is_placeholder(self) -> bool:
        return not self.name


class Influence(Versioned):
    class Strength(models.IntegerChoices):
        WEAK = 1, _("weak")
        MEDIUM = 2, _("medium")
        STRONG = 3, _("strong")

    chain = models.ForeignKey(
        Chain, on_delete=models.CASCADE, related_name="influences", verbose_name=_("chain")
    )
    source = models.ForeignKey(
        ChainLink, on_delete=models.CASCADE, related_name="influences_out", verbose_name=_("from")
    )
    target = models.ForeignKey(
        ChainLink, on_delete=models.CASCADE, related_name="influences_in", verbose_name=_("on")
    )
    description = models.TextField(_("description"), max_length=2000)
    strength = models.PositiveSmallIntegerField(
        _("strength"), choices=Strength.choices, default=Strength.MEDIUM
    )
    history = _history()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("influence")
        verbose_name_plural = _("influences")
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="no_self_influence"
            ),
            models.UniqueConstraint(
                fields=["source", "target"], name="one_influence_per_direction"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class Question(models.TextChoices):
    """The guided questions of the chain worksheet."""

    SCOPE = "scope", _("For which product, service or customer type do we map the chain, and why?")
    COACH = "coach", _("Which customers do we want to coach in particular, and why them?")
    CHAIN = "chain", _("Describe the chain: who are the actors, from suppliers to end users?")
    KEY_ACTORS = (
        "key_actors",
        _("Characterise the key actors: size, importance, competitive position, success factors."),
    )
    KNOWN = "known", _("Whom do we know there by name?")
    DIRECT = "direct", _("With whom do we have direct contact?")
    NO_CONTACT = "no_contact", _("With whom do we have no contact at all, and what do we do?")


CHAIN_QUESTIONS = [Question.SCOPE, Question.COACH, Question.CHAIN, Question.KEY_ACTORS]
ACTOR_QUESTIONS = [Question.KNOWN, Question.DIRECT, Question.NO_CONTACT]


class WorksheetAnswer(Versioned):
    """The answer to one worksheet question, for the chain or for one of its members."""

    chain = models.ForeignKey(
        Chain, on_delete=models.CASCADE, related_name="answers", verbose_name=_("chain")
    )
    link = models.ForeignKey(
        ChainLink,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="answers",
        verbose_name=_("actor"),
    )
    question = models.CharField(_("question"), max_length=16, choices=Question.choices)
    text = models.TextField(_("answer"), max_length=20000, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    updated_at = models.DateTimeField(_("last change"), auto_now=True)
    history = _history(excluded_fields=["updated_at", "updated_by"])

    class Meta:
        verbose_name = _("worksheet answer")
        verbose_name_plural = _("worksheet answers")
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "question"],
                condition=Q(link__isnull=True),
                name="one_chain_answer_per_question",
            ),
            models.UniqueConstraint(
                fields=["link", "question"],
                condition=Q(link__isnull=False),
                name="one_actor_answer_per_question",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chain}: {self.question}"


class ReviewComment(models.Model):
    """A manager's remark on a chain, on one of its actors or on one worksheet question."""

    chain = models.ForeignKey(
        Chain, on_delete=models.CASCADE, related_name="comments", verbose_name=_("chain")
    )
    link = models.ForeignKey(
        ChainLink,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("actor"),
    )
    question = models.CharField(_("question"), max_length=16, choices=Question.choices, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("author"),
    )
    # A reply belongs to the comment it answers; only top-level comments are resolved.
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("reply to"),
    )
    text = models.TextField(_("comment"), max_length=5000)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def author_name(self) -> str:
        if self.author is None:
            return "–"
        return self.author.get_full_name() or self.author.get_username()


class ChainSnapshot(models.Model):
    """The frozen state of a chain at a review, to compare the chain with later."""

    chain = models.ForeignKey(
        Chain, on_delete=models.CASCADE, related_name="snapshots", verbose_name=_("chain")
    )
    label = models.CharField(_("label"), max_length=80)
    taken_at = models.DateTimeField(_("taken"), auto_now_add=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("taken by"),
    )
    # See snapshots.snapshot_data for the layout; kept as JSON so that later changes to the
    # chain's tables never alter what was frozen.
    data = models.JSONField(_("data"))

    class Meta:
        ordering = ["-taken_at", "-pk"]
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        constraints = [
            models.UniqueConstraint(fields=["chain", "label"], name="snapshot_label_per_chain"),
        ]

    def __str__(self) -> str:
        return self.label


class Action(Versioned):
    """A next step: who does what by when, and what it is about.

    At most one of link, contact, question, comment and customer_number says what the
    action is about; none means the chain as a whole. `customer_number` is the customer's
    number as imported (the chain app knows no customers; see docs/architecture.md).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")
        DROPPED = "dropped", _("dropped")

    class Source(models.TextChoices):
        MANUAL = "manual", _("written by hand")
        WHITE_SPOT = "white_spot", _("white spot")
        WHERE_TO_ACT = "where_to_act", _("where to act")
        REVIEW = "review", _("review comment")
        CUSTOMER = "customer", _("customer")
        TYPE_CHANGE = "type_change", _("type change")

    chain = models.ForeignKey(
        Chain, on_delete=models.CASCADE, related_name="actions", verbose_name=_("chain")
    )
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("owner"),
    )
    due = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    source = models.CharField(
        _("created from"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    link = models.ForeignKey(
        ChainLink,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("actor"),
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("contact person"),
    )
    question = models.CharField(_("question"), max_length=16, choices=Question.choices, blank=True)
    comment = models.ForeignKey(
        ReviewComment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("review comment"),
    )
    customer_number = models.CharField(_("customer number"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    history = _history()

    class Meta:
        ordering = [models.F("due").asc(nulls_last=True), "pk"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [
            models.Index(fields=["owner", "status", "due"], name="action_owner_status_due"),
            models.Index(fields=["chain", "status"], name="action_chain_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="action_closed_when_not_open",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("chain:detail", args=[self.chain_id]) + "?tab=actions"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CalendarFeed(models.Model):
    """A user's secret calendar address for the due dates of their actions; renewable."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed",
        verbose_name=_("user"),
    )
    token = models.CharField(_("secret"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)


class ChainEvent(models.Model):
    """Something that happened to a chain outside its own tables, for its activity feed.

    Today: a linked customer's value type changed in an analysis (written by the customers
    app through this table; the chain app does not know customers). `data` holds the
    figures the feed shows, e.g. {"customer": number, "name": …, "from": type, "to": type}.
    """

    class Kind(models.TextChoices):
        TYPE_CHANGE = "type_change", _("value type changed")

    chain = models.ForeignKey(
        Chain, on_delete=models.CASCADE, related_name="events", verbose_name=_("chain")
    )
    link = models.ForeignKey(
        ChainLink,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("actor"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    data = models.JSONField(_("data"), default=dict)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    seen_at = models.DateTimeField(_("seen"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("chain event")
        verbose_name_plural = _("chain events")

    def __str__(self) -> str:
        return f"{self.chain}: {self.kind}"
