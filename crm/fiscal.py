"""The business calendar: financial years that start in a configurable month (April in India)."""

import datetime
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class FinancialYear:
    start: datetime.date  # first day, inclusive
    end: datetime.date  # first day of the next year, exclusive

    @property
    def label(self) -> str:
        """'FY 2026-27' for a year that starts in April 2026; 'FY 2026' when it is a calendar year."""
        if self.start.month == 1:
            return f"FY {self.start.year}"
        return f"FY {self.start.year}-{str(self.end.year)[-2:]}"

    def months(self) -> list[datetime.date]:
        """The first day of each of its twelve months."""
        return [_add_months(self.start, n) for n in range(12)]


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def financial_year(day: datetime.date, start_month: int | None = None) -> FinancialYear:
    """The financial year that `day` falls in."""
    start_month = start_month or settings.FINANCIAL_YEAR_START_MONTH
    year = day.year if day.month >= start_month else day.year - 1
    start = datetime.date(year, start_month, 1)
    return FinancialYear(start=start, end=_add_months(start, 12))
