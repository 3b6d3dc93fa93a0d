"""Fault scenarios of the schedules, the run queue and the pools, with the real daemon (`dagster dev`,
tests/daemon_harness.py; Yahoo a double over local HTTP), one deployment for all of them, in order:
- two schedule ticks overlapping: two schedules over the US job tick in the same minute, sixteen
  bucket runs for eight buckets; at most eight fetch runs at once (the queue's tag limit), one pace
  between all of them, every run lands, and a load takes in every batch once;
- a 429 storm seen by one bucket run: two 429s in a row on one symbol of one bucket, during those
  ticks: every other run waits out the pause too (none of them asks meanwhile), and nothing fails;
- a run killed while holding a pool slot: the dbt build's run worker and its dbt process are
  killed (SIGKILL) while it holds warehouse_writer; the run is marked failed, run monitoring gives
  the slot back, and a load queued behind it then runs; the raw tables are as before.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from orchestration.defs.dbt import valuation_dbt_models
from orchestration.landing import bucket_keys
from tests.daemon_api import IN_PROCESS
from tests.daemon_harness import RAW_KEYS, deployment
from tests.fakes.dagster_location import EVERY_MINUTE
from tests.fakes.yahoo_server import most_in_any_window
from tests.faults.conftest import record

pytestmark = pytest.mark.faults
PER_HOUR = 7_200  # two requests a second from all runs together
PER_BUCKET = 3
DAYS = 10
PAUSE_SECONDS = 5.0  # what a 429 pauses every process for (the backoff's base)
POOL = "warehouse_writer"
STORM_BUCKET = bucket_keys()[2]
BUILD_KEYS = [["freshness", "data_freshness"], *(key.path for key in valuation_dbt_models.keys)]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    with deployment(tmp_path_factory.mktemp("schedule-faults"), PER_BUCKET, DAYS, PER_HOUR, PAUSE_SECONDS) as deployed:
        yield deployed


@pytest.fixture(scope="module")
def ticks(deployed):
    """Both every-minute schedules started together: their next ticks fall in the same minute. One
    symbol of one bucket is answered 429 twice first. The runs of one tick each, and what Yahoo saw."""
    api, double = deployed.api, deployed.double
    stormed = deployed.market.in_bucket(STORM_BUCKET)[0]
    double.session.fail("chart", stormed, "429", "429")
    began = time.time()
    for name in EVERY_MINUTE:
        api.start_schedule(name)
    try:
        deadline = time.monotonic() + 180
        while True:
            by_schedule = {name: api.runs({"dagster/schedule_name": name}) for name in EVERY_MINUTE}
            if all(len(runs) >= 8 for runs in by_schedule.values()):
                break
            assert time.monotonic() < deadline, {name: len(runs) for name, runs in by_schedule.items()}
            time.sleep(2)
    finally:
        for name in EVERY_MINUTE:
            api.stop_schedule(name)
    # one tick of each (a later minute's tick of the same session asks nothing new: the same run keys)
    first_tick = {name: sorted(runs, key=lambda r: r["creationTime"])[:8] for name, runs in by_schedule.items()}
    ids = [run["runId"] for runs in first_tick.values() for run in runs]
    runs = api.wait(ids, timeout_seconds=400)
    return runs, double.data_hits(began), stormed


def test_two_schedule_ticks_overlapping_queue_fetch_runs_share_the_pace_and_load_every_batch_once(deployed, ticks):
    runs, hits, _ = ticks
    moments = [hit.at for hit in hits]
    # fetch runs in progress at each run's start (a run is in progress from its start to its end)
    in_progress = max(sum(r["startTime"] <= run["startTime"] < r["endTime"] for r in runs) for run in runs)
    queued_longest = max(run["startTime"] - run["creationTime"] for run in runs)
    in_ten_seconds = most_in_any_window(moments, 10)
    load = deployed.api.wait([deployed.api.launch(assets=RAW_KEYS, run_config=IN_PROCESS)], timeout_seconds=300)[0]
    landed = {batch.batch_id for batch in deployed.landing.batches("prices")}
    loaded = [b for (b,) in deployed.query("select batch_id from raw.landed_batches where dataset = 'prices'")]
    rows = dict(deployed.query("select symbol, count(*) from raw.prices group by symbol"))
    expected = {symbol: DAYS for symbol in deployed.market.symbols}
    lost = sum(max(0, n - rows.get(symbol, 0)) for symbol, n in expected.items())
    record("two schedule ticks overlapping (16 bucket runs, 8 buckets)", len(runs), sum(expected.values()), lost,
           sum(rows.values()) - sum(expected.values()))  # fmt: skip
    print(f"\n16 bucket runs of two overlapping ticks: at most {in_progress} fetch runs at once, the longest "
          f"{queued_longest:.0f} s queued; {len(hits)} requests, at most {in_ten_seconds} in any 10 s at {PER_HOUR:,}/h")  # fmt: skip
    assert [run["status"] for run in runs] == ["SUCCESS"] * 16
    assert in_progress <= 8, "the queue's tag limit: one tick's buckets at a time"
    assert in_ten_seconds <= 20 + 1
    assert sorted(run["tags"]["dagster/partition"] for run in runs) == sorted(bucket_keys() * 2)
    assert load["status"] == "SUCCESS"
    assert len(landed) == 16 and sorted(loaded) == sorted(landed), "every batch of both ticks loaded, once"
    assert rows == expected, "every bar once: the second tick's batches restate the same rows"


def test_a_429_storm_seen_by_one_bucket_run_pauses_every_run(deployed, ticks):
    _, hits, stormed = ticks
    storm = [hit for hit in hits if hit.status == 429]
    stormed_runs = {hit.pid for hit in storm}  # the bucket's run that got the 429s (or both ticks' runs of it)
    others = [hit for hit in hits if hit.pid not in stormed_runs]
    # what the other runs asked between a 429 and the end of the pause it set (the first second
    # allowed for a request already on the wire)
    during = [h for hit in storm for h in others if hit.at + 1.0 <= h.at < hit.at + PAUSE_SECONDS - 0.2]
    after = [h for hit in storm for h in others if hit.at + PAUSE_SECONDS - 0.2 <= h.at < hit.at + PAUSE_SECONDS + 3]
    silences = sorted((b.at - a.at for a, b in zip(hits, hits[1:])), reverse=True)
    record("a 429 storm seen by one bucket run (2 x 429 among 16 runs)", 16, len(others), len(during))
    print(f"\n429 storm on {stormed}: {len(storm)} answers 429 to {len(stormed_runs)} run(s); {len(during)} requests of the "
          f"{len({h.pid for h in others})} other runs inside the pauses, {len(after)} in the 3 s after; the longest "
          f"silences {', '.join(f'{g:.1f}' for g in silences[:3])} s (a pause is {PAUSE_SECONDS:g} s, the pace 0.5 s)")  # fmt: skip
    assert len(storm) == 2 and {hit.symbol for hit in storm} == {stormed}
    assert during == [], "the other runs did not ask while a pause was on"
    assert after, "and went on asking once it was over"
    assert silences[0] >= PAUSE_SECONDS - 1.2
    # the stormed symbol was asked again after its pauses and landed: nothing failed, nothing deferred
    assert [h.status for h in hits if h.endpoint == "chart" and h.symbol == stormed][-1] == 200
    assert all(not batch.manifest["failures"] and not batch.manifest["deferred"] for batch in deployed.landing.batches("prices"))


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, frontier = [], [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            found.append(child)
            frontier.append(child)
    return found


def test_a_run_killed_while_holding_the_writer_slot_gives_it_back_and_the_next_writer_runs(deployed, ticks):
    api = deployed.api
    before = deployed.query("select symbol, date, close, adj_close from raw.prices order by all")
    build_id = api.launch(assets=BUILD_KEYS, run_config=IN_PROCESS)
    deadline = time.monotonic() + 300
    while [(s["runId"], s["stepKey"]) for s in api.pool(POOL)["claimedSlots"]] != [(build_id, "valuation_dbt_models")]:
        assert time.monotonic() < deadline and api.run(build_id)["status"] not in ("SUCCESS", "FAILURE")
        time.sleep(0.5)
    time.sleep(2)  # dbt is building
    [worker] = api.worker_pids(build_id)
    victims = [worker, *_descendants(worker)]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    load_id = api.launch(assets=RAW_KEYS, run_config=IN_PROCESS)
    freed_at = None
    while freed_at is None:
        if not api.pool(POOL)["claimedSlots"] or api.pool(POOL)["claimedSlots"][0]["runId"] != build_id:
            freed_at = time.time()
        assert time.time() - killed_at < 120, "the killed run's slot was not given back"
        time.sleep(0.5)
    build, load = api.wait([build_id, load_id], timeout_seconds=300)
    after = deployed.query("select symbol, date, close, adj_close from raw.prices order by all")
    lost = len(set(before) - set(after))
    record("a run killed holding the warehouse_writer slot", 2, len(before), lost, len(set(after) ^ set(before)) - lost)
    print(f"\nbuild killed ({len(victims)} processes) while holding {POOL}: its slot back after {freed_at - killed_at:.1f} s, "
          f"the load queued behind it started {load['startTime'] - killed_at:.1f} s after the kill")  # fmt: skip
    assert build["status"] == "FAILURE"
    assert load["status"] == "SUCCESS"
    assert load["startTime"] >= freed_at - 1, "the load waited for the slot"
    assert after == before
