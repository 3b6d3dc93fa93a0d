"""Start a real server for a test on a free localhost port, and always stop it by its own process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(command: list[str], health_url: str, env: dict, timeout_seconds: float = 120) -> Iterator[None]:
    """Run `command` until `health_url` answers; on exit stop its whole process group (SIGTERM, then SIGKILL)."""
    server = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
