"""Filters of the contact and company lists (django-filter)."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, Contact, CustomerType, Phase
from contacts.selectors import company_search, contact_search
from crm.access import visible_users


def owners(request):
    """Only the users whose records the current user may see are offered as owners."""
    if request is None:
        return get_user_model().objects.none()
    return visible_users(request.user)


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    phase = django_filters.ChoiceFilter(label=_("Phase"), choices=Phase.choices)
    customer_type = django_filters.ChoiceFilter(label=_("Customer type"), choices=CustomerType.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=owners)
    city = django_filters.CharFilter(label=_("City"), lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = ["q", "phase", "customer_type", "owner", "city"]

    def search(self, queryset, name, value):
        return contact_search(queryset, value)


class CompanyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    industry = django_filters.CharFilter(label=_("Industry"), lookup_expr="iexact")
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=owners)

    class Meta:
        model = Company
        fields = ["q", "industry", "owner"]

    def search(self, queryset, name, value):
        return company_search(queryset, value)
