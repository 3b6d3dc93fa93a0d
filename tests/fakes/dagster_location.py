"""The project's definitions as the tests that run the real daemon serve them:

    dagster dev -m tests.fakes.dagster_location

Everything is the project's own (assets, pools, jobs and their tags, resources from the VALUATION_*
variables) but for
- Yahoo: the double at $YAHOO_DOUBLE_URL (tests/fakes/yahoo_server.py), asked at the test's pace,
  $YAHOO_DOUBLE_PER_HOUR, with a 429 pausing every process for $YAHOO_DOUBLE_BACKOFF_SECONDS
  (doubling per 429 in a row); every run worker that loads this module asks it. With
  $YAHOO_DOUBLE_PACE_PER_PROCESS set, each process keeps a pace of its own instead (what a
  per-process limiter did: the benchmark's comparison);
- the schedules: instead of the four real ones (which could tick during a test), two made by the
  production `session_schedule` for the US job, every minute on a 24/7 calendar (two ticks of
  different schedules over the same buckets, as an overlap of two markets' ticks would be), stopped
  until a test starts them;
- the automation sensor: stopped, so that a test decides when the loads and the build run.
"""

import os

import dagster as dg

import orchestration.sources.yahoo as yahoo_module
from tests.fakes.yahoo_server import HttpYahooSession

yahoo_module.YahooSession = HttpYahooSession  # before any source is built: the run workers import this module first

import orchestration.definitions as project_module  # noqa: E402
from orchestration.defs.resources import market_data_resource  # noqa: E402
from orchestration.defs.schedules import session_schedule, us_prices_job  # noqa: E402

EVERY_MINUTE = {"first_every_minute": us_prices_job, "second_every_minute": us_prices_job}


def _definitions(project: dg.Definitions) -> dg.Definitions:
    """(A function: Dagster refuses a module with two Definitions objects at its top level.)"""
    every_minute = [session_schedule(name, job, "* * * * *", "UTC", "24/7", dg.DefaultScheduleStatus.STOPPED)
                    for name, job in EVERY_MINUTE.items()]  # fmt: skip
    automation = dg.AutomationConditionSensorDefinition(
        "default_automation_condition_sensor", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.STOPPED
    )
    per_process = {}
    if os.environ.get("YAHOO_DOUBLE_PACE_PER_PROCESS"):  # the benchmark's "before": each process paced alone
        per_process["pace_file"] = f"{os.environ['VALUATION_YAHOO_PACE']}.{os.getpid()}"
    market_data = market_data_resource(
        requests_per_hour=float(os.environ.get("YAHOO_DOUBLE_PER_HOUR", "3600")),
        retry_base_delay_seconds=float(os.environ.get("YAHOO_DOUBLE_BACKOFF_SECONDS", "1")),
        **per_process,
    )
    return dg.Definitions(
        assets=project.assets,
        jobs=project.jobs,
        schedules=every_minute,
        sensors=[automation],
        resources={**project.resources, "market_data": market_data},
    )


defs = _definitions(project_module.defs)
