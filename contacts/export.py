"""Exporting contacts as CSV and vCard 3.0, streamed in chunks; the CSV layout is also one our import maps 1:1."""

import csv
import datetime
import io
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from contacts.models import Contact, CustomField

# (header, import target). The headers are a file format: they stay in English whatever the UI language.
COLUMNS = [
    ("Given name", "given_name"),
    ("Family name", "family_name"),
    ("Display name", "display_name"),
    ("Email", "email"),
    ("Other emails", "email"),
    ("Phone", "phone"),
    ("Other phones", "phone"),
    ("Company", "company"),
    ("Job title", "job_title"),
    ("Address", "address_line"),
    ("City", "city"),
    ("State", "state"),
    ("Postcode", "postcode"),
    ("Country", "country"),
    ("Customer type", "customer_type"),
    ("Source", "source"),
    ("Phase", "phase"),
    ("Tags", "tags"),
]
HEADERS = [header for header, _target in COLUMNS]
CUSTOM_PREFIX = "Custom: "
# What a vCard can say, in the same columns (see contacts.importers.vcard).
VCARD_HEADERS = [h for h in HEADERS if h not in {"Customer type", "Source", "Phase"}]
LIST_SEPARATOR = ", "
CHUNK_SIZE = 2000

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading quote before anything that would start a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unneutralise(value: str) -> str:
    """The value `neutralise` was given (our import reads our export back)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def join_tags(names) -> str:
    """Tag names in one cell, comma-separated; a name holding a separator or a quote is quoted CSV-style."""
    return LIST_SEPARATOR.join(
        '"' + name.replace('"', '""') + '"' if any(char in name for char in ',;"') else name for name in names
    )


def export_queryset(queryset: QuerySet[Contact]) -> Iterator[Contact]:
    """The contacts in list order, fetched CHUNK_SIZE at a time with their emails, phones and tags."""
    return (
        queryset.select_related("company")
        .prefetch_related("emails", "phones", "tags")
        .order_by("display_name", "id")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _channels(contact: Contact) -> tuple[list[str], list[str]]:
    emails = [item.email for item in contact.emails.all()]
    phones = [item.number for item in contact.phones.all()]
    # The primary copy on the contact comes first even if its ContactEmail row is missing.
    if contact.email and contact.email not in emails:
        emails.insert(0, contact.email)
    if contact.phone and contact.phone not in phones:
        phones.insert(0, contact.phone)
    return emails, phones


def contact_row(contact: Contact, custom_keys: list[str]) -> list[str]:
    emails, phones = _channels(contact)
    row = [
        contact.given_name,
        contact.family_name,
        contact.display_name,
        emails[0] if emails else "",
        LIST_SEPARATOR.join(emails[1:]),
        phones[0] if phones else "",
        LIST_SEPARATOR.join(phones[1:]),
        contact.company.name if contact.company_id else "",
        contact.job_title,
        contact.address_line,
        contact.city,
        contact.state,
        contact.postcode,
        contact.country,
        contact.customer_type,
        contact.source,
        contact.phase,
        join_tags(sorted(tag.name for tag in contact.tags.all())),
    ]
    custom = contact.custom or {}
    row.extend("" if custom.get(key) is None else str(custom[key]) for key in custom_keys)
    return row


def csv_chunks(contacts: Iterable[Contact], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV text in pieces: UTF-8 BOM (so Excel reads Indian scripts), header, then rows; cells neutralised."""
    custom_keys = list(CustomField.objects.filter(active=True).values_list("key", flat=True))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([*HEADERS, *(CUSTOM_PREFIX + key for key in custom_keys)])
    for count, contact in enumerate(contacts, 1):
        writer.writerow([neutralise(cell) for cell in contact_row(contact, custom_keys)])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 6350), never inside a UTF-8 character."""
    if len(line.encode("utf-8")) <= 75:
        return line + "\r\n"
    pieces, current, size = [], [], 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = 75 if not pieces else 74  # continuation lines start with a space
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces) + "\r\n"


_PHONE_TYPES = {"mobile": "CELL", "work": "WORK", "home": "HOME", "other": "VOICE"}


def vcard(contact: Contact) -> str:
    emails, phones = _channels(contact)
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{_escape(contact.family_name)};{_escape(contact.given_name)};;;",
        f"FN:{_escape(contact.display_name)}",
    ]
    if contact.company_id:
        lines.append(f"ORG:{_escape(contact.company.name)}")
    if contact.job_title:
        lines.append(f"TITLE:{_escape(contact.job_title)}")
    for n, email in enumerate(emails):
        lines.append(f"EMAIL;TYPE=INTERNET{',PREF' if n == 0 else ''}:{_escape(email)}")
    kinds = {phone.number: phone.kind for phone in contact.phones.all()}
    for n, number in enumerate(phones):
        kind = _PHONE_TYPES.get(kinds.get(number, ""), "VOICE")
        lines.append(f"TEL;TYPE={kind}{',PREF' if n == 0 else ''}:{number}")
    address = [contact.address_line, contact.city, contact.state, contact.postcode, contact.country]
    if any(address):
        lines.append("ADR;TYPE=WORK:;;" + ";".join(_escape(part) for part in address))
    tags = sorted(tag.name for tag in contact.tags.all())
    if tags:
        lines.append("CATEGORIES:" + ",".join(_escape(tag) for tag in tags))
    lines.append(f"REV:{contact.updated_at.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}")
    lines.append("END:VCARD")
    return "".join(_fold(line) for line in lines)


def vcard_chunks(contacts: Iterable[Contact], *, cards_per_chunk: int = 500) -> Iterator[str]:
    parts = []
    for count, contact in enumerate(contacts, 1):
        parts.append(vcard(contact))
        if count % cards_per_chunk == 0:
            yield "".join(parts)
            parts = []
    yield "".join(parts)
