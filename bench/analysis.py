"""Benchmark: customer value analysis of 100,000 customers x 60 months, file to file.

Prints figures; it is not a pass/fail test. Targets from issue 3: at most 10 s wall time
and 2 GB peak memory from the file on disk to the result CSV, on the 2-core machine.

1. Generates 100,000 synthetic customers x 60 months (customers.synthetic, one row per
   customer and month: 6 million rows) and writes them as a CSV file
   (customer_id, period YYYY-MM, revenue, contribution_margin) to a temporary directory.
2. In a fresh child process (so that its peak memory is the pipeline's alone): reads the
   file with the command's reading code (customers/reading.py: every row checked),
   runs `analysis.analyse()` and writes the result CSV; prints the time
   of each step, the total, and the child's peak resident memory
   (VmHWM at its end: the high-water mark of the whole process, Python and libraries
   included; see `peak_mib` for why not ru_maxrss).
3. In another fresh child: `pandas.read_csv` of the same file alone, the floor of any
   analysis of it, and the ratio (issue 13: at most 3x at 100,000 customers).
4. On 20,000 synthetic customers each of the clear cases (60 months) and the hard cases
   (18-36 months, more noise and gaps, start-up phases, budget months, project
   customers, burrs by money, thin-margin key accounts; customers.synthetic `hard`):
   the confusion matrix (true type x assigned type), the accuracy, the flags
   (thin_margin, forecast_uncertain), and the mean absolute error of the future value
   against the naive forecast "the next 12 periods repeat the last 12" (future value =
   current value). Targets of issue 11: at least 99 % right on the clear cases, 95 % on
   the hard ones, and an error of at most 0.40x the naive one on the hard ones.
5. If the CDNOW data is installed (`pip install --no-deps Lifetimes==0.11.3`, see
   tests/customers/test_bgnbd_reference.py): the holdout figures of the BG/NBD x
   Gamma-Gamma reference, of `analyse()` with the transactions and of `analyse()` on
   the monthly values alone (RMSE, MAE, share of the actual spend in the predicted top
   10 %), and the time of `analyse()` with the transactions.

    .venv/bin/python bench/analysis.py [--customers 100000] [--keep]
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
# The reading code translates its messages, so Django's settings must be there (also in
# the spawned child, which imports this module again).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

# bench/ is on the path when this runs as a script (and in its spawned children).
from analysis_chunked import peak_mib, read_alone  # noqa: E402

from customers import analysis, bgnbd, synthetic  # noqa: E402
from customers.writing import result_csv_write  # noqa: E402

AS_OF = pd.Timestamp("2024-12-01")
INPUT_COLUMNS = ["customer_id", "period", "revenue", "contribution_margin"]


def write_input(path: Path, n_customers: int) -> int:
    history, _, _ = synthetic.generate(n_customers, seed=42, as_of=AS_OF, months=60, all_rows=True)
    frame = pd.DataFrame(
        {
            "customer_id": history[analysis.CUSTOMER_ID],
            # The file format of the analyze_customers command: periods as YYYY-MM.
            "period": history[analysis.PERIOD].dt.strftime("%Y-%m").astype("category"),
            "revenue": history[analysis.REVENUE],
            "contribution_margin": history[analysis.MARGIN],
        }
    )
    frame.to_csv(path, index=False, float_format="%.2f")
    return len(frame)


def read_input(path: Path) -> pd.DataFrame:
    """The command's own reading code (customers/reading.py), checks included."""
    from customers.reading import read_history

    result = read_history(path, filename=path.name)
    if result.errors:
        raise SystemExit(f"{path}: {result.errors[:3]}")
    return result.history


def pipeline(path: Path, out: Path, queue: multiprocessing.Queue) -> None:
    """File to file in this (child) process; reports timings and peak memory."""
    start = time.perf_counter()
    history = read_input(path)
    read_s = time.perf_counter() - start
    t = time.perf_counter()
    result = analysis.analyse(history, as_of=AS_OF, horizon=12)
    analyse_s = time.perf_counter() - t
    t = time.perf_counter()
    result_csv_write(analysis.to_output_frame(result), out)
    write_s = time.perf_counter() - t
    total_s = time.perf_counter() - start
    queue.put(
        {
            "read": read_s,
            "analyse": analyse_s,
            "write": write_s,
            "total": total_s,
            "peak_mib": peak_mib(),
            "customers": len(result),
            "methods": result["forecast_method"].value_counts().to_dict(),
        }
    )


def accuracy_figures(n_customers: int, *, hard: bool) -> None:
    history, true_type, true_future = synthetic.generate(
        n_customers, seed=7, as_of=AS_OF, months=36 if hard else 60, hard=hard
    )
    result = analysis.analyse(history, as_of=AS_OF, horizon=12)
    assigned = result["value_type"].reindex(true_type.index)
    cases = "hard cases" if hard else "clear cases"
    print(f"\nConfusion matrix, {n_customers:,} synthetic customers, {cases} (rows: true type)")
    matrix = pd.crosstab(
        pd.Categorical(true_type, categories=analysis.VALUE_TYPES),
        pd.Categorical(assigned, categories=analysis.VALUE_TYPES),
        rownames=["true"],
        colnames=["assigned"],
        dropna=False,
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(matrix)
    right = assigned == true_type
    target = 0.95 if hard else 0.99
    print(f"accuracy: {right.mean():.2%}  (target >= {target:.0%})")
    per_type = right.groupby(true_type).mean().reindex(analysis.VALUE_TYPES)
    print("per type: " + ", ".join(f"{k} {v:.1%}" for k, v in per_type.items()))
    ours = (result["future_value"].reindex(true_future.index) - true_future).abs()
    naive = (result["current_value"].reindex(true_future.index) - true_future).abs()
    flags = result.reindex(true_type.index)
    print(
        f"thin_margin: {int(flags['thin_margin'].sum()):,} (of them burr: "
        f"{int((flags['thin_margin'] & (assigned == 'burr')).sum())}); forecast_uncertain: "
        f"{flags['forecast_uncertain_reason'].value_counts().drop('', errors='ignore').to_dict()}"
    )
    print(
        f"MAE of the future value: ours {ours.mean():,.1f}, naive (next 12 repeat the last "
        f"12) {naive.mean():,.1f} (ratio {ours.mean() / naive.mean():.3f}"
        + (", target <= 0.40)" if hard else ")")
    )
    judged = true_type != analysis.INSUFFICIENT_DATA
    print(
        f"  without the insufficient_data customers (forecast at most twice what they brought): "
        f"ratio {ours[judged].mean() / naive[judged].mean():.3f}"
    )
    by_type = pd.DataFrame({"ours": ours, "naive": naive}).groupby(true_type).mean()
    with pd.option_context("display.float_format", "{:,.1f}".format):
        print(by_type.reindex(analysis.VALUE_TYPES))


def cdnow_figures() -> None:
    """The CDNOW holdout comparison of tests/customers/test_bgnbd_reference.py."""
    from tests.customers import cdnow

    if cdnow.datasets_folder() is None:
        print("\nCDNOW data not installed: no comparison with BG/NBD")
        return
    calibration_end = cdnow.CALIBRATION_END
    customers, calibration, actual = cdnow.holdout_split()

    summary = bgnbd.rfm_summary(
        calibration["customer_id"], calibration["date"], calibration["dollars"], end=calibration_end
    )
    x, t_x, age = summary[bgnbd.FREQUENCY], summary[bgnbd.RECENCY], summary[bgnbd.AGE]
    purchases = bgnbd.fit_bgnbd(x, t_x, age)
    spend = bgnbd.fit_gamma_gamma(x, summary[bgnbd.MONETARY])
    reference = bgnbd.expected_purchases(purchases, 39, x, t_x, age) * bgnbd.expected_spend(
        spend, x, summary[bgnbd.MONETARY]
    )
    predictions = {"BG/NBD x Gamma-Gamma": pd.Series(reference, index=summary.index)}

    transactions = pd.DataFrame(
        {
            analysis.CUSTOMER_ID: calibration["customer_id"],
            analysis.DATE: calibration["date"],
            analysis.AMOUNT: calibration["dollars"].astype(float),
            analysis.MARGIN: np.nan,
        }
    )
    monthly = analysis.monthly_from_transactions(transactions)
    as_of = pd.Timestamp("1997-09-01")
    t = time.perf_counter()
    ours = analysis.analyse(monthly, as_of=as_of, horizon=9, transactions=transactions)
    seconds = time.perf_counter() - t
    predictions["ours, with transactions"] = ours["future_value"]
    predictions["ours, monthly values only"] = analysis.analyse(monthly, as_of=as_of, horizon=9)[
        "future_value"
    ]

    print(
        f"\nCDNOW holdout (39 weeks = 9 months after 1997-09), {len(customers):,} customers, "
        f"actual spend {actual.sum():,.0f}; analyse() with transactions took {seconds:.1f} s"
    )
    top = round(len(customers) / 10)
    for name, prediction in predictions.items():
        prediction = prediction.reindex(customers, fill_value=0.0)
        rmse = float(np.sqrt(((prediction - actual) ** 2).mean()))
        mae = float((prediction - actual).abs().mean())
        best = prediction.sort_values(ascending=False, kind="stable").index[:top]
        capture = actual[best].sum() / actual.sum()
        print(f"  {name:27} RMSE {rmse:7.3f}  MAE {mae:7.3f}  top 10 % capture {capture:.2%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--accuracy-customers", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-analysis-"))
    path, out = directory / "history.csv", directory / "result.csv"
    t = time.perf_counter()
    rows = write_input(path, args.customers)
    print(
        f"input: {args.customers:,} customers, {rows:,} rows, "
        f"{path.stat().st_size / 2**20:,.0f} MiB, written in {time.perf_counter() - t:.1f} s"
    )

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=pipeline, args=(path, out, queue))
    child.start()
    figures = queue.get()
    child.join()
    print(f"read and check the file:    {figures['read']:6.2f} s")
    print(f"analyse():                  {figures['analyse']:6.2f} s")
    print(f"write the result CSV:       {figures['write']:6.2f} s")
    print(f"total, file to file:        {figures['total']:6.2f} s  (target <= 10 s)")
    # The floor of any analysis of the file: pandas.read_csv alone, in a child of its own.
    child = context.Process(target=read_alone, args=(path, queue))
    child.start()
    alone = queue.get()
    child.join()
    print(
        f"pandas.read_csv alone:      {alone['seconds']:6.2f} s  (the analysis takes "
        f"{figures['total'] / alone['seconds']:.1f}x that; target <= 3x)"
    )
    print(f"peak memory (child VmHWM):   {figures['peak_mib']:,.0f} MiB  (target <= 2048 MiB)")
    print(f"forecast methods: {figures['methods']}")
    if not args.keep:
        path.unlink()
        out.unlink()
        directory.rmdir()
    else:
        print(f"files kept in {directory}")

    accuracy_figures(args.accuracy_customers, hard=False)
    accuracy_figures(args.accuracy_customers, hard=True)
    cdnow_figures()


if __name__ == "__main__":
    main()
