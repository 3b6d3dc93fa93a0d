"""The valuation panel in plain pandas, from the raw tables: the baseline benchmarks/scale.py
holds `dbt run --full-refresh --select +fct_valuation_daily` against.

    python -m benchmarks.pandas_panel WAREHOUSE [OUT]   # prints {"seconds": ..., "write_seconds": ..., "rows": ...}

Both sides read raw.prices, raw.financial_statements, raw.stock_splits, raw.universe_listings,
raw.universe_fx_pairs and the line_item_metrics seed, and compute one row per listing and
trading day (every price row of a listing in universe.yml) with:

- market cap in the trading currency, USD, HKD and CNY: the ordinary shares known that day x the
  close / ordinary shares per listing unit (a currency's own listing keeps its local figure);
- TTM revenue, net income, EBITDA (reported, else operating income + D&A) and diluted EPS, and net
  debt (total debt - cash - short-term investments), in USD; TTM EPS per listing unit in the
  trading currency; P/E, P/S and EV/EBITDA, null where the denominator is not positive;
- line items mapped to metrics by the seed and summed per period and filing; a figure usable from
  its filing date (else period end + fundamentals_lag_days_*), counted as published at the end of
  that day in the primary listing's time zone, and used from the first session of each listing's
  own exchange that opens after that moment; per-share figures and share counts on today's split
  basis (the primary listing's later splits);
- a TTM: four consecutive quarters whose ends span 260-290 days, else the fiscal year ending at that
  period end; every quarter in its latest version filed by the day the TTM is known, so a
  restatement changes a TTM from its filing date on, never before; the latest period with a complete
  TTM stays until a newer complete one is known; dropped after ttm_max_age_days;
- the balance sheet of the latest period end known (a late restatement of an older period does not
  displace it); share counts: the latest dated outstanding count (total, or the share classes
  summed) published, or the weighted-average diluted count when none is known or it is more than a
  year older;
- FX per calendar day from the USD pairs, the last quote carried forward at most
  fx_max_carry_forward_days; every amount converted at its row's own date's rate.

On the smoke warehouse and on one with restatements, fiscal-year TTMs, a split and weighted-average
share counts injected, the two agree exactly (every row, every column above).

What the pandas side leaves out: the columns the ratios do not need (close_usd, price_basis,
shares_basis, shares_as_of, ttm_basis, TTM capex, built_at); of the SQL's intermediate outputs,
everything but what the panel uses; the mart's incremental bookkeeping (nothing for a full refresh
to do); writing: the pipeline materializes the staging views and six tables in the DuckDB file
(int_financial_metrics, int_fundamentals_ttm, int_fundamentals_point_in_time,
int_share_counts_point_in_time, int_fx_rates_daily, dim_listing) and fct_valuation_daily; the
pandas side writes its panel alone, as table `valuation_panel` of a DuckDB file of its own (OUT,
by default pandas_panel.duckdb beside the warehouse), each batch of companies as it is computed,
under the same thread and memory settings as dbt's. A local time that does not exist
or is ambiguous in its time zone raises here (pandas' default) where DuckDB resolves it: no
exchange of the universe opens or publishes at such a time.
Its time includes reading the raw tables into pandas, as the pipeline's includes dbt's start, and
writing the panel, as the pipeline's includes writing the mart (both outputs are then a table a
reader can open); `write_seconds` is the writing's share.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml

from orchestration import settings

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"
DBT_VARS = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]
FLOWS = ["revenue", "net_income", "operating_income", "depreciation_amortization", "ebitda", "eps_diluted"]
HEADLINE_FLOWS = ["revenue", "net_income", "eps_diluted"]
BALANCES = ["total_debt", "cash_and_equivalents", "short_term_investments"]
SHARE_COUNT_RANK = {"shares_outstanding": 1, "shares_outstanding_class": 2, "weighted_avg_shares_diluted": 3}
DAY = pd.Timedelta(days=1)
BATCH_COMPANIES = 500


def read_raw(warehouse: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:

        def frame(sql: str) -> pd.DataFrame:
            return conn.execute(sql).df()

        raw = {
            "listings": frame("select symbol, company_id, exchange_timezone, session_open_local, trading_currency, "
                              "shares_per_listing_unit, is_primary from raw.universe_listings"),
            "fx_pairs": frame("select symbol, base_currency, quote_currency from raw.universe_fx_pairs"),
            "fx_quotes": frame("select symbol, date, close from raw.prices "
                               "where symbol in (select symbol from raw.universe_fx_pairs)"),
            "last_price_date": frame("select max(date) as date from raw.prices"),
            "statements": frame("select symbol, period_type, period_end, filed_date, line_item, value, currency, unit "
                                "from raw.financial_statements"),
            "splits": frame("select symbol, ex_date, split_ratio from raw.stock_splits where split_ratio <> 1"),
        }  # fmt: skip
    listings = raw["listings"]
    listings["company_id"] = pd.factorize(listings["company_id"])[0]  # integer keys join faster
    listings["trading_currency"] = listings["trading_currency"].astype("category")
    opens = listings["session_open_local"]
    listings["session_open"] = pd.to_timedelta(opens.where(opens.str.count(":") == 2, opens + ":00"))
    return raw


def to_utc(local: pd.Series, timezones: pd.Series) -> pd.Series:
    """Naive local timestamps in each row's time zone, as naive UTC."""
    out = pd.Series(pd.NaT, index=local.index, dtype=local.dtype)
    for timezone in timezones.unique():
        rows = (timezones == timezone).to_numpy()
        out[rows] = local[rows].dt.tz_localize(timezone).dt.tz_convert("UTC").dt.tz_localize(None)
    return out


# ---------------------------------------------------------------- int_financial_metrics


def financial_metrics(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Line items mapped to metrics and summed, with their publication moment, on today's split basis."""
    metric_map = pd.read_csv(DBT_PROJECT / "seeds" / "line_item_metrics.csv")
    listings = raw["listings"]
    primary = listings[listings["is_primary"]][["company_id", "symbol", "exchange_timezone"]]
    mapped = raw["statements"].merge(metric_map, on="line_item").merge(listings[["symbol", "company_id"]], on="symbol")
    mapped["value"] = mapped["value"] * mapped["sign"]
    keys = ["company_id", "metric", "period_type", "period_end", "filed_date", "currency", "unit"]
    metrics = mapped.groupby(keys, dropna=False, as_index=False)["value"].sum()
    lag = metrics["period_type"].map({"quarterly": DBT_VARS["fundamentals_lag_days_quarterly"]}).fillna(
        DBT_VARS["fundamentals_lag_days_annual"]
    )
    metrics["available_from"] = metrics["filed_date"].fillna(metrics["period_end"] + pd.to_timedelta(lag, unit="D"))
    metrics = metrics.merge(primary[["company_id", "exchange_timezone"]], on="company_id")
    metrics["published_at_utc"] = to_utc(metrics["available_from"] + DAY, metrics["exchange_timezone"])
    factor = split_factor(metrics, raw["splits"], primary)
    per_share = metrics["unit"].isin(["per_share", "per_ads"])
    metrics["value"] = np.where(metrics["unit"] == "shares", metrics["value"] * factor,
                                np.where(per_share, metrics["value"] / factor, metrics["value"]))  # fmt: skip
    return metrics.drop(columns=["exchange_timezone"])


def split_factor(metrics: pd.DataFrame, splits: pd.DataFrame, primary: pd.DataFrame) -> pd.Series:
    """The product of the primary listing's split ratios after each figure's document date."""
    if splits.empty:
        return pd.Series(1.0, index=metrics.index)
    splits = splits.merge(primary[["symbol", "company_id"]], on="symbol").sort_values("ex_date")
    # the product of each split and every later one: what a document dated before it needs
    splits["later_product"] = splits[::-1].groupby("company_id")["split_ratio"].cumprod()[::-1]
    documents = pd.DataFrame({"company_id": metrics["company_id"],
                              "document_date": metrics["filed_date"].fillna(metrics["period_end"])})  # fmt: skip
    documents = documents.reset_index().sort_values("document_date")
    matched = pd.merge_asof(documents, splits[["company_id", "ex_date", "later_product"]], left_on="document_date",
                            right_on="ex_date", by="company_id", direction="forward", allow_exact_matches=False)  # fmt: skip
    return matched.set_index("index")["later_product"].reindex(metrics.index).fillna(1.0)


# ---------------------------------------------------------------- int_fundamentals_ttm


def asof_version(left: pd.DataFrame, versions: pd.DataFrame, period_column: str, name: str) -> pd.DataFrame:
    """Add `name`: the value of the period in `period_column` in its latest version known by known_from."""
    right = versions[["series", "period_end", "available_from", "value"]].rename(
        columns={"period_end": period_column, "value": name}
    )
    known = left[left[period_column].notna()].sort_values("known_from")
    matched = pd.merge_asof(known, right.sort_values("available_from"), left_on="known_from",
                            right_on="available_from", by=["series", period_column]).drop(columns="available_from")  # fmt: skip
    return pd.concat([matched, left[left[period_column].isna()]], ignore_index=True)


def ttm_change_log(flows: pd.DataFrame) -> pd.DataFrame:
    """The TTM of each period as known from each date a figure of its window was published."""
    quarterly = flows[flows["period_type"] == "quarterly"]
    annual = flows[flows["period_type"] == "annual"]
    quarters = quarterly.groupby(["series", "period_end"], as_index=False)["available_from"].min()
    quarters = quarters.rename(columns={"available_from": "first_known"}).sort_values(["series", "period_end"])
    by_series = quarters.groupby("series")["period_end"]
    for n in (1, 2, 3):
        quarters[f"previous_{n}"] = by_series.shift(n)
        quarters[f"next_{n}"] = by_series.shift(-n)

    # a quarter's version touches itself and the three quarters after it, those known by then
    touched = quarterly[["series", "period_end", "available_from"]].merge(
        quarters[["series", "period_end", "next_1", "next_2", "next_3"]], on=["series", "period_end"]
    )
    touched = touched.melt(id_vars=["series", "available_from"], value_name="touched").dropna(subset="touched")
    touched = touched.merge(quarters[["series", "period_end", "first_known"]], left_on=["series", "touched"],
                            right_on=["series", "period_end"])  # fmt: skip
    touched = touched[touched["first_known"] <= touched["available_from"]]
    events = pd.concat([touched[["series", "period_end", "available_from"]],
                        annual[["series", "period_end", "available_from"]]]).drop_duplicates()  # fmt: skip
    events = events.rename(columns={"available_from": "known_from"})

    window = events.merge(quarters[["series", "period_end", "previous_1", "previous_2", "previous_3"]],
                          on=["series", "period_end"], how="left")  # fmt: skip
    for n, column in enumerate(["period_end", "previous_1", "previous_2", "previous_3"]):
        window = asof_version(window, quarterly, column, f"value_{n}")
    window = asof_version(window, annual, "period_end", "fiscal_year_value")
    values = window[["value_0", "value_1", "value_2", "value_3"]]
    span = (window["period_end"] - window["previous_3"]).dt.days
    four_quarters = values.sum(axis=1).where(values.notna().all(axis=1) & span.between(260, 290))
    window["ttm_value"] = four_quarters.fillna(window["fiscal_year_value"])
    return window[["series", "period_end", "known_from", "ttm_value"]]


# ---------------------------------------------------------------- int_fundamentals_point_in_time


def fundamentals_point_in_time(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per company and publication moment: the latest complete TTMs and the latest balance sheet known."""
    knowledge = metrics[["company_id", "available_from", "published_at_utc"]].drop_duplicates()
    knowledge = knowledge.rename(columns={"available_from": "known_from"})
    return knowledge.merge(latest_flows(metrics, knowledge), on=["company_id", "known_from"], how="left").merge(
        latest_balances(metrics, knowledge), on=["company_id", "known_from"], how="left"
    )


def latest_flows(metrics: pd.DataFrame, knowledge: pd.DataFrame) -> pd.DataFrame:
    """Per company and knowledge date: each flow's latest complete TTM, in its latest version known."""
    flows = metrics[metrics["metric"].isin(FLOWS)]
    flows = flows.sort_values("value").drop_duplicates(
        ["company_id", "metric", "period_type", "period_end", "currency", "available_from"]
    )  # one version per figure and publication date: the smallest, as the SQL's row_number
    flows = flows.assign(series=flows.groupby(["company_id", "metric", "currency"], dropna=False).ngroup())
    series = flows[["series", "company_id", "metric", "currency"]].drop_duplicates()
    ttm = ttm_change_log(flows)

    # per series, the latest period end with a complete TTM known on each date (a running max)
    complete = ttm[ttm["ttm_value"].notna()]
    latest_period = complete.groupby(["series", "known_from"], as_index=False)["period_end"].max()
    latest_period["ttm_period_end"] = latest_period.groupby("series")["period_end"].cummax()

    asked = knowledge.merge(series, on="company_id").sort_values("known_from")
    asked = pd.merge_asof(asked, latest_period[["series", "known_from", "ttm_period_end"]].sort_values("known_from"),
                          on="known_from", by="series").dropna(subset="ttm_period_end")  # fmt: skip
    ttm_versions = ttm.rename(columns={"period_end": "ttm_period_end", "known_from": "ttm_known_from"})
    asked = pd.merge_asof(asked, ttm_versions.sort_values("ttm_known_from"), left_on="known_from",
                          right_on="ttm_known_from", by=["series", "ttm_period_end"])  # fmt: skip

    keys = ["company_id", "known_from"]
    wide = asked.pivot_table(index=keys, columns="metric", values="ttm_value", aggfunc="max")
    wide = wide.reindex(columns=FLOWS)
    headline = asked[asked["metric"].isin(HEADLINE_FLOWS)].groupby(keys)["ttm_period_end"].min()
    currencies = asked.assign(is_eps=asked["metric"] == "eps_diluted").pivot_table(
        index=keys, columns="is_eps", values="currency", aggfunc="max"
    )
    return pd.DataFrame({
        "fundamentals_period_end": headline,
        "reporting_currency": currencies.get(False),
        "eps_currency": currencies.get(True),
        "ttm_revenue": wide["revenue"],
        "ttm_net_income": wide["net_income"],
        "ttm_ebitda": wide["ebitda"].fillna(wide["operating_income"] + wide["depreciation_amortization"]),
        "ttm_eps_diluted": wide["eps_diluted"],
    }).reset_index()  # fmt: skip


def latest_balances(metrics: pd.DataFrame, knowledge: pd.DataFrame) -> pd.DataFrame:
    """Each balance item's figure of the latest period end known by each date (a late restatement of
    an older period does not displace a newer one)."""
    balances = metrics[metrics["metric"].isin(BALANCES)].sort_values(["available_from", "period_end"])
    # the best version by each publication date: the latest period end, then the latest filing
    candidates = balances.drop_duplicates(["company_id", "metric", "available_from"], keep="last")
    best_period_end = candidates.groupby(["company_id", "metric"])["period_end"].cummax()
    candidates["value"] = candidates["value"].where(candidates["period_end"] == best_period_end)
    candidates["value"] = candidates.groupby(["company_id", "metric"])["value"].ffill()  # the best so far
    candidates["period_end"] = best_period_end

    asked = knowledge.merge(candidates[["company_id", "metric"]].drop_duplicates(), on="company_id")
    asked = pd.merge_asof(asked.sort_values("known_from"), candidates[["company_id", "metric", "available_from", "period_end", "value"]],
                          left_on="known_from", right_on="available_from", by=["company_id", "metric"]).dropna(subset="available_from")  # fmt: skip
    wide = asked.pivot_table(index=["company_id", "known_from"], columns="metric", values="value", aggfunc="max")
    wide = wide.reindex(columns=BALANCES)
    cash = wide["cash_and_equivalents"] + wide["short_term_investments"].fillna(0)
    return pd.DataFrame({"total_debt": wide["total_debt"], "cash_and_short_term_investments": cash}).reset_index()


# ---------------------------------------------------------------- int_share_counts_point_in_time


def share_counts(metrics: pd.DataFrame) -> pd.DataFrame:
    """The ordinary-share count of each company from each publication moment on."""
    counts = metrics[metrics["metric"].isin(list(SHARE_COUNT_RANK)) & (metrics["unit"] == "shares")]
    counts = counts.assign(rank=counts["metric"].map(SHARE_COUNT_RANK))
    counts = counts[["company_id", "available_from", "published_at_utc", "period_end", "value", "rank"]]

    def latest_per_publication(rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.sort_values(["period_end", "rank"], ascending=[False, True])
        return rows.drop_duplicates(["company_id", "available_from"]).sort_values("available_from")

    outstanding = latest_per_publication(counts[counts["rank"] < 3])
    weighted = latest_per_publication(counts[counts["rank"] == 3])
    publications = counts[["company_id", "available_from", "published_at_utc"]].drop_duplicates()
    publications = publications.sort_values("available_from")
    known = publications
    for kind, rows in (("outstanding", outstanding), ("weighted", weighted)):
        rows = rows[["company_id", "available_from", "period_end", "value"]].rename(
            columns={"available_from": f"{kind}_from", "period_end": f"{kind}_as_of", "value": f"{kind}_count"}
        )
        known = pd.merge_asof(known, rows, left_on="available_from", right_on=f"{kind}_from", by="company_id")
    use_outstanding = known["outstanding_count"].notna() & (
        known["weighted_as_of"].isna() | (known["outstanding_as_of"] >= known["weighted_as_of"] - pd.Timedelta(days=365))
    )
    known["share_count"] = known["outstanding_count"].where(use_outstanding, known["weighted_count"])
    return known[["company_id", "published_at_utc", "share_count"]]


# ---------------------------------------------------------------- int_fx_rates_daily


def fx_rates(raw: dict[str, pd.DataFrame]) -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    """Units of each currency per USD on every calendar day (a column per currency, USD included)."""
    quotes = raw["fx_quotes"].merge(raw["fx_pairs"], on="symbol")
    quotes = quotes[(quotes["base_currency"] == "USD") | (quotes["quote_currency"] == "USD")]
    usd_based = quotes["base_currency"] == "USD"
    quotes["currency"] = quotes["quote_currency"].where(usd_based, quotes["base_currency"])
    quotes["units_per_usd"] = quotes["close"].where(usd_based, 1.0 / quotes["close"])
    days = pd.date_range(quotes["date"].min(), raw["last_price_date"]["date"].iloc[0], freq="D")
    rates = quotes.pivot_table(index="date", columns="currency", values="units_per_usd", aggfunc="last")
    rates = rates.reindex(days).ffill(limit=DBT_VARS["fx_max_carry_forward_days"])
    rates["USD"] = 1.0
    return days, rates


def rate_on(days: pd.DatetimeIndex, rates: pd.DataFrame, dates: pd.Series, currencies: pd.Series) -> np.ndarray:
    """The rate of each row's currency on its date (NaN outside the calendar or for an unknown currency)."""
    table = np.vstack([rates.to_numpy(), np.full((1, rates.shape[1]), np.nan)])
    day = ((dates - days[0]) // DAY).to_numpy()
    day = np.where((day >= 0) & (day < len(days)), day, len(days))
    column = pd.Categorical(currencies, categories=rates.columns).codes
    return np.where(column >= 0, table[day, column], np.nan)


# ---------------------------------------------------------------- fct_valuation_daily


def valuation_panel(warehouse: Path) -> Iterator[pd.DataFrame]:
    """The panel, the listings of BATCH_COMPANIES companies at a time (what is known of a company
    concerns its own listings only), so the working set stays a few GiB at any scale."""
    raw = read_raw(warehouse)
    metrics = financial_metrics(raw)
    fundamentals = fundamentals_point_in_time(metrics).drop(columns="known_from")
    fundamentals = fundamentals.astype({"reporting_currency": "category", "eps_currency": "category"})
    shares = share_counts(metrics)
    days, rates = fx_rates(raw)
    listings = raw["listings"].drop(columns=["is_primary", "session_open_local"])
    companies = listings["company_id"].unique()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for first in range(0, len(companies), BATCH_COMPANIES):
            batch = listings[listings["company_id"].isin(companies[first : first + BATCH_COMPANIES])]
            conn.register("batch", batch[["symbol"]])
            prices = conn.execute("select symbol, date, close from raw.prices where symbol in (select symbol from batch)").df()
            yield listing_days(prices.merge(batch, on="symbol"), fundamentals, shares, days, rates)


def listing_days(panel: pd.DataFrame, fundamentals: pd.DataFrame, shares: pd.DataFrame, days: pd.DatetimeIndex,
                 rates: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    panel["session_open_utc"] = to_utc(panel["date"] + panel["session_open"], panel["exchange_timezone"])
    panel = panel.drop(columns=["session_open", "exchange_timezone"]).sort_values("session_open_utc")
    # what was published before the session opened (strictly before: allow_exact_matches=False)
    for known in (shares, fundamentals):
        panel = pd.merge_asof(panel, known.sort_values("published_at_utc"), left_on="session_open_utc",
                              right_on="published_at_utc", by="company_id", allow_exact_matches=False).drop(columns="published_at_utc")  # fmt: skip
    too_old = (panel["date"] - panel["fundamentals_period_end"]).dt.days > DBT_VARS["ttm_max_age_days"]
    for column in ("ttm_revenue", "ttm_net_income", "ttm_ebitda", "ttm_eps_diluted"):
        panel[column] = panel[column].mask(too_old)
    return valuations(panel, days, rates)


def valuations(panel: pd.DataFrame, days: pd.DatetimeIndex, rates: pd.DataFrame) -> pd.DataFrame:
    def rate(currencies: pd.Series | str) -> np.ndarray:
        if isinstance(currencies, str):
            currencies = pd.Series(currencies, index=panel.index)
        return rate_on(days, rates, panel["date"], currencies)

    local, reporting = rate(panel["trading_currency"]), rate(panel["reporting_currency"])
    market_cap_local = panel["share_count"] * panel["close"] / panel["shares_per_listing_unit"]
    market_cap_usd = market_cap_local / local
    net_debt_usd = (panel["total_debt"] - panel["cash_and_short_term_investments"]) / reporting
    revenue_usd, ebitda_usd = panel["ttm_revenue"] / reporting, panel["ttm_ebitda"] / reporting
    ttm_eps = panel["ttm_eps_diluted"] / rate(panel["eps_currency"]) * local * panel["shares_per_listing_unit"]
    out = pd.DataFrame({
        "symbol": panel["symbol"],
        "date": panel["date"],
        "close": panel["close"],
        "shares_outstanding": panel["share_count"],
        "market_cap_local": market_cap_local,
        "market_cap_usd": market_cap_usd,
        "market_cap_hkd": market_cap_local.where(panel["trading_currency"] == "HKD", market_cap_usd * rate("HKD")),
        "market_cap_cny": market_cap_local.where(panel["trading_currency"] == "CNY", market_cap_usd * rate("CNY")),
        "ttm_revenue_usd": revenue_usd,
        "ttm_net_income_usd": panel["ttm_net_income"] / reporting,
        "ttm_ebitda_usd": ebitda_usd,
        "net_debt_usd": net_debt_usd,
        "enterprise_value_usd": market_cap_usd + net_debt_usd,
        "ttm_eps": ttm_eps,
        "pe_ttm": (panel["close"] / ttm_eps).where(ttm_eps > 0),
        "ps_ttm": (market_cap_usd / revenue_usd).where(revenue_usd > 0),
        "ev_ebitda_ttm": ((market_cap_usd + net_debt_usd) / ebitda_usd).where(ebitda_usd > 0),
        "fundamentals_period_end": panel["fundamentals_period_end"],
    })  # fmt: skip
    return out.reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    args = argv or sys.argv[1:]
    warehouse = Path(args[0])
    out = Path(args[1]) if len(args) > 1 else warehouse.with_name("pandas_panel.duckdb")
    for stale in (out, out.with_name(out.name + ".wal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    writing, rows = 0.0, 0
    with duckdb.connect(str(out)) as conn:
        # dbt's settings (dbt_project/profiles.yml), the memory limit as the pipeline's connections take it
        conn.execute(f"set threads = {os.environ.get('VALUATION_DUCKDB_THREADS', '2')}")
        conn.execute("set memory_limit = ?", [settings.duckdb_memory_limit()])
        for n, batch in enumerate(valuation_panel(warehouse)):
            write_started = time.perf_counter()
            conn.register("batch", batch)
            conn.execute("create table valuation_panel as from batch" if n == 0 else "insert into valuation_panel from batch")
            conn.unregister("batch")
            rows += len(batch)
            writing += time.perf_counter() - write_started
        write_started = time.perf_counter()
        conn.execute("checkpoint")
        writing += time.perf_counter() - write_started
    print(json.dumps({"seconds": time.perf_counter() - started, "write_seconds": writing, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
