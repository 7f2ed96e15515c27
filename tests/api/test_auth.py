"""Bearer tokens and the session: who may call the API."""

from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone
from ninja.errors import HttpError

from api.auth import token_auth
from api.models import ApiToken
from api.services import token_create, token_revoke


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def secret(owner) -> str:
    return token_create(user=owner, name="CRM sync", scope="read")[1]


@pytest.mark.django_db
def test_a_valid_token_reads_the_chains(client, chain, secret):
    response = client.get("/api/v1/chains", headers=_bearer(secret))
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["items"]] == [chain.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["", "Bearer", "Bearer wrong-token", "Basic dXNlcjpwdw=="])
def test_a_missing_or_wrong_token_gets_401(client, chain, secret, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/chains", headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_a_revoked_token_gets_401(client, chain, owner):
    token, secret = token_create(user=owner, name="old", scope="read")
    token_revoke(token=token)
    assert client.get("/api/v1/chains", headers=_bearer(secret)).status_code == 401


@pytest.mark.django_db
def test_an_expired_token_gets_401(client, chain, owner):
    token, secret = token_create(user=owner, name="old", scope="read")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/chains", headers=_bearer(secret)).status_code == 401


@pytest.mark.django_db
def test_a_token_before_its_expiry_works(client, chain, owner):
    expires = timezone.now() + timedelta(days=1)
    secret = token_create(user=owner, name="new", scope="read", expires_at=expires)[1]
    assert client.get("/api/v1/chains", headers=_bearer(secret)).status_code == 200


@pytest.mark.django_db
def test_the_token_of_a_deactivated_user_gets_401(client, chain, owner, secret):
    owner.is_active = False
    owner.save()
    assert client.get("/api/v1/chains", headers=_bearer(secret)).status_code == 401


@pytest.mark.django_db
def test_the_last_use_is_written_at_most_once_a_minute(client, chain, owner):
    token, secret = token_create(user=owner, name="sync", scope="read")
    assert token.last_used_at is None
    client.get("/api/v1/chains", headers=_bearer(secret))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/chains", headers=_bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at == first
    earlier = first - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    client.get("/api/v1/chains", headers=_bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at > earlier


@pytest.mark.django_db
def test_the_session_works_for_the_apps_own_pages(client_owner, chain):
    response = client_owner.get("/api/v1/chains")
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.django_db
def test_a_read_only_token_may_not_write(owner):
    """The scope check every endpoint passes (there are no write endpoints yet)."""
    secret = token_create(user=owner, name="reader", scope="read")[1]
    request = RequestFactory().post("/api/v1/chains", headers=_bearer(secret))
    with pytest.raises(HttpError) as refused:
        token_auth(request)
    assert refused.value.status_code == 403
    request = RequestFactory().get("/api/v1/chains", headers=_bearer(secret))
    assert token_auth(request) == owner


@pytest.mark.django_db
def test_a_write_token_may_write(owner):
    secret = token_create(user=owner, name="writer", scope="write")[1]
    request = RequestFactory().post("/api/v1/chains", headers=_bearer(secret))
    assert token_auth(request) == owner


@pytest.mark.django_db
def test_a_token_needs_no_csrf_token(chain, secret):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/chains", headers=_bearer(secret))
    # No write endpoint exists: the method is refused, not the missing CSRF token.
    assert response.status_code == 405
