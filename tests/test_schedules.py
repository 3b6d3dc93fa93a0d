"""Schedules fire after each exchange's close in its own time zone, and skip its holidays; the dbt
models follow raw data by Declarative Automation. Evaluated through Dagster's public testing APIs."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import pytest

from orchestration.definitions import defs
from orchestration.freshness import calendar

DBT_LAYERS = ("staging", "intermediate", "marts")


def ticks(schedule: dg.ScheduleDefinition, first: date, last: date) -> list[datetime]:
    """When the schedule fires between two dates, read off its cron string ("M H * * a-b") in its
    own time zone: a second reading, independent of Dagster's cron iterator."""
    minute, hour, day_of_month, month, weekdays = schedule.cron_schedule.split()
    assert (day_of_month, month) == ("*", "*"), f"not a daily schedule: {schedule.cron_schedule}"
    low, high = (int(day) for day in weekdays.split("-"))
    zone = ZoneInfo(schedule.execution_timezone)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [datetime.combine(d, time(int(hour), int(minute)), zone) for d in days if low <= d.isoweekday() % 7 <= high]


def evaluate(schedule: dg.ScheduleDefinition, when: datetime) -> tuple[list[dg.RunRequest], str | None]:
    """The schedule invoked as Dagster's testing docs show: (its run requests, its skip message)."""
    with dg.build_schedule_context(scheduled_execution_time=when) as context:
        result = schedule(context)
    if isinstance(result, dg.SkipReason):
        return [], result.skip_message
    return (list(result) if isinstance(result, list) else [result]), None


def sessions_run(name: str, calendar_code: str, first: date, last: date, after_close: bool = True) -> list[date]:
    """Evaluate every tick of a schedule between two dates; return the sessions it ran for, after
    checking each tick against the exchange calendar: a run only after that session's close and
    before the next session opens (or, `after_close=False`, between the previous close and that
    session's open), one request per partition of its job, each tagged with the session; a skip,
    naming the day, on a day without a session."""
    schedule = defs.get_schedule_def(name)
    partitions = defs.resolve_job_def(schedule.job_name).partitions_def
    expected_partitions = sorted(partitions.get_partition_keys()) if partitions else [None]
    cal = calendar(calendar_code)
    ran = []
    for tick in ticks(schedule, first, last):
        requests, skipped = evaluate(schedule, tick)
        day = tick.date()
        if not cal.is_session(day.isoformat()):
            assert requests == [] and skipped == f"{calendar_code} has no session on {day}", tick
            continue
        session = pd.Timestamp(day)
        if after_close:
            assert cal.session_close(session) < pd.Timestamp(tick) < cal.session_open(cal.next_session(session)), tick
        else:
            assert cal.session_close(cal.previous_session(session)) < pd.Timestamp(tick) < cal.session_open(session), tick
        assert sorted(r.partition_key for r in requests) == expected_partitions, tick
        assert {r.tags["session"] for r in requests} == {day.isoformat()}, tick
        assert len({r.run_key for r in requests}) == len(requests) and all(day.isoformat() in r.run_key for r in requests)
        ran.append(day)
    return ran


def test_hk_prices_run_after_each_hkex_close_and_not_over_lunar_new_year():
    # HKEX was shut 29-31 January 2025 (Lunar New Year); the eve, 28 January, was a half day.
    ran = sessions_run("hk_after_close", "XHKG", date(2025, 1, 27), date(2025, 2, 7))
    assert ran == [date(2025, 1, 27), date(2025, 1, 28), *(date(2025, 2, d) for d in range(3, 8))]


def test_us_prices_run_after_the_nyse_close_across_thanksgiving_and_the_half_day():
    # NYSE: shut on Thanksgiving, 28 November 2024; closed at 13:00 on the 29th.
    ran = sessions_run("us_after_close", "XNYS", date(2024, 11, 25), date(2024, 11, 29))
    assert ran == [date(2024, 11, 25), date(2024, 11, 26), date(2024, 11, 27), date(2024, 11, 29)]


def test_us_prices_follow_new_york_across_the_daylight_saving_change():
    # Daylight saving began Sunday 9 March 2025: the NYSE close moved from 21:00 to 20:00 UTC, and
    # the schedule's run with it (each tick checked against that day's close in sessions_run).
    ran = sessions_run("us_after_close", "XNYS", date(2025, 3, 6), date(2025, 3, 11))
    assert ran == [date(2025, 3, 6), date(2025, 3, 7), date(2025, 3, 10), date(2025, 3, 11)]


def test_fundamentals_run_before_the_nyse_opens_on_its_sessions_only():
    # Good Friday, 18 April 2025: NYSE shut.
    ran = sessions_run("fundamentals_before_us_open", "XNYS", date(2025, 4, 16), date(2025, 4, 22), after_close=False)
    assert ran == [date(2025, 4, 16), date(2025, 4, 17), date(2025, 4, 21), date(2025, 4, 22)]


def test_the_hk_job_fetches_only_hong_kong_series(tmp_path, monkeypatch):
    """The job the HK schedule launches, run as defined (its own config), one run per listing
    bucket, against Yahoo at the HTTP layer: only 9999.HK and ^HSI are asked for and land."""
    import orchestration.sources.yahoo as yahoo_module
    from orchestration.landing import LandingState, LandingZone, bucket_keys
    from tests.conftest import FIXTURE_UNIVERSE
    from tests.fakes.land_buckets import serve_fixture
    from tests.fakes.yahoo_http import ReplaySession, fresh_yfinance

    fresh_yfinance()
    session = ReplaySession()
    serve_fixture(session, days=3)
    monkeypatch.setattr(yahoo_module, "YahooSession", lambda limiter: session)
    monkeypatch.setenv("VALUATION_UNIVERSE", str(FIXTURE_UNIVERSE))
    monkeypatch.setenv("VALUATION_SOURCE", "yahoo")
    monkeypatch.setenv("VALUATION_AS_OF", "2025-01-31")
    monkeypatch.setenv("VALUATION_LANDING_DIR", str(tmp_path / "landing"))
    LandingZone(tmp_path / "landing").write_state(LandingState())  # an empty warehouse's state
    # The definitions as a process started in this environment loads them: the resources take the
    # VALUATION_* variables set then (as EnvVar).
    import importlib

    import orchestration.definitions

    job = importlib.reload(orchestration.definitions).defs.resolve_job_def("hk_close_prices")
    for bucket in bucket_keys():
        assert job.execute_in_process(partition_key=bucket).success
    assert sorted({symbol for symbol, _ in session.chart_params}) == ["9999.HK", "^HSI"]
    landed = {s for batch in LandingZone(tmp_path / "landing").batches("prices") for s in batch.manifest["asked"]}
    assert landed == {"9999.HK", "^HSI"}


def dbt_models_downstream_of(key: dg.AssetKey) -> set[dg.AssetKey]:
    """The dbt models downstream of an asset, read off the declared dependencies of every asset spec."""
    children: dict[dg.AssetKey, set[dg.AssetKey]] = {}
    for spec in defs.resolve_all_asset_specs():
        for dep in spec.deps:
            children.setdefault(dep.asset_key, set()).add(spec.key)
    found, frontier = set(), [key]
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return {key for key in found if key.path[0] in DBT_LAYERS}


@pytest.fixture
def settled_instance():
    """A Dagster instance on which every asset has been materialized once, and an automation cursor
    that has seen it: the state after a complete run."""
    instance = dg.DagsterInstance.ephemeral()
    for key in (spec.key for spec in defs.resolve_all_asset_specs()):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
    cursor = dg.evaluate_automation_conditions(defs=defs, instance=instance).cursor
    return instance, cursor


def requested_dbt_models(instance: dg.DagsterInstance, cursor) -> tuple[set[dg.AssetKey], object]:
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    dbt_keys = [spec.key for spec in defs.resolve_all_asset_specs() if spec.key.path[0] in DBT_LAYERS]
    return {key for key in dbt_keys if result.get_num_requested(key)}, result.cursor


@pytest.mark.parametrize("table, built_on_it, not_built_on_it", [
    ("prices", ["staging", "stg_prices"], ["staging", "stg_company_profiles"]),
    ("company_profiles", ["staging", "stg_company_profiles"], ["staging", "stg_prices"]),
])  # fmt: skip
def test_new_raw_data_requests_exactly_the_dbt_models_built_on_it_once(settled_instance, table, built_on_it, not_built_on_it):
    instance, cursor = settled_instance
    requested, cursor = requested_dbt_models(instance, cursor)
    assert requested == set(), "nothing changed since the last run: nothing to rebuild"

    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=dg.AssetKey(["raw", table])))
    requested, cursor = requested_dbt_models(instance, cursor)
    assert requested == dbt_models_downstream_of(dg.AssetKey(["raw", table]))
    assert dg.AssetKey(built_on_it) in requested and dg.AssetKey(not_built_on_it) not in requested

    requested, _ = requested_dbt_models(instance, cursor)
    assert requested == set(), "requested once, not again on the next tick"
