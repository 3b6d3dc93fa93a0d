"""A full disk or a read-only warehouse folder: a clear error, nothing half-written.

Needs root to mount a size-limited tmpfs (CI and this project's machines run as root)."""

import os
import subprocess
import sys

import pytest

from tests.conftest import FIXTURE_SNAPSHOT, REPO_ROOT, SAMPLE_DIR
from tests.faults.conftest import record
from tests.faults.test_crashes import RAW_TABLES, state

UNIVERSE = REPO_ROOT / "universe.yml"


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    # 3.5 MB: room for a small warehouse, not for the market sample's 50,000 price rows
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3584k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def ingest(warehouse, snapshot) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.faults.run_pipeline", "--warehouse", str(warehouse), "--snapshot", str(snapshot),
         "--universe", str(UNIVERSE), "--raw-only"],  # fmt: skip
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "VALUATION_FAILPOINT": ""},
    )  # fmt: skip


def test_a_full_disk_fails_clearly_and_leaves_each_asset_old_or_new(small_disk, tmp_path):
    if not (SAMPLE_DIR / "prices").is_dir():
        pytest.skip(f"market sample not found at {SAMPLE_DIR}")
    reference = tmp_path / "reference.duckdb"  # the same two runs on a disk with room
    assert ingest(reference, FIXTURE_SNAPSHOT).returncode == 0 and ingest(reference, SAMPLE_DIR).returncode == 0
    complete = state(reference, "raw", RAW_TABLES)
    warehouse = small_disk / "valuation.duckdb"
    assert ingest(warehouse, FIXTURE_SNAPSHOT).returncode == 0  # the fixture's few FX and index rows fit
    before = state(warehouse, "raw", RAW_TABLES)

    full = ingest(warehouse, SAMPLE_DIR)
    after = state(warehouse, "raw", RAW_TABLES)  # the file still opens
    lost = sum(len(set(before[t] or []) - set(after[t] or [])) for t in RAW_TABLES)
    record("disk full during the sample's ingest", 1, sum(len(r) for r in before.values()), lost)
    assert lost == 0, "rows stored before the failed run are gone"
    assert full.returncode != 0
    assert "No space left on device" in full.stdout + full.stderr  # DuckDB's own words, in the run's failure
    for table in RAW_TABLES:
        if table == "rejected_rows":  # shared by the assets: each asset's rejects commit with its rows
            for dataset in ("prices", "financial_statements", "company_profiles"):
                rows = [[r for r in version[table] if r[0] == dataset] for version in (after, before, complete)]
                assert rows[0] in rows[1:], f"{dataset}'s rejected rows are half-written"
        else:
            assert after[table] in (before[table], complete[table]), f"{table} is half-written"
    assert after["prices"] == before["prices"], "the 50,000 price rows cannot have fit"

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    assert ingest(warehouse, SAMPLE_DIR).returncode == 0  # with room, the same run completes
    assert state(warehouse, "raw", RAW_TABLES) == complete


def test_a_read_only_warehouse_folder_fails_clearly_and_changes_nothing(small_disk):
    warehouse = small_disk / "valuation.duckdb"
    assert ingest(warehouse, FIXTURE_SNAPSHOT).returncode == 0
    before = state(warehouse, "raw", RAW_TABLES)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        result = ingest(warehouse, FIXTURE_SNAPSHOT)
        after = state(warehouse, "raw", RAW_TABLES)
        lost = sum(len(set(before[t] or []) - set(after[t] or [])) for t in RAW_TABLES)
        record("read-only warehouse folder", 1, sum(len(r) for r in before.values()), lost)
        assert result.returncode != 0
        assert "cannot be written" in result.stdout + result.stderr and "Nothing was changed" in result.stdout + result.stderr
        assert after == before
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
