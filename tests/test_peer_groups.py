"""Peer medians, ranks and premiums on peer groups of three and four companies, and line items
mapped to no metric reported by name. tests/fixtures/peers: six US companies (USD, one share per
listing), closes on 2025-01-07, the as-of date; four quarters to 2024-09-30 and the balance sheet
at 2024-09-30, all filed by 2024-11-08. Figures in USD millions; EPS in USD per share.

company  shares  close  cap     TTM EPS                     TTM revenue              TTM EBITDA (OI + D&A)        debt - cash
ALFA     1,000   50     50,000  .40+.50+.50+.60 = 2.00      2400+2500+2500+2600 = 10,000  (850+900+900+950) + 400 = 4,000  2000 - 7000 = -5,000
BRAV       500   40     20,000  4 x .25 = 1.00              1200+1250+1250+1300 = 5,000   4 x 400 + 4 x 100 = 2,000        1000 - 1000 = 0
CHAR     2,000   30     60,000  .30+.40+.40+.40 = 1.50      4 x 2000 = 8,000              4 x 1100 + 4 x 400 = 6,000       3000 - 9000 = -6,000
DELT       100   200    20,000  1.50+1.50+1.50+1.75 = 6.25  4 x 1000 = 4,000              4 x 400 + 4 x 100 = 2,000        100 - 4100 = -4,000
ECHO       400   25     10,000  4 x .125 = 0.50             4 x 625 = 2,500               4 x 200 + 4 x 50 = 1,000         500 - 500 = 0
FOXT     1,000   15     15,000  4 x -.10 = -0.40 (loss)     4 x 600 = 2,400               4 x -300 + 4 x 100 = -800        100 - 100 = 0

P/E = close / TTM EPS; P/S = cap / revenue; EV/EBITDA = (cap + debt - cash) / EBITDA; a ratio over
a denominator that is not positive is null (FOXT's P/E and EV/EBITDA).
"""

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from orchestration.settings import DBT_PROJECT_DIR
from tests.conftest import FIXTURES, query, run_pipeline

PEERS = FIXTURES / "peers"

# symbol: (market_cap_usd, pe_ttm, ps_ttm, ev_ebitda_ttm), from the table above
MULTIPLES = {
    "ALFA": (50_000e6, 50 / 2.00, 50_000 / 10_000, (50_000 - 5_000) / 4_000),  # 25, 5, 11.25
    "BRAV": (20_000e6, 40 / 1.00, 20_000 / 5_000, (20_000 + 0) / 2_000),  # 40, 4, 10
    "CHAR": (60_000e6, 30 / 1.50, 60_000 / 8_000, (60_000 - 6_000) / 6_000),  # 20, 7.5, 9
    "DELT": (20_000e6, 200 / 6.25, 20_000 / 4_000, (20_000 - 4_000) / 2_000),  # 32, 5, 8
    "ECHO": (10_000e6, 25 / 0.50, 10_000 / 2_500, (10_000 + 0) / 1_000),  # 50, 4, 10
    "FOXT": (15_000e6, None, 15_000 / 2_400, None),  # -, 6.25, -
}


@pytest.fixture(scope="module")
def peers_run(tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    warehouse = tmp_path_factory.mktemp("peers") / "valuation.duckdb"
    return warehouse, run_pipeline(warehouse, PEERS / "snapshot", PEERS / "universe.yml", as_of="2025-01-07")


@pytest.fixture(scope="module")
def peer_rows(peers_run) -> dict[tuple[str, str], dict]:
    columns = ["as_of_date", "market_cap_usd", "rank_in_group", "companies_in_group", "companies_with_pe",
               "pe_ttm", "peer_median_pe_ttm", "pe_premium_to_peers", "ps_ttm", "peer_median_ps_ttm",
               "ps_premium_to_peers", "ev_ebitda_ttm", "peer_median_ev_ebitda_ttm", "ev_ebitda_premium_to_peers"]  # fmt: skip
    rows = query(peers_run[0], f"select peer_group, symbol, {', '.join(columns)} from marts.mart_peer_valuation")
    return {(group, symbol): dict(zip(columns, values)) for group, symbol, *values in rows}


def approx_or_none(value):
    return None if value is None else pytest.approx(value)


def test_every_listing_is_valued_as_worked_out_by_hand(peers_run):
    rows = query(peers_run[0], "select symbol, market_cap_usd, pe_ttm, ps_ttm, ev_ebitda_ttm from marts.fct_valuation_daily "
                               "where date = '2025-01-07'")  # fmt: skip
    assert {symbol: tuple(values) for symbol, *values in rows} == {
        symbol: tuple(approx_or_none(v) for v in values) for symbol, values in MULTIPLES.items()
    }


def test_a_group_of_three_takes_the_middle_value_and_ranks_by_market_cap(peer_rows):
    # cloud: ALFA, BRAV, CHAR. P/E 25, 40, 20 -> sorted 20, 25, 40: median 25.
    # P/S 5, 4, 7.5 -> median 5. EV/EBITDA 11.25, 10, 9 -> median 10.
    # Market caps CHAR 60,000 > ALFA 50,000 > BRAV 20,000.
    expected = {
        # symbol: rank, P/E premium, P/S premium, EV/EBITDA premium
        "ALFA": (2, 25 / 25 - 1, 5 / 5 - 1, 11.25 / 10 - 1),  # 0, 0, +0.125
        "BRAV": (3, 40 / 25 - 1, 4 / 5 - 1, 10 / 10 - 1),  # +0.6, -0.2, 0
        "CHAR": (1, 20 / 25 - 1, 7.5 / 5 - 1, 9 / 10 - 1),  # -0.2, +0.5, -0.1
    }
    assert {symbol for group, symbol in peer_rows if group == "cloud"} == set(expected)
    for symbol, (rank, pe_premium, ps_premium, ev_premium) in expected.items():
        row = peer_rows[("cloud", symbol)]
        assert (row["companies_in_group"], row["companies_with_pe"], row["rank_in_group"]) == (3, 3, rank), symbol
        assert (row["peer_median_pe_ttm"], row["peer_median_ps_ttm"], row["peer_median_ev_ebitda_ttm"]) == (
            pytest.approx(25), pytest.approx(5), pytest.approx(10))  # fmt: skip
        assert (row["pe_premium_to_peers"], row["ps_premium_to_peers"], row["ev_ebitda_premium_to_peers"]) == (
            pytest.approx(pe_premium), pytest.approx(ps_premium), pytest.approx(ev_premium)), symbol  # fmt: skip


def test_a_group_of_four_averages_the_middle_two_and_leaves_a_loss_out_of_the_pe_median(peer_rows):
    # software: CHAR, DELT, ECHO, FOXT.
    # P/E 20, 32, 50 and FOXT's loss (null, ignored): median of three = 32.
    # P/S 7.5, 5, 4, 6.25 -> sorted 4, 5, 6.25, 7.5: median (5 + 6.25) / 2 = 5.625.
    # EV/EBITDA 9, 8, 10 and FOXT's negative EBITDA (null): median 9.
    # Market caps CHAR 60,000 > DELT 20,000 > FOXT 15,000 > ECHO 10,000.
    expected = {
        "CHAR": (1, 20 / 32 - 1, 7.5 / 5.625 - 1, 9 / 9 - 1),  # -0.375, +1/3, 0
        "DELT": (2, 32 / 32 - 1, 5 / 5.625 - 1, 8 / 9 - 1),  # 0, -1/9, -1/9
        "FOXT": (3, None, 6.25 / 5.625 - 1, None),  # -, +1/9, -
        "ECHO": (4, 50 / 32 - 1, 4 / 5.625 - 1, 10 / 9 - 1),  # +0.5625, -0.2889, +1/9
    }
    assert {symbol for group, symbol in peer_rows if group == "software"} == set(expected)
    for symbol, (rank, pe_premium, ps_premium, ev_premium) in expected.items():
        row = peer_rows[("software", symbol)]
        assert (row["companies_in_group"], row["companies_with_pe"], row["rank_in_group"]) == (4, 3, rank), symbol
        assert (row["peer_median_pe_ttm"], row["peer_median_ps_ttm"], row["peer_median_ev_ebitda_ttm"]) == (
            pytest.approx(32), pytest.approx(5.625), pytest.approx(9))  # fmt: skip
        assert (row["pe_premium_to_peers"], row["ps_premium_to_peers"], row["ev_ebitda_premium_to_peers"]) == (
            approx_or_none(pe_premium), approx_or_none(ps_premium), approx_or_none(ev_premium)), symbol  # fmt: skip


def test_the_daily_peer_medians_agree_on_the_as_of_date(peers_run):
    rows = query(peers_run[0], "select peer_group, median_pe_ttm, median_ps_ttm, median_ev_ebitda_ttm, companies_with_pe "
                               "from marts.mart_peer_valuation_daily where date = '2025-01-07' order by peer_group")  # fmt: skip
    assert rows == [("cloud", pytest.approx(25), pytest.approx(5), pytest.approx(10), 3),
                    ("software", pytest.approx(32), pytest.approx(5.625), pytest.approx(9), 3)]  # fmt: skip


def unmapped_check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name == "unmapped_line_items"]
    assert len(evaluations) == 1
    return evaluations[0]


def test_line_items_mapped_to_no_metric_are_a_warning_naming_them(peers_run):
    warehouse, result = peers_run
    # ALFA reports research_and_development for two quarters, DELT gross_profit for one: neither
    # maps to a metric (seed line_item_metrics), so neither reaches a TTM.
    check = unmapped_check(result)
    assert check.asset_key == dg.AssetKey(["intermediate", "int_financial_metrics"])
    assert (check.passed, check.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert query(warehouse, "select symbol, line_item, rows_not_used from dbt_test__audit.unmapped_line_items "
                            "order by symbol") == [("ALFA", "research_and_development", 2), ("DELT", "gross_profit", 1)]  # fmt: skip


def test_with_every_line_item_mapped_the_warning_passes(fixture_run):
    assert unmapped_check(fixture_run[1]).passed


def test_an_as_of_date_set_by_var_gives_the_same_one_row_per_listing_and_group(peers_run, tmp_path):
    """var peer_as_of_date: the comparison at a date of the user's choosing, here the latest one,
    so the mart must come out exactly as without the var (the var once gave every row as many
    times as the fact table has rows)."""
    from orchestration.defs.dbt import DBT_EXECUTABLE

    columns = "peer_group, symbol, as_of_date, valuation_date, pe_ttm, peer_median_pe_ttm, rank_in_group"
    without_var = query(peers_run[0], f"select {columns} from marts.mart_peer_valuation order by all")
    assert len(without_var) > 6 and without_var[0][2] == date(2025, 1, 7)
    warehouse = tmp_path / "valuation.duckdb"
    shutil.copyfile(peers_run[0], warehouse)
    env = {**os.environ, "VALUATION_WAREHOUSE": str(warehouse), "DBT_TARGET_PATH": str(tmp_path / "target"),
           "DBT_LOG_PATH": str(tmp_path / "logs")}  # fmt: skip
    subprocess.run(
        [DBT_EXECUTABLE, "run", "--select", "mart_peer_valuation", "--vars", "{peer_as_of_date: '2025-01-07'}",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env, cwd=DBT_PROJECT_DIR, check=True, capture_output=True,
    )  # fmt: skip
    assert query(warehouse, f"select {columns} from marts.mart_peer_valuation order by all") == without_var
