"""A process asking through the machine's pace, for tests/sources/test_pace.py:

    python -m tests.sources.pace_worker PACE_FILE PER_HOUR REQUESTS OUT [--429-at N --pause S]

It prints "ready", reads the wall-clock moment to begin from stdin (the same for every worker), then
each of its REQUESTS waits on the shared pace and then writes the wall-clock moment it would have
sent (one line of OUT per request, "<moment> <name>"). With --429-at N its Nth request is answered
429 and the pause is S seconds (no Retry-After: the backoff's base).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from orchestration.sources.pace import Backoff, SharedPace


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pace_file")
    parser.add_argument("per_hour", type=float)
    parser.add_argument("requests", type=int)
    parser.add_argument("out")
    parser.add_argument("--429-at", dest="rate_limited_at", type=int, default=None)
    parser.add_argument("--pause", type=float, default=1.0)
    args = parser.parse_args()
    pace = SharedPace(args.pace_file, args.per_hour, Backoff(base_seconds=args.pause, max_seconds=args.pause * 8))
    name = f"pid{os.getpid()}"
    # every worker begins at the moment the test sends, once all of them have started
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    time.sleep(max(0.0, start_at - time.time()))
    with open(args.out, "a") as out:
        for number in range(1, args.requests + 1):
            pace.wait()
            out.write(f"{time.time():.6f} {name}\n")
            out.flush()
            pace.answered(429 if number == args.rate_limited_at else 200)


if __name__ == "__main__":
    main()
