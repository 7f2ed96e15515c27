"""API limits (api/limits.py): request rates per token, user and address (429 with
Retry-After), the body size (413), and malformed requests answered with a JSON 4xx."""

import datetime
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.test import override_settings
from ninja.errors import HttpError

from api import limits
from tests.factories import api_auth


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
@override_settings(API_RATE_READ="3/min")
def test_a_token_over_its_read_rate_gets_429_with_retry_after(client, owner, fresh_cache):
    headers = api_auth(owner)
    for _ in range(3):
        assert client.get("/api/v1/chains", headers=headers).status_code == 200
    response = client.get("/api/v1/chains", headers=headers)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many requests" in response.json()["detail"]
    # Another token of the same user has its own window.
    assert client.get("/api/v1/chains", headers=api_auth(owner)).status_code == 200


@pytest.mark.django_db
@override_settings(API_RATE_READ="2/min")
def test_session_calls_count_per_user(client, owner, teammate, fresh_cache):
    client.force_login(owner)
    assert client.get("/api/v1/chains").status_code == 200
    assert client.get("/api/v1/customers").status_code == 200
    assert client.get("/api/v1/chains").status_code == 429
    client.force_login(teammate)
    assert client.get("/api/v1/chains").status_code == 200


@pytest.mark.django_db
@override_settings(API_RATE_READ="", API_RATE_ANON="2/min")
def test_failed_authentication_counts_per_address(client, owner, fresh_cache):
    wrong = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/chains", headers=wrong).status_code == 401
    assert client.get("/api/v1/chains", headers=wrong).status_code == 401
    response = client.get("/api/v1/chains", headers=wrong)
    assert response.status_code == 429
    assert response["Retry-After"]
    other = client.get("/api/v1/chains", headers=wrong, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 401
    # A valid token is not held back by the failures from its address.
    assert client.get("/api/v1/chains", headers=api_auth(owner)).status_code == 200


@override_settings(API_RATE_READ="1/min", API_RATE_WRITE="2/min")
def test_reads_and_writes_have_separate_windows(rf, fresh_cache):
    # Every operation, also those of routers added later, checks both limits in turn.
    token = SimpleNamespace(pk=7)

    def allowed(method: str) -> bool:
        request = getattr(rf, method)("/api/v1/anything")
        request.api_token = token
        return all(limit.allow_request(request) for limit in limits.THROTTLES)

    assert allowed("get")
    assert not allowed("get")
    assert allowed("post")
    assert allowed("delete")
    assert not allowed("patch")
    assert limits.write_limit.wait() > 0


@pytest.mark.django_db
@override_settings(API_MAX_BODY_SIZE=100)
def test_a_too_large_body_gets_a_json_413(client, owner):
    response = client.post(
        "/api/v1/chains", "x" * 101, content_type="application/json", headers=api_auth(owner)
    )
    assert response.status_code == 413
    assert "at most 100 bytes" in response.json()["detail"]


@pytest.mark.django_db
@override_settings(API_MAX_BODY_SIZE=100)
def test_a_body_within_the_limit_passes(client, owner):
    response = client.post(
        "/api/v1/chains", "{}", content_type="application/json", headers=api_auth(owner)
    )
    assert response.status_code != 413


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/chains/abc",
        "/api/v1/chains/-1",
        "/api/v1/chains/99999999999999999999999999",
        "/api/v1/customers/1.5",
        "/api/v1/customers/%00",
        "/api/v1/customers/%ff%fe",
        "/api/v1/nowhere",
        "/api/v1/chains?page=999999999999999999999",
        "/api/v1/chains?page=0",
        "/api/v1/chains?page_size=-5",
        "/api/v1/chains?team=%00",
        "/api/v1/chains?team=99999999999999999999999",
        "/api/v1/chains?status=%e2%80%ae%00",
        "/api/v1/chains?updated_since=%01%02",
        "/api/v1/chains?updated_since=99999-99-99",
        "/api/v1/chains?updated_since=0001-01-01T00:00:00%2B05:00",
        "/api/v1/chains?updated_since=9999-12-31T23:59:59-05:00",
        "/api/v1/customers?value_type=%ff",
        "/api/v1/customers?page=2000001",
    ],
)
def test_malformed_requests_get_a_json_4xx(client, owner, url):
    response = client.get(url, headers=api_auth(owner))
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


@pytest.mark.django_db
def test_far_too_many_query_parameters_get_a_json_400(client, owner):
    query = "&".join(f"p{n}=1" for n in range(1200))
    response = client.get(f"/api/v1/chains?{query}", headers=api_auth(owner))
    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.django_db
def test_a_huge_page_size_is_cut_to_the_largest(client, owner):
    response = client.get(
        "/api/v1/chains?page_size=99999999999999999999999", headers=api_auth(owner)
    )
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "Anna\\u0000"}',
        '{"name": "\\ud800"}',
        '{"bad\\u0007key": 1}',
        '[{"deep": ["\\u001b[31m"]}]',
        "{not json",
        "\xff\xfe",
    ],
)
def test_the_parser_refuses_unreadable_bodies(rf, body):
    request = rf.post("/api/v1/x", body, content_type="text/plain")
    with pytest.raises((HttpError, ValueError)):
        limits.StrictParser().parse_body(request)


def test_the_parser_keeps_ordinary_text(rf):
    request = rf.post("/api/v1/x", '{"name": "Zoë\\tWeber\\n", "n": 1}', content_type="x")
    assert limits.StrictParser().parse_body(request) == {"name": "Zoë\tWeber\n", "n": 1}


@pytest.mark.django_db
def test_a_control_character_in_the_query_is_a_json_400(client, owner):
    response = client.get("/api/v1/customers?value_type=growth%07", headers=api_auth(owner))
    assert response.status_code == 400
    assert "control characters" in response.json()["detail"]


@pytest.mark.django_db
def test_updated_since_compares_in_utc(client, chain, owner):
    chain.refresh_from_db()
    moment = chain.updated_at.astimezone(datetime.timezone(datetime.timedelta(hours=-14)))
    url = "/api/v1/chains?updated_since=" + moment.isoformat().replace("+", "%2B")
    assert client.get(url, headers=api_auth(owner)).json()["count"] == 1


@pytest.mark.django_db
def test_an_offset_postgresql_would_refuse_is_compared_in_utc(client, chain, owner):
    url = "/api/v1/chains?updated_since=0517-11-26T06:32:17.3744-18:41"
    assert client.get(url, headers=api_auth(owner)).json()["count"] == 1


def _redis_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "chainmap-test",
        }
    }


@pytest.mark.django_db
def test_with_redis_the_rate_counts_across_processes(client, owner):
    """Two gunicorn processes share the window when REDIS_URL names a Redis: a second
    Django process (here: the same requests after the cache connection is dropped and
    made anew) sees what the first counted."""
    import redis
    from django.core.cache import caches

    location = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(location, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    headers = api_auth(owner)
    with override_settings(CACHES=_redis_cache(location), API_RATE_READ="2/min"):
        cache.clear()
        try:
            assert client.get("/api/v1/chains", headers=headers).status_code == 200
            # Another process: no connection, no memory of its own.
            caches.close_all()
            del caches["default"]
            assert client.get("/api/v1/chains", headers=headers).status_code == 200
            caches.close_all()
            del caches["default"]
            assert client.get("/api/v1/chains", headers=headers).status_code == 429
        finally:
            cache.clear()
