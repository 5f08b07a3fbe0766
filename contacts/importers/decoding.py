"""Which text encoding an uploaded file is in, and reading it as text without NUL bytes."""

import codecs
import contextlib
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

CHUNK = 1 << 20
# Encodings tried when a file is not UTF-8: Excel's "CSV" on Western Windows, then Latin-1 (never fails).
FALLBACKS = ("cp1252", "latin-1")
FALLBACK_LABELS = {"cp1252": "Windows-1252 (Western European)", "latin-1": "ISO-8859-1 (Latin-1)"}


class UnreadableFile(Exception):
    """The file cannot be read as text; the message says why, for the user."""


@dataclass
class Detected:
    encoding: str
    sha256: str
    size: int

    @property
    def is_fallback(self) -> bool:
        return self.encoding in FALLBACKS


def fallback_notice(encoding: str) -> str:
    """What the user is told when the file was not UTF-8 and was read in another encoding."""
    if encoding not in FALLBACKS:
        return ""
    return _(
        "This file is not in UTF-8, so it was read as %(encoding)s. Check the names in the preview: if letters "
        "look wrong, save the file as “CSV UTF-8” (or “Unicode text”) and upload it again."
    ) % {"encoding": FALLBACK_LABELS[encoding]}


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 written without a BOM: text in Latin script has a NUL in every other byte."""
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nuls, odd_nuls = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _decodes(stream, encoding: str) -> bool:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        while chunk := stream.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect(stream) -> Detected:
    """Read the whole binary stream: its hash, its size and the encoding to read it with.

    A BOM decides (UTF-8, UTF-16 as Excel's "Unicode text" writes it, UTF-32); then UTF-16 without BOM;
    then UTF-8 if every byte is valid UTF-8; else a reported fallback (Windows-1252, Latin-1).
    """

    digest = hashlib.sha256()
    size = 0
    stream.seek(0)
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    head = stream.read(4096)
    encoding = _bom_encoding(head) or _utf16_without_bom(head) or "utf-8"
    if _decodes(stream, encoding):
        return Detected(encoding=encoding, sha256=digest.hexdigest(), size=size)
    if encoding != "utf-8":
        raise UnreadableFile(
            _("The file looks like %(encoding)s text but cannot be read as such; save it again and re-upload it.")
            % {"encoding": encoding.upper()}
        )
    for fallback in FALLBACKS:
        if _decodes(stream, fallback):
            return Detected(encoding=fallback, sha256=digest.hexdigest(), size=size)
    raise UnreadableFile(_("The file cannot be read as text."))  # pragma: no cover - Latin-1 decodes any byte


def text_lines(stream, encoding: str) -> Iterator[str]:
    """The lines of a binary stream as text, line ends kept (as csv wants), NUL characters dropped."""
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
    try:
        for line in text:
            yield line.replace("\x00", "") if "\x00" in line else line
    finally:
        # The caller owns the binary stream: do not let the wrapper close it.
        with contextlib.suppress(ValueError):
            text.detach()
