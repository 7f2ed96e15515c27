"""Benchmark: server time and query count of the API's lists with many rows.

Builds, in a throwaway test database, 1,000 chains in 10 teams (three members each) and
100,000 customers linked to the members' actors, with one analysis run's assessments
(bulk inserts: this measures reading, not writing). Then calls GET /api/v1/chains and
/api/v1/customers through Django's test client with a token, on the first page and a far
page, as a manager (sees everything) and as a team member (a tenth of it). Prints the
median and p95 of the whole request in ms and the queries of one request; not a pass/fail
test. Target (README, "API limits"): at most 100 ms median on PostgreSQL, and a number of
queries that does not grow with the rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chainmap .venv/bin/python bench/api_lists.py

BENCH_KEEP=1 keeps the database (test_<name>) and reuses its rows in the next run.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
# BENCH_KEEP=1: keep the test database and its rows for the next run (built once).
KEEP = os.environ.get("BENCH_KEEP") == "1"
TEAMS, CHAINS_PER_TEAM, MEMBERS, CUSTOMERS = 10, 100, 3, 100_000
PAGE_SIZE = 50


def build():
    import datetime

    from chain.models import Actor, ChainLink
    from customers.models import AnalysisRun, Assessment, Customer
    from tests.factories import make_chain, make_kind, make_team, make_user

    kind = make_kind()
    manager = make_user("bench-manager", roles=("manager",))
    member = None
    actors = []
    for t in range(TEAMS):
        team = make_team(f"Bench team {t}")
        owner = make_user(f"bench-sales-{t}", team)
        member = member or owner
        for c in range(CHAINS_PER_TEAM):
            chain = make_chain(team, owner, scope_name=f"Glue {t}-{c}")
            stage = chain.stages.first()
            chain_actors = Actor.objects.bulk_create(
                Actor(name=f"Actor {t}-{c}-{m}", kind=kind) for m in range(MEMBERS)
            )
            ChainLink.objects.bulk_create(
                ChainLink(chain=chain, stage=stage, actor=a, position=m)
                for m, a in enumerate(chain_actors)
            )
            actors.extend(chain_actors)
    customers = Customer.objects.bulk_create(
        (
            Customer(number=f"K-{n:06}", name=f"Customer {n}", actor=actors[n % len(actors)])
            for n in range(CUSTOMERS)
        ),
        batch_size=5000,
    )
    run = AnalysisRun.objects.create(as_of=datetime.date(2026, 5, 1), customers=CUSTOMERS)
    types = ["growth", "steady", "bell", "decline"]
    Assessment.objects.bulk_create(
        (
            Assessment(
                run=run,
                customer=c,
                value_type=types[i % len(types)],
                current_value=100.0 + i,
                future_value=110.0 + i,
                figures={"value_basis": "revenue"},
            )
            for i, c in enumerate(customers)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    return manager, member


def measure(client: Client, url: str, headers: dict) -> tuple[float, float, int, int]:
    client.get(url, headers=headers)  # warm up
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:200])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, headers=headers)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return statistics.median(times), p95, len(ctx), response.json()["count"]


def main() -> None:
    from django.contrib.auth.models import User

    from api.services import token_create

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=KEEP)
    try:
        start = time.perf_counter()
        if User.objects.filter(username="bench-manager").exists():
            manager = User.objects.get(username="bench-manager")
            member = User.objects.get(username="bench-sales-0")
        else:
            manager, member = build()
        print(f"database: {connection.vendor}, rounds: {ROUNDS}, ", end="")
        print(f"built in {time.perf_counter() - start:.0f} s")
        client = Client(HTTP_HOST="localhost")
        print(f"{'request':<52}{'rows':>8}{'median ms':>10}{'p95 ms':>9}{'queries':>9}")
        for who, user in (("manager", manager), ("team member", member)):
            secret = token_create(user=user, name="bench", scope="read")[1]
            headers = {"Authorization": f"Bearer {secret}"}
            for path in ("/api/v1/chains", "/api/v1/customers"):
                count = client.get(path, headers=headers).json()["count"]
                last = max(1, (count + PAGE_SIZE - 1) // PAGE_SIZE)
                for page in (1, last):
                    url = f"{path}?page={page}"
                    median, p95, queries, rows = measure(client, url, headers)
                    label = f"{who}: {url}"
                    print(f"{label:<52}{rows:>8}{median:>10.1f}{p95:>9.1f}{queries:>9}")
    finally:
        if not KEEP:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
