"""Actions: the next steps of a chain, who does them and by when (docs/method.md, "Actions").

Writes (`action_*`, as in services.py) and the reads the pages share (as in selectors.py)
in one module: every write marks the chain changed (`services.chain_touch`), so that an
approved chain whose plan of actions changes shows "changed since approval".
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from lib.text import strip_control

from . import services
from .models import Action, Chain, ChainEvent, ChainLink, Contact, Question, ReviewComment
from .selectors import User, _for_user, chain_list_for_user, team_ids_for_user

# A new action is due in two weeks unless somebody says otherwise.
DEFAULT_DUE_DAYS = 14
TITLE_MAX = Action._meta.get_field("title").max_length
ABOUT_FIELDS = ("link", "contact", "question", "comment", "customer_number")


def default_due(today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) + datetime.timedelta(days=DEFAULT_DUE_DAYS)


def team_members(chain: Chain) -> QuerySet:
    """Who may own the chain's actions: the members of its team."""
    return get_user_model().objects.filter(teams=chain.team_id).order_by("username")


# Checks ------------------------------------------------------------------------------------


def action_check(action: Action) -> None:
    """Refuse an action that is not a well-formed next step of its chain.

    The title is trimmed and required; the owner belongs to the chain's team; what it is
    about (at most one of link, contact, question, comment, customer number) belongs to
    the same chain. Raises ValidationError with the field each message is about.
    """
    errors: dict[str, list[str]] = {}
    action.title = (action.title or "").strip()
    if not action.title:
        errors.setdefault("title", []).append(_("Say what is to be done."))
    elif len(action.title) > TITLE_MAX:
        errors.setdefault("title", []).append(
            _("At most %(n)s characters, please.") % {"n": TITLE_MAX}
        )
    if action.owner_id is not None and not _in_team(action.owner_id, action.chain):
        errors.setdefault("owner", []).append(
            _("The owner must be a member of the chain's team (%(team)s).")
            % {"team": action.chain.team}
        )
    about = _about_errors(action)
    if about:
        errors.setdefault("__all__", []).extend(about)
    if errors:
        raise ValidationError(errors)


def _in_team(user_id: int, chain: Chain) -> bool:
    return chain.team.members.filter(pk=user_id).exists()


def _about_errors(action: Action) -> list[str]:
    action.customer_number = " ".join(strip_control(action.customer_number or "").split())
    targets = [name for name in ABOUT_FIELDS if getattr(action, about_attname(name))]
    if len(targets) > 1:
        return [_("An action is about one thing at most: an actor, a contact, a question, ...")]
    chain_id = action.chain_id
    if action.link_id and not ChainLink.objects.filter(pk=action.link_id, chain=chain_id).exists():
        return [_("This actor is not in the chain.")]
    if (
        action.contact_id
        and not Contact.objects.filter(pk=action.contact_id, link__chain=chain_id).exists()
    ):
        return [_("This contact person is not in the chain.")]
    if action.question and action.question not in Question.values:
        return [_("Unknown worksheet question.")]
    if (
        action.comment_id
        and not ReviewComment.objects.filter(pk=action.comment_id, chain=chain_id).exists()
    ):
        return [_("This review comment is not about the chain.")]
    return []


def about_attname(name: str) -> str:
    return name if name in ("question", "customer_number") else f"{name}_id"


# Writes ------------------------------------------------------------------------------------


@transaction.atomic
def action_create(
    *,
    chain: Chain,
    user: AbstractBaseUser,
    title: str,
    owner: AbstractBaseUser | None = None,
    due: datetime.date | None = None,
    notes: str = "",
    source: str = Action.Source.MANUAL,
    link: ChainLink | None = None,
    contact: Contact | None = None,
    question: str = "",
    comment: ReviewComment | None = None,
    customer_number: str = "",
) -> Action:
    if source not in Action.Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    action = Action(
        chain=chain,
        title=title,
        owner=owner,
        due=due,
        notes=notes.strip(),
        source=source,
        link=link,
        contact=contact,
        question=question,
        comment=comment,
        customer_number=customer_number,
        created_by=user,
    )
    action_check(action)
    action._history_user = user  # for the activity feed when called outside a request
    action.save()
    if source == Action.Source.TYPE_CHANGE and link is not None:
        # The type change is answered: its mark leaves the card, the diagram and the light.
        chain_events_seen(link=link)
    services.chain_touch(chain=chain)
    return action


def chain_events_seen(*, link: ChainLink) -> int:
    """Mark the actor's unseen type changes in this chain as seen; how many there were."""
    return ChainEvent.objects.filter(
        link=link, kind=ChainEvent.Kind.TYPE_CHANGE, seen_at__isnull=True
    ).update(seen_at=timezone.now())


@transaction.atomic
def action_add(*, form: forms.ModelForm, chain: Chain, user: AbstractBaseUser) -> Action:
    """Create the action a valid `ActionForm` describes (the page's and the API's)."""
    data = form.cleaned_data
    return action_create(
        chain=chain,
        user=user,
        title=data["title"],
        owner=data["owner"],
        due=data["due"],
        notes=data["notes"],
        source=data.get("source") or Action.Source.MANUAL,
        **form.about_target(),
    )


def action_update(*, form: forms.ModelForm, user: AbstractBaseUser) -> Action:
    """Save an action's edit form, unless somebody saved the action since it was loaded.

    `services.versioned_save` raises `services.EditConflict` with the current action for
    a stale version; the status and who closed it stay as they are now.
    """
    action = form.instance
    action_check(action)
    action._history_user = user
    saved = services.versioned_save(form=form)
    services.chain_touch(chain=action.chain)
    return saved


@transaction.atomic
def action_close(*, action: Action, user: AbstractBaseUser, status: str) -> Action:
    """Mark the action done or dropped, with who closed it and when."""
    if status not in (Action.Status.DONE, Action.Status.DROPPED):
        raise ValidationError(_("An action is closed as done or dropped."))
    locked = Action.objects.select_for_update().get(pk=action.pk)
    if not locked.is_open:
        raise ValidationError(
            _("This action is “%(status)s” already; reload the page.")
            % {"status": locked.get_status_display()}
        )
    return _status_set(action, user, status, closed_by=user, closed_at=timezone.now())


@transaction.atomic
def action_reopen(*, action: Action, user: AbstractBaseUser) -> Action:
    locked = Action.objects.select_for_update().get(pk=action.pk)
    if locked.is_open:
        raise ValidationError(_("This action is open already; reload the page."))
    return _status_set(action, user, Action.Status.OPEN, closed_by=None, closed_at=None)


def _status_set(action: Action, user: AbstractBaseUser, status: str, **fields: object) -> Action:
    """The status change alone: an edit form opened before it still saves its text
    (`versioned_save` keeps the status of the row as it is then)."""
    action.status = status
    for name, value in fields.items():
        setattr(action, name, value)
    action._history_user = user
    action.save(update_fields=["status", *fields])
    services.chain_touch(chain=action.chain)
    return action


# The new-action form, prefilled from a link elsewhere ------------------------------------


def _pk(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def action_initial(chain: Chain, user: User, params) -> dict:
    """The new-action form's start values from the query string of a link to it.

    `source` (an `Action.Source`), what it is about (`link`, `contact`, `question`,
    `comment`: pks in this chain or a question code; `customer`: a customer number) and
    `title`; anything unknown or of another chain is ignored. The owner is the user if
    they are in the chain's team, the due date two weeks from today, and the title, unless
    given, says what to do about the thing the action is about.
    """
    source = params.get("source", "")
    initial: dict = {
        "source": source if source in Action.Source.values else Action.Source.MANUAL,
        "due": default_due(),
        "about": "",
    }
    if chain.team_id in team_ids_for_user(user):
        initial["owner"] = user.pk
    about, title = _about_initial(chain, params, initial["source"])
    initial["about"] = about
    given = _one_line(params.get("title"))[:TITLE_MAX]
    initial["title"] = given or title
    return initial


def _about_initial(chain: Chain, params, source: str) -> tuple[str, str]:
    """("kind:value" for the form's "about" choice, default title) from the parameters."""
    if (pk := _pk(params.get("link", ""))) is not None:
        link = chain.links.select_related("actor").filter(pk=pk).first()
        if link is not None:
            return f"link:{link.pk}", _link_title(link, source)
    if (pk := _pk(params.get("contact", ""))) is not None:
        contact = Contact.objects.filter(pk=pk, link__chain=chain).select_related("link__actor")
        if contact := contact.first():
            return f"contact:{contact.pk}", _contact_title(contact)
    if (question := params.get("question", "")) in Question.values:
        label = Truncator(Question(question).label).words(8)
        return f"q:{question}", _("Answer the worksheet question: %(q)s") % {"q": label}
    pk = _pk(params.get("comment", ""))
    if pk is not None and (comment := chain.comments.filter(pk=pk).first()):
        words = Truncator(" ".join(comment.text.split())).words(8)
        return f"comment:{comment.pk}", _("Answer review comment: %(text)s") % {"text": words}
    number = _one_line(params.get("customer"))
    if number and len(number) <= Action._meta.get_field("customer_number").max_length:
        return f"customer:{number}", _("Follow up customer %(number)s") % {"number": number}
    return "", ""


def _one_line(value: str | None) -> str:
    """A query parameter as one clean line: no control characters, single spaces."""
    return " ".join(strip_control(value or "").split())


def _link_title(link: ChainLink, source: str) -> str:
    if source in (Action.Source.WHITE_SPOT, Action.Source.WHERE_TO_ACT):
        return _("Find a contact at %(actor)s") % {"actor": link.actor.name}
    return _("Next step with %(actor)s") % {"actor": link.actor.name}


def _contact_title(contact: Contact) -> str:
    names = {"role": contact.role, "name": contact.name, "actor": contact.link.actor.name}
    if contact.is_placeholder:
        return _("Find out who is %(role)s at %(actor)s") % names
    return _("Talk to %(name)s (%(actor)s)") % names


# Reads -------------------------------------------------------------------------------------


def action_get_for_user(user: User, pk: int, *, edit: bool = False) -> Action:
    """The action, or 404 unless its chain is visible, or 403 if it may not be changed."""
    actions = Action.objects.select_related("chain__team")
    return _for_user(actions, user, pk, edit=edit)


def _with_about(actions: QuerySet[Action]) -> QuerySet[Action]:
    return actions.select_related("owner", "link__actor", "contact__link__actor", "comment")


def _mark(actions: list[Action], today: datetime.date) -> list[Action]:
    """Give each action `overdue`: open and due before today."""
    for action in actions:
        action.overdue = action.is_open and action.due is not None and action.due < today
    return actions


@dataclass
class ChainActions:
    open: list[Action]
    closed: list[Action]

    @property
    def overdue(self) -> int:
        return sum(1 for action in self.open if action.overdue)


def chain_actions(chain: Chain, *, today: datetime.date | None = None) -> ChainActions:
    """The chain's actions in one query: the open ones by due date (undated last), then
    the closed ones, most recently closed first."""
    today = today or timezone.localdate()
    actions = _mark(list(_with_about(chain.actions.all())), today)
    closed = [a for a in actions if not a.is_open]
    closed.sort(key=lambda a: (a.closed_at, a.pk), reverse=True)
    return ChainActions(open=[a for a in actions if a.is_open], closed=closed)


# "My actions": which of them, in which order.
MY_FILTERS = ("open", "done", "all")
MY_ORDERS = ("due", "-due")


def my_actions(user: User, *, show: str = "open", order: str = "due") -> QuerySet[Action]:
    """The user's own actions in the chains they may see: open ones first, then by due
    date (`order` "due" or "-due", undated last), with their chain and what they are about.

    `show` "open", "done" (done or dropped) or "all".
    """
    actions = Action.objects.filter(owner=user.pk, chain__in=chain_list_for_user(user))
    if show == "open":
        actions = actions.filter(status=Action.Status.OPEN)
    elif show == "done":
        actions = actions.exclude(status=Action.Status.OPEN)
    due = F("due").desc(nulls_last=True) if order == "-due" else F("due").asc(nulls_last=True)
    open_first = When(status=Action.Status.OPEN, then=Value(0))
    first = Case(open_first, default=Value(1), output_field=IntegerField())
    return _with_about(actions.select_related("chain")).order_by(first, due, "pk")


def actions_mark_overdue(actions: list[Action]) -> list[Action]:
    return _mark(actions, timezone.localdate())


def chains_for_actor_actions(user: User, actor_id: int | None) -> QuerySet[Chain]:
    """The chains using the actor in which `user` may create actions (a customer's page)."""
    if actor_id is None:
        return Chain.objects.none()
    chains = chain_list_for_user(user, edit=True).filter(links__actor=actor_id)
    return chains.select_related("team").order_by("scope_name", "pk").distinct()
