"""The daily reminder mails: who gets one, what it says, and never two a day."""

import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chain import reminders
from chain.models import Action
from customers.worker import run_worker
from tests.factories import make_chain, make_team, make_user

TODAY = date(2026, 12, 7)  # a Monday


def _action(chain, owner, title="Call the buyer", due=TODAY, **fields) -> Action:
    fields.setdefault("status", Action.Status.OPEN)
    if fields["status"] != Action.Status.OPEN:
        fields.setdefault("closed_at", timezone.now())
    return Action.objects.create(chain=chain, owner=owner, title=title, due=due, **fields)


@pytest.fixture
def mailed(owner):
    owner.email = "alice@example.com"
    owner.first_name, owner.last_name = "Alice", "Adler"
    owner.save()
    return owner


@pytest.mark.django_db
def test_the_digest_lists_overdue_first_then_by_due_date(chain, mailed):
    _action(chain, mailed, "Later this week", due=TODAY + timedelta(days=3))
    _action(chain, mailed, "Long overdue", due=TODAY - timedelta(days=4))
    _action(chain, mailed, "Today's call", due=TODAY)
    _action(chain, mailed, "Next month", due=TODAY + timedelta(days=30))
    _action(chain, mailed, "Done already", due=TODAY, status=Action.Status.DONE)
    _action(chain, mailed, "Undated", due=None)

    (message,) = reminders.reminder_digests(TODAY)

    body = message.body
    assert message.to == ["alice@example.com"]
    assert message.subject == "Your actions: 1 overdue, 2 due soon"
    assert body.startswith("Hello Alice Adler,")
    order = [body.index(t) for t in ("Overdue", "Long overdue", "Due today", "Today's call")]
    assert order == sorted(order)
    assert body.index("Today's call") < body.index("Later this week")
    assert "4 days overdue" in body and "Thursday" in body
    assert "Next month" not in body and "Done already" not in body and "Undated" not in body
    assert f"http://localhost:8000/chains/{chain.pk}/?tab=actions" in body
    assert f"Chain: {chain.scope_name}" in body


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="de", SITE_URL="https://ketten.example.com")
def test_the_digest_speaks_the_default_language(chain, mailed):
    _action(chain, mailed, "Einkäufer anrufen", due=TODAY - timedelta(days=1))
    _action(chain, mailed, "Angebot schicken", due=TODAY + timedelta(days=1))

    (message,) = reminders.reminder_digests(TODAY)

    assert message.subject == "Ihre Maßnahmen: 1 überfällig, 1 bald fällig"
    assert "Hallo Alice Adler," in message.body
    assert "Überfällig" in message.body and "Morgen fällig" in message.body
    assert "fällig am 06.12.2026, 1 Tag überfällig" in message.body
    assert f"https://ketten.example.com/chains/{chain.pk}/?tab=actions" in message.body


@pytest.mark.django_db
def test_nobody_without_due_actions_an_address_or_the_chain_gets_a_mail(
    chain, mailed, teammate, outsider
):
    _action(chain, mailed, "Far away", due=TODAY + timedelta(days=8))
    _action(chain, teammate, "No address", due=TODAY)  # bob has no email
    outsider.email = "charlie@example.com"
    outsider.save()
    _action(chain, outsider, "Not his chain any more", due=TODAY)
    gone = make_user("dora", make_team("Gone"), email="dora@example.com", is_active=False)
    _action(make_chain(gone.teams.get(), gone), gone, "Left the company", due=TODAY)

    assert reminders.reminder_digests(TODAY) == []


@pytest.mark.django_db
def test_each_owner_gets_one_mail_with_only_their_actions(chain, mailed, teammate):
    teammate.email = "bob@example.com"
    teammate.save()
    _action(chain, mailed, "Alice's task")
    _action(chain, teammate, "Bob's task")
    _action(chain, teammate, "Bob's other task", due=TODAY + timedelta(days=7))

    messages = {m.to[0]: m for m in reminders.reminder_digests(TODAY)}

    assert set(messages) == {"alice@example.com", "bob@example.com"}
    assert "Bob's task" not in messages["alice@example.com"].body
    assert "Bob's other task" in messages["bob@example.com"].body


@pytest.mark.django_db
def test_control_characters_and_line_breaks_stay_out_of_the_mail(chain, mailed):
    _action(chain, mailed, "Call\x0bthe\x1b buyer")
    (message,) = reminders.reminder_digests(TODAY)
    assert "* Call the buyer (due" in message.body


@pytest.mark.django_db
def test_two_runs_on_the_same_day_send_once(chain, mailed):
    _action(chain, mailed)

    assert reminders.send_reminders(TODAY) == 1
    assert reminders.send_reminders(TODAY) is None

    assert len(mail.outbox) == 1
    row = DBTaskResult.objects.get(pk=reminders.day_id(TODAY))
    assert row.status == "SUCCESSFUL" and row.return_value == 1
    # The next day is queued for the worker, at the reminder time.
    tomorrow = DBTaskResult.objects.get(pk=reminders.day_id(TODAY + timedelta(days=1)))
    assert tomorrow.status == "READY"
    assert timezone.localtime(tomorrow.run_after).hour == 7
    assert reminders.send_reminders(TODAY + timedelta(days=1)) == 1
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_day_the_worker_claimed_is_not_sent_by_the_command(chain, mailed, capsys):
    _action(chain, mailed)
    reminders.reminders_schedule(TODAY)
    DBTaskResult.objects.filter(pk=reminders.day_id(TODAY)).update(status="RUNNING")

    call_command("send_reminders", "--date", TODAY.isoformat())

    assert "sent already" in capsys.readouterr().out
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_command_sends_and_says_how_many(chain, mailed, capsys):
    _action(chain, mailed)
    call_command("send_reminders", "--date", TODAY.isoformat())
    assert "1 reminder mail(s) sent." in capsys.readouterr().out
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_scheduling_a_day_twice_queues_it_once():
    assert reminders.reminders_schedule(TODAY) is True
    assert reminders.reminders_schedule(TODAY) is False
    row = DBTaskResult.objects.get()
    assert row.task_path == "chain.tasks.reminders_task"
    assert row.args_kwargs == {"args": ["2026-12-07"], "kwargs": {}}


@pytest.mark.django_db
def test_the_worker_runs_the_queued_day_and_queues_the_next(chain, mailed):
    from chain.tasks import reminders_task

    _action(chain, mailed)
    assert reminders_task.call(TODAY.isoformat()) == 1
    assert len(mail.outbox) == 1
    assert DBTaskResult.objects.filter(pk=reminders.day_id(TODAY + timedelta(days=1))).exists()


class _Loop:
    worker_id = "test-worker"

    def run(self) -> None:
        pass


@pytest.mark.django_db
def test_every_worker_start_queues_today_and_tomorrow_once():
    run_worker(_Loop())
    run_worker(_Loop())  # a second worker, or a restart
    today = timezone.localdate()
    ids = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert ids == {reminders.day_id(today), reminders.day_id(today + timedelta(days=1))}


@pytest.mark.django_db
def test_a_failing_mail_server_fails_the_day_without_retrying(chain, mailed, monkeypatch):
    _action(chain, mailed)

    def broken(*args, **kwargs):
        raise TimeoutError("mail server unreachable")

    monkeypatch.setattr(reminders, "get_connection", broken)
    with pytest.raises(TimeoutError):
        reminders.send_reminders(TODAY)
    assert DBTaskResult.objects.get(pk=reminders.day_id(TODAY)).status == "FAILED"
    assert reminders.send_reminders(TODAY) is None


@pytest.mark.django_db
def test_one_refused_address_does_not_stop_the_others(chain, mailed, teammate, monkeypatch):
    teammate.email = "bob@example.com"
    teammate.save()
    _action(chain, mailed)
    _action(chain, teammate)
    sent = []

    def send(self, fail_silently=False):
        if self.to == ["alice@example.com"]:
            raise ConnectionRefusedError("refused")
        sent.append(self.to)
        return 1

    monkeypatch.setattr("django.core.mail.EmailMessage.send", send)
    assert reminders.send_reminders(TODAY) == 1
    assert sent == [["bob@example.com"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_send_once(chain, mailed):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time anyway")
    _action(chain, mailed)
    start = threading.Barrier(4)
    results = []

    def run() -> None:
        try:
            start.wait()
            results.append(reminders.send_reminders(TODAY))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results, key=str) == [1, None, None, None]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_queries_grow_with_owners_not_with_actions(chain, mailed, django_assert_num_queries):
    for i in range(3):
        _action(chain, mailed, f"Task {i}")
    with CaptureQueriesContext(connection) as few:
        reminders.reminder_digests(TODAY)
    for i in range(20):
        _action(chain, mailed, f"More {i}", due=TODAY + timedelta(days=i % 8))
    with django_assert_num_queries(len(few.captured_queries)):
        (message,) = reminders.reminder_digests(TODAY)
    assert "More 19" in message.body


MAIL_VARIABLES = ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_TIMEOUT", "SITE_URL")


def test_mails_go_to_the_console_until_a_server_is_named(monkeypatch):
    from tests.settings_env import settings_with

    plain = settings_with(monkeypatch, unset=MAIL_VARIABLES)
    assert plain.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
    assert plain.EMAIL_TIMEOUT == 10 and plain.SITE_URL == "http://localhost:8000"
    smtp = settings_with(
        monkeypatch,
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="465",
        EMAIL_USE_TLS="0",
        EMAIL_USE_SSL="1",
        EMAIL_TIMEOUT="5",
        SITE_URL="https://chains.example.com/",
    )
    assert smtp.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    assert (smtp.EMAIL_HOST, smtp.EMAIL_PORT, smtp.EMAIL_TIMEOUT) == ("smtp.example.com", 465, 5)
    assert (smtp.EMAIL_USE_TLS, smtp.EMAIL_USE_SSL) == (False, True)
    assert smtp.SITE_URL == "https://chains.example.com"
