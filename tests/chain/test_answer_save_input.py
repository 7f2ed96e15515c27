"""The worksheet autosave under bad input: never a server error, always a reason."""

import pytest
from django.db import OperationalError

from chain.models import WorksheetAnswer
from tests.factories import make_chain, make_link

LIMIT = WorksheetAnswer._meta.get_field("text").max_length


def _url(chain) -> str:
    return f"/chains/{chain.pk}/answers/save/"


@pytest.mark.django_db
@pytest.mark.parametrize("link", ["abc", "1e3", "-1", "9" * 40, "999999", "٣"])
def test_an_actor_that_is_not_in_the_chain_is_a_400_with_its_reason(
    client_owner, chain, htmx_headers, link
):
    response = client_owner.post(
        _url(chain), {"question": "known", "link": link, "text": "x"}, headers=htmx_headers
    )

    assert response.status_code == 400
    assert response.content.decode() == "This actor is no longer in the chain. Reload the page."
    assert not chain.answers.exists()


@pytest.mark.django_db
def test_an_actor_of_another_teams_chain_is_refused(client_owner, chain, outsider, htmx_headers):
    theirs = make_link(make_chain(outsider.teams.first(), outsider))

    response = client_owner.post(
        _url(chain), {"question": "known", "link": theirs.pk, "text": "x"}, headers=htmx_headers
    )

    assert response.status_code == 400
    assert not WorksheetAnswer.objects.exists()


@pytest.mark.django_db
def test_a_version_that_is_no_number_is_a_400(client_owner, chain, htmx_headers):
    response = client_owner.post(
        _url(chain),
        {"question": "scope", "version": "1' OR 1=1", "text": "x"},
        headers=htmx_headers,
    )

    assert response.status_code == 400
    assert response.content.decode() == "The answer's version is not a number."


@pytest.mark.django_db
def test_control_characters_are_removed_and_the_answer_saved(client_owner, chain, htmx_headers):
    response = client_owner.post(
        _url(chain),
        {"question": "scope", "text": "Tile\x00 glue\x0bfor floors"},
        headers=htmx_headers,
    )

    assert response.status_code == 200 and "Saved" in response.content.decode()
    assert chain.answers.get().text == "Tile glue\nfor floors"


@pytest.mark.django_db
def test_a_too_long_answer_is_refused_next_to_the_field(client_owner, chain, htmx_headers):
    response = client_owner.post(
        _url(chain), {"question": "scope", "text": "x" * 100_000}, headers=htmx_headers
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="save-error conflict-note" role="alert"' in body
    assert f"the answer is 100000 characters long, at most {LIMIT} are allowed" in body
    assert "answers-changed" not in response.headers.get("HX-Trigger", "")
    assert not chain.answers.exists()


@pytest.mark.django_db
def test_the_longest_answer_allowed_is_saved(client_owner, chain, htmx_headers):
    response = client_owner.post(
        _url(chain), {"question": "scope", "text": "x" * LIMIT}, headers=htmx_headers
    )

    assert response.status_code == 200 and "Saved" in response.content.decode()
    assert len(chain.answers.get().text) == LIMIT


@pytest.mark.django_db
def test_without_htmx_a_too_long_answer_is_a_400(client_owner, chain):
    response = client_owner.post(_url(chain), {"question": "scope", "text": "x" * 100_000})

    assert response.status_code == 400
    assert "at most" in response.content.decode()


@pytest.mark.django_db
def test_the_refusal_speaks_german(client_owner, chain, htmx_headers):
    response = client_owner.post(
        _url(chain),
        {"question": "scope", "text": "x" * 100_000},
        headers={**htmx_headers, "Accept-Language": "de"},
    )

    assert "Nicht gespeichert" in response.content.decode()


@pytest.mark.django_db
def test_a_busy_database_is_a_503_the_page_tries_again(
    client_owner, chain, htmx_headers, monkeypatch
):
    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("chain.services.answer_save", locked)

    response = client_owner.post(
        _url(chain), {"question": "scope", "text": "x"}, headers=htmx_headers
    )

    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert "database is locked" not in response.content.decode()


@pytest.mark.django_db
def test_another_teams_chain_is_a_404(client, outsider, chain, htmx_headers):
    client.force_login(outsider)

    response = client.post(_url(chain), {"question": "scope", "text": "x"}, headers=htmx_headers)

    assert response.status_code == 404
    assert not chain.answers.exists()
