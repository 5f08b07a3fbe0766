"""Money in templates: `{{ amount|money }}` or `{{ amount|money:"USD" }}`."""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.formats import number_format

register = template.Library()

SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}


@register.filter
def money(value, currency: str = "") -> str:
    """An amount with two decimals, grouped the way the active locale groups (lakhs in India)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    currency = (currency or settings.DEFAULT_CURRENCY).upper()
    sign = "-" if amount < 0 else ""
    text = number_format(abs(amount), decimal_pos=2, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency} {text}"
