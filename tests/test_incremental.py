"""fct_valuation_daily, mart_relative_performance and mart_peer_valuation_daily are incremental: a
daily run rebuilds only what changed, and gives the same rows as a full rebuild."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.dbt import DBT_EXECUTABLE, dbt_project
from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, query, run_pipeline

COLUMNS = "* exclude (built_at)"

NEW_PRICES = """2025-01-13,ACME,USD,104,106,103,105,105,1000,,,raw,fixture
2025-01-13,DRGN,USD,81,84,80,83,83,500,,,raw,fixture
"""
NEW_FX = """2025-01-13,USDHKD=X,HKD_per_USD,7.83,7.83,7.83,7.83,7.83,0,,,fx,fixture
2025-01-13,CNY=X,CNY_per_USD,7.35,7.35,7.35,7.35,7.35,0,,,fx,fixture
"""
# ACME's missing quarter, published late (filed 2025-01-07, loaded only on the second run)
LATE_QUARTER = "ACME,Q4 FY2024,quarterly,2024-07-01,2024-09-30,2025-01-07,revenue,540,USD,million,revenue,fixture\n"


# Dragon's first consensus snapshot, taken 2025-01-07 12:00 UTC (before New York's open, after Hong
# Kong's close), loaded only on the second run: older than the lookback window
CONSENSUS_HEADER = ("symbol,snapshot_at,period,end_date,eps_avg,eps_low,eps_high,eps_year_ago,eps_analysts,eps_currency,"
                    "revenue_avg,revenue_low,revenue_high,revenue_analysts,revenue_currency,eps_trend_current,eps_trend_7d_ago,"
                    "eps_trend_30d_ago,eps_trend_60d_ago,eps_trend_90d_ago,eps_trend_currency,source_file\n")  # fmt: skip
LATE_CONSENSUS = "DRGN,2025-01-07T12:00:00Z,+1y,2026-03-31,40,35,45,30,12,CNY,,,,,,40,40,39,38,38,CNY,fixture\n"


def next_day_snapshot(tmp_path):
    snapshot = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    with open(snapshot / "prices" / "us_fixture.csv", "a") as f:
        f.write(NEW_PRICES)
    with open(snapshot / "prices" / "fx_fixture.csv", "a") as f:
        f.write(NEW_FX)
    with open(snapshot / "fundamentals" / "fixture_statements.csv", "a") as f:
        f.write(LATE_QUARTER)
    (snapshot / "consensus").mkdir()
    (snapshot / "consensus" / "yahoo_earnings_trend_2025-01-07.csv").write_text(CONSENSUS_HEADER + LATE_CONSENSUS)
    return snapshot


@dataclass(frozen=True)
class Runs:
    daily: Path  # built on the fixture, then again on the next day's snapshot (incremental)
    full: Path  # built once on the next day's snapshot
    before: Path  # a copy of `daily` after its first build


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    """One first build, one daily incremental build and one full build, shared by the tests below."""
    tmp_path = tmp_path_factory.mktemp("incremental")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VALUATION_REBUILD_LOOKBACK_DAYS", "2")
        daily = tmp_path / "daily.duckdb"
        run_pipeline(daily, FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, as_of="2025-01-31")
        before = tmp_path / "before.duckdb"
        shutil.copyfile(daily, before)
        snapshot = next_day_snapshot(tmp_path)
        run_pipeline(daily, snapshot, FIXTURE_UNIVERSE, as_of="2025-01-31")
        full = tmp_path / "full.duckdb"
        run_pipeline(full, snapshot, FIXTURE_UNIVERSE, as_of="2025-01-31")
    return Runs(daily, full, before)


def test_daily_incremental_run_equals_a_full_rebuild(runs):
    daily, full = runs.daily, runs.full
    built_before = dict(query(runs.before, "select symbol || ' ' || date, built_at from marts.fct_valuation_daily"))

    order = " order by symbol, date"
    assert query(daily, f"select {COLUMNS} from marts.fct_valuation_daily{order}") == query(
        full, f"select {COLUMNS} from marts.fct_valuation_daily{order}"
    )
    built_after = dict(query(daily, "select symbol || ' ' || date, built_at from marts.fct_valuation_daily"))
    # DRGN and 9999.HK: from the day of Dragon's late consensus snapshot (2025-01-07, before the overlap
    # window from 2025-01-10 - 2 days), not before it
    assert built_after["DRGN 2025-01-06"] == built_before["DRGN 2025-01-06"]
    assert built_after["DRGN 2025-01-07"] != built_before["DRGN 2025-01-07"]
    assert built_after["9999.HK 2025-01-06"] == built_before["9999.HK 2025-01-06"]
    # ACME: the late quarter was filed on 2025-01-07, so its rows are rebuilt from that day on
    assert built_after["ACME 2025-01-06"] == built_before["ACME 2025-01-06"]
    assert built_after["ACME 2025-01-07"] != built_before["ACME 2025-01-07"]
    # ... and from the next session has a complete TTM of four quarters: 500 + 520 + 540 + 560 million
    # (on the filing day itself, the fiscal year's 2,000 million still)
    ttm = dict(query(daily, "select date, ttm_revenue_usd from marts.fct_valuation_daily where symbol = 'ACME' "
                            "and date in ('2025-01-07', '2025-01-08')"))  # fmt: skip
    assert ttm == {date(2025, 1, 7): 2_000e6, date(2025, 1, 8): pytest.approx((500 + 520 + 540 + 560) * 1e6)}
    assert query(daily, "select count(*) from marts.fct_valuation_daily where date = ?", [date(2025, 1, 13)]) == [(2,)]


def test_a_late_consensus_snapshot_gives_forward_pe_from_its_first_session_on_each_exchange(runs):
    # Dragon's +1y estimate CNY 40 per ADS (8 shares), snapshot 2025-01-07 12:00 UTC: New York from that
    # day's session, Hong Kong (closed by then) from 2025-01-08; the first run had no consensus at all
    def forward(warehouse, symbol):
        return dict(query(warehouse, "select date, pe_forward from marts.fct_valuation_daily where symbol = ? "
                                     "and date between '2025-01-06' and '2025-01-09'", [symbol]))  # fmt: skip

    assert set(forward(runs.before, "DRGN").values()) == {None}
    drgn, hk = forward(runs.daily, "DRGN"), forward(runs.daily, "9999.HK")
    assert drgn[date(2025, 1, 6)] is None and drgn[date(2025, 1, 7)] is not None
    assert hk[date(2025, 1, 7)] is None and hk[date(2025, 1, 8)] is not None
    # DRGN closed at 78 on 2025-01-07 and CNY=X was 7.31 (the fixture's prices): 78 / (40 / 7.31) = 14.25
    forward_eps = query(runs.daily, "select forward_eps from marts.fct_valuation_daily where symbol = 'DRGN' and date = '2025-01-07'")
    assert forward_eps == [(pytest.approx(40 / 7.31, rel=1e-12),)]  # USD per ADS: 40 / 8 per share x 8 per ADS
    assert drgn[date(2025, 1, 7)] == pytest.approx(78 * 7.31 / 40, rel=1e-12)


def test_relative_performance_daily_run_equals_a_full_rebuild(runs):
    daily, full = runs.daily, runs.full
    built_before = dict(query(runs.before, "select symbol || ' ' || as_of_date, built_at from marts.mart_relative_performance"))

    order = " order by symbol, as_of_date"
    rows = query(daily, f"select {COLUMNS} from marts.mart_relative_performance{order}")
    assert rows == query(full, f"select {COLUMNS} from marts.mart_relative_performance{order}")
    built_after = dict(query(daily, "select symbol || ' ' || as_of_date, built_at from marts.mart_relative_performance"))
    # DRGN's price of 2025-01-13 is new: rebuilt from there less the 2-day overlap, not before
    assert built_after["DRGN 2025-01-07"] == built_before["DRGN 2025-01-07"]
    assert built_after["DRGN 2025-01-13"] not in built_before.values()
    # the new day's week return, by hand: adjusted close 83 against 76 on 2025-01-06, a week earlier
    assert query(daily, "select return_1w from marts.mart_relative_performance where symbol = 'DRGN' and as_of_date = '2025-01-13'") == [
        (pytest.approx(83 / 76 - 1),)
    ]


def test_peer_medians_daily_run_equals_a_full_rebuild(runs):
    daily, full = runs.daily, runs.full
    built_before = dict(query(runs.before, "select peer_group || ' ' || date, built_at from marts.mart_peer_valuation_daily"))

    order = " order by peer_group, date"
    rows = query(daily, f"select {COLUMNS} from marts.mart_peer_valuation_daily{order}")
    assert rows == query(full, f"select {COLUMNS} from marts.mart_peer_valuation_daily{order}")
    built_after = dict(query(daily, "select peer_group || ' ' || date, built_at from marts.mart_peer_valuation_daily"))
    # the fact table rebuilt from 2025-01-07 (ACME's late quarter): the medians from that day on, not before
    assert built_after["us_megacap_tech 2025-01-06"] == built_before["us_megacap_tech 2025-01-06"]
    assert built_after["china_internet 2025-01-07"] != built_before["china_internet 2025-01-07"]
    # the new day: one company in each group (DRGN and 9999.HK are one), so 1 of 1 and no median
    assert query(daily, "select peer_group, median_pe_ttm, companies_in_group, companies_with_prices "
                        "from marts.mart_peer_valuation_daily where date = '2025-01-13' order by peer_group") == [
        ("china_internet", None, 1, 1), ("us_megacap_tech", None, 1, 1)]  # fmt: skip


def test_a_peer_group_that_gains_a_company_is_rebuilt_on_every_date(runs, tmp_path):
    """companies_in_group is on every date of a group, so a membership change rebuilds every date of
    the daily peer medians, as a full build would, though no price or filing changed."""
    universe = tmp_path / "universe.yml"
    universe.write_text(FIXTURE_UNIVERSE.read_text().replace("peer_groups: [china_internet]", "peer_groups: [china_internet, us_megacap_tech]"))
    assert universe.read_text() != FIXTURE_UNIVERSE.read_text()
    snapshot = next_day_snapshot(tmp_path)  # the snapshot runs.full was built on
    daily, full = tmp_path / "daily.duckdb", tmp_path / "full.duckdb"
    shutil.copyfile(runs.full, daily)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VALUATION_REBUILD_LOOKBACK_DAYS", "2")
        run_pipeline(daily, snapshot, universe, as_of="2025-01-31")
        run_pipeline(full, snapshot, universe, as_of="2025-01-31")

    order = " order by peer_group, date"
    rows = query(daily, f"select {COLUMNS} from marts.mart_peer_valuation_daily{order}")
    assert rows == query(full, f"select {COLUMNS} from marts.mart_peer_valuation_daily{order}")
    assert query(daily, "select distinct companies_in_group from marts.mart_peer_valuation_daily "
                        "where peer_group = 'us_megacap_tech'") == [(2,)]  # fmt: skip
    # on a day ACME and DRGN both have a P/S (ACME has no P/E in the fixture), 2 of 2 companies:
    # the median is their mean, also on days the fact table did not rebuild (it rebuilt its last 2 days only)
    both = query(daily, "select date, (acme.ps_ttm + drgn.ps_ttm) / 2 from marts.fct_valuation_daily as acme "
                        "join marts.fct_valuation_daily as drgn using (date) where acme.symbol = 'ACME' and drgn.symbol = 'DRGN' "
                        "and acme.ps_ttm is not null and drgn.ps_ttm is not null order by date")  # fmt: skip
    # both from 2025-01-06: DRGN has a market cap before its filed count (used from 01-07), from the
    # count its figures imply (8.4 bn)
    assert len(both) >= 5 and both[0][0] == date(2025, 1, 6)
    medians = dict(query(daily, "select date, median_ps_ttm from marts.mart_peer_valuation_daily where peer_group = 'us_megacap_tech'"))
    assert {day: medians[day] for day, _ in both} == {day: pytest.approx(mean) for day, mean in both}


def test_a_peer_mart_stored_without_the_new_columns_is_rebuilt_on_every_date(runs, tmp_path):
    """A warehouse whose mart_peer_valuation_daily an older version built (no companies_in_group,
    companies_with_ps, companies_with_ev_ebitda; medians of one): the next daily run appends the
    columns and rebuilds every date, so the table holds what a full build does, not nulls."""
    columns = ("peer_group, date, median_pe_ttm, median_ps_ttm, median_ev_ebitda_ttm, companies_in_group, "
               "companies_with_pe, companies_with_ps, companies_with_ev_ebitda, companies_with_prices")  # fmt: skip
    mart = f"select {columns} from marts.mart_peer_valuation_daily order by peer_group, date"
    warehouse = tmp_path / "valuation.duckdb"
    shutil.copyfile(runs.full, warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        for column in ("companies_in_group", "companies_with_ps", "companies_with_ev_ebitda"):
            conn.execute(f"alter table marts.mart_peer_valuation_daily drop column {column}")
        conn.execute("update marts.mart_peer_valuation_daily set median_pe_ttm = 10.0")  # the old median of one
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VALUATION_REBUILD_LOOKBACK_DAYS", "2")
        run_pipeline(warehouse, next_day_snapshot(tmp_path), FIXTURE_UNIVERSE, as_of="2025-01-31")
    assert query(warehouse, mart) == query(runs.full, mart)
    assert query(warehouse, "select count(*), count(companies_in_group), count(median_pe_ttm) "
                            "from marts.mart_peer_valuation_daily")[0][1:] == (len(query(runs.full, mart)), 0)  # fmt: skip


def failing_price_tests(warehouse: Path, work: Path, *flags: str, status: str = "fail") -> dict[str, int]:
    """`dbt build` of stg_prices and its tests on `warehouse` (the marts are not rebuilt):
    each failing test (or warning one, status="warn") and its rows, from dbt's run_results.json;
    a test is named without its arguments' suffix (accepted_values_stg_prices_price_basis)."""
    project = str(dbt_project.project_dir)
    subprocess.run(
        [DBT_EXECUTABLE, "build", "--select", "stg_prices", *flags, "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],  # fmt: skip
        env={**os.environ, "VALUATION_WAREHOUSE": str(warehouse)},
        capture_output=True,
        check=False,
    )
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    assert {result["status"] for result in results} <= {"success", "pass", "fail", "warn"}, results
    assert len(results) > 5, "stg_prices and its tests ran"
    return {result["unique_id"].split(".")[2].split("__")[0]: result["failures"]
            for result in results if result["status"] == status}  # fmt: skip


def load_price(warehouse: Path, symbol: str, day: str, adj_close: float | None, loaded_at: str = "now",
               price_basis: str = "raw") -> None:  # fmt: skip
    """A row of raw.prices as a load would leave it, written directly: validation would refuse a null close."""
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("delete from raw.prices where symbol = ? and date = ?", [symbol, day])
        conn.execute(
            "insert into raw.prices by name select ? as symbol, cast(? as date) as date, 80.0 as close, "
            "? as adj_close, 'USD' as currency, ? as price_basis, 'sample' as _source, "
            "case when ? = 'now' then timezone('UTC', now()) else cast(? as timestamp) end as _loaded_at",
            [symbol, day, adj_close, price_basis, loaded_at, loaded_at],
        )


def test_a_bad_price_row_fails_every_refresh_until_fixed_and_every_full_build(runs, tmp_path):
    # A row no load writes (an unknown price basis: a hand edit, or a row an older version left)
    # fails an ERROR test; a row the loader accepts never does (below).
    warehouse = tmp_path / "valuation.duckdb"
    shutil.copyfile(runs.full, warehouse)
    unknown_basis = "accepted_values_stg_prices_price_basis"

    load_price(warehouse, "ACME", "2025-01-14", adj_close=106.0, price_basis="weird")
    assert failing_price_tests(warehouse, tmp_path) == {unknown_basis: 1}
    # a later load of another symbol: the bad row is still unfixed, and still loaded since the marts' last build
    load_price(warehouse, "DRGN", "2025-01-14", adj_close=82.0)
    assert failing_price_tests(warehouse, tmp_path) == {unknown_basis: 1}
    assert failing_price_tests(warehouse, tmp_path, "--full-refresh") == {unknown_basis: 1}
    load_price(warehouse, "ACME", "2025-01-14", adj_close=106.0)
    assert failing_price_tests(warehouse, tmp_path) == {}

    # a bad row loaded before the marts' last build: a refresh tests what changed since, a full build everything
    load_price(warehouse, "DRGN", "2025-01-15", adj_close=82.0, price_basis="weird", loaded_at="2000-01-01 00:00:00")
    assert failing_price_tests(warehouse, tmp_path) == {}
    assert failing_price_tests(warehouse, tmp_path, "--full-refresh") == {unknown_basis: 1}


def test_a_traded_close_without_an_adjusted_close_warns_on_every_build_and_never_fails(runs, tmp_path):
    # The loader accepts a traded close without an adjusted one (no return could be chained to it):
    # no ERROR test fails, and the warning names the day on every build until a download fills it.
    warehouse = tmp_path / "valuation.duckdb"
    shutil.copyfile(runs.full, warehouse)
    load_price(warehouse, "ACME", "2025-01-14", adj_close=None)
    assert failing_price_tests(warehouse, tmp_path) == {}
    assert failing_price_tests(warehouse, tmp_path, status="warn") == {"prices_without_an_adjusted_close": 1}
    load_price(warehouse, "DRGN", "2025-01-14", adj_close=82.0)
    assert failing_price_tests(warehouse, tmp_path, status="warn") == {"prices_without_an_adjusted_close": 1}
    load_price(warehouse, "ACME", "2025-01-14", adj_close=106.0)
    assert failing_price_tests(warehouse, tmp_path, status="warn") == {}