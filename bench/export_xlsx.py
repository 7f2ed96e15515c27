"""Benchmark: the customer assessments XLSX export (and the CSV export) for many customers.

Seeds, in a throwaway test database, N customers (default 100,000) with synthetic
histories (customers.synthetic), analysed by the real `analysis_run_create` service, so
the assessments carry the same figures and forecast paths as in production; only the
history comes from memory instead of 6 million stored value records, which would take
minutes to load. Then times GET /customers/export.xlsx through Django's test client
(the whole request: middleware, queries, building the file) and prints the median of
the rounds (and its CPU time in this process, which is steadier on a shared machine; the
database's own work is not in it), the queries of one request and the file size; the CSV
export for comparison.
Prints figures; it is not a pass/fail test.

    .venv/bin/python bench/export_xlsx.py [--customers 100000] [--rounds 3] [--save FILE]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/benchxlsx (the test database
test_benchxlsx is created and dropped again; `--keepdb` keeps it and reuses its data).
"""

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/benchxlsx")

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)  # no request and login log lines between the figures

import pandas as pd  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

AS_OF = pd.Timestamp("2024-12-01")
XLSX_URL = "/customers/export.xlsx"
CSV_URL = "/customers/export.csv"


def seed(n_customers: int) -> None:
    """N customers with names, and one analysis run over their synthetic histories."""
    from customers import services, synthetic
    from customers.models import Customer

    start = time.perf_counter()
    history, _types, _future = synthetic.generate(n_customers, seed=42, as_of=AS_OF)
    history["customer_id"] = history["customer_id"].astype(str)
    numbers = history["customer_id"].unique()
    Customer.objects.bulk_create(
        (Customer(number=number, name=f"Firma {number}") for number in numbers),
        batch_size=5000,
    )
    # The service reads the stored history; here it gets the generated one directly.
    with (
        mock.patch.object(services, "history_frame", return_value=history),
        mock.patch.object(services, "transactions_frame", return_value=None),
    ):
        run = services.analysis_run_create(as_of=AS_OF)
    print(
        f"seeded {len(numbers):,} customers and {run.customers:,} assessments "
        f"in {time.perf_counter() - start:.1f} s"
    )


def user():
    """A sales user (sales may view customers); reused with --keepdb."""
    from django.contrib.auth.models import User

    from tests.factories import make_team, make_user

    existing = User.objects.filter(username="bench-export").first()
    return existing or make_user("bench-export", make_team("Bench export"))


def measure(client: Client, url: str, rounds: int) -> tuple[float, float, int, bytes]:
    """Median wall and CPU seconds of `rounds` requests, queries of one more, and its body."""
    times, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        content = client.get(url).content
    return statistics.median(times), statistics.median(cpu), len(queries), content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--save", type=Path, help="write the last XLSX file here")
    parser.add_argument("--keepdb", action="store_true", help="keep and reuse the database")
    args = parser.parse_args()

    from customers.models import Assessment

    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=not args.keepdb, keepdb=args.keepdb
    )
    try:
        if not Assessment.objects.exists():
            seed(args.customers)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user())
        customers = Assessment.objects.count()
        print(f"database: {connection.vendor}; {customers:,} assessments; rounds: {args.rounds}")
        for label, url in (("XLSX", XLSX_URL), ("CSV", CSV_URL)):
            seconds, cpu, queries, content = measure(client, url, args.rounds)
            print(
                f"{label:5} export: median {seconds:6.2f} s (CPU {cpu:5.2f} s), {queries} queries, "
                f"{len(content) / 2**20:,.1f} MiB"
            )
            if label == "XLSX" and args.save:
                args.save.write_bytes(content)
                print(f"XLSX file written to {args.save}")
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
