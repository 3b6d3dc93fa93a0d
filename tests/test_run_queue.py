"""The run queue and the pools with the real daemon (`dagster dev`, tests/daemon_harness.py):
- the eight bucket runs of a backfill, launched together, ask Yahoo at one pace between them, measured
  at the Yahoo double, and every bucket lands;
- a load launched while the dbt build writes the warehouse waits in the queue (pool
  warehouse_writer, limit 1), then loads everything that had landed.
"""

from __future__ import annotations

import time

import pytest

from orchestration.defs.dbt import valuation_dbt_models
from orchestration.landing import bucket_keys, listing_bucket
from tests.daemon_api import IN_PROCESS, step
from tests.daemon_harness import PRICES_PARTITION_SET, RAW_KEYS, deployment
from tests.fakes.yahoo_server import most_in_any_window, requests_per_minute

PER_HOUR = 3_600  # the test's pace: one request a second, 60 a minute, from all runs together
PER_BUCKET = 3  # listings per bucket (24, and ^GSPC): a first fetch is one chart request each
DAYS = 10
POOL = "warehouse_writer"
BUILD_STEP = "valuation_dbt_models"
BUILD_KEYS = [["freshness", "data_freshness"], *(key.path for key in valuation_dbt_models.keys)]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    with deployment(tmp_path_factory.mktemp("run-queue"), PER_BUCKET, DAYS, PER_HOUR) as deployed:
        yield deployed


@pytest.fixture(scope="module")
def backfilled(deployed):
    """A backfill of the US job's eight buckets through GraphQL: the daemon submits one run per
    bucket, the queue launches them together; what the Yahoo double received meanwhile."""
    began = time.time()
    backfill = deployed.api.backfill(PRICES_PARTITION_SET, bucket_keys())
    deadline = time.monotonic() + 300
    while len(runs := deployed.api.runs({"dagster/backfill": backfill})) < 8:
        assert time.monotonic() < deadline, "the backfill did not submit its eight runs"
        time.sleep(2)
    runs = deployed.api.wait([run["runId"] for run in runs], timeout_seconds=300)
    return runs, deployed.double.data_hits(began)


def test_bucket_runs_launched_together_stay_within_one_pace_and_every_bucket_lands(deployed, backfilled):
    runs, hits = backfilled
    moments = [hit.at for hit in hits]
    per_minute = requests_per_minute(moments)
    in_a_minute, in_ten_seconds = most_in_any_window(moments, 60), most_in_any_window(moments, 10)
    # how many runs were fetching at the same moment: the most whose first and last request bracket it
    spans = {pid: (min(h.at for h in hits if h.pid == pid), max(h.at for h in hits if h.pid == pid)) for pid in {h.pid for h in hits}}
    together = max(sum(first <= at <= last for first, last in spans.values()) for at in moments)
    print(f"\n8 bucket runs at {PER_HOUR:,}/h ({PER_HOUR // 60}/min): {len(hits)} requests from {len(spans)} processes, "
          f"{per_minute:.1f}/min from first to last, at most {in_a_minute} in any minute and {in_ten_seconds} in any 10 s; "
          f"{together} runs asking at once")  # fmt: skip
    assert [run["status"] for run in runs] == ["SUCCESS"] * 8
    assert len(spans) == 8 and together >= 4, "the runs asked at the same time: the pace was shared, not taken in turns"
    # one request a second at most, from all of them together (one more where a window starts on one)
    assert in_ten_seconds <= 10 + 1 and in_a_minute <= 60 + 1
    assert per_minute <= 60 * 1.02
    # every bucket landed once, with each of its symbols' whole served history
    batches = deployed.landing.batches("prices")
    assert sorted(batch.manifest["bucket"] for batch in batches) == sorted(bucket_keys())
    for batch in batches:
        symbols = deployed.market.in_bucket(batch.manifest["bucket"])
        assert sorted(batch.manifest["asked"]) == sorted(symbols) and batch.manifest["rows"] == len(symbols) * DAYS
        assert not batch.manifest["failures"] and not batch.manifest["deferred"]
    # the double saw each symbol's chart asked once, by the run of its bucket
    charts = [hit for hit in hits if hit.endpoint == "chart"]
    assert sorted(hit.symbol for hit in charts) == sorted(deployed.market.symbols)
    bucket_of_run = {run["tags"]["dagster/partition"]: run for run in runs}
    assert len(bucket_of_run) == 8 and all(listing_bucket(hit.symbol) in bucket_of_run for hit in charts)


def test_a_load_launched_while_the_build_holds_the_warehouse_waits_queued_then_loads_everything(deployed, backfilled):
    api = deployed.api
    # the landed buckets loaded, so that there is a warehouse to build
    [first_load] = api.wait([api.launch(assets=RAW_KEYS, run_config=IN_PROCESS)], timeout_seconds=300)
    assert first_load["status"] == "SUCCESS"
    # one more session served and fetched for one bucket: a batch the build does not have
    bucket = bucket_keys()[0]
    deployed.market.serve(deployed.double.session, days=DAYS + 1)
    [fetch] = api.wait([api.launch("us_close_prices", tags={"dagster/partition": bucket})], timeout_seconds=300)
    assert fetch["status"] == "SUCCESS"

    build_id = api.launch(assets=BUILD_KEYS, run_config=IN_PROCESS)
    deadline = time.monotonic() + 300
    while {(s["runId"], s["stepKey"]) for s in api.pool(POOL)["claimedSlots"]} != {(build_id, BUILD_STEP)}:
        assert api.run(build_id)["status"] not in ("SUCCESS", "FAILURE", "CANCELED"), "the build ended before it was seen writing"
        assert time.monotonic() < deadline, "the build never took the warehouse_writer slot"
        time.sleep(0.5)
    load_id = api.launch(assets=RAW_KEYS, run_config=IN_PROCESS)
    seen: list[tuple[float, str, list]] = []  # (moment, the load's status, who held the slot)
    while (build := api.run(build_id))["status"] == "STARTED":
        held = [(s["runId"], s["stepKey"]) for s in api.pool(POOL)["claimedSlots"]]
        seen.append((time.time(), api.run(load_id)["status"], held))
        time.sleep(1)
    build, load = api.wait([build_id, load_id], timeout_seconds=300)

    queue_wait = load["startTime"] - load["creationTime"]
    load_steps = [s for s in load["stepStats"] if s["startTime"]]
    build_step = step(build, BUILD_STEP)
    print(f"\nload queued behind the build: {queue_wait:.1f} s in the queue "
          f"(the build's dbt step {build_step['endTime'] - build_step['startTime']:.1f} s), "
          f"observed {sum(status == 'QUEUED' for _, status, _ in seen)} times QUEUED while the build held the slot")  # fmt: skip
    assert build["status"] == "SUCCESS" and load["status"] == "SUCCESS"
    # while the build held the slot, the load was in the queue, every time it was looked at
    while_held = [status for _, status, held in seen if held == [(build_id, BUILD_STEP)]]
    assert while_held and set(while_held) == {"QUEUED"}
    # and none of its steps began before the build's dbt step had ended
    assert min(s["startTime"] for s in load_steps) >= build_step["endTime"]
    assert load["startTime"] >= build_step["endTime"] - 1  # launched when the slot came back (the queue looks every 5 s)
    # nothing lost: every landed batch is loaded, once, and every bar served is in raw.prices
    landed = {batch.batch_id for batch in deployed.landing.batches("prices")}
    loaded = [b for (b,) in deployed.query("select batch_id from raw.landed_batches where dataset = 'prices'")]
    assert sorted(loaded) == sorted(landed) and len(landed) == 8 + 1
    extra = set(deployed.market.in_bucket(bucket))
    expected = {symbol: DAYS + (symbol in extra) for symbol in deployed.market.symbols}
    assert dict(deployed.query("select symbol, count(*) from raw.prices group by symbol")) == expected
