"""One Yahoo pace for every process of the machine: each request reserves the next free moment.

Yahoo limits a client address, not a process, so the requests of every run that asks it from this
machine share one pace. Dagster's concurrency pools cannot give that: a pool bounds how many steps
run at once, not how often they ask (eight bucket runs each paced at 1,500/h on their own ask
12,000/h together, and one run in a pool of one still asks as fast as it likes). So the pace is a
limiter every process shares, and so is the backoff: a 429 seen by one run pauses them all, since
the others ask from the same address and would be refused too.

The algorithm, whoever keeps the state:
- a request reserves the moment `start = max(now, next_at, paused_until)` and moves `next_at` one
  interval (3,600 / requests an hour) past it; it sleeps until `start` outside any lock, so the
  reservations of all processes are spaced evenly, first come first served, and no two requests
  ever leave less than one interval apart (up to the time a process takes to send);
- after its sleep a request looks at the pause again: a 429 that arrived meanwhile (set by any
  process) sends it back to reserve a moment after the pause, so a pause stops every request that
  had not left yet, not only later ones;
- a 429 pauses everyone for `Retry-After`, or else for `base x 2^(n-1)` seconds (n the 429s in a
  row, whoever got them; at most `max`); any other answer ends the run of 429s.
Each process spaces the next reservation by its own `requests_per_hour`: give every run of the
machine the same one (the resource's default), or the pace is a mix of theirs.

`RateLimiter` keeps that state in memory (one process; the tests' unpaced sessions); `SharedPace`
keeps it in a small SQLite file that every process of the machine opens (WAL mode, one short
`BEGIN IMMEDIATE` transaction per request). SQLite's locks need a local file system: processes on
other machines need a shared store instead (README, "Running on a schedule").

No Dagster imports here.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

# A moment further ahead than this is not a reservation but a clock set back or a damaged file:
# waiting for it could stop every fetch for hours, so it is forgotten instead.
MAX_AHEAD_SECONDS = 3_600.0


@dataclass(frozen=True)
class Backoff:
    """How long a 429 pauses every process: Retry-After when Yahoo sends one, else doubling per 429
    in a row; at most `max_seconds` either way."""

    base_seconds: float = 60.0
    max_seconds: float = 900.0

    def pause_seconds(self, consecutive_429: int, retry_after: float | None) -> float:
        if retry_after is not None and retry_after > 0:
            return min(float(retry_after), self.max_seconds)
        return min(self.max_seconds, self.base_seconds * 2 ** max(0, consecutive_429 - 1))


@dataclass
class PaceState:
    next_at: float = 0.0  # the earliest moment the next reservation may take (Unix seconds)
    paused_until: float = 0.0  # no request leaves before this (a 429's pause)
    consecutive_429: int = 0  # rate-limited answers in a row, from any process

    def reserve(self, now: float, interval: float) -> float:
        """The moment this request may leave; the next one's moves one interval past it."""
        if self.next_at > now + MAX_AHEAD_SECONDS:
            self.next_at = now
        if self.paused_until > now + MAX_AHEAD_SECONDS:
            self.paused_until = now
        start = max(now, self.next_at, self.paused_until)
        self.next_at = start + interval
        return start

    def answered(self, now: float, status: int, retry_after: float | None, backoff: Backoff) -> bool:
        """Take in an answer's status; True when the state changed (and must be written)."""
        if status == 429:
            self.consecutive_429 += 1
            self.paused_until = max(self.paused_until, now + backoff.pause_seconds(self.consecutive_429, retry_after))
            return True
        if self.consecutive_429:
            self.consecutive_429 = 0
            return True
        return False


def interval_seconds(per_hour: float) -> float:
    return 3600.0 / per_hour if per_hour > 0 else 0.0


@dataclass
class RateLimiter:
    """The pace kept in this process's memory: every session of the process shares it. Unpaced
    when `per_hour` is 0 (a 429 still pauses)."""

    per_hour: float
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    waited_seconds: float = 0.0
    _state: PaceState = field(default_factory=PaceState)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self) -> None:
        while True:
            with self._lock:
                now = self.clock()
                start = self._state.reserve(now, interval_seconds(self.per_hour))
            if start > now:
                self.waited_seconds += start - now
                self.sleep(start - now)
            with self._lock:
                if self._state.paused_until <= self.clock():
                    return

    def answered(self, status: int, retry_after: float | None = None) -> None:
        with self._lock:
            self._state.answered(self.clock(), status, retry_after, self.backoff)


_SCHEMA = """
create table if not exists pace (
    id integer primary key check (id = 1),
    next_at real not null,
    paused_until real not null,
    consecutive_429 integer not null
);
insert or ignore into pace values (1, 0, 0, 0);
"""


@dataclass
class SharedPace:
    """The pace kept in a SQLite file (`path`) that every process of the machine opens.

    The file is opened on the first request, not before (a source that never asks creates nothing),
    and for each request anew: a process that forks or runs threads needs no care. The clock is
    wall time, the one every process reads alike. Unpaced when `per_hour` is 0 (a 429 still pauses).
    """

    path: str | Path
    per_hour: float
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    busy_timeout_seconds: float = 60.0
    waited_seconds: float = 0.0
    _created: bool = False

    def _connect(self) -> sqlite3.Connection:
        path = Path(self.path)
        if not self._created:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=self.busy_timeout_seconds, isolation_level=None)
        if not self._created:
            self._create(conn)
        conn.execute("pragma synchronous = normal")  # a pace lost in a power cut costs one interval
        return conn

    def _create(self, conn: sqlite3.Connection) -> None:
        """WAL mode and the table, once per process. Switching the journal mode needs the file to
        itself and SQLite answers "locked" at once, without its busy timeout, while another process
        holds it: so it is tried again until the timeout."""
        deadline = time.monotonic() + self.busy_timeout_seconds
        while True:
            try:
                conn.execute("pragma journal_mode = wal")  # kept by the file: readers never wait for a writer
                conn.executescript(_SCHEMA)
                self._created = True
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _update(self, change: Callable[[PaceState, float], object]) -> object:
        """Apply `change(state, now)` in one write transaction; return what it returned."""
        with closing(self._connect()) as conn:
            conn.execute("begin immediate")
            try:
                row = conn.execute("select next_at, paused_until, consecutive_429 from pace where id = 1").fetchone()
                state = PaceState(*row)
                before = (state.next_at, state.paused_until, state.consecutive_429)
                result = change(state, self.clock())
                if (state.next_at, state.paused_until, state.consecutive_429) != before:
                    conn.execute(
                        "update pace set next_at = ?, paused_until = ?, consecutive_429 = ? where id = 1",
                        [state.next_at, state.paused_until, state.consecutive_429],
                    )
                conn.execute("commit")
            except BaseException:
                conn.execute("rollback")
                raise
        return result

    def state(self) -> PaceState:
        with closing(self._connect()) as conn:
            return PaceState(*conn.execute("select next_at, paused_until, consecutive_429 from pace where id = 1").fetchone())

    def wait(self) -> None:
        interval = interval_seconds(self.per_hour)
        while True:
            now, start = self._update(lambda state, now: (now, state.reserve(now, interval)))  # type: ignore[misc]
            if start > now:
                self.waited_seconds += start - now
                self.sleep(start - now)
            # a 429 that arrived while this request slept (any process's) sends it back to the queue
            if self.state().paused_until <= self.clock():
                return

    def answered(self, status: int, retry_after: float | None = None) -> None:
        if status != 429 and not self.state().consecutive_429:
            return  # the usual answer changes nothing: a read, no write lock
        self._update(lambda state, now: state.answered(now, status, retry_after, self.backoff))
