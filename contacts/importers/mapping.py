"""The column mapping: which contact field each column of a file fills, guessed from the usual export
layouts (Google, Outlook, HubSpot, Salesforce, our own), and how one row's cells become field values."""

import csv
import datetime
import decimal
import functools
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.export import COLUMNS, CUSTOM_PREFIX, unneutralise
from contacts.models import Company, Contact, CustomerType, CustomField, Phase, Source
from contacts.normalise import clean_text, normalise_email, normalise_phone
from contacts.services import CONTACT_FIELDS, MULTILINE_FIELDS, TAG_LENGTH, clean_fields, source_code

IGNORE = "ignore"
CUSTOM = "custom:"
# Contact fields a file does not set: the importer owns what it imports (or the assignment rules
# give it an owner), custom fields have a column each, the others have no usual column in exports.
NOT_IMPORTED = {"owner", "custom", "preferred_language", "preferred_channel", "is_influencer"}
# Targets a row has one value of; the others (email, phone, tags) may come from several columns.
SINGLE_TARGETS = [*(name for name in CONTACT_FIELDS if name not in NOT_IMPORTED), "phase"]
MULTI_TARGETS = ["email", "phone", "tags"]
NAME_TARGETS = {"given_name", "family_name", "display_name"}
TARGET_LABELS = {
    IGNORE: gettext_lazy("— do not import —"),
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "display_name": gettext_lazy("Display name"),
    "email": gettext_lazy("Email (the first one is the primary)"),
    "phone": gettext_lazy("Phone (the first one is the primary)"),
    "company": gettext_lazy("Company (by name)"),
    "job_title": gettext_lazy("Job title"),
    "address_line": gettext_lazy("Address"),
    "city": gettext_lazy("City"),
    "state": gettext_lazy("State"),
    "postcode": gettext_lazy("PIN / postcode"),
    "country": gettext_lazy("Country"),
    "customer_type": gettext_lazy("Customer type"),
    "source": gettext_lazy("Source"),
    "phase": gettext_lazy("Phase"),
    "tags": gettext_lazy("Tags (comma-separated)"),
}
# Targets whose text is read through a table of names (a country, a phase…); the others are free text.
CODED_TARGETS = {"country", "customer_type", "source", "phase"}
# The longest value of each free-text target, as the database keeps it (a company by its name).
MAX_LENGTHS = {
    **{name: Contact._meta.get_field(name).max_length for name in SINGLE_TARGETS if name not in CODED_TARGETS},
    "company": Company._meta.get_field("name").max_length,
}
EMAIL_LENGTH = Contact._meta.get_field("email").max_length


def norm(text: str) -> str:
    """A header or a value as compared: case-folded, punctuation as single spaces."""
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


_ALIASES = {
    "given_name": ["first name", "given name", "firstname", "forename", "first"],
    "family_name": ["last name", "family name", "surname", "lastname", "last"],
    "display_name": ["name", "full name", "display name", "contact name"],
    "company": [
        "company",
        "company name",
        "organization",
        "organisation",
        "organization name",
        "organisation name",
        "organization 1 name",
        "account name",
        "business name",
    ],
    "job_title": ["job title", "organization title", "organization 1 title", "designation", "position"],
    "address_line": [
        "address",
        "street",
        "street address",
        "address line",
        "address line 1",
        "address 1 street",
        "business street",
        "home street",
        "mailing street",
        "other street",
    ],
    "city": ["city", "town", "business city", "home city", "mailing city", "other city", "address 1 city"],
    "state": [
        "state",
        "state region",
        "region",
        "province",
        "state province",
        "business state",
        "home state",
        "mailing state province",
        "address 1 region",
        "other state",
    ],
    "postcode": [
        "postcode",
        "post code",
        "postal code",
        "zip",
        "zip code",
        "pin",
        "pin code",
        "pincode",
        "zip postal code",
        "business postal code",
        "home postal code",
        "mailing zip postal code",
        "address 1 postal code",
        "other postal code",
    ],
    "country": [
        "country",
        "country region",
        "country code",
        "business country region",
        "home country region",
        "mailing country",
        "address 1 country",
        "other country region",
    ],
    "customer_type": ["customer type"],
    "source": ["source", "lead source", "original source", "contact source"],
    "phase": ["phase", "lifecycle stage", "lifecycle phase", "lifecycle"],
    "tags": ["tags", "tag", "labels", "categories", "group membership"],
}
_ALIAS_TARGET = {alias: target for target, aliases in _ALIASES.items() for alias in aliases}
# Used only when nothing else claims the field: Outlook's "Title" is Mr./Ms., Salesforce's is the job.
_WEAK_ALIASES = {"title": "job_title"}
_EMAIL = re.compile(
    r"^(?:(?:work|home|other|personal|business|primary|secondary) )?e ?mail(?: \d+)?(?: (?:value|address))?$"
)
_PHONE = re.compile(
    r"^(?:(?:mobile|cell|business|home|work|other|primary|company main|main|personal)(?: \d+)? )?"
    r"(?:phone|telephone|tel|mobile|cell)(?: \d+)?(?: (?:value|number))?(?: \d+)?$"
)
_OWN_EXPORT = {norm(header): target for header, target in COLUMNS}


def active_custom_fields() -> list[CustomField]:
    return list(CustomField.objects.filter(active=True))


def target_choices(custom_fields: list[CustomField]) -> list:
    """The choices of a column's select, grouped."""
    label = TARGET_LABELS.__getitem__
    choices = [
        (IGNORE, label(IGNORE)),
        (_("Name"), [(t, label(t)) for t in ("given_name", "family_name", "display_name")]),
        (_("Reaching them"), [(t, label(t)) for t in ("email", "phone")]),
        (_("Work"), [(t, label(t)) for t in ("company", "job_title")]),
        (_("Address"), [(t, label(t)) for t in ("address_line", "city", "state", "postcode", "country")]),
        (_("Classification"), [(t, label(t)) for t in ("customer_type", "source", "phase", "tags")]),
    ]
    if custom_fields:
        choices.append((_("Custom fields"), [(CUSTOM + f.key, f.label) for f in custom_fields]))
    return choices


def guess(headers: list[str], custom_fields: list[CustomField]) -> list[str]:
    """The target of each column; a single-valued field goes to the first column that claims it."""
    custom = {}
    for f in custom_fields:
        for name in (f.label, f.key, CUSTOM_PREFIX + f.key):
            custom.setdefault(norm(name), CUSTOM + f.key)
    guesses = []
    for header in headers:
        key = norm(header)
        target = _OWN_EXPORT.get(key) or _ALIAS_TARGET.get(key)
        if target is None and _EMAIL.match(key):
            target = "email"
        elif target is None and _PHONE.match(key):
            target = "phone"
        guesses.append(target or custom.get(key) or IGNORE)
    for n, header in enumerate(headers):
        weak = _WEAK_ALIASES.get(norm(header))
        if guesses[n] == IGNORE and weak and weak not in guesses:
            guesses[n] = weak
    taken = set()
    for n, target in enumerate(guesses):
        if target in MULTI_TARGETS or target == IGNORE:
            continue
        if target in taken:
            guesses[n] = IGNORE
        taken.add(target)
    return guesses


def check_mapping(fields: list[str], custom_fields: list[CustomField]) -> None:
    """A mapping the job can run: known targets, a name column, single-valued fields chosen once."""
    allowed = {IGNORE, *SINGLE_TARGETS, *MULTI_TARGETS, *(CUSTOM + f.key for f in custom_fields)}
    if any(target not in allowed for target in fields):
        raise ValidationError(_("Choose a field for every column from the list."))
    if not NAME_TARGETS & set(fields):
        raise ValidationError(_("Choose at least one column for the given name, the family name or the display name."))
    seen = set()
    for target in fields:
        if target in MULTI_TARGETS or target == IGNORE:
            continue
        if target in seen:
            raise ValidationError(
                _("“%(field)s” is chosen for more than one column.") % {"field": _target_label(target, custom_fields)}
            )
        seen.add(target)


def _target_label(target: str, custom_fields: list[CustomField]) -> str:
    if target.startswith(CUSTOM):
        return next((f.label for f in custom_fields if CUSTOM + f.key == target), target)
    return str(TARGET_LABELS.get(target, target))


# Values ------------------------------------------------------------------------------------


def _choice_aliases(choices, extra: dict[str, str]) -> dict[str, str]:
    table = {}
    for value, label in choices:
        table[norm(value)] = value
        table[norm(str(label))] = value
    table.update({norm(alias): value for alias, value in extra.items()})
    return table


@functools.cache
def _phases() -> dict[str, str]:
    # HubSpot's lifecycle stages as our phases.
    hubspot = {
        "subscriber": Phase.SELECTION,
        "other": Phase.SELECTION,
        "prospect": Phase.SELECTION,
        "lead": Phase.ACQUISITION,
        "marketingqualifiedlead": Phase.ACQUISITION,
        "marketing qualified lead": Phase.ACQUISITION,
        "mql": Phase.ACQUISITION,
        "salesqualifiedlead": Phase.ACQUISITION,
        "sales qualified lead": Phase.ACQUISITION,
        "sql": Phase.ACQUISITION,
        "opportunity": Phase.ACQUISITION,
        "customer": Phase.RETENTION,
        "evangelist": Phase.EXTENSION,
        "former customer": Phase.CHURNED,
        "lost": Phase.CHURNED,
    }
    with _english():
        return _choice_aliases(Phase.choices, hubspot)


@functools.cache
def _source_aliases() -> dict[str, str]:
    # Salesforce's and HubSpot's usual lead sources as ours (our own codes and labels: source_code).
    others = {
        "web": Source.WEB_FORM,
        "website": Source.WEB_FORM,
        "web form": Source.WEB_FORM,
        "organic search": Source.WEB_FORM,
        "phone inquiry": Source.PHONE,
        "phone enquiry": Source.PHONE,
        "partner referral": Source.PARTNER,
        "employee referral": Source.REFERRAL,
        "external referral": Source.REFERRAL,
        "word of mouth": Source.REFERRAL,
        "trade show": Source.EVENT,
        "seminar internal": Source.EVENT,
        "seminar partner": Source.EVENT,
        "social media": Source.SOCIAL,
        "organic social": Source.SOCIAL,
        "paid social": Source.SOCIAL,
    }
    return {norm(alias): value for alias, value in others.items()}


@functools.cache
def _customer_types() -> dict[str, str]:
    others = {
        "business": CustomerType.B2B,
        "company": CustomerType.B2B,
        "consumer": CustomerType.B2C,
        "individual": CustomerType.B2C,
        "person": CustomerType.B2C,
    }
    with _english():
        return _choice_aliases(CustomerType.choices, others)


@functools.cache
def region_codes() -> frozenset[str]:
    """Two-letter codes that _countries() reads as themselves, known without loading its names: the regions
    of phonenumbers' own metadata, less the few its name tables leave out (tests check the two agree)."""
    import phonenumbers

    return frozenset(phonenumbers.SUPPORTED_REGIONS - {"AC", "TA", "XK"})


@functools.cache
def _countries() -> dict[str, str]:
    """Country names in the languages phonenumbers knows (English, Hindi, …) and ISO codes, to ISO codes."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    table = {}
    for code, names in LOCALE_DATA.items():
        if len(code) != 2 or not code.isalpha():
            continue
        for name in names.values():
            if not name.startswith("*"):
                table.setdefault(norm(name), code)
    for code in LOCALE_DATA:
        if len(code) == 2 and code.isalpha():
            table[norm(code)] = code
    aliases = {
        "usa": "US",
        "united states of america": "US",
        "uk": "GB",
        "great britain": "GB",
        "england": "GB",
        "bharat": "IN",
        "uae": "AE",
    }
    table.update(aliases)
    return table


def _english():
    from django.utils import translation

    return translation.override("en")


# Rows --------------------------------------------------------------------------------------

_EMAIL_SEPARATORS = re.compile(r":::|[,;\s]+")
_PHONE_SEPARATORS = re.compile(r":::|[,;]")
_TAG_SEPARATORS = re.compile(r":::|[,;]")  # Outlook separates categories with ";"


@dataclass
class RowValues:
    """What one row says about a contact, cleaned and checked."""

    fields: dict[str, str] = field(default_factory=dict)  # scalar fields; "company" is a name
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom: dict = field(default_factory=dict)
    # Whether the display name was in the file (else it is made of the given and family names).
    display_given: bool = False


def _split_tags(raw: str) -> list[str]:
    """Tags of one cell: split on commas (and Outlook's ";", Google's ":::"); a quoted name stays whole."""
    if '"' in raw:
        return next(csv.reader([raw.replace("\n", " ")], skipinitialspace=True), [])
    return _TAG_SEPARATORS.split(raw)


def _custom_value(custom_field: CustomField, text: str):
    kind = custom_field.kind
    if kind == CustomField.Kind.NUMBER:
        try:
            number = decimal.Decimal(text.replace(",", "").replace(" ", ""))
        except decimal.InvalidOperation:
            raise ValidationError(_("“%(value)s” is not a number.") % {"value": text}) from None
        if not number.is_finite():
            raise ValidationError(_("“%(value)s” is not a number.") % {"value": text})
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomField.Kind.DATE:
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(_("“%(value)s” is not a date in the form YYYY-MM-DD.") % {"value": text}) from None
    if kind == CustomField.Kind.CHOICE:
        for option in custom_field.choices or []:
            if norm(str(option)) == norm(text):
                return option
        raise ValidationError(
            _("“%(value)s” is not one of the choices of “%(field)s”.") % {"value": text, "field": custom_field.label}
        )
    return text


class RowReader:
    """`row_values` for one mapping, planned once: the columns to read and what each is, with the lookups
    of values that repeat (countries, phases, sources, phone numbers) cached. An import reads every row
    of its file through one reader, so the work per row is only what the row itself needs."""

    # Distinct phone numbers kept; past it the cache starts again (memory stays bounded on any file).
    PHONE_CACHE_SIZE = 200_000

    def __init__(self, fields: list[str], custom_fields: dict[str, CustomField]):
        self.plan = []
        for n, target in enumerate(fields):
            if target == IGNORE:
                continue
            if target in ("email", "phone", "tags"):
                kind = target
            elif target.startswith(CUSTOM):
                kind = "custom"
            else:
                kind = "multiline" if target in MULTILINE_FIELDS else "text"
            self.plan.append((n, target, kind))
        self.custom_fields = custom_fields
        self.region = None
        self.phones: dict[str, str | None] = {}
        self.coded: dict[tuple[str, str], str | None] = {}
        self.sources: dict[str, str] = {}

    def __call__(self, cells: list[str], cleaned: list[str] | None = None) -> RowValues:
        """The values of a row; `cleaned` may give its cells as clean_text(unneutralise(cell)) already."""
        values = RowValues()
        problems: list[str] = []
        fields = values.fields
        width = len(cells)
        for n, target, kind in self.plan:
            if n >= width:
                break
            raw = cells[n]
            if not raw:
                continue
            if raw[0] == "'":
                raw = unneutralise(raw)
            if kind == "text":
                if target not in fields:
                    text = cleaned[n] if cleaned is not None else clean_text(raw)
                    if text:
                        fields[target] = text
            elif kind == "email":
                for part in _EMAIL_SEPARATORS.split(raw):
                    try:
                        email = normalise_email(part)
                    except ValidationError as error:
                        problems.extend(error.messages)
                        continue
                    if len(email) > EMAIL_LENGTH:
                        problems.append(_("“%(value)s” is too long for an email address.") % {"value": email})
                    elif email and email not in values.emails:
                        values.emails.append(email)
            elif kind == "phone":
                for part in _PHONE_SEPARATORS.split(raw):
                    text = clean_text(part)
                    if not text:
                        continue
                    phone = self._phone(text)
                    if phone is None:
                        problems.append(_("“%(value)s” is not a valid phone number.") % {"value": text})
                    elif phone not in values.phones:
                        values.phones.append(phone)
            elif kind == "tags":
                for part in _split_tags(raw):
                    tag = clean_text(part)
                    # Google's own groups ("* myContacts", "* starred") are not tags of the user.
                    if tag and not tag.startswith("* ") and tag[:TAG_LENGTH] not in values.tags:
                        values.tags.append(tag[:TAG_LENGTH])
            elif kind == "custom":
                text = clean_text(raw)
                custom_field = self.custom_fields.get(target[len(CUSTOM) :])
                if text and custom_field is not None and custom_field.key not in values.custom:
                    try:
                        values.custom[custom_field.key] = _custom_value(custom_field, text)
                    except ValidationError as error:
                        problems.extend(error.messages)
            elif target not in fields:
                text = clean_fields({target: raw})[target]
                if text:
                    fields[target] = text
        values.display_given = bool(fields.get("display_name"))
        self._check_fields(fields, problems)
        if problems:
            raise ValidationError(problems)
        return values

    def _phone(self, text: str) -> str | None:
        phone = self.phones.get(text, False)
        if phone is False:
            if len(self.phones) >= self.PHONE_CACHE_SIZE:
                self.phones.clear()
            if self.region is None:
                self.region = settings.PHONE_DEFAULT_REGION
            phone = self.phones[text] = normalise_phone(text, self.region)
        return phone

    def _code(self, name: str, text: str) -> str | None:
        key = (name, text)
        try:
            return self.coded[key]
        except KeyError:
            pass
        if name == "country" and len(text) == 2 and text.isascii() and text.upper() in region_codes():
            # A region code as such: the table of country names (a second of loading) is not needed.
            code = self.coded[key] = text.upper()
            return code
        table = {"phase": _phases, "customer_type": _customer_types, "country": _countries}[name]()
        code = self.coded[key] = table.get(norm(text))
        return code

    def _check_fields(self, fields: dict[str, str], problems: list[str]) -> None:
        if not ("given_name" in fields or "family_name" in fields or "display_name" in fields):
            problems.append(_("A name is needed: a given name, a family name or a display name."))
        if any(len(value) > _SHORTEST_LIMIT for value in fields.values()):
            for name, limit in MAX_LENGTHS.items():
                if len(fields.get(name, "")) > limit:
                    problems.append(
                        _("%(field)s is longer than %(max)s characters.") % {"field": TARGET_LABELS[name], "max": limit}
                    )
        for name in _CHECKED_CODES:
            if name in fields:
                value = self._code(name, fields[name])
                if value is None:
                    problems.append(_code_message(name) % {"value": fields[name]})
                else:
                    fields[name] = value
        if "source" in fields:
            text = fields["source"]
            code = self.sources.get(text)
            if code is None:
                code = self.sources[text] = source_code(text) or _source_aliases().get(norm(text), Source.OTHER)
            fields["source"] = code
        if not fields.get("display_name"):
            name = " ".join(part for part in (fields.get("given_name", ""), fields.get("family_name", "")) if part)
            if name:
                fields["display_name"] = name[:_DISPLAY_NAME_LENGTH]


_SHORTEST_LIMIT = min(MAX_LENGTHS.values())
_DISPLAY_NAME_LENGTH = Contact._meta.get_field("display_name").max_length
_CHECKED_CODES = ("phase", "customer_type", "country")


def _code_message(name: str) -> str:
    if name == "phase":
        return _("“%(value)s” is not a phase (selection, acquisition, retention, extension, churned).")
    if name == "customer_type":
        return _("“%(value)s” is not a customer type (b2b or b2c).")
    return _("“%(value)s” is not a country; use a two-letter ISO code such as IN.")


def row_values(cells: list[str], fields: list[str], custom_fields: dict[str, CustomField]) -> RowValues:
    """The cells of one row read through the mapping; raises ValidationError listing every problem."""
    return RowReader(fields, custom_fields)(cells)
