"""Thin fetch assets, partitioned by listing bucket: each run fetches one bucket from the live source
and lands what came back as an immutable batch (orchestration.landing). They never open DuckDB:
what they need to know (watermarks, due dates, deferred symbols) comes from the landing state the
last load wrote. A backfill is one small run per bucket, retried alone; the raw loads follow.
"""

import dataclasses

import dagster as dg
import pandas as pd
from pydantic import Field

from orchestration.defs.catalog import OWNERS
from orchestration.defs.resources import MarketDataResource, RunSettings
from orchestration.ingest_policy import (
    annual_due,
    deferred_first,
    estimates_due,
    price_starts,
    profiles_due,
    restated_symbols,
    statements_due,
)
from orchestration.normalize.estimates import empty_estimates
from orchestration.normalize.prices import empty_vintage_rows
from orchestration.normalize.profiles import empty_profiles
from orchestration.normalize.statements import empty_statements
from orchestration.landing import LandedBatch, LandingState, MissingLandingState, bucket_keys, in_buckets
from orchestration.sources import Fetched, MarketDataSource, StatementPlan

LANDING = "landing"
LANDING_PARTITIONS = dg.StaticPartitionsDefinition(bucket_keys())
LANDING_KINDS = {"python", "yahoo"}
# The run tag of the fetch jobs (orchestration/defs/schedules.py): dagster.yaml caps how many run at once.
FETCH_TAG = "valuation/fetch"
LANDING_PRICES_KEY = dg.AssetKey([LANDING, "prices"])
LANDING_PROFILES_KEY = dg.AssetKey([LANDING, "company_profiles"])
LANDING_STATEMENTS_KEY = dg.AssetKey([LANDING, "financial_statements"])
LANDING_ESTIMATES_KEY = dg.AssetKey([LANDING, "consensus_estimates"])
EMPTY_FRAMES = {"prices": empty_vintage_rows, "company_profiles": empty_profiles, "financial_statements": empty_statements,
                "consensus_estimates": empty_estimates}  # fmt: skip


class PricesConfig(dg.Config):
    """Which price series a fetch covers: the schedules refresh each market after its own close."""

    exchanges: list[str] | None = Field(default=None, description="listings and benchmarks of these exchanges (all when unset)")
    fx: bool = Field(default=True, description="include the FX pairs")


def _state(market_data: MarketDataResource) -> LandingState:
    try:
        return market_data.landing_zone().read_state()
    except MissingLandingState as error:
        raise dg.Failure(str(error)) from None


def _live_source(market_data: MarketDataResource, fundamentals: bool = False) -> MarketDataSource:
    source = market_data.get_fundamentals_source() if fundamentals else market_data.get_source()
    if source.fetches_are_free:
        raise dg.Failure(
            f"the {source.name} source is a landed snapshot already: the raw loads replay it directly. "
            "The landing assets fetch from a live source (VALUATION_SOURCE=yahoo, or "
            "VALUATION_FUNDAMENTALS_SOURCE=edgar for the statements)."
        )
    return source


def _land_each(
    context: dg.AssetExecutionContext, market_data: MarketDataResource, dataset: str, symbols: list[str], fetch,
    source_name: str | None = None,
) -> dg.MaterializeResult:
    """Fetch each bucket of the run's partitions (one, or a range) and land it as its own batch."""
    zone = market_data.landing_zone()
    landed: list[tuple[LandedBatch, Fetched]] = []
    source_name = source_name or market_data.get_source().name
    for bucket in context.partition_keys:
        asked = in_buckets(symbols, [bucket])
        # a bucket with nothing due still lands (an empty batch): the run's record of "asked nothing"
        fetched = fetch(asked) if asked else Fetched(EMPTY_FRAMES[dataset]())
        landed.append((zone.land(dataset, bucket, fetched, asked, source_name), fetched))
    failures = {s: r for _, f in landed for s, r in f.failures.items()}
    deferred = {s: r for _, f in landed for s, r in f.deferred.items()}
    unchanged = {s: r for _, f in landed for s, r in f.unchanged.items()}
    by_endpoint: dict[str, int] = {}
    for _, fetched in landed:
        for endpoint, count in fetched.requests_by_endpoint.items():
            by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + count
    metadata = {
        "batches": [batch.batch_id for batch, _ in landed],
        "landing_dir": dg.MetadataValue.path(str(zone.root)),
        "symbols_asked": sum(len(batch.manifest["asked"]) for batch, _ in landed),
        "rows_landed": sum(len(f.frame) for _, f in landed),
        "requests": sum(f.requests for _, f in landed),
        "requests_by_endpoint": dict(sorted(by_endpoint.items())),
        "symbols_failed": len(failures),
        "symbols_deferred": len(deferred),
    }
    if unchanged:
        metadata["symbols_unchanged"] = len(unchanged)
    if failures:
        metadata["failures"] = dict(sorted(failures.items()))
    if deferred:
        metadata["deferred"] = dict(sorted(deferred.items()))
    warnings = [w for _, f in landed for w in f.warnings]
    if warnings:
        metadata["warnings"] = warnings
    return dg.MaterializeResult(metadata=metadata)


def _landing_asset(key: dg.AssetKey, description: str):
    return dg.asset(
        key=key,
        partitions_def=LANDING_PARTITIONS,
        group_name=LANDING,
        description=description,
        owners=OWNERS,
        kinds=LANDING_KINDS,
    )  # without a backfill policy, a backfill is one run per bucket: small, spread out, retried alone


@_landing_asset(
    LANDING_PRICES_KEY,
    "Daily bars of one bucket of listings, benchmarks and FX pairs as Yahoo returned them: from each "
    "symbol's last loaded date minus an overlap, or the whole history for a new symbol or one whose "
    "stored closes Yahoo has restated (a split or dividend applied retroactively).",
)
def landing_prices(
    context: dg.AssetExecutionContext, config: PricesConfig, market_data: MarketDataResource, run_settings: RunSettings
):
    source = _live_source(market_data)
    state = _state(market_data)
    instruments = {i.symbol: i for i in run_settings.universe().instruments(config.exchanges, config.fx)}
    symbols = deferred_first(instruments, state.deferred.get("prices", []))

    def fetch(asked: list[str]) -> Fetched:
        wanted = [instruments[s] for s in asked]
        fetched = source.fetch_prices(wanted, price_starts(asked, state.watermarks(), market_data.price_overlap_days))
        return _refetch_restated(source, wanted, fetched, state)

    return _land_each(context, market_data, "prices", symbols, fetch)


def _refetch_restated(source: MarketDataSource, instruments: list, fetched: Fetched, state: LandingState) -> Fetched:
    """Stored closes the overlap no longer matches: fetch those symbols' whole history again."""
    if fetched.frame.empty or not state.recent_closes:
        return fetched
    restated = set(restated_symbols(fetched.frame, state.stored_closes()))
    if not restated:
        return fetched
    again = source.fetch_prices([i for i in instruments if i.symbol in restated], {})
    frame = pd.concat([fetched.frame[~fetched.frame["symbol"].isin(restated)], again.frame], ignore_index=True)
    warnings = fetched.warnings + [f"{s}: stored closes no longer match Yahoo's: whole history fetched again" for s in sorted(restated)]
    by_endpoint = dict(fetched.requests_by_endpoint)
    for endpoint, count in again.requests_by_endpoint.items():
        by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + count
    return dataclasses.replace(
        fetched,
        frame=frame,
        failures={**fetched.failures, **again.failures},
        deferred={**fetched.deferred, **again.deferred},
        warnings=warnings,
        requests=fetched.requests + again.requests,
        requests_by_endpoint=by_endpoint,
    )


@_landing_asset(
    LANDING_PROFILES_KEY,
    "Profiles (a subset of Yahoo's Ticker.info) of one bucket of listings: new listings, then every "
    "`profile_max_age_days`.",
)
def landing_company_profiles(context: dg.AssetExecutionContext, market_data: MarketDataResource, run_settings: RunSettings):
    source = _live_source(market_data)
    state = _state(market_data)
    as_of = run_settings.as_of_date()
    listings = [listing.symbol for _, listing in run_settings.universe().listings]
    due = deferred_first(
        profiles_due(listings, state.profile_fetch_days(), as_of, market_data.profile_max_age_days),
        state.deferred.get("company_profiles", []),
    )
    return _land_each(context, market_data, "company_profiles", due, lambda asked: source.fetch_profiles(asked, as_of))


@_landing_asset(
    LANDING_STATEMENTS_KEY,
    "Income, balance and cash-flow statements of one bucket of companies from the fundamentals source "
    "(VALUATION_FUNDAMENTALS_SOURCE). Yahoo: fetched only when they can have changed (first time, an earnings "
    "date passed, or too old), annual ones after fiscal-year results. EDGAR: every company's submissions, "
    "and its companyfacts when a filing appeared since the last one loaded (the first time: at once).",
)
def landing_financial_statements(
    context: dg.AssetExecutionContext, market_data: MarketDataResource, run_settings: RunSettings
):
    source = _live_source(market_data, fundamentals=True)
    state = _state(market_data)
    universe = run_settings.universe()
    as_of = run_settings.as_of_date()
    max_age = market_data.fundamentals_max_age_days
    last_fetches = state.last_statement_fetches()
    releases = {s: tuple(d for d in days if d <= as_of) for s, days in state.known_releases().items()}
    # EDGAR says itself whether a company filed since the last load (one submissions request each):
    # every company is asked every run. Yahoo is asked only when its statements can have changed.
    candidates = universe.fundamentals_symbols if source.name == "edgar" else statements_due(
        universe.fundamentals_symbols, last_fetches, as_of, max_age)  # fmt: skip
    due = deferred_first(candidates, state.deferred.get("financial_statements", []))
    companies = {company.primary_listing.symbol: company for company in universe.companies}

    def fetch(asked: list[str]) -> Fetched:
        plans = [
            StatementPlan(
                symbol,
                companies[symbol].reporting_currency,
                companies[symbol].primary_listing.shares_per_listing_unit,
                annual=annual_due(last_fetches.get(symbol), as_of, companies[symbol].fiscal_year_end_month, max_age),
                releases=releases.get(symbol, ()),
                fiscal_year_end_month=companies[symbol].fiscal_year_end_month,
                last_filed=state.edgar_last_filing(symbol)[0],
                last_accn=state.edgar_last_filing(symbol)[1],
            )
            for symbol in asked
        ]
        return source.fetch_statements(plans)

    return _land_each(context, market_data, "financial_statements", due, fetch, source.name)


@_landing_asset(
    LANDING_ESTIMATES_KEY,
    "Analysts' consensus (Yahoo's earningsTrend) and the figures Yahoo itself quotes (marketCap, forwardPE, ...) "
    "of one bucket of listings, one quoteSummary request each: new listings, then once a cycle of `estimates_cycle_business_days`, each on its own day.",
)
def landing_consensus_estimates(context: dg.AssetExecutionContext, market_data: MarketDataResource, run_settings: RunSettings):
    source = _live_source(market_data)
    state = _state(market_data)
    listings = [listing.symbol for _, listing in run_settings.universe().listings]
    due = deferred_first(
        estimates_due(listings, state.estimate_fetch_days(), run_settings.as_of_date(), market_data.estimates_cycle_business_days),
        state.deferred.get("consensus_estimates", []),
    )
    return _land_each(context, market_data, "consensus_estimates", due, source.fetch_estimates)


landing_assets = [landing_prices, landing_company_profiles, landing_financial_statements, landing_consensus_estimates]
