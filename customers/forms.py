import math

from django import forms
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from chain.models import Actor
from lib.forms import CleanTextMixin

from . import thresholds
from .models import Customer

MAX_UPLOAD_MB = 200


class UploadForm(CleanTextMixin, forms.Form):
    file = forms.FileField(
        label=_("Value history (CSV or XLSX)"),
        help_text=_(
            "Per period: customer, period (YYYY-MM), revenue, optional contribution margin. "
            "Per transaction: customer, date, amount, optional margin. "
            "German and English column names and number formats are understood."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".txt", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_MB}
            )
        return upload


class ActorLinkForm(CleanTextMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["actor"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = Actor.objects.select_related("kind")


class ThresholdForm(CleanTextMixin, forms.Form):
    """Every analysis threshold (customers.thresholds.GROUPS), with its range checked and
    the field named in each message; numbers in the reader's format (0,5 in German)."""

    def __init__(self, *args, defaults: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.defaults = defaults
        for name, spec in thresholds.SPECS.items():
            self.fields[name] = self._field(spec, defaults[name])

    def _field(self, spec: thresholds.Spec, default) -> forms.Field:
        integer = spec.kind in thresholds.INTEGER_KINDS
        cls = forms.IntegerField if integer else forms.FloatField
        shown = number_format(default, decimal_pos=None, use_l10n=True)
        field = cls(
            label=spec.label,
            help_text=format_lazy("{} {}", spec.help, _("Default: %(value)s.") % {"value": shown}),
            localize=True,
            widget=forms.TextInput(attrs={"inputmode": "numeric" if integer else "decimal"}),
            error_messages={
                "required": format_lazy("{}: {}", spec.label, _("enter a value.")),
                "invalid": format_lazy(
                    "{}: {}",
                    spec.label,
                    _("enter a whole number.") if integer else _("enter a number."),
                ),
            },
        )
        field.spec = spec
        return field

    def clean(self):
        data = super().clean()
        for name, field in self.fields.items():
            value = data.get(name)
            if value is None:
                continue
            problem = _out_of_range(field.spec.kind, value)
            if problem:
                self.add_error(name, format_lazy("{}: {}", field.spec.label, problem))
        return data


def _out_of_range(kind: str, value) -> str | None:
    """What is wrong with `value` for a threshold of `kind`, or None."""
    if kind in (thresholds.PERIODS, thresholds.COUNT) and value < 1:
        return _("must be a whole number of at least 1.")
    if kind == thresholds.PERIODS_OR_NONE and value < 0:
        return _("must be a whole number of 0 or more.")
    if kind == thresholds.ODD and (value < 1 or value % 2 == 0):
        return _("must be an odd whole number (1, 3, 5, ...).")
    if kind == thresholds.SHARE and not 0 <= value <= 1:
        return _("must be a share from 0 to 1.")
    if kind == thresholds.SLOPE and not -1 <= value <= 1:
        return _("must be from -1 to 1.")
    if kind == thresholds.FACTOR and value < 0:
        return _("must be 0 or more.")
    if not math.isfinite(value):
        return _("enter a number.")
    return None
