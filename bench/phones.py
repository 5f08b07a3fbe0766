"""Valid phone numbers in E.164, fast: a number is a checked prefix followed by random digits.

Each plan lists candidate prefixes of the national number; a prefix is kept only when the
`phonenumbers` library accepts every one of a few completions of it as a valid number of that
region (so a generated number is valid with near certainty, and the tests check samples)."""

import functools
import random
from dataclasses import dataclass

import phonenumbers

CHECKS_PER_PREFIX = 4


@dataclass(frozen=True)
class NumberPlan:
    region: str
    prefixes: tuple[str, ...]
    length: int  # digits of the national significant number


def _range(start: int, stop: int, width: int) -> tuple[str, ...]:
    return tuple(f"{n:0{width}d}" for n in range(start, stop))


MOBILE_PLANS = {
    "IN": NumberPlan("IN", _range(6000, 10000, 4), 10),
    "US": NumberPlan(
        "US",
        tuple(
            f"{area}{first}" for area in (212, 415, 646, 312, 512, 617, 206, 408, 650, 718, 732) for first in "2345678"
        ),
        10,
    ),
    "GB": NumberPlan("GB", _range(7400, 8000, 4), 10),
    "AE": NumberPlan("AE", ("50", "52", "54", "55", "56", "58"), 9),
    "SG": NumberPlan("SG", _range(810, 990, 3), 8),
    "DE": NumberPlan("DE", ("151", "152", "157", "160", "170", "171", "172", "175", "176", "177", "178", "179"), 11),
    "JP": NumberPlan("JP", _range(9010, 9100, 4) + _range(8010, 8100, 4) + _range(7010, 7100, 4), 10),
    "AU": NumberPlan("AU", _range(400, 500, 3), 9),
}
# Company switchboards in India: the city's trunk code, then the first digit of the subscriber number.
STD_CODES = {
    "Karnataka": "80",
    "Maharashtra": "22",
    "Delhi": "11",
    "West Bengal": "33",
    "Tamil Nadu": "44",
    "Telangana": "40",
    "Gujarat": "79",
    "Uttar Pradesh": "522",
    "Rajasthan": "141",
    "Kerala": "484",
}
LANDLINE_PLAN_IN = NumberPlan("IN", tuple(f"{code}{first}" for code in STD_CODES.values() for first in "2346"), 10)


def _is_valid(region: str, national: str) -> bool:
    try:
        number = phonenumbers.parse(f"+{phonenumbers.country_code_for_region(region)}{national}")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == region


def checked(plan: NumberPlan) -> tuple[str, tuple[str, ...], int]:
    """(country calling code with "+", the prefixes that passed, digits to add after a prefix)."""
    return _checked(plan.region, plan is LANDLINE_PLAN_IN)


@functools.cache
def _checked(region: str, landline: bool) -> tuple[str, tuple[str, ...], int]:
    plan = LANDLINE_PLAN_IN if landline else MOBILE_PLANS[region]
    rng = random.Random(f"phones/{plan.region}/{plan.length}")  # noqa: S311 - test data
    good = []
    for prefix in plan.prefixes:
        rest = plan.length - len(prefix)
        if all(
            _is_valid(plan.region, prefix + f"{rng.randrange(10**rest):0{rest}d}") for _ in range(CHECKS_PER_PREFIX)
        ):
            good.append(prefix)
    if not good:
        raise ValueError(f"no valid prefix for {plan.region}")
    return f"+{phonenumbers.country_code_for_region(plan.region)}", tuple(good), plan.length - len(good[0])


def mobile(rng: random.Random, region: str) -> str:
    code, prefixes, rest = checked(MOBILE_PLANS[region])
    return f"{code}{prefixes[int(rng.random() * len(prefixes))]}{rng.randrange(10**rest):0{rest}d}"


def landline_in(rng: random.Random, std_code: str) -> str:
    """A switchboard number in the city of `std_code` (a key of the trunk codes above)."""
    code, prefixes, _rest = checked(LANDLINE_PLAN_IN)
    ours = [prefix for prefix in prefixes if prefix[:-1] == std_code]
    prefix = ours[int(rng.random() * len(ours))]
    rest = LANDLINE_PLAN_IN.length - len(prefix)
    return f"{code}{prefix}{rng.randrange(10**rest):0{rest}d}"


def is_valid_e164(text: str) -> bool:
    try:
        number = phonenumbers.parse(text)
    except phonenumbers.NumberParseException:
        return False
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.is_valid_number(number) and formatted == text


def local_format(e164: str) -> str:
    """How a person types a number of their own country: "098450 12345" for +919845012345."""
    number = phonenumbers.parse(e164)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def warm_up() -> None:
    """Check every plan once (before forking workers, so they inherit the result)."""
    for plan in (*MOBILE_PLANS.values(), LANDLINE_PLAN_IN):
        checked(plan)
