"""Pages of the client database: the records of contacts and companies, and the lifecycle board."""

from django.urls import path
from django.views.generic import DetailView, TemplateView

from contacts import selectors


class ContactDetailView(DetailView):
    template_name = "contacts/contact_detail.html"
    context_object_name = "contact"

    def get_queryset(self):
        return selectors.contact_list(user=self.request.user)


class CompanyDetailView(DetailView):
    template_name = "contacts/company_detail.html"
    context_object_name = "company"

    def get_queryset(self):
        return selectors.company_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["people"] = selectors.contact_list(user=self.request.user).filter(company=self.object)[:100]
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
