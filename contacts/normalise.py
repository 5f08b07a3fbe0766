"""Normal forms of what people type: emails, phones, GSTINs, and free text without control characters."""

import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _
from phonenumbers import phonenumberutil as _pn

# C0/C1 control characters, but not tab, newline or carriage return (kept in multi-line text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_GSTIN = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
_GSTIN_CODE_POINTS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def clean_text(value, *, multiline: bool = False) -> str:
    """Text as stored: NFC, no control characters (NUL included), single-line unless asked, stripped."""
    if value is None:
        return ""
    text = str(value)
    if text.isascii() and text.isprintable():
        # The common case, and the cheap one: ASCII is NFC already, and printable ASCII has no control
        # character and no whitespace but the space (an import calls this for every cell).
        return text.strip() if multiline else " ".join(text.split())
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    if not multiline:
        text = " ".join(text.split())
    return text.strip()


class _EmailValidator(EmailValidator):
    """Django's email check with its patterns compiled once, not looked up through a lazy object on
    every use (an import checks every row's address)."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
    domain_regex = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)
    literal_regex = re.compile(EmailValidator.literal_regex.pattern, EmailValidator.literal_regex.flags)


validate_email = _EmailValidator()


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


def _e164_of_plus_digits(digits: str) -> str | None:
    """normalise_phone of "+" and `digits` (ASCII, 3 to 17 of them) without phonenumbers.parse: the
    steps parse takes for such a string, less the ones that look for extensions, letters, prefixes
    and punctuation it cannot hold (parse is two thirds of the time of an import's phone check).
    tests/test_normalise.py compares the two over every country calling code."""
    country_code, national = _pn._extract_country_code(digits)
    if country_code == 0:
        return _UNKNOWN
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, phonenumbers.region_code_for_country_code(country_code)
    )
    if metadata is None or len(national) < _pn._MIN_LENGTH_FOR_NSN:
        return _UNKNOWN if metadata is None else None
    _carrier, stripped, _done = _pn._maybe_strip_national_prefix_carrier_code(national, metadata)
    if _pn._test_number_length(stripped, metadata) not in _KEEP_PREFIX:
        national = stripped
    if len(national) > _pn._MAX_LENGTH_FOR_NSN:
        return None
    number = phonenumbers.PhoneNumber(country_code=country_code)
    _pn._set_italian_leading_zeros_for_phone_number(national, number)
    number.national_number = int(national)
    if not _is_valid(number, metadata):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_valid(number: phonenumbers.PhoneNumber, metadata) -> bool:
    """phonenumbers.is_valid_number, with the mobile pattern tried first: a number is valid when it
    fits the general pattern and that of any type, and most numbers typed in are mobiles."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(number.country_code, ())
    if len(regions) != 1:
        return phonenumbers.is_valid_number(number)
    national = _pn.national_significant_number(number)
    if not _pn._is_number_matching_desc(national, metadata.general_desc):
        return False
    return any(
        _pn._is_number_matching_desc(national, desc)
        for desc in (
            metadata.mobile,
            metadata.fixed_line,
            metadata.premium_rate,
            metadata.toll_free,
            metadata.shared_cost,
            metadata.voip,
            metadata.personal_number,
            metadata.pager,
            metadata.uan,
            metadata.voicemail,
        )
    )


_UNKNOWN = object()
_PLUS_DIGITS = re.compile(r"\+[0-9]{3,17}")
_KEEP_PREFIX = (
    _pn.ValidationResult.TOO_SHORT,
    _pn.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    _pn.ValidationResult.INVALID_LENGTH,
)


def normalise_phone(value: str, region: str | None = None) -> str | None:
    """The E.164 form of a phone number typed in any usual way, or None when it is not one."""
    text = clean_text(value)
    if not text:
        return None
    if _PLUS_DIGITS.fullmatch(text):
        phone = _e164_of_plus_digits(text[1:])
        if phone is not _UNKNOWN:
            return phone
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
