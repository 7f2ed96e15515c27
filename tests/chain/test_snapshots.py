import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from chain import services
from chain.models import ChainLink, ChainSnapshot, Contact
from chain.selectors import chain_board
from chain.snapshots import FORMAT, snapshot_compare, snapshot_data, suggested_label
from tests.factories import make_contact, make_influence, make_link


def _data(chain) -> dict:
    return snapshot_data(chain_board(chain))


@pytest.fixture
def mapped(chain):
    """Three actors in the first stage, contacts at two of them, one influence."""
    a = make_link(chain, importance=2, relationship=ChainLink.Relationship.DIRECT_CUSTOMER)
    b = make_link(chain, importance=4)
    c = make_link(chain, importance=1)
    make_contact(a, "Anna Weber", level=Contact.Level.REGULAR)
    make_contact(b, "Ben Roth", level=Contact.Level.NONE)
    make_influence(a, b, strength=2)
    return a, b, c


@pytest.fixture
def snapshot(chain, manager, mapped):
    return services.snapshot_create(chain=chain, label="Review 2027-Q1", user=manager)


# snapshot_data -------------------------------------------------------------------------


@pytest.mark.django_db
def test_data_freezes_members_influences_and_figures(chain, mapped):
    a, b, _c = mapped
    data = _data(chain)
    assert json.loads(json.dumps(data)) == data
    assert data["format"] == FORMAT and data["status"] == "draft"
    assert data["version"] == chain.version
    assert [s["name"] for s in data["stages"]] == list(chain.stages.values_list("name", flat=True))
    member = data["members"][str(a.actor_id)]
    assert member["name"] == a.actor.name and member["stage"] == a.stage.name
    assert (member["importance"], member["relationship"]) == (2, "direct_customer")
    assert (member["coverage"], member["contacts"], member["named_contacts"]) == ("regular", 1, 1)
    assert data["members"][str(b.actor_id)]["coverage"] == "known"
    assert data["influences"] == [
        {
            "source": str(a.actor_id),
            "target": str(b.actor_id),
            "strength": 2,
            "description": "Decides the range",
        }
    ]
    board = chain_board(chain)
    assert data["completeness"]["percent"] == board.completeness.percent
    assert (data["light"], data["white_spots"]) == (board.light, len(board.white_spots))


# snapshot_compare -------------------------------------------------------------------------


@pytest.mark.django_db
def test_compare_finds_exactly_the_changes(chain, snapshot, mapped):
    a, b, c = mapped
    d = make_link(chain, importance=3)
    c.delete()
    ChainLink.objects.filter(pk=a.pk).update(importance=5)
    b.contacts.update(level=Contact.Level.REGULAR)
    snapshot.refresh_from_db()  # compare what came back from the database

    comparison = snapshot_compare(snapshot.data, _data(chain))

    assert [m.name for m in comparison.added] == [d.actor.name]
    assert [m.name for m in comparison.removed] == [c.actor.name]
    changes = {change.new.name: change for change in comparison.changed}
    assert set(changes) == {a.actor.name, b.actor.name}
    assert changes[a.actor.name].fields == ("importance",)
    assert (changes[a.actor.name].old.importance, changes[a.actor.name].new.importance) == (2, 5)
    assert changes[b.actor.name].fields == ("coverage",)
    assert changes[b.actor.name].new.coverage == "regular"
    assert not (
        comparison.influences_added
        or comparison.influences_removed
        or comparison.influences_changed
    )
    assert (comparison.actors.old, comparison.actors.new) == (3, 3)  # a, b, c; then a, b, d
    assert comparison.has_changes


@pytest.mark.django_db
def test_compare_of_an_unchanged_chain_is_empty(chain, snapshot):
    comparison = snapshot_compare(snapshot.data, _data(chain))
    assert not comparison.has_changes and not comparison.figures_changed
    assert comparison.completeness.old == comparison.completeness.new


@pytest.mark.django_db
def test_compare_sees_moves_and_influences_but_not_renamed_stages(chain, snapshot, mapped):
    a, b, c = mapped
    first, second = list(chain.stages.all())[:2]
    first.name = "Raw materials"
    first.save()
    ChainLink.objects.filter(pk=c.pk).update(stage=second)
    chain.influences.update(strength=3)
    make_influence(b, c)

    comparison = snapshot_compare(snapshot.data, _data(chain))

    assert [(ch.new.name, ch.fields) for ch in comparison.changed] == [(c.actor.name, ("stage",))]
    assert comparison.changed[0].new.stage == second.name
    assert [(i.source_name, i.target_name) for i in comparison.influences_added] == [
        (b.actor.name, c.actor.name)
    ]
    [changed] = comparison.influences_changed
    assert changed.fields == ("strength",)
    assert (changed.old.strength, changed.new.strength) == (2, 3)


def test_compare_reads_data_without_optional_keys():
    old = {"members": {"1": {"name": "A", "importance": 2}}}
    new = {"format": FORMAT, "members": {"1": {"name": "A", "importance": 3}, "2": {"name": "B"}}}
    comparison = snapshot_compare(old, new)
    assert [m.name for m in comparison.added] == ["B"]
    assert comparison.changed[0].fields == ("importance",)


def test_suggested_label_is_the_current_quarter():
    with translation.override("en"):
        assert suggested_label(date(2027, 2, 10), set()) == "Review 2027-Q1"
        assert suggested_label(date(2027, 12, 31), set()) == "Review 2027-Q4"
        taken = {"Review 2027-Q2"}
        assert suggested_label(date(2027, 5, 3), taken) == "Review 2027-05-03"


# snapshot_create --------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_refuses_empty_and_duplicate_labels(chain, manager, snapshot):
    with pytest.raises(ValidationError, match="Name the snapshot"):
        services.snapshot_create(chain=chain, label="  ", user=manager)
    with pytest.raises(ValidationError, match="already has a snapshot named"):
        services.snapshot_create(chain=chain, label="review 2027-q1 ", user=manager)
    assert chain.snapshots.count() == 1


# Views --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_takes_a_snapshot(client, chain, manager, mapped):
    client.force_login(manager)
    response = client.post(f"/chains/{chain.pk}/snapshots/add/", {"label": " Review 2027-Q1 "})
    assert response.status_code == 302 and response.url == f"/chains/{chain.pk}/snapshots/"
    snapshot = chain.snapshots.get()
    assert snapshot.label == "Review 2027-Q1" and snapshot.taken_by == manager
    assert set(snapshot.data["members"]) == {str(link.actor_id) for link in chain.links.all()}
    body = client.get(response.url).content.decode()
    assert "Snapshot “Review 2027-Q1” taken." in body
    assert f'href="/chains/snapshots/{snapshot.pk}/"' in body


@pytest.mark.django_db
def test_htmx_gets_the_fresh_list(client, chain, manager, htmx_headers):
    client.force_login(manager)
    response = client.post(
        f"/chains/{chain.pk}/snapshots/add/", {"label": "Kick-off"}, headers=htmx_headers
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="snapshots"' in body and "Kick-off" in body and "Compare with now" in body
    assert chain.snapshots.filter(label="Kick-off").exists()


@pytest.mark.django_db
def test_the_list_suggests_this_quarters_label_to_reviewers(client, chain, manager):
    client.force_login(manager)
    body = client.get(f"/chains/{chain.pk}/snapshots/").content.decode()
    assert 'name="label" value="Review ' in body and "-Q" in body
    assert f'action="/chains/{chain.pk}/snapshots/add/"' in body


@pytest.mark.django_db
def test_it_shows_the_error_of_a_duplicate_label(client, chain, manager, snapshot, htmx_headers):
    client.force_login(manager)
    url = f"/chains/{chain.pk}/snapshots/add/"
    response = client.post(url, {"label": "Review 2027-Q1"}, headers=htmx_headers)
    assert response.status_code == 200
    assert "This chain already has a snapshot named “Review 2027-Q1”." in response.content.decode()
    response = client.post(url, {"label": ""})
    assert response.status_code == 200 and "Name the snapshot" in response.content.decode()
    assert chain.snapshots.count() == 1


@pytest.mark.django_db
def test_sales_cannot_take_one_but_see_and_compare(client_owner, chain, snapshot):
    response = client_owner.post(f"/chains/{chain.pk}/snapshots/add/", {"label": "Mine"})
    assert response.status_code == 403
    assert list(chain.snapshots.values_list("label", flat=True)) == ["Review 2027-Q1"]
    body = client_owner.get(f"/chains/{chain.pk}/snapshots/").content.decode()
    assert "Review 2027-Q1" in body and "snapshots/add/" not in body
    response = client_owner.get(f"/chains/snapshots/{snapshot.pk}/")
    assert response.status_code == 200
    assert "No changes since the snapshot." in response.content.decode()


@pytest.mark.django_db
def test_it_checks_the_team(client, chain, outsider, snapshot):
    client.force_login(outsider)
    assert client.get(f"/chains/{chain.pk}/snapshots/").status_code == 404
    assert client.post(f"/chains/{chain.pk}/snapshots/add/", {"label": "X"}).status_code == 404
    assert client.get(f"/chains/snapshots/{snapshot.pk}/").status_code == 404
    assert chain.snapshots.count() == 1


@pytest.mark.django_db
def test_it_rejects_get_on_add(client, chain, manager):
    client.force_login(manager)
    assert client.get(f"/chains/{chain.pk}/snapshots/add/").status_code == 405


@pytest.mark.django_db
def test_compare_page_shows_what_changed(client_owner, chain, snapshot, mapped):
    a, _b, c = mapped
    new = make_link(chain, importance=5)
    c.delete()
    ChainLink.objects.filter(pk=a.pk).update(importance=4)
    body = client_owner.get(f"/chains/snapshots/{snapshot.pk}/").content.decode()
    added = body.split('id="added-title"')[1].split("</section>")[0]
    removed = body.split('id="removed-title"')[1].split("</section>")[0]
    changed = body.split('id="changed-title"')[1].split("</section>")[0]
    assert new.actor.name in added and c.actor.name in removed
    assert a.actor.name in changed and "●●○○○</span> → <span" in changed
    assert "No changes since the snapshot." not in body


@pytest.mark.django_db
def test_the_list_queries_do_not_grow_with_snapshots(client, chain, manager):
    client.force_login(manager)
    url = f"/chains/{chain.pk}/snapshots/"
    services.snapshot_create(chain=chain, label="One", user=manager)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for label in ("Two", "Three", "Four"):
        services.snapshot_create(chain=chain, label=label, user=manager)
    with CaptureQueriesContext(connection) as four:
        body = client.get(url).content.decode()
    assert body.count("Compare with now") == 4
    assert len(four.captured_queries) == len(one.captured_queries)
    assert ChainSnapshot.objects.filter(chain=chain).count() == 4
