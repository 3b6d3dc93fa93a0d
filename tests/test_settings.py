"""Environment variables are checked when a run starts; a bad value names its variable."""

import dagster as dg
import pandas as pd
import pytest
from exchange_calendars import exchange_calendar

from orchestration import settings
from orchestration.freshness import Clock, latest_closed_session
from orchestration.settings import SettingsError, validate_environment

FIXED_BOUNDS = {"GLOBAL_DEFAULT_START": pd.Timestamp("2006-11-25"), "GLOBAL_DEFAULT_END": pd.Timestamp("2027-11-25")}
RANGE = "2006-12-26 to 2027-11-11 (about 20 years back to one year ahead of today)"  # 31 days in, 14 days in


@pytest.fixture
def env(monkeypatch):
    for name, value in FIXED_BOUNDS.items():
        monkeypatch.setattr(exchange_calendar, name, value)
    monkeypatch.delenv("VALUATION_AS_OF", raising=False)
    monkeypatch.delenv("VALUATION_SOURCE", raising=False)
    monkeypatch.delenv("VALUATION_FUNDAMENTALS_SOURCE", raising=False)
    monkeypatch.delenv("VALUATION_SEC_USER_AGENT", raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("VALUATION_AS_OF", "yesterday",
         "VALUATION_AS_OF=yesterday: not a date (YYYY-MM-DD) or moment (2025-11-29T10:00-05:00): "
         "Invalid isoformat string: 'yesterday'"),
        ("VALUATION_AS_OF", "2025-02-30",
         "VALUATION_AS_OF=2025-02-30: not a date (YYYY-MM-DD) or moment (2025-11-29T10:00-05:00): "
         "day is out of range for month"),
        ("VALUATION_AS_OF", "2025-01-31\n",
         "VALUATION_AS_OF=2025-01-31\\n: not a date (YYYY-MM-DD) or moment (2025-11-29T10:00-05:00): "
         "Invalid isoformat string: '2025-01-31\\n'"),
        ("VALUATION_AS_OF", "2006-12-25", f"VALUATION_AS_OF=2006-12-25: outside the dates the exchange calendars support, {RANGE}"),
        ("VALUATION_AS_OF", "2027-11-12", f"VALUATION_AS_OF=2027-11-12: outside the dates the exchange calendars support, {RANGE}"),
        ("VALUATION_AS_OF", "2027-11-12T02:00+08:00",  # 2027-11-11 18:00 UTC: inside
         None),
        ("VALUATION_AS_OF", "2027-11-11T20:00-05:00",  # 2027-11-12 01:00 UTC: outside
         f"VALUATION_AS_OF=2027-11-11T20:00-05:00: outside the dates the exchange calendars support, {RANGE}"),
        ("VALUATION_AS_OF", "9999-12-31", f"VALUATION_AS_OF=9999-12-31: outside the dates the exchange calendars support, {RANGE}"),
        ("VALUATION_AS_OF", "2006-12-26", None),
        ("VALUATION_AS_OF", "2027-11-11", None),
        ("VALUATION_SOURCE", "yhaoo", "VALUATION_SOURCE=yhaoo: not a market data source; use one of sample, yahoo"),
        ("VALUATION_SOURCE", "Sample", "VALUATION_SOURCE=Sample: not a market data source; use one of sample, yahoo"),
        ("VALUATION_SOURCE", "yahoo", None),
        ("VALUATION_FUNDAMENTALS_SOURCE", "sec",
         "VALUATION_FUNDAMENTALS_SOURCE=sec: not a fundamentals source; use one of edgar, sample, yahoo "
         "(unset: the same as VALUATION_SOURCE)"),
        ("VALUATION_FUNDAMENTALS_SOURCE", "yahoo", None),
        ("VALUATION_FUNDAMENTALS_SOURCE", "edgar",
         "VALUATION_SEC_USER_AGENT is not set: the edgar fundamentals source must send the SEC a User-Agent "
         "naming you and a contact address (e.g. 'Jane Doe jane@example.com')"),
        ("VALUATION_SERVING_SPARE", "no", "VALUATION_SERVING_SPARE=no: use on or off"),
        ("VALUATION_SERVING_SPARE", "off", None),
    ],
)  # fmt: skip
def test_each_variable_is_checked_and_named(env, name, value, expected):
    env.setenv(name, value)
    if expected is None:
        validate_environment()
        return
    with pytest.raises(SettingsError) as error:
        validate_environment()
    assert str(error.value) == expected
    assert error.value.__cause__ is None and error.value.__suppress_context__ | (error.value.__context__ is None)


def test_the_assets_clock_raises_the_same_named_error(env):
    from orchestration.defs.resources import RunSettings

    clock = RunSettings(universe_file="universe.yml", as_of="31/01/2025", serving_path="serving.duckdb")
    with pytest.raises(SettingsError, match=r"^VALUATION_AS_OF=31/01/2025: not a date"):
        clock.as_of_date()


def _settings_seen_by_a_run(run_config: dict | None = None) -> dict:
    from orchestration.defs.resources import RunSettings, run_settings

    @dg.asset
    def seen(run_settings: RunSettings) -> dict:
        return {"as_of": run_settings.as_of_date().isoformat(), "universe": run_settings.universe_file,
                "serving": run_settings.serving_path, "injected": run_settings.clock_is_injected}  # fmt: skip

    result = dg.materialize([seen], resources={"run_settings": run_settings()}, run_config=run_config)
    return result.output_for_node("seen")


def test_a_run_reads_the_variables_when_it_starts_and_its_config_overrides_them(env, tmp_path):
    env.setenv("VALUATION_AS_OF", "2025-01-31")
    env.setenv("VALUATION_UNIVERSE", str(tmp_path / "universe.yml"))
    env.delenv("VALUATION_SERVING", raising=False)
    env.setenv("VALUATION_WAREHOUSE", str(tmp_path / "w" / "valuation.duckdb"))
    assert _settings_seen_by_a_run() == {
        "as_of": "2025-01-31", "universe": str(tmp_path / "universe.yml"),
        "serving": str(tmp_path / "w" / "serving.duckdb"), "injected": True,
    }  # fmt: skip
    # A run's config (the Launchpad's resources.run_settings.config) wins over the environment.
    override = {"as_of": "2024-06-03", "universe_file": "other.yml", "serving_path": "/srv/serving.duckdb"}
    assert _settings_seen_by_a_run({"resources": {"run_settings": {"config": override}}}) == {
        "as_of": "2024-06-03", "universe": "other.yml", "serving": "/srv/serving.duckdb", "injected": True,
    }  # fmt: skip
    env.delenv("VALUATION_AS_OF")
    assert _settings_seen_by_a_run()["injected"] is False  # now: no clock set


def test_the_definitions_name_each_variable_the_ui_shows(env):
    # Set variables reach the resources as EnvVar (Dagster reads them when a run starts and the UI
    # shows the variable's name), unset ones as their defaults.
    import importlib

    import orchestration.definitions as definitions

    env.setenv("VALUATION_AS_OF", "2025-01-31")
    env.setenv("VALUATION_SOURCE", "sample")
    env.delenv("VALUATION_UNIVERSE", raising=False)
    resources = importlib.reload(definitions).defs.resources
    assert resources["run_settings"].as_of == dg.EnvVar("VALUATION_AS_OF")
    assert resources["market_data"].source == dg.EnvVar("VALUATION_SOURCE")
    assert resources["run_settings"].universe_file == str(settings.REPO_ROOT / "universe.yml")


def test_every_date_of_the_supported_range_is_one_freshness_can_evaluate():
    # with the real bounds of this process: both ends work on each calendar the universe uses
    first, last = settings.supported_as_of_range()
    for code in ["XNYS", "XHKG", "24/5"]:
        assert latest_closed_session(code, Clock(first)) <= first
        assert latest_closed_session(code, Clock(last)) <= last


@pytest.mark.parametrize(
    "name, value",
    [("VALUATION_AS_OF", "yesterday"), ("VALUATION_SOURCE", "yhaoo")],
)
def test_a_bad_variable_fails_the_run_before_any_step_runs(env, tmp_path, name, value):
    from orchestration.defs.dbt import dbt_resource
    from orchestration.defs.resources import MarketDataResource, WarehouseResource, run_settings
    from orchestration.definitions import pipeline_assets
    from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE

    warehouse = tmp_path / "valuation.duckdb"
    env.setenv("VALUATION_WAREHOUSE", str(warehouse))
    env.setenv("VALUATION_UNIVERSE", str(FIXTURE_UNIVERSE))
    env.setenv("VALUATION_AS_OF", "2025-01-31")
    env.setenv(name, value)
    result = dg.materialize(
        pipeline_assets,
        resources={
            "duckdb": WarehouseResource(database=str(warehouse)),
            "market_data": MarketDataResource(source="sample", sample_dir=str(FIXTURE_SNAPSHOT)),
            "dbt": dbt_resource(),
            "run_settings": run_settings(),
        },
        raise_on_error=False,
    )
    assert not result.success
    assert [event for event in result.all_events if event.event_type_value == "STEP_START"] == []
    failures = [event for event in result.all_events if event.is_failure]
    causes = []
    for event in failures:
        error = event.event_specific_data.error
        while error is not None:
            causes.append(error.message)
            error = error.cause
    assert any(message.startswith(f"orchestration.settings.SettingsError: {name}={value}: ") for message in causes), causes
    assert not warehouse.exists(), "nothing was written"


@pytest.mark.parametrize("variable, expected", [(None, "2.3 GiB"), ("1GB", "953.6 MiB")])
def test_the_pipelines_connections_and_dbt_share_one_memory_budget(monkeypatch, tmp_path, variable, expected):
    """DuckDB's default budget is 80% of RAM: a publish at 10,000 listings took it all. The
    warehouse resource's connections take VALUATION_DUCKDB_MEMORY_LIMIT, as dbt's profile does,
    with the same default."""
    from orchestration.defs.resources import WarehouseResource

    if variable is None:
        monkeypatch.delenv("VALUATION_DUCKDB_MEMORY_LIMIT", raising=False)
    else:
        monkeypatch.setenv("VALUATION_DUCKDB_MEMORY_LIMIT", variable)
    with WarehouseResource(database=str(tmp_path / "w.duckdb")).get_connection() as conn:
        assert conn.execute("select current_setting('memory_limit')").fetchone()[0] == expected  # 2.5e9 B = 2.33 GiB
    profile = (settings.DBT_PROJECT_DIR / "profiles.yml").read_text()
    assert f"env_var('VALUATION_DUCKDB_MEMORY_LIMIT', '{settings.DEFAULT_DUCKDB_MEMORY_LIMIT}')" in profile


def test_edgar_with_a_user_agent_passes(env):
    env.setenv("VALUATION_FUNDAMENTALS_SOURCE", "edgar")
    env.setenv("VALUATION_SEC_USER_AGENT", "Jane Doe jane@example.com")
    validate_environment()
    env.setenv("VALUATION_SEC_USER_AGENT", "   ")  # blank is unset
    with pytest.raises(SettingsError, match="VALUATION_SEC_USER_AGENT is not set"):
        validate_environment()
