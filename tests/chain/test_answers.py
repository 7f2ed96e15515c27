import pytest

from tests.factories import make_link


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
