"""Schedules fire after each exchange's close in its own time zone, and skip its holidays."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._utils.schedules import cron_string_iterator

from orchestration.definitions import defs

NEW_YORK, HONG_KONG = ZoneInfo("America/New_York"), ZoneInfo("Asia/Hong_Kong")


def evaluate(name: str, when: datetime):
    schedule = defs.get_schedule_def(name)
    with dg.build_schedule_context(scheduled_execution_time=when) as context:
        return list(schedule.evaluate_tick(context).run_requests or []), schedule.evaluate_tick(context).skip_message


def test_hk_schedule_runs_after_the_close_and_skips_lunar_new_year():
    requests, _ = evaluate("hk_after_close", datetime(2025, 1, 28, 16, 45, tzinfo=HONG_KONG))
    assert [r.run_key for r in requests] == ["hk_after_close:2025-01-28"]
    requests, skip = evaluate("hk_after_close", datetime(2025, 1, 29, 16, 45, tzinfo=HONG_KONG))
    assert requests == [] and skip == "XHKG has no session on 2025-01-29"


def test_us_schedule_skips_thanksgiving_and_runs_on_the_half_day():
    assert evaluate("us_after_close", datetime(2024, 11, 28, 16, 45, tzinfo=NEW_YORK))[1] == "XNYS has no session on 2024-11-28"
    requests, _ = evaluate("us_after_close", datetime(2024, 11, 29, 16, 45, tzinfo=NEW_YORK))
    assert [r.run_key for r in requests] == ["us_after_close:2024-11-29"]


def test_us_schedule_follows_new_york_across_the_daylight_saving_change():
    schedule = defs.get_schedule_def("us_after_close")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("45 16 * * 1-5", "America/New_York")
    start = datetime(2025, 3, 6, 0, 0, tzinfo=NEW_YORK).timestamp()  # DST starts Sunday 9 March 2025
    ticks = cron_string_iterator(start, schedule.cron_schedule, schedule.execution_timezone)
    utc = [next(ticks).astimezone(ZoneInfo("UTC")).strftime("%a %H:%M") for _ in range(4)]
    assert utc == ["Thu 21:45", "Fri 21:45", "Mon 20:45", "Tue 20:45"]  # 16:45 EST, then 16:45 EDT


def test_hk_schedule_is_in_hong_kong_time_without_daylight_saving():
    schedule = defs.get_schedule_def("hk_after_close")
    start = datetime(2025, 3, 6, 0, 0, tzinfo=HONG_KONG).timestamp()
    ticks = cron_string_iterator(start, schedule.cron_schedule, schedule.execution_timezone)
    assert [next(ticks).astimezone(ZoneInfo("UTC")).strftime("%a %H:%M") for _ in range(3)] == ["Thu 08:45", "Fri 08:45", "Mon 08:45"]


def test_the_hk_job_refreshes_only_hong_kong_series(tmp_path, monkeypatch):
    from orchestration.defs.resources import WarehouseResource

    from orchestration.defs.ingest import raw_prices, raw_universe
    from orchestration.defs.resources import MarketDataResource
    from orchestration.defs.schedules import MARKET_PRICE_CONFIGS, PRICES_OP
    from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, query

    monkeypatch.setenv("VALUATION_UNIVERSE", str(FIXTURE_UNIVERSE))
    warehouse = tmp_path / "w.duckdb"
    result = dg.materialize(
        [raw_universe, raw_prices],
        run_config={"ops": {PRICES_OP: {"config": MARKET_PRICE_CONFIGS["hk_close_prices"]}}},
        resources={"duckdb": WarehouseResource(database=str(warehouse)),
                   "market_data": MarketDataResource(source="sample", sample_dir=str(FIXTURE_SNAPSHOT))},
    )  # fmt: skip
    assert result.success
    assert query(warehouse, "select distinct symbol from raw.prices order by 1") == [("9999.HK",), ("^HSI",)]


def test_dbt_models_rebuild_by_declarative_automation():
    graph = defs.resolve_asset_graph()
    for key in graph.materializable_asset_keys:
        if key.path[0] in ("staging", "intermediate", "marts"):
            assert graph.get(key).automation_condition is not None, key
