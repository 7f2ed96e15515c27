import pytest

from tests.factories import make_link, make_user


@pytest.mark.django_db
def test_it_saves_and_overwrites_an_answer(client_owner, chain, owner, htmx_headers):
    url = f"/chains/{chain.pk}/answers/save/"
    response = client_owner.post(
        url, {"question": "scope", "text": "Tile glue"}, headers=htmx_headers
    )
    assert response.status_code == 200 and "Saved" in response.content.decode()
    assert "answers-changed" in response["HX-Trigger"]
    client_owner.post(
        url, {"question": "scope", "text": "Tile glue, because"}, headers=htmx_headers
    )
    answer = chain.answers.get()
    assert (answer.text, answer.updated_by) == ("Tile glue, because", owner)


@pytest.mark.django_db
def test_it_saves_a_per_actor_answer(client_owner, chain, htmx_headers):
    link = make_link(chain)
    client_owner.post(
        f"/chains/{chain.pk}/answers/save/",
        {"question": "known", "link": link.pk, "text": "The buyer"},
        headers=htmx_headers,
    )
    assert chain.answers.get(link=link).text == "The buyer"


@pytest.mark.django_db
def test_it_counts_towards_completeness(client_owner, chain, htmx_headers):
    client_owner.post(
        f"/chains/{chain.pk}/answers/save/",
        {"question": "coach", "text": "Maier"},
        headers=htmx_headers,
    )
    board = client_owner.get(chain.get_absolute_url()).context["board"]
    assert board.completeness.questions_answered == 1


@pytest.mark.django_db
def test_it_refuses_unknown_questions(client_owner, chain):
    response = client_owner.post(
        f"/chains/{chain.pk}/answers/save/", {"question": "x", "text": "y"}
    )
    assert response.status_code == 400
    assert not chain.answers.exists()


@pytest.mark.django_db
def test_actor_questions_load_with_their_answers(client_owner, chain, htmx_headers):
    link = make_link(chain)
    client_owner.post(
        f"/chains/{chain.pk}/answers/save/",
        {"question": "direct", "link": link.pk, "text": "Only the buyer"},
        headers=htmx_headers,
    )
    body = client_owner.get(f"/chains/links/{link.pk}/answers/", headers=htmx_headers).content
    body = body.decode()
    assert "<html" not in body
    assert body.count("<textarea") == 3
    assert "Only the buyer" in body


@pytest.mark.django_db
def test_a_newer_answer_by_somebody_else_is_not_overwritten_unseen(
    client, client_owner, chain, htmx_headers
):
    bob = make_user("bob-answers", chain.team, first_name="Bob", last_name="Brandt")
    client.force_login(bob)
    url = f"/chains/{chain.pk}/answers/save/"
    # Both loaded the page before anybody answered (version 0); Bob saves first.
    first = client.post(
        url, {"question": "scope", "text": "Bob's", "version": "0"}, headers=htmx_headers
    )
    assert 'id="version-scope"' in first.content.decode() and 'value="1"' in first.content.decode()

    # Alice's save with the version she loaded is refused and shows Bob's text.
    refused = client_owner.post(
        url, {"question": "scope", "text": "Alice's", "version": "0"}, headers=htmx_headers
    )
    body = refused.content.decode()
    assert "Bob Brandt changed this answer" in body and "Bob&#x27;s" in body
    assert "answers-changed" not in refused.headers.get("HX-Trigger", "")
    assert chain.answers.get().text == "Bob's"
    # The refusal hands over the current version: typing on saves hers knowingly.
    assert 'id="version-scope" name="version" value="1"' in body
    client_owner.post(
        url, {"question": "scope", "text": "Alice's", "version": "1"}, headers=htmx_headers
    )
    answer = chain.answers.get()
    assert (answer.text, answer.version) == ("Alice's", 2)


@pytest.mark.django_db
def test_the_page_and_the_actor_questions_carry_the_answer_versions(
    client_owner, chain, htmx_headers
):
    link = make_link(chain)
    url = f"/chains/{chain.pk}/answers/save/"
    for _ in range(2):
        client_owner.post(
            url, {"question": "scope", "text": "x", "version": ""}, headers=htmx_headers
        )
    page = client_owner.get(chain.get_absolute_url() + "?tab=worksheet").content.decode()
    assert 'id="version-scope" name="version" value="2"' in page
    client_owner.post(
        url,
        {"question": "known", "link": link.pk, "text": "y", "version": "0"},
        headers=htmx_headers,
    )
    answers = client_owner.get(f"/chains/links/{link.pk}/answers/", headers=htmx_headers)
    assert f'id="version-{link.pk}-known" name="version" value="1"' in answers.content.decode()
