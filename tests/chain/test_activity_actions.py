"""Actions and chain events in the activity feed."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from chain.activity import activity_list
from chain.models import Action, ChainEvent
from tests.factories import make_actor, make_link

HX = {"HX-Request": "true"}


def _save(action: Action, user) -> Action:
    action._history_user = user  # as a request would record it
    action.save()
    return action


@pytest.mark.django_db
def test_an_action_shows_created_changed_and_closed(client_owner, chain, owner, teammate):
    action = _save(Action(chain=chain, title="Call the buyer", owner=owner), owner)
    action.due = date(2026, 12, 9)
    action.owner = teammate
    _save(action, teammate)
    action.status, action.closed_at, action.closed_by = "done", timezone.now(), teammate
    _save(action, teammate)

    entries = [e for e in activity_list(chain)[0] if e.kind == "action"]

    assert [(e.action, e.who_name) for e in entries] == [("x", "bob"), ("~", "bob"), ("+", "alice")]
    closed, changed = entries[0], entries[1]
    assert [(c.label, c.old, c.new) for c in closed.changes] == [("status", "open", "done")]
    assert {(c.label, c.old, c.new) for c in changed.changes} == {
        ("owner", "alice", "bob"),
        ("due", "–", "9 Dec 2026"),
    }
    body = client_owner.get(f"/chains/{chain.pk}/activity/", headers=HX).content.decode()
    assert "action-closed" in body and "completed" in body and "Call the buyer" in body


@pytest.mark.django_db
def test_a_type_change_reads_as_a_sentence_with_the_actor(client_owner, chain):
    link = make_link(chain, actor=make_actor("Baustoff Nord"))
    ChainEvent.objects.create(
        chain=chain,
        link=link,
        kind=ChainEvent.Kind.TYPE_CHANGE,
        data={"customer": "K-4711", "name": "Müller GmbH", "from": "growth", "to": "bell"},
    )
    (entry,) = [e for e in activity_list(chain)[0] if e.kind == "event"]
    assert entry.label == (
        "Customer K-4711 Müller GmbH (Baustoff Nord) changed from growth customer to bell customer"
    )
    assert entry.who_name == "Customer analysis"
    body = client_owner.get(f"/chains/{chain.pk}/activity/", headers=HX).content.decode()
    assert "changed from growth customer to bell customer" in body
    assert "Customer value" in body


@pytest.mark.django_db
def test_a_type_change_per_product_names_the_product(chain):
    ChainEvent.objects.create(
        chain=chain,
        kind=ChainEvent.Kind.TYPE_CHANGE,
        data={"customer": "K-1", "from": "steady", "to": "shrinking", "product": "Glue"},
    )
    (entry,) = [e for e in activity_list(chain)[0] if e.kind == "event"]
    assert entry.label == (
        "Customer K-1 changed from steady customer to shrinking customer · product Glue"
    )


@pytest.mark.django_db
def test_changes_since_approval_leave_the_follow_up_out(chain, owner):
    before = timezone.now() - timedelta(seconds=1)
    _save(Action(chain=chain, title="Call the buyer", owner=owner), owner)
    ChainEvent.objects.create(chain=chain, kind="type_change", data={"customer": "K-1"})
    make_link(chain)
    kinds = {e.kind for e in activity_list(chain, since=before, follow_up=False)[0]}
    assert "link" in kinds and not kinds & {"action", "event"}
    kinds = {e.kind for e in activity_list(chain, since=before)[0]}
    assert {"link", "action", "event"} <= kinds


@pytest.mark.django_db
def test_the_feed_queries_do_not_grow_with_actions_and_events(
    client_owner, chain, owner, django_assert_max_num_queries
):
    link = make_link(chain)
    _save(Action(chain=chain, title="First", owner=owner, link=link), owner)
    with django_assert_max_num_queries(24) as small:
        client_owner.get(f"/chains/{chain.pk}/activity/", headers=HX)
    for i in range(8):
        action = _save(Action(chain=chain, title=f"Action {i}", owner=owner), owner)
        action.due = date(2026, 12, 1 + i)
        _save(action, owner)
        ChainEvent.objects.create(
            chain=chain, link=link, kind="type_change", data={"customer": f"K-{i}"}
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client_owner.get(f"/chains/{chain.pk}/activity/", headers=HX)


@pytest.mark.django_db
def test_closing_reads_as_completed_or_dropped_in_german(client_owner, chain, owner):
    done = _save(Action(chain=chain, title="Call the buyer", owner=owner), owner)
    dropped = _save(Action(chain=chain, title="Old idea", owner=owner), owner)
    for action, status in ((done, "done"), (dropped, "dropped")):
        action.status, action.closed_at = status, timezone.now()
        action.due = date(2026, 12, 9)
        _save(action, owner)
    body = client_owner.get(
        f"/chains/{chain.pk}/activity/", headers={**HX, "accept-language": "de"}
    ).content.decode()
    assert "erledigte" in body and "verwarf" in body and "Maßnahme" in body
    assert "09.12.2026" in body
