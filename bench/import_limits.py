"""Benchmark: how quickly the readers refuse an XLSX zip bomb, and what a real workbook
within the limits costs.

The bomb is the one of the attack: a workbook of some 500 KB whose sheet holds 1,000 x
16,384 cells (about 260 MB of XML). Before the limits, reading it kept a web worker busy
for 551 s (CRM upload) and the background worker for 586 s at 906 MB. Now the value import
refuses it from its declared dimension, the CRM import from its unpacked size; one without
a dimension from the size of its sheet, one whose dimension lies while streaming its first
row. For scale, the old reader
(pandas.read_excel) is timed on 20 rows of the same bomb, and the streaming reader on a
real 100,000 x 5 workbook. Prints figures; it is not a pass/fail test.

    .venv/bin/python bench/import_limits.py
"""

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
import pandas as pd  # noqa: E402

from chain.imports import LIMITS, read_sheet  # noqa: E402
from customers.reading import VALUE_LIMITS, read_history  # noqa: E402
from tests.customers.xlsx_bomb import xlsx_bomb  # noqa: E402


def timed(label: str, function) -> object:
    started = time.perf_counter()
    result = function()
    print(f"{label:<58} {time.perf_counter() - started:8.3f} s")
    return result


def main() -> None:
    print(f"value import limits: {VALUE_LIMITS}")
    print(f"CRM import limits:   {LIMITS}")
    bomb = timed("building the 1,000 x 16,384 bomb", lambda: xlsx_bomb(1_000, 16_384))
    print(f"{'  packed size':<58} {len(bomb) / 1024:8.0f} KB")
    result = timed(
        "value import refuses it", lambda: read_history(io.BytesIO(bomb), filename="b.xlsx")
    )
    print(f"  -> {result.errors[0].message}")
    sheet = timed("CRM upload refuses it", lambda: read_sheet(bomb, filename="b.xlsx"))
    print(f"  -> {sheet.errors[0].message}")
    undeclared = xlsx_bomb(1_000, 16_384, dimension=None)
    result = timed(
        "value import refuses it without a dimension (zip sizes)",
        lambda: read_history(io.BytesIO(undeclared), filename="b.xlsx"),
    )
    print(f"  -> {result.errors[0].message}")
    liar = xlsx_bomb(1_000, 16_384, dimension="A1:C3")
    result = timed(
        "value import refuses it with a lying dimension (streaming)",
        lambda: read_history(io.BytesIO(liar), filename="b.xlsx"),
    )
    print(f"  -> {result.errors[0].message}")

    small = xlsx_bomb(20, 16_384)
    old = timed(
        "old reader (pandas.read_excel) on 20 of the 1,000 rows",
        lambda: pd.read_excel(io.BytesIO(small), engine="openpyxl", header=None),
    )
    print(f"  -> {old.size:,} cells; the whole bomb is 50 times as many")

    book = openpyxl.Workbook(write_only=True)
    sheet_ = book.create_sheet()
    sheet_.append(["Kunde", "Monat", "Umsatz", "DB", "Name"])
    for i in range(100_000):
        sheet_.append([f"K{i // 12}", f"2024-{i % 12 + 1:02d}", 1234.5 + i, 100.25, f"Firma {i}"])
    buffer = io.BytesIO()
    book.save(buffer)
    real = buffer.getvalue()
    result = timed(
        "value import reads a real 100,000 x 5 workbook",
        lambda: read_history(io.BytesIO(real), filename="real.xlsx"),
    )
    print(f"  -> {result.rows:,} rows, errors: {result.error_count}")


if __name__ == "__main__":
    main()
