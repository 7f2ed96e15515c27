from django import forms
from django.utils.translation import gettext_lazy as _

from lib.forms import CleanTextMixin

from .models import EVENTS, Webhook


class WebhookForm(CleanTextMixin, forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where the events are posted (https://)."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EVENTS,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The receiver hears only of these."),
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "events"]
        help_texts = {
            "name": _("What receives the events, e.g. the CRM."),
        }
