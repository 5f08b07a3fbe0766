"""Filters of the product and order lists (django-filter)."""

import datetime
import re

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sales.models import Order, OrderChannel, OrderStatus, Product
from sales.selectors import product_search

ORDER_NUMBER = re.compile(r"^\s*(?:SO-?)?0*(\d{1,12})\s*$", re.IGNORECASE)


class DateInput(forms.DateInput):
    input_type = "date"


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight starting `day` in the current (the user's) time zone."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    category = django_filters.CharFilter(label=_("Category"), lookup_expr="iexact")
    active = django_filters.BooleanFilter(label=_("On sale"))

    class Meta:
        model = Product
        fields = ["q", "category", "active"]

    def search(self, queryset, name, value):
        return product_search(queryset, value)


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Order, reference or contact"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrderStatus.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=OrderChannel.choices)
    placed_from = django_filters.DateFilter(label=_("Placed from"), method="placed_from_day", widget=DateInput)
    placed_to = django_filters.DateFilter(label=_("Placed until"), method="placed_to_day", widget=DateInput)
    # Set by the "All orders" links of the contact and company pages.
    contact = django_filters.NumberFilter(field_name="contact_id", widget=forms.HiddenInput)
    company = django_filters.NumberFilter(field_name="company_id", widget=forms.HiddenInput)

    class Meta:
        model = Order
        fields = ["q", "status", "channel", "placed_from", "placed_to", "contact", "company"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q(reference=value) | Q(contact__display_name__trigram_contains=value)
        number = ORDER_NUMBER.match(value)
        if number:
            condition |= Q(pk=int(number.group(1)))
        return queryset.filter(condition)

    def placed_from_day(self, queryset, name, value):
        return queryset.filter(placed_at__gte=_start_of(value))

    def placed_to_day(self, queryset, name, value):
        # The whole of the last day, in the user's time zone.
        return queryset.filter(placed_at__lt=_start_of(value + datetime.timedelta(days=1)))
