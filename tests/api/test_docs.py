"""The API's docs page and schema: served by the app (no CDN), and the committed
docs/openapi.json is the schema the code makes."""

import re
from pathlib import Path

import pytest

from api.api import openapi_text
from api.services import token_create

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.mark.django_db
def test_the_docs_page_loads_only_the_apps_own_files(client_owner):
    response = client_owner.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in url for url in urls)
    assert all(url.startswith("/static/") for url in urls), urls
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    # No inline script the Content-Security-Policy would block: the settings are JSON data.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all("src=" in tag or 'type="application/json"' in tag for tag in scripts), scripts
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_docs_page_sends_people_to_the_login(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_token_fetches_the_schema(client, owner):
    secret = token_create(user=owner, name="t", scope="read")[1]
    response = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert "/api/v1/chains" in response.json()["paths"]
    wrong = client.get("/api/v1/openapi.json", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_the_committed_schema_is_the_codes():
    assert SCHEMA.read_text() == openapi_text(), (
        "docs/openapi.json differs from the API in the code. If the change is meant, "
        "regenerate it with: python manage.py api_schema (and say in the change whether it "
        "breaks clients: then it belongs in /api/v2/)"
    )
