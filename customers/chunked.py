"""The customer analysis of a value-history file in chunks of customers, so that the peak
memory depends on the chunk size, not on the portfolio (1,000,000 customers x 60 months).

The result equals `analysis.analyse()` over the whole file in one process: the same type
and flags for every customer, the same figures (up to the last bits of floating point).
How:

- A chunk is a contiguous range of the customers in the order of `analyse()`'s matrix
  (customer ids sorted), with all rows of its customers.
- Pass 0 reads the file in blocks of rows with the reading code of the one-process path
  (customers/reading.py; each block is the header line plus whole lines of the file, its
  row numbers shifted to the file's) and writes each block's rows as arrays (customer as
  a code into the block's distinct ids, month, revenue, margin, file row) to a temporary
  file; no Python object per row. The distinct ids of all blocks, sorted, number the
  customers; each block's rows are then split into one file per chunk. A customer twice
  in one month is checked per chunk (where all its rows are), so across blocks too, on
  integer keys; only a repeat found takes the reading code's check for its messages.
  Errors are listed as the one-process reading lists them: by row, the first
  `max_errors`, with the count of all.
- Each chunk is laid out once as the analysis' matrix (`analysis.pivot`), kept in a
  temporary file for the three passes.
- Pass 1 takes from each chunk, with a `Portfolio` that only lays the matrix out from
  the portfolio's first month (a customer's row is then the same as in the whole
  matrix), what the portfolio-wide figures need and does not depend on the type
  (`analysis.portfolio_parts`, stage 1): the current rates for the medians
  (`relative_value`'s references) and the rounded margin ratios for `margin_ratio_rank`.
- Pass 2 analyses each chunk with those up to the types (stage 2: as in one process, no
  forecast), and collects the current values of the steady customers with margins (the
  hidden pearls' ceiling, a quantile over them) and the figures of the customers the
  monthly repeat-buying models are fitted on; the models are fitted on the same evenly spaced
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

import collections
import dataclasses
import io
import multiprocessing
import os
import pickle
import resource
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from customers import analysis, reading
from customers.writing import result_csv_write
from lib.tables import ErrorLog, RowError, keep_freed_memory, read_table

BLOCK_BYTES = 64 << 20  # bytes of the file read per block in pass 0
# analyze_customers reads a CSV file larger than this in chunks: one process needs some
# seven times a file's size (1.4 GB for 100,000 customers x 60 months, 200 MB), and is
# faster below.
CHUNKED_FROM_BYTES = 256 << 20


class Unsupported(Exception):
    """The file goes the one-process way (see the module docstring)."""


class WorkerFailed(Exception):
    """A worker process ended before its task was done (killed, or out of memory)."""


@dataclass
class ChunkedResult:
    """What `analyse_file_chunked` did: customers analysed (0 after errors), as_of, and
    the reading errors as `reading.ReadResult` lists them; `worker_peak_mib`, the peak
    resident memory of each worker process (pid: MiB; none without workers)."""

    customers: int = 0
    as_of: pd.Timestamp | None = None
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    chunks: int = 0
    worker_peak_mib: dict[int, float] = field(default_factory=dict)


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
    processes: int = 1,
) -> ChunkedResult:
    """Analyse the CSV value-history file `path` into the result CSV `output`, chunk by
    chunk (`chunk_customers` customers each), with `processes` worker processes (1: all
    in this one); see the module docstring. `as_of` None: the file's last month. Raises
    `Unsupported` for files that go the one-process way."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".txt"):
        raise Unsupported("not a CSV file")
    work = Path(tempfile.mkdtemp(prefix="chainmap-chunks-"))
    steps = _Steps(processes)
    try:
        done = _analyse_file(
            path,
            output,
            work,
            steps,
            as_of,
            horizon,
            thresholds,
            chunk_customers,
            block_bytes,
            max_errors,
        )
        done.worker_peak_mib = dict(steps.peaks)
        return done
    finally:
        steps.close()
        shutil.rmtree(work, ignore_errors=True)


def _analyse_file(
    path: Path,
    output: Path,
    work: Path,
    steps: _Steps,
    as_of: pd.Timestamp | None,
    horizon: int,
    thresholds: analysis.Thresholds,
    chunk_customers: int,
    block_bytes: int,
    max_errors: int,
) -> ChunkedResult:
    blocks = _read_blocks(path, work, steps, block_bytes=block_bytes, max_errors=max_errors)
    ids, codes = _sorted_ids(blocks.ids)
    chunk_files: list[list[Path]] = [[] for _ in range(-(-len(ids) // chunk_customers))]
    split = (
        (file, codes[block], blocks.offsets[block], chunk_customers, work, block)
        for block, file in enumerate(blocks.files)
    )
    for block, numbers in enumerate(steps.ordered(_split_block, split)):
        for number in numbers:
            chunk_files[number].append(_piece(work, number, block))
    as_of = pd.Timestamp(as_of) if as_of is not None else blocks.last_period
    keep = not blocks.error_count
    tasks = (
        (
            files,
            ids.slice(number * chunk_customers, chunk_customers),
            number * chunk_customers,
            work / f"chunk-{number:05d}.pickle",
            blocks.header,
            blocks.period_position,
            as_of,
            max_errors,
            keep,
        )
        for number, files in enumerate(chunk_files)
        if files
    )
    log_errors, log_count = list(blocks.errors), blocks.error_count
    matrices, first_period = [], None
    for found in steps.ordered(_chunk, tasks):
        log_errors += found.errors
        log_count += found.count
        if found.matrix is not None:
            matrices.append(found.matrix)
        if found.first is not None and (first_period is None or found.first < first_period):
            first_period = found.first
    if log_count:
        return ChunkedResult(
            errors=_first(log_errors, blocks.header)[:max_errors], error_count=log_count
        )
    if first_period is None:  # no row up to as_of
        first_period = as_of
    options = {"as_of": as_of, "horizon": horizon, "thresholds": thresholds}

    portfolio = analysis.Portfolio(first_period=first_period)
    stage = ((target, portfolio, options, 1) for target in matrices)
    parts = list(steps.ordered(_stage, stage))
    portfolio = analysis.portfolio_from_parts(portfolio, parts, thresholds, stage=1)
    stage = ((target, portfolio, options, 2) for target in matrices)
    parts = list(steps.ordered(_stage, stage))
    portfolio = analysis.portfolio_from_parts(portfolio, parts, thresholds, stage=2)
    del parts
    parts = [work / f"result-{number:05d}.csv" for number in range(len(matrices))]
    final = zip(matrices, [portfolio] * len(parts), [options] * len(parts), parts, strict=True)
    customers = sum(steps.ordered(_final, final))
    # The result appears whole or not at all.
    partial = Path(output).with_name(Path(output).name + ".part")
    with partial.open("wb") as sink:
        for number, part in enumerate(parts):
            with part.open("rb") as source:
                if number:
                    source.readline()  # the header once
                shutil.copyfileobj(source, sink)
            part.unlink()
    partial.replace(output)
    return ChunkedResult(customers=customers, as_of=as_of, chunks=len(matrices))


def analyse_chunks(
    chunks: list[Callable[[], pd.DataFrame | analysis.Matrix]],
    first_period: pd.Timestamp,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    thresholds: analysis.Thresholds,
) -> Iterator[pd.DataFrame]:
    """`analysis.analyse()` of each chunk (a function that loads its history or its
    `analysis.Matrix`: contiguous ranges of the customers in their sorted order), with
    the portfolio-wide figures of all of them (passes 1 and 2, see the module
    docstring); `first_period` is the earliest month of all histories up to `as_of`."""
    options = {"as_of": as_of, "horizon": horizon, "thresholds": thresholds}
    portfolio = analysis.Portfolio(first_period=first_period)
    for stage in (1, 2):
        parts = [
            analysis.portfolio_parts(load(), **options, portfolio=portfolio, stage=stage)
            for load in chunks
        ]
        portfolio = analysis.portfolio_from_parts(portfolio, parts, thresholds, stage=stage)
    del parts
    for load in chunks:
        result = analysis.analyse(load(), **options, portfolio=portfolio)
        yield result


# --- the steps: in this process or in worker processes ---------------------------------


def process_peak_mib() -> float:
    """This process's peak resident memory in MiB: VmHWM of /proc/self/status. Not
    ru_maxrss: Linux carries the high-water mark of the process before its exec into it,
    and a spawned child starts as a fork of its parent, so ru_maxrss would report at
    least the parent's memory."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _Steps:
    """Runs the steps of a chunked analysis (one per block or chunk) in this process
    (`processes` 1) or in that many worker processes, and gives their results in the
    order of the tasks. At most two tasks per worker wait at a time (each may hold a
    block of the file). Keeps each worker's peak memory in `peaks`."""

    def __init__(self, processes: int) -> None:
        self.peaks: dict[int, float] = {}
        self.ahead = 2 * processes
        self.pool: ProcessPoolExecutor | None = None
        if processes > 1:
            self.pool = ProcessPoolExecutor(
                processes,
                # A fresh interpreter: no copy of this process's memory, no threads.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_start,
                initargs=(os.environ.get("DJANGO_SETTINGS_MODULE", ""),),
            )

    def ordered(self, function: Callable, tasks: Iterable[tuple]) -> Iterator:
        if self.pool is None:
            for args in tasks:
                yield function(*args)
            return
        waiting: collections.deque[Future] = collections.deque()
        for args in tasks:
            waiting.append(self.pool.submit(_measured, function, *args))
            if len(waiting) >= self.ahead:
                yield self._result(waiting.popleft())
        while waiting:
            yield self._result(waiting.popleft())

    def _result(self, future: Future) -> Any:
        try:
            result, pid, peak = future.result()
        except BrokenProcessPool as error:
            raise WorkerFailed(
                "a worker process of the analysis ended before its task was done (killed, "
                "or out of memory: fewer --processes or a smaller --chunk-customers need "
                "less); nothing was written"
            ) from error
        self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)
        return result

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _worker_start(settings_module: str) -> None:
    """A worker process: Django's settings for the reading code's messages."""
    if settings_module:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()
    # One thread each: the workers share the cores already.
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    keep_freed_memory()


def _measured(function: Callable, *args: Any) -> tuple[Any, int, float]:
    return function(*args), os.getpid(), process_peak_mib()


# --- pass 0: reading -------------------------------------------------------------------


_NO_MONTH = np.iinfo(np.int32).min  # the month of a row whose period did not parse


@dataclass
class _Blocks:
    """What pass 0 read: per block a file of its rows (`_save`: customer as a code into
    the block's distinct ids in `ids`, month, revenue, margin, file row)."""

    files: list[Path] = field(default_factory=list)
    ids: list[pa.Array] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)  # file rows before each block's
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    header: list[str] = field(default_factory=list)
    period_position: int = 0
    last_period: pd.Timestamp | None = None


@dataclass
class _Block:
    """What reading one block found (`_read_block`; `_read_blocks` joins them)."""

    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    header: list[str] | None = None  # of the first block
    period_position: int | None = None
    last_period: pd.Timestamp | None = None
    file: Path | None = None
    ids: pa.Array | None = None
    lines: int = 0  # the block's lines of the file (without the header line)


def _read_blocks(
    path: Path, work: Path, steps: _Steps, *, block_bytes: int, max_errors: int
) -> _Blocks:
    """Pass 0: each block read (by a worker, which reads its bytes itself), the blocks'
    findings joined in the file's order; the row numbers of the errors shifted here and
    those of the rows in `_split_block`, once the rows before each block are counted."""
    out = _Blocks()
    prefix, spans = _spans(path, block_bytes)
    tasks = (
        (path, prefix, start, stop, number, work, max_errors)
        for number, (start, stop) in enumerate(spans)
    )
    offset = 0  # file rows before the block, after the prefix
    for number, block in enumerate(steps.ordered(_read_block, tasks)):
        if block.header is not None:
            out.header = block.header
        _add_errors(out, _shifted(block.errors, offset), block.error_count, first=number == 0)
        if block.period_position is not None and (number == 0 or not out.period_position):
            out.period_position = block.period_position
        if block.last_period is not None and (
            out.last_period is None or block.last_period > out.last_period
        ):
            out.last_period = block.last_period
        if block.file is not None:
            out.files.append(block.file)
            out.ids.append(block.ids)
            out.offsets.append(offset)
        offset += block.lines
    return out


def _spans(path: Path, block_bytes: int) -> tuple[bytes, list[tuple[int, int]]]:
    """The header line (with any blank lines before it) and the file's blocks after it:
    byte ranges of some `block_bytes` that end at a line end (one block, maybe empty,
    at least)."""
    with path.open("rb") as source:
        prefix = _prefix(source)
        start, size = source.tell(), os.fstat(source.fileno()).st_size
        spans = []
        while True:
            stop = min(start + block_bytes, size)
            if stop > start:
                source.seek(stop - 1)
                if source.read(1) != b"\n":
                    source.readline()
                stop = source.tell()
            spans.append((start, stop))
            start = stop
            if start >= size:
                return prefix, spans


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
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        raise Unsupported("line ends other than LF and CR LF")


def _read_block(
    path: Path, prefix: bytes, start: int, stop: int, number: int, work: Path, max_errors: int
) -> _Block:
    """Read one block (the header line `prefix` + the whole lines from byte `start` to
    `stop`) with the reading code, row numbers as if the block were the file. Its rows go
    to a file of arrays (`_save`)."""
    with path.open("rb") as source:
        source.seek(start)
        data = source.read(stop - start)
    lines = data.count(b"\n")
    data = prefix + data
    _check_plain(data)
    found = _read_block_data(data, path.name, number, work, max_errors)
    found.lines = lines
    return found


def _read_block_data(data: bytes, name: str, number: int, work: Path, max_errors: int) -> _Block:
    quick = reading.read_plain_csv(data)
    if quick is not None:
        del data
        history = quick.result.history
        assert history is not None
        found = _Block(header=quick.header if number == 0 else None)
        found.period_position = quick.period_position
        return _block_rows(
            found,
            history["customer_id"],
            history["period"],
            history["revenue"].to_numpy(),
            history["margin"].to_numpy(),
            quick.rownum,
            work / f"block-{number:05d}.npy",
            (quick.id_codes, quick.distinct_ids),
        )
    log = ErrorLog()
    table = read_table(io.BytesIO(data), filename=name, log=log, limits=reading.VALUE_LIMITS)
    del data
    if table is None:
        result = reading._result(log, max_errors)
        return _Block(result.errors, result.error_count)
    result = reading._read_table(table, name, log, max_errors, duplicates=False)
    found = _Block(result.errors, result.error_count)
    kind, columns = reading._map_columns(table, ErrorLog())
    if number == 0:
        found.header = table.header
        if result.kind == "transaction":
            raise Unsupported("a transaction file")
        if "product" in columns:
            raise Unsupported("a file with products")
    if number and result.kind is None and not result.rows:
        return _Block()  # a block of blank lines
    if result.history is not None:
        history = result.history
        ids, when = history["customer_id"], history["period"]
        revenue, margin = history["revenue"].to_numpy(), history["margin"].to_numpy()
    else:
        # Rows with errors: only what the check for duplicates needs, taken as
        # reading._read_table takes it.
        if kind != "period" or "customer_id" not in columns or "period" not in columns:
            return found
        position = columns["period"]
        when = reading._parse_when(
            table.cells[position], position, kind, table.rownum, ErrorLog(), table.header
        )
        ids = reading._clean_text(table.cells[columns["customer_id"]])
        revenue = margin = np.full(len(ids), np.nan)
    found.period_position = columns.get("period", 0)
    target = work / f"block-{number:05d}.npy"
    return _block_rows(found, ids, when, revenue, margin, table.rownum, target)


def _block_rows(
    found: _Block,
    ids: pd.Series,
    when: pd.Series,
    revenue: np.ndarray,
    margin: np.ndarray,
    rows: np.ndarray,
    target: Path,
    factorized: tuple[np.ndarray, pd.Index] | None = None,
) -> _Block:
    """A block's rows into `target` (`_save`), its distinct ids and last month into
    `found`; `factorized`: the ids as codes and distinct ids, if known."""
    months = _months(when)
    known = months[months != _NO_MONTH]
    if len(known):
        found.last_period = pd.Timestamp(np.datetime64(int(known.max()), "M"))
    # The ids as codes into the block's distinct ids: hashing text once, in pyarrow.
    if factorized is None:
        factorized = pd.factorize(ids.astype("str"), use_na_sentinel=False)
    codes, distinct = factorized
    _save(target, code=codes, month=months, revenue=revenue, margin=margin, row=rows)
    found.file = target
    found.ids = pa.array(distinct.array, type=pa.large_string())
    return found


def _shifted(errors: list[RowError], offset: int) -> list[RowError]:
    return [e if e.row is None else dataclasses.replace(e, row=e.row + offset) for e in errors]


_COLUMNS = ("code", "month", "revenue", "margin", "row")


def _save(path: Path, **arrays: np.ndarray) -> None:
    """The row arrays of a block or piece (`_COLUMNS`), one after the other in one file
    of .npy records: no zip and no checksum, as np.savez would write them."""
    with path.open("wb") as sink:
        for name in _COLUMNS:
            np.lib.format.write_array(sink, np.ascontiguousarray(arrays[name]))


def _load(path: Path) -> dict[str, np.ndarray]:
    with path.open("rb") as source:
        return {name: np.lib.format.read_array(source) for name in _COLUMNS}


def _months(when: pd.Series) -> np.ndarray:
    """Months since 1970-01 as int32 (`_NO_MONTH` where NaT), each distinct value
    converted once."""
    codes, distinct = pd.factorize(when.to_numpy().view(np.int64))
    distinct = distinct.view("datetime64[ns]")
    months = distinct.astype("datetime64[M]").astype(np.int64)
    months[np.isnat(distinct)] = _NO_MONTH
    return months.astype(np.int32)[codes]


def _add_errors(out: _Blocks, errors: list[RowError], count: int, *, first: bool) -> None:
    for error in errors:
        if error.row is None:
            if first and error not in out.errors:
                out.errors.append(error)
                out.error_count += 1
            count -= 1
            continue
        out.errors.append(error)
    out.error_count += count


def _sorted_ids(blocks: list[pa.Array]) -> tuple[pa.Array, list[np.ndarray]]:
    """All distinct customer ids of the file, sorted as `analysis.pivot` sorts them
    (pd.factorize with sort, by code point), and per block the position of each of its
    ids among them: one hashing of the blocks' ids together."""
    if not blocks:
        return pa.array([], pa.large_string()), []
    every = pd.Series(pd.array(pa.chunked_array(blocks, type=pa.large_string()), dtype="str"))
    codes, ids = pd.factorize(every, sort=True)
    del every
    bounds = np.cumsum([len(block) for block in blocks])[:-1]
    return pa.array(ids.array, type=pa.large_string()), np.split(codes, bounds)


def _split_block(
    path: Path, codes: np.ndarray, offset: int, chunk_customers: int, work: Path, block: int
) -> list[int]:
    """A block's rows into one file per chunk of `chunk_customers` customers (in the
    sorted order; `codes`: the position of each of the block's ids among all), the rows'
    codes now positions among all ids and their numbers the file's (`offset` rows before
    the block), in the file's order; the chunks written."""
    arrays = _load(path)
    path.unlink()
    arrays["code"] = codes[arrays["code"]]
    arrays["row"] += offset
    chunk = arrays["code"] // chunk_customers
    if not len(chunk):
        return []
    low, high = int(chunk.min()), int(chunk.max())
    if low == high:
        _save(_piece(work, low, block), **arrays)
        return [low]
    order = np.argsort(chunk, kind="stable")
    sizes = np.bincount(chunk - low)
    stops = np.cumsum(sizes)
    written = []
    for step in np.flatnonzero(sizes):
        rows = order[stops[step] - sizes[step] : stops[step]]
        _save(
            _piece(work, low + int(step), block),
            **{name: values[rows] for name, values in arrays.items()},
        )
        written.append(low + int(step))
    return written


def _piece(work: Path, chunk: int, block: int) -> Path:
    return work / f"chunk-{chunk:05d}-{block:05d}.npy"


@dataclass
class _Chunk:
    errors: list[RowError]
    count: int
    matrix: Path | None = None  # the pickled analysis.Matrix
    first: pd.Timestamp | None = None  # the chunk's earliest month up to as_of


def _chunk(
    files: list[Path],
    ids: pa.Array,
    base: int,
    target: Path,
    header: list[str],
    period_position: int,
    as_of: pd.Timestamp,
    max_errors: int,
    keep: bool,
) -> _Chunk:
    """A chunk's rows from its pieces (`ids`: its customers, the rows' codes minus
    `base` index them): the check for a customer twice in one month (over all rows of
    its customers) and, with `keep` (no errors so far), its history up to `as_of` laid
    out as the analysis' matrix in `target` (customer ids as categories in their sorted
    order: analysis.pivot's quick way, the same matrix)."""
    pieces = [_load(path) for path in files]
    for path in files:
        path.unlink()
    code, month, revenue, margin, row = (
        np.concatenate([piece[name] for piece in pieces]) for name in _COLUMNS
    )
    code -= base
    del pieces
    log = ErrorLog()
    _check_duplicates(code, month, row, ids, header, period_position, log)
    if log.count or not keep:
        return _Chunk(log.finish(max_errors), log.count)
    as_of_month = np.datetime64(pd.Timestamp(as_of), "M").astype(np.int64)
    upto = month <= as_of_month
    if not upto.all():
        code, month, revenue, margin = code[upto], month[upto], revenue[upto], margin[upto]
    if not len(month):
        return _Chunk([], 0)
    low = int(month.min())
    calendar = np.arange(low, int(month.max()) + 1).astype("datetime64[M]")
    history = pd.DataFrame(
        {
            analysis.CUSTOMER_ID: pd.Categorical.from_codes(
                code, categories=pd.Index(ids.to_pandas(), dtype="str")
            ),
            analysis.PERIOD: calendar.astype("datetime64[ns]")[month - low],
            analysis.REVENUE: revenue,
            analysis.MARGIN: margin,
        }
    )
    matrix = analysis.pivot(history, as_of)
    del history
    with target.open("wb") as sink:
        pickle.dump(matrix, sink, protocol=pickle.HIGHEST_PROTOCOL)
    return _Chunk([], 0, target, pd.Timestamp(calendar[0]))


def _check_duplicates(
    code: np.ndarray,
    month: np.ndarray,
    row: np.ndarray,
    ids: pa.Array,
    header: list[str],
    period_position: int,
    log: ErrorLog,
) -> None:
    """A customer twice in one month, found on the codes; the messages, if any, from
    reading._check_duplicates on the ids and months as text and dates."""
    usable = month != _NO_MONTH
    if not usable.any():
        return  # no row with a month: nothing can repeat
    low = int(month[usable].min())
    width = int(month[usable].max()) - low + 1
    keys = (code.astype(np.int64) * width + (month - low))[usable]
    if len(ids) * width <= max(2 * len(keys), 1 << 20):
        # Few enough possible keys to count them all: the quick way to find no repeats.
        if np.bincount(keys).max() <= 1:
            return
    elif not pd.Series(keys).duplicated().any():
        return

    text = pd.Series(pd.array(ids.take(pa.array(code)).to_pylist(), dtype="str"))
    when = pd.Series(np.where(usable, month, 0).astype("datetime64[M]").astype("datetime64[ns]"))
    when[~usable] = pd.NaT
    reading._check_duplicates(text, when, period_position, row, log, header)


def _first(errors: list[RowError], header: list[str]) -> list[RowError]:
    """Errors in the order of `ErrorLog.finish`: file-level first, then by row and column."""
    order = {name: position for position, name in enumerate(header)}
    return sorted(
        errors,
        key=lambda e: (e.row is not None, e.row or 0, order.get(e.column, -1)),
    )


# --- passes 1 to 3 ---------------------------------------------------------------------


def _matrix(target: Path) -> analysis.Matrix:
    """A chunk's matrix (see `_chunk`), written by this process in its own directory."""
    with target.open("rb") as source:
        return pickle.load(source)  # noqa: S301 - our own file, not the user's


def _stage(target: Path, portfolio: analysis.Portfolio, options: dict, stage: int) -> dict:
    """Pass 1 or 2 of a chunk: its part of the portfolio-wide figures."""
    return analysis.portfolio_parts(_matrix(target), **options, portfolio=portfolio, stage=stage)


def _final(target: Path, portfolio: analysis.Portfolio, options: dict, out: Path) -> int:
    """Pass 3 of a chunk: its rows of the result CSV in `out`; the customers."""
    result = analysis.analyse(_matrix(target), **options, portfolio=portfolio)
    result_csv_write(analysis.to_output_frame(result), out)
    return len(result)
