"""Benchmark: the chunked analysis (customers/chunked.py) of a large file, file to file.

Prints figures; it is not a pass/fail test. Targets of issue 13: 1,000,000 customers x 60
months (60 million rows, some 2 GB of CSV) with a peak memory of at most 2 GB, in at most
4x the time `pandas.read_csv` needs for the same file.

1. Writes N synthetic customers x 60 months (customers.synthetic, every month a row, in
   pieces of 100,000 customers so that writing stays small) as the CSV file of the
   analyze_customers command to a temporary directory (or takes --input).
2. `pandas.read_csv` of the file alone (the floor of any reading), three times, each in
   a fresh child process: the median time, the peak memory.
3. In another fresh child: `chunked.analyse_file_chunked` (read, check, three passes,
   result CSV) with --processes worker processes (2) and chunks of --chunk-customers
   (50,000): its time and the peak memory of the child and of each worker.

Peak memory is a process's high-water mark of resident memory (VmHWM in
/proc/self/status, read at its end; Python and libraries included); the sum over the
child and its workers is the most they can have held together.

    .venv/bin/python bench/analysis_chunked.py [--customers 1000000] [--input FILE]
        [--processes 2] [--chunk-customers 50000]

Measured on the 2-core machine, nearly quiet (1,000,000 customers, 60,000,000 rows,
2,018 MiB): pandas.read_csv alone 2.6-3.1 s (single runs 2.5 to 7.0 s) with a peak of
6,122 MiB; the chunked analysis (20 chunks, 2 workers) 22.8-23.9 s with a peak of
1,860-1,869 MiB for the three processes together (the main one some 400 MiB). Before
this issue's last round of work: 194.5 s in one process at 1,752 MiB. The chunked result
CSV equals the one-process result byte for byte (bench/analysis.py compares them for a
file over 256 MB of at most 200,000 customers, e.g. --customers 150000; on 100,000
customers, in 2 chunks, they were equal).
"""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import django
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from customers import analysis, chunked, synthetic  # noqa: E402

AS_OF = pd.Timestamp("2024-12-01")
PIECE = 100_000


def write_input(path: Path, n_customers: int, months: int = 60) -> int:
    rows = 0
    for number, start in enumerate(range(0, n_customers, PIECE)):
        size = min(PIECE, n_customers - start)
        history, _, _ = synthetic.generate(
            size, seed=42 + number, as_of=AS_OF, months=months, all_rows=True
        )
        frame = pd.DataFrame(
            {
                # Distinct ids per piece, in the file's order of pieces.
                "customer_id": f"P{number:03d}-" + history[analysis.CUSTOMER_ID].astype(str),
                "period": history[analysis.PERIOD].dt.strftime("%Y-%m"),
                "revenue": history[analysis.REVENUE],
                "contribution_margin": history[analysis.MARGIN],
            }
        )
        frame.to_csv(
            path, mode="a" if number else "w", header=not number, index=False, float_format="%.2f"
        )
        rows += len(frame)
    return rows


# The peak memory of a process (VmHWM), shared with the other analysis benches.
peak_mib = chunked.process_peak_mib


def read_alone(path: Path, queue) -> None:
    start = time.perf_counter()
    frame = pd.read_csv(path)
    queue.put({"seconds": time.perf_counter() - start, "peak_mib": peak_mib(), "rows": len(frame)})


def read_csv_figures(path: Path, runs: int = 3) -> dict:
    """`pandas.read_csv` of the file alone, each time in a fresh child: the median time
    of `runs` (its time varies by half between runs on a shared machine), the peak."""
    figures = [in_child(read_alone, path) for _ in range(runs)]
    seconds = sorted(f["seconds"] for f in figures)
    return {**figures[0], "seconds": seconds[len(seconds) // 2], "all": seconds}


def chunked_run(path: Path, out: Path, chunk_customers: int, processes: int, queue) -> None:
    start = time.perf_counter()
    done = chunked.analyse_file_chunked(
        path,
        out,
        as_of=AS_OF,
        horizon=12,
        thresholds=analysis.Thresholds(),
        chunk_customers=chunk_customers,
        processes=processes,
    )
    queue.put(
        {
            "seconds": time.perf_counter() - start,
            "peak_mib": peak_mib(),
            "worker_peaks": sorted(done.worker_peak_mib.values()),
            "customers": done.customers,
            "chunks": done.chunks,
            "errors": done.error_count,
        }
    )


def in_child(target, *args) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    figures = queue.get()
    child.join()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--chunk-customers", type=int, default=50_000)
    parser.add_argument("--processes", type=int, default=2, help="worker processes (1: none)")
    parser.add_argument("--input", type=Path, help="an existing file instead of a new one")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-chunked-"))
    path = args.input or directory / "history.csv"
    if args.input is None:
        t = time.perf_counter()
        rows = write_input(path, args.customers)
        print(
            f"input: {args.customers:,} customers, {rows:,} rows, written in "
            f"{time.perf_counter() - t:.0f} s"
        )
    print(f"file: {path} ({path.stat().st_size / 2**20:,.0f} MiB)")

    alone = read_csv_figures(path)
    print(
        f"pandas.read_csv alone:  {alone['seconds']:7.1f} s (median of "
        f"{', '.join(f'{s:.1f}' for s in alone['all'])}), peak {alone['peak_mib']:,.0f} MiB "
        f"({alone['rows']:,} rows)"
    )
    out = directory / "result.csv"
    run = in_child(chunked_run, path, out, args.chunk_customers, args.processes)
    workers = run["worker_peaks"]
    total = run["peak_mib"] + sum(workers)
    print(
        f"chunked analysis:       {run['seconds']:7.1f} s, "
        f"{run['seconds'] / alone['seconds']:.1f}x pandas.read_csv (target <= 4x); "
        f"{run['customers']:,} customers in {run['chunks']} chunks, {run['errors']} errors"
    )
    print(
        f"peak memory:            {total:,.0f} MiB (target <= 2048 MiB): the main process "
        f"{run['peak_mib']:,.0f}"
        + (
            f" + {len(workers)} workers {' + '.join(f'{w:,.0f}' for w in workers)}"
            if workers
            else ""
        )
    )
    out.unlink(missing_ok=True)
    if args.input is None and not args.keep:
        path.unlink()
    if not any(directory.iterdir()):
        directory.rmdir()
    else:
        print(f"files kept in {directory}")


if __name__ == "__main__":
    main()
