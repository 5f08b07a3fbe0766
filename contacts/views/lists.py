"""The contact and company lists: filters, search, sorting and paging."""

from django.urls import path
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


urlpatterns = [
    path("contacts/", ContactListView.as_view(), name="contact_list"),
    path("companies/", CompanyListView.as_view(), name="company_list"),
]
