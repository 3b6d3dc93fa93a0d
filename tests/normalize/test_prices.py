"""Price validation and vintage splicing, without Dagster."""

from datetime import date

import pandas as pd
import pytest

from orchestration.normalize.prices import splice_vintages, validate_prices
from orchestration.warehouse.schema import PRICES

AS_OF = date(2025, 1, 31)


def bar(symbol="ACME", day="2025-01-06", close=100.0, low=99.0, high=101.0, volume=1000.0, currency="USD",
        basis="raw", **extra):  # fmt: skip
    row = {"symbol": symbol, "date": day, "open": close, "high": high, "low": low, "close": close,
           "adj_close": close, "volume": volume, "dividends": None, "stock_splits": None,
           "currency": currency, "price_basis": basis}  # fmt: skip
    row.update(extra)
    return row


def validate(*rows):
    return validate_prices(pd.DataFrame(list(rows)), AS_OF, {"ACME": "USD", "9999.HK": "HKD"})


def test_good_rows_pass_with_the_contract_columns():
    result = validate(bar(), bar(day="2025-01-07", close=101.0, low=100, high=102))
    assert list(result.rows.columns) == PRICES.data_columns
    assert len(result.rows) == 2 and result.rejected.empty
    assert result.rows["date"].tolist() == [date(2025, 1, 6), date(2025, 1, 7)]


@pytest.mark.parametrize(
    "row, reason",
    [
        (bar(close=None), "missing_close"),
        (bar(close=float("nan")), "missing_close"),
        (bar(close=float("inf"), high=float("inf")), "non_finite_price"),
        (bar(close=0.0, low=0.0), "non_positive_close"),
        (bar(close=100.0, low=102.0, high=101.0), "high_below_low"),
        (bar(close=105.0, low=99.0, high=101.0), "close_outside_low_high"),
        (bar(volume=-1.0), "negative_volume"),
        (bar(day="2025-02-01"), "future_date"),
        (bar(symbol="9999.HK", currency="USD"), "currency_mismatch"),
    ],
)
def test_each_bad_row_is_rejected_with_its_reason(row, reason):
    result = validate(row, bar(day="2025-01-07"))
    assert len(result.rows) == 1, "the good row still loads"
    assert result.rejected["reason"].tolist() == [reason]
    assert result.rejected["dataset"].tolist() == ["prices"]
    assert '"symbol": "' in result.rejected["payload"][0], "the original row is kept as JSON"


def test_a_repeated_key_keeps_the_first_row_and_rejects_the_second():
    result = validate(bar(close=100.0), bar(close=100.5, high=101))
    assert result.rows["close"].tolist() == [100.0]
    assert result.rejected["reason"].tolist() == ["duplicate_key"]
    assert '"close": 100.5' in result.rejected["payload"][0]


def test_fx_close_outside_the_bar_range_is_kept():
    # Yahoo's FX close is a fixing outside the bar's window: 7.8354 above a high of 7.8353 is real data.
    fx = bar(symbol="USDHKD=X", close=7.835400104522705, low=7.829899787902832, high=7.835299968719482,
             currency="HKD_per_USD", basis="fx", volume=0.0)  # fmt: skip
    result = validate(fx)
    assert len(result.rows) == 1 and result.rejected.empty


def vintage(closes: dict[str, float], basis="raw") -> pd.DataFrame:
    return pd.DataFrame([bar(day=day, close=c, low=c, high=c, volume=1000.0, basis=basis) for day, c in closes.items()]).assign(
        date=lambda f: pd.to_datetime(f["date"]).dt.date
    )


def test_splice_rescales_an_older_vintage_by_a_clean_split_ratio():
    # The older download predates a 10:1 split: its closes are 10x the newer ones on common days.
    older = vintage({"2024-01-02": 500.0, "2024-01-03": 510.0, "2024-01-04": 520.0})
    newer = vintage({"2024-01-03": 51.0, "2024-01-04": 52.0, "2024-01-05": 53.0})
    spliced = splice_vintages([older, newer])
    assert spliced["close"].tolist() == [500.0 / 10, 51.0, 52.0, 53.0]
    assert spliced["volume"].tolist() == [1000.0 * 10, 1000.0, 1000.0, 1000.0]


def test_splice_keeps_traded_closes_and_one_continuous_adjusted_series():
    # A traded (raw) download, and a newer dividend-adjusted one that is 99/102 of it on their common day.
    raw = vintage({"2020-12-30": 100.0, "2020-12-31": 101.0, "2021-01-04": 102.0})
    adjusted = vintage({"2021-01-04": 99.0, "2021-01-05": 98.0}, basis="adjusted")
    spliced = splice_vintages([adjusted, raw])
    assert spliced["close"].tolist() == [100.0, 101.0, 102.0, 98.0]  # traded wherever known; 3% is no split
    assert spliced["price_basis"].tolist() == ["raw", "raw", "raw", "adjusted"]
    factor = 99.0 / 102.0  # the dividends paid between the two downloads
    assert spliced["adj_close"].tolist() == pytest.approx([100.0 * factor, 101.0 * factor, 99.0, 98.0])


def test_an_empty_symbol_is_rejected():
    # found by the property test (tests/faults/test_properties.py): "" slipped past a null check
    result = validate(bar(symbol=""), bar())
    assert result.rejected["reason"].tolist() == ["missing_symbol_or_date"] and len(result.rows) == 1
