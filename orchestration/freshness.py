"""Freshness in trading sessions of each listing's own exchange, never wall-clock hours.

Pure functions over exchange-calendars (XNYS, XHKG; "24/5" for FX). The clock is a value, so
tests and the demo evaluate "as of" any moment. Fundamentals are judged in each company's own
fiscal quarters (fiscal_year_end_month in universe.yml). No Dagster here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

from orchestration.normalize.yahoo import RELEASE_WINDOW_DAYS  # one rule: a quarter is released within it


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


# Fundamentals follow the company's fiscal calendar, never the calendar year. Its fiscal quarters end
# at the month ends of fiscal_year_end_month, +3, +6 and +9 months; a fiscal year is named by the
# calendar year it ends in (Microsoft's FY2026 ends 2026-06-30, Alibaba's 2026-03-31). A 52/53-week
# calendar ends a period on a weekday near the month end (Apple: the last Saturday of September,
# 2025-09-27): a period ending within this many days of a fiscal quarter's month end is that quarter.
PERIOD_END_TOLERANCE_DAYS = 7
# Earnings come weeks after a quarter ends (two at the fastest, usually four to eight): a release
# publishes the latest fiscal quarter that had ended at least this long before it.
RELEASE_MIN_DAYS_AFTER_QUARTER = 7

# How long after a period's end its figures may take to arrive before they count as late:
# - a quarter: RELEASE_WINDOW_DAYS (120), the rule ingest uses to match a release to its quarter,
#   wide enough for a fourth quarter that comes only with the annual report;
# - a fiscal year of an annual-only filer: the annual report's deadline. A US filer's 10-K is due
#   60-90 days after the year ends (the dbt var fundamentals_lag_days_annual is 90 for the same
#   reason); a foreign private issuer's 20-F, and an HKEX listing's annual report, four months.
ANNUAL_REPORT_WINDOW_DAYS_10K = 90
ANNUAL_REPORT_WINDOW_DAYS_FOREIGN = 120


def annual_report_window_days(country: str) -> int:
    """The annual filing window of a company of `country` (universe.yml): a US company files a
    10-K, any other a 20-F or its home market's annual report."""
    return ANNUAL_REPORT_WINDOW_DAYS_10K if country == "US" else ANNUAL_REPORT_WINDOW_DAYS_FOREIGN


@dataclass(frozen=True)
class FiscalQuarter:
    end: date  # the month end the quarter closes at (a 52/53-week period may end up to a week before)
    number: int  # 1-4; the fourth closes the fiscal year
    fiscal_year: int  # the calendar year the fiscal year ends in

    @property
    def label(self) -> str:
        return f"Q{self.number} FY{self.fiscal_year}"

    def following(self, fiscal_year_end_month: int, quarters: int = 1) -> FiscalQuarter:
        month_end = (pd.Timestamp(self.end) + pd.offsets.MonthEnd(3 * quarters)).date()
        return fiscal_quarter_ending(month_end, fiscal_year_end_month)


def fiscal_quarter_ending(period_end: date, fiscal_year_end_month: int) -> FiscalQuarter:
    """The latest fiscal quarter a period ending on `period_end` completes: the last fiscal quarter
    month end on or before period_end + PERIOD_END_TOLERANCE_DAYS (2025-09-27 completes the quarter
    ending 2025-09-30; a period ending mid-quarter completes only the quarter before)."""
    return _fiscal_quarter_on_or_before(period_end + timedelta(days=PERIOD_END_TOLERANCE_DAYS), fiscal_year_end_month)


def fiscal_quarter_released(release: date, fiscal_year_end_month: int) -> FiscalQuarter:
    """The fiscal quarter an earnings release on `release` publishes: the latest one whose month end
    is at least RELEASE_MIN_DAYS_AFTER_QUARTER before it (a release a few days after a quarter's
    end is still the previous quarter's, late)."""
    return _fiscal_quarter_on_or_before(release - timedelta(days=RELEASE_MIN_DAYS_AFTER_QUARTER), fiscal_year_end_month)


def _fiscal_quarter_on_or_before(day: date, fiscal_year_end_month: int) -> FiscalQuarter:
    stamp = pd.Timestamp(day)
    month_end = stamp if stamp.is_month_end else stamp - pd.offsets.MonthEnd(1)
    while (month_end.month - fiscal_year_end_month) % 3:
        month_end -= pd.offsets.MonthEnd(1)
    month = month_end.month
    return FiscalQuarter(
        end=month_end.date(),
        number=(month - fiscal_year_end_month - 1) % 12 // 3 + 1,
        fiscal_year=month_end.year + (1 if month > fiscal_year_end_month else 0),
    )


@dataclass(frozen=True)
class StatementsHeld:
    """What raw.financial_statements holds for a company, as freshness needs it. Only flow periods
    (income and cash-flow statements) date a fiscal period: a balance-sheet row can be an instant
    of any day (a cover-page share count "as of" 2025-01-23) and says nothing about which quarter
    has been reported."""

    last_quarter_end: date | None = None  # the latest quarterly income or cash-flow period end
    last_annual_end: date | None = None  # the latest annual income or cash-flow period end
    last_balance_date: date | None = None  # the latest balance-sheet date (instants included)

    @property
    def any(self) -> bool:
        return any(d is not None for d in (self.last_quarter_end, self.last_annual_end, self.last_balance_date))


def fundamentals_freshness(
    symbol: str,
    calendar_code: str,
    clock: Clock,
    *,
    fiscal_year_end_month: int,
    held: StatementsHeld,
    last_release: date | None = None,
    annual_window_days: int = ANNUAL_REPORT_WINDOW_DAYS_10K,
    grace_days: int = 5,
) -> Freshness:
    """Whether a company's statements have the latest fiscal period that is due, in its own fiscal
    calendar. The latest fiscal quarter held is the later of the latest quarterly and the latest
    annual flow period (a fiscal year's report completes its fourth quarter).

    - With a release date known: statements are stale when a release has passed (more than
      `grace_days` ago) and the fiscal quarter it published (fiscal_quarter_released) is later
      than the latest one held.
    - With none (the sample source, or Yahoo without an earnings calendar), a company with
      quarterly statements expects the fiscal quarter after the one held, RELEASE_WINDOW_DAYS
      after it ends; an annual-only filer (annual reports, no quarterly statements) expects the
      next fiscal year, `annual_window_days` after it ends. The detail says the date was derived so.

    Missing only when nothing at all is held; balance-sheet rows without any flow period are stale.
    """
    today = clock.date_in(calendar(calendar_code).tz.key)

    def stale(last: date | None, expected: date | None, detail: str) -> Freshness:
        if expected is None:
            return Freshness(symbol, "fundamentals", calendar_code, last, None, None, "stale", detail)
        behind = sessions_after(calendar_code, expected, latest_closed_session(calendar_code, clock))
        return Freshness(symbol, "fundamentals", calendar_code, last, expected, behind, "stale", detail)

    def fresh(last: date, detail: str) -> Freshness:
        return Freshness(symbol, "fundamentals", calendar_code, last, last, 0, "fresh", detail)

    if not held.any:
        return Freshness(symbol, "fundamentals", calendar_code, None, None, None, "missing", "no statements")
    flows = [d for d in (held.last_quarter_end, held.last_annual_end) if d is not None]
    if not flows:
        return stale(None, None, f"only balance-sheet rows (the latest dated {held.last_balance_date}): no income or "
                                 "cash-flow period dates a fiscal period")  # fmt: skip
    last_end = max(flows)
    from_annual = held.last_annual_end == last_end and (held.last_quarter_end is None or held.last_quarter_end < last_end)
    quarter = fiscal_quarter_ending(last_end, fiscal_year_end_month)
    # A 52/53-week calendar ends its periods near, not at, the month end: the next one is named by
    # its month end ("about"), and is due counting from that month end (never early).
    about = "about " if last_end != quarter.end else ""
    holds = f"holds {_describe(quarter, last_end, from_annual)}"

    if last_release is not None:
        released = fiscal_quarter_released(last_release, fiscal_year_end_month)
        what = f"the fiscal quarter ending {about}{released.end} ({released.label})"
        if last_release + timedelta(days=grace_days) > today:
            return fresh(last_end, f"earnings released {last_release} ({what}), within the {grace_days}-day "
                                   f"grace period; {holds}")  # fmt: skip
        if quarter.end >= released.end:
            return fresh(last_end, f"has what the earnings release of {last_release} published, {what}; {holds}")
        return stale(last_end, last_release, f"earnings released {last_release} published {what}, still absent; {holds}")

    if held.last_quarter_end is not None:
        expected, window = quarter.following(fiscal_year_end_month), RELEASE_WINDOW_DAYS
        what = f"the fiscal quarter ending {about}{expected.end} ({expected.label})"
        why = f"{window} days after its end"
    else:
        expected, window = quarter.following(fiscal_year_end_month, quarters=4), annual_window_days
        what = f"the fiscal year ending {about}{expected.end} (FY{expected.fiscal_year})"
        why = f"{window} days after its end; annual reports only, no quarterly statements held"
    due = expected.end + timedelta(days=window)
    if today <= due:
        return fresh(last_end, f"no earnings release date known; {what} is not due before {due} ({why}); {holds}")
    return stale(last_end, due, f"no earnings release date known; {what} was due by {due} ({why}) "
                                f"and is still absent; {holds}")  # fmt: skip


def _describe(quarter: FiscalQuarter, period_end: date, annual: bool) -> str:
    """The fiscal period held, in words: "the fiscal quarter ending 2025-12-31 (Q3 FY2026)", "the
    fiscal year ending 2025-09-27 (FY2025)"."""
    if annual:
        return f"the fiscal year ending {period_end} (FY{quarter.fiscal_year})"
    return f"the fiscal quarter ending {period_end} ({quarter.label})"
