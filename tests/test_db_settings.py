"""Every DuckDB connection of the pipeline has a memory limit and a spill directory (bounded memory)."""

from pathlib import Path

import duckdb
import pytest

from warehouse import db

# a sort of 1.5 million 32-character strings with their row numbers: about 100 MB to hold, over a 64 MB limit
BIG_SORT = ("SELECT sum(hash(s, i)) FROM (SELECT i, md5(i::VARCHAR) AS s FROM range(1500000) t(i) "
            "ORDER BY s LIMIT 1000000000)")


def test_defaults_are_sized_to_the_machine_and_spill_beside_the_database(tmp_path, monkeypatch):
    for name in (db.MEMORY_LIMIT_ENV, db.TEMP_DIR_ENV, db.THREADS_ENV):
        monkeypatch.delenv(name, raising=False)
    with db.connect(tmp_path / "wh" / "pipeline.duckdb") as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        temp = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    assert Path(temp) == (tmp_path / "wh" / db.TEMP_DIR_NAME).resolve()
    expected = db.machine_memory() * db.MEMORY_FRACTION / 2**30
    number, unit = limit.split()
    assert unit == "GiB" and abs(float(number) - expected) < 0.1, (limit, expected)


def test_arguments_and_environment_set_limit_temp_directory_and_threads(tmp_path, monkeypatch):
    monkeypatch.setenv(db.MEMORY_LIMIT_ENV, "300MB")
    monkeypatch.setenv(db.TEMP_DIR_ENV, str(tmp_path / "spill-env"))
    monkeypatch.setenv(db.THREADS_ENV, "1")
    with db.connect(tmp_path / "a.duckdb") as con:
        got = con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
                          "current_setting('threads')").fetchall()[0]
    assert got == ("286.1 MiB", str((tmp_path / "spill-env").resolve()), 1)
    # arguments win over the environment; read-only connections get them too
    with db.connect(tmp_path / "a.duckdb", read_only=True, memory_limit="1GiB", temp_directory=tmp_path / "spill",
                    threads=2) as con:
        got = con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
                          "current_setting('threads')").fetchall()[0]
    assert got == ("1.0 GiB", str((tmp_path / "spill").resolve()), 2)


def test_bad_settings_are_refused_with_their_name(tmp_path, monkeypatch):
    monkeypatch.setenv(db.MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ValueError, match=db.MEMORY_LIMIT_ENV):
        with db.connect(tmp_path / "a.duckdb"):
            pass
    with pytest.raises(ValueError, match="threads"):
        db.duckdb_settings(tmp_path / "a.duckdb", memory_limit="1GB", threads="many")
    with pytest.raises(ValueError, match="in-memory"):
        db.duckdb_settings(None, memory_limit="1GB")


def test_a_query_bigger_than_the_limit_spills_instead_of_failing(tmp_path):
    spill = tmp_path / "spill"
    with db.connect(tmp_path / "a.duckdb", memory_limit="64MB", temp_directory=spill, threads=1) as con:
        assert con.execute(BIG_SORT).fetchall()[0][0] is not None
        assert spill.is_dir()  # DuckDB made it to spill into
    # the same query with spilling turned off does not fit: the limit is real
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        con.execute("SET memory_limit = '64MB'")
        con.execute("SET threads = 1")
        con.execute("SET temp_directory = ''")
        with pytest.raises(duckdb.OutOfMemoryException):
            con.execute(BIG_SORT).fetchall()


def test_a_hold_keeps_one_open_database_that_connections_share_and_releases_it(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "wh" / "pipeline.duckdb"
    other_process = ["-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('SELECT 1')", str(path)]
    with db.hold(path):
        holder = db.held(path)
        assert holder is not None and db.held(tmp_path / "wh" / "." / "pipeline.duckdb") is holder
        with db.connect(path) as con:
            con.execute("CREATE TABLE marts.t AS SELECT 42 AS x")
            con.execute("CREATE TEMP TABLE scratch AS SELECT 1")
        # read-only inside the hold is a connection to the held database, not a refused second open
        with db.connect(path, read_only=True) as con:
            assert con.execute("SELECT x FROM marts.t").fetchall() == [(42,)]
            # each connection has its own temp tables and the macros
            assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'scratch'").fetchall() == [(0,)]
            assert con.execute("SELECT clean_text('  a  b ')").fetchall() == [("a b",)]
        with db.hold(path):  # nested: the same hold
            assert db.held(path) is holder
        assert db.held(path) is holder
        # no other process can open the file meanwhile
        assert subprocess.run([sys.executable, *other_process], capture_output=True).returncode != 0
    assert db.held(path) is None
    subprocess.run([sys.executable, *other_process], check=True)
    with db.connect(path, read_only=True) as con:
        assert con.execute("SELECT x FROM marts.t").fetchall() == [(42,)]


def test_a_dagster_run_holds_the_pipeline_database_for_its_steps(tmp_path):
    import dagster as dg

    from warehouse.resources import Warehouse

    seen = []

    @dg.asset
    def first_step(warehouse: Warehouse) -> None:
        seen.append(db.held(warehouse.pipeline_db))

    @dg.asset(deps=[first_step])
    def second_step(warehouse: Warehouse) -> None:
        seen.append(db.held(warehouse.pipeline_db))

    warehouse = Warehouse(landing_dir=str(tmp_path / "landing"), warehouse_dir=str(tmp_path / "wh"),
                          pseudonym_key="k" * 32)
    assert dg.materialize([first_step, second_step], resources={"warehouse": warehouse}).success
    assert seen[0] is not None and seen[1] is seen[0]  # one open database for the run's steps
    assert db.held(warehouse.pipeline_db) is None  # released when the run ends
