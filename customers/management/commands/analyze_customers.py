"""python manage.py analyze_customers INPUT --output OUT.csv [--horizon N] [--as-of YYYY-MM]

Analyses a value-history file without touching the database: one row per customer
with its value type, current and future value and the figures that explain the type.
For a transaction file the analysis also gets the single transactions, so that the
irregular buyers are forecast from their purchase days (see customers/analysis.py).
A file with a product column gets a `product` column in the output: the rows over all
products first (product empty, as for a file without products), then one row per
customer and product (see customers/products.py).

A CSV file larger than 256 MB (customers/chunked.py, CHUNKED_FROM_BYTES) is
read and analysed in chunks of --chunk-customers customers (CUSTOMER_ANALYSIS
["chunk_customers"] by default) by --processes worker processes (CUSTOMER_ANALYSIS
["processes"]), so that the peak memory depends on the chunk, not the file; the result
is the same. Transaction files, files with products and CSV files the
chunked reading does not take (see customers/chunked.py) go the one-process way.

The thresholds are those of the settings (CUSTOMER_ANALYSIS["thresholds"]): the command
needs no database. With --stored-thresholds it reads the administrators' changes from the
database as well, as the app's analysis does (docs/operations.md, "Analysis thresholds").
"""

from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from customers import analysis, chunked, products
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
            "--chunk-customers",
            dest="chunk_customers",
            type=int,
            default=None,
            help="customers per chunk when a large CSV file is analysed in chunks",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="worker processes of a chunked analysis (1: all in this one)",
        )
        parser.add_argument(
            "--stored-thresholds",
            action="store_true",
            help="use the thresholds in force in the app (the settings' overlaid with the "
            "administrators' changes stored in the database)",
        )

    def handle(
        self,
        *args,
        input: Path,
        output: Path,
        horizon,
        as_of,
        stored_thresholds,
        chunk_customers,
        processes,
        **options,
    ):
        if not input.exists():
            raise CommandError(f"{input}: no such file")
        as_of_ts = None
        if as_of:
            try:
                as_of_ts = pd.Timestamp(pd.Period(as_of, freq="M").start_time)
            except ValueError as error:
                raise CommandError(f"--as-of {as_of}: expected YYYY-MM") from error
        config = settings.CUSTOMER_ANALYSIS
        if stored_thresholds:
            from customers.thresholds import thresholds_in_force

            thresholds = thresholds_in_force()[0]
        else:
            thresholds = analysis.Thresholds.from_mapping(config["thresholds"])
        large = input.stat().st_size > chunked.CHUNKED_FROM_BYTES
        if input.suffix.lower() in (".csv", ".txt") and large:
            try:
                done = chunked.analyse_file_chunked(
                    input,
                    output,
                    as_of=as_of_ts,
                    horizon=horizon or config["horizon"],
                    thresholds=thresholds,
                    chunk_customers=chunk_customers or config["chunk_customers"],
                    block_bytes=chunked.BLOCK_BYTES,
                    processes=processes or config["processes"],
                )
            except chunked.Unsupported:
                pass  # the one-process way below
            except chunked.WorkerFailed as error:
                raise CommandError(f"{input.name}: {error}") from error
            else:
                if done.errors:
                    self._refuse(input, done.errors, done.error_count)
                self.stdout.write(
                    f"{done.customers} customers analysed as of {done.as_of:%Y-%m} "
                    f"in {done.chunks} chunk(s), written to {output}"
                )
                return
        result = read_history(input, filename=input.name)
        if result.errors:
            self._refuse(input, result.errors, result.error_count)
        history = result.history
        if as_of_ts is None:
            as_of_ts = history["period"].max()
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

    def _refuse(self, input: Path, errors, error_count: int) -> None:
        lines = [f"{input.name}: {error_count} error(s), nothing analysed"]
        lines += [f"  row {e.row or '-'}, column {e.column or '-'}: {e.message}" for e in errors]
        raise CommandError("\n".join(lines))
