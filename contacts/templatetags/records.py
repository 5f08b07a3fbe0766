"""Filters of the record pages: {{ number|phone }} shows a stored E.164 number as people read it."""

from django import template

from contacts.normalise import phone_display

register = template.Library()


@register.filter
def phone(value: str) -> str:
    return phone_display(value) if value else ""
