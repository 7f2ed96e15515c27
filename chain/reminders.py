"""The daily reminders: every action owner gets one mail a day listing their open actions
that are overdue or due within `REMINDER_DAYS`, overdue first, then by due date.

`reminder_digests` only builds the mails. Sending is bound to the day: each day's digest
is one row of the worker's task queue (django-tasks' database table) whose primary key is
made from the date. Inserting that row queues the day; turning it from ready to running
claims it. The database lets only one insert and one claim succeed, so several workers and
a `send_reminders` run by hand on the same day still send each owner one mail. A day whose
sending broke off (the mail server went away) is not sent again: one missing digest is
better than two (see README, "Actions and reminders").
"""

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

import webhooks
from lib.text import strip_control

from .models import Action
from .selectors import chain_list_for_user

log = logging.getLogger(__name__)

# Fixed for good: the ids of days already queued are made from it.
DAY_NAMESPACE = uuid.UUID("5f0d6f0e-8a55-4c1b-9d1e-6a7c3c1f2b21")


# Building ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    title: str
    chain: str
    due: date
    url: str


def site_url(path: str) -> str:
    """An absolute address for mails and calendars, which have no request to ask."""
    return settings.SITE_URL + path


def user_language(user: Model) -> str:
    """The language of the user's mails and calendar: the app stores none per user (the
    browser's choice lives in a cookie), so the site's default."""
    return settings.LANGUAGE_CODE


def reminder_actions(today: date) -> list[Action]:
    """Open actions overdue or due within REMINDER_DAYS of active owners with an address,
    by owner and due date, each only while its owner may still see the chain."""
    until = today + timedelta(days=settings.REMINDER_DAYS)
    actions = list(
        Action.objects.filter(status=Action.Status.OPEN, due__lte=until, owner__is_active=True)
        .exclude(owner__email="")
        .select_related("chain", "owner")
        .order_by("owner_id", "due", "pk")
    )
    visible: list[Action] = []
    for _owner, group in groupby(actions, key=lambda a: a.owner_id):
        owned = list(group)
        chains = set(
            chain_list_for_user(owned[0].owner)
            .filter(pk__in={a.chain_id for a in owned})
            .values_list("pk", flat=True)
        )
        visible += [a for a in owned if a.chain_id in chains]
    return visible


def reminder_digests(today: date) -> list[EmailMessage]:
    """One mail per owner with open actions overdue or due soon; nothing is sent."""
    messages = []
    for _owner, group in groupby(reminder_actions(today), key=lambda a: a.owner_id):
        owned = list(group)
        owner = owned[0].owner
        with translation.override(user_language(owner)):
            messages.append(_digest(owner, owned, today))
    return messages


def _digest(owner: Model, actions: list[Action], today: date) -> EmailMessage:
    lines = [
        Line(
            title=_one_line(a.title),
            chain=_one_line(a.chain.scope_name),
            due=a.due,
            url=site_url(a.get_absolute_url()),
        )
        for a in actions
    ]
    overdue = [line for line in lines if line.due < today]
    soon = [line for line in lines if line.due >= today]
    subject = _("Your actions: %(overdue)s overdue, %(soon)s due soon") % {
        "overdue": len(overdue),
        "soon": len(soon),
    }
    return EmailMessage(
        subject=subject,
        body=_body(owner, overdue, soon, today),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[owner.email],
    )


def _one_line(text: str) -> str:
    return " ".join(strip_control(text or "").split())


def _body(owner: Model, overdue: list[Line], soon: list[Line], today: date) -> str:
    name = owner.get_full_name() or owner.get_username()
    parts = [
        _("Hello %(name)s,") % {"name": name},
        "",
        ngettext(
            "this action of yours is overdue or due within %(days)s days:",
            "these actions of yours are overdue or due within %(days)s days:",
            len(overdue) + len(soon),
        )
        % {"days": settings.REMINDER_DAYS},
    ]
    if overdue:
        parts += _section(_("Overdue"), overdue, today)
    for due, group in groupby(soon, key=lambda line: line.due):
        parts += _section(_day_heading(due, today), list(group), today)
    parts += [
        "",
        _("All your actions: %(url)s") % {"url": site_url(_my_actions_path())},
        _("Calendar subscription: %(url)s") % {"url": site_url(reverse("chain:calendar"))},
        "",
        _("You get this mail once a day while you have actions overdue or due soon."),
    ]
    return "\n".join(parts) + "\n"


def _section(heading: str, lines: list[Line], today: date) -> list[str]:
    out = ["", heading, "-" * len(heading)]
    for line in lines:
        due = formats.date_format(line.due, "SHORT_DATE_FORMAT")
        if line.due < today:
            late = (today - line.due).days
            due = ngettext(
                "due %(date)s, %(n)s day overdue", "due %(date)s, %(n)s days overdue", late
            ) % {"date": due, "n": late}
        else:
            due = _("due %(date)s") % {"date": due}
        out += [f"* {line.title} ({due})", f"  {_('Chain')}: {line.chain}", f"  {line.url}"]
    return out


def _day_heading(due: date, today: date) -> str:
    if due == today:
        return _("Due today")
    if due == today + timedelta(days=1):
        return _("Due tomorrow")
    return formats.date_format(due, "l") + ", " + formats.date_format(due, "SHORT_DATE_FORMAT")


def _my_actions_path() -> str:
    try:
        return reverse("chain:my-actions")
    except NoReverseMatch:  # the page comes with the actions views
        return reverse("chain:list")


# Sending once a day -----------------------------------------------------------------------


def day_id(day: date) -> uuid.UUID:
    """The task-queue id of `day`'s digest: the same for every worker and command."""
    return uuid.uuid5(DAY_NAMESPACE, f"reminders:{day.isoformat()}")


def send_time(day: date) -> datetime:
    hour, minute = (int(part) for part in settings.REMINDER_TIME.split(":"))
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def reminders_schedule(day: date) -> bool:
    """Queue `day`'s digest for the worker at REMINDER_TIME; False if it is queued (or
    sent) already. A second insert of the same id fails in the database."""
    from .tasks import reminders_task

    try:
        with transaction.atomic():
            DBTaskResult.objects.create(
                id=day_id(day),
                args_kwargs={"args": [day.isoformat()], "kwargs": {}},
                priority=reminders_task.priority,
                task_path=reminders_task.module_path,
                queue_name=reminders_task.queue_name,
                run_after=send_time(day),
                backend_name=reminders_task.backend,
            )
    except IntegrityError:
        return False
    return True


def reminders_deliver(day: date) -> int:
    """Send `day`'s digests (the caller holds the day's claim) and queue the next day's.
    Returns the number of mails sent."""
    reminders_schedule(day + timedelta(days=1))
    overdue_emit(day)
    messages = reminder_digests(day)
    if not messages:
        return 0
    return _send(messages)


def overdue_emit(day: date) -> int:
    """The webhook event action.overdue for every open action that becomes overdue on
    `day`: due the day before. Called once per day by the day's reminder run (its claim
    makes it once), so each action is announced once, on the first day it is late; a
    day without any run (no worker all day) announces nothing late. Returns how many."""
    if not webhooks.subscribed("action.overdue"):
        return 0
    actions = list(
        Action.objects.filter(status=Action.Status.OPEN, due=day - timedelta(days=1))
        .select_related("chain", "owner")
        .order_by("pk")
    )
    for action in actions:
        webhooks.emit(
            "action.overdue",
            {
                "action": {
                    "id": action.pk,
                    "title": action.title,
                    "due": action.due.isoformat(),
                    "url": site_url(action.get_absolute_url()),
                },
                "chain": {
                    "id": action.chain_id,
                    "name": action.chain.scope_name,
                    "url": site_url(action.chain.get_absolute_url()),
                },
                "owner": (
                    {"id": action.owner_id, "username": action.owner.get_username()}
                    if action.owner_id
                    else None
                ),
            },
        )
    return len(actions)


def _send(messages: Iterable[EmailMessage]) -> int:
    sent = 0
    # One connection for all mails; EMAIL_TIMEOUT bounds every step of it.
    with get_connection() as connection:
        for message in messages:
            message.connection = connection
            try:
                sent += message.send()
            except OSError:  # smtplib's errors are OSErrors: skip this owner, go on
                log.exception("reminder to %s not sent", message.to[0])
    return sent


def send_reminders(today: date, *, by: str = "send_reminders") -> int | None:
    """Send `today`'s digests unless a worker or an earlier run has claimed the day:
    the number of mails sent, or None when the day was claimed already."""
    reminders_schedule(today)
    claimed = DBTaskResult.objects.filter(pk=day_id(today), status=TaskResultStatus.READY).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=[by]
    )
    if not claimed:
        return None
    row = DBTaskResult.objects.get(pk=day_id(today))
    try:
        sent = reminders_deliver(today)
    except Exception as error:
        row.set_failed(error)
        raise
    row.set_successful(sent)
    return sent
