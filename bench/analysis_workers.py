"""Benchmark: the chunked analysis of the stored values (customers/jobs.py) with 1 and with
2 worker processes (``manage.py worker``), against one PostgreSQL database.

Seeds N customers (default 100,000) x M months (default 24) of synthetic value records
(customers.synthetic) into the database once (kept for the next call), then for each
number of workers: starts that many ``manage.py worker`` subprocesses, starts the job
(`jobs.analysis_job_start`: its chunk tasks go to the database queue) and polls until the
job is done; the time from the start of the job to its complete run. The workers are
started before the clock runs. Prints each time, the speed-up, and the one-process
analysis (`services.analysis_run_create` below the switch) for comparison.
Prints figures; it is not a pass/fail test. The speed-up is bounded by the machine's
cores (the workers and PostgreSQL share them) and by what stays in one process: the
aggregation after each pass and the writing of all assessments after the last.

    .venv/bin/python bench/analysis_workers.py [--customers 100000] [--months 24]
        [--chunk 10000] [--workers 1,2] [--no-one-process]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/chainmap_workers (created and
migrated when missing).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chainmap_workers")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-analysis-workers-not-secret")
os.environ["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"

import django  # noqa: E402
import pandas as pd  # noqa: E402
import psycopg  # noqa: E402

AS_OF = pd.Timestamp("2024-12-01")


def database_ensure() -> None:
    url = os.environ["DATABASE_URL"]
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(n_customers: int, months: int) -> None:
    from customers import services, synthetic
    from customers.models import Customer, ValueRecord

    have = Customer.objects.count()
    if have == n_customers and ValueRecord.objects.count():
        print(f"data: {have:,} customers, {ValueRecord.objects.count():,} value records (kept)")
        return
    ValueRecord.objects.all().delete()
    Customer.objects.all().delete()
    start = time.perf_counter()
    history, _, _ = synthetic.generate(n_customers, seed=42, as_of=AS_OF, months=months)
    history["customer_id"] = history["customer_id"].astype(str)
    services.value_records_load(history=history)
    print(
        f"data: {n_customers:,} customers, {ValueRecord.objects.count():,} value records, "
        f"seeded in {time.perf_counter() - start:.1f} s"
    )


def _clear() -> None:
    from django_tasks_db.models import DBTaskResult

    from customers.models import AnalysisJob, AnalysisRun

    AnalysisJob.objects.all().delete()
    AnalysisRun.objects.all().delete()
    DBTaskResult.objects.all().delete()


def timed_job(workers: int, chunk: int) -> float:
    from django.db import close_old_connections

    from customers import jobs
    from customers.models import AnalysisJob

    _clear()
    command = [sys.executable, str(ROOT / "manage.py"), "worker", "--interval", "0.1"]
    command += ["--no-startup-delay"]
    processes = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        time.sleep(3)  # the workers are up and polling
        start = time.perf_counter()
        job = jobs.analysis_job_start(as_of=AS_OF, chunk_size=chunk)
        while True:
            time.sleep(0.2)
            close_old_connections()
            job = AnalysisJob.objects.get(pk=job.pk)
            if job.status != AnalysisJob.Status.RUNNING:
                break
        elapsed = time.perf_counter() - start
        if job.status != AnalysisJob.Status.DONE:
            raise SystemExit(f"job failed: {job.error}")
        print(
            f"{workers} worker(s): {elapsed:.1f} s ({job.chunks} chunks, "
            f"{job.run.customers:,} customers)"
        )
        return elapsed
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def one_process() -> float:
    from django.conf import settings

    from customers import services

    _clear()
    settings.ANALYSIS_CHUNK_CUSTOMERS_DB = 0
    start = time.perf_counter()
    run = services.analysis_run_create(as_of=AS_OF)
    elapsed = time.perf_counter() - start
    print(f"one process (no queue): {elapsed:.1f} s ({run.customers:,} customers)")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--no-one-process", action="store_true")
    args = parser.parse_args()
    database_ensure()
    seed(args.customers, args.months)
    times = {n: timed_job(n, args.chunk) for n in map(int, args.workers.split(","))}
    if 1 in times:
        for n, elapsed in times.items():
            if n != 1:
                print(f"speed-up with {n} workers: {times[1] / elapsed:.2f}x")
    if not args.no_one_process:
        one_process()


if __name__ == "__main__":
    main()
