"""Publishing the serving copy: a crash at any point leaves at most temporary files, which the
next publish removes; a concurrent publisher's are left alone."""

import subprocess
import sys
import textwrap

import duckdb
import pytest

from orchestration.warehouse import publish
from orchestration.warehouse.publish import publish_serving_copy


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "valuation.duckdb")) as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.prices as select * from (values (1, 10.0), (2, 11.0), (3, 12.0)) t(day, close)")
        connection.execute("create table marts.names as select * from (values ('ACME'), ('DRGN')) t(symbol)")
        yield connection


def killed_publisher(folder) -> int:
    """A process killed halfway through writing its temporary copy: it leaves `.tmp` and `.tmp.wal`."""
    script = textwrap.dedent(f"""
        import os, duckdb
        conn = duckdb.connect()
        conn.execute("attach ? as serving_copy", [os.path.join({str(folder)!r}, f".serving.duckdb.{{os.getpid()}}.tmp")])
        conn.execute("create table serving_copy.half as select range as x from range(1000)")
        print(os.getpid(), flush=True)
        os._exit(9)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 9, done.stderr
    return int(done.stdout)


def test_the_next_publish_removes_what_a_killed_publisher_left(tmp_path, conn):
    dead = killed_publisher(tmp_path)
    stale = [tmp_path / f".serving.duckdb.{dead}.tmp", tmp_path / f".serving.duckdb.{dead}.tmp.wal"]
    assert all(path.exists() for path in stale)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    concurrent = tmp_path / f".serving.duckdb.{live.pid}.tmp"  # another publisher, still at work
    concurrent.write_bytes(b"in progress")
    try:
        published = publish_serving_copy(conn, tmp_path / "serving.duckdb")
        assert not any(path.exists() for path in stale)
        assert concurrent.read_bytes() == b"in progress"
    finally:
        live.kill()
        live.wait()

    assert published["rows"] == {"names": 2, "prices": 3}
    with duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True) as serving:
        assert serving.execute("select day, close from marts.prices order by day").fetchall() == [(1, 10.0), (2, 11.0), (3, 12.0)]
        assert serving.execute("select symbol from marts.names order by symbol").fetchall() == [("ACME",), ("DRGN",)]
        assert serving.execute("select tables_published from publication").fetchall() == [(2,)]
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".serving")) == [concurrent.name]


def test_a_publish_that_fails_removes_its_own_temporary_and_keeps_the_old_copy(tmp_path, conn, monkeypatch):
    serving = tmp_path / "serving.duckdb"
    publish_serving_copy(conn, serving)
    conn.execute("insert into marts.prices values (4, 13.0)")

    def disk_full(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        publish_serving_copy(conn, serving)

    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".serving")] == []
    with duckdb.connect(str(serving), read_only=True) as old:
        assert old.execute("select count(*) from marts.prices").fetchone() == (3,)
