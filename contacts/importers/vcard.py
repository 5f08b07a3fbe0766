"""Reading vCard 2.1, 3.0 and 4.0 files: folded lines, quoted-printable values, groups, several emails and phones.

Each card becomes a record with the columns of our own CSV export (VCARD_HEADERS), so the mapping
step and the import job treat vCards and spreadsheets alike.
"""

import quopri
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from contacts.export import VCARD_HEADERS, join_tags
from contacts.importers.csvfile import Record

# Bare parameters of vCard 2.1 that name an encoding rather than a type.
_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}
_ESCAPES = {"n": "\n", "N": "\n", "\\": "\\", ",": ",", ";": ";", ":": ":"}
_NO_PREFERENCE = 101


@dataclass
class Property:
    name: str
    params: dict[str, list[str]]
    value: str | None  # None when it is binary (a photo) or cannot be decoded


@dataclass
class Card:
    line: int
    properties: list[Property] = field(default_factory=list)
    error: str = ""


def looks_like_vcard(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").upper().startswith("BEGIN:VCARD")


def _is_quoted_printable(text: str) -> bool:
    head = text.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def logical_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Physical lines unfolded: a line starting with a space or tab continues the one before it (RFC 6350),
    and a quoted-printable value ending in "=" continues on the next line (vCard 2.1 soft line breaks)."""
    current, start, soft_break = None, 0, False
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if current is not None and soft_break:
            current = current[:-1] + line
            soft_break = line.endswith("=")
            continue
        if current is not None and line[:1] in (" ", "\t"):
            current += line[1:]
            soft_break = current.endswith("=") and _is_quoted_printable(current)
            continue
        if current is not None:
            yield start, current
        current, start = line, number
        soft_break = line.endswith("=") and _is_quoted_printable(line)
    if current is not None:
        yield start, current


def _split_outside_quotes(text: str, separator: str, maxsplit: int = -1) -> list[str]:
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted and maxsplit != 0:
            parts.append("".join(current))
            current = []
            maxsplit -= 1
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def split_escaped(value: str, separator: str) -> list[str]:
    """Split a value on a separator that is not escaped with a backslash, and unescape the parts."""
    parts, current, escaped = [], [], False
    for char in value:
        if escaped:
            current.append(_ESCAPES.get(char, "\\" + char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def unescape(value: str) -> str:
    return split_escaped(value, "\x00")[0]


def _decode_bytes(data: bytes, charset: str) -> str:
    for encoding in (charset, "utf-8", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")  # pragma: no cover - Latin-1 decodes any byte


def parse_property(text: str) -> Property | None:
    """One unfolded content line, `[group.]NAME[;PARAM=...]:value`; None when it has no colon."""
    head_and_value = _split_outside_quotes(text, ":", maxsplit=1)
    if len(head_and_value) < 2:
        return None
    head, value = head_and_value
    tokens = _split_outside_quotes(head, ";")
    name = tokens[0].rsplit(".", 1)[-1].strip().upper()
    params: dict[str, list[str]] = {}
    for token in tokens[1:]:
        key, has_value, raw = token.partition("=")
        if not has_value:
            raw, key = key, "ENCODING" if key.strip().upper() in _ENCODINGS else "TYPE"
        values = [item.strip().strip('"') for item in _split_outside_quotes(raw, ",")]
        params.setdefault(key.strip().upper(), []).extend(item for item in values if item)
    encoding = {item.upper() for item in params.get("ENCODING", [])}
    if encoding & {"BASE64", "B"}:
        return Property(name=name, params=params, value=None)
    if "QUOTED-PRINTABLE" in encoding:
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        value = _decode_bytes(quopri.decodestring(value.encode("utf-8")), charset)
    return Property(name=name, params=params, value=value)


def iter_cards(lines: Iterable[str]) -> Iterator[Card]:
    card = None
    for number, text in logical_lines(lines):
        if not text.strip():
            continue
        keyword, _sep, rest = text.partition(":")
        keyword, rest = keyword.strip().upper(), rest.strip().upper()
        if keyword == "BEGIN" and rest == "VCARD":
            if card is not None:
                card.error = _("This vCard has no END:VCARD line.")
                yield card
            card = Card(line=number)
            continue
        if card is None:
            continue  # text between cards is not a contact
        if keyword == "END" and rest == "VCARD":
            yield card
            card = None
            continue
        prop = parse_property(text)
        if prop is None:
            if not card.error:
                card.error = _("Line %(line)s is not a vCard property.") % {"line": number}
            continue
        card.properties.append(prop)
    if card is not None:
        card.error = _("This vCard has no END:VCARD line.")
        yield card


def _preference(prop: Property) -> int:
    if prop.params.get("PREF"):
        try:
            return int(prop.params["PREF"][0])
        except ValueError:
            return 1
    types = {item.upper() for item in prop.params.get("TYPE", [])}
    return 1 if "PREF" in types else _NO_PREFERENCE


def _by_preference(props: list[Property]) -> list[Property]:
    return sorted(props, key=_preference)  # stable: file order among equals


def _phone_value(value: str) -> str:
    value = unescape(value).strip()
    if value.lower().startswith("tel:"):
        value = value[4:].split(";", 1)[0]
    return value


def card_cells(card: Card) -> list[str]:
    """The card as a row of VCARD_HEADERS cells."""
    props: dict[str, list[Property]] = {}
    for prop in card.properties:
        if prop.value is not None:
            props.setdefault(prop.name, []).append(prop)

    def first(name: str) -> str:
        return unescape(props[name][0].value).strip() if name in props else ""

    def components(name: str, count: int) -> list[str]:
        if name not in props:
            return [""] * count
        parts = split_escaped(_by_preference(props[name])[0].value, ";")
        return [part.strip() for part in (parts + [""] * count)[:count]]

    family, given = components("N", 2)
    emails = [unescape(prop.value).strip() for prop in _by_preference(props.get("EMAIL", []))]
    phones = [_phone_value(prop.value) for prop in _by_preference(props.get("TEL", []))]
    emails, phones = [e for e in emails if e], [p for p in phones if p]
    pobox, extended, street, city, state, postcode, country = components("ADR", 7)
    company = components("ORG", 1)[0]
    tags = []
    for prop in props.get("CATEGORIES", []):
        tags.extend(part.strip() for part in split_escaped(prop.value, ",") if part.strip())
    values = {
        "Given name": given,
        "Family name": family,
        "Display name": first("FN"),
        "Email": emails[0] if emails else "",
        "Other emails": ", ".join(emails[1:]),
        "Phone": phones[0] if phones else "",
        "Other phones": ", ".join(phones[1:]),
        "Company": company,
        "Job title": first("TITLE"),
        "Address": "\n".join(part for part in (pobox, extended, street) if part),
        "City": city,
        "State": state,
        "Postcode": postcode,
        "Country": country,
        "Tags": join_tags(tags),
    }
    return [values[header] for header in VCARD_HEADERS]


def read_records(lines: Iterable[str]) -> Iterator[Record]:
    """Each vCard of the file as a record, numbered by its BEGIN:VCARD line; broken cards carry their error."""
    try:
        for card in iter_cards(lines):
            if card.error:
                yield Record(line=card.line, cells=[""] * len(VCARD_HEADERS), error=card.error)
            else:
                yield Record(line=card.line, cells=card_cells(card))
    finally:
        if hasattr(lines, "close"):
            lines.close()
