import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chain.models import Actor
from chain.services import BULK_BATCH, actors_create_bulk
from tests.factories import make_kind


def _queries_to_add(actors: int, owner, prefix: str) -> int:
    kind = make_kind(f"{prefix} kind")
    new = [Actor(name=f"{prefix} {i}", kind=kind) for i in range(actors)]
    with CaptureQueriesContext(connection) as queries:
        actors_create_bulk(actors=new, user=owner)
    assert Actor.objects.filter(name__startswith=f"{prefix} ").count() == actors
    return len(queries)


@pytest.mark.django_db
def test_a_full_bulk_batch_takes_as_many_queries_as_one_row_on_every_database(owner):
    # On SQLite Django assumed 999 variables per statement: a full batch of actors and
    # their history rows was split into about a dozen INSERTs.
    assert _queries_to_add(BULK_BATCH, owner, "Many") == _queries_to_add(1, owner, "One")


@pytest.mark.django_db
def test_sqlite_connections_know_their_real_variable_limit():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    import sqlite3

    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    assert connection.features.max_query_params == limit >= 32766
