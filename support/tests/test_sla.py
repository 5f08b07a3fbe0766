"""SLA due times: the policy maths, and one instant for everyone whatever their time zone."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.tests.factories import UserFactory
from support.models import Priority, SLAPolicy
from support.sla import add_working_minutes, due_times
from support.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")
LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = datetime.UTC


def _policy(priority=Priority.NORMAL, **fields) -> SLAPolicy:
    policy = SLAPolicy.objects.get(priority=priority)
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    return policy


def test_every_priority_has_a_default_policy_in_calendar_time():
    policies = {policy.priority: policy for policy in SLAPolicy.objects.all()}
    assert set(policies) == set(Priority.values)
    assert not any(policy.business_hours_only for policy in policies.values())
    assert policies["urgent"].first_response_minutes < policies["low"].first_response_minutes


def test_calendar_targets_add_elapsed_time():
    _policy(first_response_minutes=90, resolution_minutes=3 * 24 * 60)
    start = datetime.datetime(2026, 1, 10, 23, 0, tzinfo=KOLKATA)
    first_response, resolution = due_times(priority=Priority.NORMAL, start=start)
    assert first_response == datetime.datetime(2026, 1, 10, 19, 0, tzinfo=UTC)
    assert resolution == datetime.datetime(2026, 1, 13, 17, 30, tzinfo=UTC)
    assert first_response.utcoffset() == datetime.timedelta(0)


def test_one_instant_gives_one_due_time_whatever_zone_it_is_written_in():
    instant = datetime.datetime(2026, 7, 1, 9, 15, tzinfo=UTC)
    written = [
        instant.astimezone(KOLKATA),
        instant.astimezone(LONDON),
        instant.astimezone(zoneinfo.ZoneInfo("US/Pacific")),
    ]
    assert len({due_times(priority=Priority.HIGH, start=start) for start in written}) == 1


def test_a_calendar_day_across_the_london_clock_change_is_24_real_hours():
    # 28 March 2026 12:00 GMT; the clocks go forward on the 29th, so 24 hours later it is 13:00 BST.
    _policy(first_response_minutes=60, resolution_minutes=24 * 60)
    start = datetime.datetime(2026, 3, 28, 12, 0, tzinfo=LONDON)
    _first, resolution = due_times(priority=Priority.NORMAL, start=start)
    # (Python's `start + timedelta(hours=24)` in one zone would be wall-clock 12:00, 23 real hours.)
    assert resolution == datetime.datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert resolution - start.astimezone(UTC) == datetime.timedelta(hours=24)
    assert resolution.astimezone(LONDON).strftime("%H:%M %Z") == "13:00 BST"


def test_business_hours_skip_the_night_and_the_sunday_in_kolkata(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    _policy(
        business_hours_only=True,
        day_starts_at=datetime.time(9, 30),
        day_ends_at=datetime.time(18, 30),
        working_days=[1, 2, 3, 4, 5, 6],
        first_response_minutes=4 * 60,
        resolution_minutes=10 * 60,
    )
    # Saturday 17:30 IST: one working hour left that day, Sunday off, Monday from 09:30.
    start = datetime.datetime(2026, 1, 10, 17, 30, tzinfo=KOLKATA)
    first_response, resolution = due_times(priority=Priority.NORMAL, start=start)
    assert first_response.astimezone(KOLKATA) == datetime.datetime(2026, 1, 12, 12, 30, tzinfo=KOLKATA)
    # 1 h Saturday + 9 h Monday = 10 h: Monday's closing time exactly.
    assert resolution.astimezone(KOLKATA) == datetime.datetime(2026, 1, 12, 18, 30, tzinfo=KOLKATA)


def test_business_hours_start_at_opening_when_a_ticket_comes_in_at_night(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    _policy(business_hours_only=True, first_response_minutes=30, resolution_minutes=60)
    start = datetime.datetime(2026, 1, 13, 2, 0, tzinfo=KOLKATA)  # Tuesday, 02:00
    first_response, _resolution = due_times(priority=Priority.NORMAL, start=start)
    assert first_response.astimezone(KOLKATA) == datetime.datetime(2026, 1, 13, 10, 0, tzinfo=KOLKATA)


def test_business_hours_follow_the_clock_change_in_london(settings):
    settings.TIME_ZONE = "Europe/London"
    _policy(
        business_hours_only=True,
        day_starts_at=datetime.time(9, 0),
        day_ends_at=datetime.time(17, 30),
        working_days=[1, 2, 3, 4, 5],
        first_response_minutes=2 * 60,
        resolution_minutes=2 * 60,
    )
    # Friday 27 March 17:00 GMT: half an hour that day; Monday 30 March opens at 09:00 BST (08:00 UTC).
    start = datetime.datetime(2026, 3, 27, 17, 0, tzinfo=LONDON)
    first_response, _resolution = due_times(priority=Priority.NORMAL, start=start)
    assert first_response == datetime.datetime(2026, 3, 30, 9, 30, tzinfo=UTC)
    assert first_response.astimezone(LONDON).strftime("%H:%M %Z") == "10:30 BST"


def test_working_minutes_never_loop_on_a_week_without_working_days():
    with pytest.raises(ValueError):
        add_working_minutes(
            datetime.datetime(2026, 1, 1, tzinfo=UTC),
            60,
            zone=KOLKATA,
            day_starts_at=datetime.time(9),
            day_ends_at=datetime.time(17),
            working_days=[],
        )


def test_a_business_hours_policy_needs_a_working_day_and_a_sane_day():
    policy = SLAPolicy(
        priority="x", first_response_minutes=10, resolution_minutes=5, business_hours_only=True, working_days=[]
    )
    with pytest.raises(ValidationError) as error:
        policy.full_clean()
    assert {"working_days", "resolution_minutes", "priority"} <= set(error.value.message_dict)


def test_a_priority_without_a_policy_has_no_due_times():
    SLAPolicy.objects.filter(priority=Priority.LOW).delete()
    ticket = TicketFactory(priority=Priority.LOW)
    assert ticket.first_response_due_at is None and ticket.resolution_due_at is None


def test_due_times_are_fixed_at_creation_when_the_policy_changes_later():
    ticket = TicketFactory(priority=Priority.NORMAL)
    due = ticket.first_response_due_at
    _policy(first_response_minutes=5, resolution_minutes=10)
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == due


def test_a_user_in_kolkata_and_one_in_london_see_the_same_due_instant(client):
    _policy(first_response_minutes=4 * 60, resolution_minutes=24 * 60)
    kolkata = UserFactory(time_zone="Asia/Kolkata")
    london = UserFactory(time_zone="Europe/London")
    ticket = TicketFactory(contact__owner=kolkata, assignee=london, at=datetime.datetime(2026, 6, 15, 8, 0, tzinfo=UTC))
    assert ticket.first_response_due_at == datetime.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

    seen = {}
    for user in (kolkata, london):
        client.force_login(user)
        page = client.get(reverse("support:ticket_detail", args=[ticket.pk])).content.decode()
        marker = 'data-testid="first-response-due">'
        attribute = page.split(marker)[0].rsplit('datetime="', 1)[1].split('"')[0]
        shown = page.split(marker)[1].split("<")[0]
        seen[user.time_zone] = (datetime.datetime.fromisoformat(attribute), shown)

    (kolkata_at, kolkata_text), (london_at, london_text) = seen["Asia/Kolkata"], seen["Europe/London"]
    assert kolkata_at == london_at == ticket.first_response_due_at
    assert kolkata_at.utcoffset() == datetime.timedelta(hours=5, minutes=30)
    assert london_at.utcoffset() == datetime.timedelta(hours=1)  # British Summer Time in June
    assert ("17:30" in kolkata_text or "5:30" in kolkata_text) and ("13:00" in london_text or "1:00" in london_text)
