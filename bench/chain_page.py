"""Benchmark: server time and query count of the chain page as the chain grows.

Server time is the median wall time of a GET through Django's test client (the whole
request: middleware, queries, rendering); CPU ms is this process's share of it, which
is steadier on a shared machine. Run with DEBUG=0 for production-like template settings.

Builds, in a throwaway test database, a chain with 40 actors, 200 contacts and 60
influences (and a small one for comparison), then requests the page repeatedly through
Django's test client. Prints figures; it is not a pass/fail test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chainmap .venv/bin/python bench/chain_page.py
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
# Run with DEBUG=0 (make bench), the settings need a secret key; this one signs nothing kept.
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))


def build(actors: int, contacts: int, influences: int):
    from chain.models import Contact
    from tests.factories import (
        make_chain,
        make_contact,
        make_influence,
        make_link,
        make_team,
        make_user,
    )

    team = make_team()
    user = make_user(f"bench{team.pk}", team)
    chain = make_chain(team, user, scope_name=f"Bench {actors}")
    stages = list(chain.stages.all())
    links = [make_link(chain, stages[i % len(stages)], importance=1 + i % 5) for i in range(actors)]
    levels = list(Contact.Level)
    for i in range(contacts):
        link = links[i % actors]
        name = "" if i % 17 == 0 else f"Person {i}"
        level = Contact.Level.NONE if not name else levels[i % len(levels)]
        make_contact(link, name=name, role=f"Role {i}", level=level)
    pairs = set()
    step = 1
    while len(pairs) < influences:
        for i in range(actors):
            j = (i + step) % actors
            if len(pairs) < influences and i != j:
                pairs.add((i, j))
        step += 1
    for i, j in sorted(pairs):
        make_influence(links[i], links[j], strength=1 + (i + j) % 3)
    return chain, user


def measure(chain, user) -> tuple[float, float, float, int, int]:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = chain.get_absolute_url()
    client.get(url)  # warm up templates and connection
    times, cpu = [], []
    for _ in range(ROUNDS):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    return statistics.median(times), p95, statistics.median(cpu), len(ctx), len(response.content)


def main() -> None:
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor}, rounds: {ROUNDS}")
        print(f"{'chain':<34}{'median ms':>10}{'p95 ms':>9}{'CPU ms':>8}{'queries':>9}{'KiB':>7}")
        for actors, contacts, influences in [(4, 10, 3), (40, 200, 60)]:
            chain, user = build(actors, contacts, influences)
            median, p95, cpu, queries, size = measure(chain, user)
            label = f"{actors} actors, {contacts} contacts, {influences} infl."
            print(
                f"{label:<34}{median:>10.1f}{p95:>9.1f}{cpu:>8.1f}{queries:>9}{size / 1024:>7.0f}"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
