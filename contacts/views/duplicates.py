"""Pages of data quality: the duplicates queue, comparing and merging records, and "needs attention"."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import ListView

from contacts import selectors
from contacts.duplicates import contacts_compared, duplicate_dismiss, duplicate_pairs, duplicate_queue
from contacts.merge import contact_merge
from contacts.models import Contact, DuplicateStatus
from contacts.quality import ATTENTION_BELOW, needs_attention
from contacts.services import contact_verify
from crm.access import visible_users

MERGE_CHOICES_SHOWN = 20
# The columns of the two review tables (templates/contacts/partials/review_table.html): (label, hidden).
DUPLICATE_COLUMNS = [
    (gettext_lazy("Record"), False),
    (gettext_lazy("Looks like"), False),
    (gettext_lazy("Why"), False),
    (gettext_lazy("Score"), False),
    (gettext_lazy("Found"), False),
    (gettext_lazy("Actions"), True),
]
ATTENTION_COLUMNS = [
    (gettext_lazy("Name"), False),
    (gettext_lazy("Completeness"), False),
    (gettext_lazy("Missing"), False),
    (gettext_lazy("Last updated or verified"), False),
    (gettext_lazy("Owner"), False),
    (gettext_lazy("Actions"), True),
]


def _may_scan(user) -> bool:
    return user.is_crm_admin or user.is_manager


def _next_url(request, default: str) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return next_url
    return default


# Duplicates ----------------------------------------------------------------------------


class DuplicateListView(ListView):
    """The review queue: open pairs of records the user may both see."""

    template_name = "contacts/duplicates/duplicate_list.html"
    context_object_name = "candidates"
    paginate_by = 25

    def get_queryset(self):
        return duplicate_queue(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_scan"] = _may_scan(self.request.user)
        context["columns"] = DUPLICATE_COLUMNS
        return context


@require_http_methods(["GET"])
def duplicate_detail(request, pk: int):
    """Both records of a pair side by side, with "merge into this one" and "not a duplicate"."""
    candidate = get_object_or_404(duplicate_pairs(user=request.user), pk=pk)
    pair = contacts_compared(user=request.user, ids=[candidate.first_id, candidate.second_id])
    if len(pair) != 2:
        raise Http404
    return render(
        request,
        "contacts/duplicates/duplicate_detail.html",
        {"candidate": candidate, "pair": pair, "is_open": candidate.status == DuplicateStatus.OPEN},
    )


@require_POST
def duplicate_merge(request, pk: int):
    candidate = get_object_or_404(duplicate_queue(user=request.user), pk=pk)
    keep_id = request.POST.get("keep", "")
    ids = {str(candidate.first_id): candidate.second_id, str(candidate.second_id): candidate.first_id}
    if keep_id not in ids:
        messages.error(request, _("Choose which of the two records to keep."))
        return redirect("contacts:duplicate_detail", pk=candidate.pk)
    visible = selectors.contact_list(user=request.user)
    keep = get_object_or_404(visible, pk=int(keep_id))
    other = get_object_or_404(visible, pk=ids[keep_id])
    try:
        contact_merge(keep=keep, others=[other], by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("contacts:duplicate_detail", pk=candidate.pk)
    messages.success(request, _("The two records are now one: %(name)s.") % {"name": keep.display_name})
    return redirect(keep.get_absolute_url())


@require_POST
def duplicate_dismiss_view(request, pk: int):
    candidate = get_object_or_404(duplicate_pairs(user=request.user), pk=pk)
    if duplicate_dismiss(candidate=candidate, by=request.user):
        messages.success(request, _("Marked as not a duplicate."))
    return redirect(_next_url(request, reverse("contacts:duplicate_list")))


@require_POST
def duplicate_scan(request):
    """Admins and managers may start the full scan now instead of waiting for the night."""
    if not _may_scan(request.user):
        raise Http404
    from contacts.tasks import duplicates_find_task

    transaction.on_commit(duplicates_find_task.delay)
    messages.info(request, _("The scan for duplicates has started; new pairs appear here when it ends."))
    return redirect("contacts:duplicate_list")


# Merge from a contact's page -----------------------------------------------------------


class ContactChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        details = " · ".join(part for part in (obj.email, obj.phone, obj.city, str(obj.owner)) if part)
        return f"{obj.display_name} ({details})" if details else obj.display_name


class ContactMergeForm(forms.Form):
    others = ContactChoices(
        label=gettext_lazy("Records to merge into this one"),
        queryset=Contact.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Their emails, phones, timeline, tasks and history move to this record; then they are deleted."
        ),
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["others"].queryset = choices


@require_http_methods(["GET", "POST"])
def contact_merge_view(request, pk: int):
    """Pick other visible records (searched by name, email or phone) to fold into this one."""
    visible = selectors.contact_list(user=request.user)
    keep = get_object_or_404(visible, pk=pk)
    candidates = visible.exclude(pk=keep.pk).order_by("display_name", "id")
    query = request.GET.get("q", "").strip()[:100]
    if request.method == "POST":
        form = ContactMergeForm(request.POST, choices=candidates)
        if form.is_valid():
            others = list(form.cleaned_data["others"])
            try:
                contact_merge(keep=keep, others=others, by=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d record was merged into this one.",
                        "%(count)d records were merged into this one.",
                        len(others),
                    )
                    % {"count": len(others)},
                )
                return redirect(keep.get_absolute_url())
        # shown again: only what was ticked (never every visible record)
        ticked = [value for value in request.POST.getlist("others") if value.isdigit()][:MERGE_CHOICES_SHOWN]
        form.fields["others"].queryset = candidates.filter(pk__in=ticked)
    else:
        shown = selectors.contact_search(candidates, query)[:MERGE_CHOICES_SHOWN] if query else Contact.objects.none()
        form = ContactMergeForm(choices=candidates.filter(pk__in=[contact.pk for contact in shown]))
    return render(request, "contacts/duplicates/contact_merge.html", {"contact": keep, "form": form, "q": query})


# Needs attention -----------------------------------------------------------------------


class OwnerFilterForm(forms.Form):
    owner = forms.ModelChoiceField(label=gettext_lazy("Owner"), queryset=None, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = visible_users(user)


class NeedsAttentionView(ListView):
    """Records that are stale or incomplete, the worst first."""

    template_name = "contacts/needs_attention.html"
    context_object_name = "contacts"
    paginate_by = 50

    def get(self, request, *args, **kwargs):
        self.filter_form = OwnerFilterForm(request.GET or None, user=request.user)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        owner = self.filter_form.cleaned_data["owner"] if self.filter_form.is_valid() else None
        return needs_attention(user=self.request.user, owner=owner)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["filter_form"] = self.filter_form
        context["show_owner_filter"] = user.is_crm_admin or user.is_manager
        context["threshold"] = ATTENTION_BELOW
        context["columns"] = ATTENTION_COLUMNS
        return context


@require_POST
def contact_verify_view(request, pk: int):
    contact = get_object_or_404(selectors.contact_list(user=request.user), pk=pk)
    contact_verify(contact=contact, by=request.user)
    messages.success(request, _("%(name)s is marked as verified today.") % {"name": contact.display_name})
    return redirect(_next_url(request, reverse("contacts:needs_attention")))


urlpatterns = [
    path("duplicates/", DuplicateListView.as_view(), name="duplicate_list"),
    path("duplicates/scan/", duplicate_scan, name="duplicate_scan"),
    path("duplicates/<int:pk>/", duplicate_detail, name="duplicate_detail"),
    path("duplicates/<int:pk>/merge/", duplicate_merge, name="duplicate_merge"),
    path("duplicates/<int:pk>/dismiss/", duplicate_dismiss_view, name="duplicate_dismiss"),
    path("contacts/<int:pk>/merge/", contact_merge_view, name="contact_merge"),
    path("contacts/<int:pk>/verify/", contact_verify_view, name="contact_verify"),
    path("needs-attention/", NeedsAttentionView.as_view(), name="needs_attention"),
]
