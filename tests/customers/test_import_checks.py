"""Bad values give a row-and-column message, never the database's words: amounts too
large for numeric(16,2), customer numbers and names too long, mixed encodings, control
characters; and customers are created idempotently when two imports overlap. Runs on
SQLite and PostgreSQL (where COPY and the overflow errors come from)."""

import io
import threading
import time

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction

from customers import services
from customers.models import Customer, ImportBatch, ValueRecord
from customers.reading import AMOUNT_LIMIT, NAME_MAX_LENGTH, NUMBER_MAX_LENGTH, read_history


def _read(text: str, filename: str = "values.csv", encoding: str = "utf-8"):
    return read_history(io.BytesIO(text.encode(encoding)), filename=filename)


def _upload(client, text: bytes | str, name: str = "values.csv"):
    data = text.encode() if isinstance(text, str) else text
    client.post("/customers/import/", {"file": SimpleUploadedFile(name, data)})
    return ImportBatch.objects.latest("pk")


def test_the_limits_are_those_of_the_database_columns():
    from customers.models import Purchase

    assert Customer._meta.get_field("number").max_length == NUMBER_MAX_LENGTH
    assert Customer._meta.get_field("name").max_length == NAME_MAX_LENGTH
    for field in (ValueRecord._meta.get_field("revenue"), Purchase._meta.get_field("amount")):
        assert (field.max_digits, field.decimal_places) == (16, 2)
        assert 10 ** (field.max_digits - field.decimal_places) == AMOUNT_LIMIT


@pytest.mark.parametrize("value", ["1e308", "1e400", "100000000000000", "-1e15"])
def test_an_amount_too_large_for_the_database_is_an_error_of_its_cell(value):
    result = _read(f"customer,period,revenue\nC1,2024-01,5\nC2,2024-01,{value}\n")

    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "revenue", "number_too_large")
    ]
    assert result.errors[0].message == (
        f'The amount "{value}" is too large: amounts must stay below 100,000,000,000,000.'
    )


def test_the_largest_amount_that_fits_is_read():
    result = _read("customer,period,revenue\nC1,2024-01,99999999999999.99\n")

    assert result.ok, result.errors


def test_a_month_of_transactions_adding_up_too_much_is_an_error():
    rows = "".join(f"C1,2024-01-{day:02d},60000000000000\n" for day in (3, 9))
    result = _read("customer,date,amount\nC2,2024-01-05,1\n" + rows)

    assert [(e.row, e.column, e.code) for e in result.errors] == [(3, "amount", "month_too_large")]
    assert 'customer "C1" in 2024-01 add up to more than 100,000,000,000,000' in (
        result.errors[0].message
    )


def test_a_customer_number_too_long_is_an_error_not_cut():
    number = "K" * 1_000_000
    result = _read(f"Kunde;Monat;Umsatz\nK1;2024-01;1\n{number};2024-01;2\n")

    assert [(e.row, e.column, e.code) for e in result.errors] == [(3, "Kunde", "too_long")]
    assert result.errors[0].message == (
        "The value is too long: 1,000,000 characters, at most 64 are allowed."
    )


def test_a_name_too_long_is_an_error_with_row_and_column_not_cut_silently():
    name = "Firma " + "x" * 999_994
    result = _read(f"Kunde;Name;Monat;Umsatz\nK1;{name};2024-01;1\n")

    assert [(e.row, e.column, e.code) for e in result.errors] == [(2, "Name", "too_long")]
    assert "1,000,000 characters, at most 200" in result.errors[0].message


def test_a_file_mixing_utf8_and_windows_lines_keeps_both_names_right():
    utf8 = "Kunde;Name;Monat;Umsatz\nK1;Müller GmbH;2024-01;1\n".encode()
    windows = "K2;Köhler & Söhne;2024-01;2\n".encode("cp1252")

    result = read_history(io.BytesIO(utf8 + windows), filename="mixed.csv")

    assert result.ok, result.errors
    assert result.history["customer_name"].tolist() == ["Müller GmbH", "Köhler & Söhne"]


def test_a_pure_windows_file_is_read_as_before():
    data = "Kunde;Name;Monat;Umsatz\nK1;Bäckerei Größ;2024-01;1\n".encode("cp1252")

    result = read_history(io.BytesIO(data), filename="win.csv")

    assert result.history["customer_name"].tolist() == ["Bäckerei Größ"]


def test_control_characters_are_stripped_from_numbers_and_names():
    result = _read("Kunde;Name;Monat;Umsatz\nK\x071;Müller\x0bBau\x0c GmbH;2024-01;1\n")

    assert result.ok, result.errors
    assert result.history["customer_id"].tolist() == ["K1"]
    assert result.history["customer_name"].tolist() == ["Müller Bau GmbH"]


@pytest.mark.django_db
def test_overflowing_values_through_the_web_give_the_cell_not_the_database(client_importer):
    batch = _upload(
        client_importer,
        "Kunde;Name;Monat;Umsatz\nK1;A;2024-01;1e308\n" + "K" * 100 + ";B;2024-01;1\n",
    )

    assert batch.status == "failed" and batch.error_count == 2
    assert [(e["row"], e["code"]) for e in batch.errors] == [
        (2, "number_too_large"),
        (3, "too_long"),
    ]
    assert not ValueRecord.objects.exists() and not Customer.objects.exists()
    body = client_importer.get(f"/customers/import/{batch.pk}/").content.decode()
    assert "numeric field overflow" not in body and "character varying" not in body
    assert "The amount &quot;1e308&quot; is too large" in body


@pytest.mark.django_db
def test_the_heading_counts_every_error_and_says_how_many_are_shown(client_importer):
    lines = ["customer,period,revenue"] + [f"C{i},2024-01,bad" for i in range(1_080)]
    batch = _upload(client_importer, "\n".join(lines) + "\n")

    assert batch.error_count == 1_080 and len(batch.errors) == 50
    url = f"/customers/import/{batch.pk}/"
    english = client_importer.get(url, headers={"Accept-Language": "en"}).content.decode()
    german = client_importer.get(url, headers={"Accept-Language": "de"}).content.decode()
    assert "1,080 errors (first 50 shown)" in english and "1,080 rows" not in english
    assert "1.080 Fehler (die ersten 50 gezeigt)" in german
    assert '<dd class="num">1.080</dd>' in german and '<dd class="num">1,080</dd>' in english


@pytest.mark.django_db
def test_creating_customers_that_exist_by_now_is_harmless():
    Customer.objects.create(number="K1", name="Alt")

    services.customers_create(numbers=["K1", "K2"], names={"K1": "Neu", "K2": "Zwei"})

    assert dict(Customer.objects.values_list("number", "name")) == {"K1": "Alt", "K2": "Zwei"}


def _history(numbers: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": numbers,
            "customer_name": [f"Firma {n}" for n in numbers],
            "period": pd.to_datetime(["2024-01-01"] * len(numbers)),
            "revenue": [1.0] * len(numbers),
            "margin": [float("nan")] * len(numbers),
        }
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_creating_the_same_customers_at_once_both_succeed():
    """The first import has inserted the new customers but not committed; the second
    inserts the same numbers, waits for the first, and then (before: failed with a
    unique-key error) skips them and takes their keys."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks")
    numbers = [f"N{i}" for i in range(50)]
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            outcome["counts"] = services.value_records_load(history=_history(numbers[::-1]))
        except Exception as error:  # reported below
            outcome["error"] = error
        finally:
            connections.close_all()

    with transaction.atomic():
        services.customers_create(numbers=numbers, names={})
        thread = threading.Thread(target=second)
        thread.start()
        with connection.cursor() as cursor:
            for _attempt in range(200):  # until the second import waits for our rows
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
    thread.join(30)

    assert "error" not in outcome, outcome.get("error")
    assert Customer.objects.filter(number__in=numbers).count() == 50
    assert ValueRecord.objects.count() == 50
