"""`{{ pk|url_for:"chain:link-edit" }}`: reverse() once per URL name, then fill in the pk.

The chain page links every card and contact to several URLs; reversing each one costs
more than rendering the card itself. The script prefix is fixed per deployment, so the
cached pattern stays valid.
"""

from functools import lru_cache

from django import template
from django.urls import reverse

register = template.Library()

_MARK = 9876543210


@lru_cache(maxsize=64)
def _pattern(name: str) -> tuple[str, str]:
    head, tail = reverse(name, args=[_MARK]).split(str(_MARK))
    return head, tail


def pk_url(name: str, pk: int) -> str:
    head, tail = _pattern(name)
    return f"{head}{int(pk)}{tail}"


@register.filter
def url_for(pk: int, name: str) -> str:
    return pk_url(name, pk)
