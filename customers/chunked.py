"""The customer analysis of a value-history file in chunks of customers, so that the peak
memory depends on the chunk size, not on the portfolio (1,000,000 customers x 60 months).

The result equals `analysis.analyse()` over the whole file in one process: the same type
and flags for every customer, the same figures (up to the last bits of floating point).
How:

- A chunk is a contiguous range of the customers in the order of `analyse()`'s matrix
  (customer ids sorted), with all rows of its customers.
- Pass 0 reads the file in blocks of rows with the reading code of the one-process path
  (customers/reading.py; each block is the header line plus whole lines of the file, its
  row numbers shifted to the file's), writes each block's rows (customer, month, revenue,
  margin, file row) to a temporary Feather file, then splits them into one file per
  chunk. A customer twice in one month is checked per chunk (where all its rows are), so
  across blocks too. Errors are listed as the one-process reading lists them: by row,
  the first `max_errors`, with the count of all.
- Pass 1 analyses each chunk with a `Portfolio` that only lays the matrix out from the
  portfolio's first month (a customer's row is then the same as in the whole matrix) and
  collects what the portfolio-wide figures need and does not depend on the type: the
  current rates for the medians (`relative_value`'s references) and the rounded margin
  ratios for `margin_ratio_rank`.
- Pass 2 analyses each chunk with those, so up to the types as in one process, and
  collects the current values of the steady customers with margins (the hidden pearls'
  ceiling, a quantile over them) and the figures of the customers the monthly
  repeat-buying models are fitted on; the models are fitted on the same evenly spaced
  sample of them as in one process (chunks are in the customers' order).
- Pass 3 analyses each chunk with all portfolio-wide figures and appends its rows to the
  result CSV (in the customers' order, as the one-process result).

Medians, quantiles and the sorted ratios over the collected values are those over the
whole portfolio (they depend on the set of values only). The temporary directory is
removed at the end.

What goes the one-process way (`Unsupported`): XLSX files (at most 1,048,576 rows
anyway), transaction files (a month's sum and the BG/NBD fit need all purchases of a
customer), files with a product column, and CSV files the blocks cannot be cut from
exactly: UTF-16, a line with an odd number of quote characters (a quoted line break
would move the row numbers), line ends other than LF and CR LF.

Reading per block instead of per file differs in one point: the decimal convention
(decimal comma or point), which the one-process reading decides once for the file, is
decided per block; the same for a file written with one convention.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from customers import analysis, reading
from customers.writing import result_csv_write
from lib.tables import ErrorLog, RowError, read_table

BLOCK_BYTES = 64 << 20  # bytes of the file read per block in pass 0
_ROW = "row"  # the file row of a history row (Excel numbering, header = 1)


class Unsupported(Exception):
    """The file goes the one-process way (see the module docstring)."""


@dataclass
class ChunkedResult:
    """What `analyse_file_chunked` did: customers analysed (0 after errors), as_of, and
    the reading errors as `reading.ReadResult` lists them."""

    customers: int = 0
    as_of: pd.Timestamp | None = None
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    chunks: int = 0


def analyse_file_chunked(
    path: Path,
    output: Path,
    *,
    as_of: pd.Timestamp | None,
    horizon: int,
    thresholds: analysis.Thresholds,
    chunk_customers: int = 100_000,
    block_bytes: int = BLOCK_BYTES,
    max_errors: int = 50,
) -> ChunkedResult:
    """Analyse the CSV value-history file `path` into the result CSV `output`, chunk by
    chunk (`chunk_customers` customers each); see the module docstring. `as_of` None:
    the file's last month. Raises `Unsupported` for files that go the one-process way."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".txt"):
        raise Unsupported("not a CSV file")
    work = Path(tempfile.mkdtemp(prefix="chainmap-chunks-"))
    try:
        blocks = _read_blocks(path, work, block_bytes=block_bytes, max_errors=max_errors)
        ids = np.unique(np.concatenate(blocks.ids)) if blocks.ids else np.zeros(0, object)
        bounds = ids[::chunk_customers][1:]
        chunk_files = _split(blocks.files, bounds, work)
        as_of = pd.Timestamp(as_of) if as_of is not None else blocks.last_period
        log_errors, log_count = list(blocks.errors), blocks.error_count
        histories, first_period = [], None
        for number, files in enumerate(chunk_files):
            errors, count, target, first = _chunk(
                files, number, work, blocks, as_of, max_errors, keep=not log_count
            )
            log_errors += errors
            log_count += count
            histories.append(target)
            if first is not None:
                first_period = first if first_period is None else min(first_period, first)
        if log_count:
            return ChunkedResult(
                errors=_first(log_errors, blocks.header)[:max_errors], error_count=log_count
            )
        if first_period is None:  # no row up to as_of
            first_period = as_of
        options = {"as_of": as_of, "horizon": horizon, "thresholds": thresholds}
        chunks = [lambda target=target: _history(target) for target in histories]

        customers = 0
        with Path(output).open("wb") as sink:
            for number, result in enumerate(analyse_chunks(chunks, first_period, **options)):
                customers += len(result)
                part = work / "result.csv"
                result_csv_write(analysis.to_output_frame(result), part)
                with part.open("rb") as source:
                    if number:
                        source.readline()  # the header once
                    shutil.copyfileobj(source, sink)
        return ChunkedResult(customers=customers, as_of=as_of, chunks=len(chunks))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def analyse_chunks(
    chunks: list[Callable[[], pd.DataFrame]],
    first_period: pd.Timestamp,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    thresholds: analysis.Thresholds,
) -> Iterator[pd.DataFrame]:
    """`analysis.analyse()` of each chunk (a function that loads its history: contiguous
    ranges of the customers in their sorted order), with the portfolio-wide figures of all
    of them (passes 1 and 2, see the module docstring); `first_period` is the earliest
    month of all histories up to `as_of`."""
    options = {"as_of": as_of, "horizon": horizon, "thresholds": thresholds}
    th = thresholds
    # Pass 1: the references and the margin ratios.
    base = analysis.Portfolio(first_period=first_period)
    parts = [_parts(load(), base, options, stage=1) for load in chunks]
    ratios = np.sort(_joined(parts, "ranked_ratios"))
    portfolio = analysis.Portfolio(
        first_period=first_period,
        margin_reference=analysis._median(_joined(parts, "margin_rates")),
        revenue_reference=analysis._median(_joined(parts, "revenue_rates")),
        margin_ratios=ratios,
    )
    # Pass 2: up to the types; the pearls' ceiling and the repeat-buying models.
    parts = [_parts(load(), portfolio, options, stage=2) for load in chunks]
    steady = _joined(parts, "steady_margin_values")
    fit = {name: _joined(parts, name) for name in ("repeat", "t_x", "n", "count", "value")}
    del parts
    portfolio = analysis.Portfolio(
        first_period=first_period,
        margin_reference=portfolio.margin_reference,
        revenue_reference=portfolio.revenue_reference,
        margin_ratios=ratios,
        pearl_ceiling=(
            np.quantile(steady, th.pearl_max_value_quantile) if len(steady) else -np.inf
        ),
        repeat_buying=analysis._repeat_buying_fit(fit, th),
    )
    # Pass 3: the result, chunk by chunk.
    for load in chunks:
        result = analysis.analyse(load(), **options, portfolio=portfolio)
        result.attrs.pop("portfolio_parts", None)
        yield result


# --- pass 0: reading -------------------------------------------------------------------


@dataclass
class _Blocks:
    files: list[Path] = field(default_factory=list)
    ids: list[np.ndarray] = field(default_factory=list)  # distinct customer ids per block
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    header: list[str] = field(default_factory=list)
    period_position: int = 0
    last_period: pd.Timestamp | None = None


def _read_blocks(path: Path, work: Path, *, block_bytes: int, max_errors: int) -> _Blocks:
    out = _Blocks()
    with path.open("rb") as source:
        prefix = _prefix(source)
        offset = 0  # file rows before the block, after the prefix
        number = 0
        while True:
            data = source.read(block_bytes)
            if not data and number:
                break
            if data and not data.endswith(b"\n"):
                data += source.readline()
            _check_plain(prefix + data)
            _read_block(prefix + data, path.name, offset, number, work, out, max_errors)
            offset += data.count(b"\n")
            number += 1
            if not data:
                break
    return out


def _prefix(source) -> bytes:
    """The bytes up to and including the header line (blank lines before it included)."""
    prefix = b""
    while True:
        line = source.readline()
        prefix += line
        if not line or line.strip():
            return prefix


def _check_plain(data: bytes) -> None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise Unsupported("UTF-16 or binary")
    if b'"' in data:
        # Quoted fields are fine on one line ("Huber, Fliesen"); a line with an odd number
        # of quotes may continue a quoted field on the next line, which would move the
        # row numbers of the blocks after it.
        codes = np.frombuffer(data, dtype=np.uint8)
        inside = np.logical_xor.accumulate(codes == ord('"'))
        if inside[codes == ord("\n")].any() or inside[-1]:
            raise Unsupported("a quoted line break")
    if data.count(b"\r") != data.count(b"\r\n"):
        raise Unsupported("line ends other than LF and CR LF")


def _read_block(
    data: bytes, name: str, offset: int, number: int, work: Path, out: _Blocks, max_errors: int
) -> None:
    """Read one block (header line + whole lines) with the reading code; rows shifted by
    `offset` to the file's numbering. Its rows go to a Feather file, its errors to `out`."""
    log = ErrorLog()
    table = read_table(io.BytesIO(data), filename=name, log=log, limits=reading.VALUE_LIMITS)
    if table is None:
        result = reading._result(log, max_errors)
        _add_errors(out, result.errors, result.error_count, offset, first=number == 0)
        return
    result = reading._read_table(table, name, log, max_errors, duplicates=False)
    if number == 0:
        out.header = table.header
        if result.kind == "transaction":
            raise Unsupported("a transaction file")
        kind, columns = reading._map_columns(table, ErrorLog())
        if "product" in columns:
            raise Unsupported("a file with products")
    if number and result.kind is None and not result.rows:
        return  # a block of blank lines
    _add_errors(out, result.errors, result.error_count, offset, first=number == 0)
    rows = table.rownum + offset
    if result.history is not None:
        history = result.history
        frame = pd.DataFrame(
            {
                analysis.CUSTOMER_ID: history["customer_id"].to_numpy(dtype=object),
                analysis.PERIOD: history["period"].to_numpy(),
                analysis.REVENUE: history["revenue"].to_numpy(),
                analysis.MARGIN: history["margin"].to_numpy(),
                _ROW: rows,
            }
        )
    else:
        # Rows with errors: only what the check for duplicates needs, taken as
        # reading._read_table takes it.
        kind, columns = reading._map_columns(table, ErrorLog())
        if kind != "period" or "customer_id" not in columns or "period" not in columns:
            return
        position = columns["period"]
        when = reading._parse_when(
            table.cells[position], position, kind, table, ErrorLog(), table.header
        )
        ids = reading._clean_text(table.cells[columns["customer_id"]])
        frame = pd.DataFrame(
            {
                analysis.CUSTOMER_ID: ids.to_numpy(dtype=object),
                analysis.PERIOD: when.to_numpy(),
                analysis.REVENUE: np.nan,
                analysis.MARGIN: np.nan,
                _ROW: rows,
            }
        )
    if number == 0 or not out.period_position:
        _, columns = reading._map_columns(table, ErrorLog())
        out.period_position = columns.get("period", 0)
    periods = frame[analysis.PERIOD].dropna()
    if len(periods):
        high = periods.max()
        out.last_period = high if out.last_period is None else max(out.last_period, high)
    target = work / f"block-{number:05d}.feather"
    feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), target)
    out.files.append(target)
    out.ids.append(pd.unique(frame[analysis.CUSTOMER_ID].to_numpy()))


def _add_errors(out: _Blocks, errors, count: int, offset: int, *, first: bool) -> None:
    for error in errors:
        if error.row is None:
            if first and error not in out.errors:
                out.errors.append(error)
                out.error_count += 1
            count -= 1
            continue
        out.errors.append(dataclasses.replace(error, row=error.row + offset))
    out.error_count += count


def _split(files: list[Path], bounds: np.ndarray, work: Path) -> list[list[Path]]:
    """Each block's rows into one file per chunk (customers below bounds[0], ...)."""
    chunk_files: list[list[Path]] = [[] for _ in range(len(bounds) + 1)]
    for block, path in enumerate(files):
        table = feather.read_table(path)
        ids = table.column(analysis.CUSTOMER_ID).to_numpy(zero_copy_only=False)
        codes, distinct = pd.factorize(ids)
        chunk_of = np.searchsorted(bounds, np.asarray(distinct, dtype=object), side="right")
        chunk = chunk_of[codes]
        for number in np.unique(chunk):
            target = work / f"chunk-{number:05d}-{block:05d}.feather"
            feather.write_feather(table.filter(pa.array(chunk == number)), target)
            chunk_files[number].append(target)
        path.unlink()
    return [files for files in chunk_files if files]


def _chunk(
    files: list[Path],
    number: int,
    work: Path,
    blocks: _Blocks,
    as_of: pd.Timestamp,
    max_errors: int,
    *,
    keep: bool,
) -> tuple[list[RowError], int, Path, pd.Timestamp | None]:
    """A chunk's rows from its pieces: the check for a customer twice in one month (over
    all rows of its customers) and, with `keep` (no errors so far), one file of its
    history up to `as_of` in the file's row order, the customer ids categorical with the
    sorted ids as categories (analysis._pivot's quick way, the same order); the errors,
    their count, the file and the chunk's earliest month."""
    frame = pd.concat([feather.read_table(f).to_pandas() for f in files], ignore_index=True)
    for path in files:
        path.unlink()
    target = work / f"chunk-{number:05d}.feather"
    if frame.empty:
        return [], 0, target, None
    frame = frame.sort_values(_ROW, kind="stable", ignore_index=True)
    log = ErrorLog()

    @dataclass
    class _Rows:
        rownum: np.ndarray

    ids = frame[analysis.CUSTOMER_ID].astype("str")
    reading._check_duplicates(
        ids,
        frame[analysis.PERIOD],
        blocks.period_position,
        _Rows(frame[_ROW].to_numpy()),
        log,
        blocks.header,
    )
    if log.count or not keep:
        return log.finish(max_errors), log.count, target, None
    frame = frame[frame[analysis.PERIOD] <= as_of]
    ids = ids[frame.index]
    codes, categories = pd.factorize(ids.to_numpy(), sort=True)
    frame = frame.drop(columns=[_ROW]).assign(
        **{
            analysis.CUSTOMER_ID: pd.Categorical.from_codes(
                codes, categories=pd.Index(categories, dtype="str")
            )
        }
    )
    feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), target)
    first = frame[analysis.PERIOD].min() if len(frame) else None
    return [], 0, target, first


def _first(errors: list[RowError], header: list[str]) -> list[RowError]:
    """Errors in the order of `ErrorLog.finish`: file-level first, then by row and column."""
    order = {name: position for position, name in enumerate(header)}
    return sorted(
        errors,
        key=lambda e: (e.row is not None, e.row or 0, order.get(e.column, -1)),
    )


# --- passes 1 to 3 ---------------------------------------------------------------------


def _history(target: Path) -> pd.DataFrame:
    """A chunk's history (see `_chunk`)."""
    if not target.exists():
        return pd.DataFrame({c: [] for c in analysis.HISTORY_COLUMNS})
    return feather.read_table(target).to_pandas()


def _parts(
    history: pd.DataFrame, portfolio: analysis.Portfolio, options: dict, *, stage: int
) -> dict:
    return analysis.portfolio_parts(history, **options, portfolio=portfolio, stage=stage)


def _joined(parts: list[dict], name: str) -> np.ndarray:
    return np.concatenate([part[name] for part in parts])
