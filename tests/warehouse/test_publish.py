"""Publishing the serving copy: a crash at any point leaves at most temporary files, which the
next publish removes; a concurrent publisher's are left alone."""

import shutil
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

    assert temporaries(tmp_path) == []
    with duckdb.connect(str(serving), read_only=True) as old:
        assert old.execute("select count(*) from marts.prices").fetchone() == (3,)


# ---------------------------------------------------------------- patching the last serving copy

KEYS = {"daily": ["symbol", "date"]}


def temporaries(folder) -> list[str]:
    """A publisher's temporary files left in `folder` (the spare is not one: it is kept on purpose)."""
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(".serving") and ".tmp" in path.name)


@pytest.fixture
def built(tmp_path):
    """A working file whose marts.daily is built as dbt's delete+insert builds it: 3 symbols x 10
    days, every row stamped with its build's built_at; marts.listings is a plain table."""
    with duckdb.connect(str(tmp_path / "valuation.duckdb")) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.daily as select symbol, date '2025-01-01' + d::integer as date, 100.0 + d as close, "
            "timestamp '2025-01-10 22:00' as built_at from (values ('A'), ('B'), ('C')) s(symbol), range(10) r(d)"
        )
        connection.execute("create table marts.listings as select * from (values ('A'), ('B'), ('C')) t(symbol)")
        yield connection


def rebuild(conn, since: str, built_at: str, keys: str = "true") -> None:
    """An incremental build: the rows of `keys` from `since` deleted and written again, stamped `built_at`."""
    conn.execute(
        f"create temp table rebuilt as select * replace (timestamp '{built_at}' as built_at) from marts.daily "
        f"where date >= date '{since}' and {keys}"
    )
    conn.execute("delete from marts.daily using rebuilt where daily.symbol = rebuilt.symbol and daily.date = rebuilt.date")
    conn.execute("insert into marts.daily select * from rebuilt")
    conn.execute("drop table rebuilt")


def differences(conn, serving) -> int:
    """Rows in the one and not the other, both ways, over every table of marts."""
    conn.execute("attach ? as published (read_only)", [str(serving)])
    try:
        tables = conn.execute("select table_name from duckdb_tables() where database_name = current_database()").fetchall()
        return sum(
            conn.execute(f"select count(*) from (select * from {one} except all select * from {other})").fetchone()[0]
            for (table,) in tables
            for one, other in [(f"marts.{table}", f"published.marts.{table}"), (f"published.marts.{table}", f"marts.{table}")]
        )
    finally:
        conn.execute("detach published")


def test_after_an_incremental_build_only_the_rebuilt_rows_are_written(tmp_path, built):
    serving = tmp_path / "serving.duckdb"
    first = publish_serving_copy(built, serving, incremental_keys=KEYS)
    assert first["mode"] == "full" and first["rows_written"] == 33  # 30 daily rows + 3 listings

    # The next build rebuilds the last day of every symbol, and a new day: 3 x 2 = 6 rows; A's close moves.
    built.execute("insert into marts.daily select symbol, date '2025-01-11', 111.0, built_at from marts.daily where date = '2025-01-10'")
    rebuild(built, "2025-01-10", "2025-01-11 22:00")
    built.execute("update marts.daily set close = 99.5 where symbol = 'A' and date = '2025-01-11'")
    reader = duckdb.connect(str(serving), read_only=True)  # a reader of the first publication
    second = publish_serving_copy(built, serving, incremental_keys=KEYS)

    assert second["mode"] == "patched"
    assert second["rows_written"] == 6 + 3  # the rebuilt rows, and the plain table whole
    assert second["rows"] == {"daily": 33, "listings": 3}
    assert differences(built, serving) == 0
    assert reader.execute("select count(*), max(date)::varchar from marts.daily").fetchone() == (30, "2025-01-10")
    reader.close()
    with duckdb.connect(str(serving), read_only=True) as fresh:
        assert fresh.execute("select close from marts.daily where symbol = 'A' and date = '2025-01-11'").fetchone() == (99.5,)
        # every row written in the copy: the 6 patched, and the plain table's 3 written whole
        assert fresh.execute("select publish_mode, rows_patched_since_full from publication").fetchone() == ("patched", 6 + 3)


def test_rows_that_leave_a_mart_without_a_rebuild_leave_the_serving_copy(tmp_path, built):
    serving = tmp_path / "serving.duckdb"
    # a larger mart the build leaves alone, so that writing `daily` whole stays a patch of the file
    built.execute("create table marts.history as select i, timestamp '2025-01-10 22:00' as built_at from range(1000) r(i)")
    keys = {**KEYS, "history": ["i"]}
    publish_serving_copy(built, serving, incremental_keys=keys)
    rebuild(built, "2025-01-10", "2025-01-11 22:00")
    built.execute("delete from marts.daily where symbol = 'C'")  # a listing taken out of the universe
    built.execute("delete from marts.listings where symbol = 'C'")

    published = publish_serving_copy(built, serving, incremental_keys=keys)

    assert published["mode"] == "patched" and published["rows"] == {"daily": 20, "history": 1000, "listings": 2}
    assert published["rows_written"] == 20 + 2  # the count told: written whole
    assert differences(built, serving) == 0


def test_a_full_refresh_a_changed_column_and_much_patching_write_the_table_or_file_whole(tmp_path, built, monkeypatch):
    serving = tmp_path / "serving.duckdb"
    publish_serving_copy(built, serving, incremental_keys=KEYS)
    copies = []
    copy = shutil.copyfile
    monkeypatch.setattr(publish.shutil, "copyfile", lambda *paths: copies.append(paths) or copy(*paths))

    # every row rebuilt (a full refresh), then a changed column: a new file, not a copy with every
    # table written again in it (twice the size, and every later copy would pay for it)
    rebuild(built, "2025-01-01", "2025-01-11 22:00")
    assert publish_serving_copy(built, serving, incremental_keys=KEYS) | {"published_at": None} == {
        "published_at": None, "mode": "full", "patched_from": None, "rows": {"daily": 30, "listings": 3}, "rows_written": 33}
    assert copies == []  # told by the published file, before copying it
    assert differences(built, serving) == 0

    built.execute("alter table marts.daily add column volume bigint default 7")
    assert publish_serving_copy(built, serving, incremental_keys=KEYS)["mode"] == "full"
    assert differences(built, serving) == 0

    # each build: 6 rows of 33 patched and the plain table's 3 written whole, 9 rows in the file.
    # The publishes alternate between the file served and the spare, each counting the rows written
    # in it since its own full publish: the 12th patches a copy (the spare has no `volume`), the
    # 13th the spare in place (the file of the full publish, 0 + 9), and the 14th would take
    # either file past half of all rows (9 + 9 > 16.5): a full publish.
    modes = []
    for day in ("12", "13", "14"):
        rebuild(built, "2025-01-09", f"2025-01-{day} 22:00", keys="symbol in ('A', 'B', 'C')")
        copies.clear()
        published = publish_serving_copy(built, serving, incremental_keys=KEYS)
        modes.append((published["mode"], published["rows_written"], len(copies)))
        assert differences(built, serving) == 0
    assert modes == [("patched", 6 + 3, 1), ("patched", 6 + 3, 0), ("full", 33, 0)]

    # without the keys, every publish is a full one
    rebuild(built, "2025-01-10", "2025-01-15 22:00")
    assert publish_serving_copy(built, serving)["mode"] == "full"
    assert differences(built, serving) == 0


def test_a_build_stamped_earlier_than_the_last_publication_still_lands(tmp_path, built):
    """A clock stepped back between builds: the rows are told by their build's stamp, not by its order."""
    serving = tmp_path / "serving.duckdb"
    publish_serving_copy(built, serving, incremental_keys=KEYS)
    rebuild(built, "2025-01-10", "2025-01-09 08:00")
    built.execute("update marts.daily set close = 1.5 where date = '2025-01-10'")

    published = publish_serving_copy(built, serving, incremental_keys=KEYS)

    assert published["mode"] == "patched" and published["rows_written"] == 3 + 3
    assert differences(built, serving) == 0


def test_a_damaged_serving_file_is_replaced_whole_not_patched(tmp_path, built):
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(b"not a DuckDB file " * 100)  # a copy half-written by hand, a disk error

    published = publish_serving_copy(built, serving, incremental_keys=KEYS)

    assert published["mode"] == "full" and published["rows_written"] == 33
    assert differences(built, serving) == 0
    assert temporaries(tmp_path) == []

    # the damaged file is now the spare: the next publish leaves it and patches a copy
    rebuild(built, "2025-01-10", "2025-01-11 22:00")
    published = publish_serving_copy(built, serving, incremental_keys=KEYS)
    assert (published["mode"], published["rows_written"]) == ("patched", 3 + 3)
    assert differences(built, serving) == 0
    assert temporaries(tmp_path) == []


def test_a_serving_file_of_an_older_version_is_replaced_whole(tmp_path, built):
    serving = tmp_path / "serving.duckdb"
    publish_serving_copy(built, serving, incremental_keys=KEYS)
    with duckdb.connect(str(serving)) as older:  # as the version before the patch accounting wrote it
        older.execute("alter table publication drop column rows_patched_since_full")
    rebuild(built, "2025-01-10", "2025-01-11 22:00")

    published = publish_serving_copy(built, serving, incremental_keys=KEYS)

    assert (published["mode"], published["rows_written"]) == ("full", 33)
    assert differences(built, serving) == 0


def test_a_file_swapped_in_by_another_publisher_after_the_plan_is_not_patched(tmp_path, built, monkeypatch):
    serving = tmp_path / "serving.duckdb"
    publish_serving_copy(built, serving, incremental_keys=KEYS)
    rebuild(built, "2025-01-10", "2025-01-11 22:00")
    copy = shutil.copyfile

    def copy_of_a_newer_publication(source, target):
        copy(source, target)
        with duckdb.connect(str(target)) as newer:  # what the plan was made from is gone
            newer.execute("update publication set published_at = published_at + interval 1 second")

    monkeypatch.setattr(publish.shutil, "copyfile", copy_of_a_newer_publication)
    published = publish_serving_copy(built, serving, incremental_keys=KEYS)

    assert (published["mode"], published["rows_written"]) == ("full", 33)
    assert differences(built, serving) == 0
    assert temporaries(tmp_path) == []


def reader_in_another_process(serving, drops_its_lock: bool = False):
    """A process that opens `serving` read-only, then answers once told to: (rows, last date) of
    marts.daily. `drops_its_lock`: it also opens and closes the file once more (a checksum, a
    backup), which releases its POSIX lock on it while DuckDB goes on reading it."""
    script = textwrap.dedent(f"""
        import os, sys, duckdb
        conn = duckdb.connect({str(serving)!r}, read_only=True)
        if {drops_its_lock!r}:
            os.close(os.open({str(serving)!r}, os.O_RDONLY))
        print("open", flush=True)
        sys.stdin.readline()
        print(conn.execute("select count(*), max(date)::varchar from marts.daily").fetchone(), flush=True)
    """)
    reader = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline() == "open\n"
    return reader


def what_it_reads(reader) -> str:
    answer, _ = reader.communicate("go\n", timeout=60)
    return answer.strip()


@pytest.fixture
def copies(monkeypatch):
    made = []
    copy = shutil.copyfile
    monkeypatch.setattr(publish.shutil, "copyfile", lambda *paths: made.append(paths) or copy(*paths))
    return made


def test_the_file_a_publish_replaced_is_patched_next_time_instead_of_copied(tmp_path, built, copies):
    serving = tmp_path / "serving.duckdb"
    publish_serving_copy(built, serving, incremental_keys=KEYS)
    first_file = serving.stat().st_ino
    rebuild(built, "2025-01-10", "2025-01-11 22:00")  # 3 rows
    assert publish_serving_copy(built, serving, incremental_keys=KEYS)["mode"] == "patched"
    assert len(copies) == 1  # no spare yet: the first publish replaced nothing
    assert (tmp_path / ".serving.duckdb.spare").stat().st_ino == first_file

    built.execute("update marts.daily set close = 7.0 where date = '2025-01-09'")
    rebuild(built, "2025-01-09", "2025-01-12 22:00", keys="date = '2025-01-09'")  # 3 other rows
    published = publish_serving_copy(built, serving, incremental_keys=KEYS)

    # the first file again, patched where it lay by both builds since its publication: 3 + 3 rows,
    # and the plain table whole
    assert copies[1:] == []
    assert serving.stat().st_ino == first_file
    assert (published["mode"], published["rows_written"]) == ("patched", 3 + 3 + 3)
    assert differences(built, serving) == 0
    with duckdb.connect(str(serving), read_only=True) as fresh:
        assert fresh.execute("select rows_patched_since_full from publication").fetchone() == (9,)
    assert temporaries(tmp_path) == []


class InThisProcess:
    """A reader's connection in the publisher's own process (DuckDB's lock does not tell it)."""

    def __init__(self, serving):
        self.conn = duckdb.connect(str(serving), read_only=True)

    def reads(self) -> str:
        return str(self.conn.execute("select count(*), max(date)::varchar from marts.daily").fetchone())

    def close(self) -> None:
        self.conn.close()


class InAnotherProcess:
    drops_its_lock = False

    def __init__(self, serving):
        self.process = reader_in_another_process(serving, self.drops_its_lock)

    def reads(self) -> str:
        return what_it_reads(self.process)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


class InAnotherProcessWithoutItsLock(InAnotherProcess):
    drops_its_lock = True


@pytest.mark.parametrize("reader", [InAnotherProcess, InAnotherProcessWithoutItsLock, InThisProcess])
def test_a_spare_a_reader_still_holds_is_left_to_it_and_the_serving_file_copied(tmp_path, built, copies, reader):
    serving = tmp_path / "serving.duckdb"
    publish_serving_copy(built, serving, incremental_keys=KEYS)
    dashboard = reader(serving)  # a connection left open on the first publication
    try:
        for day in ("11", "12"):  # the first file is the spare of the second publish
            built.execute(f"insert into marts.daily select symbol, date '2025-01-{day}', 1.0, built_at from marts.daily where date = '2025-01-10'")
            rebuild(built, f"2025-01-{day}", f"2025-01-{day} 22:00")
            assert publish_serving_copy(built, serving, incremental_keys=KEYS)["mode"] == "patched"
        assert len(copies) == 2  # the spare held: the serving file copied instead
        assert dashboard.reads() == "(30, '2025-01-10')"  # the first publication, whole
    finally:
        dashboard.close()
    assert differences(built, serving) == 0
    assert temporaries(tmp_path) == []


def test_a_spare_that_is_still_the_serving_file_is_not_patched_in_place(tmp_path, built, copies):
    """A publish stopped between keeping the old file and the swap leaves the serving file under
    both names: patching that would write under any reader connecting meanwhile (none is
    connected here, so DuckDB's lock would not tell)."""
    serving = tmp_path / "serving.duckdb"
    publish_serving_copy(built, serving, incremental_keys=KEYS)
    served = serving.stat().st_ino
    (tmp_path / ".serving.duckdb.spare").hardlink_to(serving)
    rebuild(built, "2025-01-10", "2025-01-11 22:00")

    assert publish_serving_copy(built, serving, incremental_keys=KEYS)["mode"] == "patched"

    assert len(copies) == 1 and serving.stat().st_ino != served
    assert differences(built, serving) == 0
    assert (tmp_path / ".serving.duckdb.spare").stat().st_ino == served  # kept as the spare, now it is one


def test_with_the_spare_off_or_no_hard_link_allowed_every_incremental_publish_copies(tmp_path, built, copies, monkeypatch):
    def not_allowed(source, target):  # another user's file under fs.protected_hardlinks
        raise PermissionError(1, "Operation not permitted")

    for folder, keep_spare in (("off", False), ("no_link", True)):
        serving = tmp_path / folder / "serving.duckdb"
        if folder == "no_link":
            monkeypatch.setattr(publish.os, "link", not_allowed)
        copies.clear()
        modes = []
        for day in ("11", "12"):
            rebuild(built, "2025-01-10", f"2025-01-{day} 22:00")
            published = publish_serving_copy(built, serving, incremental_keys=KEYS, keep_spare=keep_spare)
            modes.append((published["mode"], published["patched_from"]))
            assert differences(built, serving) == 0
        assert modes == [("full", None), ("patched", "copy")] and len(copies) == 1
        assert not (serving.parent / ".serving.duckdb.spare").exists()
