"""The one keyed upsert: idempotent, exact about changes, all-or-nothing."""

from datetime import date

import duckdb
import pandas as pd
import pytest

from orchestration.warehouse import ensure_raw_schema, transaction, upsert
from orchestration.warehouse.schema import FINANCIAL_STATEMENTS, PRICES


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        ensure_raw_schema(connection)
        yield connection


def prices(*closes_by_day):
    return pd.DataFrame(
        [
            {"symbol": "ACME", "date": date(2025, 1, day), "open": c, "high": c, "low": c, "close": c,
             "adj_close": c, "volume": 1.0, "dividends": None, "stock_splits": None, "currency": "USD",
             "price_basis": "raw", "vintage_date": date(2025, 1, 31), "adj_close_basis": "download"}  # fmt: skip
            for day, c in closes_by_day
        ],
        columns=PRICES.data_columns,
    )


def test_insert_then_rerun_changes_nothing(conn):
    with transaction(conn):
        first = upsert(conn, PRICES, prices((6, 100.0), (7, 101.0)), "sample")
    loaded_at = conn.execute("select list(_loaded_at order by date) from raw.prices").fetchone()[0]
    with transaction(conn):
        again = upsert(conn, PRICES, prices((6, 100.0), (7, 101.0)), "sample")
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert conn.execute("select list(_loaded_at order by date) from raw.prices").fetchone()[0] == loaded_at


def test_a_corrected_value_replaces_its_row_only(conn):
    with transaction(conn):
        upsert(conn, PRICES, prices((6, 100.0), (7, 101.0)), "sample")
    with transaction(conn):
        result = upsert(conn, PRICES, prices((7, 101.5), (8, 102.0)), "yahoo")
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 0)
    rows = conn.execute("select day(date), close, _source from raw.prices order by date").fetchall()
    assert rows == [(6, 100.0, "sample"), (7, 101.5, "yahoo"), (8, 102.0, "yahoo")]


def test_a_null_key_part_still_identifies_its_row(conn):
    statement = pd.DataFrame(
        [{"symbol": "BABA", "statement": "income", "period_type": "annual", "fiscal_period": "FY2025",
          "period_start": date(2024, 4, 1), "period_end": date(2025, 3, 31), "filed_date": None,
          "line_item": "revenue", "value": 996_347e6, "currency": "CNY", "unit": "amount"}],  # fmt: skip
        columns=FINANCIAL_STATEMENTS.data_columns,
    )
    for _ in range(2):
        with transaction(conn):
            upsert(conn, FINANCIAL_STATEMENTS, statement, "sample")
    assert conn.execute("select count(*) from raw.financial_statements").fetchone()[0] == 1


def test_a_failure_inside_the_transaction_leaves_the_old_state(conn):
    with transaction(conn):
        upsert(conn, PRICES, prices((6, 100.0)), "sample")
    with pytest.raises(RuntimeError, match="crash"):
        with transaction(conn):
            upsert(conn, PRICES, prices((6, 90.0), (7, 91.0)), "sample")
            raise RuntimeError("crash after the upsert, before commit")
    assert conn.execute("select day(date), close from raw.prices").fetchall() == [(6, 100.0)]


def test_repeated_keys_in_one_frame_are_refused(conn):
    with pytest.raises(ValueError, match="repeats keys"):
        upsert(conn, PRICES, prices((6, 100.0), (6, 100.0)), "sample")


def test_a_frame_with_other_columns_is_refused(conn):
    with pytest.raises(ValueError, match="expected"):
        upsert(conn, PRICES, prices((6, 100.0)).drop(columns=["adj_close"]), "sample")


def test_replacing_a_table_with_the_same_content_leaves_it_untouched(conn):
    from orchestration.warehouse import replace_table
    from orchestration.warehouse.schema import UNIVERSE_FX_PAIRS

    pairs = pd.DataFrame([("USDHKD=X", "USD", "HKD")], columns=UNIVERSE_FX_PAIRS.data_columns)
    assert replace_table(conn, {UNIVERSE_FX_PAIRS: pairs}, "universe.yml") == [UNIVERSE_FX_PAIRS]
    loaded_at = conn.execute("select _loaded_at from raw.universe_fx_pairs").fetchall()
    assert replace_table(conn, {UNIVERSE_FX_PAIRS: pairs}, "universe.yml") == []
    assert conn.execute("select _loaded_at from raw.universe_fx_pairs").fetchall() == loaded_at
    more = pd.DataFrame([("USDHKD=X", "USD", "HKD"), ("CNY=X", "USD", "CNY")], columns=UNIVERSE_FX_PAIRS.data_columns)
    assert replace_table(conn, {UNIVERSE_FX_PAIRS: more}, "universe.yml") == [UNIVERSE_FX_PAIRS]
    assert conn.execute("select count(*) from raw.universe_fx_pairs").fetchone()[0] == 2


def test_a_load_larger_than_a_row_group_lands_whole(conn):
    # 300,000 rows (a year of a 1,200-symbol universe): past DuckDB's 122,880-row row group.
    # Regression: a staging table made with `as select ... limit 0` hid such a load from the
    # anti-join, and the upsert wrote nothing while reporting every row unchanged.
    n = 300_000
    days = pd.date_range("2000-01-03", periods=n // 100, freq="D").date
    frame = pd.DataFrame(
        {"symbol": [f"S{i:03d}" for i in range(100)] * len(days), "date": [d for d in days for _ in range(100)]}
    )
    frame = frame.assign(open=1.0, high=2.0, low=0.5, close=1.5, adj_close=1.5, volume=10.0,
                         dividends=0.0, stock_splits=0.0, currency="USD", price_basis="raw",
                         vintage_date=date(2025, 1, 31), adj_close_basis="download")  # fmt: skip
    with transaction(conn):
        first = upsert(conn, PRICES, frame[PRICES.data_columns], "sample")
    frame.loc[frame.index[-1000:], "close"] = 1.75  # a correction of the last ten days
    with transaction(conn):
        second = upsert(conn, PRICES, frame[PRICES.data_columns], "sample")
    assert (first.inserted, first.updated, first.unchanged) == (n, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 1000, n - 1000)
    assert conn.execute("select count(*), sum(close) from raw.prices").fetchone() == (n, 1.5 * (n - 1000) + 1.75 * 1000)


def test_a_stored_traded_close_is_never_replaced_by_a_lesser_or_older_one(conn):
    # The rule of raw.prices: a traded close (raw) beats a recovered (from_dividends) or missing one
    # (adjusted), and among equals a newer download beats an older one.
    stored = prices((6, 100.0), (7, 101.0))
    with transaction(conn):
        upsert(conn, PRICES, stored, "sample")
    adjusted_only = stored.assign(close=None, price_basis="adjusted", vintage_date=date(2025, 3, 1))
    older_download = stored.assign(close=[100.1, 101.1], vintage_date=date(2025, 1, 1))
    for incoming in (adjusted_only, older_download):
        with transaction(conn):
            result = upsert(conn, PRICES, incoming, "sample")
        assert (result.updated, result.held) == (0, 2)
    assert conn.execute("select close from raw.prices order by date").fetchall() == [(100.0,), (101.0,)]
    newer_download = stored.assign(close=[100.2, 101.2], vintage_date=date(2025, 2, 1))
    with transaction(conn):
        result = upsert(conn, PRICES, newer_download, "sample")
    assert (result.updated, result.held) == (2, 0)
    assert conn.execute("select close from raw.prices order by date").fetchall() == [(100.2,), (101.2,)]


def test_a_load_known_to_be_incomplete_adds_new_keys_and_restates_nothing(conn):
    with transaction(conn):
        upsert(conn, PRICES, prices((6, 100.0)), "sample")
    with transaction(conn):
        result = upsert(conn, PRICES, prices((6, 99.0), (7, 101.0)).assign(vintage_date=date(2025, 2, 1)), "sample",
                        update_existing=False)  # fmt: skip
    assert (result.inserted, result.updated, result.held) == (1, 0, 1)
    assert conn.execute("select close from raw.prices order by date").fetchall() == [(100.0,), (101.0,)]


def test_a_batch_is_stored_in_date_order_whatever_order_it_came_in(conn):
    # A landed bucket comes symbol by symbol. Stored by date, a table's row groups each hold a span
    # of dates, and the key joins of a day's upsert skip every row group outside its dates.
    frame = pd.concat([prices(*[(day, 10.0 + day) for day in range(1, 29)]).assign(symbol=s) for s in ("ZZZ", "AAA")])
    with transaction(conn):
        upsert(conn, PRICES, frame, "sample")
    stored = [day for (day,) in conn.execute("select date from raw.prices order by rowid").fetchall()]
    assert len(stored) == 56 and stored == sorted(stored)


def test_a_statements_table_of_an_earlier_version_gains_the_filing_columns(tmp_path):
    # raw.financial_statements as created before EDGAR: no accn, no form
    with duckdb.connect(str(tmp_path / "old.duckdb")) as connection:
        connection.execute("create schema raw")
        old = {c: t for c, t in FINANCIAL_STATEMENTS.columns.items() if c not in ("accn", "form")}
        body = ", ".join(f"{c} {t}" for c, t in old.items())
        connection.execute(f"create table raw.financial_statements ({body}, _source varchar not null, _loaded_at timestamp not null)")
        connection.execute("insert into raw.financial_statements values ('ACME', 'income', 'quarterly', null, null, "
                           "'2025-03-31', '2025-04-30', 'revenue', 1.0, 'USD', 'amount', 'yahoo', now())")
        ensure_raw_schema(connection)
        ensure_raw_schema(connection)  # idempotent
        columns = [c for (c,) in connection.execute(
            "select column_name from duckdb_columns() where schema_name = 'raw' and table_name = 'financial_statements'").fetchall()]
        assert sorted(columns) == sorted([*FINANCIAL_STATEMENTS.data_columns, "_source", "_loaded_at"])
        assert connection.execute("select accn, form from raw.financial_statements").fetchall() == [(None, None)]
