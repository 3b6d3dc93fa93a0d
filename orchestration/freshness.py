"""Freshness in trading sessions of each listing's own exchange, never wall-clock hours.

Pure functions over exchange-calendars (XNYS, XHKG; "24/5" for FX). The clock is a value, so
tests and the demo evaluate "as of" any moment. No Dagster here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

from orchestration.normalize.yahoo import RELEASE_WINDOW_DAYS  # one rule: a release publishes the quarter within it


@dataclass(frozen=True)
class Clock:
    """The moment freshness is evaluated at: a timestamp, or a whole date (its last instant, in
    each exchange's own time zone: "as of 2025-02-17" means after that day's close everywhere)."""

    at: datetime | date

    @classmethod
    def parse(cls, text: str | None) -> Clock:
        if not text:
            return cls(datetime.now(timezone.utc))
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text)
            return cls(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
        return cls(date.fromisoformat(text))

    def moment_in(self, tz: str) -> pd.Timestamp:
        if isinstance(self.at, datetime):
            return pd.Timestamp(self.at).tz_convert(tz)
        # the end of that day: the next midnight (a 24/5 FX session closes exactly then)
        return pd.Timestamp(self.at).tz_localize(tz) + pd.Timedelta(days=1)

    def date_in(self, tz: str) -> date:
        """The clock's calendar date in a time zone (a whole-date clock is that date everywhere)."""
        if isinstance(self.at, datetime):
            return self.moment_in(tz).date()
        return self.at

    @property
    def utc(self) -> datetime:
        return self.moment_in("UTC").to_pydatetime().replace(tzinfo=None)


@lru_cache(maxsize=None)
def calendar(code: str) -> xcals.ExchangeCalendar:
    return xcals.get_calendar(code)


def session_open_local(calendar_code: str) -> str:
    """When the exchange's regular session opens, local time (HH:MM), from exchange-calendars."""
    cal = calendar(calendar_code)
    session = cal.sessions[-1]
    return cal.session_open(session).tz_convert(cal.tz).strftime("%H:%M")


def latest_closed_session(calendar_code: str, clock: Clock) -> date:
    """The latest session of the calendar whose close has passed at the clock's moment."""
    cal = calendar(calendar_code)
    moment = clock.moment_in("UTC")
    day = clock.date_in(cal.tz.key)
    sessions = cal.sessions_in_range(pd.Timestamp(day) - pd.Timedelta(days=20), pd.Timestamp(day) + pd.Timedelta(days=1))
    closes = cal.closes.loc[sessions]
    closed = sessions[(closes <= moment).to_numpy()]
    return closed[-1].date()


def sessions_after(calendar_code: str, after: date, through: date) -> int:
    """How many sessions fall in (after, through]: the sessions a series is behind."""
    if through <= after:
        return 0
    sessions = calendar(calendar_code).sessions_in_range(pd.Timestamp(after) + pd.Timedelta(days=1), pd.Timestamp(through))
    return len(sessions)


@dataclass(frozen=True)
class Freshness:
    symbol: str
    dataset: str  # prices | profile | fundamentals
    calendar: str
    last_data_date: date | None
    expected_data_date: date | None
    sessions_behind: int | None
    status: str  # fresh | stale | missing
    detail: str


def series_freshness(symbol: str, dataset: str, calendar_code: str, last_data_date: date | None, clock: Clock) -> Freshness:
    """A daily series is fresh when it has the latest session that has closed, stale when it
    misses one or more, missing when it has no data at all."""
    expected = latest_closed_session(calendar_code, clock)
    if last_data_date is None:
        return Freshness(symbol, dataset, calendar_code, None, expected, None, "missing", "no rows")
    behind = sessions_after(calendar_code, last_data_date, expected)
    status = "fresh" if behind == 0 else "stale"
    detail = "up to date" if behind == 0 else f"{behind} {calendar_code} session(s) behind"
    return Freshness(symbol, dataset, calendar_code, last_data_date, expected, behind, status, detail)


def fundamentals_freshness(
    symbol: str,
    calendar_code: str,
    last_quarter_end: date | None,
    last_release: date | None,
    clock: Clock,
    grace_days: int = 5,
) -> Freshness:
    """Statements are stale when a quarter whose earnings release has passed (more than
    `grace_days` ago) is still absent: a release at R publishes a quarter that ended within
    RELEASE_WINDOW_DAYS before R, so the latest quarter held must end on or after R minus that.

    With no release date known (the sample source, or Yahoo without an earnings calendar), the
    quarter after the latest one held is expected at the latest RELEASE_WINDOW_DAYS after it ends;
    the detail says the date was derived so, never that the data is known to be current."""
    today = clock.date_in(calendar(calendar_code).tz.key)
    if last_quarter_end is None:
        return Freshness(symbol, "fundamentals", calendar_code, None, None, None, "missing", "no quarterly statements")
    if last_release is None:
        next_quarter_end = three_months_after(last_quarter_end)
        due = next_quarter_end + timedelta(days=RELEASE_WINDOW_DAYS)
        if today <= due:
            return Freshness(symbol, "fundamentals", calendar_code, last_quarter_end, last_quarter_end, 0, "fresh",
                             f"no earnings release date known; the quarter ending {next_quarter_end} is not due "
                             f"before {due} ({RELEASE_WINDOW_DAYS} days after its end)")  # fmt: skip
        behind = sessions_after(calendar_code, due, latest_closed_session(calendar_code, clock))
        return Freshness(symbol, "fundamentals", calendar_code, last_quarter_end, due, behind, "stale",
                         f"no earnings release date known; the quarter ending {next_quarter_end} was due by {due} "
                         f"({RELEASE_WINDOW_DAYS} days after its end) and is still absent")  # fmt: skip
    if last_release + timedelta(days=grace_days) > today:
        return Freshness(symbol, "fundamentals", calendar_code, last_quarter_end, last_quarter_end, 0, "fresh",
                         f"earnings released {last_release}, within the {grace_days}-day grace period")  # fmt: skip
    if last_quarter_end >= last_release - timedelta(days=RELEASE_WINDOW_DAYS):
        return Freshness(symbol, "fundamentals", calendar_code, last_quarter_end, last_quarter_end, 0, "fresh",
                         f"has the quarter released on {last_release}")  # fmt: skip
    behind = sessions_after(calendar_code, last_release, latest_closed_session(calendar_code, clock))
    return Freshness(
        symbol, "fundamentals", calendar_code, last_quarter_end, last_release, behind, "stale",
        f"earnings released {last_release}; quarters after {last_quarter_end} still absent",
    )  # fmt: skip


def three_months_after(period_end: date) -> date:
    """The end of the quarter after one ending on `period_end` (a month end stays a month end)."""
    day = pd.Timestamp(period_end)
    if day.is_month_end:
        return (day + pd.offsets.MonthEnd(3)).date()
    return (day + pd.DateOffset(months=3)).date()
