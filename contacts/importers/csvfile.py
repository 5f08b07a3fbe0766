"""Reading CSV files as spreadsheets and other CRMs write them: the delimiter sniffed, records with line numbers."""

import csv
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

DELIMITERS = [",", ";", "\t", "|"]
SNIFF_LINES = 50


class MalformedFile(Exception):
    """The file cannot be parsed at all; the message is for the user."""


@dataclass
class Record:
    """One data row of a file: the line it starts on (1 = the first line of the file) and its cells."""

    line: int
    cells: list[str]
    error: str = ""


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter among , ; TAB | that splits the first lines into the most, and most regular, columns."""
    best, best_score = ",", (0, 0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [row for row in csv.reader(lines, delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not rows:
            continue
        header_width = len(rows[0])
        if header_width < 2:
            continue
        # Rows that are cut off at the end of the sample do not count against the delimiter.
        regular = sum(1 for row in rows[:-1] if len(row) == header_width) if len(rows) > 1 else 1
        score = (regular, header_width, -DELIMITERS.index(delimiter))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def read_records(lines: Iterable[str], delimiter: str) -> tuple[list[str] | None, Iterator[Record]]:
    """The header and an iterator of the data records (blank lines skipped).

    Returns (None, empty iterator) when the file has no header at all.
    """
    reader = csv.reader(lines, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise MalformedFile(
                    _("The file cannot be read as CSV near line %(line)s (%(error)s). A quote may be missing.")
                    % {"line": start, "error": error}
                ) from None
            yield start, cells
            start = reader.line_num + 1

    numbered = rows()
    header = None
    for _line, cells in numbered:
        if not _blank(cells):
            header = [cell.strip() for cell in cells]
            break
    if header is None:
        return None, iter(())
    width = len(header)

    def records() -> Iterator[Record]:
        try:
            yield from _data(numbered)
        finally:
            if hasattr(lines, "close"):
                lines.close()

    def _data(numbered) -> Iterator[Record]:
        for line, cells in numbered:
            if _blank(cells):
                continue
            error = ""
            if len(cells) > width and not _blank(cells[width:]):
                error = _("This line has %(cells)s cells but the header has %(columns)s columns.") % {
                    "cells": len(cells),
                    "columns": width,
                }
            yield Record(line=line, cells=(cells + [""] * width)[:width], error=error)

    return header, records()


def head_lines(lines: Iterator[str], count: int = SNIFF_LINES) -> list[str]:
    return list(itertools.islice(lines, count))
