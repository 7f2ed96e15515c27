"""Search terms as typed into a search box, made safe to hand to the database."""

from lib.text import strip_control

# Longer than any name, number or phrase a search looks for. A longer term is cut, so that
# a pasted page of text does not become a query the database scans every row for.
SEARCH_MAX_LENGTH = 100


def search_term(value: str | None) -> str:
    """`value` as a search term: without control characters (PostgreSQL refuses a NUL in a
    query, and nobody searches for a vertical tab), runs of whitespace as one space, and
    at most SEARCH_MAX_LENGTH characters."""
    return " ".join(strip_control(value or "").split())[:SEARCH_MAX_LENGTH].strip()
