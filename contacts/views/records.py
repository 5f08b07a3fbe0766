"""Pages of the client database: the records of contacts and companies, and the lifecycle board."""

from django.urls import path
from django.views.generic import DetailView, TemplateView

from contacts import selectors, selectors_records
from contacts.forms_records import CONSENT_METHODS, ConsentForm, PhaseChangeForm
from contacts.models import Company, Contact


def contact_page_context(request, contact: Contact, *, consent_form=None, phase_form=None) -> dict:
    """What the contact's page shows besides the contact; the forms given are shown as they were sent."""
    user = request.user
    custom_fields = selectors_records.custom_fields_all()
    made, made_count = selectors_records.referrals_made(user=user, contact=contact)
    received, received_count = selectors_records.referred_by(user=user, contact=contact)
    return {
        "contact": contact,
        "custom_values": selectors_records.custom_values(contact=contact, custom_fields=custom_fields),
        "consents": selectors_records.consent_overview(contact=contact),
        "consent_history": selectors_records.consent_history(contact=contact),
        "consent_form": consent_form or ConsentForm(),
        "consent_methods": CONSENT_METHODS,
        "phase_history": selectors_records.phase_history(contact=contact),
        "phase_form": phase_form or PhaseChangeForm(contact=contact),
        "referrals_made": made,
        "referrals_made_count": made_count,
        "referred_by": received,
        "referred_by_count": received_count,
        "history": selectors_records.change_history(
            record_type="contact", record_id=contact.pk, custom_fields=custom_fields
        ),
        "history_url": "contacts:contact_history",
        "record": contact,
    }


def company_page_context(request, company: Company) -> dict:
    user = request.user
    received, received_count = selectors_records.referred_by(user=user, company=company)
    return {
        "company": company,
        "people": selectors.contact_list(user=user).filter(company=company)[:100],
        "referred_by": received,
        "referred_by_count": received_count,
        "history": selectors_records.change_history(record_type="company", record_id=company.pk, custom_fields=[]),
        "history_url": "contacts:company_history",
        "record": company,
    }


class ContactDetailView(DetailView):
    template_name = "contacts/contact_detail.html"
    context_object_name = "contact"

    def get_queryset(self):
        return selectors_records.contact_record(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(contact_page_context(self.request, self.object))
        return context


class CompanyDetailView(DetailView):
    template_name = "contacts/company_detail.html"
    context_object_name = "company"

    def get_queryset(self):
        return selectors_records.company_record(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(company_page_context(self.request, self.object))
        return context


class PipelineView(TemplateView):
    """The lifecycle board: where the visible contacts stand, phase by phase."""

    template_name = "contacts/pipeline.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["board"] = selectors.phase_board(user=self.request.user)
        return context


urlpatterns = [
    path("contacts/<int:pk>/", ContactDetailView.as_view(), name="contact_detail"),
    path("companies/<int:pk>/", CompanyDetailView.as_view(), name="company_detail"),
    path("pipeline/", PipelineView.as_view(), name="pipeline"),
]
