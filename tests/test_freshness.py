"""Freshness counts missed sessions of the listing's own exchange, at an injected clock."""

from datetime import date, datetime, timedelta, timezone

from orchestration.freshness import (
    Clock,
    FiscalQuarter,
    StatementsHeld,
    annual_report_window_days,
    fiscal_quarter_ending,
    fiscal_quarter_released,
    fundamentals_freshness,
    latest_closed_session,
    series_freshness,
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


def quarterly(quarter_end: date, annual_end: date | None = None, balance: date | None = None) -> StatementsHeld:
    return StatementsHeld(last_quarter_end=quarter_end, last_annual_end=annual_end, last_balance_date=balance)


def annual_only(annual_end: date, balance: date | None = None) -> StatementsHeld:
    return StatementsHeld(last_quarter_end=None, last_annual_end=annual_end, last_balance_date=balance)


def test_fiscal_quarters_follow_the_fiscal_year_end_month_and_52_53_week_ends():
    cases = [
        # (period end, fiscal_year_end_month) -> (quarter's month end, number, fiscal year)
        ((date(2025, 12, 31), 3), (date(2025, 12, 31), 3, 2026)),  # Alibaba: Apr-Jun Q1, ..., Oct-Dec Q3 of FY to Mar 2026
        ((date(2025, 12, 31), 6), (date(2025, 12, 31), 2, 2026)),  # Microsoft: Jul-Sep Q1, Oct-Dec Q2 of FY to Jun 2026
        ((date(2024, 12, 31), 12), (date(2024, 12, 31), 4, 2024)),  # a calendar year: December closes Q4
        ((date(2025, 9, 27), 9), (date(2025, 9, 30), 4, 2025)),  # Apple's FY2025 ended Saturday 27 September
        ((date(2025, 12, 27), 9), (date(2025, 12, 31), 1, 2026)),  # Apple's Q1 FY2026 ended Saturday 27 December
        ((date(2025, 10, 26), 1), (date(2025, 10, 31), 3, 2026)),  # NVIDIA: Feb-Apr Q1, ..., Aug-Oct Q3 of FY to Jan 2026
        ((date(2026, 1, 25), 1), (date(2026, 1, 31), 4, 2026)),  # NVIDIA's FY2026 ended Sunday 25 January 2026
        ((date(2025, 10, 3), 9), (date(2025, 9, 30), 4, 2025)),  # a week past the month end is still that quarter
        # a cover-page date mid-quarter completes only the quarter before it
        ((date(2025, 1, 23), 6), (date(2024, 12, 31), 2, 2025)),
    ]
    for (period_end, month), (end, number, year) in cases:
        assert fiscal_quarter_ending(period_end, month) == FiscalQuarter(end, number, year), (period_end, month)
    # The next quarter ends three month ends later: 2024-11-30 (Q3 FY2025 of a February year) -> 2025-02-28 (Q4)
    assert fiscal_quarter_ending(date(2024, 11, 30), 2).following(2) == FiscalQuarter(date(2025, 2, 28), 4, 2025)
    assert FiscalQuarter(date(2025, 9, 30), 4, 2025).following(9, quarters=4) == FiscalQuarter(date(2026, 9, 30), 4, 2026)
    assert FiscalQuarter(date(2025, 12, 31), 3, 2026).label == "Q3 FY2026"


def test_an_earnings_release_publishes_the_latest_fiscal_quarter_ended_a_week_before_it():
    # NVIDIA's release of 2026-02-25 publishes the quarter to 2026-01-25 (month end 2026-01-31, 25 days before)
    assert fiscal_quarter_released(date(2026, 2, 25), 1) == FiscalQuarter(date(2026, 1, 31), 4, 2026)
    # a release on 2025-04-03, three days after March ends, is still the December quarter's
    assert fiscal_quarter_released(date(2025, 4, 3), 12) == FiscalQuarter(date(2024, 12, 31), 4, 2024)


def test_a_quarter_whose_earnings_date_passed_ten_days_ago_and_is_absent_is_stale():
    clock = Clock(date(2025, 2, 10))
    released = date(2025, 1, 31)  # reports the quarter ending 2024-12-31 (Q4 FY2024 of a calendar year)
    stale = fundamentals_freshness("ACME", "XNYS", clock, fiscal_year_end_month=12, held=quarterly(date(2024, 9, 30)),
                                   last_release=released)  # fmt: skip
    # XNYS sessions after 2025-01-31 through Monday 2025-02-10: 3-7 February (5) and the 10th = 6
    assert stale.status == "stale" and stale.expected_data_date == released and stale.sessions_behind == 6
    assert "the fiscal quarter ending 2024-12-31 (Q4 FY2024), still absent" in stale.detail
    assert "holds the fiscal quarter ending 2024-09-30 (Q3 FY2024)" in stale.detail
    has_it = fundamentals_freshness("ACME", "XNYS", clock, fiscal_year_end_month=12, held=quarterly(date(2024, 12, 31)),
                                    last_release=released)  # fmt: skip
    assert has_it.status == "fresh"
    # within the 5-day grace after the release (2025-01-31 + 5 = 2025-02-05 > 2025-02-03), not yet stale
    assert fundamentals_freshness("ACME", "XNYS", Clock(date(2025, 2, 3)), fiscal_year_end_month=12,
                                  held=quarterly(date(2024, 9, 30)), last_release=released).status == "fresh"  # fmt: skip
    assert fundamentals_freshness("ACME", "XNYS", clock, fiscal_year_end_month=12, held=StatementsHeld(),
                                  last_release=released).status == "missing"  # fmt: skip


def test_a_release_weeks_after_a_quarter_end_publishes_that_quarter():
    # 2025-04-25 is 25 days after Q1 2025 ended (2025-03-31): that quarter is due, though the
    # December quarter held ended only 115 days before the release.
    stale = fundamentals_freshness("ACME", "XNYS", Clock(date(2025, 5, 5)), fiscal_year_end_month=12,
                                   held=quarterly(date(2024, 12, 31)), last_release=date(2025, 4, 25))  # fmt: skip
    # XNYS sessions after 2025-04-25 through Monday 2025-05-05: 28 April - 2 May (5) and the 5th = 6
    assert (stale.status, stale.expected_data_date, stale.sessions_behind) == ("stale", date(2025, 4, 25), 6)
    assert "the fiscal quarter ending 2025-03-31 (Q1 FY2025), still absent" in stale.detail


def test_an_annual_report_newer_than_the_last_quarter_completes_its_fourth_quarter():
    # Alphabet (calendar fiscal year) holds the quarter to 2025-03-31 and the FY2025 10-K to 2025-12-31:
    # the year's report covers Q4 FY2025, so next is Q1 FY2026 to 2026-03-31, due 2026-03-31 + 120 = 2026-07-29.
    googl = fundamentals_freshness("GOOGL", "XNYS", Clock(date(2026, 4, 10)), fiscal_year_end_month=12,
                                   held=quarterly(date(2025, 3, 31), annual_end=date(2025, 12, 31)))  # fmt: skip
    assert (googl.status, googl.last_data_date) == ("fresh", date(2025, 12, 31))
    assert "the fiscal quarter ending 2026-03-31 (Q1 FY2026) is not due before 2026-07-29" in googl.detail
    assert "holds the fiscal year ending 2025-12-31 (FY2025)" in googl.detail


def test_a_release_of_a_52_53_week_quarter_needs_that_fiscal_quarter():
    # NVIDIA (fiscal year to January) holds Q3 FY2026 to 2025-10-26; its release of 2026-02-25
    # published Q4 FY2026 (to 2026-01-25, month end 2026-01-31): stale. XNYS sessions after
    # 2026-02-25 through Tuesday 2026-03-10: 26-27 February (2), 2-6 March (5), 9-10 March (2) = 9
    kwargs = {"fiscal_year_end_month": 1, "last_release": date(2026, 2, 25)}
    stale = fundamentals_freshness("NVDA", "XNYS", Clock(date(2026, 3, 10)), held=quarterly(date(2025, 10, 26)), **kwargs)
    assert (stale.status, stale.expected_data_date, stale.sessions_behind) == ("stale", date(2026, 2, 25), 9)
    assert "published the fiscal quarter ending about 2026-01-31 (Q4 FY2026), still absent" in stale.detail
    held = fundamentals_freshness("NVDA", "XNYS", Clock(date(2026, 3, 10)), held=quarterly(date(2026, 1, 25)), **kwargs)
    assert (held.status, held.last_data_date) == ("fresh", date(2026, 1, 25))


def test_with_no_release_date_known_the_next_quarter_is_due_120_days_after_its_end():
    # ACME (fiscal year to September) holds the quarter to 2024-09-30 (Q4 FY2024); the next, Q1 FY2025,
    # ends 2024-12-31 and is due 120 days later: 2024-12-31 + 31 (Jan) + 28 (Feb) + 31 (Mar) + 30 (Apr) = 2025-04-30.
    acme = {"fiscal_year_end_month": 9, "held": quarterly(date(2024, 9, 30))}
    on_due_date = fundamentals_freshness("ACME", "XNYS", Clock(date(2025, 4, 30)), **acme)
    assert (on_due_date.status, on_due_date.sessions_behind) == ("fresh", 0)
    assert "no earnings release date known" in on_due_date.detail and "2025-04-30" in on_due_date.detail
    # XNYS sessions after 2025-04-30 through Friday 2025-05-09: 1-2 May, 5-9 May = 7
    late = fundamentals_freshness("ACME", "XNYS", Clock(date(2025, 5, 9)), **acme)
    assert (late.status, late.last_data_date, late.expected_data_date, late.sessions_behind) == (
        "stale", date(2024, 9, 30), date(2025, 4, 30), 7)  # fmt: skip
    assert "the fiscal quarter ending 2024-12-31 (Q1 FY2025) was due by 2025-04-30" in late.detail
    # a Hong Kong filer (fiscal year to March): quarter to 2024-12-31 (Q3 FY2025) held, the next ends
    # 2025-03-31, due 2025-03-31 + 30 (Apr) + 31 (May) + 30 (Jun) + 29 = 2025-07-29; XHKG sessions 30 Jul - 1 Aug = 3
    hk = fundamentals_freshness("9999.HK", "XHKG", Clock(date(2025, 8, 1)), fiscal_year_end_month=3,
                                held=quarterly(date(2024, 12, 31)))  # fmt: skip
    assert (hk.status, hk.expected_data_date, hk.sessions_behind) == ("stale", date(2025, 7, 29), 3)
    assert "the fiscal quarter ending 2025-03-31 (Q4 FY2025)" in hk.detail


def test_a_march_fiscal_year_expects_its_fourth_quarter_to_march():
    # Alibaba (fiscal year to March) holds Q3 FY2026 to 2025-12-31 and the FY2025 annual report.
    # Next: Q4 FY2026 to 2026-03-31, due 2026-03-31 + 30 (Apr) + 31 (May) + 30 (Jun) + 29 (Jul) = 2026-07-29.
    baba = {"fiscal_year_end_month": 3, "held": quarterly(date(2025, 12, 31), annual_end=date(2025, 3, 31))}
    early = fundamentals_freshness("BABA", "XNYS", Clock(date(2026, 4, 10)), **baba)
    assert (early.status, early.last_data_date, early.sessions_behind) == ("fresh", date(2025, 12, 31), 0)
    assert "the fiscal quarter ending 2026-03-31 (Q4 FY2026) is not due before 2026-07-29" in early.detail
    assert "holds the fiscal quarter ending 2025-12-31 (Q3 FY2026)" in early.detail
    assert fundamentals_freshness("BABA", "XNYS", Clock(date(2026, 7, 29)), **baba).status == "fresh"
    # Thursday 2026-07-30 is the first XNYS session after the due date
    late = fundamentals_freshness("BABA", "XNYS", Clock(date(2026, 7, 30)), **baba)
    assert (late.status, late.expected_data_date, late.sessions_behind) == ("stale", date(2026, 7, 29), 1)
    assert "the fiscal quarter ending 2026-03-31 (Q4 FY2026) was due by 2026-07-29" in late.detail


def test_a_june_fiscal_year_ignores_a_cover_page_share_count_date():
    # Microsoft (fiscal year to June) holds Q2 FY2026 to 2025-12-31 and FY2025 to 2025-06-30; its
    # 10-Q cover page counts shares "as of" 2026-01-23, a balance instant that is no period end.
    # Next: Q3 FY2026 to 2026-03-31, due 2026-03-31 + 120 = 2026-07-29 (as for Alibaba above).
    msft = {"fiscal_year_end_month": 6,
            "held": quarterly(date(2025, 12, 31), annual_end=date(2025, 6, 30), balance=date(2026, 1, 23))}  # fmt: skip
    result = fundamentals_freshness("MSFT", "XNYS", Clock(date(2026, 4, 10)), **msft)
    assert (result.status, result.last_data_date) == ("fresh", date(2025, 12, 31))
    assert "the fiscal quarter ending 2026-03-31 (Q3 FY2026) is not due before 2026-07-29" in result.detail
    assert "2026-01-23" not in result.detail and "2026-04-23" not in result.detail  # no "quarter" from the cover page
    # Holding only Q1 FY2026 (to 2025-09-30): Q2 FY2026 ends 2025-12-31, due 2025-12-31 + 31 (Jan) +
    # 28 (Feb) + 31 (Mar) + 30 (Apr) = 2026-04-30; on Friday 2026-05-01 one session late, the newer
    # cover-page date notwithstanding.
    older = {"fiscal_year_end_month": 6,
             "held": quarterly(date(2025, 9, 30), annual_end=date(2025, 6, 30), balance=date(2026, 1, 23))}  # fmt: skip
    late = fundamentals_freshness("MSFT", "XNYS", Clock(date(2026, 5, 1)), **older)
    assert (late.status, late.last_data_date, late.expected_data_date, late.sessions_behind) == (
        "stale", date(2025, 9, 30), date(2026, 4, 30), 1)  # fmt: skip
    assert "the fiscal quarter ending 2025-12-31 (Q2 FY2026) was due by 2026-04-30" in late.detail


def test_only_a_cover_page_count_is_stale_not_missing_and_dates_no_period():
    cover_page_only = StatementsHeld(last_balance_date=date(2026, 1, 23))
    result = fundamentals_freshness("MSFT", "XNYS", Clock(date(2026, 4, 10)), fiscal_year_end_month=6, held=cover_page_only)
    assert (result.status, result.last_data_date, result.expected_data_date, result.sessions_behind) == (
        "stale", None, None, None)  # fmt: skip
    assert "only balance-sheet rows" in result.detail


def test_an_annual_only_filer_with_a_52_53_week_year_expects_its_next_10k():
    # Apple (fiscal year to the last Saturday of September) holds only 10-K figures, the latest FY2025
    # to 2025-09-27, and a cover-page count as of 2025-10-17. Its FY2026 ends about 2026-09-30
    # (Saturday 2026-09-26); counting from the month end, the 10-K is due 2026-09-30 + 31 (Oct) + 30 (Nov)
    # + 29 = 2026-12-29 (90 days).
    aapl = {"fiscal_year_end_month": 9, "held": annual_only(date(2025, 9, 27), balance=date(2025, 10, 17)),
            "annual_window_days": annual_report_window_days("US")}  # fmt: skip
    now = fundamentals_freshness("AAPL", "XNYS", Clock(date(2026, 4, 10)), **aapl)
    assert (now.status, now.last_data_date, now.sessions_behind) == ("fresh", date(2025, 9, 27), 0)
    assert "the fiscal year ending about 2026-09-30 (FY2026) is not due before 2026-12-29" in now.detail
    assert "holds the fiscal year ending 2025-09-27 (FY2025)" in now.detail
    assert fundamentals_freshness("AAPL", "XNYS", Clock(date(2026, 12, 29)), **aapl).status == "fresh"
    # XNYS sessions after 2026-12-29 through Friday 2027-01-15: 30-31 December (2), 4-8 January (5;
    # New Year's Day, Friday 1 January, closed), 11-15 January (5) = 12
    late = fundamentals_freshness("AAPL", "XNYS", Clock(date(2027, 1, 15)), **aapl)
    assert (late.status, late.expected_data_date, late.sessions_behind) == ("stale", date(2026, 12, 29), 12)
    assert "the fiscal year ending about 2026-09-30 (FY2026) was due by 2026-12-29" in late.detail


def test_an_annual_only_filer_goes_stale_after_its_filing_window():
    # An annual-only filer with a fiscal year to March holds FY2025 (to 2025-03-31); FY2026 ends 2026-03-31.
    assert (annual_report_window_days("US"), annual_report_window_days("CN")) == (90, 120)
    held = annual_only(date(2025, 3, 31))
    # a 10-K filer: due 2026-03-31 + 30 (Apr) + 31 (May) + 29 (Jun) = 2026-06-29; XNYS sessions 30 June, 1 July = 2
    domestic = fundamentals_freshness("ACME", "XNYS", Clock(date(2026, 7, 1)), fiscal_year_end_month=3, held=held,
                                      annual_window_days=90)  # fmt: skip
    assert (domestic.status, domestic.expected_data_date, domestic.sessions_behind) == ("stale", date(2026, 6, 29), 2)
    assert "the fiscal year ending 2026-03-31 (FY2026) was due by 2026-06-29" in domestic.detail
    # a 20-F filer: due 2026-03-31 + 120 = 2026-07-29, so not yet on 1 July; on Monday 3 August three
    # sessions late (30, 31 July, 3 August)
    foreign = {"fiscal_year_end_month": 3, "held": held, "annual_window_days": 120}
    assert fundamentals_freshness("BABA", "XNYS", Clock(date(2026, 7, 1)), **foreign).status == "fresh"
    late = fundamentals_freshness("BABA", "XNYS", Clock(date(2026, 8, 3)), **foreign)
    assert (late.status, late.expected_data_date, late.sessions_behind) == ("stale", date(2026, 7, 29), 3)


def test_a_company_with_any_statement_is_never_missing():
    clock = Clock(date(2026, 4, 10))
    for held in (annual_only(date(2025, 9, 27)), quarterly(date(2025, 12, 31)), StatementsHeld(last_balance_date=date(2025, 1, 23))):
        assert fundamentals_freshness("X", "XNYS", clock, fiscal_year_end_month=12, held=held).status != "missing"
    nothing = fundamentals_freshness("X", "XNYS", clock, fiscal_year_end_month=12, held=StatementsHeld())
    assert (nothing.status, nothing.detail) == ("missing", "no statements")


def test_latest_closed_session_uses_each_exchanges_own_close():
    # 2025-01-06 12:00 UTC is 20:00 in Hong Kong (closed) and 07:00 in New York (not open yet)
    clock = Clock(datetime(2025, 1, 6, 12, 0, tzinfo=timezone.utc))
    assert latest_closed_session("XHKG", clock) == date(2025, 1, 6)
    assert latest_closed_session("XNYS", clock) == date(2025, 1, 3)
