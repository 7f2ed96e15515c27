"""Production plumbing: the health endpoint, JSON logs, the request log, gunicorn's settings.

`manage.py check --deploy` under production settings is tests/test_security.py's.
"""

import http.client
import json
import logging
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from django.test import RequestFactory, override_settings

from config.healthcheck import health_request
from config.healthcheck import main as healthcheck_main
from config.logging import JsonFormatter
from tests.settings_env import settings_with

LOG_VARIABLES = ("LOG_FORMAT", "LOG_LEVEL")
ROOT = Path(__file__).resolve().parents[1]
HEALTH = "/health/"


# Health ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_answers_ok_with_one_query(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(HEALTH)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-store" in response["Cache-Control"]


class _BrokenConnection:
    def cursor(self):
        raise OperationalError('connection to server at "db" (10.0.0.5), port 5432 failed')


@pytest.mark.django_db
def test_health_answers_503_when_the_database_fails(client, monkeypatch, caplog):
    monkeypatch.setattr("config.health.connection", _BrokenConnection())

    response = client.get(HEALTH)

    assert response.status_code == 503
    # Public: the kind of error only; the details are in the log.
    assert response.json() == {"status": "error", "database": "OperationalError"}
    assert "10.0.0.5" in caplog.text


@pytest.mark.django_db
def test_health_needs_no_login_and_no_https(client, owner):
    with override_settings(SECURE_SSL_REDIRECT=True):
        health = client.get(HEALTH)
        page = client.get("/accounts/login/")

    assert health.status_code == 200
    assert page.status_code == 301  # everything else still goes to HTTPS
    client.force_login(owner)
    assert client.get(HEALTH).json()["status"] == "ok"


@pytest.mark.django_db
def test_health_refuses_writes(client):
    assert client.head(HEALTH).status_code == 200
    assert client.delete(HEALTH).status_code == 405


# JSON log lines -------------------------------------------------------------------------


def _record(message: str = "Export of %s rows", *args, exc_info=None, **extra):
    record = logging.LogRecord(
        "chainmap.test", logging.WARNING, __file__, 1, message, args or (12,), exc_info
    )
    record.__dict__.update(extra)
    return record


def test_a_record_is_one_line_of_json():
    line = JsonFormatter().format(
        _record(method="GET", path="/chains/", status=200, duration_ms=12.5, user_id=7)
    )

    assert "\n" not in line
    entry = json.loads(line)
    assert entry == {
        "time": entry["time"],
        "level": "WARNING",
        "logger": "chainmap.test",
        "message": "Export of 12 rows",
        "method": "GET",
        "path": "/chains/",
        "status": 200,
        "duration_ms": 12.5,
        "user_id": 7,
    }
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]


def test_the_exception_and_its_traceback_are_in_the_line():
    try:
        raise ValueError("Spalte fehlt: Umsatz")
    except ValueError:
        line = JsonFormatter().format(_record(exc_info=sys.exc_info()))

    assert "\n" not in line
    exception = json.loads(line)["exception"]
    assert exception.startswith("Traceback (most recent call last):")
    assert "ValueError: Spalte fehlt: Umsatz" in exception


def test_djangos_request_records_name_their_request():
    request = RequestFactory().get("/customers/?page=2")

    entry = json.loads(JsonFormatter().format(_record(request=request, status_code=404)))

    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/customers/", 404)


def test_values_json_does_not_know_are_written_as_text():
    entry = json.loads(JsonFormatter().format(_record(path=Path("/chains"))))

    assert entry["path"] == "/chains"


# The request log ------------------------------------------------------------------------


def _request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "chainmap.request"]


@pytest.mark.django_db
def test_every_request_is_one_line_with_its_user(client_owner, owner, caplog):
    caplog.set_level(logging.INFO, logger="chainmap.request")

    client_owner.get("/chains/?status=draft")
    client_owner.get("/chains/999999/")

    first, second = _request_lines(caplog)
    assert (first.method, first.path, first.status, first.user_id) == (
        "GET",
        "/chains/",
        200,
        owner.pk,
    )
    assert first.levelno == logging.INFO and first.duration_ms >= 0
    assert (second.status, second.user_id) == (404, owner.pk)


@pytest.mark.django_db
def test_redirects_of_anonymous_users_are_logged_too(client, caplog):
    caplog.set_level(logging.INFO, logger="chainmap.request")

    client.post("/chains/new/")

    (line,) = _request_lines(caplog)
    assert (line.method, line.status, line.user_id) == ("POST", 302, None)


@pytest.mark.django_db
def test_health_checks_are_logged_at_debug_and_static_files_not_at_all(client, caplog):
    caplog.set_level(logging.DEBUG, logger="chainmap.request")

    client.get(HEALTH)
    client.get("/static/css/app.css")

    (line,) = _request_lines(caplog)
    assert (line.path, line.levelno) == (HEALTH, logging.DEBUG)


# Settings -------------------------------------------------------------------------------


def test_logs_are_json_in_production_and_text_in_development(monkeypatch):
    production = settings_with(monkeypatch, unset=LOG_VARIABLES, DEBUG="0")
    development = settings_with(monkeypatch, unset=LOG_VARIABLES, DEBUG="1")
    chosen = settings_with(
        monkeypatch, unset=LOG_VARIABLES, DEBUG="0", LOG_FORMAT="text", LOG_LEVEL="warning"
    )

    assert production.LOGGING["handlers"]["console"]["formatter"] == "json"
    assert development.LOGGING["handlers"]["console"]["formatter"] == "text"
    assert chosen.LOGGING["handlers"]["console"]["formatter"] == "text"
    assert chosen.LOGGING["root"]["level"] == "WARNING"
    assert production.LOGGING["formatters"]["json"]["()"] == "config.logging.JsonFormatter"


def test_the_request_log_comes_first_and_health_skips_the_https_redirect(monkeypatch):
    production = settings_with(monkeypatch, unset=LOG_VARIABLES, DEBUG="0", HTTPS="1")

    assert production.MIDDLEWARE[0] == "config.middleware.RequestLogMiddleware"
    assert production.SECURE_SSL_REDIRECT
    assert production.SECURE_REDIRECT_EXEMPT == [r"^health/$"]


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        settings_with(monkeypatch, unset=("SECRET_KEY",), DEBUG="0")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        settings_with(monkeypatch, DEBUG="0", SECRET_KEY="")


def test_production_runs_on_its_own_secret_key_and_development_on_the_default(monkeypatch):
    production = settings_with(monkeypatch, DEBUG="0", SECRET_KEY="a-long-random-string")
    development = settings_with(monkeypatch, unset=("SECRET_KEY",), DEBUG="1")

    assert production.SECRET_KEY == "a-long-random-string"
    assert development.SECRET_KEY == development.DEV_SECRET_KEY


def test_manage_py_says_why_it_does_not_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env["DEBUG"] = "0"

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


# Database connections -------------------------------------------------------------------


def test_sqlite_waits_for_a_writer_instead_of_failing_at_once(monkeypatch):
    sqlite = settings_with(monkeypatch, unset=("DATABASE_URL",)).DATABASES["default"]

    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert sqlite["OPTIONS"]["timeout"] >= 5
    assert "PRAGMA journal_mode=WAL" in sqlite["OPTIONS"]["init_command"]
    assert sqlite["CONN_HEALTH_CHECKS"] is True


def test_postgresql_bounds_every_statement(monkeypatch):
    url = "postgres://chainmap@db:5432/chainmap"
    default = settings_with(monkeypatch, unset=("DB_STATEMENT_TIMEOUT_MS",), DATABASE_URL=url)
    chosen = settings_with(monkeypatch, DATABASE_URL=url, DB_STATEMENT_TIMEOUT_MS="5000")

    database = default.DATABASES["default"]
    assert database["OPTIONS"]["options"] == "-c statement_timeout=30000"
    assert database["CONN_HEALTH_CHECKS"] is True and database["CONN_MAX_AGE"] > 0
    assert chosen.DATABASES["default"]["OPTIONS"]["options"] == "-c statement_timeout=5000"


# gunicorn -------------------------------------------------------------------------------


def _gunicorn_config(monkeypatch, **env) -> dict:
    for name in ("PORT", "WEB_CONCURRENCY", "WEB_THREADS", "LOG_FORMAT", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config/gunicorn.conf.py"))


def test_gunicorn_takes_port_and_processes_from_the_environment(monkeypatch):
    config = _gunicorn_config(
        monkeypatch, PORT="8123", WEB_CONCURRENCY="3", FORWARDED_ALLOW_IPS="10.0.0.2"
    )

    assert config["bind"] == "0.0.0.0:8123"
    assert config["workers"] == 3
    assert config["worker_class"] == "gthread"
    assert config["forwarded_allow_ips"] == "10.0.0.2"
    assert config["accesslog"] is None  # the request log replaces it
    assert config["errorlog"] == "-"


def test_gunicorn_defaults_fit_the_machine(monkeypatch):
    config = _gunicorn_config(monkeypatch, DEBUG="0")

    assert config["bind"] == "0.0.0.0:8000"
    assert 3 <= config["workers"] <= 8
    assert config["timeout"] == 60
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0


def test_gunicorns_own_log_is_json_like_the_apps(monkeypatch):
    production = _gunicorn_config(monkeypatch, DEBUG="0")["logconfig_dict"]
    development = _gunicorn_config(monkeypatch, DEBUG="1")["logconfig_dict"]

    assert production["handlers"]["console"]["formatter"] == "json"
    assert production["formatters"]["json"]["()"] == "config.logging.JsonFormatter"
    assert production["loggers"]["gunicorn.error"]["handlers"] == ["console"]
    assert development["handlers"]["console"]["formatter"] == "text"


def test_a_request_may_take_two_minutes_by_default(monkeypatch):
    monkeypatch.delenv("WEB_REQUEST_TIMEOUT", raising=False)
    config = _gunicorn_config(monkeypatch)
    chosen = _gunicorn_config(monkeypatch, WEB_REQUEST_TIMEOUT="30")

    assert config["request_timeout"] == 120
    assert chosen["request_timeout"] == 30


def test_requests_running_longer_than_the_limit_are_overdue(monkeypatch):
    overdue = _gunicorn_config(monkeypatch)["overdue"]
    running = {1: (100.0, "GET /chains/7/report.pdf"), 2: (150.0, "GET /chains/")}

    assert overdue(running, now=219.0, limit=120) == []
    assert overdue(running, now=221.0, limit=120) == ["GET /chains/7/report.pdf"]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def test_a_request_over_the_limit_ends_its_worker_and_a_new_one_serves(tmp_path):
    """gunicorn's own timeout lets a threaded worker's request run on; the limit ends it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WEB_REQUEST_TIMEOUT": "1",
        "DEBUG": "1",
        "LOG_FORMAT": "text",
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"]
            + ["tests.slow_wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # up to 30 s for gunicorn to start
            try:
                assert _get(f"{base}/fast") == "ok"
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(log.read_text())

        # The slow request gets no answer: its worker ended.
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            _get(f"{base}/slow")
        # The next request is served by a new worker.
        assert _get(f"{base}/fast") == "ok"
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "GET /slow took longer than 1 s (WEB_REQUEST_TIMEOUT)" in log.read_text()


# The container's health check -------------------------------------------------------------


def test_the_health_check_names_an_allowed_host():
    request = health_request({"PORT": "8123", "ALLOWED_HOSTS": ".example.com,localhost"})

    assert request.full_url == "http://127.0.0.1:8123/health/"
    assert request.get_header("Host") == "example.com"
    assert health_request({"ALLOWED_HOSTS": "*", "PORT": ""}).get_header("Host") == "localhost"
    assert health_request({}).full_url == "http://127.0.0.1:8000/health/"


def test_the_health_check_asks_the_running_app(live_server, monkeypatch):
    monkeypatch.setenv("PORT", str(urlsplit(live_server.url).port))
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")

    assert healthcheck_main() == 0
    monkeypatch.setattr("config.health.connection", _BrokenConnection())
    assert healthcheck_main() == 1
