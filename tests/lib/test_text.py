from lib.text import csv_safe, has_control, strip_control


def test_it_removes_control_characters_but_keeps_line_breaks_and_tabs():
    assert strip_control("a\x00b\tc\nd\re\x1bf\x7fg\x85h") == "ab\tc\nd\refgh"


def test_it_turns_a_vertical_tab_from_office_into_a_line_break():
    assert strip_control("first\x0bsecond\x0cthird") == "first\nsecond\nthird"


def test_it_says_whether_text_has_control_characters():
    assert has_control("x\x0by") and not has_control("x\ny") and not has_control("")


def test_it_defuses_formulas_for_csv_and_leaves_numbers_alone():
    assert csv_safe('=HYPERLINK("http://evil.example/a","A")').startswith("'=")
    assert [csv_safe(v) for v in ("+1", "-2", "@x", "plain", 5, -3.5)] == [
        "'+1",
        "'-2",
        "'@x",
        "plain",
        5,
        -3.5,
    ]
