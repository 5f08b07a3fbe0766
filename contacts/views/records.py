"""Pages of the client database: lists, records and the lifecycle board."""

from django.urls import path
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from contacts import selectors
from contacts.filters import CompanyFilter, ContactFilter


class ContactListView(FilterView):
    filterset_class = ContactFilter
    template_name = "contacts/contact_list.html"
    paginate_by = 50
    strict = False

    def get_queryset(self):
        return selectors.contact_list(user=self.request.user).order_by("display_name", "id")

    def get_template_names(self):
        if self.request.htmx:
            return ["contacts/partials/contact_rows.html"]
        return [self.template_name]


class ContactDetailView(DetailView):
    template_name = "contacts/contact_detail.html"
    context_object_name = "contact"

    def get_queryset(self):
        return selectors.contact_list(user=self.request.user)


class CompanyListView(FilterView):
    filterset_class = CompanyFilter
    template_name = "contacts/company_list.html"
    paginate_by = 50
    strict = False

    def get_queryset(self):
        return selectors.company_list(user=self.request.user).order_by("name", "id")

    def get_template_names(self):
        if self.request.htmx:
            return ["contacts/partials/company_rows.html"]
        return [self.template_name]


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
    path("contacts/", ContactListView.as_view(), name="contact_list"),
    path("contacts/<int:pk>/", ContactDetailView.as_view(), name="contact_detail"),
    path("companies/", CompanyListView.as_view(), name="company_list"),
    path("companies/<int:pk>/", CompanyDetailView.as_view(), name="company_detail"),
    path("pipeline/", PipelineView.as_view(), name="pipeline"),
]
