"""The dashboard's actions per chain and its filters by the traffic light's reasons."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chain.models import Action, ChainEvent
from chain.selectors import DashboardFilters
from tests.factories import make_chain, make_contact, make_link

URL = "/chains/dashboard/"
TODAY = timezone.localdate()


def _rows(response) -> dict:
    board = response.context["dashboard"]
    return {chain.scope_name: chain for group in board.groups for chain in group.chains}


def _facets(response) -> dict[str, int]:
    return {f.css: f.count for f in response.context["dashboard"].reasons}


def _chain(team, owner, name: str, *, overdue: int = 0, open_: int = 0, change: bool = False):
    chain = make_chain(team, owner, scope_name=name)
    link = make_link(chain)
    make_contact(link)
    for i in range(overdue):
        Action.objects.create(chain=chain, title=f"Late {i}", due=TODAY - timedelta(days=1 + i))
    for i in range(open_):
        Action.objects.create(chain=chain, title=f"Soon {i}", due=TODAY + timedelta(days=1 + i))
    if change:
        data = {"customer": "K-1", "name": "Bau Meyer", "from": "growth", "to": "bell"}
        ChainEvent.objects.create(chain=chain, link=link, kind="type_change", data=data)
    return chain


@pytest.mark.django_db
def test_it_shows_open_and_overdue_actions_per_chain(client, manager, team, owner):
    _chain(team, owner, "Late", overdue=2, open_=1)
    _chain(team, owner, "Calm")
    client.force_login(manager)
    response = client.get(URL)
    rows = _rows(response)
    assert (rows["Late"].health.open_actions, rows["Late"].health.overdue_actions) == (3, 2)
    assert rows["Calm"].health.open_actions == 0
    body = response.content.decode()
    assert "Open actions" in body and "2 overdue" in body
    assert "2 overdue actions" in rows["Late"].health.light_reasons


@pytest.mark.django_db
def test_it_filters_by_the_reasons_of_the_light(client, manager, team, owner):
    _chain(team, owner, "Late", overdue=1)
    _chain(team, owner, "Changed", change=True)
    _chain(team, owner, "Both", overdue=1, change=True)
    client.force_login(manager)
    response = client.get(URL)
    facets = _facets(response)
    assert facets["reason-overdue_actions"] == 2
    assert facets["reason-type_changes"] == 2
    # Every chain here has a single actor: roles are missing everywhere.
    assert facets["reason-missing_role"] == 3
    assert set(_rows(client.get(f"{URL}?reason=overdue_actions"))) == {"Late", "Both"}
    response = client.get(f"{URL}?reason=type_changes")
    assert set(_rows(response)) == {"Changed", "Both"}
    # The other facets count among the chains passing the other filters; this one's own
    # count stays, and its link clears it.
    assert _facets(response)["reason-type_changes"] == 2
    active = next(f for f in response.context["dashboard"].reasons if f.active)
    assert active.query == ""
    assert set(_rows(client.get(f"{URL}?reason=nonsense"))) == {"Late", "Changed", "Both"}


def test_the_reason_filter_is_read_and_written_back():
    filters = DashboardFilters.from_params({"reason": "missing_role", "light": "red"})
    assert (filters.reason, filters.active) == ("missing_role", True)
    assert filters.query() == "light=red&reason=missing_role"
    assert DashboardFilters.from_params({"reason": "<script>"}).reason == ""


@pytest.mark.django_db
def test_actions_and_type_changes_keep_the_query_count(client, manager, team, owner):
    client.force_login(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    _chain(team, owner, "One", overdue=1, change=True)
    few = queries()
    for i in range(8):
        _chain(team, owner, f"More {i}", overdue=2, open_=2, change=True)
    assert queries() == few
