"""Benchmark: a portfolio of irregular buyers, where the repeat-buying fit does the work.

100,000 customers over 36 months, revenue only, most of them buying now and then: each
customer buys in a month with its own probability (Beta distributed across customers)
until it drops out for good (a per-month drop-out probability, Beta distributed too),
and spends a Gamma distributed amount when it buys; a fifth buy every month with a
steady value. The file is written once in the portfolio's currency and once in a unit a
hundred times smaller (cents): the command's time and the types must not depend on it.

Prints, per unit: the rows, the time of reading, of `analyse()` and of the repeat-buying
fits within it (BG/BB and Gamma-Gamma, and their likelihood evaluations), the whole
pipeline (file to result CSV) and the share of customers forecast by the repeat-buying
model; then how many customers got another type in cents. Targets of issue 13: whole
pipeline at most 15 s, the fit at most 5 s.

    .venv/bin/python bench/analysis_irregular.py [--customers 100000]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from customers import analysis, bgnbd  # noqa: E402
from customers.reading import read_history  # noqa: E402
from customers.writing import result_csv_write  # noqa: E402

AS_OF = pd.Timestamp("2024-12-01")
MONTHS = 36


def portfolio(n: int, seed: int = 5) -> pd.DataFrame:
    """Rows (customer, month, revenue) of mostly irregular buyers; months without
    business have no row, as in an export of invoices summed per month."""
    rng = np.random.default_rng(seed)
    steady = rng.random(n) < 0.2
    buy = np.where(steady, 1.0, rng.beta(1.2, 3.0, n))
    drop = np.where(steady, 0.0, rng.beta(1.0, 12.0, n))
    spend = rng.gamma(2.0, 150.0, n)
    first = rng.integers(0, MONTHS // 2, n)
    months = np.arange(MONTHS)
    alive = np.cumsum(rng.random((n, MONTHS)) < drop[:, None], axis=1) == 0
    bought = (rng.random((n, MONTHS)) < buy[:, None]) & alive & (months[None, :] >= first[:, None])
    customer, month = np.nonzero(bought)
    revenue = spend[customer] * rng.gamma(4.0, 0.25, len(customer))
    periods = pd.period_range(end=AS_OF.to_period("M"), periods=MONTHS, freq="M")
    return pd.DataFrame(
        {
            "customer_id": pd.Series(customer).map(lambda c: f"C{c:06d}"),
            "period": periods.strftime("%Y-%m")[month],
            "revenue": np.round(revenue, 2),
        }
    )


class _Counted:
    """Times a fitting function and counts the likelihood evaluations it makes."""

    def __init__(self, module, name: str) -> None:
        self.module, self.name = module, name
        self.original = getattr(module, name)
        self.seconds = 0.0
        setattr(module, name, self)

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    def restore(self) -> None:
        setattr(self.module, self.name, self.original)


def run(path: Path, out: Path) -> tuple[pd.DataFrame, dict]:
    evaluations = {"n": 0}
    minimise = bgnbd._minimise

    def counting(negative, x0):
        def counted(x):
            evaluations["n"] += 1
            return negative(x)

        return minimise(counted, x0)

    bgnbd._minimise = counting
    fits = [_Counted(bgnbd, name) for name in ("fit_bgbb", "fit_bgnbd", "fit_gamma_gamma")]
    try:
        start = time.perf_counter()
        read = read_history(path, filename=path.name)
        history = read.history
        read_s = time.perf_counter() - start
        t = time.perf_counter()
        result = analysis.analyse(history, as_of=AS_OF, horizon=12, transactions=read.transactions)
        analyse_s = time.perf_counter() - t
        result_csv_write(analysis.to_output_frame(result), out)
        total_s = time.perf_counter() - start
    finally:
        bgnbd._minimise = minimise
        for fit in fits:
            fit.restore()
    figures = {
        "rows": len(history),
        "read": read_s,
        "analyse": analyse_s,
        "fit": sum(f.seconds for f in fits),
        "evaluations": evaluations["n"],
        "total": total_s,
        "repeat_buying": float((result["forecast_method"] == "repeat_buying").mean()),
    }
    return result, figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    n = parser.parse_args().customers
    rows = portfolio(n)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for unit, factor in (("euros", 1), ("cents", 100)):
            path = Path(folder) / f"irregular-{unit}.csv"
            scaled = rows.assign(revenue=np.round(rows["revenue"] * factor, 2))
            scaled.to_csv(path, index=False)
            results[unit], f = run(path, Path(folder) / f"result-{unit}.csv")
            print(
                f"{n:,} customers in {unit}, {f['rows']:,} rows: read {f['read']:.1f} s, "
                f"analyse {f['analyse']:.1f} s (of it the repeat-buying fits {f['fit']:.1f} s, "
                f"{f['evaluations']} likelihood evaluations), file to file {f['total']:.1f} s; "
                f"forecast by the repeat-buying model: {f['repeat_buying']:.0%}"
            )
        euros, cents = results["euros"], results["cents"]
        other = (euros["value_type"] != cents["value_type"].reindex(euros.index)).sum()
        ratio = cents["future_value"].sum() / euros["future_value"].sum()
        print(f"types different in cents: {other}; future value in cents / euros: {ratio:.4f}")
        # The same purchases as single transactions (a day in the month): BG/NBD on the
        # purchase days instead of BG/BB on the months.
        rng = np.random.default_rng(9)
        days = pd.to_datetime(rows["period"] + "-01") + pd.to_timedelta(
            rng.integers(0, 28, len(rows)), unit="D"
        )
        path = Path(folder) / "irregular-transactions.csv"
        rows.assign(date=days.dt.strftime("%Y-%m-%d"), amount=rows["revenue"])[
            ["customer_id", "date", "amount"]
        ].to_csv(path, index=False)
        _, f = run(path, Path(folder) / "result-transactions.csv")
        print(
            f"the same as {f['rows']:,} transactions: read {f['read']:.1f} s, analyse "
            f"{f['analyse']:.1f} s (the fits {f['fit']:.1f} s, {f['evaluations']} evaluations), "
            f"file to file {f['total']:.1f} s; repeat-buying model: {f['repeat_buying']:.0%}"
        )


if __name__ == "__main__":
    main()
