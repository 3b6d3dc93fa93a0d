"""Dagster's GraphQL API, as the tests that run the real daemon drive and read it: launch runs and
backfills, start schedules and sensors, read runs, their steps and events, and a pool's slots."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from tests.servers import graphql

FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
ASSET_JOB = "__ASSET_JOB"
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}

RUN_FIELDS = "runId status creationTime startTime endTime tags { key value } stepStats { stepKey status startTime endTime }"


class GraphQLError(AssertionError):
    pass


class DagsterApi:
    def __init__(self, base_url: str):
        self.base_url = base_url
        nodes = self._query("{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
        node = nodes["repositoriesOrError"]["nodes"][0]
        self.repository = {"repositoryName": node["name"], "repositoryLocationName": node["location"]["name"]}

    def _query(self, query: str, variables: dict | None = None) -> dict:
        answer = graphql(self.base_url, query, variables)
        if answer.get("errors"):
            raise GraphQLError(answer["errors"])
        return answer["data"]

    @staticmethod
    def _ok(result: dict, typename: str) -> dict:
        if result["__typename"] != typename:
            raise GraphQLError(result)
        return result

    # ------------------------------------------------------------- launching

    def launch(self, job: str = ASSET_JOB, assets: Iterable[list[str]] | None = None, tags: dict | None = None,
               run_config: dict | None = None) -> str:  # fmt: skip
        """Submit a run (to the queue, as the UI does); its id."""
        selector = {**self.repository, "jobName": job}
        if assets is not None:
            selector["assetSelection"] = [{"path": path} for path in assets]
        params = {"selector": selector, "runConfigData": run_config or {},
                  "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}}  # fmt: skip
        result = self._query(
            "mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename "
            "... on LaunchRunSuccess { run { runId } } ... on Error { message } "
            "... on RunConfigValidationInvalid { errors { message } } } }",
            {"p": params},
        )["launchRun"]
        return self._ok(result, "LaunchRunSuccess")["run"]["runId"]

    def backfill(self, partition_set: str, partitions: list[str]) -> str:
        """A backfill of a job's partitions (one run per partition, submitted by the daemon); its id."""
        params = {"selector": {"partitionSetName": partition_set, "repositorySelector": self.repository},
                  "partitionNames": partitions}  # fmt: skip
        result = self._query(
            "mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename "
            "... on LaunchBackfillSuccess { backfillId } ... on Error { message } } }",
            {"p": params},
        )["launchPartitionBackfill"]
        return self._ok(result, "LaunchBackfillSuccess")["backfillId"]

    def start_schedule(self, name: str) -> None:
        result = self._query(
            "mutation($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) { __typename ... on Error { message } } }",
            {"s": {**self.repository, "scheduleName": name}},
        )["startSchedule"]
        self._ok(result, "ScheduleStateResult")

    def stop_schedule(self, name: str) -> None:
        self._query(
            "mutation($s: ScheduleSelector!) { resetSchedule(scheduleSelector: $s) { __typename } }",
            {"s": {**self.repository, "scheduleName": name}},
        )

    def start_sensor(self, name: str) -> None:
        result = self._query(
            "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename ... on Error { message } } }",
            {"s": {**self.repository, "sensorName": name}},
        )["startSensor"]
        self._ok(result, "Sensor")

    def stop_sensor(self, name: str) -> None:
        self._query(
            "mutation($s: SensorSelector!) { resetSensor(sensorSelector: $s) { __typename } }",
            {"s": {**self.repository, "sensorName": name}},
        )

    def terminate(self, run_id: str) -> None:
        self._query(f'mutation {{ terminateRun(runId: "{run_id}") {{ __typename }} }}')

    # ------------------------------------------------------------- reading

    def run(self, run_id: str) -> dict:
        result = self._query(f'{{ runOrError(runId: "{run_id}") {{ __typename ... on Run {{ {RUN_FIELDS} }} }} }}')["runOrError"]
        run = self._ok(result, "Run")
        run["tags"] = {tag["key"]: tag["value"] for tag in run["tags"]}
        return run

    def runs(self, tags: dict | None = None) -> list[dict]:
        """Every run (with these tags), newest first."""
        filter_ = {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}
        result = self._query(
            f"query($f: RunsFilter) {{ runsOrError(filter: $f) {{ __typename ... on Runs {{ results {{ {RUN_FIELDS} }} }} }} }}",
            {"f": filter_},
        )["runsOrError"]
        runs = self._ok(result, "Runs")["results"]
        for run in runs:
            run["tags"] = {tag["key"]: tag["value"] for tag in run["tags"]}
        return runs

    def wait(self, run_ids: list[str], timeout_seconds: float, statuses: set[str] = FINISHED) -> list[dict]:
        deadline = time.monotonic() + timeout_seconds
        while True:
            runs = [self.run(run_id) for run_id in run_ids]
            if all(run["status"] in statuses for run in runs):
                return runs
            assert time.monotonic() < deadline, f"runs not {statuses} within {timeout_seconds} s: {[(r['runId'], r['status']) for r in runs]}"
            time.sleep(1)

    def messages(self, run_id: str) -> list[tuple[float, str | None, str]]:
        """(timestamp in seconds, step key, message) of every event of the run."""
        result = self._query(
            f'{{ logsForRun(runId: "{run_id}", limit: 5000) {{ __typename ... on EventConnection {{ events {{ '
            "... on MessageEvent { timestamp stepKey message } } } } }"
        )["logsForRun"]
        return [(float(e["timestamp"]) / 1000, e.get("stepKey"), e["message"]) for e in self._ok(result, "EventConnection")["events"] if e]

    def worker_pids(self, run_id: str) -> list[int]:
        """The processes of the run: its worker and any step subprocesses, from its engine events."""
        return sorted({int(pid) for _, _, message in self.messages(run_id) for pid in re.findall(r"\(pid: (\d+)\)", message)})

    def pool(self, name: str) -> dict:
        return self._query(
            f'{{ instance {{ concurrencyLimit(concurrencyKey: "{name}") {{ slotCount limit '
            "claimedSlots { runId stepKey } pendingSteps { runId stepKey enqueuedTimestamp assignedTimestamp } } } }"
        )["instance"]["concurrencyLimit"]


def step(run: dict, key: str) -> dict:
    return next(s for s in run["stepStats"] if s["stepKey"] == key)
