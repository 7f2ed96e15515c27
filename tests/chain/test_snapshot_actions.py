"""Actions and stage roles in snapshots, and in their comparison with the chain now."""

from datetime import date

import pytest
from django.utils import timezone

from chain import services
from chain.models import Action
from chain.selectors import chain_board
from chain.snapshots import snapshot_compare, snapshot_data


def _data(chain) -> dict:
    return snapshot_data(chain_board(chain))


def _action(chain, title, **fields) -> Action:
    return Action.objects.create(chain=chain, title=title, **fields)


@pytest.fixture
def planned(chain, owner):
    call = _action(chain, "Call Anna", owner=owner, due=date(2026, 12, 9))
    visit = _action(chain, "Visit the fair", due=date(2026, 12, 20))
    samples = _action(chain, "Send samples", owner=owner)
    brochure = _action(chain, "Send the brochure")
    return call, visit, samples, brochure


@pytest.mark.django_db
def test_data_freezes_actions_and_stage_roles(chain, owner, planned):
    call, *_rest = planned
    data = _data(chain)
    assert data["actions"][str(call.pk)] == {
        "title": "Call Anna",
        "owner_id": owner.pk,
        "owner": "alice",
        "due": "2026-12-09",
        "status": "open",
    }
    assert [s["role"] for s in data["stages"]] == list(chain.stages.values_list("role", flat=True))


@pytest.mark.django_db
def test_compare_finds_added_closed_removed_and_changed_actions(chain, manager, teammate, planned):
    call, visit, samples, brochure = planned
    snapshot = services.snapshot_create(chain=chain, label="Review", user=manager)
    new = _action(chain, "Meet the planner", due=date(2026, 12, 1))
    Action.objects.filter(pk=call.pk).update(status="done", closed_at=timezone.now())
    Action.objects.filter(pk=visit.pk).update(owner=teammate, due=date(2026, 12, 22))
    brochure.delete()
    snapshot.refresh_from_db()

    c = snapshot_compare(snapshot.data, _data(chain))

    assert c.actions_known and c.has_action_changes and not c.has_changes
    assert [a.title for a in c.actions_added] == [new.title]
    assert [(ch.new.title, ch.new.status) for ch in c.actions_closed] == [("Call Anna", "done")]
    assert [a.title for a in c.actions_removed] == ["Send the brochure"]
    [changed] = c.actions_changed
    assert changed.new.title == "Visit the fair" and changed.fields == ("owner", "due")
    assert (changed.old.owner, changed.new.owner) == ("", "bob")
    assert (c.open_actions.old, c.open_actions.new) == (4, 3)
    assert samples.title not in {a.title for a in c.actions_added}


@pytest.mark.django_db
def test_a_snapshot_from_before_actions_says_nothing_about_them(chain, planned):
    old = _data(chain)
    del old["actions"]
    c = snapshot_compare(old, _data(chain))
    assert not c.actions_known and not c.has_action_changes


@pytest.mark.django_db
def test_the_compare_page_shows_the_actions(client_owner, chain, manager, planned):
    call, *_rest = planned
    snapshot = services.snapshot_create(chain=chain, label="Review", user=manager)
    Action.objects.filter(pk=call.pk).update(status="dropped", closed_at=timezone.now())
    _action(chain, "Meet the planner")

    body = client_owner.get(f"/chains/snapshots/{snapshot.pk}/").content.decode()

    section = body[body.index('id="actions-title"') :]
    assert "Meet the planner" in section and "Call Anna" in section and "Dropped" in section
    assert "Open actions" in body
    assert "No changes since the snapshot." not in body
