"""Each market refreshes after its own close, in its own time zone; the loads and dbt follow by themselves.

A scheduled refresh is one run per listing bucket of the landing assets (each fetches its bucket
and lands it). The raw loads follow when batches land, and after raw data loads, the dbt models and the freshness mart rebuild through Declarative
Automation (AutomationCondition.eager on those assets, evaluated by Dagster's default automation
sensor): the current Dagster documentation recommends it over hand-written sensors for "update
when upstream updates", and it requests exactly the models downstream of what changed.
"""


import dagster as dg

from orchestration.defs.landing import (
    FETCH_TAG,
    LANDING_ESTIMATES_KEY,
    LANDING_PARTITIONS,
    LANDING_PRICES_KEY,
    LANDING_PROFILES_KEY,
    LANDING_STATEMENTS_KEY,
)
from orchestration.freshness import calendar
from orchestration.instruments import FX_CALENDAR

PRICES_OP = "landing__prices"


# The price series each market job fetches (landing_prices' PricesConfig).
MARKET_PRICE_CONFIGS = {
    "hk_close_prices": {"exchanges": ["HKEX"], "fx": False},
    "us_close_prices": {"exchanges": ["NYSE", "NASDAQ"], "fx": False},
    "fx_daily": {"exchanges": [], "fx": True},
}


# A fetch run is one step (three for fundamentals) that mostly waits on the machine's Yahoo pace: a
# subprocess per step would only double the processes each run loads the definitions in. The tag
# is what dagster.yaml's run queue limits fetch runs by (tag_concurrency_limits).
FETCH_RUNS = {"tags": {FETCH_TAG: "yahoo"}, "executor_def": dg.in_process_executor}


def _prices_job(name: str, description: str):
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.assets(LANDING_PRICES_KEY),
        config={"ops": {PRICES_OP: {"config": MARKET_PRICE_CONFIGS[name]}}},
        description=description,
        **FETCH_RUNS,
    )


hk_prices_job = _prices_job("hk_close_prices", "Hong Kong listings and ^HSI after the HKEX close.")
us_prices_job = _prices_job("us_close_prices", "US listings and benchmarks after the NYSE close.")
fx_prices_job = _prices_job("fx_daily", "FX pairs after the New York FX day ends (17:00).")
fundamentals_job = dg.define_asset_job(
    "fundamentals_daily",
    selection=dg.AssetSelection.assets(LANDING_PROFILES_KEY, LANDING_STATEMENTS_KEY, LANDING_ESTIMATES_KEY),
    description="Profiles, statements where the fetch rules say they can have changed, and the listings' "
    "analysts' consensus when a week old.",
    **FETCH_RUNS,
)


def session_schedule(
    name: str, job, cron: str, timezone: str, calendar_code: str,
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:  # fmt: skip
    """On the calendar's sessions only (a holiday, Lunar New Year or Thanksgiving, is skipped, not
    run): one run per listing bucket."""

    @dg.schedule(name=name, job=job, cron_schedule=cron, execution_timezone=timezone, default_status=default_status)
    def _schedule(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.astimezone(calendar(calendar_code).tz).date()
        if not calendar(calendar_code).is_session(day.isoformat()):
            return dg.SkipReason(f"{calendar_code} has no session on {day}")
        return [
            dg.RunRequest(run_key=f"{name}:{day}:{bucket}", partition_key=bucket, tags={"session": day.isoformat()})
            for bucket in LANDING_PARTITIONS.get_partition_keys()
        ]

    return _schedule


# HKEX closes at 16:00 (16:10 after the closing auction; 12:00 on half days): 16:45 leaves Yahoo
# time to publish the final bar. NYSE closes at 16:00 (13:00 on half days): 16:45 New York time,
# which follows daylight saving by itself. The FX day rolls at 17:00 New York. Statements come
# out around the US open or overnight for Hong Kong and China: 07:00 New York catches both.
schedules = [
    session_schedule("hk_after_close", hk_prices_job, "45 16 * * 1-5", "Asia/Hong_Kong", "XHKG"),
    session_schedule("us_after_close", us_prices_job, "45 16 * * 1-5", "America/New_York", "XNYS"),
    session_schedule("fx_after_ny_close", fx_prices_job, "30 17 * * 1-5", "America/New_York", FX_CALENDAR),
    session_schedule("fundamentals_before_us_open", fundamentals_job, "0 7 * * 1-5", "America/New_York", "XNYS"),
]
jobs = [hk_prices_job, us_prices_job, fx_prices_job, fundamentals_job]
