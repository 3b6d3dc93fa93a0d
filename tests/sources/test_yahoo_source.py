"""The yahoo source against a fake Yahoo behind the real yfinance code (tests/fakes/yahoo.py).

Source-level tests check what comes back; asset-level tests run the real raw assets into a real
DuckDB file and assert the rows there afterwards.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import pandas as pd
import pytest
import yfinance
from orchestration.defs.resources import WarehouseResource

from orchestration.defs.ingest import raw_company_profiles, raw_financial_statements, raw_prices, raw_universe
from orchestration.defs.resources import MarketDataResource
from orchestration.normalize.prices import SOURCE_COLUMNS, coerce_price_types
from orchestration.normalize.statements import coerce_statement_types
from orchestration.sources import Instrument, SampleSource, YahooSettings, YahooSource
from tests.conftest import FIXTURE_UNIVERSE, query
from tests.fakes.yahoo import RATE_LIMITED, FakeMarket, FakeYfinance, earnings_frame, statement_frame

NY, HK = "America/New_York", "Asia/Hong_Kong"
ACME, DRGN = Instrument("ACME", "USD", "raw"), Instrument("DRGN", "USD", "raw")


def bars(*closes, start_day=6):
    """Bars on consecutive January 2025 days from `start_day`: (date, o, h, l, c, adj, volume)."""
    return [(f"2025-01-{start_day + i:02d}", c, c + 1, c - 1, c, c * 0.99, 1000) for i, c in enumerate(closes)]


@pytest.fixture
def market(monkeypatch) -> FakeMarket:
    """A fake Yahoo with three days of bars for every symbol of the fixture universe."""
    market = FakeMarket()
    market.add_bars("ACME", NY, bars(100.0, 101.0, 102.0))
    market.add_bars("DRGN", NY, bars(80.0, 81.0, 82.0))
    market.add_bars("9999.HK", HK, bars(78.0, 79.0, 80.0))
    market.add_bars("^GSPC", NY, bars(5900.0, 5910.0, 5920.0))
    market.add_bars("^HSI", HK, bars(19000.0, 19100.0, 19200.0))
    market.add_bars("USDHKD=X", "Europe/London", [(d, c, c, c, c, c, 0) for d, *_ in bars(7.79, 7.80, 7.81) for c in [float(_[3])]])
    market.add_bars("CNY=X", "Europe/London", [(d, c, c, c, c, c, 0) for d, *_ in bars(7.30, 7.31, 7.32) for c in [float(_[3])]])
    # The source's own Ticker calls and yfinance's download() both meet the fake at the network edge.
    client = FakeYfinance(market, monkeypatch)
    monkeypatch.setattr(yfinance, "Ticker", client.Ticker)
    market.client = client
    return market


def source(market: FakeMarket, **settings) -> YahooSource:
    return YahooSource(YahooSettings(**settings), client=market.client, sleep=lambda seconds: None)


# ------------------------------------------------------------------ prices, source level


def test_prices_keep_the_traded_and_adjusted_close_in_exchange_local_dates(market):
    fetched = source(market).fetch_prices([ACME, Instrument("9999.HK", "HKD", "raw")], {})
    acme = fetched.frame[fetched.frame["symbol"] == "ACME"].set_index("date")
    assert acme.loc[date(2025, 1, 6), ["close", "adj_close", "currency", "price_basis"]].tolist() == [100.0, 99.0, "USD", "raw"]
    hk = fetched.frame[fetched.frame["symbol"] == "9999.HK"]
    assert sorted(hk["date"]) == [date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 8)]  # HK dates, not shifted to UTC
    assert fetched.failures == {} and fetched.requests == 2


def test_a_ticker_that_does_not_exist_fails_alone(market):
    fetched = source(market).fetch_prices([ACME, Instrument("NOPE", "USD", "raw"), DRGN], {})
    assert set(fetched.frame["symbol"]) == {"ACME", "DRGN"}
    assert list(fetched.failures) == ["NOPE"] and "no price data found" in fetched.failures["NOPE"]
    assert fetched.requests == 3  # not retried: a missing symbol is not a transient failure


def test_an_empty_frame_is_no_data_not_a_failure(market):
    market.add_bars("ACME", NY, [("2025-01-06", 0.0, 0.0, 0.0, 0.0, 0.0, 0)])  # yfinance drops all-zero rows
    fetched = source(market).fetch_prices([ACME, DRGN], {})
    assert set(fetched.frame["symbol"]) == {"DRGN"} and fetched.failures == {}


def test_rate_limited_twice_then_served(market):
    market.fail("ACME", "history", RATE_LIMITED(), RATE_LIMITED())
    yahoo = source(market, base_delay_seconds=2.0)
    fetched = yahoo.fetch_prices([ACME, DRGN], {})
    assert set(fetched.frame["symbol"]) == {"ACME", "DRGN"} and fetched.failures == {}
    assert fetched.requests == 2 + 1 + 1  # the batch, then ACME alone twice
    first, second = yahoo.retry.slept
    assert 0 <= first <= 2.0 and 0 <= second <= 4.0  # full jitter under base x 2^attempt


def test_a_network_error_halfway_through_a_batch_retries_only_the_failed_symbols(market):
    market.fail("DRGN", "history", ConnectionError("connection reset by peer"))
    market.fail("^GSPC", "history", TimeoutError("read timed out"))
    instruments = [ACME, DRGN, Instrument("^GSPC", "index_points", "index"), Instrument("9999.HK", "HKD", "raw")]
    fetched = source(market).fetch_prices(instruments, {})
    assert fetched.frame.groupby("symbol").size().to_dict() == {"9999.HK": 3, "ACME": 3, "DRGN": 3, "^GSPC": 3}
    assert fetched.failures == {} and fetched.requests == 4 + 2


def test_rate_limited_forever_exhausts_the_budget_with_a_clear_error(market):
    market.fail("ACME", "history", *[RATE_LIMITED() for _ in range(10)])
    fetched = source(market, request_budget=4, batch_size=1).fetch_prices([DRGN, ACME, Instrument("9999.HK", "HKD", "raw")], {})
    assert set(fetched.frame["symbol"]) == {"DRGN"}  # what was fetched before the budget ran out is kept
    assert fetched.failures["ACME"] == fetched.failures["9999.HK"] == "request budget of 4 per run exhausted (4 used)"


def test_gives_up_after_max_attempts(market):
    market.fail("ACME", "history", *[RATE_LIMITED() for _ in range(10)])
    fetched = source(market, max_attempts=3).fetch_prices([ACME], {})
    assert fetched.failures["ACME"].startswith("gave up after 3 attempts: YFRateLimitError")


def test_nan_rows_and_duplicated_dates(market):
    market.add_bars(
        "ACME",
        NY,
        [("2025-01-06", 100.0, 101.0, 99.0, 100.0, 99.0, 1000), ("2025-01-07", 101.0, 102.0, 100.0, float("nan"), 100.0, 1000),
         ("2025-01-08", float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), 0),
         ("2025-01-09", 102.0, 103.0, 101.0, 102.0, 101.0, 1000), ("2025-01-09", 102.0, 104.0, 101.0, 103.5, 102.0, 1000)],
    )  # fmt: skip
    from orchestration.normalize import validate_prices

    fetched = source(market).fetch_prices([ACME, DRGN], {})
    validated = validate_prices(fetched.frame, date(2025, 1, 31), {"ACME": "USD", "DRGN": "USD"})
    acme = validated.rows[validated.rows["symbol"] == "ACME"]
    # 2025-01-09 twice with different closes: no rule says which is right, both are held back
    assert acme[["date", "close"]].values.tolist() == [[date(2025, 1, 6), 100.0]]
    assert sorted(validated.rejected["reason"]) == ["conflicting_duplicate", "conflicting_duplicate", "missing_close"]
    # DRGN shares the batch: yfinance repeats the duplicated date for it too, but identically - no rejects
    assert set(validated.rejected["symbol"]) == {"ACME"}


# ------------------------------------------------------------------ statements and profiles, source level


def seed_fundamentals(market: FakeMarket) -> None:
    market.infos["ACME"] = {"longName": "Acme Corporation", "exchange": "NMS", "currency": "USD",
                            "financialCurrency": "USD", "sector": "Technology", "sharesOutstanding": 1_000_000_000,
                            "marketCap": 102_000_000_000, "trailingPE": 30.5}  # fmt: skip
    quarters = ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]
    market.statements[("ACME", "get_income_stmt", "quarterly")] = statement_frame(
        {"TotalRevenue": dict(zip(quarters, [500e6, 520e6, 540e6, 560e6])), "DilutedEPS": dict(zip(quarters, [0.1, 0.2, 0.3, 0.4]))}
    )
    market.statements[("ACME", "get_balance_sheet", "quarterly")] = statement_frame(
        {"OrdinarySharesNumber": {"2024-12-31": 1_000_000_000}, "TotalDebt": {"2024-12-31": 5e9}}
    )
    market.statements[("ACME", "get_cash_flow", "yearly")] = statement_frame({"CapitalExpenditure": {"2024-09-30": -1.2345e9}})
    market.infos["DRGN"] = {"longName": "Dragon Holdings", "currency": "USD", "financialCurrency": "CNY"}
    market.statements[("DRGN", "get_income_stmt", "yearly")] = statement_frame({"TotalRevenue": {"2024-03-31": 1.02e12}})
    market.earnings["ACME"] = earnings_frame(
        [("2025-04-30 16:00", 0.45, None), ("2025-01-30 16:00", 0.38, 0.4), ("2024-10-31 08:00", 0.3, 0.3),
         ("2024-07-31 16:00", 0.2, 0.2), ("2024-05-01 16:00", 0.1, 0.1)]
    )  # fmt: skip


def test_statements_are_long_rows_with_publication_dates(market):
    seed_fundamentals(market)
    fetched = source(market).fetch_statements(["ACME"])
    rows = fetched.frame.set_index(["line_item", "period_end"])
    revenue = rows.loc[("TotalRevenue", date(2024, 12, 31))]
    assert (revenue["statement"], revenue["period_type"], revenue["value"], revenue["currency"], revenue["unit"]) == (
        "income", "quarterly", 560e6, "USD", "amount")  # fmt: skip
    # released 2025-01-30 at 16:00 New York: after the close, so usable from the next day
    assert revenue["filed_date"] == date(2025, 1, 31)
    # released 2024-10-31 at 08:00, before the open: usable that day
    assert rows.loc[("TotalRevenue", date(2024, 9, 30)), "filed_date"] == date(2024, 10, 31)
    assert rows.loc[("DilutedEPS", date(2024, 12, 31)), "unit"] == "per_share"
    shares = rows.loc[("OrdinarySharesNumber", date(2024, 12, 31))]
    assert (shares["unit"], shares["currency"], shares["statement"]) == ("shares", None, "balance")
    capex = rows.loc[("CapitalExpenditure", date(2024, 9, 30))]
    assert (capex["period_type"], capex["filed_date"]) == ("annual", None)  # annual: the lag applies in dbt
    assert fetched.next_update == {"ACME": date(2025, 4, 30)} and fetched.last_update == {"ACME": date(2025, 1, 31)}
    assert fetched.requests == 1 + 1 + 6  # info, earnings dates, six statements


def test_info_with_missing_keys_gives_nulls_and_a_warning(market):
    market.infos["ACME"] = {"shortName": "ACME CORP", "currency": "USD", "marketCap": 1e11}  # longName, sector... gone
    fetched = source(market).fetch_profiles(["ACME"], date(2025, 1, 10))
    row = fetched.frame.iloc[0]
    assert (row["name"], row["currency"], row["market_cap"]) == ("ACME CORP", "USD", 1e11)  # shortName stands in
    assert row["sector"] is None and row["shares_outstanding"] is None
    assert fetched.failures == {}
    assert "ACME: Ticker.info lacks exchange, financial_currency, sector" in fetched.warnings[0]


def test_a_symbol_without_a_profile_is_a_failure(market):
    fetched = source(market).fetch_profiles(["NOPE"], date(2025, 1, 10))
    assert fetched.frame.empty and fetched.failures == {"NOPE": "Yahoo returned no profile (unknown symbol?)"}


# ------------------------------------------------------------------ contract: yahoo and a replay of its recording


def test_a_recorded_yahoo_run_replays_identically_through_the_sample_source(market, tmp_path):
    seed_fundamentals(market)
    instruments = [ACME, DRGN, Instrument("9999.HK", "HKD", "raw"), Instrument("USDHKD=X", "HKD_per_USD", "fx")]
    yahoo = source(market, record_dir=str(tmp_path / "recorded"))
    live_prices = yahoo.fetch_prices(instruments, {}).frame
    live_statements = yahoo.fetch_statements(["ACME"]).frame
    live_profiles = yahoo.fetch_profiles(["ACME"], date(2025, 1, 10)).frame

    replay = SampleSource(tmp_path / "recorded")
    order = ["symbol", "date"]
    replayed = coerce_price_types(replay.fetch_prices(instruments, {}).frame)[SOURCE_COLUMNS]  # the file's text, parsed
    pd.testing.assert_frame_equal(
        live_prices[SOURCE_COLUMNS].sort_values(order, ignore_index=True),
        replayed.sort_values(order, ignore_index=True),
    )
    keys = ["line_item", "period_type", "period_end"]
    pd.testing.assert_frame_equal(
        live_statements.sort_values(keys, ignore_index=True),
        coerce_statement_types(replay.fetch_statements(["ACME"]).frame)[live_statements.columns].sort_values(keys, ignore_index=True),
    )
    replayed_profiles = replay.fetch_profiles(["ACME"], date(2025, 1, 10)).frame
    assert replayed_profiles.iloc[0]["name"] == live_profiles.iloc[0]["name"] == "Acme Corporation"
    assert float(replayed_profiles.iloc[0]["market_cap"]) == live_profiles.iloc[0]["market_cap"]


# ------------------------------------------------------------------ asset level: rows in DuckDB afterwards


def run_raw(warehouse, monkeypatch, as_of="2025-01-31", **resource):
    monkeypatch.setenv("VALUATION_UNIVERSE", str(FIXTURE_UNIVERSE))
    monkeypatch.setenv("VALUATION_AS_OF", as_of)
    result = dg.materialize(
        [raw_universe, raw_prices, raw_company_profiles, raw_financial_statements],
        resources={
            "duckdb": WarehouseResource(database=str(warehouse)),
            "market_data": MarketDataResource(source="yahoo", retry_base_delay_seconds=0.001, **resource),
        },
    )
    assert result.success
    return result


def metadata(result, key, name):
    for event in result.get_asset_materialization_events():
        if event.materialization.asset_key.path == key:
            value = event.materialization.metadata.get(name)
            return None if value is None else value.value
    raise AssertionError(f"no materialization of {key}")


def check_passed(result, key):
    return next(e.passed for e in result.get_asset_check_evaluations() if e.asset_key.path == key)


def test_a_watermark_run_fetches_only_the_overlap_window(market, tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    run_raw(warehouse, monkeypatch)
    assert {start for _, start in market.history_starts} == {None}  # first run: full history
    market.history_starts.clear()
    market.add_bars("ACME", NY, bars(100.0, 101.0, 102.5, 103.0))  # a new day, and 2025-01-08 corrected
    second = run_raw(warehouse, monkeypatch, price_overlap_days=5)
    assert {start for _, start in market.history_starts} == {"2025-01-03"}  # 2025-01-08 - 5 days
    assert query(warehouse, "select date, close from raw.prices where symbol = 'ACME' order by date") == [
        (date(2025, 1, 6), 100.0), (date(2025, 1, 7), 101.0), (date(2025, 1, 8), 102.5), (date(2025, 1, 9), 103.0)]  # fmt: skip
    assert (metadata(second, ["raw", "prices"], "rows_inserted"), metadata(second, ["raw", "prices"], "rows_updated")) == (1, 1)


def test_a_daily_run_makes_a_small_bounded_number_of_requests(market, tmp_path, monkeypatch):
    seed_fundamentals(market)
    warehouse = tmp_path / "w.duckdb"
    first = run_raw(warehouse, monkeypatch, as_of="2025-02-10")
    # 7 price series, 3 listings' profiles, 2 companies' statements (8 requests each)
    assert metadata(first, ["raw", "prices"], "requests") == 7
    assert metadata(first, ["raw", "company_profiles"], "requests") == 3
    assert metadata(first, ["raw", "financial_statements"], "requests") == 2 * 8
    daily = run_raw(warehouse, monkeypatch, as_of="2025-02-11")
    assert metadata(daily, ["raw", "prices"], "requests") == 7
    # ACME's last release (2025-01-31) is 11 days back, past the grace; DRGN has none scheduled.
    assert metadata(daily, ["raw", "financial_statements"], "requests") == 0
    assert metadata(daily, ["raw", "financial_statements"], "symbols_not_due") == 2
    # Once ACME's next earnings date (2025-04-30) has passed, its statements are due again.
    after_earnings = run_raw(warehouse, monkeypatch, as_of="2025-05-01")
    assert metadata(after_earnings, ["raw", "financial_statements"], "symbols_due") == 1


def test_one_bad_symbol_loads_the_rest_and_fails_the_fetch_check(market, tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    del market.bars["DRGN"]
    result = run_raw(warehouse, monkeypatch)
    assert query(warehouse, "select count(distinct symbol) from raw.prices") == [(6,)]
    assert not check_passed(result, ["raw", "prices"])
    log = query(warehouse, "select status, reason from raw.fetch_log where dataset = 'prices' and symbol = 'DRGN'")
    assert log[0][0] == "failed" and "no price data found" in log[0][1]
    assert query(warehouse, "select count(*) from raw.fetch_log where dataset = 'prices' and status = 'ok'") == [(6,)]


def test_budget_exhausted_loses_nothing_already_loaded(market, tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    run_raw(warehouse, monkeypatch)
    before = query(warehouse, "select symbol, date, close from raw.prices order by all")
    for symbol in list(market.bars):
        market.fail(symbol, "history", *[RATE_LIMITED() for _ in range(20)])
    result = run_raw(warehouse, monkeypatch, request_budget=10)
    assert query(warehouse, "select symbol, date, close from raw.prices order by all") == before
    assert not check_passed(result, ["raw", "prices"])
    reasons = {r for (r,) in query(warehouse, "select distinct reason from raw.fetch_log where status = 'failed' and dataset = 'prices'")}
    assert any("request budget of 10 per run exhausted" in r for r in reasons)


def test_a_renamed_statement_line_item_is_kept_as_reported(market, tmp_path, monkeypatch):
    seed_fundamentals(market)
    income = market.statements[("ACME", "get_income_stmt", "quarterly")]
    market.statements[("ACME", "get_income_stmt", "quarterly")] = income.rename(index={"TotalRevenue": "OperatingRevenue"})
    warehouse = tmp_path / "w.duckdb"
    run_raw(warehouse, monkeypatch, as_of="2025-02-10")
    rows = query(warehouse, "select distinct line_item from raw.financial_statements where symbol = 'ACME' order by 1")
    assert ("OperatingRevenue",) in rows and ("TotalRevenue",) not in rows  # no crash; mapping decides in dbt


def test_info_missing_keys_land_as_nulls(market, tmp_path, monkeypatch):
    market.infos["ACME"] = {"shortName": "ACME CORP", "currency": "USD"}
    warehouse = tmp_path / "w.duckdb"
    result = run_raw(warehouse, monkeypatch)
    assert query(warehouse, "select name, currency, sector, market_cap from raw.company_profiles where symbol = 'ACME'") == [
        ("ACME CORP", "USD", None, None)
    ]
    assert "Ticker.info lacks" in metadata(result, ["raw", "company_profiles"], "warnings")[0]
