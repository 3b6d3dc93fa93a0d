"""Property-based tests: any frame a source can produce either normalizes into rows that satisfy
the raw layer's constraints or is rejected with a reason - never another exception."""

import math
from datetime import date

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.normalize import validate_prices, validate_statements
from orchestration.normalize.yahoo import prices_from_download, statement_rows
from orchestration.sources import Instrument
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


def check_price_rows(rows: pd.DataFrame) -> None:
    assert list(rows.columns) == PRICES.data_columns
    assert not rows.duplicated(subset=["symbol", "date"]).any()
    for row in rows.itertuples():
        assert row.symbol and isinstance(row.date, date) and row.date <= AS_OF
        assert math.isfinite(row.close) and row.close > 0
        assert not (row.volume < 0)
        if not (math.isnan(row.low) or math.isnan(row.high)):
            assert row.low <= row.high


@FAST
@given(st.lists(price_rows, max_size=12))
def test_any_price_frame_is_loaded_or_rejected_with_a_reason(rows):
    frame = pd.DataFrame(rows, columns=PRICES.data_columns)
    result = validate_prices(frame, AS_OF, {"ACME": "USD", "9999.HK": "HKD"})
    check_price_rows(result.rows)
    assert result.rejected["reason"].notna().all() and result.rejected["payload"].str.startswith("{").all()
    assert len(result.rows) + len(result.rejected) <= len(frame)
    # every input row is accounted for: loaded, rejected, or an exact repeat of a rejected one
    assert len(result.rows) + len(result.rejected) + frame.astype(str).duplicated().sum() >= len(frame)


@FAST
@given(st.lists(st.tuples(days, numbers, numbers, numbers, numbers), min_size=1, max_size=8), st.booleans())
def test_any_yfinance_download_shape_normalizes(bars, with_actions):
    index = pd.DatetimeIndex(sorted({pd.Timestamp(d) for d, *_ in bars}), name="Date")
    columns = ["Open", "High", "Low", "Close", "Adj Close", "Volume"] + (["Dividends", "Stock Splits"] if with_actions else [])
    data = {}
    for symbol in ("ACME", "DRGN"):
        values = np.array([[o, h, lo, c, c, 1000.0] + ([0.0, 0.0] if with_actions else []) for _, o, h, lo, c in bars][: len(index)],
                          dtype=object).astype(float) if bars else np.empty((0, len(columns)))  # fmt: skip
        data[symbol] = pd.DataFrame(values, index=index[: len(values)], columns=columns).reindex(index)
    frame = pd.concat(data, axis=1, names=["Ticker", "Price"]).swaplevel(0, 1, axis=1)
    instruments = [Instrument("ACME", "USD", "raw"), Instrument("DRGN", "USD", "raw")]
    normalized = prices_from_download(frame, instruments)
    assert list(normalized.columns) == PRICES.data_columns
    check_price_rows(validate_prices(normalized, date(2031, 1, 1), {"ACME": "USD", "DRGN": "USD"}).rows.assign(
        date=lambda f: f["date"].map(lambda d: min(d, AS_OF))))  # fmt: skip


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
