"""Input hygiene shared by every form of the app.

Every text a person types passes `CleanTextMixin`: control characters are removed before
the fields validate (see `lib.text`), and every text field has a maximum length, also as
the `maxlength` attribute in the HTML. Model fields bring their own `max_length`; plain
form fields without one get `LINE_MAX` or, with a textarea, `TEXT_MAX`. A longer text is
refused with a field error, never cut, so nothing the user typed disappears unnoticed.
"""

from django import forms
from django.core.validators import MaxLengthValidator

from .text import strip_control

# Defaults for text fields that do not name their own maximum length.
LINE_MAX = 200
TEXT_MAX = 5000


def _text_fields(form: forms.BaseForm) -> list[tuple[str, forms.CharField]]:
    # EmailField, SlugField, ... are CharFields too; files and choices are not text.
    return [(name, f) for name, f in form.fields.items() if isinstance(f, forms.CharField)]


def _bound(field: forms.CharField, limit: int) -> None:
    """Give a field without a maximum length `limit`, checked and shown in its widget."""
    field.max_length = limit
    field.validators.append(MaxLengthValidator(limit))
    field.widget.attrs.update(field.widget_attrs(field.widget))


class CleanTextMixin:
    """Put before `forms.Form` or `forms.ModelForm`: `class F(CleanTextMixin, forms.Form)`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for _name, field in _text_fields(self):
            if field.max_length is None:
                textarea = isinstance(field.widget, forms.Textarea)
                _bound(field, TEXT_MAX if textarea else LINE_MAX)
        if self.is_bound:
            self.data = self._data_without_control()

    def _data_without_control(self):
        """The posted data with control characters removed from the text fields' values,
        so that a pasted vertical tab is stored as a line break (a space in a one-line
        field) and a NUL byte is no error."""
        data = self.data.copy()
        for name, field in _text_fields(self):
            key = self.add_prefix(name)
            one_line = not isinstance(field.widget, forms.Textarea)
            if hasattr(data, "getlist"):
                values = data.getlist(key)
                if values:
                    data.setlist(key, [_clean(v, one_line) for v in values])
            elif key in data:
                data[key] = _clean(data[key], one_line)
        return data


def _clean(value: object, one_line: bool) -> object:
    if not isinstance(value, str):
        return value
    value = strip_control(value)
    return " ".join(value.splitlines()) if one_line else value
