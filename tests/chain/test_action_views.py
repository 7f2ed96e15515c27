"""The action pages: the form prefilled from each source, the Actions tab, My actions."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from chain import actions
from chain.models import Action, ReviewComment
from tests.factories import make_chain, make_contact, make_link, make_user


def _new_url(chain, query: str = "") -> str:
    return f"/chains/{chain.pk}/actions/new/" + (f"?{query}" if query else "")


def _create(chain, user, **fields) -> Action:
    fields.setdefault("title", "Call the purchasing lead")
    fields.setdefault("owner", user)
    return actions.action_create(chain=chain, user=user, **fields)


@pytest.mark.django_db
def test_the_form_defaults_to_the_user_and_two_weeks(client_owner, chain, owner):
    response = client_owner.get(_new_url(chain))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["owner"].value() == owner.pk
    assert form["due"].value() == timezone.localdate() + datetime.timedelta(days=14)
    assert form["about"].value() == ""
    assert b"<html" in response.content


@pytest.mark.django_db
def test_for_htmx_the_form_is_a_fragment(client_owner, chain, htmx_headers):
    response = client_owner.get(_new_url(chain), headers=htmx_headers)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'hx-post="/chains/' in response.content


@pytest.mark.django_db
def test_a_white_spot_prefills_actor_and_title(client_owner, chain):
    link = make_link(chain)
    response = client_owner.get(_new_url(chain, f"source=white_spot&link={link.pk}"))
    form = response.context["form"]
    assert form["about"].value() == f"link:{link.pk}"
    assert form["source"].value() == "white_spot"
    assert form["title"].value() == f"Find a contact at {link.actor.name}"


@pytest.mark.django_db
def test_a_contact_prefills_the_contact(client_owner, chain):
    contact = make_contact(make_link(chain), name="", role="Head of purchasing")
    form = client_owner.get(_new_url(chain, f"contact={contact.pk}")).context["form"]
    assert form["about"].value() == f"contact:{contact.pk}"
    assert "Head of purchasing" in form["title"].value()


@pytest.mark.django_db
def test_a_question_prefills_the_question(client_owner, chain):
    form = client_owner.get(_new_url(chain, "question=coach")).context["form"]
    assert form["about"].value() == "q:coach"
    assert form["title"].value().startswith("Answer the worksheet question")


@pytest.mark.django_db
def test_a_review_comment_prefills_comment_and_title(client_owner, chain):
    comment = ReviewComment.objects.create(chain=chain, text="Who decides at the wholesaler?")
    form = client_owner.get(_new_url(chain, f"source=review&comment={comment.pk}")).context["form"]
    assert form["about"].value() == f"comment:{comment.pk}"
    assert form["source"].value() == "review"
    assert form["title"].value() == "Answer review comment: Who decides at the wholesaler?"


@pytest.mark.django_db
def test_a_customer_prefills_the_number_and_a_given_title_wins(client_owner, chain):
    response = client_owner.get(_new_url(chain, "source=customer&customer=K-1001"))
    form = response.context["form"]
    assert form["about"].value() == "customer:K-1001"
    assert form["title"].value() == "Follow up customer K-1001"
    assert b"Customer K-1001" in response.content
    form = client_owner.get(_new_url(chain, "customer=K-1001&title=Visit+them")).context["form"]
    assert form["title"].value() == "Visit them"


@pytest.mark.django_db
def test_another_chains_parts_are_ignored_in_the_prefill(client_owner, chain, other_team):
    other = make_chain(other_team, None, "Other")
    foreign = make_link(other)
    comment = ReviewComment.objects.create(chain=other, text="Foreign")
    for query in (f"link={foreign.pk}", f"comment={comment.pk}", "link=abc", "source=nope"):
        form = client_owner.get(_new_url(chain, query)).context["form"]
        assert form["about"].value() == "", query
        assert form["source"].value() == "manual", query


@pytest.mark.django_db
def test_post_creates_and_returns_to_the_actions_tab(client_owner, chain, owner):
    link = make_link(chain)
    data = {
        "title": "Find a contact",
        "owner": owner.pk,
        "due": "2027-01-15",
        "about": f"link:{link.pk}",
        "source": "white_spot",
    }
    response = client_owner.post(_new_url(chain), data)
    assert response.status_code == 302
    assert response.url == f"/chains/{chain.pk}/?tab=actions"
    action = Action.objects.get()
    assert (action.link, action.source, action.created_by) == (link, "white_spot", owner)
    assert action.due == datetime.date(2027, 1, 15)


@pytest.mark.django_db
def test_post_goes_back_to_a_local_next_only(client_owner, chain, owner):
    data = {"title": "Call", "owner": owner.pk, "next": "/customers/7/"}
    assert client_owner.post(_new_url(chain), data).url == "/customers/7/"
    data["next"] = "https://evil.example/"
    assert client_owner.post(_new_url(chain), data).url == f"/chains/{chain.pk}/?tab=actions"


@pytest.mark.django_db
def test_post_with_htmx_answers_with_the_actions_region(client_owner, chain, owner, htmx_headers):
    data = {"title": "Call the wholesaler", "owner": owner.pk, "about": "customer:K-7"}
    response = client_owner.post(_new_url(chain), data, headers=htmx_headers)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#actions"
    assert "actions-changed" in response.headers["HX-Trigger"]
    content = response.content.decode()
    assert 'id="actions"' in content and "Call the wholesaler" in content
    assert 'hx-swap-oob="true"' in content
    assert Action.objects.get().customer_number == "K-7"


@pytest.mark.django_db
def test_an_owner_outside_the_team_is_refused(client_owner, chain, outsider):
    response = client_owner.post(_new_url(chain), {"title": "Call", "owner": outsider.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["owner"]
    assert not Action.objects.exists()


@pytest.mark.django_db
def test_an_empty_title_is_refused(client_owner, chain, owner):
    response = client_owner.post(_new_url(chain), {"title": "  ", "owner": owner.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["title"]


@pytest.mark.django_db
def test_edit_saves_and_shows_a_conflict_for_a_stale_version(client_owner, chain, owner):
    action = _create(chain, owner)
    url = f"/chains/actions/{action.pk}/edit/"
    assert client_owner.get(url).status_code == 200
    data = {"title": "Visit", "owner": owner.pk, "about": "", "version": 1}
    assert client_owner.post(url, data).status_code == 302
    action.refresh_from_db()
    assert (action.title, action.version) == ("Visit", 2)
    response = client_owner.post(url, {**data, "title": "Stale"})
    assert response.status_code == 200
    assert b"while you were editing it" in response.content
    action.refresh_from_db()
    assert action.title == "Visit"


@pytest.mark.django_db
def test_close_and_reopen(client_owner, chain, owner, htmx_headers):
    action = _create(chain, owner)
    response = client_owner.post(f"/chains/actions/{action.pk}/close/", {"status": "done"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "done" and action.closed_by == owner
    response = client_owner.post(f"/chains/actions/{action.pk}/reopen/", headers=htmx_headers)
    assert response.headers["HX-Retarget"] == "#actions"
    action.refresh_from_db()
    assert action.is_open


@pytest.mark.django_db
def test_a_manager_reads_the_actions_but_changes_none(client, chain, owner, manager):
    action = _create(chain, owner, title="Ask the planners")
    client.force_login(manager)
    response = client.get(chain.get_absolute_url() + "?tab=actions")
    assert b"Ask the planners" in response.content
    assert b"/close/" not in response.content
    assert client.get(_new_url(chain)).status_code == 403
    assert client.post(f"/chains/actions/{action.pk}/close/", {"status": "done"}).status_code == 403
    action.refresh_from_db()
    assert action.is_open


@pytest.mark.django_db
def test_another_team_gets_404_on_every_action_url(client, chain, owner, outsider):
    action = _create(chain, owner)
    client.force_login(outsider)
    for url in (
        _new_url(chain, f"comment=1&link={action.pk}"),
        f"/chains/actions/{action.pk}/edit/",
    ):
        assert client.get(url).status_code == 404, url
    for url in ("close", "reopen", "edit"):
        response = client.post(f"/chains/actions/{action.pk}/{url}/", {"status": "done"})
        assert response.status_code == 404, url
    assert client.post(_new_url(chain), {"title": "x", "owner": outsider.pk}).status_code == 404
    response = client.get("/chains/actions/mine/")
    assert b"Call the purchasing lead" not in response.content


@pytest.mark.django_db
def test_the_actions_tab_lists_open_overdue_and_closed(client_owner, chain, owner):
    today = timezone.localdate()
    _create(chain, owner, title="Late one", due=today - datetime.timedelta(days=2))
    _create(chain, owner, title="Future one", due=today + datetime.timedelta(days=2))
    closed = _create(chain, owner, title="Finished one")
    actions.action_close(action=closed, user=owner, status="done")
    response = client_owner.get(chain.get_absolute_url() + "?tab=actions")
    content = response.content.decode()
    assert 'id="tab-actions"' in content and 'aria-selected="true"' in content
    assert content.count('class="action-row overdue"') == 1
    assert ">overdue<" in content
    assert "1 closed action" in content and "Finished one" in content
    assert '<span class="badge" title="open actions">2</span>' in content


@pytest.mark.django_db
def test_review_comments_offer_to_create_an_action(client_owner, chain):
    comment = ReviewComment.objects.create(chain=chain, text="Who decides?")
    content = client_owner.get(chain.get_absolute_url() + "?tab=review").content.decode()
    assert f"actions/new/?source=review&amp;comment={comment.pk}" in content


@pytest.mark.django_db
def test_my_actions_sorts_filters_and_marks_overdue(client_owner, chain, owner, team):
    today = timezone.localdate()
    _create(chain, owner, title="Late one", due=today - datetime.timedelta(days=2))
    _create(chain, owner, title="Next week", due=today + datetime.timedelta(days=7))
    done = _create(chain, owner, title="Finished one")
    actions.action_close(action=done, user=owner, status="done")
    _create(chain, owner, title="Bob's", owner=make_user("bob2", team))
    content = client_owner.get("/chains/actions/mine/").content.decode()
    assert content.index("Late one") < content.index("Next week")
    assert "Finished one" not in content and "Bob's" not in content
    assert 'class="action-row overdue"' in content
    content = client_owner.get("/chains/actions/mine/?order=-due").content.decode()
    assert content.index("Next week") < content.index("Late one")
    content = client_owner.get("/chains/actions/mine/?show=done").content.decode()
    assert "Finished one" in content and "Late one" not in content
    content = client_owner.get("/chains/actions/mine/?show=all&order=bogus").content.decode()
    assert "Finished one" in content and "Late one" in content


@pytest.mark.django_db
def test_my_actions_says_so_when_there_are_none(client_owner):
    response = client_owner.get("/chains/actions/mine/")
    assert response.status_code == 200
    assert b"You have no open actions" in response.content
    assert b'href="/chains/actions/mine/"' in response.content  # the main navigation


@pytest.mark.django_db
def test_my_actions_takes_a_fixed_number_of_queries(client_owner, chain, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (2, 30):
        while Action.objects.count() < n:
            link = make_link(chain)
            _create(chain, owner, link=link, due=timezone.localdate())
            _create(chain, owner, contact=make_contact(link), due=None)
        with CaptureQueriesContext(connection) as ctx:
            assert client_owner.get("/chains/actions/mine/?show=all").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_control_characters_in_the_link_are_dropped(client_owner, chain, owner):
    response = client_owner.get(_new_url(chain, "customer=K-%001&title=Call%00+them"))
    form = response.context["form"]
    assert form["about"].value() == "customer:K-1"
    assert form["title"].value() == "Call them"
    data = {"title": "Call", "owner": owner.pk, "about": "customer:K-1"}
    assert client_owner.post(_new_url(chain), data).status_code == 302
    assert Action.objects.get().customer_number == "K-1"


@pytest.mark.django_db
def test_the_tab_loads_the_plan_of_where_to_act_when_there_is_one(client_owner, chain, monkeypatch):
    from chain import selectors

    # The customer app offers the plan (customers/chain_values.py fills plan_url).
    body = client_owner.get(chain.get_absolute_url() + "?tab=actions").content.decode()
    plan = reverse("customers:chain-plan", args=[chain.pk])
    assert f'hx-get="{plan}" hx-trigger="load"' in body
    # The chain app alone (no provider): no plan, and the tab still works.
    monkeypatch.setattr(selectors, "chain_decoration", lambda chain: None)
    body = client_owner.get(chain.get_absolute_url() + "?tab=actions").content.decode()
    assert 'id="action-plan"' not in body
    assert 'id="panel-actions"' in body
