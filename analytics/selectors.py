"""Report queries; each reads only what the user may see."""

import datetime

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from contacts.models import Contact
from contacts.selectors import phase_counts
from crm.fiscal import FinancialYear, financial_year


def new_contacts_by_month(*, user, year: FinancialYear) -> list[dict]:
    """Contacts created in each month of the financial year, months in the user's time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(year.start, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(year.end, datetime.time.min, tzinfo=tz)
    rows = (
        Contact.objects.visible_to(user)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["month"].date(): row["n"] for row in rows}
    return [{"month": month, "count": counts.get(month, 0)} for month in year.months()]


def overview(*, user, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    year = financial_year(today)
    return {
        "year": year,
        "new_contacts": new_contacts_by_month(user=user, year=year),
        "phases": phase_counts(user=user),
    }
