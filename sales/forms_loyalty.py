"""Forms of the loyalty programme: issuing reward codes (to a contact, to a tier) and redeeming one."""

import datetime
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sales.lifecycle import business_zone
from sales.models import LoyaltyTier, RewardKind

DEFAULT_VALIDITY_DAYS = 90


def _today() -> datetime.date:
    return timezone.now().astimezone(business_zone()).date()


def _default_expiry() -> datetime.date:
    return _today() + datetime.timedelta(days=DEFAULT_VALIDITY_DAYS)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CodeIssueForm(forms.Form):
    """The terms of a code; validated again by the loyalty services."""

    kind = forms.ChoiceField(label=_("Reward"), choices=RewardKind.choices, initial=RewardKind.PERCENT)
    value = forms.DecimalField(
        label=_("Value"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text=_("A percentage (e.g. 10) or an amount (e.g. 500.00)."),
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        help_text=_("Of an amount off; the default currency if empty."),
    )
    expires_on = forms.DateField(
        label=_("Valid until"),
        widget=DateInput(),
        initial=_default_expiry,
        help_text=_("The code can be used through the end of this day."),
    )
    reason = forms.CharField(label=_("What for"), max_length=200, required=False)

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper() or settings.DEFAULT_CURRENCY
        if not currency.isascii() or not currency.isalpha() or len(currency) != 3:
            raise forms.ValidationError(_("A currency is a three-letter ISO code, e.g. INR."))
        return currency

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day < _today():
            raise forms.ValidationError(_("Choose today or a later day."))
        return day

    def clean(self):
        data = super().clean()
        if data.get("kind") == RewardKind.PERCENT and data.get("value") and data["value"] > 100:
            self.add_error("value", _("A percentage off is at most 100."))
        return data

    def terms(self) -> dict:
        """The service's keyword arguments: valid until 00:00 (business time) of the next day."""
        data = self.cleaned_data
        end = datetime.datetime.combine(
            data["expires_on"] + datetime.timedelta(days=1), datetime.time.min, tzinfo=business_zone()
        )
        return {
            "kind": data["kind"],
            "value": data["value"],
            "currency": data["currency"],
            "expires_at": end,
            "reason": data["reason"],
        }


class TierIssueForm(CodeIssueForm):
    tier = forms.ModelChoiceField(label=_("To every holder of the tier"), queryset=LoyaltyTier.objects.none())

    field_order = ["tier", "kind", "value", "currency", "expires_on", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = LoyaltyTier.objects.filter(active=True).order_by("-rank")


class RedeemForm(forms.Form):
    code = forms.CharField(label=_("Reward code"), max_length=30)
