"""Benchmark: the value analysis of 100,000 customers x 60 months with a product column.

Prints figures; it is not a pass/fail test. The target of issue 3 (at most 10 s and 2 GB
from the file on disk to the result CSV, on the 2-core machine) also holds with a
product column of 5 products (issue 11); this script measures that case, as
`analyze_customers` runs it: the overall type per customer and a type per customer and
product.

1. Generates the same 100,000 synthetic customers x 60 months as bench/analysis.py
   (customers.synthetic: 6 million rows, one per customer and month) and gives each
   row a product: every customer buys 1, 2 or 3 of the 5 products (half of them one,
   30 % two, 20 % three) and each month's value is booked on one of its products, drawn
   at random. So the file has as many rows as the one without products, and some
   200,000 customer-product histories, most of them irregular (the harder case for the
   forecast). `--split` instead splits each month's value over all of the customer's
   products (about 10 million rows).
2. In a fresh child process: reads the file with the command's reading code (every row
   checked), runs `analysis.analyse()` over all products and
   `products.analyse_products()` per product, writes the result CSV as the command does
   (customers/products.py `output_frame`); prints the time of each step, the total and
   the child's peak resident memory (VmHWM at its end, see `peak_mib`).

    .venv/bin/python bench/analysis_products.py [--customers 100000] [--split] [--keep]
"""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import django
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

# bench/ is on the path when this runs as a script (and in its spawned children).
from analysis_chunked import peak_mib  # noqa: E402

from customers import analysis, products, synthetic  # noqa: E402
from customers.writing import result_csv_write  # noqa: E402

AS_OF = pd.Timestamp("2024-12-01")
PRODUCTS = np.array(["Schrauben", "Dübel", "Werkzeug", "Beschläge", "Service"])


def write_input(path: Path, n_customers: int, *, split: bool) -> tuple[int, int]:
    """The history file with a product column; returns rows and customer-product pairs."""
    history, _, _ = synthetic.generate(n_customers, seed=42, as_of=AS_OF, months=60, all_rows=True)
    rng = np.random.default_rng(11)
    codes, _ = pd.factorize(history[analysis.CUSTOMER_ID])
    n = codes.max() + 1
    count = rng.choice([1, 2, 3], size=n, p=[0.5, 0.3, 0.2])
    # Each customer's products: `count` distinct ones of the 5, as a row of a choice table.
    owned = np.argsort(rng.random((n, len(PRODUCTS))), axis=1)
    frame = pd.DataFrame(
        {
            "customer_id": history[analysis.CUSTOMER_ID],
            "period": history[analysis.PERIOD].dt.strftime("%Y-%m").astype("category"),
            "revenue": history[analysis.REVENUE],
            "contribution_margin": history[analysis.MARGIN],
        }
    )
    if split:
        parts = []
        for k in range(3):
            rows = count[codes] > k
            share = 1.0 / count[codes][rows]
            part = frame[rows].copy()
            part["revenue"] *= share
            part["contribution_margin"] *= share
            part["product"] = PRODUCTS[owned[codes[rows], k]]
            parts.append(part)
        frame = pd.concat(parts, ignore_index=True)
    else:
        pick = (rng.random(len(codes)) * count[codes]).astype(np.int64)
        frame["product"] = PRODUCTS[owned[codes, pick]]
    frame["product"] = frame["product"].astype("category")
    frame.to_csv(path, index=False, float_format="%.2f")
    pairs = int(frame[["customer_id", "product"]].drop_duplicates().shape[0])
    return len(frame), pairs


def pipeline(path: Path, out: Path, queue: multiprocessing.Queue) -> None:
    """File to file in this (child) process, as analyze_customers runs it."""
    from customers.reading import read_history

    start = time.perf_counter()
    result = read_history(path, filename=path.name)
    if result.errors:
        raise SystemExit(f"{path}: {result.errors[:3]}")
    history = result.history
    read_s = time.perf_counter() - start
    t = time.perf_counter()
    overall = analysis.analyse(history, as_of=AS_OF, horizon=12)
    overall_s = time.perf_counter() - t
    t = time.perf_counter()
    per_product = products.analyse_products(history, as_of=AS_OF, horizon=12)
    product_s = time.perf_counter() - t
    t = time.perf_counter()
    result_csv_write(products.output_frame(overall, per_product), out)
    write_s = time.perf_counter() - t
    total_s = time.perf_counter() - start
    queue.put(
        {
            "read": read_s,
            "overall": overall_s,
            "per_product": product_s,
            "write": write_s,
            "total": total_s,
            "peak_mib": peak_mib(),
            "customers": len(overall),
            "pairs": len(per_product),
            "types": per_product["value_type"].value_counts().to_dict(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--split", action="store_true", help="split each month over products")
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-products-"))
    path, out = directory / "history.csv", directory / "result.csv"
    t = time.perf_counter()
    rows, pairs = write_input(path, args.customers, split=args.split)
    print(
        f"input: {args.customers:,} customers x 60 months, {len(PRODUCTS)} products, "
        f"{rows:,} rows, {pairs:,} customer-product histories, "
        f"{path.stat().st_size / 2**20:,.0f} MiB, written in {time.perf_counter() - t:.1f} s"
    )
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=pipeline, args=(path, out, queue))
    child.start()
    figures = queue.get()
    child.join()
    print(
        f"read {figures['read']:.1f} s, analyse over all products {figures['overall']:.1f} s, "
        f"per product {figures['per_product']:.1f} s, write {figures['write']:.1f} s; "
        f"total {figures['total']:.1f} s (target 10 s); "
        f"peak memory {figures['peak_mib']:,.0f} MiB (target 2,048 MiB)"
    )
    print(
        f"result: {figures['customers']:,} customers and {figures['pairs']:,} customer-product "
        f"rows, {out.stat().st_size / 2**20:,.0f} MiB; types per product: {figures['types']}"
    )
    if args.keep:
        print(f"files kept in {directory}")
    else:
        path.unlink()
        out.unlink()
        directory.rmdir()


if __name__ == "__main__":
    main()
