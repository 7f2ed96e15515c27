"""The quick read of a plain value-history CSV (reading.read_plain_csv) gives exactly what
the checking read gives, and leaves every file it cannot be sure of to the checking read,
which then reports what is wrong."""

import numpy as np
import pandas as pd
import pytest

from customers.reading import VALUE_LIMITS, _read_table, read_history, read_plain_csv
from lib.tables import ErrorLog, read_table


def _checking(data: bytes):
    log = ErrorLog()
    table = read_table(data, filename="values.csv", log=log, limits=VALUE_LIMITS)
    return _read_table(table, "values.csv", log, 50), table.rownum, table.header


def _file(header="customer_id,period,revenue,contribution_margin", rows=None) -> bytes:
    rows = rows or [
        "K1,2024-01,100.50,20.25",
        "K2,2024-01,-30,-5.5",
        "K1,2024-02,1e3,",
        "Müller-7,2024-02,+5,.5",
        "K2,2024-03,0012,-0.00",
        "K1,2024-03,2.5E-2,1",
    ]
    return ("\n".join([header, *rows]) + "\n").encode()


PLAIN = {
    "the usual export": _file(),
    "Windows line ends": _file().replace(b"\n", b"\r\n"),
    "no margin column": _file(
        "customer_id,period,revenue", ["K1,2024-01,10", "K2,2024-01,20.5", "K1,2024-02,-3"]
    ),
    "German names in another order": _file(
        "Umsatz,Kundennummer,Deckungsbeitrag,Monat",
        ["100,K1,10,2024-01", "200,K2,,2024-01", "50.5,K1,-2,2024-02"],
    ),
    "months as MM.YYYY": _file(rows=["K1,01.2024,10,1", "K1,02.2024,11,1", "K2,02.2024,3,"]),
    "a margin column left empty": _file(rows=["K1,2024-01,10,", "K2,2024-01,20,"]),
    "names": _file(
        "customer_id,customer_name,period,revenue",
        ["K1,Huber GmbH,2024-01,10", "K2,,2024-01,5", "K3,Müller & Söhne KG,2024-02,7"],
    ),
    "Excel in Germany: semicolons and decimal commas": _file(
        "Kundennummer;Kundenname;Monat;Umsatz;Deckungsbeitrag",
        [
            "K1;Huber Fliesen;01.2024;1234,56;-12,5",
            "K2;Öztürk Bau;01.2024;-0,00;0",
            "K1;Huber Fliesen;02.2024;,5;1e3",
        ],
    ),
}


@pytest.mark.parametrize("name", PLAIN)
def test_the_quick_read_equals_the_checking_read(name):
    data = PLAIN[name]
    quick = read_plain_csv(data)
    assert quick is not None, f"{name}: not taken the quick way"
    result, rownum, header = quick.result, quick.rownum, quick.header
    checked, checked_rows, checked_header = _checking(data)
    assert checked.errors == []
    pd.testing.assert_frame_equal(result.history, checked.history)
    # Bit for bit, the sign of zero included.
    for column in ("revenue", "margin"):
        assert np.array_equal(
            np.signbit(result.history[column]), np.signbit(checked.history[column])
        )
    np.testing.assert_array_equal(rownum, checked_rows)
    assert header == checked_header
    ids = result.history["customer_id"]
    assert list(quick.distinct_ids[quick.id_codes]) == list(ids)
    assert list(quick.distinct_ids) == list(pd.unique(ids))
    assert (result.kind, result.rows, result.customers, result.periods) == (
        checked.kind,
        checked.rows,
        checked.customers,
        checked.periods,
    )


NOT_PLAIN = {
    "a number with a dot and no decimals": ("K1,2024-02,5.,1", 'Not a number: "5."'),
    "infinity": ("K1,2024-02,inf,1", 'Not a number: "inf"'),
    "not a number": ("K1,2024-02,nan,1", 'Not a number: "nan"'),
    "too large": ("K1,2024-02,100000000000000,1", "too large"),
    "an empty revenue": ("K1,2024-02,,1", "empty"),
    "an empty id": (",2024-02,5,1", "empty"),
    "no month": ("K1,2024-13,5,1", "2024-13"),
    "a year long gone": ("K1,1800-01,5,1", "1800"),
    "an id too long": ("K" * 65 + ",2024-02,5,1", "64"),
    "a customer twice in a month": ("K1,2024-01,7,1", "K1"),
}


@pytest.mark.parametrize("name", NOT_PLAIN)
def test_a_file_with_an_error_is_left_to_the_checking_read(name):
    row, expected = NOT_PLAIN[name]
    data = _file(rows=["K1,2024-01,10,1", row, "K2,2024-01,3,1"])
    if name != "a customer twice in a month":
        assert read_plain_csv(data) is None
    result = read_history(data, filename="values.csv")
    checked, _, _ = _checking(data)
    assert result.history is None and result.errors
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (e.row, e.column, e.message) for e in checked.errors
    ]
    assert result.errors[0].row == 3 and expected in result.errors[0].message


@pytest.mark.parametrize(
    "data",
    [
        _file(rows=["K1,2024-01,-0,1"]),  # "-0": 0 or -0 depending on the column
        _file(rows=[" K1,2024-01,5,1"]),  # white space the checking read strips
        _file(rows=["K1\x0b,2024-01,5,1"]),  # a control character it takes off
        _file(rows=['"K1",2024-01,5,1']),  # quotes
        b"\xef\xbb\xbf" + _file(),  # a byte order mark
        _file().replace(b",", b";"),  # semicolons: decimal commas
        _file("customer_id,customer_name,period,revenue", ["K1,Huber  GmbH,2024-01,5"]),
        _file("customer_id,customer_name,period,revenue", ["K1, Huber,2024-01,5"]),
        _file("customer_id,customer_name,period,revenue", ["K1,Huber\x85,2024-01,5"]),
        _file("customer_id,customer_name,period,revenue", ["K1," + "H" * 201 + ",2024-01,5"]),
        _file("Kunde;Monat;Umsatz", ["K1;2024-01;1.234,56"]),  # thousands separators
        _file("Kunde;Monat;Umsatz", ["K1;2024-01;5,"]),
        _file("Kunde;Monat;Umsatz", ["K1;2024-01;-0"]),
        _file("Kunde;Monat;Umsatz,netto", ["K1;2024-01;5"]),  # commas and semicolons
        # A comma not followed by a digit might be a number such as "5," (to be sure).
        _file("Kunde;Kundenname;Monat;Umsatz", ["K1;Huber, Fliesen;2024-01;5"]),
        _file("customer_id,period,revenue,segment", ["K1,2024-01,5,Retail"]),
        _file("customer_id,date,amount", ["K1,2024-01-05,5"]),  # transactions
        "customer_id,period,revenue\nK1,2024-01,5\n".encode("cp1252")
        + "K\xe4,2024-01,5\n".encode("cp1252"),
    ],
)
def test_what_the_quick_read_cannot_be_sure_of_is_read_the_checking_way(data):
    assert read_plain_csv(data) is None
    result = read_history(data, filename="values.csv")
    checked, _, _ = _checking(data)
    assert [(e.row, e.message) for e in result.errors] == [
        (e.row, e.message) for e in checked.errors
    ]
    if checked.history is not None:
        pd.testing.assert_frame_equal(result.history, checked.history)
