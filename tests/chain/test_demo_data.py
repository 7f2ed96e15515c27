from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from chain.models import (
    CHAIN_QUESTIONS,
    Actor,
    Chain,
    ChainLink,
    Contact,
    Influence,
    SuccessFactor,
    Team,
    WorksheetAnswer,
)
from chain.selectors import chain_board, chain_list_for_user


def _run() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    models = [
        get_user_model(),
        Team,
        Actor,
        SuccessFactor,
        Chain,
        ChainLink,
        Contact,
        Influence,
        WorksheetAnswer,
    ]
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_it_creates_a_complete_chain():
    _run()

    chain = Chain.objects.get()
    own = chain.links.get(actor__is_own_company=True)
    assert own.stage.is_own
    assert chain.links.count() >= 10
    assert Contact.objects.filter(link__chain=chain).count() >= 15
    assert chain.influences.count() >= 8
    answered = {a.question for a in chain.answers.filter(link=None) if a.text.strip()}
    assert answered == set(CHAIN_QUESTIONS)


@pytest.mark.django_db
def test_it_characterises_every_member():
    _run()

    board = chain_board(Chain.objects.get())
    assert board.completeness.questions_answered == board.completeness.questions_total
    others = [link for link in board.links.values() if not link.actor.is_own_company]
    assert all(link.is_characterised for link in others)


@pytest.mark.django_db
def test_it_shows_white_spots():
    _run()

    spots = chain_board(Chain.objects.get()).white_spots
    reasons = {spot.reason for spot in spots}
    assert "nobody known" in reasons
    assert "no direct contact" in reasons
    assert any(spot.placeholder for spot in spots)


@pytest.mark.django_db
def test_it_lets_the_demo_user_log_in(client):
    out = _run()

    login = client.post("/accounts/login/", {"username": "demo", "password": "demo-chain-2026"})
    assert login.status_code == 302
    assert "http://localhost:8000/" in out
    assert "demo-chain-2026" in out
    demo = get_user_model().objects.get(username="demo")
    assert chain_list_for_user(demo).count() == 1


@pytest.mark.django_db
def test_it_creates_an_admin_and_a_colleague_without_chains(client):
    _run()

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    login = client.post("/accounts/login/", {"username": "admin", "password": "admin-chain-2026"})
    assert login.status_code == 302
    colleague = get_user_model().objects.get(username="kollege")
    assert colleague.teams.get().name == "Vertrieb Industrie"
    assert not chain_list_for_user(colleague).exists()


@pytest.mark.django_db
def test_it_is_idempotent():
    _run()
    before = _counts()

    out = _run()

    assert _counts() == before
    assert "exists already" in out
