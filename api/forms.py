from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib.forms import CleanTextMixin

from .models import ApiToken


class TokenForm(CleanTextMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. the program that uses it."),
    )
    scope = forms.ChoiceField(
        label=_("Scope"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ
    )
    expires = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Optional. The token stops working at the start of this day."),
    )

    def clean_expires(self):
        expires = self.cleaned_data["expires"]
        if expires is not None and expires <= timezone.localdate():
            raise forms.ValidationError(_("Choose a day after today."))
        return expires

    def expires_at(self) -> datetime | None:
        expires = self.cleaned_data["expires"]
        return timezone.make_aware(datetime.combine(expires, time())) if expires else None
