"""The calendar of one's actions: the secret address, renewing it, and the iCalendar feed."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from chain import calendar
from chain.models import Action, CalendarFeed

TODAY = date(2026, 12, 7)


def _action(chain, owner, title="Call the buyer", due=TODAY, **fields) -> Action:
    fields.setdefault("status", Action.Status.OPEN)
    if fields["status"] != Action.Status.OPEN:
        fields.setdefault("closed_at", timezone.now())
    return Action.objects.create(chain=chain, owner=owner, title=title, due=due, **fields)


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def parse_ics(text: str) -> tuple[dict, list[dict]]:
    """A small RFC 5545 reader: the calendar's properties and its events, each a dict of
    name → (parameters, value); checks the line endings and the folding on the way."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75, line
    lines = text.replace("\r\n ", "").split("\r\n")[:-1]
    calendar_props: dict = {}
    events: list[dict] = []
    current = calendar_props
    for line in lines:
        head, value = line.split(":", 1)
        name, *params = head.split(";")
        if (name, value) == ("BEGIN", "VEVENT"):
            current = {}
            events.append(current)
        elif (name, value) == ("END", "VEVENT"):
            current = calendar_props
        else:
            current[name] = (params, value)
    return calendar_props, events


def _fetch(client, feed) -> tuple[dict, list[dict]]:
    return parse_ics(client.get(f"/chains/actions/calendar/{feed.token}.ics").content.decode())


@pytest.fixture
def feed_url(client_owner, owner):
    """The owner's feed address, as the calendar page shows it."""
    body = client_owner.get("/chains/actions/calendar/").content.decode()
    token = CalendarFeed.objects.get(user=owner).token
    url = f"/chains/actions/calendar/{token}.ics"
    assert f"http://testserver{url}" in body
    return url


@pytest.mark.django_db
def test_the_page_shows_a_secret_address_and_how_to_subscribe(client_owner, owner, feed_url):
    response = client_owner.get("/chains/actions/calendar/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "webcal://testserver" + feed_url in body
    assert "Outlook" in body and "Google" in body and "Apple" in body
    assert 'action="/chains/actions/calendar/renew/"' in body and "data-confirm=" in body
    # The address stays the same from visit to visit.
    assert len(CalendarFeed.objects.get(user=owner).token) >= 43
    client_owner.get("/chains/actions/calendar/")
    assert CalendarFeed.objects.filter(user=owner).count() == 1


@pytest.mark.django_db
@override_settings(SITE_URL="https://chains.example.com")
def test_the_feed_has_one_all_day_event_per_open_dated_action(client, chain, owner, feed_url):
    soon = _action(chain, owner, "Call the buyer", due=TODAY + timedelta(days=2))
    late = _action(chain, owner, "Send the offer", due=TODAY - timedelta(days=3), notes="Price")
    _action(chain, owner, "Undated", due=None)
    _action(chain, owner, "Done", status=Action.Status.DONE)

    response = client.get(feed_url)  # no login: calendar programs have none

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    props, events = parse_ics(response.content.decode())
    assert props["VERSION"][1] == "2.0" and props["PRODID"][1]
    assert props["X-WR-CALNAME"][1] == "Actions: alice"
    assert [e["SUMMARY"][1] for e in events] == ["Send the offer", "Call the buyer"]
    event = events[1]
    assert event["UID"][1] == f"action-{soon.pk}@chains.example.com"
    assert event["DTSTART"] == (["VALUE=DATE"], "20261209")
    assert event["DTEND"] == (["VALUE=DATE"], "20261210")
    assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"][1])
    url = f"https://chains.example.com/chains/{chain.pk}/?tab=actions"
    assert event["URL"][1] == url
    assert _unescape(event["DESCRIPTION"][1]) == f"Chain: {chain.scope_name}\n{url}"
    assert _unescape(events[0]["DESCRIPTION"][1]).endswith("\n\nPrice")
    assert events[0]["UID"][1] == f"action-{late.pk}@chains.example.com"


@pytest.mark.django_db
def test_texts_are_escaped_and_long_lines_folded(client, chain, owner, feed_url):
    title = "Ask; then, maybe \\ decide\nnow\x0b" + "ü" * 80
    _action(chain, owner, title)
    text = client.get(feed_url).content.decode()
    assert "SUMMARY:Ask\\; then\\, maybe \\\\ decide\\nnow\\n" in text
    _props, (event,) = parse_ics(text)  # checks every line is at most 75 octets
    assert _unescape(event["SUMMARY"][1]) == "Ask; then, maybe \\ decide\nnow\n" + "ü" * 80


def test_folding_never_splits_a_character():
    line = "SUMMARY:" + "€" * 60
    folded = calendar.ical_fold(line)
    for piece in folded.split("\r\n"):
        assert len(piece.encode()) <= 75
        piece.encode().decode()  # whole characters only
    assert folded.replace("\r\n ", "") == line
    assert calendar.ical_fold("X:short") == "X:short"


def test_an_empty_calendar_is_still_a_calendar():
    text = calendar.calendar_ics(
        [], name="Actions, mine", description="%(chain)s", now=datetime(2026, 12, 7, tzinfo=UTC)
    )
    props, events = parse_ics(text)
    assert events == [] and props["X-WR-CALNAME"][1] == "Actions\\, mine"
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")


@pytest.mark.django_db
def test_renewing_makes_the_old_address_404_at_once(client_owner, owner, feed_url):
    assert client_owner.get(feed_url).status_code == 200
    response = client_owner.post("/chains/actions/calendar/renew/", follow=True)
    assert "new address" in response.content.decode()
    assert client_owner.get(feed_url).status_code == 404
    token = CalendarFeed.objects.get(user=owner).token
    assert client_owner.get(f"/chains/actions/calendar/{token}.ics").status_code == 200


@pytest.mark.django_db
def test_renew_needs_a_post(client_owner, owner, feed_url):
    token = CalendarFeed.objects.get(user=owner).token
    assert client_owner.get("/chains/actions/calendar/renew/").status_code == 405
    assert CalendarFeed.objects.get(user=owner).token == token


@pytest.mark.django_db
def test_an_unknown_token_is_404(client, chain, owner):
    _action(chain, owner)
    assert client.get("/chains/actions/calendar/x.ics").status_code == 404
    fake = calendar.new_token()
    assert client.get(f"/chains/actions/calendar/{fake}.ics").status_code == 404


@pytest.mark.django_db
def test_another_users_feed_shows_none_of_your_actions(client, chain, owner, teammate):
    _action(chain, owner, "Alice's call")
    _action(chain, teammate, "Bob's visit")
    feed = calendar.calendar_feed_get(user=teammate)
    _props, events = _fetch(client, feed)
    assert [e["SUMMARY"][1] for e in events] == ["Bob's visit"]


@pytest.mark.django_db
def test_actions_of_a_chain_no_longer_visible_leave_the_feed(client, chain, owner, team):
    _action(chain, owner, "Alice's call")
    feed = calendar.calendar_feed_get(user=owner)
    team.members.remove(owner)
    _props, events = _fetch(client, feed)
    assert events == []


@pytest.mark.django_db
def test_a_deactivated_users_feed_is_gone(client, chain, owner):
    feed = calendar.calendar_feed_get(user=owner)
    owner.is_active = False
    owner.save()
    assert client.get(f"/chains/actions/calendar/{feed.token}.ics").status_code == 404


@pytest.mark.django_db
def test_the_feed_queries_do_not_grow_with_actions(
    client, chain, owner, django_assert_max_num_queries
):
    feed = calendar.calendar_feed_get(user=owner)
    url = f"/chains/actions/calendar/{feed.token}.ics"
    _action(chain, owner)
    with django_assert_max_num_queries(6) as few:
        client.get(url)
    for i in range(10):
        _action(chain, owner, f"Action {i}")
    with django_assert_max_num_queries(len(few)):
        client.get(url)


@pytest.mark.django_db
def test_the_page_needs_a_login(client):
    response = client.get("/chains/actions/calendar/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_secret_address_stays_out_of_the_log(client, owner, caplog):
    feed = calendar.calendar_feed_get(user=owner)
    with caplog.at_level("INFO", logger="chainmap.request"):
        client.get(f"/chains/actions/calendar/{feed.token}.ics")
    assert "GET /chains/actions/calendar/….ics 200" in caplog.text
    assert feed.token not in caplog.text
