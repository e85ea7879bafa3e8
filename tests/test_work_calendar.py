import logging
from datetime import date

import pytest

from bot.tickets.calendar import CalendarFileError, WorkCalendar


def test_national_day_holiday_is_skipped():
    cal = WorkCalendar()
    # 2026-09-30 (Wed) + 1 working day: 1–7 October are holidays, the 8th is a workday.
    assert cal.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)


def test_make_up_weekend_workday_counts():
    assert WorkCalendar().is_workday(date(2026, 10, 10))  # a Saturday worked for National Day


def test_a_year_beyond_the_package_uses_the_holiday_file(tmp_path):
    f = tmp_path / "holidays.yml"
    f.write_text("holidays: [2027-01-01]\nworkdays: [2027-01-02]\n")
    cal = WorkCalendar.from_file(f)
    assert not cal.is_workday(date(2027, 1, 1))  # Friday, a holiday
    assert cal.is_workday(date(2027, 1, 2))  # Saturday, a make-up workday
    # 2026-12-31 (Thu) + 1 → skips New Year's Day, lands on the Saturday make-up day
    assert cal.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 2)


def test_without_any_data_weekdays_count_and_a_warning_is_logged(caplog):
    cal = WorkCalendar()
    with caplog.at_level(logging.WARNING):
        assert cal.add_workdays(date(2031, 1, 3), 1) == date(2031, 1, 6)  # Fri → Mon
        cal.add_workdays(date(2031, 2, 3), 3)
    assert sum("2031" in r.getMessage() for r in caplog.records) == 1


def test_a_malformed_holiday_file_names_itself(tmp_path):
    f = tmp_path / "holidays.yml"
    f.write_text("holidays: [not-a-date]\n")
    with pytest.raises(CalendarFileError, match="holidays.yml"):
        WorkCalendar.from_file(f)


def test_the_shipped_holiday_file_loads():
    from pathlib import Path

    shipped = Path(__file__).resolve().parent.parent / "config" / "holidays.yml"
    cal = WorkCalendar.from_file(shipped)
    assert cal.is_workday(date(2026, 10, 8))


def test_staffed_hours_and_the_next_opening():
    from datetime import datetime

    from bot.tickets.calendar import CHINA

    cal = WorkCalendar()
    friday_evening = datetime(2026, 12, 4, 17, 30, tzinfo=CHINA)
    assert cal.staffed(datetime(2026, 12, 4, 9, 0, tzinfo=CHINA))
    assert not cal.staffed(friday_evening)
    assert not cal.staffed(datetime(2026, 12, 4, 8, 29, tzinfo=CHINA))
    assert cal.next_opening(friday_evening) == datetime(2026, 12, 7, 8, 30, tzinfo=CHINA)
    early = datetime(2026, 12, 7, 7, 0, tzinfo=CHINA)  # Monday before opening
    assert cal.next_opening(early) == datetime(2026, 12, 7, 8, 30, tzinfo=CHINA)
