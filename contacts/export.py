"""Exporting contacts as CSV and vCard 3.0, streamed in chunks; the CSV layout is also one our import maps 1:1.

The rows are read as plain tuples, a contact's emails, phones and tags gathered into arrays by the
database in the same statement, through a server-side cursor CHUNK_SIZE rows at a time, the next
chunk fetched while this one is written: building a model instance and its related rows per
contact cost 95 % of the time of an export. Memory stays a few chunks, whatever the number of rows.
"""

import csv
import datetime
import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections, transaction
from django.db.models import OuterRef, QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.sql.constants import MULTI

from contacts.models import Contact, ContactEmail, ContactPhone, CustomField, Tag

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


def _array(queryset: QuerySet, field: str) -> ArraySubquery:
    """The values of `field` of the contact's related rows in `queryset`, as one array column."""
    return ArraySubquery(queryset.filter(contact=OuterRef("pk")).values(field))


# In the order of ContactEmail/ContactPhone.Meta.ordering: the primary one first.
_EMAILS = ContactEmail.objects.order_by("-is_primary", "id")
_PHONES = ContactPhone.objects.order_by("-is_primary", "id")


def _channel_arrays() -> dict:
    return {
        "export_emails": _array(_EMAILS, "email"),
        "export_phones": _array(_PHONES, "number"),
        # sorted in Python (code point order, whatever the database's collation)
        "export_tags": ArraySubquery(Tag.objects.filter(contacts=OuterRef("pk")).order_by().values("name")),
    }


_PERSON = ("given_name", "family_name", "display_name", "email", "phone", "company__name", "job_title")
_ADDRESS = ("address_line", "city", "state", "postcode", "country")


def _read_ahead(chunks: Iterator[list]) -> Iterator[list]:
    """The chunks of rows of a server-side cursor, the next one fetched by a second thread while the
    caller writes this one out: the database computes rows while Python formats them, on two cores
    rather than taking turns on one. Only one thread uses the connection at a time (psycopg2's
    connections may be shared between threads)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-read-ahead")
    pending = pool.submit(next, chunks, None)
    try:
        while (chunk := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield chunk
    finally:
        pool.shutdown(wait=True)  # the fetch under way ends before the cursor is closed
        close = getattr(chunks, "close", None)  # an empty result is a plain iterator
        if close:
            close()


def export_values(queryset: QuerySet[Contact], *columns: str, **annotations) -> Iterator[tuple]:
    """The contacts of `queryset` in list order as tuples of `columns` and then `annotations`, read
    CHUNK_SIZE at a time through a server-side cursor."""
    rows = queryset.annotate(**annotations).order_by("display_name", "id").values_list(*columns, *annotations)
    compiler = rows.query.get_compiler(using=rows.db)
    # In a transaction the cursor is not WITH HOLD: rows come as the query runs, where a held cursor
    # would first run all of it (33 s for a million contacts before the first byte).
    with transaction.atomic(using=rows.db):
        with connections[rows.db].cursor() as cursor:
            # JIT compiles the expressions of the related-row subqueries again and again: a third
            # of the database's time in a whole export.
            cursor.execute("SET LOCAL jit = off")
        # Django's own QuerySet.iterator(), with the read-ahead between the cursor and the rows
        chunks = _read_ahead(compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=CHUNK_SIZE))
        try:
            yield from compiler.results_iter(chunks, tuple_expected=True)
        finally:
            chunks.close()  # an export stopped half-way (the client went): thread and cursor end in the transaction


def _channels(email: str, phone: str, emails: list[str], phones: list[str]) -> tuple[list[str], list[str]]:
    # The primary copy on the contact comes first even if its ContactEmail row is missing.
    if email and email not in emails:
        emails.insert(0, email)
    if phone and phone not in phones:
        phones.insert(0, phone)
    return emails, phones


_FORMULA_CHARS = frozenset(FORMULA_STARTS)


def csv_records(queryset: QuerySet[Contact], custom_keys: list[str]) -> Iterator[list[str]]:
    """The cells of each contact's CSV row (HEADERS, then one per custom key), not yet neutralised."""
    columns = (*_PERSON, *_ADDRESS, "customer_type", "source", "phase")
    # As text, decoded here only when not empty: many contacts have no custom values, and the
    # JSONField's converter (a Python call per row) cost about a fifth of the export.
    custom_text = {"export_custom": Cast("custom", TextField())} if custom_keys else {}
    blank = [""] * len(custom_keys)
    for record in export_values(queryset, *columns, **custom_text, **_channel_arrays()):
        given, family, display, email, phone, company, job = record[:7]
        emails, phones = _channels(email, phone, record[-3], record[-2])
        tags = record[-1]
        row = [
            given,
            family,
            display,
            emails[0] if emails else "",
            LIST_SEPARATOR.join(emails[1:]),
            phones[0] if phones else "",
            LIST_SEPARATOR.join(phones[1:]),
            company or "",
            job,
            *record[7:15],
            join_tags(sorted(tags)) if tags else "",
        ]
        if custom_keys:
            custom = json.loads(record[15]) if record[15] and record[15] != "{}" else None
            if custom:
                row.extend("" if (value := custom.get(key)) is None else str(value) for key in custom_keys)
            else:
                row.extend(blank)
        yield row


def csv_chunks(queryset: QuerySet[Contact], *, rows_per_chunk: int | None = None) -> Iterator[str]:
    """The CSV text in pieces: UTF-8 BOM (so Excel reads Indian scripts), header, then rows; cells neutralised."""
    custom_keys = list(CustomField.objects.filter(active=True).values_list("key", flat=True))
    rows_per_chunk = rows_per_chunk or CHUNK_SIZE
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([*HEADERS, *(CUSTOM_PREFIX + key for key in custom_keys)])
    formula = _FORMULA_CHARS
    rows = []
    for row in csv_records(queryset, custom_keys):
        # neutralise(), inlined: it runs for every cell of a million rows
        rows.append([("'" + cell) if cell[:1] in formula else cell for cell in row])
        if len(rows) == rows_per_chunk:
            writer.writerows(rows)
            rows.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(rows)
    yield buffer.getvalue()


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 6350), never inside a UTF-8 character."""
    if len(line) <= 75 and (line.isascii() or len(line.encode("utf-8")) <= 75):
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
VCARD_COLUMNS = (*_PERSON, *_ADDRESS, "updated_at")


def vcard_records(queryset: QuerySet[Contact]) -> Iterator[tuple]:
    """Each contact as VCARD_COLUMNS, then its emails, phones, tags and the kinds of its phones."""
    return export_values(queryset, *VCARD_COLUMNS, **_channel_arrays(), export_phone_kinds=_array(_PHONES, "kind"))


def vcard(record: tuple) -> str:
    """One contact (a row of `vcard_records`) as a vCard 3.0."""
    given, family, display, email, phone, company, job = record[:7]
    address = record[7:12]
    updated_at, stored_emails, stored_phones, tags, kinds_in_order = record[12:17]
    kinds = dict(zip(stored_phones, kinds_in_order, strict=True))
    emails, phones = _channels(email, phone, stored_emails, stored_phones)
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{_escape(family)};{_escape(given)};;;",
        f"FN:{_escape(display)}",
    ]
    if company is not None:
        lines.append(f"ORG:{_escape(company)}")
    if job:
        lines.append(f"TITLE:{_escape(job)}")
    for n, address_email in enumerate(emails):
        lines.append(f"EMAIL;TYPE=INTERNET{',PREF' if n == 0 else ''}:{_escape(address_email)}")
    for n, number in enumerate(phones):
        kind = _PHONE_TYPES.get(kinds.get(number, ""), "VOICE")
        lines.append(f"TEL;TYPE={kind}{',PREF' if n == 0 else ''}:{number}")
    if any(address):
        lines.append("ADR;TYPE=WORK:;;" + ";".join(_escape(part) for part in address))
    if tags:
        lines.append("CATEGORIES:" + ",".join(_escape(tag) for tag in sorted(tags)))
    lines.append(f"REV:{updated_at.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}")
    lines.append("END:VCARD")
    return "".join(_fold(line) for line in lines)


def vcard_chunks(queryset: QuerySet[Contact], *, cards_per_chunk: int | None = None) -> Iterator[str]:
    cards_per_chunk = cards_per_chunk or CHUNK_SIZE
    parts = []
    for record in vcard_records(queryset):
        parts.append(vcard(record))
        if len(parts) == cards_per_chunk:
            yield "".join(parts)
            parts = []
    yield "".join(parts)
