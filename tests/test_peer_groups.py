"""Peer medians, ranks and premiums on peer groups of three, four and six companies, the rule that
a median needs two companies and half of its group, and line items mapped to no metric reported
by name. tests/fixtures/peers (made up): ten companies (in USD, one share per listing unit, but for
KILO's ADS and its HKD listing), closes on 2025-01-07, the as-of date; four quarters to 2024-09-30 and the balance sheet at
2024-09-30, all filed by 2024-11-08. Figures in USD millions; EPS in USD per share.

company  shares  close  cap     TTM EPS                     TTM revenue              TTM EBITDA (OI + D&A)        debt - cash
ALFA     1,000   50     50,000  .40+.50+.50+.60 = 2.00      2400+2500+2500+2600 = 10,000  (850+900+900+950) + 400 = 4,000  2000 - 7000 = -5,000
BRAV       500   40     20,000  4 x .25 = 1.00              1200+1250+1250+1300 = 5,000   4 x 400 + 4 x 100 = 2,000        1000 - 1000 = 0
CHAR     2,000   30     60,000  .30+.40+.40+.40 = 1.50      4 x 2000 = 8,000              4 x 1100 + 4 x 400 = 6,000       3000 - 9000 = -6,000
DELT       100   200    20,000  1.50+1.50+1.50+1.75 = 6.25  4 x 1000 = 4,000              4 x 400 + 4 x 100 = 2,000        100 - 4100 = -4,000
ECHO       400   25     10,000  4 x .125 = 0.50             4 x 625 = 2,500               4 x 200 + 4 x 50 = 1,000         500 - 500 = 0
FOXT     1,000   15     15,000  4 x -.10 = -0.40 (loss)     4 x 600 = 2,400               4 x -300 + 4 x 100 = -800        100 - 100 = 0
GOLF       500   20     10,000  4 x -.05 = -0.20 (loss)     4 x 1250 = 5,000              4 x -150 + 4 x 50 = -400         100 - 100 = 0
HOTL         -   10          -  no statements: no share count, no TTM, no multiple
INDI       250   50     12,500  4 x -.25 = -1.00 (loss)     4 x 312.5 = 1,250             4 x 100 + 4 x 150 = 1,000        2000 - 0 = 2,000
KILO       800   60 an ADS of 4 shares = 15 a share: 800 x 15 = 12,000; EPS 4 x .0625 = 0.25 a share = 1.00 an ADS;
                 revenue 4 x 750 = 3,000; EBITDA 4 x 250 + 4 x 50 = 1,200; debt - cash 1800 - 600 = 1,200
8888.HK  KILO's shares in Hong Kong at HKD 117 (= 15 x 7.80, USDHKD 7.80): 800 x 117 / 7.80 = 12,000; EPS HKD 0.25 x 7.80 = 1.95

P/E = close / TTM EPS; P/S = cap / revenue; EV/EBITDA = (cap + debt - cash) / EBITDA; a ratio over
a denominator that is not positive is null (FOXT's, GOLF's and INDI's P/E, FOXT's and GOLF's
EV/EBITDA).

Peer groups: cloud ALFA BRAV CHAR; software CHAR DELT ECHO FOXT; thin ALFA BRAV FOXT GOLF HOTL INDI;
half CHAR DELT KILO FOXT GOLF HOTL; pair ECHO FOXT. A median needs at least two companies with the multiple and at
least half of the group's companies (DESIGN.md, Marts).
"""

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
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
    "GOLF": (10_000e6, None, 10_000 / 5_000, None),  # -, 2, -
    "HOTL": (None, None, None, None),  # a price, nothing else
    "INDI": (12_500e6, None, 12_500 / 1_250, (12_500 + 2_000) / 1_000),  # -, 10, 14.5
    "KILO": (12_000e6, 60 / (0.25 * 4), 12_000 / 3_000, (12_000 + 1_200) / 1_200),  # 60, 4, 11
    "8888.HK": (800e6 * 117 / 7.80, 117 / (0.25 * 7.80), 12_000 / 3_000, (12_000 + 1_200) / 1_200),  # 12,000; 60, 4, 11
}


@pytest.fixture(scope="module")
def peers_run(tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    warehouse = tmp_path_factory.mktemp("peers") / "valuation.duckdb"
    return warehouse, run_pipeline(warehouse, PEERS / "snapshot", PEERS / "universe.yml", as_of="2025-01-07")


@pytest.fixture(scope="module")
def peer_rows(peers_run) -> dict[tuple[str, str], dict]:
    columns = ["as_of_date", "market_cap_usd", "rank_in_group", "represents_company", "companies_in_group",
               "companies_with_pe", "companies_with_ps", "companies_with_ev_ebitda", "pe_ttm", "peer_median_pe_ttm",
               "pe_premium_to_peers", "ps_ttm", "peer_median_ps_ttm", "ps_premium_to_peers", "ev_ebitda_ttm",
               "peer_median_ev_ebitda_ttm", "ev_ebitda_premium_to_peers"]  # fmt: skip
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
        assert (row["companies_in_group"], row["companies_with_pe"], row["companies_with_ps"], row["companies_with_ev_ebitda"],
                row["rank_in_group"]) == (3, 3, 3, 3, rank), symbol  # fmt: skip
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
        # P/E and EV/EBITDA 3 of 4, P/S 4 of 4: each at least two and half of the group, so each a median
        assert (row["companies_in_group"], row["companies_with_pe"], row["companies_with_ps"], row["companies_with_ev_ebitda"],
                row["rank_in_group"]) == (4, 3, 4, 3, rank), symbol  # fmt: skip
        assert (row["peer_median_pe_ttm"], row["peer_median_ps_ttm"], row["peer_median_ev_ebitda_ttm"]) == (
            pytest.approx(32), pytest.approx(5.625), pytest.approx(9))  # fmt: skip
        assert (row["pe_premium_to_peers"], row["ps_premium_to_peers"], row["ev_ebitda_premium_to_peers"]) == (
            approx_or_none(pe_premium), approx_or_none(ps_premium), approx_or_none(ev_premium)), symbol  # fmt: skip


def test_a_group_of_six_with_two_pes_has_no_pe_median_and_no_pe_premiums(peer_rows):
    # thin: ALFA, BRAV, FOXT, GOLF, HOTL, INDI: six companies, one listing each.
    # P/E: ALFA 25 and BRAV 40 only (FOXT, GOLF, INDI losses; HOTL no data): 2 of 6 < half of 6 ->
    # null, not (25 + 40) / 2 = 32.5; so ALFA's and BRAV's P/E premiums are null although they have a P/E.
    # P/S: 5, 4, 6.25, 2, 10 (HOTL none): 5 of 6 -> sorted 2, 4, 5, 6.25, 10: median 5.
    # EV/EBITDA: ALFA 11.25, BRAV 10, INDI 14.5 (FOXT, GOLF negative EBITDA; HOTL none): 3 of 6 = half
    # -> sorted 10, 11.25, 14.5: median 11.25.
    expected = {
        # symbol: P/S premium, EV/EBITDA premium
        "ALFA": (5 / 5 - 1, 11.25 / 11.25 - 1),  # 0, 0
        "BRAV": (4 / 5 - 1, 10 / 11.25 - 1),  # -0.2, -1/9
        "FOXT": (6.25 / 5 - 1, None),  # +0.25, -
        "GOLF": (2 / 5 - 1, None),  # -0.6, -
        "HOTL": (None, None),  # no multiple, still a member
        "INDI": (10 / 5 - 1, 14.5 / 11.25 - 1),  # +1, +0.2889
    }
    assert {symbol for group, symbol in peer_rows if group == "thin"} == set(expected)
    for symbol, (ps_premium, ev_premium) in expected.items():
        row = peer_rows[("thin", symbol)]
        counts = (row["companies_in_group"], row["companies_with_pe"], row["companies_with_ps"], row["companies_with_ev_ebitda"])
        assert counts == (6, 2, 5, 3), symbol
        assert (row["peer_median_pe_ttm"], row["peer_median_ps_ttm"], row["peer_median_ev_ebitda_ttm"]) == (
            None, pytest.approx(5), pytest.approx(11.25)), symbol  # fmt: skip
        assert (row["pe_premium_to_peers"], row["ps_premium_to_peers"], row["ev_ebitda_premium_to_peers"]) == (
            None, approx_or_none(ps_premium), approx_or_none(ev_premium)), symbol  # fmt: skip
    assert (peer_rows[("thin", "ALFA")]["pe_ttm"], peer_rows[("thin", "BRAV")]["pe_ttm"]) == (pytest.approx(25), pytest.approx(40))


def test_three_of_six_is_half_the_group_and_a_company_listed_twice_counts_once(peer_rows):
    # half: CHAR, DELT, KILO (KILO and 8888.HK), FOXT, GOLF, HOTL: six companies, seven listings.
    # P/E: CHAR 20, DELT 32, KILO 60 (one company, whichever listing): 3 of 6 = half -> median of
    # 20, 32, 60 = 32. Counting listings would give 4 of 7 and the median of 20, 32, 60, 60 = 46.
    # P/S: CHAR 7.5, DELT 5, KILO 4, FOXT 6.25, GOLF 2: 5 of 6 -> sorted 2, 4, 5, 6.25, 7.5: median 5
    # (KILO twice: 2, 4, 4, 5, 6.25, 7.5 -> 4.5).
    # EV/EBITDA: CHAR 9, DELT 8, KILO 11: 3 of 6 -> median 9 (KILO twice: 8, 9, 11, 11 -> 10).
    # Ranks by market cap: CHAR 60,000 > DELT 20,000 > FOXT 15,000 > KILO 12,000 > GOLF 10,000 > HOTL none.
    expected = {
        # symbol: rank, P/E premium, P/S premium, EV/EBITDA premium
        "CHAR": (1, 20 / 32 - 1, 7.5 / 5 - 1, 9 / 9 - 1),  # -0.375, +0.5, 0
        "DELT": (2, 32 / 32 - 1, 5 / 5 - 1, 8 / 9 - 1),  # 0, 0, -1/9
        "FOXT": (3, None, 6.25 / 5 - 1, None),  # -, +0.25, -
        "KILO": (4, 60 / 32 - 1, 4 / 5 - 1, 11 / 9 - 1),  # +0.875, -0.2, +2/9
        "8888.HK": (4, 60 / 32 - 1, 4 / 5 - 1, 11 / 9 - 1),  # the same company, the same multiples
        "GOLF": (5, None, 2 / 5 - 1, None),  # -, -0.6, -
        "HOTL": (6, None, None, None),
    }
    assert {symbol for group, symbol in peer_rows if group == "half"} == set(expected)
    for symbol, (rank, pe_premium, ps_premium, ev_premium) in expected.items():
        row = peer_rows[("half", symbol)]
        counts = (row["companies_in_group"], row["companies_with_pe"], row["companies_with_ps"], row["companies_with_ev_ebitda"])
        assert (*counts, row["rank_in_group"]) == (6, 3, 5, 3, rank), symbol
        assert (row["peer_median_pe_ttm"], row["peer_median_ps_ttm"], row["peer_median_ev_ebitda_ttm"]) == (
            pytest.approx(32), pytest.approx(5), pytest.approx(9)), symbol  # fmt: skip
        assert (row["pe_premium_to_peers"], row["ps_premium_to_peers"], row["ev_ebitda_premium_to_peers"]) == (
            approx_or_none(pe_premium), approx_or_none(ps_premium), approx_or_none(ev_premium)), symbol  # fmt: skip
    # KILO counts through its primary listing (both were valued on 2025-01-07)
    assert (peer_rows[("half", "KILO")]["represents_company"], peer_rows[("half", "8888.HK")]["represents_company"]) == (True, False)


def test_one_of_two_is_half_the_group_but_a_median_of_one_is_none(peer_rows):
    # pair: ECHO and FOXT. P/E: ECHO 50 only (FOXT a loss): 1 of 2 is half the group, but fewer
    # than two companies -> null, not 50. P/S: ECHO 4, FOXT 6.25: 2 of 2 -> (4 + 6.25) / 2 = 5.125.
    # EV/EBITDA: ECHO 10 only (FOXT's EBITDA negative): 1 of 2 -> null.
    for symbol, ps_premium in {"ECHO": 4 / 5.125 - 1, "FOXT": 6.25 / 5.125 - 1}.items():  # -0.2195, +0.2195
        row = peer_rows[("pair", symbol)]
        counts = (row["companies_in_group"], row["companies_with_pe"], row["companies_with_ps"], row["companies_with_ev_ebitda"])
        assert counts == (2, 1, 2, 1), symbol
        assert (row["peer_median_pe_ttm"], row["peer_median_ps_ttm"], row["peer_median_ev_ebitda_ttm"]) == (None, pytest.approx(5.125), None)
        assert (row["pe_premium_to_peers"], row["ps_premium_to_peers"], row["ev_ebitda_premium_to_peers"]) == (
            None, pytest.approx(ps_premium), None)  # fmt: skip


def test_the_daily_peer_medians_and_their_counts_agree_on_the_as_of_date(peers_run):
    # the medians and counts worked out in the tests above, on 2025-01-07; on 2025-01-06 the
    # closes differ but every company has the same multiples known, so the counts are the same
    columns = "median_pe_ttm, median_ps_ttm, median_ev_ebitda_ttm, companies_in_group, companies_with_pe, " \
              "companies_with_ps, companies_with_ev_ebitda, companies_with_prices"  # fmt: skip
    rows = query(peers_run[0], f"select peer_group, {columns} from marts.mart_peer_valuation_daily "
                               "where date = '2025-01-07' order by peer_group")  # fmt: skip
    approx = pytest.approx
    assert rows == [
        # group: medians P/E, P/S, EV/EBITDA; in group, with P/E, P/S, EV/EBITDA, with prices
        ("cloud", approx(25), approx(5), approx(10), 3, 3, 3, 3, 3),
        ("half", approx(32), approx(5), approx(9), 6, 3, 5, 3, 6),  # HOTL has a price, KILO counts once
        ("pair", None, approx(5.125), None, 2, 1, 2, 1, 2),  # a median of one is none
        ("software", approx(32), approx(5.625), approx(9), 4, 3, 4, 3, 4),
        ("thin", None, approx(5), approx(11.25), 6, 2, 5, 3, 6),  # 2 of 6 P/Es: no median
    ]
    counts = "peer_group, companies_in_group, companies_with_pe, companies_with_ps, companies_with_ev_ebitda, companies_with_prices"
    on = "select {} from marts.mart_peer_valuation_daily where date = '{}' order by peer_group"
    assert query(peers_run[0], on.format(counts, "2025-01-06")) == query(peers_run[0], on.format(counts, "2025-01-07"))
    assert query(peers_run[0], "select count(*), count(median_pe_ttm) from marts.mart_peer_valuation_daily "
                               "where peer_group = 'thin'") == [(2, 0)]  # fmt: skip


def failing_tests(warehouse: Path, work: Path, select: str) -> dict[str, int]:
    """`dbt test --select <select>` on `warehouse`: each failing test and its failing rows."""
    from orchestration.defs.dbt import DBT_EXECUTABLE

    project = str(DBT_PROJECT_DIR)
    subprocess.run(
        [DBT_EXECUTABLE, "test", "--select", select, "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],  # fmt: skip
        env={**os.environ, "VALUATION_WAREHOUSE": str(warehouse)}, cwd=DBT_PROJECT_DIR, capture_output=True, check=False,
    )  # fmt: skip
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    assert {result["status"] for result in results} <= {"pass", "fail"}, results
    assert len(results) > 10, "the marts' tests ran"
    return {result["unique_id"].split(".")[2]: result["failures"] for result in results if result["status"] == "fail"}


def test_the_marts_tests_fail_a_median_over_too_few_companies_and_a_count_above_the_group(peers_run, tmp_path):
    warehouse = tmp_path / "valuation.duckdb"
    shutil.copyfile(peers_run[0], warehouse)
    select = "mart_peer_valuation mart_peer_valuation_daily"
    assert failing_tests(warehouse, tmp_path, select) == {}
    with duckdb.connect(str(warehouse)) as conn:
        # thin's P/E median as a median over its 2 of 6 companies would be: (25 + 40) / 2
        conn.execute("update marts.mart_peer_valuation set peer_median_pe_ttm = (25 + 40) / 2 where peer_group = 'thin'")
        conn.execute("update marts.mart_peer_valuation_daily set median_pe_ttm = (25 + 40) / 2 where peer_group = 'thin'")
        # half's listings counted instead of its companies: 7 of a group of 6
        conn.execute("update marts.mart_peer_valuation_daily set companies_with_pe = 7 where peer_group = 'half' and date = '2025-01-07'")
    failing = failing_tests(warehouse, tmp_path, select)
    # thin: six listings in mart_peer_valuation (one each), two days in mart_peer_valuation_daily
    assert failing == {
        "peer_median_has_enough_companies_mart_peer_valuation_peer_median_pe_ttm__companies_with_pe": 6,
        "peer_median_has_enough_companies_mart_peer_valuation_daily_median_pe_ttm__companies_with_pe": 2,
        "in_range_mart_peer_valuation_daily_companies_with_pe__companies_in_group__0": 1,
    }


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
