"""Validation of consensus rows and quoted figures: every rejection has a named reason and keeps
the original row; the rest load typed."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from orchestration.normalize.estimates import (
    ESTIMATES_HEADER,
    VENDOR_HEADER,
    estimates_from_snapshot,
    validate_estimates,
    validate_vendor_figures,
    vendor_figures_from_snapshot,
)

AS_OF = date(2025, 2, 28)
# AAPL's 0q line of the market sample's yahoo_earnings_trend_2025-02-24.csv
GOOD = dict(zip(ESTIMATES_HEADER, (
    "AAPL", "2025-02-24T09:35:30Z", "0q", "2025-03-31", "1.60796", "1.5", "1.67", "1.53", "27", "USD",
    "94076168920", "89370000000", "95903397000", "27", "USD", "1.60796", "1.61018", "1.67117", "1.6786", "1.68215", "USD",
)))  # fmt: skip


def estimates(*changes: dict) -> pd.DataFrame:
    """The good row, then one row per change (each a copy of it with those cells changed), as text."""
    rows = [GOOD, *({**GOOD, **change} for change in changes)]
    return estimates_from_snapshot(pd.DataFrame(rows, dtype="object").assign(vintage="t.csv", line=range(2, 2 + len(rows))))


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"symbol": ""}, "missing_symbol_or_date"),
        ({"snapshot_at": "not a moment"}, "missing_symbol_or_date"),
        ({"snapshot_at": "2025-03-03T10:00:00Z", "period": "+1q"}, "future_date"),
        ({"period": "+5y"}, "unknown_period"),
        ({"eps_avg": "n/a", "period": "+1q"}, "non_numeric_value"),
        ({"revenue_high": "Infinity", "period": "+1q"}, "non_numeric_value"),
        ({"eps_analysts": "27.5", "period": "+1q"}, "non_numeric_value"),
        ({"eps_analysts": "-1", "period": "+1q"}, "negative_analyst_count"),
        ({"eps_low": "1.7", "eps_high": "1.67", "period": "+1q"}, "eps_low_above_high"),
        ({"revenue_low": "96000000000", "period": "+1q"}, "revenue_low_above_high"),
        ({"eps_currency": "", "period": "+1q"}, "missing_currency"),
        ({"revenue_currency": "", "period": "+1q"}, "missing_currency"),
        ({"eps_trend_currency": "", "period": "+1q"}, "missing_currency"),
        ({"snapshot_at": "2025-02-24T08:00:00Z", "eps_avg": "1.7"}, "duplicate_key"),  # the same key, earlier that day
    ],
)
def test_each_bad_estimate_is_rejected_with_its_reason_and_the_good_one_loads(change, reason):
    validated = validate_estimates(estimates(change), AS_OF)
    assert list(validated.rejected["reason"]) == [reason]
    assert json.loads(validated.rejected["payload"].iloc[0])["line"] == 3  # the file's own line, as it was
    assert len(validated.rows) == 1 and validated.rows.iloc[0]["eps_avg"] == 1.60796


def test_the_same_row_twice_is_one_row():
    validated = validate_estimates(estimates({}), AS_OF)
    assert validated.rejected.empty and len(validated.rows) == 1


def test_two_different_rows_of_one_key_and_moment_are_both_rejected():
    validated = validate_estimates(estimates({"eps_avg": "1.7"}), AS_OF)
    assert list(validated.rejected["reason"]) == ["duplicate_key", "duplicate_key"] and validated.rows.empty


def test_of_two_snapshots_of_one_day_the_later_stands():
    validated = validate_estimates(estimates({"snapshot_at": "2025-02-24T11:00:00Z", "eps_avg": "1.7"}), AS_OF)
    assert list(validated.rejected["reason"]) == ["duplicate_key"]
    assert json.loads(validated.rejected["payload"].iloc[0])["line"] == 2  # the earlier one, the file's first row
    assert validated.rows[["snapshot_at", "eps_avg"]].values.tolist() == [[pd.Timestamp("2025-02-24 11:00:00"), 1.7]]


def test_a_period_without_estimates_needs_no_currency():
    blank = {c: "" for c in ESTIMATES_HEADER if c.startswith(("eps_", "revenue_"))}
    validated = validate_estimates(estimates({**blank, "period": "+1y"}), AS_OF)
    assert validated.rejected.empty and len(validated.rows) == 2


def test_estimates_load_typed():
    row = validate_estimates(estimates(), AS_OF).rows.iloc[0]
    assert (row["snapshot_date"], row["snapshot_at"], row["end_date"]) == (
        date(2025, 2, 24), pd.Timestamp("2025-02-24 09:35:30"), date(2025, 3, 31))  # fmt: skip
    assert (row["eps_analysts"], row["revenue_avg"]) == (27, 94_076_168_920.0)


def vendor(*lines: tuple) -> pd.DataFrame:
    frame = pd.DataFrame([dict(zip(VENDOR_HEADER, line)) for line in lines], dtype="object")
    return vendor_figures_from_snapshot(frame.assign(vintage="q.csv", line=range(2, 2 + len(lines))))


AT = "2025-02-24T09:35:33Z"


@pytest.mark.parametrize(
    "line, reason",
    [
        (("", AT, "price", "marketCap", "1"), "missing_symbol_or_date"),
        (("BABA", "", "price", "marketCap", "1"), "missing_symbol_or_date"),
        (("BABA", "2025-03-03T00:00:00Z", "price", "marketCap", "1"), "future_date"),
        (("BABA", AT, "assetProfile", "fullTimeEmployees", "204891"), "unknown_module"),
        (("BABA", AT, "price", "", "1"), "missing_field"),
        (("BABA", AT, "price", "regularMarketPrice", "n/a"), "non_numeric_value"),
        (("BABA", AT, "price", "regularMarketPrice", ""), "non_numeric_value"),
        (("BABA", "2025-02-24T08:00:00Z", "summaryDetail", "forwardPE", "14.6"), "duplicate_key"),  # earlier that day
    ],
)
def test_each_bad_figure_is_rejected_with_its_reason(line, reason):
    validated = validate_vendor_figures(vendor(("BABA", AT, "summaryDetail", "forwardPE", "14.564337"),
                                               ("BABA", AT, "summaryDetail", "currency", "USD"), line), AS_OF)  # fmt: skip
    assert list(validated.rejected["reason"]) == [reason]
    assert validated.rows[["field", "value", "currency"]].values.tolist() == [["forwardPE", 14.564337, "USD"]]


def test_two_values_of_one_figure_at_one_moment_are_both_rejected():
    validated = validate_vendor_figures(vendor(("BABA", AT, "price", "marketCap", "341542830080"),
                                               ("BABA", AT, "price", "marketCap", "341542830081")), AS_OF)  # fmt: skip
    assert list(validated.rejected["reason"]) == ["duplicate_key", "duplicate_key"] and validated.rows.empty


def test_a_modules_currency_row_is_the_column_of_that_modules_rows_only():
    rows = validate_vendor_figures(vendor(
        ("BABA", AT, "financialData", "totalRevenue", "981767028736"),
        ("BABA", AT, "financialData", "financialCurrency", "CNY"),
        ("BABA", AT, "price", "marketCap", "341542830080"),
        ("BABA", AT, "price", "currency", "USD"),
        ("BABA", AT, "defaultKeyStatistics", "enterpriseValue", "2566507724800"),
    ), AS_OF).rows  # fmt: skip
    assert rows[["module", "currency"]].values.tolist() == [["financialData", "CNY"], ["price", "USD"], ["defaultKeyStatistics", None]]
