"""SLA due times: calendar time, or working time in the business's time zone.

All arithmetic is on UTC instants. Calendar targets add elapsed time (a 24-hour target across a
daylight-saving change ends 24 real hours later, at another wall-clock hour). Business-hours
targets walk the working days in the business's time zone (settings.TIME_ZONE), each day's
opening and closing converted to UTC with that day's offset, so DST changes are honoured and
a zone without DST (Asia/Kolkata) needs nothing special. Public holidays are not modelled.
"""

import datetime
import zoneinfo

from django.conf import settings

from support.models import SLAPolicy

UTC = datetime.UTC
# A policy with working days always finds one within a week; this only stops a broken one.
MAX_DAYS_SEARCHED = 3660


def business_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def add_working_minutes(
    start: datetime.datetime,
    minutes: int,
    *,
    zone: datetime.tzinfo,
    day_starts_at: datetime.time,
    day_ends_at: datetime.time,
    working_days: list[int],
) -> datetime.datetime:
    """The UTC instant when `minutes` of working time have passed after `start`."""
    start = start.astimezone(UTC)
    remaining = datetime.timedelta(minutes=minutes)
    if remaining <= datetime.timedelta(0):
        return start
    day = start.astimezone(zone).date()
    for _ in range(MAX_DAYS_SEARCHED):
        if day.isoweekday() in working_days:
            # Subtracting aware datetimes of one zone ignores their offsets: compare in UTC only.
            opens = datetime.datetime.combine(day, day_starts_at, tzinfo=zone).astimezone(UTC)
            closes = datetime.datetime.combine(day, day_ends_at, tzinfo=zone).astimezone(UTC)
            begin = max(start, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += datetime.timedelta(days=1)
    raise ValueError("the SLA policy has no working time")


def due_after(policy: SLAPolicy, start: datetime.datetime, minutes: int) -> datetime.datetime:
    if not policy.business_hours_only:
        return start.astimezone(UTC) + datetime.timedelta(minutes=minutes)
    return add_working_minutes(
        start,
        minutes,
        zone=business_zone(),
        day_starts_at=policy.day_starts_at,
        day_ends_at=policy.day_ends_at,
        working_days=policy.working_days,
    )


def due_times(*, priority: str, start: datetime.datetime) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """(first response due, resolution due) of a ticket of `priority` opened at `start`;
    (None, None) when no policy covers the priority."""
    policy = SLAPolicy.objects.filter(priority=priority).first()
    if policy is None:
        return None, None
    return due_after(policy, start, policy.first_response_minutes), due_after(policy, start, policy.resolution_minutes)
