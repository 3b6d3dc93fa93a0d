"""The machine's Yahoo pace (orchestration/sources/pace.py): the algorithm on a clock the test
drives, then real processes sharing one SQLite file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from orchestration.sources.pace import MAX_AHEAD_SECONDS, Backoff, PaceState, RateLimiter, SharedPace
from tests.conftest import REPO_ROOT


class FakeTime:
    def __init__(self, now: float = 1_000.0):
        self.now = now
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_reservations_are_one_interval_apart_whoever_asks():
    state = PaceState()
    interval = 3600 / 1_800  # 1,800 an hour: one every 2 s
    # three requests at the same moment (three processes): 0, 2 and 4 s from now
    assert [state.reserve(100.0, interval) for _ in range(3)] == [100.0, 102.0, 104.0]
    # one that comes after the queue has drained leaves at once
    assert state.reserve(200.0, interval) == 200.0 and state.next_at == 202.0


def test_a_429_pauses_every_later_reservation_and_doubles_while_they_continue():
    state, backoff = PaceState(), Backoff(base_seconds=60, max_seconds=900)
    state.answered(10.0, 429, None, backoff)
    assert state.reserve(10.0, 1.0) == 10.0 + 60  # base x 2^0
    state.answered(70.0, 429, None, backoff)
    assert state.paused_until == 70.0 + 120  # the second in a row: base x 2^1
    for _ in range(6):
        state.answered(70.0, 429, None, backoff)
    assert state.paused_until == 70.0 + 900  # at most max
    assert state.answered(80.0, 200, None, backoff) and state.consecutive_429 == 0
    assert not state.answered(81.0, 200, None, backoff), "a usual answer changes nothing"


def test_retry_after_sets_the_pause():
    state = PaceState()
    state.answered(10.0, 429, 120.0, Backoff(base_seconds=1))
    assert state.paused_until == 130.0


def test_a_moment_far_ahead_is_forgotten_not_waited_for():
    # a clock set back by a day: the stored next moment is a day ahead
    state = PaceState(next_at=1_000.0 + 86_400, paused_until=1_000.0 + 86_400)
    assert state.reserve(1_000.0, 2.0) == 1_000.0
    assert MAX_AHEAD_SECONDS < 86_400


def test_a_request_already_waiting_is_held_by_a_429_that_arrives_meanwhile():
    fake = FakeTime()
    limiter = RateLimiter(per_hour=3_600, backoff=Backoff(base_seconds=30), clock=fake.clock, sleep=fake.sleep)
    limiter.wait()  # leaves at once; the next moment is 1 s ahead

    def sleep_while_another_gets_a_429(seconds):
        fake.sleep(seconds)
        if len(fake.waits) == 1:
            limiter.answered(429)  # the first request's answer, while the second one sleeps

    limiter.sleep = sleep_while_another_gets_a_429
    limiter.wait()
    # 1 s for its reserved moment, then reserved again after the pause: 30 s after the 429
    assert fake.waits == [1.0, 30.0] and fake.now == 1_000.0 + 31.0


def test_the_shared_pace_is_opened_on_the_first_request_only(tmp_path):
    pace = SharedPace(tmp_path / "sub" / "pace.sqlite", per_hour=1_000)
    assert not (tmp_path / "sub").exists()
    pace.wait()
    assert (tmp_path / "sub" / "pace.sqlite").exists()


def _workers(tmp_path: Path, count: int, per_hour: float, requests: int, **options) -> list[tuple[float, str]]:
    """`count` processes asking at the same moment through one pace file (the first with `options`);
    every request's moment and process, in order."""
    out = tmp_path / "moments.txt"
    extra = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    processes = [
        subprocess.Popen([sys.executable, "-m", "tests.sources.pace_worker", str(tmp_path / "pace.sqlite"), str(per_hour),
                          str(requests), str(out), *(extra if n == 0 else [])],
                         cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for n in range(count)
    ]  # fmt: skip
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        start_at = time.time() + 0.2
        for process in processes:
            process.stdin.write(f"{start_at}\n")
            process.stdin.close()
        for process in processes:
            assert process.wait(timeout=120) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    moments = sorted((float(t), name) for t, name in (line.split() for line in out.read_text().splitlines()))
    assert len(moments) == count * requests
    return moments


def test_processes_sharing_the_pace_file_ask_one_interval_apart_together(tmp_path):
    per_hour = 36_000  # one every 0.1 s
    moments = _workers(tmp_path, count=4, per_hour=per_hour, requests=10)
    gaps = [b - a for (a, _), (b, _) in zip(moments, moments[1:])]
    span = moments[-1][0] - moments[0][0]
    rate_per_hour = (len(moments) - 1) / span * 3600
    print(f"\n4 processes x 10 requests at {per_hour:,}/h: {rate_per_hour:,.0f}/h together, smallest gap {min(gaps):.3f} s")
    # 40 requests one interval apart take 39 intervals: 3.9 s; four processes each paced alone would take 0.9 s
    assert span >= 39 * 0.1 - 0.05
    assert rate_per_hour <= per_hour * 1.01
    # moments are taken after a wait returns, so a late process makes one gap short and the next long,
    # never two short in a row: any two gaps in a row last at least an interval
    assert min(a + b for a, b in zip(gaps, gaps[1:])) >= 0.1
    assert len({name for _, name in moments}) == 4


def test_a_429_in_one_process_pauses_the_others(tmp_path):
    # process 0's third request is answered 429: every process waits the 1.5 s pause
    moments = _workers(tmp_path, count=3, per_hour=36_000, requests=6, **{"429_at": 3, "pause": 1.5})
    gaps = [b - a for (a, _), (b, _) in zip(moments, moments[1:])]
    longest = max(gaps)
    pause_index = gaps.index(longest)
    print(f"\na 429 in one of 3 processes: the longest gap between any two requests {longest:.2f} s")
    assert longest >= 1.5 - 0.05
    # the requests after the pause come from every process, not only the one that got the 429
    after = {name for _, name in moments[pause_index + 1 :]}
    assert len(after) == 3
    # and no other gap is anywhere near as long: the pause was one, shared
    assert sorted(gaps)[-2] < 1.0
