"""The Dagster webserver shows a stale symbol as a failed freshness check (real server, real GraphQL)."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, REPO_ROOT
from tests.servers import free_port, running_server

BIN = Path(sys.executable).parent
RUN_CONFIG = json.dumps({"execution": {"config": {"in_process": {}}}})
CHECKS_QUERY = """
{ assetNodeOrError(assetKey: {path: ["freshness", "data_freshness"]}) {
    ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks {
        name
        executionForLatestMaterialization { status evaluation { success
            metadataEntries { label ... on TextMetadataEntry { text } } } } } } } } } }
"""


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def environment(tmp_path) -> dict:
    home = tmp_path / "dagster_home"
    home.mkdir()
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "VALUATION_WAREHOUSE": str(tmp_path / "valuation.duckdb"),
        "VALUATION_UNIVERSE": str(FIXTURE_UNIVERSE),
        "VALUATION_SOURCE": "sample",
        "VALUATION_SAMPLE_DIR": str(FIXTURE_SNAPSHOT),
        # The fixture's prices end on 2025-01-10: as of 2025-01-31 every series is stale.
        "VALUATION_AS_OF": "2025-01-31",
    }


def test_a_stale_symbol_shows_a_failed_check_in_the_ui(environment):
    build = subprocess.run(
        [str(BIN / "dg"), "launch", "--assets", "not group:landing", "--config-json", RUN_CONFIG],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]

    port = free_port()
    command = [str(BIN / "dagster-webserver"), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)]
    with running_server(command, f"http://127.0.0.1:{port}/server_info", environment):
        for _ in range(30):  # the code location loads after the server answers
            result = graphql(port, CHECKS_QUERY)
            node = result.get("data", {}).get("assetNodeOrError", {})
            if "assetChecksOrError" in node:
                break
            time.sleep(2)
        checks = {check["name"]: check for check in node["assetChecksOrError"]["checks"]}
        execution = checks["all_data_fresh"]["executionForLatestMaterialization"]
        assert execution["status"] == "FAILED" and execution["evaluation"]["success"] is False
        metadata = {entry["label"]: entry.get("text") for entry in execution["evaluation"]["metadataEntries"]}
        # DRGN's last close is 2025-01-10; XNYS sessions 13-31 January 2025: 13-17 (5),
        # 21-24 (4; 20 January is Martin Luther King Jr. Day), 27-31 (5) = 14
        assert "DRGN prices (14 XNYS session(s) behind)" in metadata["stale"]
