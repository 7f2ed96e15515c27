"""The review: the team submits, a manager approves or returns with comments."""

import pytest
from django.test import Client

from chain.models import Chain, ReviewComment
from chain.views import TABS
from tests.factories import make_link

HX = {"HX-Request": "true"}


@pytest.fixture
def client_manager(manager):
    client = Client()
    client.force_login(manager)
    return client


@pytest.mark.django_db
def test_the_team_submits_and_the_manager_approves(client_owner, client_manager, chain):
    response = client_owner.post(f"/chains/{chain.pk}/submit/", headers=HX)
    assert response.status_code == 200 and 'id="review"' in response.content.decode()
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED
    client_manager.post(f"/chains/{chain.pk}/approve/", headers=HX)
    chain.refresh_from_db()
    assert chain.status == Chain.Status.APPROVED
    # Who did it is in the history.
    assert chain.history.first().history_user.username == "maria"


@pytest.mark.django_db
def test_the_manager_returns_with_a_comment_that_the_team_sees(client_owner, client_manager, chain):
    link = make_link(chain)
    client_owner.post(f"/chains/{chain.pk}/submit/")
    client_manager.post(
        f"/chains/{chain.pk}/comments/add/",
        {"about": f"link:{link.pk}", "text": "Who decides at this distributor?"},
    )
    client_manager.post(f"/chains/{chain.pk}/return/", {"text": "Name the key contacts."})
    chain.refresh_from_db()
    assert chain.status == Chain.Status.RETURNED
    assert ReviewComment.objects.filter(chain=chain, resolved_at=None).count() == 2
    body = client_owner.get(chain.get_absolute_url() + "?tab=review").content.decode()
    assert "Who decides at this distributor?" in body and "Name the key contacts." in body
    # The team resolves one and submits again.
    comment = ReviewComment.objects.get(link=link)
    client_owner.post(f"/chains/comments/{comment.pk}/resolve/", headers=HX)
    comment.refresh_from_db()
    assert comment.resolved_by.username == "alice"
    client_owner.post(f"/chains/{chain.pk}/submit/")
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED


@pytest.mark.django_db
def test_returning_needs_a_comment(client_owner, client_manager, chain):
    client_owner.post(f"/chains/{chain.pk}/submit/")
    response = client_manager.post(f"/chains/{chain.pk}/return/", {"text": " "}, headers=HX)
    assert "This field is required." in response.content.decode()
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED


@pytest.mark.django_db
def test_a_draft_cannot_be_approved(client_manager, chain):
    response = client_manager.post(f"/chains/{chain.pk}/approve/", headers=HX)
    assert "reload the page" in response.content.decode()
    chain.refresh_from_db()
    assert chain.status == Chain.Status.DRAFT


@pytest.mark.django_db
def test_only_managers_review(client_owner, chain):
    client_owner.post(f"/chains/{chain.pk}/submit/")
    assert client_owner.post(f"/chains/{chain.pk}/approve/").status_code == 403
    assert client_owner.post(f"/chains/{chain.pk}/comments/add/", {"text": "x"}).status_code == 403
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED


@pytest.mark.django_db
def test_a_manager_reads_but_does_not_edit_another_teams_chain(client_manager, chain):
    link = make_link(chain)
    url = chain.get_absolute_url()
    body = "".join(client_manager.get(f"{url}?tab={t}").content.decode() for t in TABS)
    assert link.actor.name in body
    assert f"/chains/links/{link.pk}/edit/" not in body and "Submit for review" not in body
    assert client_manager.get(f"/chains/links/{link.pk}/edit/").status_code == 403
    assert client_manager.post(f"/chains/links/{link.pk}/delete/").status_code == 403
    assert chain.links.count() == 1
