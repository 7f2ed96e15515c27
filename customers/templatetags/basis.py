"""{{ assessment.value_basis|basis }}: "Contribution margin" or "Revenue", as a badge."""

from django import template
from django.utils.html import format_html

from customers import value_basis

register = template.Library()


@register.filter
def basis(code: str) -> str:
    """The value basis as a small badge saying what the assessment's money figures are."""
    return format_html(
        '<span class="badge basis basis-{}">{}</span>', code, value_basis.label(code)
    )
