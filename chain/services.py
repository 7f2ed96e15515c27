"""Writes that touch several rows or need a transaction."""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Max, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

import webhooks

from .history import _current_batch
from .models import (
    Actor,
    Chain,
    ChainLink,
    ChainSnapshot,
    Contact,
    Influence,
    ReviewComment,
    Stage,
    StageRole,
    Team,
    WorksheetAnswer,
)
from .selectors import actor_catalog_editable_by, chain_board, team_ids_for_user
from .snapshots import snapshot_data

# Why a sales user may not change an actor's kind or size class (`actor_catalog_update`).
ACTOR_SHARED = gettext_lazy(
    "Also used in chains of other teams: ask an administrator to change the kind or size class."
)


class EditConflict(Exception):
    """Somebody else saved (or deleted) the row since the form was loaded."""

    def __init__(self, current: models.Model | None):
        super().__init__("stale version")
        self.current = current


@transaction.atomic
def versioned_save(*, form: forms.ModelForm) -> models.Model:
    """Save a form's row unless its version changed since the form was loaded.

    The row is locked while the versions are compared, so of two saves of the same
    version exactly one wins; the other raises `EditConflict` with the current row.
    Fields the form does not edit (positions, status, ...) are taken from the locked row,
    so that a concurrent move or review is not undone by this save.
    """
    instance = form.instance
    if instance.pk is None:
        return form.save()
    model = type(instance)
    current = model.objects.select_for_update().filter(pk=instance.pk).first()
    if current is None or current.version != form.cleaned_data.get("version"):
        raise EditConflict(current)
    for field in model._meta.concrete_fields:
        if field.name not in form._meta.fields and not field.primary_key:
            setattr(instance, field.attname, getattr(current, field.attname))
    instance.version = current.version + 1
    return form.save()


# The catalog facts of an actor that a chain's member form may change.
ACTOR_CATALOG_FIELDS = ("kind", "size")


@transaction.atomic
def actor_catalog_update(
    *, actor: Actor, user: AbstractBaseUser, version: int | None, changes: Mapping[str, object]
) -> Actor:
    """Change an actor's catalog facts, unless the actor changed since `version` was read.

    The facts show in every chain that uses the actor, so only a user for whom
    `actor_catalog_editable_by` holds may change them (checked again here, under the
    lock); otherwise ValidationError. A stale version raises `EditConflict` with the
    current actor. The save writes a history row, which the activity feed of each chain
    using the actor shows.
    """
    if set(changes) - set(ACTOR_CATALOG_FIELDS):
        raise ValueError(f"not catalog facts: {sorted(set(changes) - set(ACTOR_CATALOG_FIELDS))}")
    current = Actor.objects.select_for_update().get(pk=actor.pk)
    if not actor_catalog_editable_by(current, user):
        raise ValidationError(ACTOR_SHARED)
    if current.version != version:
        raise EditConflict(current)
    for name, value in changes.items():
        setattr(current, name, value)
    current.version += 1
    current.full_clean(validate_unique=False, validate_constraints=False)
    current._history_user = user  # for the activity feed when called outside a request
    current.save(update_fields=[*changes, "version"])
    chains_touch_for_actor(actor=current)
    for name in (*changes, "version"):
        setattr(actor, name, getattr(current, name))
    return current


@transaction.atomic
@transaction.atomic
def link_characterise(*, form: forms.ModelForm, user: AbstractBaseUser) -> ChainLink:
    """Save a member's form (`versioned_save`, a valid `LinkForm`) and the changes it makes
    to its actor's catalog facts (`actor_changes()`, checked against `actor_version`),
    and touch the chain.

    Both versions are checked under row locks in this one transaction, the actor's first
    (as the admin locks it). A stale actor raises `EditConflict` with the current member,
    whose `actor` is the current actor, so that the form's conflict view shows both.
    """
    link = form.instance
    actor_changes = form.actor_changes()
    if actor_changes:
        version = form.cleaned_data["actor_version"]
        try:
            actor_catalog_update(
                actor=link.actor, user=user, version=version, changes=actor_changes
            )
        except EditConflict:
            current = ChainLink.objects.select_related("actor__kind").filter(pk=link.pk)
            raise EditConflict(current.first()) from None
    saved = versioned_save(form=form)
    chain_touch(chain=link.chain)
    return saved


def _status_set(
    chain: Chain,
    user: AbstractBaseUser,
    allowed: Callable[[Chain], bool],
    status: str,
    check: Callable[[Chain], None] | None = None,
    **fields: object,
) -> None:
    """Move the chain to `status` if its current status (read under a lock) allows it.

    `check` may refuse the step with a ValidationError, looking at the locked row;
    `fields` are saved with the status. Every step clears "changed since approval": a new
    submission or approval looks at the chain as it is now, a returned chain is no longer
    approved.
    """
    locked = Chain.objects.select_for_update().get(pk=chain.pk)
    if not allowed(locked):
        raise ValidationError(
            _("The chain is “%(status)s” now; reload the page.")
            % {"status": locked.get_status_display()}
        )
    if check is not None:
        check(locked)
    chain.status = status
    chain.changed_since_approval = False
    for name, value in fields.items():
        setattr(chain, name, value)
    chain._history_user = user  # for the activity feed when called outside a request
    chain.save(update_fields=["status", "changed_since_approval", *fields, "updated_at"])


def _review_emit(event: str, chain: Chain, user: AbstractBaseUser, **extra: object) -> None:
    """Tell the webhooks of a review step (README, "Webhooks"), in the step's transaction."""
    from .reminders import site_url

    webhooks.emit(
        event,
        {
            "chain": {
                "id": chain.pk,
                "name": chain.scope_name,
                "scope_kind": chain.scope_kind,
                "team": chain.team.name if chain.team_id else None,
                "status": chain.status,
                "url": site_url(chain.get_absolute_url()),
            },
            "by": {"id": user.pk, "username": user.get_username()},
            **extra,
        },
    )


@transaction.atomic
def chain_submit(*, chain: Chain, user: AbstractBaseUser) -> None:
    _status_set(chain, user, lambda c: c.can_submit, Chain.Status.SUBMITTED, submitted_by=user)
    _review_emit("chain.submitted", chain, user)


def chain_approval_refusal(*, chain: Chain, user: AbstractBaseUser) -> str:
    """Why `user` may not approve `chain` (four eyes), or "" if they may.

    Neither the person who submitted it nor a member of its team approves a chain;
    REVIEW_ALLOW_SELF_APPROVAL lets the only member of a one-person team approve its chain.
    """
    in_team = chain.team_id in team_ids_for_user(user)
    if user.pk != chain.submitted_by_id and not in_team:
        return ""
    if settings.REVIEW_ALLOW_SELF_APPROVAL and in_team:
        members = list(chain.team.members.values_list("pk", flat=True)[:2])
        if members == [user.pk]:
            return ""
    if user.pk == chain.submitted_by_id:
        return _(
            "You submitted this chain, so somebody else approves it: a manager outside "
            "its team (four eyes)."
        )
    return _(
        "You belong to the chain's team, so a manager outside the team approves it (four eyes)."
    )


def _approval_check(user: AbstractBaseUser) -> Callable[[Chain], None]:
    def check(locked: Chain) -> None:
        refusal = chain_approval_refusal(chain=locked, user=user)
        if refusal:
            raise ValidationError(refusal)

    return check


@transaction.atomic
def chain_approve(*, chain: Chain, user: AbstractBaseUser) -> None:
    """Approve the chain, if `user` is a second pair of eyes (`chain_approval_refusal`)."""
    now = timezone.now()
    # The approval's history row carries the same time, so that the changes "since the
    # approval" (selectors.chain_changes_since_approval) start after it.
    chain._history_date = now
    try:
        _status_set(
            chain,
            user,
            lambda c: c.can_approve,
            Chain.Status.APPROVED,
            check=_approval_check(user),
            approved_by=user,
            approved_at=now,
        )
    finally:
        del chain._history_date  # a later save of this object is a later change
    _review_emit("chain.approved", chain, user)


@transaction.atomic
def chain_return(*, chain: Chain, user: AbstractBaseUser, comment: str) -> ReviewComment:
    """Back to the team, with the comment that says what to do."""
    if not comment.strip():
        raise ValidationError(_("Say what the team should change."))
    _status_set(chain, user, lambda c: c.can_return, Chain.Status.RETURNED)
    review = ReviewComment.objects.create(chain=chain, author=user, text=comment.strip())
    _review_emit("chain.returned", chain, user, comment=review.text)
    return review


def comment_resolve(*, comment: ReviewComment, user: AbstractBaseUser) -> None:
    comment.resolved_at = timezone.now()
    comment.resolved_by = user
    comment.save(update_fields=["resolved_at", "resolved_by"])


def comment_reply(*, comment: ReviewComment, user: AbstractBaseUser, text: str) -> ReviewComment:
    """Answer a review comment. A reply to a reply joins the conversation of the comment
    it belongs to; a resolved comment takes no more replies."""
    thread = comment.parent or comment
    if not thread.is_open:
        raise ValidationError(_("This comment is resolved already; write a new one instead."))
    reply = ReviewComment(chain_id=thread.chain_id, parent=thread, author=user, text=text.strip())
    reply.full_clean()
    reply.save()
    return reply


def default_stage_names() -> list[tuple[str, StageRole]]:
    """The default template: (name, role in the chain)."""
    return [
        (_("Supplier"), StageRole.SUPPLIER),
        (_("Manufacturer"), StageRole.OWN),
        (_("Retail"), StageRole.CUSTOMER),
        (_("User"), StageRole.CUSTOMERS_CUSTOMER),
    ]


def chain_touch(*, chain: Chain) -> None:
    """Record that the chain or one of its parts changed.

    An update, not a save: the timestamp alone is no change worth a history row, and the
    chain's own `version` guards only its own fields (see `versioned_save`). Every write
    to a chain or its parts ends here, so this is where an approved chain becomes
    "changed since approval".
    """
    chain.updated_at = timezone.now()
    _chains_touch(Chain.objects.filter(pk=chain.pk), chain.updated_at)
    if chain.status == Chain.Status.APPROVED:
        chain.changed_since_approval = True


def chains_touch_for_actor(*, actor: Actor) -> None:
    """`chain_touch` for every chain that uses `actor`: its catalog facts show in each."""
    _chains_touch(Chain.objects.filter(links__actor=actor), timezone.now())


def _chains_touch(chains: models.QuerySet, now: datetime) -> None:
    chains.update(
        updated_at=now,
        # An approved chain that changes is no longer the chain that was approved.
        changed_since_approval=Case(
            When(status=Chain.Status.APPROVED, then=Value(True)),
            default=F("changed_since_approval"),
        ),
    )


@transaction.atomic
def chain_create(
    *, team: Team, owner: AbstractBaseUser, scope_name: str, **fields: object
) -> Chain:
    chain = Chain(team=team, owner=owner, scope_name=scope_name, **fields)
    chain.full_clean()
    chain.save()
    Stage.objects.bulk_create(
        Stage(chain=chain, name=name, position=i, is_own=role == StageRole.OWN, role=role)
        for i, (name, role) in enumerate(default_stage_names())
    )
    own = Actor.objects.filter(is_own_company=True).order_by("pk").first()
    own_stage = chain.stages.filter(is_own=True).first()
    if own and own_stage:
        ChainLink.objects.create(chain=chain, actor=own, stage=own_stage, position=0)
    return chain


@transaction.atomic
def stage_add(*, chain: Chain, name: str, role: str = StageRole.CUSTOMER) -> Stage:
    if role == StageRole.OWN:
        raise ValidationError(_("Our company's stage exists already; mark it with “ours”."))
    last = chain.stages.aggregate(m=Max("position"))["m"]
    stage = Stage.objects.create(
        chain=chain, name=name, role=role, position=0 if last is None else last + 1
    )
    chain_touch(chain=chain)
    return stage


@transaction.atomic
def stage_delete(*, stage: Stage) -> None:
    n = stage.links.count()
    if n:
        raise ValidationError(
            _("Move or remove the %(n)s actors of “%(stage)s” first.") % {"n": n, "stage": stage}
        )
    chain = stage.chain
    stage.delete()
    chain_touch(chain=chain)


@transaction.atomic
def stage_set_own(*, stage: Stage) -> None:
    # The stage that held our company so far keeps a role by its place: upstream of the
    # new one it supplies, downstream it buys.
    old = Stage.objects.filter(chain=stage.chain, is_own=True).first()
    if old is not None and old.pk != stage.pk:
        old.is_own = False
        old.role = StageRole.SUPPLIER if old.position < stage.position else StageRole.CUSTOMER
        old.save(update_fields=["is_own", "role"])
    Stage.objects.filter(pk=stage.pk).update(is_own=True, role=StageRole.OWN)
    chain_touch(chain=stage.chain)


@transaction.atomic
def stage_reorder(*, chain: Chain, stage_pks: list[int]) -> None:
    """Rewrite stage positions in the given order; all of the chain's stages must be named."""
    current = set(chain.stages.values_list("pk", flat=True))
    if set(stage_pks) != current or len(stage_pks) != len(current):
        raise ValidationError(_("The stage list is out of date. Reload the page and try again."))
    stages = [Stage(pk=pk, position=i) for i, pk in enumerate(stage_pks)]
    Stage.objects.bulk_update(stages, ["position"])
    chain_touch(chain=chain)


def stage_move(*, stage: Stage, offset: int) -> None:
    """Keyboard alternative to drag and drop: move one place left (-1) or right (+1)."""
    pks = list(stage.chain.stages.values_list("pk", flat=True))
    i = pks.index(stage.pk)
    j = max(0, min(len(pks) - 1, i + offset))
    pks.insert(j, pks.pop(i))
    stage_reorder(chain=stage.chain, stage_pks=pks)


@transaction.atomic
def link_add(*, chain: Chain, stage: Stage, actor: Actor, **fields: object) -> ChainLink:
    if stage.chain_id != chain.pk:
        raise ValidationError(_("That stage belongs to another chain."))
    if ChainLink.objects.filter(chain=chain, actor=actor).exists():
        raise ValidationError(_("%(actor)s is already in this chain.") % {"actor": actor})
    last = stage.links.aggregate(m=Max("position"))["m"]
    link = ChainLink(
        chain=chain, stage=stage, actor=actor, position=0 if last is None else last + 1, **fields
    )
    link.full_clean()
    link.save()
    chain_touch(chain=chain)
    return link


# Rows per INSERT in the bulk services: one statement per table up to this many rows.
BULK_BATCH = 1000


def _bulk_create(objs: list[models.Model], user: AbstractBaseUser | None) -> list[models.Model]:
    """Insert the rows and their "+" history rows, as saving each one would.

    `bulk_history_create` sends no `pre_create_historical_record`, so the change batch
    (see `history.py`) is set here: the rows share the batch of the request, or outside
    a request one batch per call.
    """
    if not objs:
        return []
    return bulk_create_with_history(
        objs,
        type(objs[0]),
        batch_size=BULK_BATCH,
        default_user=user,
        custom_historical_attrs={"history_batch": _current_batch()},
    )


@transaction.atomic
def actors_create_bulk(*, actors: Sequence[Actor], user: AbstractBaseUser) -> list[Actor]:
    """Add new actors to the catalog with a few queries, however many they are.

    Each actor's own values are checked; the kind must be an existing one. A name taken
    already (unique) is left to the database: the IntegrityError undoes the transaction.
    """
    for actor in actors:
        actor.full_clean(exclude=["kind"], validate_unique=False, validate_constraints=False)
    return _bulk_create(list(actors), user)


@transaction.atomic
def links_add_bulk(
    *, chain: Chain, links: Sequence[ChainLink], user: AbstractBaseUser
) -> list[ChainLink]:
    """`link_add` for many members at once: unsaved links with stage, actor and fields.

    The same checks as `link_add` and the same positions (each stage's members follow
    its current last one, in the given order), with a fixed number of queries. The
    database's constraints are not checked beforehand (that costs queries per link): a
    violation raises IntegrityError. The caller locks the chain when two such calls must
    not interleave.
    """
    actor_ids = [link.actor_id for link in links]
    for link in links:
        if link.stage.chain_id != chain.pk:
            raise ValidationError(_("That stage belongs to another chain."))
    present = set(
        chain.links.filter(actor_id__in=actor_ids).order_by().values_list("actor_id", flat=True)
    )
    seen: set[int] = set()
    for link in links:
        if link.actor_id in present or link.actor_id in seen:
            raise ValidationError(_("%(actor)s is already in this chain.") % {"actor": link.actor})
        seen.add(link.actor_id)
    next_position = _next_positions({link.stage_id for link in links})
    for link in links:
        link.chain = chain
        link.position = next_position[link.stage_id]
        next_position[link.stage_id] += 1
        # Chain, stage and actor are checked above; uniqueness is the database's.
        link.full_clean(
            exclude=["chain", "stage", "actor"], validate_unique=False, validate_constraints=False
        )
    created = _bulk_create(list(links), user)
    if created:
        chain_touch(chain=chain)
    return created


def _next_positions(stage_ids: set[int]) -> dict[int, int]:
    """The position after each stage's last member (0 for an empty stage), in one query."""
    last = (
        ChainLink.objects.filter(stage_id__in=stage_ids)
        .order_by()  # the default ordering joins the stages, which this does not need
        .values("stage_id")
        .annotate(m=Max("position"))
        .values_list("stage_id", "m")
    )
    found = dict(last)
    return {pk: found[pk] + 1 if found.get(pk) is not None else 0 for pk in stage_ids}


@transaction.atomic
def contacts_add_bulk(
    *, chain: Chain, contacts: Sequence[Contact], user: AbstractBaseUser
) -> list[Contact]:
    """Add many contacts to members of `chain` with a fixed number of queries.

    The field values are checked one by one; the name-or-role rules are left to the
    database's constraints (checking them here would cost queries per contact).
    """
    link_ids = {contact.link_id for contact in contacts}
    if len(link_ids) != chain.links.filter(pk__in=link_ids).count():
        raise ValidationError(_("The actor list is out of date. Reload the page and try again."))
    for contact in contacts:
        contact.full_clean(exclude=["link", "owner"], validate_constraints=False)
    created = _bulk_create(list(contacts), user)
    if created:
        chain_touch(chain=chain)
    return created


@transaction.atomic
def link_reorder(*, chain: Chain, stage: Stage, link_pks: list[int]) -> None:
    """Put the given members, in this order, into the stage (a drop within or between stages)."""
    if stage.chain_id != chain.pk:
        raise ValidationError(_("That stage belongs to another chain."))
    found = set(ChainLink.objects.filter(chain=chain, pk__in=link_pks).values_list("pk", flat=True))
    if found != set(link_pks):
        raise ValidationError(_("The actor list is out of date. Reload the page and try again."))
    links = [ChainLink(pk=pk, stage=stage, position=i) for i, pk in enumerate(link_pks)]
    ChainLink.objects.bulk_update(links, ["stage", "position"])
    chain_touch(chain=chain)


def link_move(*, link: ChainLink, direction: str) -> None:
    """Keyboard alternative: up/down within the stage, left/right to the neighbour stage."""
    chain = link.chain
    if direction in ("up", "down"):
        pks = list(link.stage.links.order_by("position", "pk").values_list("pk", flat=True))
        i = pks.index(link.pk)
        j = max(0, min(len(pks) - 1, i + (-1 if direction == "up" else 1)))
        pks.insert(j, pks.pop(i))
        link_reorder(chain=chain, stage=link.stage, link_pks=pks)
        return
    stages = list(chain.stages.all())
    i = next(n for n, s in enumerate(stages) if s.pk == link.stage_id)
    j = i + (-1 if direction == "left" else 1)
    if not 0 <= j < len(stages):
        return
    target = stages[j]
    pks = list(target.links.order_by("position", "pk").values_list("pk", flat=True))
    link_reorder(chain=chain, stage=target, link_pks=[*pks, link.pk])


def answer_too_long(text: str) -> str | None:
    """Why `text` cannot be saved as a worksheet answer (longer than its column), in the
    user's language; None when it fits. The page and the API refuse it with this."""
    limit = WorksheetAnswer._meta.get_field("text").max_length
    if len(text) <= limit:
        return None
    return _(
        "Not saved: the answer is %(length)s characters long, at most %(limit)s are "
        "allowed. Shorten it to save it."
    ) % {"length": len(text), "limit": limit}


@transaction.atomic
@transaction.atomic
def answer_save(
    *,
    chain: Chain,
    question: str,
    text: str,
    user: AbstractBaseUser,
    link: ChainLink | None,
    version: int | None = None,
) -> WorksheetAnswer:
    """Save a worksheet answer, unless somebody else saved it since `version` was read.

    `version` is the answer's version when the page was loaded (0: there was no answer);
    None skips the check. A stale version raises `EditConflict` with the current answer,
    except when the texts agree anyway.
    """
    answer = (
        WorksheetAnswer.objects.select_for_update()
        .filter(chain=chain, link=link, question=question)
        .first()
    )
    if answer is None:
        answer = WorksheetAnswer(chain=chain, link=link, question=question)
    elif version is not None and answer.version != version and answer.text != text:
        raise EditConflict(answer)
    else:
        answer.version += 1
    answer.text = text
    answer.updated_by = user
    try:
        # A savepoint: two first answers to the same question at the same moment.
        with transaction.atomic():
            answer.save()
    except IntegrityError:
        raise EditConflict(
            WorksheetAnswer.objects.get(chain=chain, link=link, question=question)
        ) from None
    chain_touch(chain=chain)
    return answer


@transaction.atomic
def snapshot_create(*, chain: Chain, label: str, user: AbstractBaseUser) -> ChainSnapshot:
    """Freeze the chain as it is now under a label unique within the chain."""
    label = label.strip()
    if not label:
        raise ValidationError({"label": _("Name the snapshot, for example after the review.")})
    try:
        # Its length before the duplicate query: SQLite refuses a very long LIKE pattern.
        ChainSnapshot._meta.get_field("label").clean(label, None)
    except ValidationError as error:
        raise ValidationError({"label": error.messages}) from None
    duplicate = ValidationError(
        {"label": _("This chain already has a snapshot named “%(label)s”.") % {"label": label}}
    )
    # Case-insensitive: "review 2027-Q1" next to "Review 2027-Q1" would only confuse.
    if chain.snapshots.filter(label__iexact=label).exists():
        raise duplicate
    snapshot = ChainSnapshot(
        chain=chain, label=label, taken_by=user, data=snapshot_data(chain_board(chain))
    )
    snapshot.full_clean()
    try:
        # A savepoint: two reviewers naming a snapshot alike at the same moment.
        with transaction.atomic():
            snapshot.save()
    except IntegrityError:
        raise duplicate from None
    return snapshot


@transaction.atomic
def history_restore(*, chain: Chain, kind: str, history_pk: int) -> models.Model:
    """Bring back a removed actor, contact or influence from its last history row.

    An actor comes back with the contacts, influences and answers that were removed with
    it (the same change batch, see `history.py`). Raises ValidationError when the row
    cannot come back as it was.
    """
    model = {"link": ChainLink, "contact": Contact, "influence": Influence}[kind]
    scope = {"link": {"chain_id": chain.pk}, "influence": {"chain_id": chain.pk}}.get(
        kind, {"link_id__in": ChainLink.history.filter(chain_id=chain.pk).values("id")}
    )
    record = model.history.filter(history_type="-", **scope).get(history_id=history_pk)
    if model.objects.filter(pk=record.id).exists():
        raise ValidationError(_("It is in the chain already."))
    obj = record.instance
    if kind == "link":
        _link_restorable(chain, obj)
    elif kind == "contact" and not chain.links.filter(pk=obj.link_id).exists():
        raise ValidationError(_("Its actor was removed from the chain: restore the actor first."))
    elif kind == "influence":
        _influence_restorable(chain, obj)
    obj.save()
    if kind == "link":
        # The deletion row holds no factors (they go first): the row before it does.
        before = model.history.filter(id=record.id, history_date__lt=record.history_date)
        last = before.exclude(history_type="-").order_by("-history_date").first()
        factors = last.historicalchainlink_success_factors_set.all() if last else []
        obj.success_factors.set([row.successfactor_id for row in factors])
        _batch_restore(chain, record)
    chain_touch(chain=chain)
    return obj


def _link_restorable(chain: Chain, link: ChainLink) -> None:
    if not Actor.objects.filter(pk=link.actor_id).exists():
        raise ValidationError(_("The actor was deleted from the catalog."))
    if chain.links.filter(actor_id=link.actor_id).exists():
        raise ValidationError(_("The actor is in the chain again already."))
    if not chain.stages.filter(pk=link.stage_id).exists():
        # Its stage is gone too: the first stage takes it in.
        stage = chain.stages.first()
        if stage is None:
            raise ValidationError(_("The chain has no stage to put the actor in."))
        link.stage = stage


def _influence_restorable(chain: Chain, influence: Influence) -> None:
    ends = chain.links.filter(pk__in=[influence.source_id, influence.target_id]).count()
    if ends != 2:
        raise ValidationError(_("One of its actors was removed: restore the actor first."))
    if Influence.objects.filter(source=influence.source_id, target=influence.target_id).exists():
        raise ValidationError(_("An influence in this direction exists already."))


def _batch_restore(chain: Chain, record) -> None:
    """The contacts, answers and influences removed together with the actor."""
    batch = {"history_type": "-", "history_batch": record.history_batch}
    for row in Contact.history.filter(link_id=record.id, **batch):
        row.instance.save()
    for row in WorksheetAnswer.history.filter(link_id=record.id, **batch):
        row.instance.save()
    live = set(chain.links.values_list("pk", flat=True))
    for row in Influence.history.filter(chain_id=chain.pk, **batch):
        if {row.source_id, row.target_id} <= live and not Influence.objects.filter(pk=row.id):
            row.instance.save()
