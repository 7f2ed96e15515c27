"""The PDF report's filter for long texts (chain/exports.py explains the limits)."""

from django import template
from django.utils.safestring import SafeString

from chain import exports

register = template.Library()


@register.filter
def report_text(text: str, cap: int) -> SafeString:
    """`{{ link.notes|report_text:text_cap }}`: escaped, with line breaks, cut to `cap`."""
    return exports.report_text(text, cap)
