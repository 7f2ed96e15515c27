"""Security settings: CSRF on htmx writes, the Content-Security-Policy, the login lockout,
password validation and the HTTPS settings."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import plotly
import pytest
from django.test import Client, override_settings

from chain.models import Stage
from tests.factories import make_influence, make_link
from tests.settings_env import settings_with

ROOT = Path(__file__).resolve().parents[1]
LOGIN = "/accounts/login/"
PASSWORD_CHANGE = "/accounts/password_change/"


def _csp(response) -> str:
    return response.headers.get("Content-Security-Policy", "")


# CSRF ---------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(owner) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


@pytest.mark.django_db
def test_an_htmx_write_without_the_csrf_token_is_refused(csrf_client, chain, htmx_headers):
    csrf_client.get(chain.get_absolute_url())  # sets the csrftoken cookie

    response = csrf_client.post(
        f"/chains/{chain.pk}/stages/add/", {"name": "Planner"}, headers=htmx_headers
    )

    assert response.status_code == 403
    assert not Stage.objects.filter(chain=chain, name="Planner").exists()
    assert chain.stages.count() == 4


@pytest.mark.django_db
def test_an_htmx_write_with_the_token_from_the_page_succeeds(csrf_client, chain, htmx_headers):
    page = csrf_client.get(chain.get_absolute_url()).content.decode()
    # The token htmx sends: hx-headers on <body>, inherited by every htmx request.
    token = re.search(r"""<body hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""", page).group(1)

    response = csrf_client.post(
        f"/chains/{chain.pk}/stages/add/",
        {"name": "Planner"},
        headers={**htmx_headers, "X-CSRFToken": token},
    )

    assert response.status_code == 200
    assert chain.stages.last().name == "Planner"
    assert "Planner" in response.content.decode()


@pytest.mark.django_db
def test_the_token_from_the_cookie_is_accepted_too(csrf_client, chain, htmx_headers):
    csrf_client.get(chain.get_absolute_url())

    response = csrf_client.post(
        f"/chains/{chain.pk}/stages/add/",
        {"name": "Planner"},
        headers={**htmx_headers, "X-CSRFToken": csrf_client.cookies["csrftoken"].value},
    )

    assert response.status_code == 200
    assert Stage.objects.filter(chain=chain, name="Planner").exists()


# Content-Security-Policy ----------------------------------------------------------------


def _assert_strict_csp(response) -> None:
    policy = _csp(response)
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def _assert_no_inline_code(html: str) -> None:
    # What the policy would block in the browser: inline scripts, styles and handlers.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all("src=" in tag or 'type="application/json"' in tag for tag in scripts), scripts
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


@pytest.fixture
def busy_chain(chain):
    """A chain with actors, a contact-less member and an influence: every region renders."""
    stages = list(chain.stages.all())
    source = make_link(chain, stages[0])
    target = make_link(chain, stages[1])
    make_influence(source, target)
    return chain


@pytest.mark.django_db
def test_the_csp_header_is_on_a_page(client_owner, busy_chain):
    response = client_owner.get(busy_chain.get_absolute_url())

    assert response.status_code == 200
    _assert_strict_csp(response)
    html = response.content.decode()
    assert 'class="diagram"' in html  # the inline SVG diagram is part of the page
    _assert_no_inline_code(html)


@pytest.mark.django_db
def test_the_csp_header_is_on_a_fragment(client_owner, busy_chain, htmx_headers):
    response = client_owner.get(f"/chains/{busy_chain.pk}/stages/add/", headers=htmx_headers)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "stage-form" in html
    _assert_strict_csp(response)
    _assert_no_inline_code(html)


@pytest.mark.django_db
def test_the_csp_header_is_on_the_login_page(client):
    response = client.get(LOGIN)

    assert response.status_code == 200
    _assert_strict_csp(response)
    _assert_no_inline_code(response.content.decode())


@pytest.mark.django_db
def test_htmx_is_told_to_need_neither_eval_nor_inline_styles(client):
    html = client.get(LOGIN).content.decode()

    assert (
        """<meta name="htmx-config" content='{"includeIndicatorStyles": false, """
        """"allowEval": false}'>"""
    ) in html


# Login lockout --------------------------------------------------------------------------


def _log_in(client: Client, username: str, password: str, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_the_login_locks_after_five_failures(client, owner):
    for _ in range(4):
        response = _log_in(client, "alice", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    fifth = _log_in(client, "alice", "wrong")
    sixth = _log_in(client, "alice", "pw-alice")

    assert fifth.status_code == 429
    assert sixth.status_code == 429
    assert "_auth_user_id" not in client.session
    page = sixth.content.decode()
    assert "Too many login attempts" in page and 'class="login-box"' in page
    assert "Please try again in 15 minutes." in page
    _assert_strict_csp(sixth)


@pytest.mark.django_db
def test_the_lockout_page_speaks_the_users_language(client, owner):
    for _ in range(5):
        response = _log_in(client, "alice", "wrong", HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 429
    assert '<html lang="de">' in response.content.decode()


@pytest.mark.django_db
def test_the_lockout_leaves_other_users_and_addresses_alone(client, owner, teammate):
    for _ in range(5):
        _log_in(client, "alice", "wrong")

    other_user = _log_in(Client(), "bob", "pw-bob")
    other_address = _log_in(Client(), "alice", "pw-alice", REMOTE_ADDR="10.1.2.3")

    assert other_user.status_code == 302
    assert other_address.status_code == 302


@pytest.mark.django_db
def test_a_successful_login_resets_the_failures(client, owner):
    for _ in range(4):
        _log_in(client, "alice", "wrong")
    assert _log_in(client, "alice", "pw-alice").status_code == 302
    client.logout()

    for _ in range(4):
        assert _log_in(client, "alice", "wrong").status_code == 200
    assert _log_in(client, "alice", "pw-alice").status_code == 302


# Behind the TLS proxy every request comes from the proxy's address (REMOTE_ADDR); the
# proxy appends the client's address to X-Forwarded-For.
PROXY = "10.0.0.2"


def _through_proxy(client: Client, username: str, password: str, client_address: str):
    return _log_in(
        client,
        username,
        password,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=client_address,
    )


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_failures_lock_the_attackers_address_not_the_account(client, manager):
    attacker = "203.0.113.66"
    for _ in range(5):
        response = _through_proxy(client, "maria", "wrong", attacker)
    assert response.status_code == 429
    assert _through_proxy(Client(), "maria", "pw-maria", attacker).status_code == 429

    # The real user, on another address, through the same proxy.
    real = _through_proxy(Client(), "maria", "pw-maria", "198.51.100.7")

    assert real.status_code == 302


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_an_address_the_client_adds_itself_changes_nothing(client, manager):
    # The client sends its own X-Forwarded-For; the proxy appends the address it saw.
    for number in range(5):
        response = _through_proxy(client, "maria", "wrong", f"192.0.2.{number}, 203.0.113.66")

    assert response.status_code == 429
    assert _through_proxy(Client(), "maria", "pw-maria", "203.0.113.66").status_code == 429


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=2)
def test_with_two_proxies_the_address_the_outer_one_saw_counts(client, manager):
    # Client -> CDN -> TLS proxy -> app: the CDN appends the client, the proxy the CDN.
    for _ in range(5):
        response = _through_proxy(client, "maria", "wrong", "203.0.113.66, 10.9.9.9")

    assert response.status_code == 429
    assert (
        _through_proxy(Client(), "maria", "pw-maria", "198.51.100.7, 10.9.9.9").status_code == 302
    )


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_forwarded_header_is_ignored(client, manager):
    # Reached directly: a client that names a new address on every try is still locked.
    for number in range(5):
        response = _log_in(client, "maria", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")

    assert response.status_code == 429
    # Nor can it hide behind the address of somebody else.
    assert (
        _log_in(Client(), "maria", "pw-maria", HTTP_X_FORWARDED_FOR="198.51.100.99").status_code
        == 429
    )
    assert _log_in(Client(), "maria", "pw-maria", REMOTE_ADDR="10.1.2.3").status_code == 302


def test_the_trusted_proxy_count_comes_from_the_environment(monkeypatch):
    assert settings_with(monkeypatch, unset=("TRUSTED_PROXY_COUNT",)).TRUSTED_PROXY_COUNT == 0
    assert settings_with(monkeypatch, TRUSTED_PROXY_COUNT="1").TRUSTED_PROXY_COUNT == 1


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_failure_limit_is_a_setting(client, owner):
    assert _log_in(client, "alice", "wrong").status_code == 200
    assert _log_in(client, "alice", "wrong").status_code == 429


# Password change ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_header_links_to_the_password_change(client_owner, chain):
    html = client_owner.get("/chains/").content.decode()

    assert f'href="{PASSWORD_CHANGE}"' in html


@pytest.mark.django_db
def test_a_weak_new_password_is_refused(client_owner, owner):
    response = client_owner.post(
        PASSWORD_CHANGE,
        {"old_password": "pw-alice", "new_password1": "12345678", "new_password2": "12345678"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "This password is too common." in html
    assert "This password is entirely numeric." in html
    owner.refresh_from_db()
    assert owner.check_password("pw-alice")
    _assert_no_inline_code(html)


@pytest.mark.django_db
def test_a_strong_new_password_is_saved(client_owner, owner):
    new = "Kleber-Fliese-" + secrets.token_hex(4)

    response = client_owner.post(
        PASSWORD_CHANGE, {"old_password": "pw-alice", "new_password1": new, "new_password2": new}
    )

    assert response.status_code == 302 and response.url == f"{PASSWORD_CHANGE}done/"
    owner.refresh_from_db()
    assert owner.check_password(new)
    assert "Password changed" in client_owner.get(response.url).content.decode()


# HTTPS ----------------------------------------------------------------------------------

HTTPS_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
]


def test_https_turns_on_secure_cookies_redirect_and_hsts(monkeypatch):
    on = settings_with(monkeypatch, DEBUG="1", HTTPS="1")

    assert on.SESSION_COOKIE_SECURE and on.CSRF_COOKIE_SECURE and on.SECURE_SSL_REDIRECT
    assert on.SECURE_HSTS_SECONDS >= 31536000
    assert on.SECURE_HSTS_INCLUDE_SUBDOMAINS and on.SECURE_HSTS_PRELOAD
    assert on.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


def test_plain_http_development_keeps_them_off(monkeypatch):
    off = settings_with(monkeypatch, DEBUG="1", HTTPS="0")

    assert not (off.SESSION_COOKIE_SECURE or off.CSRF_COOKIE_SECURE or off.SECURE_SSL_REDIRECT)
    assert off.SECURE_HSTS_SECONDS == 0


@pytest.mark.django_db
def test_over_https_responses_carry_hsts_and_secure_cookies(monkeypatch):
    on = settings_with(monkeypatch, DEBUG="0", HTTPS="1")

    with override_settings(**{name: getattr(on, name) for name in HTTPS_SETTINGS}):
        plain = Client().get(LOGIN)
        # Behind the TLS-terminating proxy, which says the original request was HTTPS.
        secure = Client().get(LOGIN, headers={"X-Forwarded-Proto": "https"})

    assert plain.status_code == 301 and plain.url == f"https://testserver{LOGIN}"
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert secure.cookies["csrftoken"]["secure"] is True


def test_production_settings_pass_the_deployment_check():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50)[:50],
        "ALLOWED_HOSTS": "example.com",
    }
    env.pop("HTTPS", None)
    # Set for the browser tests in the same run; never in a deployment.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


# The plotly.js that draws under the CSP -------------------------------------------------


def test_the_strict_plotly_bundle_is_the_plotly_js_of_the_plotly_package():
    # Figures come from the plotly package: the vendored strict bundle must be the
    # plotly.js version it was made for. Update static/js/plotly-strict.min.js with it.
    def version(path: Path) -> str:
        with path.open(encoding="utf-8") as file:
            return re.search(r"plotly\.js .*?v(\d+\.\d+\.\d+)", file.read(300)).group(1)

    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert version(ROOT / "static/js/plotly-strict.min.js") == version(bundled)
