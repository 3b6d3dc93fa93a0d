"""Damaged input never rewrites good data: each case loads a damaged copy of the real market sample
over a warehouse loaded from the good one, and counts what changed before asserting anything.

Measured per case (printed in the `make faults` table): the good raw rows compared (prices,
statements, splits), how many of them changed value, and how many are gone. The damaged input
itself is named in raw.rejected_rows with its reason (and file and line where there is one).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.conftest import REPO_ROOT, SAMPLE_DIR, query, run_pipeline
from tests.faults.conftest import record

pytestmark = [pytest.mark.faults, pytest.mark.sample]
AS_OF = "2026-11-23"
KEYS = {
    "prices": ["symbol", "date"],
    "financial_statements": ["symbol", "statement", "period_type", "period_end", "line_item", "filed_date"],
    "stock_splits": ["symbol", "ex_date"],
}
PRICE_HEADER = "date,ticker,currency,open,high,low,close,adj_close,volume,dividends,stock_splits,price_basis,source_id"


def load_raw(warehouse: Path, snapshot: Path) -> None:
    from orchestration.defs.ingest import raw_assets
    from orchestration.defs.resources import MarketDataResource, WarehouseResource, run_settings

    with pytest.MonkeyPatch.context() as env:
        env.setenv("VALUATION_WAREHOUSE", str(warehouse))
        env.setenv("VALUATION_UNIVERSE", str(REPO_ROOT / "universe.yml"))
        env.setenv("VALUATION_AS_OF", AS_OF)
        env.setenv("VALUATION_SOURCE", "sample")
        result = dg.materialize(
            raw_assets,
            resources={"duckdb": WarehouseResource(database=str(warehouse)),
                       "market_data": MarketDataResource(source="sample", sample_dir=str(snapshot)),
                       "run_settings": run_settings()},  # fmt: skip
        )
    assert result.success


def raw_state(warehouse: Path) -> dict[str, dict[tuple, tuple]]:
    """Every raw row by key, its values without the load time."""
    state = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for table, key in KEYS.items():
            columns = [c for (c,) in conn.execute(
                "select column_name from duckdb_columns() where schema_name = 'raw' and table_name = ? "
                "and column_name <> '_loaded_at' order by column_index", [table]).fetchall()]  # fmt: skip
            rows = conn.execute(f"select {', '.join(columns)} from raw.{table}").fetchall()
            positions = [columns.index(k) for k in key]
            state[table] = {tuple(row[p] for p in positions): row for row in rows}
    return state


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[Path, dict]:
    if not (SAMPLE_DIR / "prices").is_dir():
        pytest.skip(f"market sample not found at {SAMPLE_DIR}")
    warehouse = tmp_path_factory.mktemp("good") / "valuation.duckdb"
    load_raw(warehouse, SAMPLE_DIR)
    return warehouse, raw_state(warehouse)


def append(path: Path, line: str) -> None:
    with open(path, "a", newline="") as handle:
        handle.write(line if line.endswith("\n") else line + "\n")


def row_of(path: Path, ticker: str, day: str) -> str:
    for line in path.read_text().splitlines():
        if f",{ticker}," in line and line.startswith(day):
            return line
    raise AssertionError(f"{ticker} {day} not in {path}")


def rewrite_row(path: Path, ticker: str, day: str, change: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    for i, line in enumerate(lines):
        cells = line.split(",")
        if len(cells) > 2 and cells[0] == day and cells[1] == ticker:
            lines[i] = ",".join(change(cells) if header[0] == "date" else cells)
    path.write_text("\n".join(lines) + "\n")


def times(factor: float, columns: tuple[int, ...]) -> Callable[[list[str]], list[str]]:
    def change(cells: list[str]) -> list[str]:
        return [str(float(c) * factor) if i in columns else c for i, c in enumerate(cells)]

    return change


US_NEW, US_OLD = "prices/us_daily_raw_2021_2026.csv", "prices/us_daily_raw_2014_2024.csv"
HK_RAW = "prices/hk_daily_raw_2014_2023.csv"


def future_row_in_the_older_nvda_file(s: Path) -> None:
    append(s / US_OLD, row_of(s / US_OLD, "NVDA", "2024-03-08").replace("2024-03-08", "2031-01-02", 1))


def a_newer_file_with_one_day_and_an_adj_close_typo(s: Path) -> None:
    (s / "prices/zz_newer.csv").write_text(
        PRICE_HEADER + "\n2026-04-13,GOOGL,USD,316.0,318.0,315.0,317.0,31.7,30000000,,,raw,typo\n"
    )


def renamed_column(s: Path) -> None:
    text = (s / US_NEW).read_text()
    (s / US_NEW).write_text(text.replace(",close,", ",Close,", 1))


def reordered_columns(s: Path) -> None:
    text = (s / US_NEW).read_text()
    (s / US_NEW).write_text(text.replace("open,high,low,close", "open,high,close,low", 1))


def semicolons(s: Path) -> None:
    (s / HK_RAW).write_text((s / HK_RAW).read_text().replace(",", ";"))


def one_line_with_an_extra_field(s: Path) -> None:
    lines = (s / HK_RAW).read_text().splitlines()
    lines[1000] += ",extra"
    (s / HK_RAW).write_text("\n".join(lines) + "\n")


def an_empty_file(s: Path) -> None:
    (s / "prices/zz_empty.csv").write_text("")


def a_directory_named_csv(s: Path) -> None:
    (s / "prices/zz_folder.csv").mkdir()


def a_file_not_in_utf8(s: Path) -> None:
    (s / "fundamentals/zz_latin1.csv").write_bytes(
        b"company_ticker,fiscal_period,period_type,period_start,period_end,filed_date,line_item,value,currency,unit\n"
        b"MSFT,FY2025,annual,2024-07-01,2025-06-30,2025-07-30,revenue,281724,USD,million \xe9\n"
    )


def two_different_rows_for_one_day_in_one_file(s: Path) -> None:
    cells = row_of(s / US_NEW, "AAPL", "2025-02-14").split(",")
    cells[8] = str(int(float(cells[8])) + 1)  # another volume: both rows valid, they disagree
    append(s / US_NEW, ",".join(cells))


def two_files_with_one_figure_two_values(s: Path) -> None:
    (s / "fundamentals/zz_conflict.csv").write_text(
        "company_ticker,fiscal_period,period_type,period_start,period_end,filed_date,line_item,value,currency,unit\n"
        "MSFT,FY2025,annual,2024-07-01,2025-06-30,2025-07-30,revenue,1000000,USD,million\n"
    )


def an_impossible_date(s: Path) -> None:
    append(s / US_NEW, row_of(s / US_NEW, "AAPL", "2025-02-14").replace("2025-02-14", "2025-02-30", 1))


def a_hundredfold_close(s: Path) -> None:
    rewrite_row(s / US_NEW, "AAPL", "2025-02-14", times(100.0, (3, 4, 5, 6, 7)))


def an_unknown_currency_on_one_statement_row(s: Path) -> None:
    path = s / "fundamentals/msft_annual_10k_fy2021_fy2025.csv"
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if ",revenue," in line and "2025-06-30,2025-07-30" in line)
    lines[index] = lines[index].replace(",USD,", ",XXX,")
    path.write_text("\n".join(lines) + "\n")


CASES: dict[str, tuple[Callable[[Path], None], set[str]]] = {
    "a row dated 2031 in the older NVDA file": (future_row_in_the_older_nvda_file, {"future_date"}),
    "a newer file: one new day, an adj_close typo": (a_newer_file_with_one_day_and_an_adj_close_typo, {"implausible_move"}),
    "a renamed column (close -> Close)": (renamed_column, {"unreadable_file"}),
    "two columns swapped in the header": (reordered_columns, {"unreadable_file"}),
    "a file written with semicolons": (semicolons, {"unreadable_file"}),
    "one line with an extra field": (one_line_with_an_extra_field, {"unreadable_file"}),
    "an empty file": (an_empty_file, {"unreadable_file"}),
    "a directory named *.csv": (a_directory_named_csv, {"unreadable_file"}),
    "a statements file not in UTF-8": (a_file_not_in_utf8, {"unreadable_file"}),
    "two different rows for one day in one file": (two_different_rows_for_one_day_in_one_file, {"conflicting_duplicate"}),
    "one figure with two values in two files": (two_files_with_one_figure_two_values, {"conflicting_duplicate"}),
    "an impossible date (2025-02-30)": (an_impossible_date, {"unparseable_date"}),
    "a 100x close (AAPL 2025-02-14)": (a_hundredfold_close, {"implausible_move"}),
    "currency XXX on one statement row": (an_unknown_currency_on_one_statement_row, {"unknown_currency"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_damaged_input_is_held_back_and_no_good_row_changes(case, good, tmp_path):
    good_warehouse, before = good
    damage, reasons = CASES[case]
    snapshot = tmp_path / "snapshot"
    shutil.copytree(SAMPLE_DIR, snapshot)
    damage(snapshot)
    warehouse = tmp_path / "valuation.duckdb"
    shutil.copy(good_warehouse, warehouse)

    load_raw(warehouse, snapshot)
    after = raw_state(warehouse)

    # measured first: what was compared, what changed, what is gone
    compared = sum(len(rows) for rows in before.values())
    changed = sum(1 for t in before for key, row in before[t].items() if key in after[t] and after[t][key] != row)
    lost = sum(1 for t in before for key in before[t] if key not in after[t])
    record(f"damaged input: {case}", 1, compared, lost, changed)

    assert (changed, lost) == (0, 0)
    found = {reason for (reason,) in query(warehouse, "select distinct reason from raw.rejected_rows")}
    assert reasons <= found, f"{case}: expected {reasons} in raw.rejected_rows, found {found}"


# A newer GOOGL download: 2026-04-08..10 as the sample has them, then Yahoo's newest bar without an
# Adj Close (04-13), then a bar on an ex-dividend day without one (04-14, a dividend of 0.21).
NEWEST_BARS = [
    "2026-04-13,GOOGL,USD,318.0,322.5,317.5,321.5,,25000000,,,raw,newest",
    "2026-04-14,GOOGL,USD,321.0,323.0,319.0,322.0,,21000000,0.21,,raw,newest",
]


def test_a_traded_close_without_an_adjusted_close_builds_and_is_named(good, tmp_path):
    """Accepted by the loader, so no ERROR test downstream may fail on it: the build publishes, the
    return of a bar without an Adj Close is chained, and the day no return can be chained to is named."""
    good_warehouse, before = good
    snapshot = tmp_path / "snapshot"
    shutil.copytree(SAMPLE_DIR, snapshot)
    overlap = [row_of(SAMPLE_DIR / US_NEW, "GOOGL", day) for day in ("2026-04-08", "2026-04-09", "2026-04-10")]
    (snapshot / "prices/zz_newest_bars.csv").write_text(PRICE_HEADER + "\n" + "\n".join(overlap + NEWEST_BARS) + "\n")
    warehouse = tmp_path / "valuation.duckdb"
    shutil.copy(good_warehouse, warehouse)

    run_pipeline(warehouse, snapshot, REPO_ROOT / "universe.yml", as_of=AS_OF)  # asserts the run succeeded
    after = raw_state(warehouse)
    compared = sum(len(rows) for rows in before.values())
    changed = sum(1 for t in before for key, row in before[t].items() if key in after[t] and after[t][key] != row)
    lost = sum(1 for t in before for key in before[t] if key not in after[t])
    record("damaged input: a traded close without an adjusted close", 1, compared, lost, changed)
    assert (changed, lost) == (0, 0)

    adjusted = dict(query(warehouse, "select date::varchar, adj_close from raw.prices where symbol = 'GOOGL' "
                                     "and date >= '2026-04-10'"))  # fmt: skip
    # 04-13 has the traded return from 04-10 (no dividend or split between): 321.5 / 317.24
    assert adjusted["2026-04-13"] / adjusted["2026-04-10"] == pytest.approx(321.5 / 317.239990234375, rel=1e-12)
    assert adjusted["2026-04-14"] is None, "a dividend that day: the return is unknown, not the traded one"
    assert query(warehouse, "select adj_close_basis from raw.prices where symbol = 'GOOGL' and date = '2026-04-13'") == [("chained",)]
    named = query(warehouse, "select symbol, first_date::varchar, last_date::varchar, days_without_adjusted_close "
                             "from dbt_test__audit.prices_without_an_adjusted_close")  # fmt: skip
    assert ("GOOGL", "2026-04-14", "2026-04-14", 1) in named
    # the marts were built over the new days (valuation uses the traded close; returns stop at the gap)
    assert query(warehouse, "select close, return_1w is null from marts.fct_valuation_daily "
                            "join marts.mart_relative_performance using (symbol) "
                            "where symbol = 'GOOGL' and date = '2026-04-14' and as_of_date = date") == [(322.0, True)]
    assert query(warehouse, "select count(*) from marts.fct_valuation_daily where symbol = 'GOOGL' and date = '2026-04-13'") == [(1,)]
