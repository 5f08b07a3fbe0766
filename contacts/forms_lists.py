"""Forms of the list pages: sort and page size, bulk actions on selected rows, saving a view."""

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.filters import parse_ids
from contacts.models import Phase, SavedView
from crm.access import visible_users

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 50
# Parameters of a list that are not filters but belong to a saved view.
VIEW_PARAMETERS = ("sort", "per_page")


class ListOptionsForm(forms.Form):
    """How the list is shown: its sort (hidden, set by the column headers) and rows per page."""

    sort = forms.ChoiceField(widget=forms.HiddenInput, required=False)
    per_page = forms.TypedChoiceField(
        label=_("Rows per page"),
        choices=[(size, size) for size in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=DEFAULT_PAGE_SIZE,
    )

    def __init__(self, *args, sorts: dict, default_sort: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.sorts = sorts
        self.default_sort = default_sort
        self.fields["sort"].choices = [(key, key) for key in sorts]

    def chosen(self) -> tuple:
        """(the Sort, the page size); anything not valid falls back to the defaults."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        sort = self.sorts.get(data.get("sort") or "", self.sorts[self.default_sort])
        return sort, data.get("per_page") or DEFAULT_PAGE_SIZE


class BulkAction:
    ASSIGN_OWNER = "assign_owner"
    ADD_TAG = "add_tag"
    REMOVE_TAG = "remove_tag"
    CHANGE_PHASE = "change_phase"
    EXPORT_CSV = "export_csv"
    EXPORT_VCARD = "export_vcard"

    choices = [
        (ASSIGN_OWNER, _("Assign owner")),
        (ADD_TAG, _("Add tag")),
        (REMOVE_TAG, _("Remove tag")),
        (CHANGE_PHASE, _("Change phase")),
        (EXPORT_CSV, _("Export selected as CSV")),
        (EXPORT_VCARD, _("Export selected as vCard")),
    ]


class BulkActionForm(forms.Form):
    """One action on the contacts ticked on the list page; each action button names its action."""

    action = forms.ChoiceField(
        choices=BulkAction.choices,
        error_messages={"required": _("Choose an action."), "invalid_choice": _("Choose an action.")},
    )
    owner = forms.ModelChoiceField(
        label=_("New owner"),
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("Choose an owner from the list.")},
    )
    tag = forms.CharField(label=_("Tag"), max_length=50, required=False)
    phase = forms.ChoiceField(label=_("New phase"), choices=[("", "—"), *Phase.choices], required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
    # The list's query string, to go back to the same filtered page.
    query = forms.CharField(widget=forms.HiddenInput, max_length=4000, required=False)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("prefix", "bulk")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = visible_users(user)
        for name in ("owner", "phase"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
        for name in ("tag", "reason"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"

    def clean(self):
        cleaned = super().clean()
        ids = []
        for value in self.data.getlist(self.add_prefix("ids")) if self.is_bound else []:
            parsed = parse_ids(value)
            if parsed is None:
                raise forms.ValidationError(_("The selection is not valid."))
            ids.extend(parsed)
        if not ids:
            raise forms.ValidationError(_("Select at least one contact first."))
        cleaned["ids"] = list(dict.fromkeys(ids))
        action = cleaned.get("action")
        if action == BulkAction.ASSIGN_OWNER and not cleaned.get("owner") and "owner" not in self.errors:
            self.add_error("owner", _("Choose the new owner."))
        if action in (BulkAction.ADD_TAG, BulkAction.REMOVE_TAG) and not cleaned.get("tag", "").strip():
            self.add_error("tag", _("Type the tag."))
        if action == BulkAction.CHANGE_PHASE:
            if not cleaned.get("phase") and "phase" not in self.errors:
                self.add_error("phase", _("Choose the new phase."))
            if not cleaned.get("reason", "").strip():
                self.add_error("reason", _("Give a reason for the phase change."))
        return cleaned

    def error_text(self) -> str:
        """Every error in one line, for the message shown above the list."""
        parts = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields and self.fields[name].label else ""
            text = " ".join(errors)
            parts.append(f"{label}: {text}" if label else text)
        return " ".join(parts)


class SavedViewForm(forms.ModelForm):
    query = forms.CharField(widget=forms.HiddenInput, max_length=2000, required=False)

    class Meta:
        model = SavedView
        fields = ["name"]
        labels = {"name": _("Name of this view")}
