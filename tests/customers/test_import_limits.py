"""Bounded reading: a small XLSX that unpacks to millions of cells is refused before it is
parsed (or while streaming, if its dimension lies), with a message naming the limit; the
CRM import reads its file once."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chain import imports, views_import
from customers.models import ImportBatch
from customers.reading import VALUE_LIMITS, Limits, read_history
from tests.customers.xlsx_bomb import xlsx_bomb

SMALL = Limits(rows=100, columns=10, cells=500, unpacked_bytes=1 << 20)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_by_its_dimension_before_parsing():
    # 16,384 columns declared; the 20 rows really hold them (328,000 cells, 8 KB packed).
    data = xlsx_bomb(20, 16_384)
    assert len(data) < 50_000

    result = read_history(io.BytesIO(data), filename="bomb.xlsx")

    assert result.history is None and result.error_count == 1
    assert result.errors[0].code == "sheet_too_wide"
    assert result.errors[0].message.startswith(
        f"The sheet has 16,384 columns; at most {VALUE_LIMITS.columns} are read."
    )


def test_the_full_size_bomb_of_the_attack_is_refused_before_parsing():
    """1,000 x 16,384: some 260 MB of sheet XML. openpyxl is never asked for a row, so
    the refusal costs the zip directory and the dimension only (bench/import_limits.py
    times it)."""
    data = xlsx_bomb(1_000, 16_384)
    assert len(data) < 1_000_000

    result = read_history(io.BytesIO(data), filename="bomb.xlsx")

    assert [e.code for e in result.errors] == ["sheet_too_wide"]


def test_a_bomb_with_a_lying_dimension_is_refused_at_its_first_row():
    data = xlsx_bomb(50, 16_384, dimension="A1:C3")
    limits = Limits(rows=100, columns=10, cells=500, unpacked_bytes=1 << 30)

    result = read_history(io.BytesIO(data), filename="bomb.xlsx", limits=limits)

    assert [(e.code, e.params) for e in result.errors] == [
        ("sheet_too_wide", {"columns": 16_384, "max": 10})
    ]


def test_a_bomb_without_a_dimension_is_refused_from_the_size_of_its_sheet():
    # openpyxl would parse the whole sheet on opening the workbook to look for one.
    data = xlsx_bomb(50, 16_384, dimension=None)

    result = read_history(io.BytesIO(data), filename="bomb.xlsx", limits=SMALL)

    assert [e.code for e in result.errors] == ["unpacked_too_large"]


@pytest.mark.parametrize(
    ("rows", "columns", "dimension", "code"),
    [
        (101, 3, "auto", "sheet_too_long"),
        (60, 9, "auto", "sheet_too_many_cells"),
        (101, 3, None, "sheet_more_rows"),
        (60, 9, None, "sheet_more_cells"),
    ],
)
def test_rows_and_cells_are_capped_before_and_while_streaming(rows, columns, dimension, code):
    data = xlsx_bomb(rows, columns, dimension=dimension)

    result = read_history(io.BytesIO(data), filename="big.xlsx", limits=SMALL)

    assert [e.code for e in result.errors] == [code]
    assert "at most" in result.errors[0].message


def test_a_workbook_that_unpacks_too_large_is_refused_from_the_zip_directory():
    data = xlsx_bomb(2_000, 10)  # some 50 KB of XML, a few KB packed
    limits = Limits(rows=10_000, columns=10, cells=10**6, unpacked_bytes=10_000)

    result = read_history(io.BytesIO(data), filename="big.xlsx", limits=limits)

    assert [e.code for e in result.errors] == ["unpacked_too_large"]
    assert result.errors[0].message.startswith("The workbook big.xlsx unpacks to 0 MB;")


def test_a_csv_wider_than_the_limit_is_refused_on_its_heading_line():
    data = (";".join(f"c{i}" for i in range(500)) + "\n" + ";" * 499 + "\n").encode()

    result = read_history(io.BytesIO(data), filename="wide.csv")

    assert [(e.code, e.params) for e in result.errors] == [
        ("csv_too_wide", {"columns": 500, "max": VALUE_LIMITS.columns})
    ]
    assert result.errors[0].message.startswith("The file has 500 columns; at most 50 are read.")


def test_a_normal_workbook_within_the_limits_is_read_as_before():
    data = _xlsx([["Kunde", "Monat", "Umsatz"], ["K1", "2024-01", 10], [], ["K2", "2024-02", 5.5]])

    result = read_history(io.BytesIO(data), filename="ok.xlsx", limits=SMALL)

    assert result.ok and result.rows == 2
    assert result.history["revenue"].tolist() == [10.0, 5.5]


@pytest.mark.django_db
def test_the_background_import_refuses_the_bomb_and_says_which_limit(client_importer):
    upload = SimpleUploadedFile("bomb.xlsx", xlsx_bomb(20, 16_384))

    client_importer.post("/customers/import/", {"file": upload})

    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and batch.error_count == 1
    body = client_importer.get(f"/customers/import/{batch.pk}/").content.decode()
    assert "The sheet has 16,384 columns; at most 50 are read." in body


@pytest.mark.django_db
def test_the_crm_upload_refuses_the_bomb_with_the_limit(client_owner, chain):
    upload = SimpleUploadedFile("crm.xlsx", xlsx_bomb(1_000, 16_384))

    response = client_owner.post(f"/chains/{chain.pk}/import/", {"file": upload})

    body = response.content.decode()
    assert response.status_code == 200
    assert "The workbook crm.xlsx unpacks to" in body  # 260 MB, over the 100 MB of a CRM file
    assert f"chain-import-{chain.pk}" not in client_owner.session


@pytest.mark.django_db
def test_the_crm_upload_refuses_a_sheet_too_wide_for_it(client_owner, chain):
    upload = SimpleUploadedFile("crm.xlsx", xlsx_bomb(5, 300))

    body = client_owner.post(f"/chains/{chain.pk}/import/", {"file": upload}).content.decode()

    assert f"The sheet has 300 columns; at most {imports.LIMITS.columns} are read." in body


@pytest.mark.django_db
def test_the_crm_import_reads_the_file_once_for_all_four_steps(
    client_owner, chain, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    calls = []
    real = views_import.read_sheet
    monkeypatch.setattr(
        views_import, "read_sheet", lambda *a, **k: calls.append(k["filename"]) or real(*a, **k)
    )
    kind = chain.links.first().actor.kind if chain.links.exists() else None
    data = _xlsx([["Firma", "Ansprechpartner"], ["Neu GmbH", "Frau Neu"]])
    url = f"/chains/{chain.pk}/import/"

    client_owner.post(url, {"file": SimpleUploadedFile("crm.xlsx", data)})
    state = client_owner.session[f"chain-import-{chain.pk}"]
    # Only the cells are kept, as JSON; the upload itself is not.
    assert [p.name for p in (tmp_path / "chain-imports").iterdir()] == [f"{state['token']}.json"]
    from chain.models import ActorKind

    kind = kind or ActorKind.objects.create(name="Hersteller")
    mapping = {"token": state["token"], "actor_name": "0", "contact_name": "1"}
    mapping |= {"default_kind": kind.pk, "default_stage": chain.stages.first().pk}
    assert client_owner.get(url + "mapping/").status_code == 200
    assert client_owner.post(url + "mapping/", mapping).status_code == 302
    preview = client_owner.get(url + "preview/")
    expect = preview.context["plan"].counts.fingerprint
    response = client_owner.post(url + "confirm/", {"token": state["token"], "expect": expect})

    assert response.status_code == 302
    assert chain.links.filter(actor__name="Neu GmbH").exists()
    assert calls == ["crm.xlsx"]
