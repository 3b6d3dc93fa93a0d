"""The seed analysis as charts, shared by the dashboard (Streamlit) and the static report.

Every chart reads the serving copy through the queries in analysis/, the same SQL a BI tool or
a SQL user would run.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import duckdb
import pandas as pd

ANALYSIS_DIR = Path(__file__).resolve().parent.parent / "analysis"
QUERIES = ["pe_china_vs_us", "market_caps_by_currency", "alibaba_vs_hang_seng", "hyperscaler_capex", "data_freshness"]


def load(serving_path: str | Path) -> dict[str, pd.DataFrame]:
    """Run every analysis query on the serving copy, read-only."""
    with duckdb.connect(str(serving_path), read_only=True) as conn:
        return {name: conn.execute((ANALYSIS_DIR / f"{name}.sql").read_text()).df() for name in QUERIES}


def pe_chart(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame, title="Trailing P/E: China internet vs US megacap tech (peer-group medians)")
        .mark_line()
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("median_pe_ttm:Q", title="median P/E (TTM)"),
            color=alt.Color("peer_group:N", title="peer group"),
            tooltip=["peer_group", "date:T", alt.Tooltip("median_pe_ttm:Q", format=".1f"), "companies_with_pe"],
        )
        .properties(width=760, height=280)
    )


def market_cap_chart(frame: pd.DataFrame) -> alt.Chart:
    long = frame.melt(
        id_vars=["company_name", "as_of_date"],
        value_vars=["market_cap_usd", "market_cap_hkd", "market_cap_cny"],
        var_name="currency",
        value_name="market_cap",
    )
    long["currency"] = long["currency"].str.removeprefix("market_cap_").str.upper()
    long["market_cap_bn"] = long["market_cap"] / 1e9
    return (
        alt.Chart(long, title="Market cap in USD / HKD / CNY (billions), latest date with all three")
        .mark_bar()
        .encode(
            y=alt.Y("company_name:N", title=None, sort="-x"),
            x=alt.X("market_cap_bn:Q", title="billions"),
            color=alt.Color("currency:N"),
            yOffset="currency:N",
            tooltip=["company_name", "currency", "as_of_date:T", alt.Tooltip("market_cap_bn:Q", format=",.0f")],
        )
        .properties(width=760, height=320)
    )


def alibaba_chart(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame, title="Alibaba (9988.HK, BABA) against the Hang Seng since 2024: growth of 1")
        .mark_line()
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("growth_of_1:Q", title="growth of 1"),
            color=alt.Color("series:N", title=None),
            tooltip=["series", "date:T", alt.Tooltip("growth_of_1:Q", format=".2f"),
                     alt.Tooltip("drawdown_from_peak:Q", format=".1%"), alt.Tooltip("rebound_from_52w_low:Q", format=".1%")],
        )  # fmt: skip
        .properties(width=760, height=280)
    )


def capex_chart(frame: pd.DataFrame) -> alt.Chart:
    data = frame.assign(capex_ttm_bn=frame["capex_ttm_usd"] / 1e9)
    return (
        alt.Chart(data, title="Hyperscaler capex, trailing twelve months (USD billions)")
        .mark_line(point=True)
        .encode(
            x=alt.X("fiscal_period_end:T", title="fiscal period end"),
            y=alt.Y("capex_ttm_bn:Q", title="USD billions"),
            color=alt.Color("company_name:N", title=None),
            tooltip=["company_name", "fiscal_period_end:T", "period_type", alt.Tooltip("capex_ttm_bn:Q", format=",.1f"),
                     alt.Tooltip("capex_yoy_growth:Q", format=".0%"), alt.Tooltip("capex_to_revenue_ttm:Q", format=".1%")],
        )  # fmt: skip
        .properties(width=760, height=280)
    )


def charts(frames: dict[str, pd.DataFrame]) -> dict[str, alt.Chart]:
    return {
        "pe_china_vs_us": pe_chart(frames["pe_china_vs_us"]),
        "market_caps_by_currency": market_cap_chart(frames["market_caps_by_currency"]),
        "alibaba_vs_hang_seng": alibaba_chart(frames["alibaba_vs_hang_seng"]),
        "hyperscaler_capex": capex_chart(frames["hyperscaler_capex"]),
    }
