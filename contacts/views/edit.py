"""Creating and editing records: the contact and company forms, consent, phase changes, referrals,
and the full change history of a record."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import selectors, selectors_records, services
from contacts.forms_records import CompanyForm, ConsentForm, ContactForm, PhaseChangeForm, ReferralForm
from contacts.models import Channel, Company, ConsentStatus, Contact, Phase
from contacts.paging import TimeCursor
from contacts.views.records import contact_page_context

# Where a service's error about a field goes in the contact form (it has several email inputs, …).
CONTACT_ERROR_FIELDS = {
    "email": "email_0",
    "phone": "phone_0",
    "display_name": "given_name",
    "social_accounts": "social_platform_0",
}
SUGGESTIONS = 20
SEARCH_RESULTS = 10


def _posted(request):
    return request.POST if request.method == "POST" else None


def _contact_of(request, pk: int) -> Contact:
    """The contact of the URL with what its page shows, if the user may see it (404 otherwise)."""
    return get_object_or_404(selectors_records.contact_record(user=request.user), pk=pk)


def _company_of(request, pk: int) -> Company:
    return get_object_or_404(selectors_records.company_record(user=request.user), pk=pk)


def _after_save(request, record, list_url: str):
    """To the record's page; to the list when the assignment rules gave it to someone the user cannot see."""
    if type(record).objects.visible_to(request.user).filter(pk=record.pk).exists():
        messages.success(request, _("Saved."))
        return redirect(record)
    messages.success(request, _("Saved. The assignment rules gave it to %(owner)s.") % {"owner": record.owner})
    return redirect(list_url)


def _company_options(user):
    return (
        selectors.company_list(user=user)
        .select_related(None)
        .only("id", "name")
        .order_by("-last_activity_at", "-id")[:SUGGESTIONS]
    )


def _contact_form_page(request, form: ContactForm, contact: Contact | None):
    context = {"form": form, "contact": contact, "company_options": _company_options(request.user)}
    return render(request, "contacts/contact_form.html", context)


@require_http_methods(["GET", "POST"])
def contact_create(request):
    form = ContactForm(_posted(request), user=request.user)
    if form.is_bound and form.is_valid():
        try:
            contact = services.contact_save(by=request.user, **form.service_arguments())
        except ValidationError as error:
            form.add_service_error(error, CONTACT_ERROR_FIELDS)
        else:
            return _after_save(request, contact, reverse("contacts:contact_list"))
    return _contact_form_page(request, form, None)


@require_http_methods(["GET", "POST"])
def contact_edit(request, pk: int):
    contact = _contact_of(request, pk)
    form = ContactForm(_posted(request), user=request.user, contact=contact)
    if form.is_bound and form.is_valid():
        try:
            services.contact_save(by=request.user, contact=contact, **form.service_arguments())
        except ValidationError as error:
            form.add_service_error(error, CONTACT_ERROR_FIELDS)
        else:
            return _after_save(request, contact, reverse("contacts:contact_list"))
    return _contact_form_page(request, form, contact)


@require_http_methods(["GET", "POST"])
def company_create(request):
    form = CompanyForm(_posted(request), user=request.user)
    if form.is_bound and form.is_valid():
        try:
            company = services.company_save(by=request.user, **form.service_arguments())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return _after_save(request, company, reverse("contacts:company_list"))
    return render(request, "contacts/company_form.html", {"form": form, "company": None})


@require_http_methods(["GET", "POST"])
def company_edit(request, pk: int):
    company = _company_of(request, pk)
    form = CompanyForm(_posted(request), user=request.user, company=company)
    if form.is_bound and form.is_valid():
        try:
            services.company_save(by=request.user, company=company, **form.service_arguments())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return _after_save(request, company, reverse("contacts:company_list"))
    return render(request, "contacts/company_form.html", {"form": form, "company": company})


@require_GET
def company_suggest(request):
    """The company names a contact form suggests as one types (the options of a <datalist>)."""
    text = (request.GET.get("company") or request.GET.get("q") or "").strip()[:200]
    companies = selectors.company_search(selectors.company_list(user=request.user), text)
    companies = companies.select_related(None).only("id", "name").order_by("name", "id")[:SUGGESTIONS]
    return render(request, "contacts/partials/company_options.html", {"company_options": companies})


@require_POST
def contact_consent(request, pk: int):
    """Grant or withdraw consent for one channel; the same form and one button each."""
    contact = _contact_of(request, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_set(contact=contact, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
    if not form.is_valid():
        return render(
            request, "contacts/contact_detail.html", contact_page_context(request, contact, consent_form=form)
        )
    channel = Channel(form.cleaned_data["channel"]).label
    if form.cleaned_data["status"] == ConsentStatus.GRANTED:
        messages.success(request, _("%(channel)s: consent granted.") % {"channel": channel})
    else:
        messages.success(request, _("%(channel)s: consent withdrawn.") % {"channel": channel})
    return redirect(f"{contact.get_absolute_url()}#consent")


@require_POST
def contact_phase(request, pk: int):
    """Move a contact to another phase by hand, with the reason kept in its history."""
    contact = _contact_of(request, pk)
    form = PhaseChangeForm(request.POST, contact=contact)
    if form.is_valid():
        try:
            services.phase_change(contact=contact, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error, {"phase": "to"})
    if not form.is_valid():
        return render(request, "contacts/contact_detail.html", contact_page_context(request, contact, phase_form=form))
    messages.success(request, _("Moved to %(phase)s.") % {"phase": Phase(form.cleaned_data["to"]).label})
    return redirect(f"{contact.get_absolute_url()}#phase")


def _referral_candidates(request, contact: Contact, text: str) -> dict:
    if not text:
        return {"contacts": [], "companies": []}
    people = selectors.contact_search(selectors.contact_list(user=request.user), text).exclude(pk=contact.pk)
    companies = selectors.company_search(selectors.company_list(user=request.user), text)
    return {
        "contacts": list(people.order_by("display_name", "id")[:SEARCH_RESULTS]),
        "companies": list(companies.order_by("name", "id")[:SEARCH_RESULTS]),
    }


@require_http_methods(["GET", "POST"])
def contact_referral_add(request, pk: int):
    """Search a contact or company the user may see, then link it as referred by (or influenced by) this one."""
    contact = _contact_of(request, pk)
    text = (request.POST.get("q") or request.GET.get("q") or "").strip()[:200]
    form = ReferralForm(_posted(request), user=request.user, referrer=contact)
    if form.is_bound and form.is_valid():
        try:
            services.referral_add(referrer=contact, by=request.user, **form.service_arguments())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Referral added."))
            return redirect(f"{contact.get_absolute_url()}#referrals")
    context = {"contact": contact, "form": form, "q": text, **_referral_candidates(request, contact, text)}
    if request.htmx and request.method == "GET":
        return render(request, "contacts/partials/referral_search.html", context)
    return render(request, "contacts/referral_form.html", context)


def _history_page(request, record, record_type: str):
    after = request.GET.get("after", "")
    try:
        cursor = TimeCursor.parse(after) if after else None
    except ValueError:
        return HttpResponseBadRequest(_("This is not a position in the history."))
    page = selectors_records.change_history(record_type=record_type, record_id=record.pk, after=cursor)
    context = {"record": record, "history": page, "history_url": f"contacts:{record_type}_history"}
    return render(request, "contacts/record_history.html", context)


@require_GET
def contact_history(request, pk: int):
    return _history_page(request, _contact_of(request, pk), "contact")


@require_GET
def company_history(request, pk: int):
    return _history_page(request, _company_of(request, pk), "company")


urlpatterns = [
    path("contacts/new/", contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/consent/", contact_consent, name="contact_consent"),
    path("contacts/<int:pk>/phase/", contact_phase, name="contact_phase"),
    path("contacts/<int:pk>/referrals/new/", contact_referral_add, name="contact_referral_add"),
    path("contacts/<int:pk>/history/", contact_history, name="contact_history"),
    path("companies/new/", company_create, name="company_create"),
    path("companies/<int:pk>/edit/", company_edit, name="company_edit"),
    path("companies/<int:pk>/history/", company_history, name="company_history"),
    path("companies/suggest/", company_suggest, name="company_suggest"),
]
