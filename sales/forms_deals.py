"""Forms of the pipeline: a deal created and edited, moved to a stage, lost; the deal list's filters."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, Contact
from crm.access import visible_users
from sales import pipeline
from sales.models import ZERO, Deal, DealStatus, Pipeline, Product, Stage, StageKind, default_currency


class DateInput(forms.DateInput):
    """The browser's date picker, which reads and writes ISO dates whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _stage_label(stage: Stage) -> str:
    return f"{stage.pipeline.name}: {stage.name} ({stage.probability} %)"


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _stage_label(obj)


class DealForm(forms.Form):
    """A deal's own fields; the contact is chosen before (it is one the user may see), the company by
    its name among the companies the user may see. The stage is asked only of a new deal; an
    existing one moves with the move form."""

    name = forms.CharField(label=_("Name"), max_length=200)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), widget=forms.HiddenInput)
    company = forms.CharField(
        label=_("Company"),
        max_length=200,
        required=False,
        help_text=_("The name of a company you can see; empty: the contact's company."),
    )
    stage = StageChoiceField(label=_("Stage"), queryset=Stage.objects.none())
    amount = forms.DecimalField(label=_("Amount"), min_value=ZERO, max_digits=14, decimal_places=2, initial=ZERO)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    expected_close_date = forms.DateField(label=_("Expected close"), required=False, widget=DateInput())
    products = forms.ModelMultipleChoiceField(
        label=_("Products"),
        queryset=Product.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("What the customer would buy; a won deal's order is made of them."),
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none())

    def __init__(self, *args, user, deal: Deal | None = None, contact: Contact | None = None, **kwargs):
        self.user, self.deal = user, deal
        if deal is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": deal.name,
                    "contact": deal.contact_id,
                    "company": deal.company.name if deal.company_id else "",
                    "amount": deal.amount,
                    "currency": deal.currency,
                    "expected_close_date": deal.expected_close_date,
                    "products": [product.pk for product in deal.products.all()],
                    "owner": deal.owner_id,
                },
            )
        elif contact is not None:
            kwargs.setdefault(
                "initial",
                {
                    "contact": contact.pk,
                    "company": contact.company.name if contact.company_id else "",
                    "owner": user.pk,
                },
            )
        super().__init__(*args, **kwargs)
        contacts = Contact.objects.visible_to(user)
        if deal is not None:
            # The deal's contact stays even when the user no longer sees it (given to another team).
            contacts = Contact.objects.filter(Q(pk__in=contacts.values("pk")) | Q(pk=deal.contact_id))
        self.fields["contact"].queryset = contacts
        self.fields["currency"].initial = deal.currency if deal else default_currency()
        chosen = Q(pk__in=deal.products.all().values("pk")) if deal is not None else Q(pk__in=[])
        self.fields["products"].queryset = Product.objects.filter(Q(active=True) | chosen).order_by("name", "id")
        self.fields["owner"].queryset = pipeline.deal_owner_choices(user=user, current=deal.owner if deal else None)
        if deal is None:
            stages = Stage.objects.filter(kind=StageKind.OPEN, pipeline__active=True).select_related("pipeline")
            self.fields["stage"].queryset = stages.order_by("pipeline__position", "pipeline_id", "position", "id")
            first = self.fields["stage"].queryset.first()
            self.fields["stage"].initial = first.pk if first else None
        else:
            del self.fields["stage"]
        self.fields["company"].widget.attrs.update(
            {
                "list": "company-options",
                "autocomplete": "off",
                "hx-get": reverse("contacts:company_suggest"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#company-options",
                "hx-swap": "innerHTML",
            }
        )

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if not currency.isascii() or not currency.isalpha() or len(currency) != 3:
            raise forms.ValidationError(_("A currency is a three-letter ISO code, e.g. INR."))
        return currency

    def clean_company(self):
        name = " ".join(self.cleaned_data["company"].split())
        if not name:
            return None
        current = self.deal.company if self.deal is not None and self.deal.company_id else None
        if current is not None and current.name == name:
            return current
        matches = list(Company.objects.visible_to(self.user).filter(name__iexact=name).order_by("id")[:2])
        if not matches:
            raise forms.ValidationError(_("No company you can see is called “%(name)s”."), params={"name": name})
        if len(matches) > 1:
            raise forms.ValidationError(
                _("Several companies you can see are called “%(name)s”; rename or merge them first."),
                params={"name": name},
            )
        return matches[0]

    def add_service_error(self, error) -> None:
        """A service's error on its field when the form has one, else at the top."""
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, error)

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        if data["company"] is None:
            data["company"] = data["contact"].company
        return data


class MoveForm(forms.Form):
    """Move a deal to another stage of its pipeline (the board does this by drag and drop)."""

    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none())
    lost_reason = forms.CharField(
        label=_("Reason, when lost"), max_length=300, required=False, help_text=_("Needed for a lost stage.")
    )

    def __init__(self, *args, deal: Deal, stages: list[Stage] | None = None, **kwargs):
        kwargs.setdefault("auto_id", "id_move_%s")
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(pipeline_id=deal.pipeline_id).order_by("position", "id")
        if stages is not None:
            # The page has the stages already: no second query to draw the select.
            self.fields["stage"].choices = [(stage.pk, f"{stage.name} ({stage.probability} %)") for stage in stages]
        self.fields["stage"].initial = deal.stage_id


class LoseForm(forms.Form):
    reason = forms.CharField(label=_("Why was the deal lost?"), max_length=300)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none(), required=False)

    def __init__(self, *args, deal: Deal, **kwargs):
        super().__init__(*args, **kwargs)
        stages = Stage.objects.filter(pipeline_id=deal.pipeline_id, kind=StageKind.LOST).order_by("position", "id")
        self.fields["stage"].queryset = stages
        if len(stages) < 2:
            self.fields["stage"].widget = forms.HiddenInput()


class ContactPickForm(forms.Form):
    q = forms.CharField(label=_("With whom? Search a contact"), max_length=100, required=False)


class StageFilter(django_filters.ModelChoiceFilter):
    field_class = StageChoiceField


class DealFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Deal or contact"), method="search")
    pipeline = django_filters.ModelChoiceFilter(label=_("Pipeline"), queryset=Pipeline.objects.order_by("position"))
    stage = StageFilter(label=_("Stage"), queryset=Stage.objects.none())
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DealStatus.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=get_user_model().objects.none())
    close_from = django_filters.DateFilter(
        label=_("Expected close from"), field_name="expected_close_date", lookup_expr="gte", widget=DateInput()
    )
    close_to = django_filters.DateFilter(
        label=_("Expected close until"), field_name="expected_close_date", lookup_expr="lte", widget=DateInput()
    )
    amount_min = django_filters.NumberFilter(label=_("Amount from"), field_name="amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(label=_("Amount up to"), field_name="amount", lookup_expr="lte")
    # Set by the links of the contact and company pages.
    contact = django_filters.NumberFilter(field_name="contact_id", widget=forms.HiddenInput)
    company = django_filters.NumberFilter(field_name="company_id", widget=forms.HiddenInput)

    class Meta:
        model = Deal
        fields = [
            "q",
            "pipeline",
            "stage",
            "status",
            "owner",
            "close_from",
            "close_to",
            "amount_min",
            "amount_max",
            "contact",
            "company",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["stage"].queryset = pipeline.stage_choices()
        self.filters["owner"].queryset = visible_users(user).order_by("first_name", "last_name", "username")

    def search(self, queryset, name, value):
        value = " ".join(value.split())
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(contact__display_name__trigram_contains=value))
