"""Database connection helpers shared by every app."""

import sqlite3

from django.db.backends.base.base import BaseDatabaseWrapper


def sqlite_use_variable_limit(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
    """Let Django batch bulk inserts by this SQLite library's real variable limit.

    Django 5.2 assumes SQLite's old compile-time default of 999 variables per query, so
    a bulk insert of a few dozen wide rows is split into several statements on SQLite
    but stays one on PostgreSQL: an import's query count then grew with its rows on
    SQLite only. SQLite 3.32+ allows 32,766 (Debian builds 250,000), which holds a full
    batch of the bulk services (`chain.services.BULK_BATCH`). Django 6.0 reads the limit
    the same way. Connected to `connection_created` in `chain/apps.py`.
    """
    if connection.vendor != "sqlite":
        return
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    # An instance attribute: it shadows the class's 999 for this connection only.
    connection.features.max_query_params = limit


def _upper(text: object) -> object:
    return text.upper() if isinstance(text, str) else text


def sqlite_unicode_upper(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
    """Make SQLite's UPPER() know the letters beyond ASCII, as PostgreSQL's does.

    Product, service and segment names compare case-insensitively through UPPER() (and
    an index on it, customers/0005): SQLite's built-in leaves "ü" as it is, so "Dübel"
    and "DÜBEL" would be two products there and one on PostgreSQL. An application
    function of the same name replaces the built-in for this connection; it is
    deterministic, so SQLite may still use it in the index. Connected to
    `connection_created` in `chain/apps.py`, before any query runs.
    """
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function("UPPER", 1, _upper, deterministic=True)
