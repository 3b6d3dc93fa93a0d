"""The EDGAR request benchmark measures what it says: the real source at the wire, per run."""

from benchmarks.edgar_requests import QUARTER_DAYS, measure


def test_a_first_run_asks_facts_once_each_and_a_daily_run_submissions_plus_the_new_filers(tmp_path):
    companies = [f"S{i:05d}" for i in range(2 * QUARTER_DAYS)]  # companies 0 and 63 filed today
    first = measure(companies, "first", str(tmp_path))
    assert first == {"company_tickers": 1, "companyfacts": 2 * QUARTER_DAYS}
    daily = measure(companies, "daily", str(tmp_path))  # the CIK list is cached by the first run
    assert daily == {"submissions": 2 * QUARTER_DAYS, "companyfacts": 2}
