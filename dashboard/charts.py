"""The seed analysis as data and charts, shared by the dashboard (Streamlit) and the static report.

Pure functions, no Streamlit: `load` reads the serving copy (the queries in analysis/, the same SQL
a BI tool or a SQL user would run, and the last day of each series shown), `peers` the peer
comparison on one as-of date (the dashboard's own SQL, below), and the chart functions draw them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd

ANALYSIS_DIR = Path(__file__).resolve().parent.parent / "analysis"
QUERIES = ["pe_china_vs_us", "alibaba_vs_hang_seng", "hyperscaler_capex", "data_freshness"]
CURRENCIES = ["USD", "HKD", "CNY"]
TIME_AXIS = alt.Axis(format="%b %Y", labelAngle=0, title=None)  # multi-year axes show the years
NAMES_AXIS = alt.Axis(title=None, labelLimit=0)  # full company names, never cut

# The last day of each series shown: the peer-group medians, and the last real quote of the prices
# and FX rates behind the charts (the marts carry an index level or a rate forward a few days).
SERIES_ENDS_SQL = """
select 'median P/E ' || peer_group as series, max(date) as last_date
from marts.mart_peer_valuation_daily
where median_pe_ttm is not null
group by peer_group
union all
select symbol, last_data_date
from marts.mart_data_freshness
where dataset = 'prices' and (list_contains($symbols, symbol) or symbol like '%=X')
"""

# The peer groups that have no median P/E on any day (never enough of their companies with a P/E at
# once): the caption says so, as they have no last day.
NO_MEDIAN_SQL = """
select peer_group, max(companies_with_pe) as most_companies_with_pe, max(companies_in_group) as companies_in_group
from marts.mart_peer_valuation_daily
group by peer_group
having count(median_pe_ttm) = 0
order by peer_group
"""

# Each company of each peer group on the group's latest day up to the as-of date, beside the
# group's median that day (marts.mart_peer_valuation_daily) and how many of the group's companies it
# is over: through the listing that median counts it by (its primary listing unless only another
# one has a P/E that day). No P/E stays null, and so does a median over too few companies.
PEERS_SQL = """
with days as (
    select peer_group, max(date) as date
    from marts.mart_peer_valuation_daily
    where date <= $as_of
    group by peer_group
)
select
    days.peer_group,
    companies.company_name,
    days.date,
    valuation.symbol,
    valuation.pe_ttm,
    medians.median_pe_ttm,
    medians.companies_with_pe,
    valuation.pe_ttm_adjusted,
    valuation.adjusted_earnings_basis,
    medians.median_pe_ttm_adjusted,
    medians.companies_with_pe_adjusted,
    valuation.pe_forward,
    valuation.forward_eps_snapshot_date,
    medians.median_pe_forward,
    medians.companies_with_pe_forward,
    medians.companies_in_group,
    valuation.market_cap_usd as market_cap_USD,
    valuation.market_cap_hkd as market_cap_HKD,
    valuation.market_cap_cny as market_cap_CNY
from days
inner join marts.mart_peer_valuation_daily as medians using (peer_group, date)
inner join marts.bridge_company_peer_group as groups using (peer_group)
inner join marts.dim_company as companies using (company_id)
inner join marts.dim_listing as listings using (company_id)
left join marts.fct_valuation_daily as valuation on listings.symbol = valuation.symbol and days.date = valuation.date
qualify row_number() over (
    partition by days.peer_group, groups.company_id
    order by valuation.pe_ttm is null, valuation.symbol is null, not listings.is_primary, listings.symbol
) = 1
order by days.peer_group, valuation.pe_ttm desc nulls last, companies.company_name
"""


def load(serving_path: str | Path) -> dict[str, pd.DataFrame]:
    """Run every analysis query on the serving copy, read-only, and find where each series ends."""
    with duckdb.connect(str(serving_path), read_only=True) as conn:
        frames = {name: conn.execute((ANALYSIS_DIR / f"{name}.sql").read_text()).df() for name in QUERIES}
        symbols = sorted(frames["alibaba_vs_hang_seng"]["series"].unique())
        ends = conn.execute(SERIES_ENDS_SQL, {"symbols": symbols}).df().dropna()
        frames["groups_without_a_median"] = conn.execute(NO_MEDIAN_SQL).df()
    frames["series_ends"] = ends.assign(last_date=ends["last_date"].dt.date).sort_values(["last_date", "series"], ignore_index=True)
    return frames


def peers(serving_path: str | Path, as_of: date) -> pd.DataFrame:
    with duckdb.connect(str(serving_path), read_only=True) as conn:
        return conn.execute(PEERS_SQL, {"as_of": as_of}).df()


def default_as_of(frames: dict[str, pd.DataFrame]) -> date:
    """The latest day every series shown still has data (today in an empty warehouse)."""
    return min(frames["series_ends"]["last_date"], default=date.today())


def date_range(frames: dict[str, pd.DataFrame]) -> tuple[date | None, date | None]:
    """From the first P/E median to the last day of any series: the dates a reader can pick."""
    medians = frames["pe_china_vs_us"].dropna(subset=["median_pe_ttm"])
    days = [*medians["date"].dt.date, *frames["series_ends"]["last_date"]]
    return (min(days), max(days)) if days else (None, None)


def series_ends_caption(frames: dict[str, pd.DataFrame]) -> str:
    caption = "Last day of each series: " + ", ".join(
        f"{row.series} ends {row.last_date:%Y-%m-%d}" for row in frames["series_ends"].itertuples()
    )
    never = [f"{row.peer_group} (at most {row.most_companies_with_pe} of {row.companies_in_group} companies with a P/E)"
             for row in frames["groups_without_a_median"].itertuples()]  # fmt: skip
    return caption + (f". No median P/E on any day: {', '.join(never)}" if never else "")


# The rule of the marts (DESIGN.md): a median over fewer than half of a group, or fewer than two companies, is none.
MEDIAN_RULE = "a median over fewer than half of a group's companies, or fewer than two, is not given"


def median_label(median: float, companies_with_pe: int, companies_in_group: int) -> str:
    """A group's median P/E with how many of its companies it is over, as analysis/pe_china_vs_us.sql
    labels it: "median P/E 24.1 (5 of 6)", or "no median (2 of 6 with a P/E)" (never a zero)."""
    if pd.isna(median):
        return f"no median ({companies_with_pe} of {companies_in_group} with a P/E)"
    return f"median P/E {median:.1f} ({companies_with_pe} of {companies_in_group})"


# How each adjusted-earnings basis is labelled for a reader (fct_valuation_daily.adjusted_earnings_basis).
ADJUSTED_BASIS_LABELS = {
    "company_non_gaap_eps": "non-GAAP EPS",
    "company_non_gaap_net_income": "non-GAAP net income",
    "company_non_gaap_net_income_incl_minority_interests": "non-GAAP net income incl. minorities",
    "source_normalized_income": "Yahoo normalized income",
}


def peer_table(peer_rows: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The peers for display: numbers as text, a missing value as "—" (never 0); each earnings basis
    in its own columns, never mixed: reported, adjusted (with the company's basis) and forward (with
    the consensus snapshot's day); each group median with how many of its companies have that P/E,
    "24.1 (5 of 6)", or "— (2 of 6)" where there is none."""

    def text(values: pd.Series, fmt: str) -> pd.Series:
        return values.map(lambda v: "—" if pd.isna(v) else format(v, fmt))

    def median(basis: str, count: str) -> pd.Series:
        return (text(peer_rows[basis], ".1f") + " (" + peer_rows[count].astype(str)
                + " of " + peer_rows["companies_in_group"].astype(str) + ")")  # fmt: skip

    return pd.DataFrame({
        "peer group": peer_rows["peer_group"],
        "company": peer_rows["company_name"],
        "listing": peer_rows["symbol"].fillna("—"),
        "day": peer_rows["date"].dt.strftime("%Y-%m-%d"),
        "P/E reported (TTM)": text(peer_rows["pe_ttm"], ".1f"),
        "group median P/E": median("median_pe_ttm", "companies_with_pe"),
        "vs median": text(peer_rows["pe_ttm"] / peer_rows["median_pe_ttm"] - 1, "+.0%"),
        "P/E adjusted (TTM)": text(peer_rows["pe_ttm_adjusted"], ".1f"),
        "adjusted on": peer_rows["adjusted_earnings_basis"].map(lambda b: ADJUSTED_BASIS_LABELS.get(b, "—") if isinstance(b, str) else "—"),
        "group median adjusted": median("median_pe_ttm_adjusted", "companies_with_pe_adjusted"),
        "P/E forward (next FY)": text(peer_rows["pe_forward"], ".1f"),
        "consensus of": peer_rows["forward_eps_snapshot_date"].map(lambda d: "—" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")),
        "group median forward": median("median_pe_forward", "companies_with_pe_forward"),
        f"market cap ({currency} bn)": text(peer_rows[f"market_cap_{currency}"] / 1e9, ",.0f"),
    })  # fmt: skip


def pe_chart(frame: pd.DataFrame, as_of: date) -> alt.VConcatChart:
    """The groups' median P/E over time, above the share of each group's companies with a P/E: a
    week without a median (too few companies) is a break in its line, and the lower chart shows why."""
    data = frame[frame["date"].dt.date <= as_of]
    # from the first week any company of either group has a P/E: the years before say nothing
    with_pe = data.loc[data["companies_with_pe"] > 0, "date"]
    data = data[data["date"] >= with_pe.min()] if len(with_pe) else data
    data = data.assign(share_with_pe=data["companies_with_pe"] / data["companies_in_group"])
    latest = data.sort_values("date").groupby("peer_group").tail(1).sort_values("peer_group")
    x = alt.X("date:T", axis=TIME_AXIS)
    color = alt.Color("peer_group:N", title="peer group")
    tooltip = ["peer_group:N", "date:T", alt.Tooltip("median_pe_label:N", title="median")]
    title = alt.TitleParams(
        f"Trailing P/E, peer-group medians (weekly), China internet vs US megacap tech, as of {as_of}",
        subtitle=[f"{row.peer_group} on {row.date:%Y-%m-%d}: {row.median_pe_label}" for row in latest.itertuples()]
        + [f"A break in a line: no median that week ({MEDIAN_RULE}); the share with a P/E is below."],
    )  # fmt: skip
    # invalid: a null median breaks the line, never bridged by a straight segment nor drawn as 0
    medians = (
        alt.Chart(title=title)
        .mark_line(invalid="break-paths-filter-domains")
        .encode(x=x, y=alt.Y("median_pe_ttm:Q", title="median P/E (TTM)"), color=color, tooltip=tooltip)
        .properties(width=760, height=280)
    )
    coverage = (
        alt.Chart()
        .mark_line(interpolate="step-after")
        .encode(x=x, y=alt.Y("share_with_pe:Q", title="with a P/E", axis=alt.Axis(format="%", values=[0, 0.5, 1]),
                             scale=alt.Scale(domain=[0, 1])), color=color,
                tooltip=[*tooltip, "companies_with_pe:Q", "companies_in_group:Q"])
        .properties(width=760, height=90, title="Share of each group's companies with a P/E; a median needs half (dashed) and two")
    )  # fmt: skip
    half = alt.Chart(pd.DataFrame({"share": [0.5]})).mark_rule(color="gray", strokeDash=[4, 3]).encode(y="share:Q")
    return alt.vconcat(medians, alt.layer(coverage, half), data=data)


def peer_pe_chart(peer_rows: pd.DataFrame, as_of: date) -> alt.FacetChart:
    """Each peer's P/E as a bar, its group's median as a line; a company without a P/E says so, and
    each group's header gives its median with how many companies it is over, or says there is none."""
    data = peer_rows.assign(
        group_label=[f"{group}: {median_label(median, with_pe, in_group)}" for group, median, with_pe, in_group in zip(
            peer_rows["peer_group"], peer_rows["median_pe_ttm"], peer_rows["companies_with_pe"], peer_rows["companies_in_group"])],
        label=peer_rows["pe_ttm"].map(lambda v: "no P/E" if pd.isna(v) else f"{v:.1f}"),
        label_at=peer_rows["pe_ttm"].fillna(0),
    )  # fmt: skip
    y = alt.Y("company_name:N", axis=NAMES_AXIS, sort=alt.EncodingSortField("label_at", order="descending"))
    bars = alt.Chart().mark_bar().encode(x=alt.X("pe_ttm:Q", title="P/E on reported earnings (TTM)"), y=y,
                                         tooltip=["company_name:N", "symbol:N", "date:T", alt.Tooltip("pe_ttm:Q", format=".1f")])  # fmt: skip
    labels = alt.Chart().mark_text(align="left", dx=4).encode(x="label_at:Q", y=y, text="label:N")
    median = alt.Chart().mark_rule(color="firebrick", strokeDash=[4, 3]).encode(x="median_pe_ttm:Q")
    return (
        alt.layer(bars, labels, median, data=data)
        .properties(width=560, height=alt.Step(22))
        .facet(row=alt.Row("group_label:N", title=None, header=alt.Header(labelAngle=0, labelOrient="top", labelAnchor="start", labelFontSize=13)))
        .resolve_scale(y="independent")
        .properties(title=f"P/E of each peer (bars) and its group's median (dashed line), as of {as_of}")
    )


def market_cap_chart(peer_rows: pd.DataFrame, currency: str, as_of: date) -> alt.Chart:
    column = f"market_cap_{currency}"
    data = peer_rows.drop_duplicates("company_name").dropna(subset=[column])
    data = data.assign(market_cap_bn=data[column] / 1e9)
    return (
        alt.Chart(data, title=f"Market cap in {currency} (billions), as of {as_of}")
        .mark_bar()
        .encode(
            y=alt.Y("company_name:N", axis=NAMES_AXIS, sort="-x"),
            x=alt.X("market_cap_bn:Q", title=f"{currency} billions"),
            tooltip=["company_name:N", "symbol:N", "date:T", alt.Tooltip("market_cap_bn:Q", format=",.0f")],
        )
        .properties(width=760, height=alt.Step(26))
    )


def alibaba_chart(frame: pd.DataFrame, as_of: date) -> alt.Chart:
    data = frame[frame["date"].dt.date <= as_of]
    return (
        alt.Chart(data, title=f"Alibaba (9988.HK, BABA) against the Hang Seng since 2024: growth of 1, as of {as_of}")
        .mark_line()
        .encode(
            x=alt.X("date:T", axis=TIME_AXIS),
            y=alt.Y("growth_of_1:Q", title="growth of 1"),
            color=alt.Color("series:N", title=None),
            tooltip=["series:N", "date:T", alt.Tooltip("growth_of_1:Q", format=".2f"),
                     alt.Tooltip("drawdown_from_peak:Q", format=".1%"), alt.Tooltip("rebound_from_52w_low:Q", format=".1%")],
        )  # fmt: skip
        .properties(width=760, height=280)
    )


def capex_chart(frame: pd.DataFrame, as_of: date) -> alt.Chart:
    data = frame[frame["fiscal_period_end"].dt.date <= as_of]
    data = data.assign(capex_ttm_bn=data["capex_ttm_usd"] / 1e9)
    return (
        alt.Chart(data, title=f"Hyperscaler capex, trailing twelve months (USD billions), periods ended by {as_of}")
        .mark_line(point=True)
        .encode(
            x=alt.X("fiscal_period_end:T", axis=alt.Axis(format="%b %Y", labelAngle=0), title="fiscal period end"),
            y=alt.Y("capex_ttm_bn:Q", title="USD billions"),
            color=alt.Color("company_name:N", title=None, legend=alt.Legend(labelLimit=0)),
            tooltip=["company_name:N", "fiscal_period_end:T", "period_type:N", alt.Tooltip("capex_ttm_bn:Q", format=",.1f"),
                     alt.Tooltip("capex_yoy_growth:Q", format=".0%"), alt.Tooltip("capex_to_revenue_ttm:Q", format=".1%")],
        )  # fmt: skip
        .properties(width=760, height=280)
    )


def charts(frames: dict[str, pd.DataFrame], peer_rows: pd.DataFrame, as_of: date, currency: str = "USD") -> dict[str, alt.TopLevelMixin]:
    return {
        "pe_china_vs_us": pe_chart(frames["pe_china_vs_us"], as_of),
        "peer_pe": peer_pe_chart(peer_rows, as_of),
        "market_caps_by_currency": market_cap_chart(peer_rows, currency, as_of),
        "alibaba_vs_hang_seng": alibaba_chart(frames["alibaba_vs_hang_seng"], as_of),
        "hyperscaler_capex": capex_chart(frames["hyperscaler_capex"], as_of),
    }
