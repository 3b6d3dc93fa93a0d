"""Start a real server for a test on a free localhost port, and always stop it by its own process group."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(
    command: list[str], health_url: str, env: dict, timeout_seconds: float = 120, log: Path | None = None
) -> Iterator[None]:
    """Run `command` until `health_url` answers; on exit stop its whole process group (SIGTERM, then
    SIGKILL). Its output goes to `log` when given."""
    output = open(log, "ab") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True,  # its own process group: a server started without job control still stops
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                urllib.request.urlopen(health_url, timeout=2)
                break
            except OSError:
                assert server.poll() is None, f"{command[0]} exited with {server.returncode}"
                assert time.monotonic() < deadline, f"{health_url} did not answer within {timeout_seconds} s"
                time.sleep(0.5)
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        try:
            os.killpg(server.pid, signal.SIGKILL)  # what of the group outlived its leader (run workers)
        except ProcessLookupError:
            pass
        if log:
            output.close()


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@contextmanager
def chromium(profile: Path, window: str) -> Iterator:
    """Headless Debian Chromium through selenium, with a fresh profile and none of its background
    connections (this machine has no network); `window` is "width,height"."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise AssertionError("Chromium is missing: `make test` installs Debian's chromium and chromium-driver")
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", f"--window-size={window}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


WORKSPACE_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def graphql(base_url: str, query: str, variables: dict | None = None) -> dict:
    """POST `query` (with `variables`) to the Dagster webserver at `base_url`; the decoded answer."""
    request = urllib.request.Request(
        f"{base_url}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@contextmanager
def dagster_webserver(env: dict, module: str = "orchestration.definitions", timeout_seconds: float = 120) -> Iterator[str]:
    """`dagster-webserver -m module` on a free localhost port, stopped like any `running_server`. Yields its
    base URL once the code location has loaded: the server answers /server_info before it has."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "dagster-webserver"), "-m", module, "-h", "127.0.0.1", "-p", str(port)]
    with running_server(command, f"{base_url}/server_info", env, timeout_seconds):
        _wait_for_code_location(base_url, timeout_seconds)
        yield base_url


@contextmanager
def dagster_dev(env: dict, module: str, timeout_seconds: float = 180, log: Path | None = None) -> Iterator[str]:
    """`dagster dev -m module` (the webserver, the daemon with its run queue, a code server) on a free
    localhost port, in the DAGSTER_HOME of `env`; stopped like any `running_server`, its run workers
    with it (its process group). Yields the base URL once the code location has loaded."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "dagster"), "dev", "-m", module, "-h", "127.0.0.1", "-p", str(port)]
    with running_server(command, f"{base_url}/server_info", env, timeout_seconds, log):
        _wait_for_code_location(base_url, timeout_seconds)
        yield base_url


def _wait_for_code_location(base_url: str, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        entries = graphql(base_url, WORKSPACE_QUERY)["data"]["workspaceOrError"].get("locationEntries") or []
        if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
            break
        assert time.monotonic() < deadline, f"the code location did not load within {timeout_seconds} s: {entries}"
        time.sleep(0.5)
    errors = [entry["locationOrLoadError"] for entry in entries if entry["locationOrLoadError"]["__typename"] == "PythonError"]
    assert not errors, f"the code location failed to load: {errors}"
