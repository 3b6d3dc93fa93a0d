"""Contract tests: real Yahoo responses (../shared/yahoo-recorded), parsed by yfinance 1.7's own code
over the replay session, decoded into raw rows. Every expected value was read off the recorded JSON
by hand (the timestamps converted to exchange dates), not taken from the code under test."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from orchestration.sources import Instrument, StatementPlan, YahooSettings, YahooSource
from tests.fakes.yahoo_http import RECORDED_DIR, ReplaySession, fresh_yfinance

pytestmark = pytest.mark.skipif(not RECORDED_DIR.exists(), reason=f"recorded Yahoo responses not found at {RECORDED_DIR}")

NY = ("XNYS", "America/New_York")


@pytest.fixture
def session(tmp_path_factory):
    fresh_yfinance()
    return ReplaySession()


def yahoo(session, now=datetime(2025, 2, 24, 23, 0, tzinfo=timezone.utc)) -> YahooSource:
    return YahooSource(YahooSettings(), session=session, sleep=lambda seconds: None, now=lambda: now)


def listing(symbol, currency="USD"):
    return Instrument(symbol, currency, "raw", *NY)


def by_date(frame, symbol):
    return frame[frame["symbol"] == symbol].set_index("date")


def test_aapl_split_and_dividend(session):
    fetched = yahoo(session).fetch_prices([listing("AAPL")], {})
    aapl = by_date(fetched.frame, "AAPL")
    assert len(aapl) == 49  # 2020-08-31 .. 2020-11-06
    first = aapl.loc[date(2020, 8, 31)]  # timestamp 1598880600 = 09:30 New York
    assert (first["close"], first["adj_close"], first["volume"]) == (129.0399932861328, 125.82673645019531, 225702700)
    assert first["stock_splits"] == 4.0  # numerator 4, denominator 1
    last = aapl.loc[date(2020, 11, 6)]
    assert (last["close"], last["adj_close"], last["dividends"]) == (118.69000244140625, 115.93415069580078, 0.205)
    assert aapl["dividends"].fillna(0).astype(bool).sum() == 1
    # one chart request (the time zone came from universe.yml), one cookie and one crumb request
    assert fetched.requests_by_endpoint == {"chart": 1, "cookie": 1, "getcrumb": 1}


def test_msft_dividends(session):
    msft = by_date(yahoo(session).fetch_prices([listing("MSFT")], {}).frame, "MSFT")
    paid = msft[msft["dividends"].fillna(0) > 0]["dividends"]
    # 1613572200 = 2021-02-17, 1621431000 = 2021-05-19, 1629293400 = 2021-08-18, 1637159400 = 2021-11-17
    assert paid.to_dict() == {date(2021, 2, 17): 0.56, date(2021, 5, 19): 0.56, date(2021, 8, 18): 0.56, date(2021, 11, 17): 0.62}
    assert len(msft) == 252 and msft.loc[date(2021, 2, 1), "close"] == 239.64999389648438


def test_nvda_split(session):
    nvda = by_date(yahoo(session).fetch_prices([listing("NVDA")], {}).frame, "NVDA")
    assert nvda[nvda["stock_splits"].fillna(0) > 0]["stock_splits"].to_dict() == {date(2021, 7, 20): 4.0}
    # Yahoo's close is split-adjusted: the day before the split already reads 18.78, not 75.12
    assert nvda.loc[date(2021, 7, 19), "close"] == 18.77975082397461
    assert nvda.loc[date(2021, 7, 20), "close"] == 18.61199951171875


def test_fx_pair(session):
    eur = yahoo(session).fetch_prices([Instrument("EURUSD=X", "USD_per_EUR", "fx", "24/5", "Europe/London")], {})
    rows = by_date(eur.frame, "EURUSD=X")
    assert list(rows.index) == [date(2020, 1, 1), date(2020, 1, 2), date(2020, 1, 3)]
    assert rows["close"].tolist() == [1.1220825910568237, 1.1220825910568237, 1.1171437501907349]
    assert rows["volume"].tolist() == [0, 0, 0] and set(rows["currency"]) == {"USD_per_EUR"}
    assert eur.failures == {}


def test_the_error_answers_fail_their_symbol_alone_with_yahoos_reason(session):
    symbols = [listing("BEKE"), listing("SI"), Instrument("^VXAPL", "index_points", "index", *NY), listing("AAPL")]
    fetched = yahoo(session).fetch_prices(symbols, {})
    assert set(fetched.frame["symbol"]) == {"AAPL"}
    assert "Data doesn't exist for startDate = 1577836800" in fetched.failures["BEKE"]  # 400
    assert "No data found, symbol may be delisted" in fetched.failures["SI"]  # 404
    assert "YFPricesMissingError" in fetched.failures["^VXAPL"]  # 200 with meta only
    # a 400/404 costs one request: no re-authentication and retry inside yfinance
    assert fetched.requests_by_endpoint["chart"] == 4


def test_a_price_currency_other_than_universe_yml_fails_the_symbol(session):
    fetched = yahoo(session).fetch_prices([listing("AAPL", "HKD")], {})
    assert fetched.frame.empty
    assert fetched.failures == {"AAPL": "Yahoo quotes AAPL in USD, universe.yml says HKD"}


def test_baba_statements_in_cny_per_ads(session):
    plan = StatementPlan("BABA", "CNY", shares_per_listing_unit=8, annual=False, releases=(date(2024, 2, 7),))
    fetched = yahoo(session).fetch_statements([plan])
    rows = fetched.frame.set_index(["line_item", "period_end"])
    revenue = rows.loc[("TotalRevenue", date(2023, 12, 31))]
    assert (revenue["value"], revenue["currency"], revenue["unit"]) == (260_348_000_000, "CNY", "amount")
    assert revenue["filed_date"] == date(2024, 2, 7)  # the known release after the quarter
    assert rows.loc[("NetIncome", date(2023, 6, 30)), "value"] == 34_242_000_000
    eps = rows.loc[("DilutedEPS", date(2023, 6, 30))]
    # labelled USD by Yahoo, but 13.28 is RMB per ADS (Alibaba's release: "diluted earnings per ADS RMB13.28")
    assert (eps["value"], eps["currency"], eps["unit"]) == (13.28, "CNY", "per_ads")
    shares = rows.loc[("DilutedAverageShares", date(2023, 6, 30))]
    assert (shares["value"], shares["unit"], shares["currency"]) == (2_576_000_000 * 8, "shares", None)  # ADS -> ordinary
    assert rows.loc[("TotalRevenue", date(2023, 6, 30)), "filed_date"] is None  # no release known for it: dbt's lag
    # calendar (one quoteSummary) and the three quarterly statements; no Ticker.info
    assert {k: v for k, v in fetched.requests_by_endpoint.items() if k not in ("cookie", "getcrumb")} == {
        "quoteSummary": 1, "fundamentals-timeseries": 3}  # fmt: skip
    assert fetched.failures == {}


def test_statements_in_another_currency_than_universe_yml_are_refused(session):
    fetched = yahoo(session).fetch_statements([StatementPlan("BABA", "USD", 8, annual=False)])
    assert fetched.frame.empty
    assert fetched.failures == {"BABA": "Yahoo reports BABA's statements in CNY, universe.yml says USD"}


def test_aapl_calendar_and_annual_statements(session):
    fetched = yahoo(session).fetch_statements([StatementPlan("AAPL", "USD", annual=True)])
    rows = fetched.frame
    annual = rows[(rows["period_type"] == "annual") & (rows["line_item"] == "TotalRevenue")].set_index("period_end")["value"]
    assert annual.to_dict()[date(2024, 9, 30)] == 391_035_000_000  # AAPL FY2024 net sales, 10-K
    assert fetched.next_update == {"AAPL": date(2025, 4, 30)}  # calendarEvents earningsDate 1746010740
    assert {k: v for k, v in fetched.requests_by_endpoint.items() if k not in ("cookie", "getcrumb")} == {
        "quoteSummary": 1, "fundamentals-timeseries": 6}  # fmt: skip


def test_profiles_from_quote_summary(session):
    fetched = yahoo(session).fetch_profiles(["AAPL", "QQQ,"], date(2025, 2, 24))
    aapl = fetched.frame.set_index("symbol").loc["AAPL"]
    assert (aapl["name"], aapl["sector"], aapl["industry"], aapl["country"]) == (
        "Apple Inc.", "Technology", "Consumer Electronics", "United States")  # fmt: skip
    assert (aapl["currency"], aapl["financial_currency"], aapl["shares_outstanding"]) == ("USD", "USD", 15_022_100_480)
    assert "Quote not found" in fetched.failures["QQQ,"]
    assert fetched.requests_by_endpoint["quoteSummary"] == 2 and fetched.requests_by_endpoint["quote"] == 1
