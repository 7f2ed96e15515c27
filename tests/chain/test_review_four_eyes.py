"""Four eyes: a chain is approved by a manager who neither submitted it nor belongs to its
team; a setting lets the only member of a one-person team approve its own chain."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from chain import services
from chain.models import Chain
from tests.factories import make_chain, make_team, make_user
from tests.settings_env import settings_with

HX = {"HX-Request": "true"}
REVIEW = {**HX, "HX-Target": "review"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lead(team):
    """Leads the team: sales and manager, like the demo user."""
    return make_user("lena", team, roles=("sales", "manager"))


@pytest.fixture
def client_manager(manager):
    return _client(manager)


@pytest.mark.django_db
def test_submitting_records_who_submitted(client_owner, owner, chain):
    client_owner.post(f"/chains/{chain.pk}/submit/", headers=HX)
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED and chain.submitted_by == owner


@pytest.mark.django_db
def test_a_manager_outside_the_team_approves_and_it_is_recorded(
    client_owner, client_manager, manager, chain
):
    client_owner.post(f"/chains/{chain.pk}/submit/")
    response = client_manager.post(f"/chains/{chain.pk}/approve/", headers=HX)
    assert response.status_code == 200
    chain.refresh_from_db()
    assert chain.status == Chain.Status.APPROVED
    assert chain.approved_by == manager and chain.approved_at is not None
    assert "Approved on" in response.content.decode()


@pytest.mark.django_db
def test_the_submitter_may_not_approve(lead, chain):
    client = _client(lead)
    client.post(f"/chains/{chain.pk}/submit/")
    response = client.post(f"/chains/{chain.pk}/approve/", headers=HX)
    assert response.status_code == 200
    assert "You submitted this chain" in response.content.decode()
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED and chain.approved_by is None


@pytest.mark.django_db
def test_a_team_member_who_did_not_submit_may_not_approve(client_owner, lead, chain):
    client_owner.post(f"/chains/{chain.pk}/submit/")
    # Without htmx: back to the chain page, which says why.
    response = _client(lead).post(f"/chains/{chain.pk}/approve/", follow=True)
    assert response.status_code == 200
    assert "You belong to the chain&#x27;s team" in response.content.decode()
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED


@pytest.mark.django_db
def test_a_superuser_who_submitted_may_not_approve_either(chain):
    admin = make_user("root", is_superuser=True)
    client = _client(admin)
    client.post(f"/chains/{chain.pk}/submit/")
    client.post(f"/chains/{chain.pk}/approve/")
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED


@pytest.mark.django_db
def test_only_who_may_approve_is_offered_the_button(client_owner, client_manager, lead, chain):
    client_owner.post(f"/chains/{chain.pk}/submit/")
    approve = f'action="/chains/{chain.pk}/approve/"'
    body = _client(lead).get(chain.get_absolute_url(), headers=REVIEW).content.decode()
    assert approve not in body
    assert "a manager outside the team approves it" in body
    body = client_manager.get(chain.get_absolute_url(), headers=REVIEW).content.decode()
    assert approve in body and "four eyes" not in body


@pytest.mark.django_db
def test_the_refusal_is_german_for_a_german_user(lead, chain):
    services.chain_submit(chain=chain, user=lead)
    with translation.override("de"), pytest.raises(ValidationError) as error:
        services.chain_approve(chain=chain, user=lead)
    assert "Vier-Augen-Prinzip" in error.value.messages[0]


@pytest.mark.django_db
def test_the_setting_lets_a_one_person_team_approve_its_chain(settings):
    settings.REVIEW_ALLOW_SELF_APPROVAL = True
    solo_team = make_team("Solo")
    solo = make_user("sam", solo_team, roles=("sales", "manager"))
    chain = make_chain(solo_team, solo)
    client = _client(solo)
    client.post(f"/chains/{chain.pk}/submit/")
    body = client.get(chain.get_absolute_url(), headers=REVIEW).content.decode()
    assert f'action="/chains/{chain.pk}/approve/"' in body
    client.post(f"/chains/{chain.pk}/approve/")
    chain.refresh_from_db()
    assert chain.status == Chain.Status.APPROVED and chain.approved_by == solo


@pytest.mark.django_db
def test_without_the_setting_a_one_person_team_needs_another_manager(settings):
    settings.REVIEW_ALLOW_SELF_APPROVAL = False
    solo_team = make_team("Solo")
    solo = make_user("sam", solo_team, roles=("sales", "manager"))
    chain = make_chain(solo_team, solo)
    services.chain_submit(chain=chain, user=solo)
    with pytest.raises(ValidationError):
        services.chain_approve(chain=chain, user=solo)


@pytest.mark.django_db
def test_the_setting_does_not_help_a_team_of_two(settings, client_owner, lead, chain):
    settings.REVIEW_ALLOW_SELF_APPROVAL = True
    client_owner.post(f"/chains/{chain.pk}/submit/")
    _client(lead).post(f"/chains/{chain.pk}/approve/")
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED


def test_the_setting_is_off_unless_the_environment_turns_it_on(monkeypatch):
    assert (
        settings_with(monkeypatch, unset=("REVIEW_ALLOW_SELF_APPROVAL",)).REVIEW_ALLOW_SELF_APPROVAL
        is False
    )
    assert (
        settings_with(monkeypatch, REVIEW_ALLOW_SELF_APPROVAL="1").REVIEW_ALLOW_SELF_APPROVAL
        is True
    )
