"""The shared cast: an owner and a teammate in one team, an outsider in another, and a
manager who belongs to no team but sees (and reviews) every chain."""

import pytest
from django.utils import translation

from tests.factories import make_chain, make_team, make_user


@pytest.fixture
def team(db):
    return make_team("Sales adhesives")


@pytest.fixture
def other_team(db):
    return make_team("Sales industry")


@pytest.fixture
def owner(team):
    return make_user("alice", team)


@pytest.fixture
def teammate(team):
    return make_user("bob", team)


@pytest.fixture
def outsider(other_team):
    return make_user("charlie", other_team)


@pytest.fixture
def manager(db):
    return make_user("maria", roles=("manager",))


@pytest.fixture
def chain(team, owner):
    return make_chain(team, owner)


@pytest.fixture
def client_owner(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def client_manager(client, manager):
    """A manager sees every customer; sales users only their teams' (test_visibility.py)."""
    client.force_login(manager)
    return client


@pytest.fixture
def htmx_headers():
    return {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in German leaves German active in the thread: start each test afresh."""
    yield
    translation.deactivate()
