"""Filters of the contact and company lists (django-filter), and which query-string parameters a list
(and so a saved view) may carry."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import CharField, Func, JSONField, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual
from django.http import QueryDict
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from contacts.models import (
    Channel,
    Company,
    Consent,
    ConsentStatus,
    Contact,
    CustomerType,
    CustomField,
    Industry,
    Phase,
    SizeBand,
    Source,
    Tag,
)
from contacts.selectors import company_search, contact_search, team_owner_ids, teams_visible_to
from crm.access import visible_users
from crm.models import Team

# The most ids an "ids" filter takes: a page holds at most 100 rows.
MAX_IDS = 1000


def owners(request):
    """Only the users whose records the current user may see are offered as owners."""
    if request is None:
        return get_user_model().objects.none()
    return visible_users(request.user)


def teams(request):
    if request is None or not request.user.is_authenticated:
        return Team.objects.none()
    return teams_visible_to(request.user)


def parse_ids(text: str) -> list[int] | None:
    """The ids of "1, 2,3"; None when any piece is not an id."""
    ids = []
    for piece in text.replace(" ", "").split(","):
        if not piece:
            continue
        if not piece.isdigit() or len(piece) > 18:
            return None
        ids.append(int(piece))
    return ids[:MAX_IDS]


def _json_number(value):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _date_range(**kwargs):
    return django_filters.DateFromToRangeFilter(
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}), **kwargs
    )


# "Email: granted", "WhatsApp: withdrawn", …: lazily translated, so each user reads their language.
_CONSENT_WORDS = {ConsentStatus.GRANTED: _("granted"), ConsentStatus.WITHDRAWN: _("withdrawn")}
CONSENT_CHOICES = [
    (
        f"{channel.value}:{status.value}",
        format_lazy(_("{channel}: {status}"), channel=channel.label, status=_CONSENT_WORDS[status]),
    )
    for channel in Channel
    for status in ConsentStatus
]


class ListFilterSet(django_filters.FilterSet):
    """What the list pages need of a filterset beyond filtering: two groups of fields and the names
    of the query-string parameters it reads."""

    primary = ()

    def primary_fields(self):
        return [field for field in self.form.visible_fields() if field.name in self.primary]

    def more_fields(self):
        return [field for field in self.form.visible_fields() if field.name not in self.primary]

    def more_in_use(self) -> bool:
        """Whether a filter of the folded group is set (the group then opens)."""
        names = {name for field in self.more_fields() for name in self.parameter_names(field.name)}
        return any(self.data.get(name) for name in names)

    def parameter_names(self, field_name: str) -> list[str]:
        widget = self.form.fields[field_name].widget
        if hasattr(widget, "suffixes"):
            return [widget.suffixed(field_name, suffix) for suffix in widget.suffixes]
        return [field_name]

    def all_parameter_names(self) -> list[str]:
        return [name for field_name in self.form.fields for name in self.parameter_names(field_name)]

    def _tagged(self, queryset, tags, through, column):
        tags = list(tags)
        if not tags:
            return queryset
        # A semi-join, not a join: no duplicate rows, so no DISTINCT to break the index order.
        return queryset.filter(id__in=through.objects.filter(tag__in=tags).values(column))


class ContactFilter(ListFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    phase = django_filters.ChoiceFilter(label=_("Phase"), choices=Phase.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=owners)
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=teams, method="filter_team")
    tags = django_filters.ModelMultipleChoiceFilter(
        label=_("Tags (any of)"), queryset=Tag.objects.order_by("name"), method="filter_tags"
    )
    customer_type = django_filters.ChoiceFilter(label=_("Customer type"), choices=CustomerType.choices)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=Source.choices)
    city = django_filters.CharFilter(label=_("City"), lookup_expr="iexact")
    state = django_filters.CharFilter(label=_("State"), lookup_expr="iexact")
    consent = django_filters.ChoiceFilter(label=_("Consent"), choices=CONSENT_CHOICES, method="filter_consent")
    created = _date_range(label=_("Created (from – to)"), field_name="created_at")
    last_activity = _date_range(label=_("Last activity (from – to)"), field_name="last_activity_at")
    ids = django_filters.CharFilter(widget=forms.HiddenInput, method="filter_ids")

    primary = ("q", "phase", "owner", "team", "tags")

    class Meta:
        model = Contact
        fields = ["q", "phase", "owner", "team", "tags", "customer_type", "source", "city", "state", "consent"]

    def __init__(self, *args, custom_fields: list[CustomField] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if custom_fields is None:
            custom_fields = list(CustomField.objects.filter(active=True))
        for custom_field in custom_fields:
            self.filters[f"cf_{custom_field.key}"] = custom_field_filter(custom_field, self)

    def search(self, queryset, name, value):
        return contact_search(queryset, value)

    def filter_team(self, queryset, name, team):
        return queryset.filter(owner__in=team_owner_ids(team))

    def filter_tags(self, queryset, name, tags):
        return self._tagged(queryset, tags, Contact.tags.through, "contact_id")

    def filter_consent(self, queryset, name, value):
        channel, _sep, status = value.partition(":")
        consenting = Consent.objects.filter(channel=channel, status=status).values("contact_id")
        return queryset.filter(id__in=consenting)

    def filter_ids(self, queryset, name, value):
        ids = parse_ids(value)
        # A selection that is not one exports nothing, never everything.
        return queryset.filter(id__in=ids) if ids else queryset.none()


def custom_field_filter(custom_field: CustomField, parent: ContactFilter) -> django_filters.Filter:
    """The filter of one admin-defined field: text and choice by JSON containment (the GIN index
    contact_custom_gin answers it), number and date as a range."""
    key, label = custom_field.key, custom_field.label
    kind = custom_field.kind

    def contains(queryset, name, value):
        if kind == CustomField.Kind.CHOICE:
            value = {str(option): option for option in custom_field.choices or []}.get(value, value)
        return queryset.filter(custom__contains={key: value})

    def in_range(queryset, name, value):
        # jsonb orders numbers numerically and strings (our ISO dates) as text; a value of another
        # JSON type is left out rather than compared across types.
        low, high = value.start, value.stop
        if kind == CustomField.Kind.NUMBER:
            json_type, bounds = "number", [_json_number(v) for v in (low, high)]
        else:
            json_type, bounds = "string", [None if v is None else v.date().isoformat() for v in (low, high)]
        stored = KeyTransform(key, "custom")
        conditions = [Exact(Func(stored, function="jsonb_typeof", output_field=CharField()), json_type)]
        for bound, lookup in zip(bounds, (GreaterThanOrEqual, LessThanOrEqual), strict=True):
            if bound is not None:
                conditions.append(lookup(stored, Value(bound, output_field=JSONField())))
        return queryset.filter(*conditions)

    if kind == CustomField.Kind.NUMBER:
        new = django_filters.RangeFilter(
            label=format_lazy(_("{label} (from – to)"), label=label),
            method=in_range,
            widget=django_filters.widgets.RangeWidget(attrs={"type": "number", "step": "any"}),
        )
    elif kind == CustomField.Kind.DATE:
        new = _date_range(label=format_lazy(_("{label} (from – to)"), label=label), method=in_range)
    elif kind == CustomField.Kind.CHOICE:
        choices = [(str(option), str(option)) for option in custom_field.choices or []]
        new = django_filters.ChoiceFilter(label=label, choices=choices, method=contains)
    else:
        new = django_filters.CharFilter(label=label, method=contains)
    new.model = Contact
    new.parent = parent
    return new


class CompanyFilter(ListFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    industry = django_filters.ModelChoiceFilter(label=_("Industry"), queryset=Industry.objects.order_by("name"))
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=owners)
    tags = django_filters.ModelMultipleChoiceFilter(
        label=_("Tags (any of)"), queryset=Tag.objects.order_by("name"), method="filter_tags"
    )
    size_band = django_filters.ChoiceFilter(label=_("Size"), choices=SizeBand.choices)
    city = django_filters.CharFilter(label=_("City"), lookup_expr="iexact")
    state = django_filters.CharFilter(label=_("State"), lookup_expr="iexact")

    primary = ("q", "industry", "owner", "tags")

    class Meta:
        model = Company
        fields = ["q", "industry", "owner", "tags", "size_band", "city", "state"]

    def search(self, queryset, name, value):
        return company_search(queryset, value)

    def filter_tags(self, queryset, name, tags):
        return self._tagged(queryset, tags, Company.tags.through, "company_id")


def clean_query(filterset: ListFilterSet, data: QueryDict, *, extra: tuple[str, ...] = ()) -> QueryDict:
    """Only the filterset's own parameters (and `extra` ones, e.g. the sort), empty ones dropped."""
    allowed = [*filterset.all_parameter_names(), *extra]
    cleaned = QueryDict(mutable=True)
    for name in allowed:
        values = [value for value in data.getlist(name) if value.strip()]
        if values:
            cleaned.setlist(name, values)
    return cleaned
