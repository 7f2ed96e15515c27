"""The action services (chain/actions.py) against the real database."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chain import actions
from chain.forms import ActionForm
from chain.models import Action, Chain, ReviewComment
from chain.services import EditConflict
from tests.factories import make_chain, make_contact, make_link


def _create(chain, user, **fields) -> Action:
    fields.setdefault("title", "Call the purchasing lead")
    fields.setdefault("owner", user)
    return actions.action_create(chain=chain, user=user, **fields)


@pytest.mark.django_db
def test_action_create_saves_the_action_and_touches_the_chain(chain, owner):
    Chain.objects.filter(pk=chain.pk).update(status=Chain.Status.APPROVED)
    chain.refresh_from_db()
    link = make_link(chain)
    action = _create(chain, owner, title="  Find a contact  ", link=link, source="white_spot")
    action.refresh_from_db()
    assert action.title == "Find a contact"
    assert action.is_open and action.created_by == owner and action.link == link
    chain.refresh_from_db()
    assert chain.changed_since_approval


@pytest.mark.django_db
def test_the_owner_must_be_a_member_of_the_chains_team(chain, owner, outsider):
    with pytest.raises(ValidationError) as error:
        _create(chain, owner, owner=outsider)
    assert "member of the chain's team" in str(error.value)
    assert not Action.objects.exists()


@pytest.mark.django_db
def test_the_title_is_required_and_at_most_200_characters(chain, owner):
    with pytest.raises(ValidationError):
        _create(chain, owner, title="   ")
    with pytest.raises(ValidationError):
        _create(chain, owner, title="x" * 201)
    assert _create(chain, owner, title="x" * 200).title == "x" * 200


@pytest.mark.django_db
def test_what_it_is_about_must_belong_to_the_chain(chain, owner, other_team, outsider):
    other = make_chain(other_team, outsider, "Other glue")
    foreign_link = make_link(other)
    foreign_contact = make_contact(foreign_link)
    foreign_comment = ReviewComment.objects.create(chain=other, text="Who?")
    for about in (
        {"link": foreign_link},
        {"contact": foreign_contact},
        {"comment": foreign_comment},
        {"question": "no_such_question"},
    ):
        with pytest.raises(ValidationError):
            _create(chain, owner, **about)
    assert not Action.objects.exists()


@pytest.mark.django_db
def test_an_action_is_about_one_thing_at_most(chain, owner):
    link = make_link(chain)
    with pytest.raises(ValidationError) as error:
        _create(chain, owner, link=link, customer_number="K-1")
    assert "one thing at most" in str(error.value)
    ours = _create(chain, owner, question="scope")
    assert ours.question == "scope"


@pytest.mark.django_db
def test_an_unknown_source_is_refused(chain, owner):
    with pytest.raises(ValidationError):
        _create(chain, owner, source="telepathy")


def _form(action: Action, version: int, **changes) -> ActionForm:
    data = {
        "title": action.title,
        "owner": action.owner_id,
        "due": "2027-03-01",
        "notes": "",
        "about": "",
        "version": version,
        **changes,
    }
    return ActionForm(data, instance=Action.objects.get(pk=action.pk), chain=action.chain)


@pytest.mark.django_db
def test_action_update_saves_and_refuses_a_stale_edit(chain, owner, teammate):
    action = _create(chain, owner)
    first = _form(action, 1, title="Visit the fair", owner=teammate.pk)
    assert first.is_valid(), first.errors
    actions.action_update(form=first, user=owner)
    action.refresh_from_db()
    assert (action.title, action.owner, action.version) == ("Visit the fair", teammate, 2)
    assert action.due == datetime.date(2027, 3, 1)
    stale = _form(action, 1, title="Something else")
    assert stale.is_valid()
    with pytest.raises(EditConflict) as conflict:
        actions.action_update(form=stale, user=owner)
    assert conflict.value.current.title == "Visit the fair"
    action.refresh_from_db()
    assert action.title == "Visit the fair"


@pytest.mark.django_db
def test_an_edit_keeps_a_close_that_happened_meanwhile(chain, owner):
    action = _create(chain, owner)
    form = _form(action, 1, notes="Booked a stand")
    actions.action_close(action=action, user=owner, status="done")
    assert form.is_valid()
    actions.action_update(form=form, user=owner)
    action.refresh_from_db()
    assert action.status == "done" and action.notes == "Booked a stand"


@pytest.mark.django_db
def test_action_update_changes_what_it_is_about(chain, owner):
    link = make_link(chain)
    action = _create(chain, owner, link=link)
    form = _form(action, 1, about="q:coach")
    assert form.is_valid(), form.errors
    actions.action_update(form=form, user=owner)
    action.refresh_from_db()
    assert action.link is None and action.question == "coach"


@pytest.mark.django_db
def test_close_records_who_and_when_and_reopen_clears_it(chain, owner, teammate):
    action = _create(chain, owner)
    actions.action_close(action=action, user=teammate, status="dropped")
    action.refresh_from_db()
    assert action.status == "dropped" and action.closed_by == teammate
    assert action.closed_at is not None
    with pytest.raises(ValidationError):
        actions.action_close(action=action, user=owner, status="done")
    actions.action_reopen(action=action, user=owner)
    action.refresh_from_db()
    assert action.is_open and action.closed_by is None and action.closed_at is None
    with pytest.raises(ValidationError):
        actions.action_reopen(action=action, user=owner)


@pytest.mark.django_db
def test_close_takes_done_or_dropped_only(chain, owner):
    action = _create(chain, owner)
    with pytest.raises(ValidationError):
        actions.action_close(action=action, user=owner, status="open")
    action.refresh_from_db()
    assert action.is_open


@pytest.mark.django_db
def test_chain_actions_marks_the_overdue_ones(chain, owner):
    today = timezone.localdate()
    late = _create(chain, owner, due=today - datetime.timedelta(days=1))
    _create(chain, owner, due=today)
    done = _create(chain, owner, due=today - datetime.timedelta(days=9))
    actions.action_close(action=done, user=owner, status="done")
    listed = actions.chain_actions(chain, today=today)
    assert [a.pk for a in listed.open if a.overdue] == [late.pk]
    assert listed.overdue == 1
    assert [a.pk for a in listed.closed] == [done.pk]


@pytest.mark.django_db
def test_my_actions_lists_open_first_by_due_date(chain, owner, teammate):
    today = timezone.localdate()
    later = _create(chain, owner, due=today + datetime.timedelta(days=5))
    sooner = _create(chain, owner, due=today + datetime.timedelta(days=1))
    undated = _create(chain, owner, due=None)
    closed = _create(chain, owner, due=today)
    actions.action_close(action=closed, user=owner, status="done")
    _create(chain, owner, owner=teammate)
    pks = [a.pk for a in actions.my_actions(owner, show="all")]
    assert pks == [sooner.pk, later.pk, undated.pk, closed.pk]
    pks = [a.pk for a in actions.my_actions(owner, show="open", order="-due")]
    assert pks == [later.pk, sooner.pk, undated.pk]
    assert [a.pk for a in actions.my_actions(owner, show="done")] == [closed.pk]


@pytest.mark.django_db
def test_my_actions_leaves_out_chains_the_user_no_longer_sees(chain, owner, team):
    _create(chain, owner)
    team.members.remove(owner)
    owner.__dict__.pop("_team_ids", None)
    assert not actions.my_actions(owner).exists()
