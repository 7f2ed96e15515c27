"""Study: how far can the future-value error go down on the hard synthetic cases?

Prints figures; it is not a pass/fail test. On the hard cases of bench/analysis.py
(customers.synthetic `hard`, 36 months, seed 7, 20,000 customers by default) it compares
the mean absolute error of the future value (the next 12 months) with the naive
forecast's ("the next 12 months repeat the last 12": future value = current value) for

- ours: `analysis.analyse()` as it is, and with other caps for customers with too little
  data (`short_history_max_future`);
- the oracle: the generator's expected future value (`synthetic.generate_with_expected`:
  the customer's own parameters known, only the noise, the gaps and the chance orders of
  the next 12 months unknown), the best a forecast can do on average. Its error is the
  floor no forecast gets below. It is shown as it is, with the direction rules of the
  method (a customer typed growth above its current value, bell and shrinking at most
  it; by the type the analysis assigned), and with the cap for too little data at 1x,
  1.5x, 2x and 2.9x what the customer brought so far.

For every variant: the ratio to the naive error over all customers, and per true type
its share of that ratio (the shares add up to the ratio) and the type's own ratio.

    .venv/bin/python bench/forecast_floor.py [--customers 20000] [--seed 7]
"""

import argparse
import os
import sys
from pathlib import Path

import django
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from customers import analysis, synthetic  # noqa: E402

AS_OF = pd.Timestamp("2024-12-01")
CAPS = (1.0, 1.5, 2.0, 2.9)


def _rules(
    future: pd.Series, result: pd.DataFrame, *, cap: float | None, direction: bool
) -> pd.Series:
    """`future` held to the method's rules, by the assigned type (see customers/analysis.py)."""
    future = future.copy()
    current = result["current_value"]
    kind = result["value_type"]
    if direction:
        # Per period against the current value per period (over min(periods, 12)).
        window = result["periods"].clip(1, analysis.CURRENT_PERIODS)
        now = current / window * synthetic.FUTURE_MONTHS
        growth = kind == analysis.GROWTH
        floor = now.clip(lower=0) * sum(1.01**k for k in range(1, synthetic.FUTURE_MONTHS + 1))
        floor /= synthetic.FUTURE_MONTHS
        future[growth & (future <= now)] = np.maximum(future, floor)[growth & (future <= now)]
        falling = kind.isin([analysis.BELL, analysis.SHRINKING])
        future[falling] = np.minimum(future[falling], now[falling].clip(lower=0))
    if cap is not None:
        short = kind == analysis.INSUFFICIENT_DATA
        future[short] = np.minimum(future[short], cap * current[short].clip(lower=0))
    return future


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    history, true_type, true_future, expected = synthetic.generate_with_expected(
        args.customers, seed=args.seed, as_of=AS_OF, months=36, hard=True
    )
    result = analysis.analyse(history, as_of=AS_OF, horizon=synthetic.FUTURE_MONTHS)
    result = result.reindex(true_type.index)
    naive = (result["current_value"] - true_future).abs()

    variants: dict[str, pd.Series] = {}
    variants["ours (as it is)"] = result["future_value"]
    for cap in (*CAPS, 1e9):
        name = "none" if cap == 1e9 else f"{cap:g}x"
        thresholds = analysis.Thresholds(short_history_max_future=cap)
        capped = analysis.analyse(
            history, as_of=AS_OF, horizon=synthetic.FUTURE_MONTHS, thresholds=thresholds
        )
        variants[f"ours, cap {name}"] = capped["future_value"].reindex(true_type.index)
    variants["oracle"] = expected
    variants["oracle + direction"] = _rules(expected, result, cap=None, direction=True)
    for cap in CAPS:
        variants[f"oracle, cap {cap:g}x"] = _rules(expected, result, cap=cap, direction=False)
        variants[f"oracle + direction, cap {cap:g}x"] = _rules(
            expected, result, cap=cap, direction=True
        )

    print(
        f"{args.customers:,} hard synthetic customers, seed {args.seed}: naive MAE "
        f"{naive.mean():,.1f}; customers typed insufficient_data: "
        f"{int((result['value_type'] == analysis.INSUFFICIENT_DATA).sum()):,}"
    )
    types = list(analysis.VALUE_TYPES)
    short = {"insufficient_data": "insuff", "shrinking": "shrink"}
    head = [short.get(t, t) for t in types]
    print("\nratio to the naive MAE, and each true type's share of it")
    print(f"{'variant':34} {'ratio':>6} " + " ".join(f"{h:>7}" for h in head))
    total_naive = naive.sum()
    for name, future in variants.items():
        error = (future - true_future).abs()
        shares = error.groupby(true_type).sum().reindex(types) / total_naive
        print(
            f"{name:34} {error.sum() / total_naive:6.3f} " + " ".join(f"{v:7.3f}" for v in shares)
        )
    print("\neach true type's own ratio (its MAE / its naive MAE)")
    print(f"{'variant':34} " + " ".join(f"{h:>7}" for h in head))
    naive_by_type = naive.groupby(true_type).mean().reindex(types)
    for name, future in variants.items():
        error = (future - true_future).abs().groupby(true_type).mean().reindex(types)
        print(f"{name:34} " + " ".join(f"{v:7.3f}" for v in error / naive_by_type))
    print(f"{'(naive MAE per type)':34} " + " ".join(f"{v:7.0f}" for v in naive_by_type))


if __name__ == "__main__":
    main()
