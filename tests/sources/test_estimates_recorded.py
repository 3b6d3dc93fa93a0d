"""Contract tests: the real quoteSummary answers of ../shared/yahoo-recorded (AAPL, AMZN, BABA,
GOOG, recorded 2025-02-24 09:35 UTC) replayed under yfinance 1.7's own request and parsing code,
decoded into consensus and vendor-figure rows. Every expected value was read off the recorded JSON
(`earningsTrend.trend[]`, the modules' plain numbers) by hand, not taken from the code under test."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import pytest

from orchestration.normalize.estimates import validate_estimates, validate_vendor_figures
from orchestration.sources import YahooSettings, YahooSource
from tests.fakes.yahoo_http import RECORDED_DIR, ReplaySession, fresh_yfinance

pytestmark = pytest.mark.skipif(not RECORDED_DIR.exists(), reason=f"recorded Yahoo responses not found at {RECORDED_DIR}")

ASKED_AT = datetime(2025, 2, 24, 9, 35, 30, tzinfo=timezone.utc)
RECORDED = ["AAPL", "AMZN", "BABA", "GOOG"]


@pytest.fixture
def session():
    fresh_yfinance()
    return ReplaySession()


def yahoo(session) -> YahooSource:
    return YahooSource(YahooSettings(), session=session, sleep=lambda seconds: None, now=lambda: ASKED_AT)


@pytest.fixture
def fetched(session):
    return yahoo(session).fetch_estimates(RECORDED)


def period(frame: pd.DataFrame, symbol: str, name: str) -> pd.Series:
    (row,) = frame[(frame["symbol"] == symbol) & (frame["period"] == name)].to_dict(orient="records")
    return pd.Series(row)


def figure(frame: pd.DataFrame, symbol: str, module: str, field: str) -> tuple:
    rows = frame[(frame["symbol"] == symbol) & (frame["module"] == module) & (frame["field"] == field)]
    (row,) = rows[["value", "currency"]].itertuples(index=False, name=None)
    return row[0], (None if pd.isna(row[1]) else row[1])


def test_baba_next_fiscal_year_is_in_cny_per_ads_with_its_end_date(fetched):
    # trend[3]: period +1y, endDate 2026-03-31, earningsEstimate avg 73.52281 low 62.61 high 81.116,
    # numberOfAnalysts 30, earningsCurrency CNY; epsTrend 90daysAgo 70.60436
    baba = period(fetched.frame, "BABA", "+1y")
    assert baba["end_date"] == "2026-03-31"
    assert (baba["eps_avg"], baba["eps_low"], baba["eps_high"]) == (73.52281, 62.61, 81.116)
    assert (baba["eps_analysts"], baba["eps_currency"]) == (30, "CNY")
    assert (baba["revenue_avg"], baba["revenue_analysts"], baba["revenue_currency"]) == (1_076_225_612_460, 50, "CNY")
    assert (baba["eps_trend_current"], baba["eps_trend_90d_ago"], baba["eps_trend_currency"]) == (73.52281, 70.60436, "CNY")
    assert baba["eps_year_ago"] == 64.85275  # the 0y estimate: this fiscal year, to 2025-03-31


def test_aapl_this_quarter(fetched):
    aapl = period(fetched.frame, "AAPL", "0q")
    # trend[0]: endDate 2025-03-31, avg 1.60796, 27 analysts, revenue avg 94,076,168,920
    assert (aapl["end_date"], aapl["eps_avg"], aapl["eps_analysts"]) == ("2025-03-31", 1.60796, 27)
    assert aapl["revenue_avg"] == 94_076_168_920


def test_goog_has_its_four_periods_and_every_row_validates(fetched):
    goog = fetched.frame[fetched.frame["symbol"] == "GOOG"]
    assert list(goog["period"]) == ["0q", "+1q", "0y", "+1y"]
    assert list(goog["end_date"]) == ["2025-03-31", "2025-06-30", "2025-12-31", "2026-12-31"]
    validated = validate_estimates(fetched.frame, as_of=date(2025, 2, 24))
    assert len(validated.rows) == 4 * 4 and validated.rejected.empty
    # snapshot_at is the moment Yahoo was asked, in UTC; the snapshot date is its UTC date
    assert set(validated.rows["snapshot_at"]) == {pd.Timestamp("2025-02-24 09:35:30")}
    assert set(validated.rows["snapshot_date"]) == {date(2025, 2, 24)}


def test_baba_vendor_figures_keep_each_modules_own_currency(fetched):
    vendor = fetched.vendor_figures
    # defaultKeyStatistics states no currency: its forward P/E is the USD price 143.75 over the CNY
    # estimate of the next fiscal year (143.75 / 73.52281 = 1.955...), Yahoo's own mixing
    assert figure(vendor, "BABA", "defaultKeyStatistics", "forwardPE") == (1.9551755, None)
    assert figure(vendor, "BABA", "defaultKeyStatistics", "enterpriseValue") == (2_566_507_724_800, None)
    assert figure(vendor, "BABA", "summaryDetail", "forwardPE") == (14.564337, "USD")  # summaryDetail.currency
    assert figure(vendor, "BABA", "price", "marketCap") == (341_542_830_080, "USD")  # price.currency
    assert figure(vendor, "BABA", "financialData", "totalRevenue") == (981_767_028_736, "CNY")  # financialCurrency
    assert figure(vendor, "BABA", "price", "regularMarketTime") == (1_740_171_602, "USD")  # 2025-02-21 21:00:02 UTC
    # the currency fields are the column, not rows
    assert not vendor["field"].isin(["currency", "financialCurrency"]).any()


def test_vendor_figures_are_the_fields_the_modules_sent(fetched):
    vendor = validate_vendor_figures(fetched.vendor_figures, as_of=date(2025, 2, 24))
    assert vendor.rejected.empty
    amzn = vendor.rows[(vendor.rows["symbol"] == "AMZN") & (vendor.rows["module"] == "summaryDetail")]
    # AMZN's summaryDetail has no dividendRate (it pays none): no row rather than a null
    assert sorted(amzn["field"]) == sorted(["marketCap", "trailingPE", "forwardPE", "priceToSalesTrailing12Months",
                                            "trailingAnnualDividendRate"])  # fmt: skip
    aapl = vendor.rows[vendor.rows["symbol"] == "AAPL"].groupby("module").size().to_dict()
    assert aapl == {"defaultKeyStatistics": 7, "summaryDetail": 6, "financialData": 3, "price": 3}


def test_one_quote_summary_request_per_symbol(session, fetched):
    # four symbols, four quoteSummary requests; the cookie and the crumb once for the session
    assert fetched.requests_by_endpoint == {"quoteSummary": 4, "cookie": 1, "getcrumb": 1}
    asked = [symbol for endpoint, symbol, _ in session.log if endpoint == "quoteSummary"]
    assert asked == RECORDED
    assert fetched.failures == {} and fetched.deferred == {}


def test_the_live_rows_are_the_samples_rows(fetched, sample_dir):
    """The market sample's consensus files were extracted from the same four answers: the Yahoo
    path and the sample path give the same rows (less the moment, which each file stamps per symbol)."""
    from orchestration.sources import SampleSource

    replayed = SampleSource(sample_dir).fetch_estimates(RECORDED)
    columns = ["symbol", "period", "end_date", "eps_avg", "eps_low", "eps_high", "eps_analysts", "revenue_avg", "eps_trend_90d_ago"]
    live = validate_estimates(fetched.frame).rows[columns]
    sample = validate_estimates(replayed.frame).rows[columns]
    pd.testing.assert_frame_equal(live, sample)
    key = ["symbol", "module", "field", "value", "currency"]
    live_vendor = validate_vendor_figures(fetched.vendor_figures).rows[key].sort_values(key[:3], ignore_index=True)
    sample_vendor = validate_vendor_figures(replayed.vendor_figures).rows[key].sort_values(key[:3], ignore_index=True)
    pd.testing.assert_frame_equal(live_vendor, sample_vendor)


def test_a_symbol_yahoo_does_not_know_fails_alone(session):
    fetched = yahoo(session).fetch_estimates(["BABA", "NOPE"])
    assert "Quote not found" in fetched.failures["NOPE"]
    assert set(fetched.frame["symbol"]) == {"BABA"} and fetched.requests_by_endpoint["quoteSummary"] == 2


def test_an_answer_without_earnings_trend_keeps_the_quoted_figures_and_fails_the_estimates(session):
    # ^VXAPL (an index): Yahoo answers summaryDetail, defaultKeyStatistics, quoteType and price only
    fetched = yahoo(session).fetch_estimates(["^VXAPL"])
    assert "no earningsTrend" in fetched.failures["^VXAPL"]
    assert fetched.frame.empty and set(fetched.vendor_figures["module"]) <= {"summaryDetail", "defaultKeyStatistics", "price"}


def test_a_transient_failure_is_asked_again(session):
    session.fail("quoteSummary", "AAPL", "503")
    fetched = yahoo(session).fetch_estimates(["AAPL"])
    assert fetched.failures == {} and len(fetched.frame) == 4
    assert fetched.requests_by_endpoint["quoteSummary"] == 2


def test_a_period_without_revenue_estimates_is_read_with_them_unknown(session):
    # BABA's answer with the revenueEstimate block taken out of its +1q item: yfinance's parser
    # would raise KeyError on it; the period's revenue is unknown, its EPS estimate still read
    from tests.fakes.yahoo_http import recording

    result = recording("quoteSummary/quoteSummary-all-BABA.json")["response"]["bodyJson"]["quoteSummary"]["result"][0]
    del result["earningsTrend"]["trend"][1]["revenueEstimate"]
    session.add_summary("BABA", **result)
    fetched = yahoo(session).fetch_estimates(["BABA"])
    assert fetched.failures == {}
    next_quarter = period(fetched.frame, "BABA", "+1q")
    assert pd.isna(next_quarter["revenue_avg"]) and next_quarter["revenue_currency"] == "CNY"  # from the other items
    assert next_quarter["eps_avg"] == 18.21686
