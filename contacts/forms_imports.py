"""Forms of importing contacts: the upload, the column mapping, the confirmation of a revert."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contacts.importers.mapping import check_mapping, target_choices
from contacts.models import ImportJob


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "A CSV file (from Excel, Google Contacts, Outlook, HubSpot, Salesforce or this CRM) or a vCard file (.vcf)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.vcf,.vcard,text/csv,text/vcard"}),
    )
    on_duplicate = forms.ChoiceField(
        label=_("When a row has the email or phone of a contact you already have"),
        choices=ImportJob.OnDuplicate.choices,
        initial=ImportJob.OnDuplicate.SKIP,
        widget=forms.RadioSelect,
    )


class ImportMappingForm(forms.Form):
    """One select per column of the file, named column_<n>."""

    def __init__(self, *args, headers: list[str], initial_fields: list[str], custom_fields: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.custom_fields = custom_fields
        choices = target_choices(custom_fields)
        for n, header in enumerate(headers):
            self.fields[f"column_{n}"] = forms.ChoiceField(
                label=header or _("Column %(number)s") % {"number": n + 1},
                choices=choices,
                initial=initial_fields[n] if n < len(initial_fields) else "ignore",
            )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            check_mapping(self.chosen_fields(), self.custom_fields)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return cleaned

    def chosen_fields(self) -> list[str]:
        return [self.cleaned_data[f"column_{n}"] for n in range(len(self.headers))]

    def columns(self):
        """(bound field, header) per column, for the mapping table."""
        return [(self[f"column_{n}"], header) for n, header in enumerate(self.headers)]


class ImportRevertForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, delete the contacts this import created and restore the fields it changed."), required=True
    )
