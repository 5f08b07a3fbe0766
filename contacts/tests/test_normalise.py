"""Normal forms of phones and text (contacts.normalise): the shortcuts an import takes give what the long way gives."""

import random
import unicodedata

import phonenumbers
import pytest

from contacts.normalise import _CONTROL, clean_text, normalise_phone


def parsed_e164(text: str, region: str = "IN") -> str | None:
    """normalise_phone the long way: phonenumbers.parse, is_valid_number, E.164."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def plus_numbers() -> list[str]:
    """ "+" and digits for every country calling code (random lengths), and every region's example
    numbers with a digit more, a digit less and a national prefix 0 put in."""
    rng = random.Random(7)
    numbers = []
    for code in [*sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE), 0, 28, 999]:
        for _n in range(40):
            numbers.append(f"+{code}" + "".join(rng.choice("0123456789") for _d in range(rng.randrange(1, 15))))
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(11):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            numbers += [e164, e164[:-1], e164 + "1", e164[:4] + "0" + e164[4:]]
    return numbers


def test_a_number_with_a_plus_is_normalised_as_phonenumbers_parses_it():
    numbers = plus_numbers()
    assert len(numbers) > 10_000
    assert sum(parsed_e164(number) is not None for number in numbers) > 1_000
    assert [normalise_phone(number) for number in numbers] == [parsed_e164(number) for number in numbers]


@pytest.mark.parametrize(
    "text", ["098450 12345", "+91 98450-12345", "(+91) 98450 12345", "9845012345", "+1 415 555 0132"]
)
def test_numbers_in_other_forms_still_go_through_phonenumbers(text):
    assert normalise_phone(text) == parsed_e164(text)


def test_clean_text_of_plain_ascii_is_what_the_long_way_gives():
    def long_way(value: str, multiline: bool) -> str:
        text = _CONTROL.sub("", unicodedata.normalize("NFC", value))
        return (text if multiline else " ".join(text.split())).strip()

    rng = random.Random(3)
    alphabet = [chr(code) for code in range(0x80)] + ["\u00a0", "é", "e\u0301", "\u2028", "\x85"]
    for _n in range(20_000):
        value = "".join(rng.choice(alphabet) for _c in range(rng.randrange(8)))
        for multiline in (False, True):
            assert clean_text(value, multiline=multiline) == long_way(value, multiline)
