"""python manage.py analyze_customers INPUT --output OUT.csv [--horizon N] [--as-of YYYY-MM]

Analyses a value-history file without touching the database: one row per customer
with its value type, current and future value and the figures that explain the type.
For a transaction file the analysis also gets the single transactions, so that the
irregular buyers are forecast from their purchase days (see customers/analysis.py).
A file with a product column gets a `product` column in the output: the rows over all
products first (product empty, as for a file without products), then one row per
customer and product (see customers/products.py).

The thresholds are those of the settings (CUSTOMER_ANALYSIS["thresholds"]): the command
needs no database. With --stored-thresholds it reads the administrators' changes from the
database as well, as the app's analysis does (docs/operations.md, "Analysis thresholds").
"""

from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from customers import analysis, products
from customers.reading import read_history
from customers.writing import result_csv_write


class Command(BaseCommand):
    help = "Analyse a customer value history file (CSV or XLSX) into a CSV of value types."
    # No database needed: skip the system checks that would connect to it.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("input", type=Path)
        parser.add_argument("--output", type=Path, required=True)
        parser.add_argument("--horizon", type=int, default=None)
        parser.add_argument("--as-of", dest="as_of", default=None, help="YYYY-MM")
        parser.add_argument(
            "--stored-thresholds",
            action="store_true",
            help="use the thresholds in force in the app (the settings' overlaid with the "
            "administrators' changes stored in the database)",
        )

    def handle(
        self, *args, input: Path, output: Path, horizon, as_of, stored_thresholds, **options
    ):
        if not input.exists():
            raise CommandError(f"{input}: no such file")
        result = read_history(input, filename=input.name)
        if result.errors:
            lines = [f"{input.name}: {result.error_count} error(s), nothing analysed"]
            lines += [
                f"  row {e.row or '-'}, column {e.column or '-'}: {e.message}"
                for e in result.errors
            ]
            raise CommandError("\n".join(lines))
        history = result.history
        if as_of:
            try:
                as_of_ts = pd.Timestamp(pd.Period(as_of, freq="M").start_time)
            except ValueError as error:
                raise CommandError(f"--as-of {as_of}: expected YYYY-MM") from error
        else:
            as_of_ts = history["period"].max()
        config = settings.CUSTOMER_ANALYSIS
        if stored_thresholds:
            from customers.thresholds import thresholds_in_force

            thresholds = thresholds_in_force()[0]
        else:
            thresholds = analysis.Thresholds.from_mapping(config["thresholds"])
        options = {
            "as_of": as_of_ts,
            "horizon": horizon or config["horizon"],
            "thresholds": thresholds,
            "transactions": result.transactions,  # None for a file per period
        }
        history = history[history["period"] <= as_of_ts]
        frame = analysis.analyse(history, **options)
        per_product = None
        if "product" in history:
            per_product = products.analyse_products(history, **options)
        out = products.output_frame(frame, per_product)
        result_csv_write(out, output)
        line = f"{len(frame)} customers analysed as of {as_of_ts:%Y-%m}"
        if per_product is not None:
            line += f", {len(per_product)} customer-product histories"
        self.stdout.write(f"{line}, written to {output}")
