"""A real build with fundamentals from SEC EDGAR and prices from a sample-layout snapshot.

The EDGAR answers are the recorded ones (../shared/edgar-recorded), replayed under the production
`requests.Session` (tests/fakes/edgar_http.py). Tesla's prices are Yahoo's recorded chart
(../shared/yahoo-recorded: 3,303 daily bars 2010-06-29..2023-08-11), written into a snapshot's
prices CSV here; Snowflake's prices and one FX pair's are SCRIPTED (a constant 150 USD: no recorded chart), enough
to show that its losses give a null P/E. Tesla's splits (5:1 on 2020-08-31, 3:1 on 2022-08-25) are
the snapshot's corporate_actions/splits.csv. Expected values are read off the JSON by hand.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pandas as pd
import pytest

import orchestration.sources.edgar as edgar_module
from orchestration.defs.dbt import dbt_resource
from orchestration.defs.ingest import raw_financial_statements
from orchestration.defs.landing import landing_financial_statements
from orchestration.defs.resources import MarketDataResource, WarehouseResource, run_settings
from orchestration.definitions import pipeline_assets
from orchestration.landing import bucket_keys
from tests.conftest import FIXTURES, query
from tests.fakes.edgar_http import RECORDED_DIR, ReplayAdapter, replay_session

CHART = RECORDED_DIR.parent / "yahoo-recorded" / "chart" / "historical-via-chart-dividends-TSLA-no-dividends.json"
UNIVERSE = FIXTURES / "universe_edgar.yml"
AGENT = "Valuation Tests tests@example.com"
AS_OF = "2023-08-11"

pytestmark = pytest.mark.skipif(not (RECORDED_DIR.exists() and CHART.exists()), reason="recorded SEC / Yahoo answers not found")

PRICE_HEADER = ["date", "ticker", "currency", "open", "high", "low", "close", "adj_close", "volume", "dividends",
                "stock_splits", "price_basis", "source_id"]  # fmt: skip


def write_snapshot(root: Path) -> None:
    (root / "prices").mkdir(parents=True)
    (root / "corporate_actions").mkdir()
    result = json.loads(CHART.read_text())["response"]["bodyJson"]["chart"]["result"][0]
    quote, adjusted = result["indicators"]["quote"][0], result["indicators"]["adjclose"][0]["adjclose"]
    new_york = ZoneInfo("America/New_York")
    with open(root / "prices" / "tsla_chart.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PRICE_HEADER)
        for i, moment in enumerate(result["timestamp"]):
            day = datetime.fromtimestamp(moment, new_york).date()
            writer.writerow([day.isoformat(), "TSLA", "USD", quote["open"][i], quote["high"][i], quote["low"][i],
                             quote["close"][i], adjusted[i], quote["volume"][i], "", "", "raw", "yahoo-recorded"])  # fmt: skip
        # SCRIPTED: Snowflake at a constant 150 USD on the business days of its public life here
        for day in pd.bdate_range("2020-12-01", AS_OF):
            writer.writerow([day.date().isoformat(), "SNOW", "USD", 150, 150, 150, 150, 150, 1000, "", "", "raw", "scripted"])
        # SCRIPTED: the one FX pair at 7.8 HKD per USD (the warehouse's USD calendar spans its quotes)
        for day in pd.bdate_range("2010-06-01", AS_OF):
            writer.writerow([day.date().isoformat(), "USDHKD=X", "HKD_per_USD", 7.8, 7.8, 7.8, 7.8, 7.8, 0, "", "", "fx", "scripted"])
    with open(root / "corporate_actions" / "splits.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticker", "ex_date", "split_ratio", "description", "source_tag", "source_id"])
        writer.writerow(["TSLA", "2020-08-31", "5", "5-for-1", "Tesla 8-K 2020-08-11", "test"])
        writer.writerow(["TSLA", "2022-08-25", "3", "3-for-1", "Tesla 8-K 2022-08-05", "test"])


@pytest.fixture(scope="module")
def edgar_warehouse(tmp_path_factory) -> tuple[Path, ReplayAdapter, dict]:
    root = tmp_path_factory.mktemp("edgar")
    write_snapshot(root / "snapshot")
    warehouse = root / "valuation.duckdb"
    adapter = ReplayAdapter()
    with pytest.MonkeyPatch.context() as env:
        env.setattr(edgar_module, "new_http_session", lambda: replay_session(adapter))
        env.setenv("VALUATION_WAREHOUSE", str(warehouse))
        env.setenv("VALUATION_UNIVERSE", str(UNIVERSE))
        env.setenv("VALUATION_AS_OF", AS_OF)
        env.setenv("VALUATION_EDGAR_CACHE", str(root / "edgar-cache"))
        env.delenv("VALUATION_SOURCE", raising=False)
        env.delenv("VALUATION_FUNDAMENTALS_SOURCE", raising=False)
        resources = {
            "duckdb": WarehouseResource(database=str(warehouse)),
            "market_data": MarketDataResource(source="sample", sample_dir=str(root / "snapshot"), fundamentals_source="edgar",
                                              sec_user_agent=AGENT, landing_dir=str(root / "landing"),
                                              edgar_requests_per_second=0),
            "dbt": dbt_resource(),
            "run_settings": run_settings(),
        }  # fmt: skip
        # a first load of an empty warehouse writes the landing state the fetch reads
        assert dg.materialize([raw_financial_statements], resources=resources).success
        keys = bucket_keys()
        tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
        landed = dg.materialize([landing_financial_statements], resources=resources, tags=tags)
        assert landed.success
        first_requests = dict(adapter_counts(adapter))
        # SCRIPTED: Yahoo's copy of Tesla's Q2 2022 diluted EPS, dated like the 10-Q (2022-07-25) but
        # 1.90 where the filing says 1.95, as an earlier Yahoo run would have left it in raw
        with duckdb.connect(str(warehouse)) as conn:
            conn.execute("insert into raw.financial_statements (symbol, statement, period_type, period_end, filed_date, "
                         "line_item, value, currency, unit, _source, _loaded_at) values ('TSLA', 'income', 'quarterly', "
                         "'2022-06-30', '2022-07-25', 'DilutedEPS', 1.90, 'USD', 'per_share', 'yahoo', now())")  # fmt: skip
        assert dg.materialize(pipeline_assets, resources=resources).success
        # the daily refresh: both companies loaded, no filing since: one submissions request each
        before = len(adapter.hits)
        again = dg.materialize([landing_financial_statements], resources=resources, tags=tags)
        assert again.success
        daily_requests = adapter_counts(adapter, since=before)
        reload = dg.materialize([raw_financial_statements], resources=resources)
        assert reload.success
    return warehouse, adapter, {"first": first_requests, "daily": daily_requests, "reload": reload}


def adapter_counts(adapter: ReplayAdapter, since: int = 0) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path, _, _ in adapter.hits[since:]:
        endpoint = edgar_module.endpoint_of("https://x" + path)
        counts[endpoint] = counts.get(endpoint, 0) + 1
    return counts


def test_first_fetch_then_daily_refresh_requests(edgar_warehouse):
    _, _, runs = edgar_warehouse
    assert runs["first"] == {"company_tickers": 1, "companyfacts": 2}
    # the CIK list is cached; Tesla's submissions (recorded) list nothing newer than its last 10-Q.
    # Snowflake has no recorded submissions: the double answers 404, which fails Snowflake alone
    assert runs["daily"] == {"submissions": 2}


def test_every_edgar_row_keeps_its_filing(edgar_warehouse):
    warehouse, _, _ = edgar_warehouse
    missing = query(warehouse, "select count(*) from raw.financial_statements where _source = 'edgar' and (accn is null or form is null)")
    assert missing == [(0,)]
    staged = query(warehouse, "select count(*), count(accession_number), count(filing_form) from staging.stg_financial_statements "
                              "where loaded_from_source = 'edgar'")
    assert staged[0][0] > 1_000 and staged[0][0] == staged[0][1] == staged[0][2]
    vintages = query(warehouse, """
        select filed_date, form, accn from raw.financial_statements
        where symbol = 'TSLA' and line_item = 'us-gaap:Revenues' and period_type = 'annual' and period_end = '2011-12-31'
        order by filed_date""")
    assert vintages[:2] == [(date(2012, 2, 27), "10-K", "0001193125-12-081990"), (date(2012, 3, 28), "10-K/A", "0001193125-12-137560")]
    # each known from its own filing date in the warehouse
    known = query(warehouse, """
        select available_from from intermediate.int_financial_metrics
        where company_id = 'tesla' and metric = 'revenue' and period_type = 'annual' and period_end = '2011-12-31'
        order by 1""")
    assert known[:2] == [(date(2012, 2, 27),), (date(2012, 3, 28),)]


def test_tesla_quarter_eps_in_the_warehouse_is_the_quarter_on_todays_split_basis(edgar_warehouse):
    warehouse, _, _ = edgar_warehouse
    rows = query(warehouse, """
        select period_start, reported_value, split_factor, metric_value from intermediate.int_financial_metrics
        where company_id = 'tesla' and metric = 'eps_diluted' and period_type = 'quarterly'
          and period_end = '2022-06-30' and filed_date = '2022-07-25'""")
    # 1.95 for 2022-04-01..2022-06-30 (not the six months' 4.82), filed before the 3:1 split of
    # 2022-08-25; one row although Yahoo's 1.90 is dated the same day: the filing's value is used
    assert rows == [(date(2022, 4, 1), 1.95, 3.0, pytest.approx(1.95 / 3))]
    source = query(warehouse, "select source from intermediate.int_financial_metrics where company_id = 'tesla' "
                              "and metric = 'eps_diluted' and period_end = '2022-06-30' and filed_date = '2022-07-25'")
    assert source == [("edgar",)]


def test_where_edgar_and_yahoo_disagree_the_check_lists_it(edgar_warehouse):
    warehouse, _, _ = edgar_warehouse
    listed = query(warehouse, "select company_id, metric, period_type, period_end, edgar_value, yahoo_value, relative_difference "
                              "from dbt_test__audit.fundamentals_source_differences")
    assert listed == [("tesla", "eps_diluted", "quarterly", date(2022, 6, 30), 1.95, 1.90, pytest.approx(1.90 / 1.95 - 1))]


def test_tesla_cover_page_shares_on_one_split_basis(edgar_warehouse):
    warehouse, _, _ = edgar_warehouse
    counts = dict(query(warehouse, """
        select period_end, metric_value from intermediate.int_financial_metrics
        where company_id = 'tesla' and metric = 'shares_outstanding'
          and period_end in ('2020-07-20', '2020-10-20', '2022-10-18')"""))
    assert counts == {
        date(2020, 7, 20): 186_361_726 * 5 * 3,  # before both splits
        date(2020, 10, 20): 947_900_733 * 3,  # after the 5:1, before the 3:1
        date(2022, 10, 18): 3_157_752_449,  # after both
    }


def test_tesla_pe_history_from_2011_with_its_ttm_basis(edgar_warehouse):
    warehouse, _, _ = edgar_warehouse
    # Tesla's first XBRL filing is the 10-Q filed 2011-08-12 (its cover page: 2011-07-31): market
    # cap from the next session on. Its first complete TTM is the FY2011 10-K of 2012-02-27 (a
    # fiscal year): before it no four quarters are known (Q4 2010 needs FY2010, filed before XBRL)
    first_cap = query(warehouse, "select min(date) from marts.fct_valuation_daily where symbol = 'TSLA' and market_cap_usd is not null")
    assert first_cap == [(date(2011, 8, 15),)]
    first_ttm = query(warehouse, "select date, ttm_basis, fundamentals_period_end from marts.fct_valuation_daily "
                                 "where symbol = 'TSLA' and ttm_basis is not null order by date limit 1")
    assert first_ttm == [(date(2012, 2, 28), "fiscal_year", date(2011, 12, 31))]
    bases = dict(query(warehouse, "select ttm_basis, count(*) from marts.fct_valuation_daily where symbol = 'TSLA' group by 1"))
    assert bases["four_quarters"] > 2_000
    # losses: no P/E until Tesla's TTM earnings turn positive, never a negative one
    assert query(warehouse, "select count(*) from marts.fct_valuation_daily where pe_ttm <= 0") == [(0,)]
    losses = query(warehouse, "select count(*), count(pe_ttm) from marts.fct_valuation_daily "
                              "where symbol = 'TSLA' and date between '2012-01-01' and '2012-12-31'")
    assert losses[0][0] > 200 and losses[0][1] == 0
    # the first positive TTM: Q3 2019 .. Q2 2020, known from the 10-Q filed 2020-07-28
    first_pe = query(warehouse, "select min(date) from marts.fct_valuation_daily where symbol = 'TSLA' and pe_ttm is not null")
    assert first_pe == [(date(2020, 7, 29),)]
    row = query(warehouse, "select close, ttm_eps, pe_ttm, pe_ttm_basis, ttm_basis, fundamentals_period_end "
                           "from marts.fct_valuation_daily where symbol = 'TSLA' and date = '2022-08-01'")
    close, ttm_eps, pe, pe_basis, ttm_basis, period_end = row[0]
    # TTM diluted EPS to 2022-06-30 on the filings' (pre-3:1) basis: Q3 2021 1.44 + Q4 2021 derived
    # (FY 4.90 - nine months 2.84) + Q1 2022 2.86 + Q2 2022 1.95; on today's basis divided by 3
    expected_eps = (1.44 + (4.90 - 2.84) + 2.86 + 1.95) / 3
    assert close == 297.27667236328125
    assert ttm_eps == pytest.approx(expected_eps)
    assert pe == pytest.approx(297.27667236328125 / expected_eps)
    assert (pe_basis, ttm_basis, period_end) == ("diluted_eps", "four_quarters", date(2022, 6, 30))


def test_snowflake_losses_give_a_null_pe(edgar_warehouse):
    warehouse, _, _ = edgar_warehouse
    rows = query(warehouse, "select count(*), count(ttm_eps), count(pe_ttm), max(ttm_eps) "
                            "from marts.fct_valuation_daily where symbol = 'SNOW' and date >= '2022-01-01'")
    days, with_eps, with_pe, highest_eps = rows[0]
    assert days > 300 and with_eps > 300 and with_pe == 0 and highest_eps < 0


def test_a_run_with_edgar_and_no_user_agent_stops_before_any_step(tmp_path, monkeypatch):
    adapter = ReplayAdapter()
    monkeypatch.setattr(edgar_module, "new_http_session", lambda: replay_session(adapter))
    monkeypatch.setenv("VALUATION_UNIVERSE", str(UNIVERSE))
    monkeypatch.setenv("VALUATION_AS_OF", AS_OF)
    monkeypatch.delenv("VALUATION_SEC_USER_AGENT", raising=False)
    monkeypatch.delenv("VALUATION_FUNDAMENTALS_SOURCE", raising=False)
    resources = {
        "duckdb": WarehouseResource(database=str(tmp_path / "w.duckdb")),
        "market_data": MarketDataResource(source="sample", sample_dir=str(tmp_path), fundamentals_source="edgar",
                                          landing_dir=str(tmp_path / "landing")),
        "run_settings": run_settings(),
    }  # fmt: skip
    result = dg.materialize([raw_financial_statements], resources=resources, raise_on_error=False)
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]
    failure = next(e for e in result.all_events if e.event_type_value in ("RESOURCE_INIT_FAILURE", "STEP_FAILURE", "RUN_FAILURE")
                   and "VALUATION_SEC_USER_AGENT" in str(e.event_specific_data))  # fmt: skip
    assert failure is not None and adapter.hits == []
