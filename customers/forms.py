from django import forms
from django.utils.translation import gettext_lazy as _

from chain.models import Actor
from lib.forms import CleanTextMixin

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
