"""Normal forms of what people type: emails, phones, GSTINs, and free text without control characters."""

import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

# C0/C1 control characters, but not tab, newline or carriage return (kept in multi-line text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_GSTIN = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
_GSTIN_CODE_POINTS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def clean_text(value, *, multiline: bool = False) -> str:
    """Text as stored: NFC, no control characters (NUL included), single-line unless asked, stripped."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub("", text)
    if not multiline:
        text = " ".join(text.split())
    return text.strip()


def normalise_email(value: str) -> str:
    """An email address lower-cased and checked; raises ValidationError when it is not one."""
    email = clean_text(value).lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(_("“%(value)s” is not a valid email address."), params={"value": value}) from None
    return email


def normalise_phone(value: str, region: str | None = None) -> str | None:
    """The E.164 form of a phone number typed in any usual way, or None when it is not one."""
    text = clean_text(value)
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_or_error(value: str) -> str:
    phone = normalise_phone(value)
    if phone is None:
        raise ValidationError(_("“%(value)s” is not a valid phone number."), params={"value": clean_text(value)})
    return phone


def gstin_is_valid(value: str) -> bool:
    """A GSTIN has the right shape and its check character matches (GSTN's base-36 checksum)."""
    if not _GSTIN.match(value):
        return False
    total = 0
    for position, char in enumerate(value[:14]):
        product = _GSTIN_CODE_POINTS.index(char) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    check = _GSTIN_CODE_POINTS[(36 - total % 36) % 36]
    return value[14] == check


def phone_display(e164: str) -> str:
    """A stored E.164 number as people read it: +91 98450 12345."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
