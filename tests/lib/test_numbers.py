import math

from django.utils import translation

from lib.numbers import MINUS, MISSING, number


def test_it_groups_digits_in_the_active_language():
    with translation.override("de"):
        assert number(1234567.891, 1) == "1.234.567,9"
    with translation.override("en"):
        assert number(1234567.891, 1) == "1,234,567.9"
        assert number(1080) == "1,080"


def test_it_writes_a_real_minus_but_never_a_negative_zero():
    with translation.override("en"):
        assert number(-1234) == f"{MINUS}1,234"
        assert number(-0.3) == "0"


def test_missing_values_show_as_a_dash():
    assert [number(v) for v in (None, "", math.nan, math.inf, "x", True)] == [MISSING] * 6


def test_the_template_filter_is_the_same_function():
    from customers.templatetags import money

    assert money.number is number
    assert money.register.filters["number"] is number
