"""analyze_customers: the file in, the CSV out, without the database."""

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from tests.customers.conftest import FILES


def test_it_writes_one_row_per_customer(tmp_path):
    out = tmp_path / "out.csv"
    call_command("analyze_customers", str(FILES / "de_period.csv"), "--output", str(out))
    frame = pd.read_csv(out, dtype={"customer_id": str})
    assert list(frame.columns[:4]) == ["customer_id", "value_type", "current_value", "future_value"]
    assert len(frame.columns) > 4  # the explaining figures follow
    source = pd.read_csv(FILES / "de_period.csv", sep=";", encoding="cp1252", dtype=str)
    assert set(frame["customer_id"]) == set(source.iloc[:, 0].str.strip())


def test_it_takes_transactions_horizon_and_as_of(tmp_path):
    out = tmp_path / "out.csv"
    call_command(
        "analyze_customers",
        str(FILES / "en_transactions.csv"),
        "--output",
        str(out),
        "--horizon",
        "6",
        "--as-of",
        "2024-06",
    )
    frame = pd.read_csv(out)
    assert len(frame) > 0 and frame["future_value"].notna().all()


def test_a_broken_file_is_refused_with_row_and_column(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command(
            "analyze_customers", str(FILES / "bad_number.csv"), "--output", str(tmp_path / "o.csv")
        )
    assert "row 3, column Umsatz" in str(error.value)
    assert not (tmp_path / "o.csv").exists()


def test_it_needs_no_database(tmp_path, django_db_blocker):
    out = tmp_path / "out.csv"
    with django_db_blocker.block():
        call_command("analyze_customers", str(FILES / "en_period.csv"), "--output", str(out))
    assert out.exists()


def test_the_output_rounds_and_quotes_only_where_needed(tmp_path):
    from customers.writing import result_csv_write

    frame = pd.DataFrame(
        {
            "customer_id": ["K1", 'Huber, "Fliesen"'],
            "value_type": ["steady", "burr"],
            "current_value": [1234.5678, -0.001],
            "hidden_pearl": [True, False],
        }
    )
    plain = tmp_path / "plain.csv"
    result_csv_write(frame.iloc[:1], plain)
    assert plain.read_text().splitlines() == [
        "customer_id,value_type,current_value,hidden_pearl",
        "K1,steady,1234.57,1",
    ]
    quoted = tmp_path / "quoted.csv"
    result_csv_write(frame, quoted)
    back = pd.read_csv(quoted)
    assert back["customer_id"].tolist() == ["K1", 'Huber, "Fliesen"']
    assert back["current_value"].tolist() == [1234.57, 0.0]


def test_each_row_names_its_value_basis_right_after_the_heads(tmp_path):
    # Two customers with margins, one without: each row says what its values are.
    source = tmp_path / "mixed.csv"
    lines = ["customer_id,period,revenue,contribution_margin"]
    for month in range(1, 13):
        lines.append(f"M1,2024-{month:02d},1000,300")
        lines.append(f"M2,2024-{month:02d},2000,500")
        lines.append(f"R1,2024-{month:02d},1500,")
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    call_command("analyze_customers", str(source), "--output", str(out))
    frame = pd.read_csv(out, dtype={"customer_id": str}).set_index("customer_id")
    assert list(frame.columns[:4]) == ["value_type", "current_value", "future_value", "value_basis"]
    assert frame["value_basis"].to_dict() == {"M1": "margin", "M2": "margin", "R1": "revenue"}
    assert frame.loc["M1", "current_value"] == 3600
    assert frame.loc["R1", "current_value"] == 18000
    for column in ["thin_margin", "forecast_uncertain", "zero_share", "margin_ratio_rank"]:
        assert column in frame.columns


def test_the_result_csv_defuses_formulas_and_control_characters(tmp_path):
    """Customer ids reach the result as pandas text (str): those that start like a
    formula get an apostrophe, control characters go, and the rest stay as they are."""
    import csv

    from customers.writing import result_csv_write

    ids = ["K1", "=HYPERLINK(1)", "@SUM(A1)", "+49", "-7", "K\x072", "K\x0b3", "Kö"]
    frame = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="str"),
            "value_type": pd.array(["steady"] * len(ids), dtype="str"),
            "current_value": [1.0] * len(ids),
        }
    )
    out = tmp_path / "result.csv"
    result_csv_write(frame, out)
    with out.open(newline="") as source:
        written = [row["customer_id"] for row in csv.DictReader(source)]
    assert written == ["K1", "'=HYPERLINK(1)", "'@SUM(A1)", "'+49", "'-7", "K2", "K\n3", "Kö"]
