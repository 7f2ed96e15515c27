"""The API's writes: the pages' services, access rules, history rows and versions."""

import pytest
from django.forms import model_to_dict

from api.services import token_create
from chain import actions
from chain.models import Action, Contact, SuccessFactor, WorksheetAnswer
from tests.factories import make_chain, make_contact, make_kind, make_link


def _bearer(user, scope="write", **headers) -> dict:
    secret = token_create(user=user, name="t", scope=scope)[1]
    return {"Authorization": f"Bearer {secret}", **headers}


@pytest.fixture
def link(chain):
    return make_link(chain)


@pytest.fixture
def contact(link):
    return make_contact(link, name="Anna Weber")


def _page_data(contact) -> dict:
    """What the page's contact form posts for the contact as it is."""
    data = model_to_dict(contact, exclude=["id", "link", "last_contact", "owner"])
    return {k: v for k, v in data.items() if v is not None}


def _last_history(model, pk):
    return model.history.filter(id=pk).order_by("-history_date", "-history_id").first()


# Contacts -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_contact_is_created_with_the_pages_defaults_and_a_history_row(client, owner, link):
    response = client.post(
        f"/api/v1/links/{link.pk}/contacts",
        {"name": "Jonas Berg", "role": "Buyer", "email": "jonas@example.com"},
        content_type="application/json",
        headers=_bearer(owner),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    contact = Contact.objects.get(pk=data["id"])
    assert (contact.link, contact.name, contact.owner) == (link, "Jonas Berg", owner)
    assert data["version"] == 1 and data["owner_id"] == owner.pk and data["link_id"] == link.pk
    row = _last_history(Contact, contact.pk)
    assert (row.history_type, row.history_user) == ("+", owner)


@pytest.mark.django_db
def test_an_update_leaves_the_same_history_row_as_the_page(client, owner, link, contact):
    other = make_contact(link, name="Lea Kurz")
    client.force_login(owner)
    page = client.post(
        f"/chains/contacts/{other.pk}/edit/",
        {**_page_data(other), "role": "Head of purchasing"},
    )
    assert page.status_code == 302
    client.logout()

    response = client.patch(
        f"/api/v1/contacts/{contact.pk}",
        {"role": "Head of purchasing"},
        content_type="application/json",
        headers=_bearer(owner, **{"If-Match": f'"{contact.version}"'}),
    )

    assert response.status_code == 200, response.content
    assert response.json()["role"] == "Head of purchasing"
    assert response.json()["version"] == contact.version + 1
    by_page, by_api = _last_history(Contact, other.pk), _last_history(Contact, contact.pk)
    assert (by_api.history_type, by_api.history_user) == (by_page.history_type, owner)
    previous = by_api.prev_record
    page_changes = {c.field for c in by_page.diff_against(by_page.prev_record).changes}
    assert {c.field for c in by_api.diff_against(previous).changes} == page_changes
    contact.refresh_from_db()
    assert contact.name == "Anna Weber"  # what the PATCH leaves out stays


@pytest.mark.django_db
def test_a_read_only_token_may_not_write(client, owner, contact):
    response = client.patch(
        f"/api/v1/contacts/{contact.pk}",
        {"role": "CEO"},
        content_type="application/json",
        headers=_bearer(owner, scope="read"),
    )
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.role == "Purchasing"


@pytest.mark.django_db
def test_a_viewer_who_may_not_change_the_chain_gets_403_as_on_the_page(client, manager, contact):
    response = client.patch(
        f"/api/v1/contacts/{contact.pk}",
        {"role": "CEO"},
        content_type="application/json",
        headers=_bearer(manager),
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    client.force_login(manager)
    assert client.post(f"/chains/contacts/{contact.pk}/edit/", {"role": "x"}).status_code == 403


@pytest.mark.django_db
def test_another_teams_objects_are_404(client, outsider, link, contact):
    headers = _bearer(outsider)
    body = {"role": "CEO"}
    kwargs = {"content_type": "application/json", "headers": headers}
    assert client.patch(f"/api/v1/contacts/{contact.pk}", body, **kwargs).status_code == 404
    assert client.delete(f"/api/v1/contacts/{contact.pk}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/links/{link.pk}/contacts", body, **kwargs).status_code == 404
    assert client.patch(f"/api/v1/links/{link.pk}", {"count": 3}, **kwargs).status_code == 404
    answer = {"question": "scope", "text": "x"}
    url = f"/api/v1/chains/{link.chain_id}/answers"
    assert client.put(url, answer, **kwargs).status_code == 404
    assert Contact.objects.get(pk=contact.pk).role == "Purchasing"


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["header", "body"])
def test_an_outdated_version_is_409_with_the_current_contact(client, owner, teammate, contact, how):
    stale = contact.version
    first = client.patch(
        f"/api/v1/contacts/{contact.pk}",
        {"role": "CEO", "version": stale},
        content_type="application/json",
        headers=_bearer(teammate),
    )
    assert first.status_code == 200
    body = {"notes": "mine"}
    headers = _bearer(owner)
    if how == "header":
        headers["If-Match"] = f'"{stale}"'
    else:
        body["version"] = stale

    response = client.patch(
        f"/api/v1/contacts/{contact.pk}", body, content_type="application/json", headers=headers
    )

    assert response.status_code == 409
    current = response.json()["current"]
    assert current["role"] == "CEO" and current["version"] == stale + 1
    assert current["notes"] == ""
    contact.refresh_from_db()
    assert contact.notes == "" and contact.version == stale + 1


@pytest.mark.django_db
def test_a_validation_error_is_422_with_the_field_in_german(client, owner, contact):
    response = client.patch(
        f"/api/v1/contacts/{contact.pk}",
        {"name": "", "role": "", "email": "no-address"},
        content_type="application/json",
        headers=_bearer(owner, **{"Accept-Language": "de"}),
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["name"] == [
        "Geben Sie einen Namen an – oder für einen Platzhalter zumindest die Funktion."
    ]
    assert "E-Mail" in errors["email"][0]
    english = client.patch(
        f"/api/v1/contacts/{contact.pk}",
        {"name": "", "role": ""},
        content_type="application/json",
        headers=_bearer(owner, **{"Accept-Language": "en"}),
    )
    assert english.json()["errors"]["name"] == [
        "Give a name, or at least the role for a placeholder."
    ]


@pytest.mark.django_db
def test_a_contact_is_deleted_unless_its_version_is_outdated(client, owner, contact):
    headers = _bearer(owner, **{"If-Match": f'"{contact.version + 5}"'})
    response = client.delete(f"/api/v1/contacts/{contact.pk}", headers=headers)
    assert response.status_code == 409 and response.json()["current"]["id"] == contact.pk
    headers["If-Match"] = f'"{contact.version}"'
    assert client.delete(f"/api/v1/contacts/{contact.pk}", headers=headers).status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    row = _last_history(Contact, contact.pk)
    assert (row.history_type, row.history_user) == ("-", owner)


# Chain members ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_is_characterised_with_its_actors_facts(client, owner, link):
    SuccessFactor.objects.create(name="Price")
    kind = make_kind("Distributor")
    response = client.patch(
        f"/api/v1/links/{link.pk}",
        {
            "count": 3,
            "importance": 5,
            "success_factors": ["Price"],
            "kind": "Distributor",
            "version": link.version,
        },
        content_type="application/json",
        headers=_bearer(owner),
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["count"], data["importance"], data["success_factors"]) == (3, 5, ["Price"])
    assert data["actor"]["kind"] == "Distributor" and data["version"] == link.version + 1
    link.refresh_from_db()
    assert link.actor.kind == kind
    assert _last_history(type(link), link.pk).history_user == owner


@pytest.mark.django_db
def test_a_member_with_a_bad_value_or_stale_version_is_refused(client, owner, link):
    headers = _bearer(owner, **{"Accept-Language": "de"})
    kwargs = {"content_type": "application/json", "headers": headers}
    bad = client.patch(f"/api/v1/links/{link.pk}", {"importance": 9}, **kwargs)
    assert bad.status_code == 422 and "importance" in bad.json()["errors"]
    unknown = client.patch(f"/api/v1/links/{link.pk}", {"success_factors": ["Nope"]}, **kwargs)
    assert unknown.status_code == 422 and "success_factors" in unknown.json()["errors"]
    stale = client.patch(f"/api/v1/links/{link.pk}", {"count": 2, "version": 0}, **kwargs)
    assert stale.status_code == 409 and stale.json()["current"]["count"] == 1


# Worksheet answers ------------------------------------------------------------------------


@pytest.mark.django_db
def test_worksheet_answers_are_saved_and_conflicts_refused(client, owner, teammate, chain, link):
    url = f"/api/v1/chains/{chain.pk}/answers"
    kwargs = {"content_type": "application/json"}
    first = client.put(
        url, {"question": "scope", "text": "Grow", "version": 0}, headers=_bearer(owner), **kwargs
    )
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 1
    theirs = client.put(
        url,
        {"question": "scope", "text": "Shrink", "version": 1},
        headers=_bearer(teammate),
        **kwargs,
    )
    assert theirs.json()["version"] == 2
    stale = client.put(
        url, {"question": "scope", "text": "Mine", "version": 1}, headers=_bearer(owner), **kwargs
    )
    assert stale.status_code == 409 and stale.json()["current"]["text"] == "Shrink"
    answer = WorksheetAnswer.objects.get(chain=chain, question="scope")
    assert answer.text == "Shrink" and answer.history.first().history_user == teammate
    of_member = {"question": "known", "link_id": link.pk, "text": "Anna"}
    saved = client.put(url, of_member, headers=_bearer(owner), **kwargs)
    assert saved.status_code == 200 and saved.json()["link_id"] == link.pk
    unknown = client.put(url, {"question": "nope", "text": "x"}, headers=_bearer(owner), **kwargs)
    assert unknown.status_code == 422 and "question" in unknown.json()["errors"]


# Actions --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_action_is_created_updated_and_closed(client, owner, chain, link):
    headers = _bearer(owner)
    kwargs = {"content_type": "application/json", "headers": headers}
    created = client.post(
        f"/api/v1/chains/{chain.pk}/actions",
        {
            "title": "Call the buyer",
            "owner_id": owner.pk,
            "due": "2027-01-15",
            "about": f"link:{link.pk}",
        },
        **kwargs,
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["link_id"], data["due"], data["status"]) == (link.pk, "2027-01-15", "open")
    action = Action.objects.get(pk=data["id"])
    assert action.created_by == owner and _last_history(Action, action.pk).history_user == owner

    updated = client.patch(
        f"/api/v1/actions/{action.pk}", {"title": "Visit the buyer", "version": 1}, **kwargs
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["title"] == "Visit the buyer"
    assert updated.json()["link_id"] == link.pk  # "about" left out stays

    stale = client.patch(f"/api/v1/actions/{action.pk}", {"title": "Old", "version": 1}, **kwargs)
    assert stale.status_code == 409 and stale.json()["current"]["title"] == "Visit the buyer"

    closed = client.post(f"/api/v1/actions/{action.pk}/close", {"status": "done"}, **kwargs)
    assert closed.status_code == 200 and closed.json()["status"] == "done"
    again = client.post(f"/api/v1/actions/{action.pk}/close", {"status": "done"}, **kwargs)
    assert again.status_code == 409 and again.json()["current"]["status"] == "done"


@pytest.mark.django_db
def test_an_action_for_somebody_outside_the_team_is_422_in_german(client, owner, outsider, chain):
    response = client.post(
        f"/api/v1/chains/{chain.pk}/actions",
        {"title": "", "owner_id": outsider.pk},
        content_type="application/json",
        headers=_bearer(owner, **{"Accept-Language": "de"}),
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"title", "owner_id"}
    assert errors["title"] == ["Dieses Feld ist zwingend erforderlich."]


@pytest.mark.django_db
def test_actions_of_another_teams_chain_are_404(client, outsider, chain):
    action = actions.action_create(chain=chain, user=chain.owner, title="Call", owner=chain.owner)
    other = make_chain(outsider.teams.first(), outsider)
    kwargs = {"content_type": "application/json", "headers": _bearer(outsider)}
    assert client.patch(f"/api/v1/actions/{action.pk}", {"title": "x"}, **kwargs).status_code == 404
    closing = client.post(f"/api/v1/actions/{action.pk}/close", {"status": "done"}, **kwargs)
    assert closing.status_code == 404
    assert (
        client.post(f"/api/v1/chains/{other.pk}/actions", {"title": "ok"}, **kwargs).status_code
        == 201
    )


@pytest.mark.django_db
def test_an_actor_shared_with_another_team_keeps_its_kind(client, owner, outsider, link):
    other = make_chain(outsider.teams.first(), outsider)
    make_link(other, actor=link.actor)
    make_kind("Distributor")
    response = client.patch(
        f"/api/v1/links/{link.pk}",
        {"kind": "Distributor", "count": 4},
        content_type="application/json",
        headers=_bearer(owner, **{"Accept-Language": "de"}),
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["kind"]
    link.refresh_from_db()
    assert link.count == 1 and link.actor.kind.name == "Supplier"
    same = client.patch(
        f"/api/v1/links/{link.pk}",
        {"kind": "Supplier", "count": 4},
        content_type="application/json",
        headers=_bearer(owner),
    )
    assert same.status_code == 200 and same.json()["count"] == 4
