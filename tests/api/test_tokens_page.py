"""/api/tokens/: create a token (shown once), see and revoke one's own; administrators all."""

import datetime
import re

import pytest
from django.utils import timezone

from api.models import ApiToken, token_hash
from api.services import token_create
from tests.factories import make_user


def _create(client, **data):
    return client.post("/api/tokens/add/", {"name": "CRM sync", "scope": "read", **data})


@pytest.mark.django_db
def test_it_shows_the_new_token_once_and_stores_only_its_hash(client_owner, owner):
    response = _create(client_owner, scope="write")
    assert response.status_code == 200
    html = response.content.decode()
    secret = re.search(r'id="token-secret" value="([^"]+)"', html).group(1)
    token = ApiToken.objects.get(user=owner)
    assert token.scope == "write"
    assert token.hash == token_hash(secret) and secret not in token.hash
    assert token.prefix == secret[:8]
    assert not ApiToken.objects.filter(hash=secret).exists()
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    # Shown once: the page again has the prefix only.
    again = client_owner.get("/api/tokens/").content.decode()
    assert secret not in again and f"{secret[:8]}…" in again
    # And the secret works.
    assert client_owner.get("/api/v1/chains", headers={"Authorization": f"Bearer {secret}"})


@pytest.mark.django_db
def test_it_sets_an_optional_expiry(client_owner, owner):
    day = timezone.localdate() + datetime.timedelta(days=30)
    _create(client_owner, expires=day.isoformat())
    expires = ApiToken.objects.get(user=owner).expires_at
    assert timezone.localtime(expires).date() == day


@pytest.mark.django_db
def test_it_refuses_an_expiry_in_the_past(client_owner, owner):
    response = _create(client_owner, expires="2020-01-01")
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_it_lists_ones_own_tokens_only(client_owner, owner, outsider):
    token_create(user=owner, name="Mine", scope="read")
    token_create(user=outsider, name="Theirs", scope="read")
    html = client_owner.get("/api/tokens/").content.decode()
    assert "Mine" in html and "Theirs" not in html


@pytest.mark.django_db
def test_revoking_asks_first_then_revokes(client_owner, owner):
    token, secret = token_create(user=owner, name="Mine", scope="read")
    page = client_owner.get(f"/api/tokens/{token.pk}/revoke/")
    assert page.status_code == 200 and "Mine" in page.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    response = client_owner.post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    client_owner.logout()
    assert (
        client_owner.get(
            "/api/v1/chains", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 401
    )


@pytest.mark.django_db
def test_it_checks_ownership(client, owner, outsider):
    token, _secret = token_create(user=owner, name="Mine", scope="read")
    client.force_login(outsider)
    assert client.get(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("admin_kind", ["administrator role", "superuser"])
def test_an_administrator_sees_and_revokes_every_token(client, owner, admin_kind):
    if admin_kind == "superuser":
        admin = make_user("root", is_superuser=True)
    else:
        admin = make_user("kim", roles=("administrator",))
    token, _secret = token_create(user=owner, name="Alice's sync", scope="read")
    client.force_login(admin)
    html = client.get("/api/tokens/").content.decode()
    assert "Alice&#x27;s sync" in html and "alice" in html
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.django_db
def test_the_page_speaks_german(client_owner):
    html = client_owner.get("/api/tokens/", headers={"Accept-Language": "de"}).content.decode()
    assert "Neuer Token" in html and "Token erstellen" in html
