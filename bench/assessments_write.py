"""Benchmark: storing one analysis run's assessments, and what a run costs on disk.

Analyses synthetic customers (customers.synthetic, 60 months), creates them as customers
in a throwaway test database, then times `services._assessments_create` (COPY on
PostgreSQL, batched INSERTs elsewhere), prints the database size the run takes (the
assessment table and its indexes, before and after), and what compacting it as an
older run leaves (`customers.retention`: the type and value basis only). Prints figures;
not a pass/fail test. Target of issue 13: 1,000,000 assessments written in at most 60 s
on PostgreSQL; the database size per million customers per run stated.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chainmap .venv/bin/python \
        bench/assessments_write.py [--customers 100000]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

import pandas as pd  # noqa: E402
from django.db import connection  # noqa: E402

AS_OF = pd.Timestamp("2024-12-01")
CHUNK = 100_000


def _table_bytes() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('customers_assessment')")
        return cursor.fetchone()[0]


def main() -> None:
    from customers import analysis, retention, services, synthetic
    from customers.models import AnalysisRun, Assessment, Customer

    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    n = parser.parse_args().customers
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor}; {n:,} customers")
        # The results come from the analysis of chunks of synthetic customers, so that a
        # million needs no more memory than a hundred thousand.
        results = []
        start = time.perf_counter()
        for first in range(0, n, CHUNK):
            size = min(CHUNK, n - first)
            history, _, _ = synthetic.generate(size, seed=first, as_of=AS_OF, months=60)
            history[analysis.CUSTOMER_ID] = history[analysis.CUSTOMER_ID].map(
                lambda c, f=first: f"{f}-{c}"
            )
            results.append(analysis.analyse(history, as_of=AS_OF, horizon=12))
        print(f"analysed in {time.perf_counter() - start:.1f} s (not part of the figure)")
        Customer.objects.bulk_create(
            (Customer(number=str(c)) for part in results for c in part.index),
            batch_size=10_000,
        )
        ids = dict(Customer.objects.values_list("number", "pk"))
        before = _table_bytes()
        run = AnalysisRun.objects.create(as_of=AS_OF.date(), horizon=12, customers=n)
        start = time.perf_counter()
        for part in results:
            services._assessments_create(run, part, ids)
        seconds = time.perf_counter() - start
        written = Assessment.objects.filter(run=run).count()
        print(
            f"written: {written:,} assessments in {seconds:.1f} s "
            f"({written / seconds:,.0f} per s; per million {seconds * 1e6 / written:.0f} s)"
        )
        after = _table_bytes()
        if after is not None:
            per_million = (after - before) * 1e6 / written / 2**20
            print(
                f"database size of the run: {(after - before) / 2**20:,.0f} MiB "
                f"({per_million:,.0f} MiB per million customers)"
            )
        # A newer run makes this one an older run: compacted to the type and value basis.
        AnalysisRun.objects.create(as_of=(AS_OF + pd.DateOffset(months=1)).date(), horizon=12)
        start = time.perf_counter()
        outcome = retention.analysis_runs_compact(keep_full=1)
        seconds = time.perf_counter() - start
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("VACUUM FULL customers_assessment")
        compacted = _table_bytes()
        print(f"compacted: {outcome} in {seconds:.1f} s", end="")
        if compacted is not None:
            per_million = (compacted - before) * 1e6 / written / 2**20
            print(
                f"; then {(compacted - before) / 2**20:,.0f} MiB "
                f"({per_million:,.0f} MiB per million customers per older run)"
            )
        else:
            print()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
