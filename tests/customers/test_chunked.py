"""The analysis in chunks of customers (customers/chunked.py) equals the one in one process."""

import numpy as np
import pandas as pd
import pytest

from customers import analysis, chunked, synthetic
from customers.reading import read_history
from customers.writing import result_csv_write

AS_OF = pd.Timestamp("2024-12-01")
FLAGS = list(analysis.FLAGS)
TEXTS = ["customer_id", "value_type", "value_basis", "forecast_method", "forecast_uncertain_reason"]


def _portfolio_file(path, n_customers=3000):
    """Mixed types, every tenth customer without margins, rows in no particular order."""
    history, _, _ = synthetic.generate(n_customers, seed=5, as_of=AS_OF, months=36, hard=True)
    frame = pd.DataFrame(
        {
            "customer_id": history[analysis.CUSTOMER_ID].astype(str),
            "period": history[analysis.PERIOD].dt.strftime("%Y-%m"),
            "revenue": history[analysis.REVENUE].round(2),
            "contribution_margin": history[analysis.MARGIN].round(2),
        }
    )
    without = frame["customer_id"].str[-1] == "7"
    frame.loc[without, "contribution_margin"] = np.nan
    frame = frame.sample(frac=1.0, random_state=3)
    frame.to_csv(path, index=False)
    return path


def _one_process(path, out):
    result = read_history(path, filename=path.name)
    assert result.ok
    frame = analysis.analyse(result.history, as_of=AS_OF, horizon=12)
    result_csv_write(analysis.to_output_frame(frame), out)
    return frame


def _chunked(source, out, **options):
    options = {"as_of": AS_OF, "horizon": 12, "thresholds": analysis.Thresholds(), **options}
    return chunked.analyse_file_chunked(source, out, **options)


def _read(path):
    return pd.read_csv(path, dtype={"customer_id": str}, keep_default_na=False, na_values=[""])


@pytest.mark.parametrize("processes", [1, 2])
def test_the_chunked_result_equals_the_one_process_result(tmp_path, processes):
    source = _portfolio_file(tmp_path / "values.csv")
    whole = _one_process(source, tmp_path / "one.csv")
    assert (whole["forecast_method"] == "repeat_buying").sum() >= 100  # the models ran
    assert whole["hidden_pearl"].any() and (whole["value_basis"] == "revenue").any()

    done = _chunked(
        source,
        tmp_path / "chunked.csv",
        chunk_customers=500,
        block_bytes=50_000,
        processes=processes,
    )
    assert done.chunks == 6 and done.customers == len(whole) and not done.errors
    # With workers the reading, the chunks and the passes ran in them.
    assert bool(done.worker_peak_mib) == (processes == 2)
    one, parts = _read(tmp_path / "one.csv"), _read(tmp_path / "chunked.csv")
    assert list(parts.columns) == list(one.columns)
    pd.testing.assert_frame_equal(parts[TEXTS + FLAGS], one[TEXTS + FLAGS])
    numbers = [c for c in one.columns if c not in TEXTS + FLAGS]
    # Both rounded to cents: a last-bit difference may round the other way.
    np.testing.assert_allclose(parts[numbers], one[numbers], rtol=1e-6, atol=0.0100001)


def test_chunks_in_memory_equal_the_whole_to_the_last_bits():
    history, _, _ = synthetic.generate(2000, seed=9, as_of=AS_OF, months=36, hard=True)
    history[analysis.CUSTOMER_ID] = history[analysis.CUSTOMER_ID].astype(str)
    history.loc[history[analysis.CUSTOMER_ID].str.endswith("3"), analysis.MARGIN] = np.nan
    whole = analysis.analyse(history, as_of=AS_OF)
    ids = np.sort(history[analysis.CUSTOMER_ID].unique())
    ranges = np.array_split(ids, 5)
    chunks = [
        (lambda part=part: history[history[analysis.CUSTOMER_ID].isin(part)]) for part in ranges
    ]
    first = history[analysis.PERIOD].min()
    results = list(
        chunked.analyse_chunks(
            chunks, first, as_of=AS_OF, horizon=12, thresholds=analysis.Thresholds()
        )
    )
    parts = pd.concat(results)
    pd.testing.assert_index_equal(parts.index, whole.index)
    texts = [c for c in whole.columns if whole[c].dtype == object or c in FLAGS]
    pd.testing.assert_frame_equal(parts[texts], whole[texts])
    figures = whole.select_dtypes("number").columns
    np.testing.assert_allclose(parts[figures], whole[figures], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("processes", [1, 2])
def test_a_file_with_errors_gives_the_one_process_errors(tmp_path, processes):
    lines = ["customer_id,period,revenue,contribution_margin"]
    for customer in range(300):
        for month in range(1, 13):
            lines.append(f"K{customer:04d},2024-{month:02d},{100 + customer},{10 + month}")
    lines[40] = "K0003,2024-13,100,10"  # no month
    lines[500] = "K0041,2024-08,abc,10"  # no number
    lines[2000] = lines[35].replace(",10", ",11")  # a customer twice in a month, far apart
    lines[2500] = ",2024-01,1,1"  # no customer
    lines[2600] = lines[2601]  # twice, next to each other
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    one = read_history(path, filename=path.name)
    assert one.error_count >= 5
    done = chunked.analyse_file_chunked(
        path,
        tmp_path / "out.csv",
        as_of=None,
        horizon=12,
        thresholds=analysis.Thresholds(),
        chunk_customers=50,
        block_bytes=4_000,
        processes=processes,
    )
    assert done.customers == 0 and not (tmp_path / "out.csv").exists()
    assert done.error_count == one.error_count
    assert [(e.row, e.column, e.message) for e in done.errors] == [
        (e.row, e.column, e.message) for e in one.errors
    ]


def test_ids_beyond_ascii_are_chunked_in_the_one_process_order(tmp_path):
    """Chunks are ranges of the sorted ids: sorted as the one-process matrix sorts them
    (by code point: "Z" before "a" before "Ä" before "ß"), or the customers of two chunks
    would mix and the result's order differ."""
    names = ["Zeller", "abc", "Ärzte", "ßtraße", "Öl", "oel", "10", "9", "Ölmühle", "Z"]
    lines = ["customer_id,period,revenue,contribution_margin"]
    for month in range(1, 25):  # rows by month, not by customer: every block has each
        for number, name in enumerate(names * 20):
            customer = f"{name}-{number // len(names):02d}"
            lines.append(
                f"{customer},{2023 + (month - 1) // 12}-{(month - 1) % 12 + 1:02d},"
                f"{100 + number + month},{10 + number % 7}"
            )
    path = tmp_path / "umlauts.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _one_process(path, tmp_path / "one.csv")
    done = _chunked(path, tmp_path / "chunked.csv", chunk_customers=7, block_bytes=5_000)
    assert done.chunks == 29 and done.customers == 200
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()


def test_a_transaction_file_goes_the_one_process_way(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,date,amount\nK1,2024-01-05,10\n")
    with pytest.raises(chunked.Unsupported):
        chunked.analyse_file_chunked(
            path, tmp_path / "o.csv", as_of=None, horizon=12, thresholds=analysis.Thresholds()
        )


def test_the_command_analyses_a_large_csv_in_chunks(tmp_path, monkeypatch):
    from django.core.management import CommandError, call_command

    source = _portfolio_file(tmp_path / "values.csv", n_customers=600)
    call_command("analyze_customers", str(source), "--output", str(tmp_path / "one.csv"))
    monkeypatch.setattr(chunked, "CHUNKED_FROM_BYTES", 20_000)  # "large"
    monkeypatch.setattr(chunked, "BLOCK_BYTES", 20_000)  # more than one block
    out = tmp_path / "chunked.csv"
    call_command("analyze_customers", str(source), "--output", str(out), "--chunk-customers", "200")
    one, parts = _read(tmp_path / "one.csv"), _read(out)
    pd.testing.assert_frame_equal(parts[TEXTS + FLAGS], one[TEXTS + FLAGS])

    bad = tmp_path / "bad.csv"
    bad.write_text(source.read_text().replace("\n", "\nK9,2024-13,1,1\n", 1))
    with pytest.raises(CommandError) as error:
        call_command("analyze_customers", str(bad), "--output", str(tmp_path / "o.csv"))
    assert "row 2, column period" in str(error.value)


def test_quoted_names_are_read_in_chunks_but_a_quoted_line_break_is_not(tmp_path):
    source = _portfolio_file(tmp_path / "values.csv", n_customers=400)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.insert(1, "customer_name", '"Huber, ' + frame["customer_id"] + '"')
    quoted = tmp_path / "quoted.csv"
    quoted.write_text("\n".join([",".join(frame.columns), *frame.agg(",".join, axis=1)]) + "\n")
    options = {"as_of": AS_OF, "horizon": 12, "thresholds": analysis.Thresholds()}
    _one_process(quoted, tmp_path / "one.csv")
    done = chunked.analyse_file_chunked(
        quoted, tmp_path / "chunked.csv", **options, chunk_customers=150, block_bytes=20_000
    )
    assert done.chunks == 3
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()

    broken = tmp_path / "broken.csv"
    broken.write_text(quoted.read_text().replace('"Huber, C0000005"', '"Huber,\nC0000005"'))
    with pytest.raises(chunked.Unsupported):
        chunked.analyse_file_chunked(broken, tmp_path / "o.csv", **options)


def test_a_worker_that_dies_fails_the_run_with_a_clear_message():
    """A worker killed (by the kernel's out-of-memory killer, say) breaks the pool: the
    run stops with a message that says what happened and what helps, not a traceback
    about process pools."""
    import os

    steps = chunked._Steps(2)
    try:
        with pytest.raises(chunked.WorkerFailed, match="out of memory"):
            list(steps.ordered(os._exit, [(1,), (1,)]))
    finally:
        steps.close()
