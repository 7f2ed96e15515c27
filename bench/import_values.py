"""Benchmark: import a 1-million-row value history CSV into PostgreSQL.

Writes a German Excel-style CSV (semicolon, decimal comma) of 16,667 customers x 60
months, then times the same reading and loading code as the web import (read and check,
then COPY into a temporary table and one INSERT .. ON CONFLICT), in a throwaway test
database. Prints figures; it is not a pass/fail test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chainmap .venv/bin/python bench/import_values.py
"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from django.db import connection  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
MONTHS = 60


def write_csv(path: Path) -> None:
    rng = np.random.default_rng(1)
    n = ROWS
    customer = 10000 + np.arange(n) // MONTHS
    month = np.arange(n) % MONTHS
    periods = pd.period_range("2021-01", periods=MONTHS, freq="M").strftime("%m.%Y")
    revenue = rng.gamma(2.0, 2500.0, n)
    frame = pd.DataFrame(
        {
            "Kundennummer": "K" + customer.astype(str),
            "Monat": np.asarray(periods)[month],
            "Umsatz": revenue.round(2),
            "Deckungsbeitrag": (revenue * rng.uniform(-0.05, 0.4, n)).round(2),
        }
    )
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="cp1252")


def main() -> None:
    from customers.reading import read_history
    from customers.services import value_records_load

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "werte.csv"
            write_csv(path)
            size = path.stat().st_size / 1e6
            print(f"database: {connection.vendor}; file: {ROWS:,} rows, {size:.0f} MB")
            start = time.perf_counter()
            result = read_history(path, filename=path.name)
            read = time.perf_counter() - start
            assert not result.errors, result.errors[:3]
            counts = value_records_load(history=result.history)
            total = time.perf_counter() - start
            print(f"read and check: {read:6.1f} s")
            print(f"load (COPY):    {total - read:6.1f} s")
            print(f"total:          {total:6.1f} s   (target 30 s)   rows loaded: {counts.rows:,}")
            start = time.perf_counter()
            value_records_load(history=result.history)
            again = time.perf_counter() - start
            print(f"re-import of the same periods (replaces them): {again:.1f} s")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
