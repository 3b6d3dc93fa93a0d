"""Snapshot fundamentals into raw statement rows, and their validation."""

import json
from datetime import date

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.normalize.snapshot import statements_from_snapshot
from orchestration.normalize.statements import validate_statements
from orchestration.warehouse.schema import FINANCIAL_STATEMENTS

HEADER = ["company_ticker", "fiscal_period", "period_type", "period_start", "period_end", "filed_date",
          "line_item", "value", "currency", "unit"]  # fmt: skip


def snapshot(*rows):
    return pd.DataFrame([dict(zip(HEADER, row)) for row in rows])


def test_values_scale_exactly_to_base_units_and_rmb_becomes_cny():
    frame = statements_from_snapshot(
        snapshot(
            ("BABA", "Q3 FY2025", "quarterly", "2024-10-01", "2024-12-31", "2025-02-20", "revenue", "280.154", "RMB", "billion"),
            ("AAPL", "FY2024", "instant", "", "2024-09-28", "2024-11-01", "shares_outstanding", "15116786", "", "thousand_shares"),
            ("AMZN", "Q4 2024", "quarterly", "2024-10-01", "2024-12-31", "2026-02-05", "eps_diluted", "1.86", "USD", "USD_per_share"),
            ("BABA", "FY2025", "annual", "2024-04-01", "2025-03-31", "", "eps_diluted_per_ADS", "53.59", "RMB", "RMB_per_ADS"),
        )
    )
    result = validate_statements(frame, date(2026, 3, 1))
    assert result.rejected.empty
    rows = result.rows.set_index("line_item")
    assert rows.loc["revenue", "value"] == 280_154_000_000.0  # 280.154 x 10^9, no float drift
    assert rows.loc["revenue", "currency"] == "CNY"
    assert rows.loc["shares_outstanding", "value"] == 15_116_786_000.0
    assert (rows.loc["shares_outstanding", "unit"], rows.loc["shares_outstanding", "statement"]) == ("shares", "balance")
    assert rows.loc["shares_outstanding", "period_type"] == "annual"
    assert (rows.loc["eps_diluted", "value"], rows.loc["eps_diluted", "unit"]) == (1.86, "per_share")
    assert rows.loc["eps_diluted_per_ADS", "unit"] == "per_ads"
    assert rows.loc["eps_diluted_per_ADS", "filed_date"] is None
    assert list(result.rows.columns) == FINANCIAL_STATEMENTS.data_columns
    assert "_original" in frame.columns, "each row keeps its text for a rejection"


def test_capex_and_depreciation_are_cash_flow_lines():
    frame = statements_from_snapshot(
        snapshot(
            ("MSFT", "FY2025", "annual", "2024-07-01", "2025-06-30", "2025-07-30", "capex_additions_to_property_and_equipment", "-64551", "USD", "million"),
            ("MSFT", "FY2025", "annual", "2024-07-01", "2025-06-30", "2025-07-30", "depreciation_amortization_and_other", "34153", "USD", "million"),
        )
    )
    assert frame["statement"].tolist() == ["cashflow", "cashflow"]
    assert frame["value"].tolist() == [-64_551_000_000.0, 34_153_000_000.0]


def test_bad_statement_rows_are_rejected_with_reasons():
    frame = statements_from_snapshot(
        snapshot(
            ("X", "FY2030", "annual", "2029-01-01", "2029-12-31", "", "revenue", "1", "USD", "million"),
            ("X", "FY2024", "annual", "2024-01-01", "2024-12-31", "2024-06-01", "revenue", "1", "USD", "million"),
            ("X", "FY2024", "annual", "2024-01-01", "2024-12-31", "", "revenue", "n/a", "USD", "million"),
            ("X", "FY2024", "annual", "2024-01-01", "2024-12-31", "", "revenue", "5", "USD", "furlongs"),
            ("X", "FY2024", "annual", "2024-01-01", "2024-12-31", "", "net_income", "5", "", "million"),
            ("X", "FY2023", "annual", "2023-01-01", "2023-12-31", "", "revenue", "5", "USD", "million"),
            ("X", "FY2023", "annual", "2023-01-01", "2023-12-31", "", "revenue", "5", "USD", "million"),
        )
    )
    result = validate_statements(frame, date(2026, 1, 1))
    assert result.rejected["reason"].tolist() == [
        "period_end_in_future",
        "filed_before_period_end",
        "unparseable_value",
        "unknown_unit",
        "unknown_currency",
    ]
    # the same figure twice (same document, same value) is one figure, not a rejection
    assert len(result.rows) == 1 and result.rows["period_end"].tolist() == [date(2023, 12, 31)]
    assert json.loads(result.rejected["payload"][2])["value"] == "n/a", "the original text is kept"
    assert json.loads(result.rejected["payload"][3])["unit"] == "furlongs"


def test_two_values_for_one_figure_of_one_document_are_both_held_back():
    # Same key (company, statement, period, line item, filing date) in two files, two values: no rule
    # says which is right (file-name order used to decide), so neither loads and the stored one stays.
    frame = pd.concat(
        [
            statements_from_snapshot(snapshot(("X", "FY2024", "annual", "2024-01-01", "2024-12-31", "2025-02-01", "revenue", "245122", "USD", "million"))).assign(),
            statements_from_snapshot(snapshot(("X", "FY2024", "annual", "2024-01-01", "2024-12-31", "2025-02-01", "revenue", "1000000", "USD", "million"))),
        ],
        ignore_index=True,
    )
    result = validate_statements(frame, date(2026, 1, 1))
    assert result.rows.empty
    assert result.rejected["reason"].tolist() == ["conflicting_duplicate", "conflicting_duplicate"]


def test_an_amount_far_outside_its_own_history_is_held_back():
    # Quarterly revenue about 60-70 bn, then one quarter of 69,632 bn (three zeros too many).
    quarters = [("2024-03-31", "61858"), ("2024-06-30", "64727"), ("2024-09-30", "65585"), ("2024-12-31", "69632000")]
    frame = statements_from_snapshot(
        snapshot(*[("X", "Q", "quarterly", "", end, "", "revenue", value, "USD", "million") for end, value in quarters])
    )
    result = validate_statements(frame, date(2026, 1, 1))
    assert result.rejected["reason"].tolist() == ["implausible_value"]
    assert len(result.rows) == 3


def test_a_currency_the_universe_does_not_know_is_rejected_by_row():
    frame = statements_from_snapshot(
        snapshot(("X", "FY2024", "annual", "2024-01-01", "2024-12-31", "", "revenue", "5", "XXX", "million"),
                 ("X", "FY2024", "annual", "2024-01-01", "2024-12-31", "", "net_income", "5", "USD", "million"))
    )  # fmt: skip
    result = validate_statements(frame, date(2026, 1, 1), known_currencies={"USD", "HKD", "CNY"})
    assert result.rejected["reason"].tolist() == ["unknown_currency"]
    assert result.rejected["symbol"].tolist() == ["X"] and len(result.rows) == 1


def test_a_row_without_a_readable_period_end_is_rejected_not_a_crash():
    # found by the property test (tests/faults/test_properties.py)
    frame = statements_from_snapshot(
        snapshot(
            ("X", "FY2024", "annual", "", "", "2024-06-01", "revenue", "1", "USD", "million"),
            ("X", "FY2024", "annual", "", "nope", "2024-06-01", "revenue", "1", "USD", "million"),
            ("X", "FY2023", "annual", "2023-01-01", "2023-12-31", "", "revenue", "5", "USD", "million"),
        )
    )
    result = validate_statements(frame, date(2026, 1, 1))
    assert result.rejected["reason"].tolist() == ["unparseable_date", "unparseable_date"]
    assert len(result.rows) == 1


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["TotalRevenue", "NetIncome"]),
                          st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)), max_size=14))
def test_the_implausible_check_is_the_leave_one_out_median_rule(rows):
    """The vectorized check against the rule written plainly: each figure against the median size
    of the other figures of its group (four or more), flagged beyond 20 times it."""
    import pandas as pd

    from orchestration.normalize.statements import IMPLAUSIBLE_MULTIPLE, _implausible

    frame = pd.DataFrame([{"symbol": s, "line_item": item, "period_type": "quarterly", "unit": "amount", "value": v}
                          for s, item, v in rows], columns=["symbol", "line_item", "period_type", "unit", "value"])  # fmt: skip
    expected = set()
    for _, group in frame.groupby(["symbol", "line_item"]):
        if len(group) < 4:
            continue
        for index in group.index:
            others = group["value"].abs().drop(index)
            if others.median() > 0 and abs(group.at[index, "value"]) > IMPLAUSIBLE_MULTIPLE * others.median():
                expected.add(index)
    assert set(frame.index[_implausible(frame)]) == expected


def test_a_figure_that_names_its_filing_is_not_held_back_for_growth():
    # An EDGAR fact carries its filing's accession number: the filing's own figure, over a decade in
    # which growth past the multiple is real (Tesla's quarterly net income went from about -50 million
    # to 3.3 billion). The same rows without an accn are held back as above.
    quarters = [("2024-03-31", "61858"), ("2024-06-30", "64727"), ("2024-09-30", "65585"), ("2024-12-31", "69632000")]
    frame = statements_from_snapshot(
        snapshot(*[("X", "Q", "quarterly", "", end, "", "revenue", value, "USD", "million") for end, value in quarters])
    )
    frame["accn"], frame["form"] = "0000000000-25-000001", "10-Q"
    result = validate_statements(frame, date(2026, 1, 1))
    assert result.rejected.empty and len(result.rows) == 4
    assert set(result.rows["accn"]) == {"0000000000-25-000001"} and set(result.rows["form"]) == {"10-Q"}


def test_rows_of_a_source_without_filings_get_null_accn_and_form():
    frame = statements_from_snapshot(snapshot(("X", "Q1", "quarterly", "", "2024-03-31", "", "revenue", "1", "USD", "million")))
    rows = validate_statements(frame.drop(columns=["accn", "form"]), date(2026, 1, 1)).rows
    assert list(rows.columns) == FINANCIAL_STATEMENTS.data_columns
    assert rows[["accn", "form"]].isna().all().all()
