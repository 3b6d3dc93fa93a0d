"""The yahoo source against Yahoo at the HTTP layer (tests/fakes/yahoo_http.py): yfinance 1.7's own
code runs above a replay session that serves payloads in Yahoo's formats and scripted faults.

Source-level tests check what comes back and how many HTTP requests it took; asset-level tests run
the real raw assets into a real DuckDB file and assert the rows there afterwards.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import dagster as dg
import pandas as pd
import pytest

import orchestration.sources.yahoo as yahoo_module
from orchestration.defs.ingest import raw_company_profiles, raw_financial_statements, raw_prices, raw_universe
from orchestration.defs.landing import landing_assets
from orchestration.landing import LandingState, LandingZone, bucket_keys, listing_bucket
from orchestration.defs.resources import MarketDataResource, WarehouseResource, run_settings
from orchestration.normalize.prices import SOURCE_COLUMNS, coerce_price_types
from orchestration.normalize.statements import coerce_statement_types
from orchestration.sources import Instrument, SampleSource, StatementPlan, YahooSettings, YahooSource
from orchestration.sources.yahoo_http import CircuitBreaker, RateLimiter
from tests.conftest import FIXTURE_UNIVERSE, query
from tests.fakes.yahoo_http import ReplaySession, fresh_yfinance

NY, HK = "America/New_York", "Asia/Hong_Kong"
ACME = Instrument("ACME", "USD", "raw", "XNYS", NY)
DRGN = Instrument("DRGN", "USD", "raw", "XNYS", NY)
HK9999 = Instrument("9999.HK", "HKD", "raw", "XHKG", HK)
GSPC = Instrument("^GSPC", "index_points", "index", "XNYS", NY)
AFTER_CLOSE = datetime(2025, 1, 31, 23, 0, tzinfo=timezone.utc)


def bars(*closes, start_day=6):
    """Bars on consecutive January 2025 days from `start_day`: (date, o, h, l, c, adj, volume)."""
    return [(f"2025-01-{start_day + i:02d}", c, c + 1, c - 1, c, c * 0.99, 1000) for i, c in enumerate(closes)]


@pytest.fixture
def yahoo_http() -> ReplaySession:
    """Yahoo with three January 2025 days of bars for every symbol of the fixture universe."""
    fresh_yfinance()
    session = ReplaySession()
    session.add_chart("ACME", NY, bars(100.0, 101.0, 102.0))
    session.add_chart("DRGN", NY, bars(80.0, 81.0, 82.0))
    session.add_chart("9999.HK", HK, bars(78.0, 79.0, 80.0), currency="HKD")
    session.add_chart("^GSPC", NY, bars(5900.0, 5910.0, 5920.0), instrument_type="INDEX")
    session.add_chart("^HSI", HK, bars(19000.0, 19100.0, 19200.0), currency="HKD", instrument_type="INDEX")
    session.add_chart("USDHKD=X", "Europe/London", [(d, c, c, c, c, c, 0) for d, *_, c, _a, _v in bars(7.79, 7.80, 7.81)],
                      currency="HKD", instrument_type="CURRENCY")  # fmt: skip
    session.add_chart("CNY=X", "Europe/London", [(d, c, c, c, c, c, 0) for d, *_, c, _a, _v in bars(7.30, 7.31, 7.32)],
                      currency="CNY", instrument_type="CURRENCY")  # fmt: skip
    return session


def source(session: ReplaySession, now: datetime = AFTER_CLOSE, **settings) -> YahooSource:
    return YahooSource(YahooSettings(**settings), session=session, sleep=lambda seconds: None, now=lambda: now)


def data_requests(fetched) -> dict:
    """HTTP requests by endpoint, without the once-per-process cookie and crumb."""
    return without_session_setup(fetched.requests_by_endpoint)


def without_session_setup(requests: dict) -> dict:
    return {k: v for k, v in requests.items() if k not in ("cookie", "getcrumb")}


# ------------------------------------------------------------------ prices, source level


def test_prices_keep_the_traded_and_adjusted_close_in_exchange_local_dates(yahoo_http):
    fetched = source(yahoo_http).fetch_prices([ACME, HK9999], {})
    acme = fetched.frame[fetched.frame["symbol"] == "ACME"].set_index("date")
    assert acme.loc[date(2025, 1, 6), ["close", "adj_close", "currency", "price_basis"]].tolist() == [100.0, 99.0, "USD", "raw"]
    hk = fetched.frame[fetched.frame["symbol"] == "9999.HK"]
    assert sorted(hk["date"]) == [date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 8)]  # HK dates, not shifted to UTC
    # a fresh process: one cookie and one crumb request, then one chart request per symbol
    assert fetched.failures == {} and fetched.requests_by_endpoint == {"cookie": 1, "getcrumb": 1, "chart": 2}


def test_a_ticker_that_does_not_exist_fails_alone_in_one_request(yahoo_http):
    fetched = source(yahoo_http).fetch_prices([ACME, Instrument("NOPE", "USD", "raw", "XNYS", NY), DRGN], {})
    assert set(fetched.frame["symbol"]) == {"ACME", "DRGN"}
    assert list(fetched.failures) == ["NOPE"] and "No data found, symbol may be delisted" in fetched.failures["NOPE"]
    assert data_requests(fetched) == {"chart": 3}  # not retried, no re-authentication


@pytest.mark.parametrize("fault", ["429", "500", "503", "html", "truncated", "timeout"])
def test_a_transient_fault_is_asked_again_with_a_fresh_ticker(yahoo_http, fault):
    yahoo_http.fail("chart", "ACME", fault)
    yahoo = source(yahoo_http)
    fetched = yahoo.fetch_prices([ACME, DRGN], {})
    assert fetched.failures == {} and fetched.frame.groupby("symbol").size().to_dict() == {"ACME": 3, "DRGN": 3}
    assert data_requests(fetched) == {"chart": 3}
    assert len(yahoo.retry.slept) == 1 and 0 <= yahoo.retry.slept[0] <= 60  # backoff in minutes, jittered


def test_retry_after_is_honoured_and_backoff_grows(yahoo_http):
    yahoo_http.fail("chart", "ACME", "429-retry-after", "429")
    yahoo = source(yahoo_http, breaker_threshold=5)
    fetched = yahoo.fetch_prices([ACME], {})
    assert fetched.failures == {}
    first, second = yahoo.retry.slept
    assert first >= 120  # Yahoo said Retry-After: 120
    assert 0 <= second <= 120  # the second wait: jittered under 60 x 2


def test_a_first_invalid_crumb_is_renewed_by_yfinance_a_second_is_transient(yahoo_http):
    yahoo_http.fail("chart", "ACME", "401")
    fetched = source(yahoo_http).fetch_prices([ACME], {})
    assert fetched.failures == {} and len(fetched.frame) == 3
    assert fetched.requests_by_endpoint["getcrumb"] == 2  # yfinance asked for a new crumb, then the chart again
    fresh_yfinance()
    yahoo_http.fail("chart", "DRGN", "401", "401")
    yahoo = source(yahoo_http)
    fetched = yahoo.fetch_prices([DRGN], {})
    assert fetched.failures == {} and len(fetched.frame) == 3 and len(yahoo.retry.slept) == 1


def test_a_sustained_429_opens_the_breaker_and_defers_the_rest(yahoo_http):
    yahoo_http.fail("chart", None, *["429"] * 20)
    instruments = [ACME, DRGN, HK9999, GSPC]
    fetched = source(yahoo_http, breaker_threshold=3).fetch_prices(instruments, {})
    assert fetched.frame.empty and fetched.failures == {}
    assert list(fetched.deferred) == ["ACME", "DRGN", "9999.HK", "^GSPC"]
    assert "429 3 times in a row" in fetched.deferred["ACME"]
    assert data_requests(fetched) == {"chart": 3}  # and not one more once it opened


def test_the_budget_counts_true_http_requests_and_defers_the_rest(yahoo_http):
    fetched = source(yahoo_http, request_budget=4).fetch_prices([ACME, DRGN, HK9999], {})
    # cookie, crumb, ACME, DRGN: then the budget is spent
    assert set(fetched.frame["symbol"]) == {"ACME", "DRGN"}
    assert fetched.deferred == {"9999.HK": "request budget of 4 HTTP requests exhausted (4 used)"}


def test_gives_up_after_max_attempts(yahoo_http):
    yahoo_http.fail("chart", "ACME", "500", "500", "500")
    yahoo = source(yahoo_http, max_attempts=3)
    fetched = yahoo.fetch_prices([ACME, DRGN], {})
    assert fetched.failures["ACME"].startswith("gave up after 3 attempts: chart HTTP 500")
    assert set(fetched.frame["symbol"]) == {"DRGN"}


def test_the_bar_of_a_session_that_has_not_closed_is_not_stored(yahoo_http):
    # 2025-01-08 15:00 New York: that day's session is still open (it closes at 16:00)
    during = datetime(2025, 1, 8, 20, 0, tzinfo=timezone.utc)
    fetched = source(yahoo_http, now=during).fetch_prices([ACME, HK9999], {})
    assert sorted(fetched.frame[fetched.frame["symbol"] == "ACME"]["date"]) == [date(2025, 1, 6), date(2025, 1, 7)]
    # Hong Kong closed at 16:00 local (08:00 UTC): its 2025-01-08 bar is final
    assert max(fetched.frame[fetched.frame["symbol"] == "9999.HK"]["date"]) == date(2025, 1, 8)


def test_a_split_inside_the_overlap_fetches_the_whole_history_again(yahoo_http):
    yahoo_http.add_chart("ACME", NY, bars(100.0, 101.0, 25.5, 26.0), splits={"2025-01-08": (4, 1)})
    fetched = source(yahoo_http).fetch_prices([ACME], {"ACME": date(2025, 1, 7)})
    assert [params.get("period1") for _, params in yahoo_http.chart_params][-1] in (None, "0", 0) or \
        int(yahoo_http.chart_params[-1][1]["period1"]) < int(yahoo_http.chart_params[0][1]["period1"])  # fmt: skip
    assert len(fetched.frame) == 4  # from the first day, not from the overlap
    assert "split 2025-01-08 4 inside the overlap" in fetched.warnings[0]


def test_an_incremental_fetch_without_events_asks_from_its_start(yahoo_http):
    fetched = source(yahoo_http).fetch_prices([ACME], {"ACME": date(2025, 1, 7)})
    assert sorted(fetched.frame["date"]) == [date(2025, 1, 7), date(2025, 1, 8)]
    assert data_requests(fetched) == {"chart": 1}


# ------------------------------------------------------------------ statements and profiles, source level


def seed_fundamentals(session: ReplaySession) -> None:
    quarters = ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]
    session.add_timeseries("ACME", "quarterly", {"TotalRevenue": dict(zip(quarters, [500e6, 520e6, 540e6, 560e6])),
                                                 "DilutedEPS": dict(zip(quarters, [0.1, 0.2, 0.3, 0.4])),
                                                 "OrdinarySharesNumber": {"2024-12-31": 1_000_000_000}}, "USD")  # fmt: skip
    session.add_timeseries("ACME", "annual", {"CapitalExpenditure": {"2024-09-30": -1.2345e9}}, "USD")
    # the calendar as of early February 2025: the next release, 2025-04-30 (epoch seconds, UTC)
    session.add_summary("ACME", calendarEvents={"earnings": {"earningsDate": [1746014400]}},
                        quoteType={"longName": "Acme Corporation", "exchange": "NMS"},
                        summaryDetail={"currency": "USD", "marketCap": 102_000_000_000},
                        assetProfile={"sector": "Technology", "industry": "Software", "country": "United States"},
                        financialData={"financialCurrency": "USD"},
                        defaultKeyStatistics={"sharesOutstanding": 1_000_000_000})  # fmt: skip
    session.add_timeseries("DRGN", "annual", {"TotalRevenue": {"2024-03-31": 1.02e12}}, "CNY")
    session.add_timeseries("DRGN", "quarterly", {"DilutedEPS": {"2024-12-31": 12.5},
                                                 "DilutedAverageShares": {"2024-12-31": 2.4e9}}, "USD")  # fmt: skip
    session.add_summary("DRGN", calendarEvents={"earnings": {"earningsDate": []}},
                        quoteType={"longName": "Dragon Holdings"}, summaryDetail={"currency": "USD"},
                        financialData={"financialCurrency": "CNY"})  # fmt: skip


def test_statements_are_long_rows_with_publication_dates(yahoo_http):
    seed_fundamentals(yahoo_http)
    plan = StatementPlan("ACME", "USD", releases=(date(2024, 10, 31), date(2025, 1, 30)))
    fetched = source(yahoo_http, now=datetime(2025, 2, 10, tzinfo=timezone.utc)).fetch_statements([plan])
    rows = fetched.frame.set_index(["line_item", "period_end"])
    revenue = rows.loc[("TotalRevenue", date(2024, 12, 31))]
    assert (revenue["statement"], revenue["period_type"], revenue["value"], revenue["currency"], revenue["unit"]) == (
        "income", "quarterly", 560e6, "USD", "amount")  # fmt: skip
    assert revenue["filed_date"] == date(2025, 1, 30)  # the first known release after the quarter
    assert rows.loc[("TotalRevenue", date(2024, 9, 30)), "filed_date"] == date(2024, 10, 31)
    assert rows.loc[("TotalRevenue", date(2024, 6, 30)), "filed_date"] is None  # no release known: dbt's lag
    assert rows.loc[("DilutedEPS", date(2024, 12, 31)), "unit"] == "per_share"
    capex = rows.loc[("CapitalExpenditure", date(2024, 9, 30))]
    assert (capex["period_type"], capex["filed_date"]) == ("annual", None)
    assert fetched.next_update == {"ACME": date(2025, 4, 30)} and fetched.last_update == {"ACME": date(2025, 1, 30)}
    assert data_requests(fetched) == {"quoteSummary": 1, "fundamentals-timeseries": 6}


def test_an_ads_listing_reports_counts_in_ads_and_eps_per_ads(yahoo_http):
    seed_fundamentals(yahoo_http)
    fetched = source(yahoo_http).fetch_statements([StatementPlan("DRGN", "CNY", 8, annual=False)])
    rows = fetched.frame.set_index("line_item")
    assert (rows.loc["DilutedEPS", "unit"], rows.loc["DilutedEPS", "currency"]) == ("per_ads", "CNY")
    assert rows.loc["DilutedAverageShares", "value"] == 2.4e9 * 8
    assert data_requests(fetched) == {"quoteSummary": 1, "fundamentals-timeseries": 3}  # no annual statements


def test_info_with_missing_keys_gives_nulls_and_a_warning(yahoo_http):
    yahoo_http.add_summary("ACME", quoteType={"shortName": "ACME CORP"}, summaryDetail={"currency": "USD", "marketCap": 1e11})
    fetched = source(yahoo_http).fetch_profiles(["ACME"], date(2025, 1, 10))
    row = fetched.frame.iloc[0]
    assert (row["name"], row["currency"], row["market_cap"]) == ("ACME CORP", "USD", 1e11)  # shortName stands in
    assert row["sector"] is None and row["shares_outstanding"] is None
    assert fetched.failures == {}
    assert "ACME: Ticker.info lacks exchange, financial_currency, sector" in fetched.warnings[0]
    # Ticker.info: the quoteSummary modules, the v7 quote, and a fundamentals request (trailing PEG)
    assert data_requests(fetched) == {"quoteSummary": 1, "quote": 1, "fundamentals-timeseries": 1}


def test_a_symbol_without_a_profile_is_a_failure(yahoo_http):
    fetched = source(yahoo_http).fetch_profiles(["NOPE"], date(2025, 1, 10))
    assert fetched.frame.empty and "Quote not found for symbol: NOPE" in fetched.failures["NOPE"]


# ------------------------------------------------------------------ the landing zone replays identically


def test_a_landed_yahoo_run_replays_identically_through_the_sample_source(yahoo_http, tmp_path):
    seed_fundamentals(yahoo_http)
    instruments = [ACME, DRGN, HK9999, Instrument("USDHKD=X", "HKD_per_USD", "fx", "24/5", "Europe/London")]
    yahoo = source(yahoo_http)
    live_prices = yahoo.fetch_prices(instruments, {}).frame
    live_statements = yahoo.fetch_statements([StatementPlan("ACME", "USD")]).frame
    live_profiles = yahoo.fetch_profiles(["ACME"], date(2025, 1, 10)).frame
    zone = LandingZone(tmp_path / "landing")
    zone.land("prices", "b", yahoo_module.Fetched(live_prices), [i.symbol for i in instruments], "yahoo")
    zone.land("financial_statements", "b", yahoo_module.Fetched(live_statements), ["ACME"], "yahoo")
    (batch,) = [zone.land("company_profiles", "b", yahoo_module.Fetched(live_profiles), ["ACME"], "yahoo")]

    replay = SampleSource(zone.root / "prices" / "b" / zone.batches("prices")[0].path.name)
    order = ["symbol", "date"]
    replayed = coerce_price_types(replay.fetch_prices(instruments, {}).frame)[SOURCE_COLUMNS]  # the file's text, parsed
    pd.testing.assert_frame_equal(
        live_prices[SOURCE_COLUMNS].sort_values(order, ignore_index=True),
        replayed.sort_values(order, ignore_index=True),
    )
    keys = ["line_item", "period_type", "period_end"]
    replay = SampleSource(zone.batches("financial_statements")[0].path)
    pd.testing.assert_frame_equal(
        live_statements.sort_values(keys, ignore_index=True),
        coerce_statement_types(replay.fetch_statements([StatementPlan("ACME", "USD")]).frame)[live_statements.columns]
        .sort_values(keys, ignore_index=True),
    )
    replayed_profiles = SampleSource(batch.path).fetch_profiles(["ACME"], date(2025, 1, 10)).frame
    assert replayed_profiles.iloc[0]["name"] == live_profiles.iloc[0]["name"] == "Acme Corporation"


# ------------------------------------------------------------------ the rate limiter


def test_the_rate_limiter_spaces_requests_evenly():
    clock = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(per_hour=1_800, clock=lambda: clock[0], sleep=sleep)  # one every 2 s
    for _ in range(4):
        limiter.wait()
    assert waits == [2.0, 2.0, 2.0] and clock[0] == 6.0


def test_the_breaker_resets_on_any_other_answer():
    breaker = CircuitBreaker(threshold=3)
    for status in (429, 429, 200, 429, 429):
        breaker.record(status)
    assert not breaker.open
    breaker.record(429)
    assert breaker.open


# ------------------------------------------------------------------ asset level: rows in DuckDB afterwards


@pytest.fixture
def wired(yahoo_http, monkeypatch, tmp_path):
    """The raw assets' yahoo source gets the replay session (the source sets its budget and breaker)."""
    monkeypatch.setattr(yahoo_module, "YahooSession", lambda limiter: yahoo_http)
    monkeypatch.setenv("VALUATION_LANDING_DIR", str(tmp_path / "landing"))
    LandingZone(tmp_path / "landing").write_state(LandingState())  # an empty warehouse's state
    return yahoo_http


EVERY_BUCKET = {"dagster/asset_partition_range_start": bucket_keys()[0],
                "dagster/asset_partition_range_end": bucket_keys()[-1]}  # fmt: skip


class Runs(list):
    """The fetch run (every landing bucket) and the load run after it."""


def run_raw(warehouse, monkeypatch, as_of="2025-01-31", **resource) -> Runs:
    """A daily refresh as the schedules and automation run it: fetch every bucket into the landing
    zone, then load what landed."""
    monkeypatch.setenv("VALUATION_UNIVERSE", str(FIXTURE_UNIVERSE))
    monkeypatch.setenv("VALUATION_AS_OF", as_of)
    monkeypatch.setattr(yahoo_module, "datetime", _FrozenDatetime.at(as_of))
    resources = {
        "duckdb": WarehouseResource(database=str(warehouse)),
        "market_data": MarketDataResource(source="yahoo", retry_base_delay_seconds=0.001, **resource),
        "run_settings": run_settings(),
    }
    fetch = dg.materialize(landing_assets, resources=resources, tags=EVERY_BUCKET)
    load = dg.materialize([raw_universe, raw_prices, raw_company_profiles, raw_financial_statements], resources=resources)
    assert fetch.success and load.success
    return Runs([fetch, load])


class _FrozenDatetime(datetime):
    """The source's clock at the end of the run's as-of day (after every close)."""

    moment: datetime

    @classmethod
    def at(cls, as_of: str):
        return type("Frozen", (cls,), {"moment": datetime.fromisoformat(as_of).replace(hour=23, tzinfo=timezone.utc)})

    @classmethod
    def now(cls, tz=None):
        return cls.moment


def metadata(runs, key, name):
    for result in runs:
        for event in result.get_asset_materialization_events():
            if event.materialization.asset_key.path == key:
                value = event.materialization.metadata.get(name)
                return None if value is None else value.value
    raise AssertionError(f"no materialization of {key}")


def check_passed(runs, key):
    return next(e.passed for result in runs for e in result.get_asset_check_evaluations() if e.asset_key.path == key)


def test_a_watermark_run_fetches_only_the_overlap_window(wired, tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    run_raw(warehouse, monkeypatch)
    assert {params.get("range") for _, params in wired.chart_params} == {None}
    wired.chart_params.clear()
    wired.add_chart("ACME", NY, bars(100.0, 101.0, 102.5, 103.0))  # a new day, and 2025-01-08 corrected
    second = run_raw(warehouse, monkeypatch, price_overlap_days=5)
    acme_start = next(int(p["period1"]) for s, p in wired.chart_params if s == "ACME")
    # 2025-01-08 - 5 days = 2025-01-03, midnight New York
    assert datetime.fromtimestamp(acme_start, timezone.utc) == datetime(2025, 1, 3, 5, 0, tzinfo=timezone.utc)
    assert query(warehouse, "select date, close from raw.prices where symbol = 'ACME' order by date") == [
        (date(2025, 1, 6), 100.0), (date(2025, 1, 7), 101.0), (date(2025, 1, 8), 102.5), (date(2025, 1, 9), 103.0)]  # fmt: skip
    assert (metadata(second, ["raw", "prices"], "rows_inserted"), metadata(second, ["raw", "prices"], "rows_updated")) == (1, 1)


def test_a_daily_run_asks_only_for_what_can_have_changed(wired, tmp_path, monkeypatch):
    seed_fundamentals(wired)
    warehouse = tmp_path / "w.duckdb"
    first = run_raw(warehouse, monkeypatch, as_of="2025-02-10")
    # first run: 7 price series; 3 listings' profiles (Ticker.info: 3 requests each, but 9999.HK's
    # first one is a 404: Yahoo has no profile for it here); 2 companies' statements (a calendar and six statements each); one cookie and one crumb request in all
    requests = {key: metadata(first, ["landing", key], "requests_by_endpoint") for key in
                ("prices", "company_profiles", "financial_statements")}  # fmt: skip
    assert sum(r.get("cookie", 0) for r in requests.values()) == sum(r.get("getcrumb", 0) for r in requests.values()) == 1
    assert without_session_setup(requests["prices"]) == {"chart": 7}
    assert without_session_setup(requests["company_profiles"]) == {"quoteSummary": 3, "quote": 2, "fundamentals-timeseries": 2}
    assert without_session_setup(requests["financial_statements"]) == {"quoteSummary": 2, "fundamentals-timeseries": 12}
    daily = run_raw(warehouse, monkeypatch, as_of="2025-02-11")
    assert metadata(daily, ["landing", "prices"], "requests") == 7
    # profiles are weekly: only 9999.HK, which failed yesterday, is asked again (one 404)
    assert metadata(daily, ["landing", "company_profiles"], "requests") == 1
    assert metadata(daily, ["landing", "financial_statements"], "requests") == 0  # nothing scheduled has passed
    # ACME's next earnings date (2025-04-30) has passed: due, quarterly only (Q3 of a September year)
    after_earnings = run_raw(warehouse, monkeypatch, as_of="2025-05-01")
    assert metadata(after_earnings, ["landing", "financial_statements"], "symbols_asked") == 1
    assert metadata(after_earnings, ["landing", "financial_statements"], "requests_by_endpoint") == {
        "quoteSummary": 1, "fundamentals-timeseries": 3}  # fmt: skip
    # the release date that passed is the publication date of the quarter it followed
    assert query(warehouse, "select symbol, last_release from raw.fetch_log where dataset = 'financial_statements' "
                 "order by fetched_at desc limit 1") == [("ACME", date(2025, 4, 30))]  # fmt: skip


def test_one_bad_symbol_loads_the_rest_and_fails_the_fetch_check(wired, tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    del wired.charts["DRGN"]
    result = run_raw(warehouse, monkeypatch)
    assert query(warehouse, "select count(distinct symbol) from raw.prices") == [(6,)]
    assert not check_passed(result, ["raw", "prices"])
    log = query(warehouse, "select status, reason from raw.fetch_log where dataset = 'prices' and symbol = 'DRGN'")
    assert log[0][0] == "failed" and "No data found, symbol may be delisted" in log[0][1]
    assert query(warehouse, "select count(*) from raw.fetch_log where dataset = 'prices' and status = 'ok'") == [(6,)]


def test_a_stopped_run_loses_nothing_and_the_next_starts_with_what_it_deferred(wired, tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    run_raw(warehouse, monkeypatch)
    before = query(warehouse, "select symbol, date, close from raw.prices order by all")
    wired.fail("chart", None, *["429"] * 3)
    result = run_raw(warehouse, monkeypatch, breaker_threshold=3)
    assert query(warehouse, "select symbol, date, close from raw.prices order by all") == before
    assert not check_passed(result, ["raw", "prices"])
    deferred = [s for (s,) in query(warehouse, "select symbol from raw.fetch_log where dataset = 'prices' "
                                               "and status = 'deferred' order by symbol")]  # fmt: skip
    assert len(deferred) == 7 and metadata(result, ["raw", "prices"], "symbols_deferred") == 7
    # a run whose budget stops it after three symbols: the other four are deferred ...
    budgeted = run_raw(warehouse, monkeypatch, request_budget=3)
    deferred = metadata(budgeted, ["raw", "prices"], "deferred")
    assert len(deferred) == 4
    # ... and the next run asks for them first, in each listing bucket
    wired.chart_params.clear()
    run_raw(warehouse, monkeypatch)
    asked = [symbol for symbol, _ in wired.chart_params]
    for bucket in {listing_bucket(s) for s in deferred}:
        in_bucket = [s for s in asked if listing_bucket(s) == bucket]
        waiting = {s for s in deferred if listing_bucket(s) == bucket}
        assert set(in_bucket[: len(waiting)]) == waiting
    assert query(warehouse, "select symbol, date, close from raw.prices order by all") == before


def test_a_profile_in_another_currency_is_rejected_with_its_reason(wired, tmp_path, monkeypatch):
    seed_fundamentals(wired)
    wired.add_summary("ACME", summaryDetail={"currency": "EUR"})
    warehouse = tmp_path / "w.duckdb"
    result = run_raw(warehouse, monkeypatch)
    assert query(warehouse, "select count(*) from raw.company_profiles where symbol = 'ACME'") == [(0,)]
    assert query(warehouse, "select reason from raw.rejected_rows where dataset = 'company_profiles' and symbol = 'ACME'") == [
        ("currency_mismatch",)
    ]
    assert metadata(result, ["raw", "company_profiles"], "rows_rejected") == 1
    # ACME's profile was fetched but none of it loaded: a named failure, and asked again next run
    assert not check_passed(result, ["raw", "company_profiles"])
    assert query(warehouse, "select status, reason from raw.fetch_log where dataset = 'company_profiles' and symbol = 'ACME'") == [
        ("failed", "fetched, but every row was rejected (see raw.rejected_rows)")]  # fmt: skip


def test_what_yahoo_returned_lands_in_the_landing_folder(wired, tmp_path, monkeypatch):
    run_raw(tmp_path / "w.duckdb", monkeypatch)
    prices = pd.concat(pd.read_csv(p) for p in (tmp_path / "landing" / "prices").rglob("*.csv"))
    assert len(prices) == 7 * 3 and set(prices["source_id"]) == {"yahoo"}


def test_stored_closes_yahoo_has_restated_fetch_the_whole_history_again(wired, tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    closes = [100.0 + day for day in range(10)]  # 2025-01-06 .. 2025-01-15
    wired.add_chart("ACME", NY, [(d, c, c + 1, c - 1, c, c * 0.99, 1000) for d, *_, c, _a, _v in bars(*closes)])
    run_raw(warehouse, monkeypatch)
    # Yahoo now adjusts every past close by 0.98 (a dividend it applied retroactively), and a day is new
    wired.add_chart("ACME", NY, [(d, c, c + 1, c - 1, c, c * 0.98, 1000) for d, *_, c, _a, _v in bars(*closes, 110.0)])
    wired.chart_params.clear()
    result = run_raw(warehouse, monkeypatch, price_overlap_days=5)
    # the overlap (from 2025-01-10) disagreed with what was stored: ACME was asked again from the start
    assert [symbol for symbol, _ in wired.chart_params].count("ACME") == 2
    # 2025-01-06 lies outside the overlap, and is restated too
    assert query(warehouse, "select adj_close from raw.prices where symbol = 'ACME' and date = '2025-01-06'") == [(98.0,)]
    assert query(warehouse, "select count(*) from raw.prices where symbol = 'ACME'") == [(11,)]
    assert any("stored closes no longer match" in w for w in metadata(result, ["landing", "prices"], "warnings"))
    # the others matched: asked once each
    assert [symbol for symbol, _ in wired.chart_params].count("DRGN") == 1


def test_a_bug_of_ours_fails_the_run_instead_of_becoming_a_symbols_failure(yahoo_http, monkeypatch):
    """Only what yfinance raises on a payload is a per-symbol failure; an error in our own code
    propagates with its traceback (here: the normalizer breaks)."""

    def broken(frame, instrument):
        raise TypeError("a bug in the normalizer")

    monkeypatch.setattr(yahoo_module, "prices_from_history", broken)
    with pytest.raises(TypeError, match="a bug in the normalizer"):
        source(yahoo_http).fetch_prices([ACME], {})
