"""The database connection under load and faults: SQLite with overlapping writes, a
connection the database dropped between two requests."""

import contextlib
import threading
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection, connections, transaction
from django.test import Client, RequestFactory

from tests.settings_env import settings_with

ALIAS = "concurrency"


@pytest.fixture
def sqlite_file(monkeypatch, tmp_path: Path, django_db_blocker):
    """A database alias on an SQLite file, configured as config/settings.py configures it."""
    url = f"sqlite:///{tmp_path / 'concurrency.sqlite3'}"
    database = settings_with(monkeypatch, DATABASE_URL=url).DATABASES["default"]
    both = {"default": connections.settings["default"], ALIAS: database}
    connections.settings[ALIAS] = connections.configure_settings(both)[ALIAS]
    with django_db_blocker.unblock():
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("CREATE TABLE answer (id INTEGER PRIMARY KEY, text TEXT)")
            cursor.execute("INSERT INTO answer (id, text) VALUES (1, '')")
        yield connections[ALIAS]
        connections[ALIAS].close()
    del connections.settings[ALIAS]
    delattr(connections._connections, ALIAS)


def _save(text: str, read_both: threading.Barrier, errors: list[Exception]) -> None:
    """What an autosave does: in one transaction, read the answer, then write it."""
    try:
        with transaction.atomic(using=ALIAS), connections[ALIAS].cursor() as cursor:
            cursor.execute("SELECT text FROM answer WHERE id = 1")
            # Both saves have read before either writes: the overlap of two saves sent one
            # right after the other. With IMMEDIATE transactions the second cannot start
            # before the first ends, and this wait runs out.
            with contextlib.suppress(threading.BrokenBarrierError):
                read_both.wait(timeout=1)
            cursor.execute("UPDATE answer SET text = text || %s WHERE id = 1", [text])
    except OperationalError as error:
        errors.append(error)
    finally:
        connections[ALIAS].close()


def test_overlapping_saves_on_sqlite_wait_for_each_other_instead_of_failing(sqlite_file):
    with sqlite_file.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    read_both = threading.Barrier(2)
    errors: list[Exception] = []
    saves = [threading.Thread(target=_save, args=(text, read_both, errors)) for text in ("a", "b")]

    for save in saves:
        save.start()
    for save in saves:
        save.join()

    # Deferred transactions (SQLite's default) give "database is locked" to one of them.
    assert errors == []
    with sqlite_file.cursor() as cursor:
        cursor.execute("SELECT text FROM answer WHERE id = 1")
        assert sorted(cursor.fetchone()[0]) == ["a", "b"]


# A dropped connection -------------------------------------------------------------------


def _get(handler: WSGIHandler, path: str, cookie: str) -> str:
    """A request through the WSGI handler itself, as gunicorn sends it: unlike the test
    client, it runs Django's connection checks at the start and end of the request."""
    statuses = []
    environ = RequestFactory()._base_environ(PATH_INFO=path, HTTP_COOKIE=cookie)
    handler(environ, lambda status, headers: statuses.append(status))
    return statuses[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_dropped_is_replaced_before_the_next_request(owner, chain):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no server that could drop a connection")
    client = Client()
    client.force_login(owner)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    handler = WSGIHandler()
    assert _get(handler, "/chains/", cookie).startswith("200")
    kept = connection.connection
    assert kept is not None  # kept for the next request (CONN_MAX_AGE)

    # The database ends the connection between two requests (a restart, a failover, an
    # idle timeout in a pooler).
    with connection.get_new_connection(connection.get_connection_params()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [kept.info.backend_pid])

    assert _get(handler, "/chains/", cookie).startswith("200")
    assert connection.connection is not kept
