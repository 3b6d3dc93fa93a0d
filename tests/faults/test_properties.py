"""Property-based tests: any frame a source can produce either normalizes into rows that satisfy
the raw layer's constraints or is rejected with a reason - never another exception."""

import math
from datetime import date

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.normalize import validate_prices, validate_statements
from orchestration.normalize.yahoo import first_release_after, prices_from_history, statement_rows
from orchestration.sources import Instrument
from orchestration.normalize.prices import SOURCE_COLUMNS, VINTAGE_COLUMNS, choose_prices
from orchestration.warehouse.schema import FINANCIAL_STATEMENTS, PRICES

AS_OF = date(2025, 1, 31)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), st.none(),
                    st.integers(min_value=-(10**12), max_value=10**12))  # fmt: skip
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31))
symbols = st.sampled_from(["ACME", "9999.HK", "^GSPC", "USDHKD=X", "ZZZ", ""])
price_rows = st.fixed_dictionaries({
    "symbol": symbols, "date": days, "open": numbers, "high": numbers, "low": numbers, "close": numbers,
    "adj_close": numbers, "volume": numbers, "dividends": numbers, "stock_splits": numbers,
    "currency": st.sampled_from(["USD", "HKD", "CNY", "index_points", "HKD_per_USD", ""]),
    "price_basis": st.sampled_from(["raw", "adjusted", "index", "fx"]),
})  # fmt: skip
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_price_rows(rows: pd.DataFrame, as_of: date = AS_OF) -> None:
    assert list(rows.columns) == SOURCE_COLUMNS + VINTAGE_COLUMNS
    assert not rows.duplicated(subset=["vintage", "symbol", "date"]).any()
    for row in rows.itertuples():
        assert row.symbol and isinstance(row.date, date) and row.date <= as_of
        assert math.isfinite(row.close) and row.close > 0
        assert not (row.volume < 0)
        if not (math.isnan(row.low) or math.isnan(row.high)):
            assert row.low <= row.high


@FAST
@given(st.lists(price_rows, max_size=12))
def test_any_price_frame_is_loaded_or_rejected_with_a_reason(rows):
    frame = pd.DataFrame(rows, columns=SOURCE_COLUMNS)
    result = validate_prices(frame, AS_OF, {"ACME": "USD", "9999.HK": "HKD"})
    check_price_rows(result.rows)
    assert result.rejected["reason"].notna().all() and result.rejected["payload"].str.startswith("{").all()
    assert len(result.rows) + len(result.rejected) <= len(frame)
    # every input row is accounted for: loaded, rejected, or an exact repeat of a rejected one
    assert len(result.rows) + len(result.rejected) + frame.astype(str).duplicated().sum() >= len(frame)


@FAST
@given(st.lists(st.tuples(days, numbers, numbers, numbers, numbers), min_size=1, max_size=8), st.booleans())
def test_any_yfinance_history_shape_normalizes(bars, with_actions):
    index = pd.DatetimeIndex(sorted({pd.Timestamp(d) for d, *_ in bars}), name="Date").tz_localize("America/New_York")
    columns = ["Open", "High", "Low", "Close", "Adj Close", "Volume"] + (["Dividends", "Stock Splits"] if with_actions else [])
    values = np.array([[o, h, lo, c, c, 1000.0] + ([0.0, 0.0] if with_actions else []) for _, o, h, lo, c in bars][: len(index)],
                      dtype=object).astype(float)  # fmt: skip
    frame = pd.DataFrame(values, index=index[: len(values)], columns=columns)
    normalized = prices_from_history(frame, Instrument("ACME", "USD", "raw"))
    assert list(normalized.columns) == SOURCE_COLUMNS
    later = date(2031, 1, 1)
    check_price_rows(validate_prices(normalized, later, {"ACME": "USD"}).rows, as_of=later)


@FAST
@given(
    st.dictionaries(st.sampled_from(["TotalRevenue", "DilutedEPS", "OrdinarySharesNumber", "Weird Item", ""]),
                    st.dictionaries(days, numbers, max_size=5), max_size=4),
    st.sampled_from(["income", "balance", "cashflow"]),
    st.sampled_from(["quarterly", "annual"]),
    st.sampled_from(["USD", "CNY", None, ""]),
    st.lists(days, max_size=4),
)  # fmt: skip
def test_any_statement_frame_is_loaded_or_rejected_with_a_reason(table, statement, period_type, currency, published):
    frame = pd.DataFrame(table).T if table else pd.DataFrame()
    if not frame.empty:
        frame.columns = pd.to_datetime(frame.columns)
        frame = frame.astype(float)
    rows = statement_rows("ACME", statement, period_type, frame, currency, sorted(published))
    result = validate_statements(rows, AS_OF)
    assert list(result.rows.columns) == FINANCIAL_STATEMENTS.data_columns
    for row in result.rows.itertuples():
        assert math.isfinite(row.value) and row.period_end <= AS_OF
        assert row.unit in ("amount", "shares", "per_share") and row.statement == statement
        if row.unit != "shares":
            assert isinstance(row.currency, str) and len(row.currency) == 3
        assert row.filed_date is None or row.filed_date >= row.period_end
    assert result.rejected["reason"].notna().all()


@FAST
@given(st.dictionaries(st.sampled_from(["longName", "shortName", "currency", "sector", "marketCap", "sharesOutstanding",
                                        "trailingPE", "renamedKey", "exchange"]),
                       st.one_of(st.text(max_size=5), numbers), max_size=6),
       st.sampled_from(["ACME", "", "X'--"]), days)  # fmt: skip
def test_any_info_dict_gives_a_profile_or_a_rejection(info, symbol, snapshot_date):
    from orchestration.normalize.profiles import validate_profiles
    from orchestration.normalize.yahoo import profile_row

    row, missing = profile_row(symbol, info, snapshot_date)
    assert set(missing) <= set(row.columns)
    result = validate_profiles(row, AS_OF)
    assert len(result.rows) + len(result.rejected) == 1
    for profile in result.rows.itertuples():
        assert profile.symbol and profile.snapshot_date <= AS_OF


@FAST
@given(st.lists(st.fixed_dictionaries({
    "company_ticker": symbols, "fiscal_period": st.sampled_from(["FY2024", "Q1 2025", "", "Q9"]),
    "period_type": st.sampled_from(["annual", "quarterly", "instant", "weird", ""]),
    "period_start": st.one_of(days.map(str), st.just("")), "period_end": st.one_of(days.map(str), st.just(""), st.just("nope")),
    "filed_date": st.one_of(days.map(str), st.just("")), "line_item": st.sampled_from(["revenue", "capex_x", "", "eps_diluted"]),
    "value": st.one_of(st.text(max_size=6), numbers.map(str)), "currency": st.sampled_from(["USD", "RMB", "", "usd"]),
    "unit": st.sampled_from(["million", "billion", "shares", "USD_per_share", "RMB_per_ADS", "parsecs", ""]),
}), max_size=8))  # fmt: skip
def test_any_snapshot_statement_file_is_loaded_or_rejected(rows):
    from orchestration.normalize.snapshot import statements_from_snapshot

    frame = statements_from_snapshot(pd.DataFrame(rows, columns=list(rows[0]) if rows else None))
    result = validate_statements(frame, AS_OF)
    assert len(result.rows) + len(result.rejected) <= len(frame) and result.rejected["reason"].notna().all()
    for row in result.rows.itertuples():
        assert math.isfinite(row.value) and row.unit in ("amount", "shares", "per_share", "per_ads")


@FAST
@given(st.lists(st.dictionaries(days, st.floats(min_value=0.01, max_value=1e6), min_size=1, max_size=6), min_size=1, max_size=3))
def test_choosing_among_vintages_keeps_one_row_per_date(vintages):
    rows = [{"symbol": "ACME", "date": d.isoformat(), "open": c, "high": c, "low": c, "close": c, "adj_close": c,
             "volume": 1.0, "dividends": None, "stock_splits": None, "currency": "USD", "price_basis": "raw",
             "vintage": f"v{i}.csv", "line": n + 2}
            for i, v in enumerate(vintages) for n, (d, c) in enumerate(sorted(v.items()))]  # fmt: skip
    valid = validate_prices(pd.DataFrame(rows), date(2031, 1, 1), {"ACME": "USD"})
    choice = choose_prices(valid.rows, pd.DataFrame({"symbol": [], "ex_date": [], "split_ratio": []}))
    chosen, held = choice.rows, choice.rejected
    assert list(chosen.columns) == PRICES.data_columns and chosen["date"].is_unique
    # every date of a valid row is chosen once or held back with its reason, never lost
    assert set(chosen["date"]) | {date.fromisoformat(__import__("json").loads(p)["date"]) for p in held["payload"]} \
        == set(valid.rows["date"])  # fmt: skip
    assert (chosen["close"] > 0).all() and chosen["adj_close"].notna().all()


@FAST
@given(days, st.lists(days, max_size=6))
def test_a_quarter_is_published_by_the_first_release_after_it_within_the_window(period_end, releases):
    published = first_release_after(period_end, releases)
    if published is None:
        assert not any(period_end < day <= period_end + pd.Timedelta(days=120).to_pytimedelta() for day in releases)
    else:
        assert published in releases and period_end < published
        assert not any(period_end < day < published for day in releases)
