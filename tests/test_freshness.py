"""Freshness counts missed sessions of the listing's own exchange, at an injected clock."""

from datetime import date, datetime, timedelta, timezone

from orchestration.freshness import (
    Clock,
    fundamentals_freshness,
    latest_closed_session,
    series_freshness,
    three_months_after,
)

HKT = timezone(timedelta(hours=8))
EST = timezone(timedelta(hours=-5))


def test_hk_data_from_before_lunar_new_year_is_fresh_the_day_after_the_holidays():
    # HKEX: half day on 2025-01-28, closed 29-31 January, reopens Monday 3 February.
    for clock in (Clock(date(2025, 1, 31)), Clock(date(2025, 2, 2)), Clock(datetime(2025, 2, 3, 10, 0, tzinfo=HKT))):
        result = series_freshness("9988.HK", "prices", "XHKG", date(2025, 1, 28), clock)
        assert (result.status, result.expected_data_date, result.sessions_behind) == ("fresh", date(2025, 1, 28), 0)
    # After Monday's close the 3 February session is due
    late = series_freshness("9988.HK", "prices", "XHKG", date(2025, 1, 28), Clock(datetime(2025, 2, 3, 16, 30, tzinfo=HKT)))
    assert (late.status, late.sessions_behind, late.expected_data_date) == ("stale", 1, date(2025, 2, 3))


def test_a_us_listing_missing_the_close_before_thanksgiving_is_one_session_stale_on_the_friday():
    # NYSE: Wednesday 27 November 2024 is a session, Thursday is Thanksgiving, Friday closes at 13:00.
    friday_morning = Clock(datetime(2024, 11, 29, 10, 0, tzinfo=EST))
    result = series_freshness("MSFT", "prices", "XNYS", date(2024, 11, 26), friday_morning)
    assert (result.status, result.sessions_behind, result.expected_data_date) == ("stale", 1, date(2024, 11, 27))
    # With Wednesday's close, Thanksgiving itself never makes anything stale
    assert series_freshness("MSFT", "prices", "XNYS", date(2024, 11, 27), Clock(date(2024, 11, 28))).status == "fresh"
    # After Friday's 13:00 close, Friday is due as well
    assert series_freshness("MSFT", "prices", "XNYS", date(2024, 11, 26), Clock(datetime(2024, 11, 29, 13, 30, tzinfo=EST))).sessions_behind == 2


def test_a_symbol_with_no_rows_is_missing():
    result = series_freshness("^IXIC", "prices", "XNYS", None, Clock(date(2025, 1, 31)))
    assert (result.status, result.last_data_date, result.sessions_behind) == ("missing", None, None)


def test_fx_follows_the_24_5_week():
    # Friday's FX bar is the latest on a Sunday; Monday's is due once Monday is over.
    assert series_freshness("USDHKD=X", "prices", "24/5", date(2025, 1, 10), Clock(date(2025, 1, 12))).status == "fresh"
    assert series_freshness("USDHKD=X", "prices", "24/5", date(2025, 1, 10), Clock(date(2025, 1, 13))).sessions_behind == 1


def test_a_quarter_whose_earnings_date_passed_ten_days_ago_and_is_absent_is_stale():
    clock = Clock(date(2025, 2, 10))
    released = date(2025, 1, 31)  # reports the quarter ending 2024-12-31
    stale = fundamentals_freshness("ACME", "XNYS", date(2024, 9, 30), released, clock)
    assert stale.status == "stale" and stale.expected_data_date == released and stale.sessions_behind == 6
    assert fundamentals_freshness("ACME", "XNYS", date(2024, 12, 31), released, clock).status == "fresh"
    # within the 5-day grace after the release, not yet stale
    assert fundamentals_freshness("ACME", "XNYS", date(2024, 9, 30), released, Clock(date(2025, 2, 3))).status == "fresh"
    assert fundamentals_freshness("ACME", "XNYS", None, released, clock).status == "missing"


def test_with_no_release_date_known_the_next_quarter_is_due_120_days_after_its_end():
    # ACME holds the quarter to 2024-09-30; the next ends 2024-12-31 and is due 120 days later:
    # 2024-12-31 + 31 (Jan) + 28 (Feb) + 31 (Mar) + 30 (Apr) = 2025-04-30.
    on_due_date = fundamentals_freshness("ACME", "XNYS", date(2024, 9, 30), None, Clock(date(2025, 4, 30)))
    assert (on_due_date.status, on_due_date.sessions_behind) == ("fresh", 0)
    assert "no earnings release date known" in on_due_date.detail and "2025-04-30" in on_due_date.detail
    # XNYS sessions after 2025-04-30 through Friday 2025-05-09: 1-2 May, 5-9 May = 7
    late = fundamentals_freshness("ACME", "XNYS", date(2024, 9, 30), None, Clock(date(2025, 5, 9)))
    assert (late.status, late.last_data_date, late.expected_data_date, late.sessions_behind) == (
        "stale", date(2024, 9, 30), date(2025, 4, 30), 7)  # fmt: skip
    assert "no earnings release date known" in late.detail and "2024-12-31" in late.detail
    # a Hong Kong filer: quarter to 2024-12-31 held, the next ends 2025-03-31, due
    # 2025-03-31 + 30 (Apr) + 31 (May) + 30 (Jun) + 29 = 2025-07-29; XHKG sessions 30 Jul - 1 Aug = 3
    hk = fundamentals_freshness("9999.HK", "XHKG", date(2024, 12, 31), None, Clock(date(2025, 8, 1)))
    assert (hk.status, hk.expected_data_date, hk.sessions_behind) == ("stale", date(2025, 7, 29), 3)


def test_the_quarter_after_a_month_end_ends_at_a_month_end():
    assert three_months_after(date(2024, 9, 30)) == date(2024, 12, 31)
    assert three_months_after(date(2024, 11, 30)) == date(2025, 2, 28)
    # a 52-53 week fiscal year ends on a weekday, not a month end: the same day three months on
    assert three_months_after(date(2024, 9, 28)) == date(2024, 12, 28)

def test_latest_closed_session_uses_each_exchanges_own_close():
    # 2025-01-06 12:00 UTC is 20:00 in Hong Kong (closed) and 07:00 in New York (not open yet)
    clock = Clock(datetime(2025, 1, 6, 12, 0, tzinfo=timezone.utc))
    assert latest_closed_session("XHKG", clock) == date(2025, 1, 6)
    assert latest_closed_session("XNYS", clock) == date(2025, 1, 3)
