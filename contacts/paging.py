"""Keyset (cursor) paging: a page starts right after the last row of the one before, found through
the sort index, so page 20,000 costs what page 1 costs (no OFFSET, no COUNT(*)).

Two shapes: the contact and company lists (any sortable column, both directions, opaque cursors:
`keyset_page`), and the newest-first feeds — timelines, notifications, change history, orders,
deals — ordered by a time and the id (`newest_first`, with a readable `TimeCursor`)."""

import base64
import binascii
import datetime
import json
from dataclasses import dataclass

from django.db import models
from django.db.models import F, Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone


class Row(Func):
    """A row constructor: ROW(a, b) > ROW(x, y) is one index condition on a two-column btree index,
    where "a > x OR (a = x AND b > y)" would make PostgreSQL filter rows one by one."""

    function = "ROW"
    output_field = models.Field()


@dataclass(frozen=True)
class Sort:
    """One way a list can be sorted: a model field, then the id to break ties."""

    key: str  # what the query string says, e.g. "-activity"
    field: str
    descending: bool

    @property
    def order_by(self) -> tuple[str, str]:
        sign = "-" if self.descending else ""
        return f"{sign}{self.field}", f"{sign}id"


def sorts(**columns: str) -> dict[str, Sort]:
    """Both directions of each column: sorts(name="display_name") gives "name" and "-name"."""
    result = {}
    for key, field in columns.items():
        result[key] = Sort(key=key, field=field, descending=False)
        result[f"-{key}"] = Sort(key=f"-{key}", field=field, descending=True)
    return result


@dataclass(frozen=True)
class Cursor:
    """A position in a sorted list: the sort value and id of a row. Opaque in the query string."""

    sort: str
    value: str | datetime.datetime
    id: int

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime.datetime) else self.value
        raw = json.dumps([self.sort, value, self.id], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, sort: Sort, model) -> "Cursor | None":
        """The cursor of a query string, or None when it is not one of this sort (a stale or edited link)."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            key, value, pk = json.loads(raw)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            return None
        if key != sort.key or not isinstance(value, str) or not isinstance(pk, int) or isinstance(pk, bool):
            return None
        if isinstance(model._meta.get_field(sort.field), models.DateTimeField):
            try:
                value = datetime.datetime.fromisoformat(value)
            except ValueError:
                return None
            if timezone.is_naive(value):
                return None
        return cls(sort=key, value=value, id=pk)

    @classmethod
    def of(cls, row, sort: Sort) -> "Cursor":
        return cls(sort=sort.key, value=getattr(row, sort.field), id=row.pk)


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str = ""
    previous_cursor: str = ""
    is_first: bool = True

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor or not self.is_first)


def _beyond(sort: Sort, cursor: Cursor, *, forward: bool):
    """The rows after (forward) or before the cursor in the order of `sort`."""
    lookup = GreaterThan if forward != sort.descending else LessThan
    return lookup(Row(F(sort.field), F("id")), Row(Value(cursor.value), Value(cursor.id)))


def keyset_page(
    queryset: QuerySet, *, sort: Sort, size: int, after: Cursor | None = None, before: Cursor | None = None
) -> KeysetPage:
    """One page of `queryset` in the order of `sort`, starting after `after` or ending before `before`.

    One query: size + 1 rows are read to know whether there is more beyond the page."""
    if before is not None:
        backwards = queryset.filter(_beyond(sort, before, forward=False))
        reversed_sort = Sort(key=sort.key, field=sort.field, descending=not sort.descending)
        rows = list(backwards.order_by(*reversed_sort.order_by)[: size + 1])
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            rows=rows,
            next_cursor=Cursor.of(rows[-1], sort).encode() if rows else before.encode(),
            previous_cursor=Cursor.of(rows[0], sort).encode() if rows and more_before else "",
            is_first=not more_before,
        )
    if after is not None:
        queryset = queryset.filter(_beyond(sort, after, forward=True))
    rows = list(queryset.order_by(*sort.order_by)[: size + 1])
    more_after = len(rows) > size
    rows = rows[:size]
    previous = ""
    if after is not None:
        previous = Cursor.of(rows[0], sort).encode() if rows else after.encode()
    return KeysetPage(
        rows=rows,
        next_cursor=Cursor.of(rows[-1], sort).encode() if more_after else "",
        previous_cursor=previous,
        is_first=after is None,
    )


# Newest-first feeds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeCursor:
    """The (time, id) of the last item shown; the next page starts after it. "2026-12-03T09:30:00+00:00_42"."""

    at: datetime.datetime
    id: int

    def __str__(self) -> str:
        return f"{self.at.isoformat()}_{self.id}"

    @classmethod
    def parse(cls, text: str) -> "TimeCursor":
        """The cursor of a query string; ValueError when it is not one."""
        at_text, _sep, id_text = text.rpartition("_")
        at = datetime.datetime.fromisoformat(at_text)
        if timezone.is_naive(at):
            raise ValueError("a cursor carries its time zone")
        return cls(at=at, id=int(id_text))


@dataclass
class TimePage:
    items: list
    next_cursor: TimeCursor | None


def newest_first(queryset: QuerySet, *, time_field: str, after: TimeCursor | None = None, size: int) -> TimePage:
    """One page of `queryset` newest first by (time_field, id), after `after`: one query on an index
    ending in (time_field, id), reading size + 1 rows to know whether there is more."""
    if after is not None:
        queryset = queryset.filter(LessThan(Row(F(time_field), F("id")), Row(Value(after.at), Value(after.id))))
    rows = list(queryset.order_by(f"-{time_field}", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows and more else None
    return TimePage(items=rows, next_cursor=TimeCursor(at=getattr(last, time_field), id=last.id) if last else None)
