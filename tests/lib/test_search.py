from lib.search import SEARCH_MAX_LENGTH, search_term


def test_it_removes_control_characters_and_extra_whitespace():
    assert search_term("  Bau\x00Ring \x0b GmbH\t ") == "BauRing GmbH"


def test_it_cuts_a_long_term():
    assert search_term("x" * 100_000) == "x" * SEARCH_MAX_LENGTH


def test_nothing_is_an_empty_term():
    assert search_term(None) == "" and search_term("\x00 ") == ""
