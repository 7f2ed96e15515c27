"""The review conversation: comments on the whole chain, replies by the team and by
managers under their comment, and the open comments in the chain list."""

import pytest
from django.test import Client

from chain.exports import chain_export_data, report_html
from chain.models import ReviewComment
from tests.factories import make_chain, make_link, make_user

HX = {"HX-Request": "true"}
REVIEW = {**HX, "HX-Target": "review"}


@pytest.fixture
def client_manager(manager):
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def comment(chain, manager):
    return ReviewComment.objects.create(chain=chain, author=manager, text="Who decides here?")


def _reply(client, comment, text: str, **headers):
    return client.post(f"/chains/comments/{comment.pk}/reply/", {"text": text}, headers=headers)


@pytest.mark.django_db
def test_a_comment_on_the_chain_as_a_whole_is_taken(client_manager, chain):
    response = client_manager.post(
        f"/chains/{chain.pk}/comments/add/", {"about": "", "text": "Scope too wide."}, headers=HX
    )
    assert response.status_code == 200
    assert "This field is required" not in response.content.decode()
    comment = ReviewComment.objects.get(chain=chain)
    assert (comment.text, comment.link, comment.question) == ("Scope too wide.", None, "")
    assert "the chain as a whole" in response.content.decode()


@pytest.mark.django_db
def test_the_whole_chain_is_the_comment_forms_first_choice(client_manager, chain):
    body = client_manager.get(chain.get_absolute_url(), headers=REVIEW).content.decode()
    form = body[body.index('class="card form comment-form"') :]
    first = form[form.index("<option") :].split(">")[0]
    assert 'value=""' in first and "selected" in first


@pytest.mark.django_db
def test_a_comment_about_an_actor_of_another_chain_is_refused(client_manager, chain, team):
    stranger = make_link(make_chain(team, scope_name="Other glue"))
    response = client_manager.post(
        f"/chains/{chain.pk}/comments/add/",
        {"about": f"link:{stranger.pk}", "text": "?"},
        headers=HX,
    )
    assert "Select a valid choice" in response.content.decode()
    assert not ReviewComment.objects.exists()


@pytest.mark.django_db
def test_the_team_replies_and_the_reply_shows_under_its_comment(client_owner, owner, comment):
    response = _reply(client_owner, comment, "The buyer, Anna Weber.", **HX)
    assert response.status_code == 200 and "<html" not in response.content.decode()
    reply = ReviewComment.objects.get(parent=comment)
    assert (reply.author, reply.chain_id, reply.text) == (
        owner,
        comment.chain_id,
        "The buyer, Anna Weber.",
    )
    body = response.content.decode()
    # Inside its comment's item, before the comment's own buttons.
    start = body.index(f'id="comment-{comment.pk}"')
    replies = body.index('class="replies"', start)
    resolve = body.index("Mark as resolved", start)
    assert start < replies < body.index(f'id="comment-{reply.pk}"') < resolve


@pytest.mark.django_db
def test_a_teammate_and_a_manager_reply_too(client, teammate, client_manager, comment):
    client.force_login(teammate)
    _reply(client, comment, "And her boss.")
    _reply(client_manager, comment, "Good: add both.")
    texts = list(comment.replies.order_by("pk").values_list("text", flat=True))
    assert texts == ["And her boss.", "Good: add both."]


@pytest.mark.django_db
def test_a_manager_of_another_team_may_reply(client, manager, comment, other_team):
    """Managers review every chain, so they take part in every review conversation."""
    reviewer = make_user("max", other_team, roles=("sales", "manager"))
    client.force_login(reviewer)
    assert _reply(client, comment, "Seen.").status_code == 302
    assert comment.replies.get().author == reviewer


@pytest.mark.django_db
def test_an_outsider_gets_404(client, outsider, comment):
    client.force_login(outsider)
    assert _reply(client, comment, "Nosy.").status_code == 404
    assert not comment.replies.exists()


@pytest.mark.django_db
def test_a_team_member_who_may_not_edit_gets_403(client, team, comment):
    reader = make_user("rita", team, roles=())
    client.force_login(reader)
    assert _reply(client, comment, "Hm.").status_code == 403


@pytest.mark.django_db
def test_an_empty_reply_shows_the_form_with_its_error(client_owner, comment):
    response = _reply(client_owner, comment, "  ", **HX)
    assert response["HX-Retarget"] == f"#comment-{comment.pk} form.reply-form"
    assert "This field is required." in response.content.decode()
    assert not comment.replies.exists()


@pytest.mark.django_db
def test_a_reply_to_a_reply_joins_the_conversation(client_owner, client_manager, comment):
    _reply(client_owner, comment, "The buyer.")
    first = comment.replies.get()
    _reply(client_manager, first, "Which one?")
    assert list(comment.replies.values_list("text", flat=True).order_by("pk")) == [
        "The buyer.",
        "Which one?",
    ]


@pytest.mark.django_db
def test_a_resolved_comment_takes_no_reply(client_owner, comment):
    client_owner.post(f"/chains/comments/{comment.pk}/resolve/")
    response = _reply(client_owner, comment, "Late.", **HX)
    assert "resolved already" in response.content.decode()
    assert not comment.replies.exists()


@pytest.mark.django_db
def test_replies_are_not_comments_of_their_own(client_owner, chain, comment):
    _reply(client_owner, comment, "Done.")
    response = client_owner.get(chain.get_absolute_url(), headers=REVIEW)
    review = response.content.decode()
    # One open comment with one reply; the reply has no resolve button of its own.
    assert review.count("Mark as resolved") == 1
    assert review.count('class="reply"') == 1


@pytest.mark.django_db
def test_the_report_shows_replies_under_their_comment(client_owner, chain, comment):
    _reply(client_owner, comment, "Done.")
    export = chain_export_data(chain)
    assert [c.text for c in export.open_comments] == ["Who decides here?"]
    assert [r.text for r in export.open_comments[0].reply_list] == ["Done."]
    html = report_html(export)
    assert (
        html.index("Who decides here?") < html.index('class="comment-reply"') < html.index("Done.")
    )


@pytest.mark.django_db
def test_the_list_shows_the_open_comments_per_chain(
    client_owner, client_manager, chain, team, owner, comment, django_assert_num_queries
):
    _reply(client_owner, comment, "Done.")  # a reply is no open comment of its own
    resolved = ReviewComment.objects.create(chain=chain, text="Old")
    client_owner.post(f"/chains/comments/{resolved.pk}/resolve/")
    quiet = make_chain(team, owner, scope_name="Quiet primer")
    response = client_owner.get("/chains/")
    counts = {c.pk: c.n_open_comments for c in response.context["chains"]}
    assert counts == {chain.pk: 1, quiet.pk: 0}
    assert f'href="/chains/{chain.pk}/?tab=review">1</a>' in response.content.decode()
    # The dashboard counts alike.
    board = client_manager.get("/chains/dashboard/").context["dashboard"]
    assert {c.pk: c.n_open_comments for g in board.groups for c in g.chains} == counts


@pytest.mark.django_db
def test_the_list_needs_no_more_queries_for_more_comments(
    client_owner, chain, team, owner, manager, django_assert_num_queries
):
    def comment_on(target, n: int) -> None:
        for i in range(n):
            ReviewComment.objects.create(chain=target, author=manager, text=f"Point {i}")

    comment_on(chain, 1)
    with django_assert_num_queries(11):
        client_owner.get("/chains/")
    for i in range(5):
        comment_on(make_chain(team, owner, scope_name=f"More {i}"), 3)
    with django_assert_num_queries(11):
        client_owner.get("/chains/")
