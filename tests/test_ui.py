"""The Dagster UI over a real dagster-webserver and the fixture warehouse, built by `dg launch` (prices
end on 2025-01-10, the clock says 2025-01-31, so every series is stale): through its GraphQL API, and
in headless Chromium, where the global asset lineage names the real assets and the Checks tab of
freshness/data_freshness shows all_data_fresh as failed. Browser assertions are on the DOM's text; the
screenshots are saved beside the test (docs/ui_asset_graph.png and docs/ui_failing_check.png are copies)."""

import json
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, REPO_ROOT
from tests.servers import chromium, dagster_webserver, graphql

RUN_CONFIG = json.dumps({"execution": {"config": {"in_process": {}}}})
# The global lineage opens with every group collapsed; these three are expanded through the URL, as
# the group's own expand button does (`expanded=global@global:<group>,...`).
EXPANDED_GROUPS = ("raw", "marts", "serving")
GRAPH_ASSETS = ("raw/prices", "marts/fct_valuation_daily", "serving/marts")
WAIT_SECONDS = 90
CHECKS_QUERY = """
{ assetNodeOrError(assetKey: {path: ["freshness", "data_freshness"]}) {
    ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks {
        name
        executionForLatestMaterialization { status evaluation { success
            metadataEntries { label ... on TextMetadataEntry { text } } } } } } } } } }
"""

# The text of the graph node of asset `path`: climb from the node's link to its asset until the
# element's text starts with the node's name.
NODE_TEXT = """
const name = arguments[0].split('/').pop();
let element = document.querySelector(`a[href^="/assets/${arguments[0]}?"]`);
while (element && !element.innerText.startsWith(name)) element = element.parentElement;
return element ? element.innerText : null;
"""


@pytest.fixture(scope="module")
def webserver(tmp_path_factory) -> Iterator[str]:
    """The fixture snapshot built by `dg launch` (landing excepted), then the webserver over it."""
    folder = tmp_path_factory.mktemp("ui")
    home = folder / "dagster_home"
    # The UI's "Join the Dagster community" dialog covers the page until dismissed; this is where
    # dagster records its dismissal (dagster._core.nux), in this DAGSTER_HOME only.
    (home / ".nux").mkdir(parents=True)
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "VALUATION_WAREHOUSE": str(folder / "valuation.duckdb"),
        "VALUATION_UNIVERSE": str(FIXTURE_UNIVERSE),
        "VALUATION_SOURCE": "sample",
        "VALUATION_SAMPLE_DIR": str(FIXTURE_SNAPSHOT),
        "VALUATION_AS_OF": "2025-01-31",  # every fixture series is stale: all_data_fresh fails
    }
    build = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "launch", "--assets", "not group:landing", "--config-json", RUN_CONFIG],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    with dagster_webserver(env) as base_url:
        yield base_url


def test_a_stale_symbol_shows_a_failed_check_through_the_graphql_api(webserver):
    node = graphql(webserver, CHECKS_QUERY)["data"]["assetNodeOrError"]
    checks = {check["name"]: check for check in node["assetChecksOrError"]["checks"]}
    execution = checks["all_data_fresh"]["executionForLatestMaterialization"]
    assert execution["status"] == "FAILED" and execution["evaluation"]["success"] is False
    metadata = {entry["label"]: entry.get("text") for entry in execution["evaluation"]["metadataEntries"]}
    # DRGN's last close is 2025-01-10; XNYS sessions 13-31 January 2025: 13-17 (5),
    # 21-24 (4; 20 January is Martin Luther King Jr. Day), 27-31 (5) = 14
    assert "DRGN prices (14 XNYS session(s) behind)" in metadata["stale"]


def page_text(driver) -> str:
    return driver.execute_script("return document.body.innerText")


def save(driver, png: Path) -> None:
    driver.save_screenshot(str(png))
    print(f"\nscreenshot: {png}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000


def test_the_global_asset_lineage_shows_the_real_assets(webserver, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    expanded = urllib.parse.quote(",".join(f"global@global:{group}" for group in EXPANDED_GROUPS), safe="")
    # Tall enough that the three expanded groups fit whole at the zoom the graph opens with (its width)
    with chromium(tmp_path / "profile", "2400,2300") as driver:
        driver.get(f"{webserver}/asset-groups?expanded={expanded}")
        # Each node is drawn, then its status fills in from the run's events.
        WebDriverWait(driver, WAIT_SECONDS).until(
            lambda d: all("Materialized" in (d.execute_script(NODE_TEXT, path) or "") for path in GRAPH_ASSETS)
        )
        text = page_text(driver)
        assert "Global asset lineage" in text
        assert "Join the Dagster community" not in text
        # every group of the project, collapsed or expanded, by name
        for group in ("landing", "raw", "staging", "reference", "intermediate", "marts", "serving", "freshness"):
            assert re.search(rf"^{group}$", text, re.M), group
        nodes = {path: driver.execute_script(NODE_TEXT, path) for path in GRAPH_ASSETS}
        assert nodes["raw/prices"].splitlines()[0] == "prices"
        assert nodes["marts/fct_valuation_daily"].splitlines()[0] == "fct_valuation_daily"
        assert nodes["serving/marts"].splitlines()[0] == "marts"
        # dbt's tests on fct_valuation_daily are its asset checks, all passed
        assert re.search(r"Asset checks\s+(\d+) / \1 Passed", nodes["marts/fct_valuation_daily"])
        for other in ("dim_company", "dim_listing", "mart_peer_valuation", "universe_listings"):
            assert re.search(rf"^{other}$", text, re.M), other
        save(driver, tmp_path / "ui_asset_graph.png")


def test_a_stale_symbol_shows_all_data_fresh_failed_in_the_checks_tab(webserver, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(tmp_path / "profile", "1600,1000") as driver:
        driver.get(f"{webserver}/assets/freshness/data_freshness?view=checks")
        WebDriverWait(driver, WAIT_SECONDS).until(lambda d: "Evaluation result" in page_text(d))
        text = page_text(driver)
        assert "Join the Dagster community" not in text
        assert "Checks (1)" in text
        # in the list of checks, and its latest evaluation in the detail beside it
        assert re.search(r"^all_data_fresh\s+Failed$", text, re.M), text
        assert re.search(r"Evaluation result\s+Failed", text), text
        # what is late, as the check's metadata lists it: DRGN's last close is 2025-01-10, 14 XNYS
        # sessions before 2025-01-31 (see the GraphQL test)
        assert "DRGN prices (14 XNYS session(s) behind)" in text
        save(driver, tmp_path / "ui_failing_check.png")
