"""Working days for ticket deadlines: the Chinese public-holiday calendar, with fallbacks.

1. ``chinese_calendar`` (the State Council's published holidays and make-up workdays);
2. for years it does not cover yet (its data ends at the last published year), an
   administrator-maintained file (``config/holidays.yml``) of holidays and make-up
   workdays;
3. otherwise Monday–Friday, with a warning in the log (once per year) — never a crash.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
#: when staff answer handed-over conversations (China time, on working days)
OPENS, CLOSES = time(8, 30), time(17, 0)


class CalendarFileError(ValueError):
    """The holiday file is malformed; the message names the file and entry."""


@dataclass
class WorkCalendar:
    holidays: set[date] = field(default_factory=set)  # from the administrator's file
    workdays: set[date] = field(default_factory=set)  # make-up working weekends
    file_years: set[int] = field(default_factory=set)
    _warned: set[int] = field(default_factory=set)

    @classmethod
    def from_file(cls, path: Path | None) -> WorkCalendar:
        if path is None or not path.exists():
            return cls()
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CalendarFileError(f"{path}: cannot read ({exc})") from exc
        cal = cls()
        for key, target in (("holidays", cal.holidays), ("workdays", cal.workdays)):
            for i, item in enumerate(raw.get(key) or [], start=1):
                if not isinstance(item, date):
                    raise CalendarFileError(f"{path}: {key} entry {i} ({item!r}) is not a "
                                            "date like 2027-01-01")
                target.add(item)
                cal.file_years.add(item.year)
        return cal

    def is_workday(self, day: date) -> bool:
        import chinese_calendar

        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # a year the package has no data for yet
            pass
        if day.year in self.file_years:
            return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)
        if day.year not in self._warned:
            self._warned.add(day.year)
            logger.warning("No holiday data for %d (chinese_calendar, holiday file): "
                           "counting Monday-Friday as working days.", day.year)
        return day.weekday() < 5

    def staffed(self, at: datetime) -> bool:
        """Whether staff are at work at ``at``: a working day, 8:30–17:00 China time."""
        local = at.astimezone(CHINA)
        return self.is_workday(local.date()) and OPENS <= local.time() < CLOSES

    def next_opening(self, at: datetime) -> datetime:
        """When staff are next at work after ``at`` (China time)."""
        local = at.astimezone(CHINA)
        day = local.date() if local.time() < OPENS else local.date() + timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return datetime.combine(day, OPENS, CHINA)

    def add_workdays(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
        current, left = start, days
        while left > 0:
            current += timedelta(days=1)
            if self.is_workday(current):
                left -= 1
        return current
