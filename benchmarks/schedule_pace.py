"""Requests a minute Yahoo receives from 1, 4 and 8 bucket runs at once, under the real daemon.

`dagster dev` on 127.0.0.1 with a temporary DAGSTER_HOME and the committed orchestration/dagster.yaml
serves the project's definitions over a Yahoo double on local HTTP (tests/daemon_harness.py: the
same deployment as tests/test_run_queue.py). For each count, that many bucket runs of the US job are
submitted together through GraphQL; the double records every request it answers (cookie and crumb
included), and after `--minutes` of requests the runs are stopped. Per count: the rate from the
first request to the last, the most in any 60 s window, and the processes that asked. The market is
synthetic (made-up symbols, one chart request each), big enough that no run finishes in the window.

    python -m benchmarks.schedule_pace [--per-hour 1500] [--minutes 2] [--counts 1,4,8] [--per-process-too]

`--per-process-too` measures the same counts again with each process paced alone (the limiter
before the shared one), for comparison. Writes benchmarks/results/schedule_pace.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

from orchestration.landing import bucket_keys
from tests.daemon_harness import deployment
from tests.fakes.yahoo_server import most_in_any_window, requests_per_minute

RESULTS = Path(__file__).resolve().parent / "results" / "schedule_pace.json"


def measure(deployed, count: int, minutes: float) -> dict:
    api, double = deployed.api, deployed.double
    began = time.time()
    ids = [api.launch("us_close_prices", tags={"dagster/partition": bucket}) for bucket in bucket_keys()[:count]]
    deadline = time.time() + 600
    while not (hits := double.data_hits(began)) or hits[-1].at - hits[0].at < minutes * 60:
        assert time.time() < deadline, f"{count} runs: no {minutes} min of requests within 10 min"
        time.sleep(2)
    for run_id in ids:
        api.terminate(run_id)
    api.wait(ids, timeout_seconds=300)
    first = hits[0].at
    window = [hit for hit in hits if hit.at <= first + minutes * 60]
    moments = [hit.at for hit in window]
    return {
        "bucket_runs": count,
        "requests": len(window),
        "processes": len({hit.pid for hit in window}),
        "seconds_to_first_request": round(first - began, 1),
        "per_minute": round(requests_per_minute(moments), 1),
        "most_in_any_minute": most_in_any_window(moments, 60),
    }


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-hour", type=float, default=1_500, help="the pace (the project's default, 1,500/h)")
    parser.add_argument("--minutes", type=float, default=2.0, help="requests measured per count")
    parser.add_argument("--counts", default="1,4,8")
    parser.add_argument("--per-process-too", action="store_true")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    # enough listings per bucket that one run alone asks for the whole window
    per_bucket = int(args.per_hour / 60 * args.minutes * 1.5) + 5
    results = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "per_hour": args.per_hour,
               "pace_per_minute": args.per_hour / 60, "minutes": args.minutes, "listings_per_bucket": per_bucket, "modes": {}}  # fmt: skip
    modes = [("shared", {})] + ([("per_process", {"YAHOO_DOUBLE_PACE_PER_PROCESS": "1"})] if args.per_process_too else [])
    for mode, env in modes:
        rows = []
        with tempfile.TemporaryDirectory(prefix=f"schedule-pace-{mode}-") as folder:
            with deployment(Path(folder), per_bucket, days=5, per_hour=args.per_hour, extra_env=env) as deployed:
                for count in counts:
                    rows.append(measure(deployed, count, args.minutes))
                    print(f"{mode:>11} pace, {count} bucket run(s): {rows[-1]}", flush=True)
        results["modes"][mode] = rows
    print(f"\nrequests a minute at the double, pace {args.per_hour:,.0f}/h = {args.per_hour / 60:g}/min, {args.minutes:g} min per count")
    print(f"{'pace':>12}{'runs at once':>14}{'processes':>11}{'requests':>10}{'per minute':>12}{'most in 60 s':>14}")
    for mode, rows in results["modes"].items():
        for row in rows:
            print(f"{mode:>12}{row['bucket_runs']:>14}{row['processes']:>11}{row['requests']:>10}{row['per_minute']:>12.1f}"
                  f"{row['most_in_any_minute']:>14}")  # fmt: skip
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
