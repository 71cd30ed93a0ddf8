"""The national deployment (assets/national.py, pipelines/national.py): provinces as partitions, each a whole run
of its own in its own process and database, then one national identity that counts a person registered in two
provinces once. Real generated landing zones, real Dagster runs, real DuckDB files."""

import json
import shutil
import threading
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.national import PROVINCES, left_out, provinces_delivered
from pipelines.cli import RunFailed, main
from pipelines.national import defs, national_summary, province_landing_sensor, run_national
from sample.generator import generate
from warehouse.lock import writer_lock
from warehouse.partitions import SNAPSHOTS
from tests.conftest import hold_lock_elsewhere
from warehouse.resources import NationalWarehouse

DAY = date(2025, 6, 8)
KEY = "national-test-key-0123456789abcdef"  # `jamsostek run` refuses keys under 32 bytes
MOVED = 6  # people of province 74 whose BPU registration province 75 delivers too


def _warehouse(root: Path, **settings) -> NationalWarehouse:
    """The generator's samples all live in Kendari: a second "province" of them reports Kendari's rate too."""
    settings.setdefault("disclosure_threshold", 1)
    settings.setdefault("province_areas", "75=74.71")
    return NationalWarehouse(landing_dir=str(root / "landing"), warehouse_dir=str(root / "warehouse"),
                             pseudonym_key=KEY, linkage_model="fixed:linkage_model.json", **settings)


def _nik_agrees(frame: pl.DataFrame) -> pl.Expr:
    """The NIK's birth date (day + 40 for women) is the record's: the NIK is trusted and links by itself."""
    day = pl.col("nik").str.slice(6, 2).cast(pl.Int32) - pl.when(pl.col("jenis_kelamin") == "P").then(40).otherwise(0)
    born = pl.col("tanggal_lahir").str.to_date(strict=False)
    return ((pl.col("nik").str.len_chars() == 16) & (day == born.dt.day())
            & (pl.col("nik").str.slice(8, 2).cast(pl.Int32) == born.dt.month())
            & (pl.col("nik").str.slice(10, 2).cast(pl.Int32) == born.dt.year() % 100))


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """Two provinces' deliveries; 75's BPU file also carries MOVED active participants of 74 (same NIK, name,
    birth date and KPJ): one person each, in two provinces. Run through `run_national`, two provinces at once."""
    root = tmp_path_factory.mktemp("national")
    warehouse = _warehouse(root)
    for province, seed in (("74", 74), ("75", 75)):
        generate(warehouse.landing / province, root / "truth" / province, DAY, seed=seed, scale=0.01)
    bpu_74 = warehouse.landing / "74" / DAY.isoformat() / "bpu_participants.csv"
    bpu_75 = warehouse.landing / "75" / DAY.isoformat() / "bpu_participants.csv"
    rows = pl.read_csv(bpu_74, infer_schema=False)
    moved = (rows.filter((pl.col("status") == "aktif") & (pl.col("iuran_dibayar_sampai") >= DAY.isoformat())
                         & (pl.col("tanggal_daftar") <= DAY.isoformat()) & _nik_agrees(rows))
             .unique("nik", keep="first", maintain_order=True).head(MOVED))
    assert moved.height == MOVED
    pl.concat([pl.read_csv(bpu_75, infer_schema=False), moved]).write_csv(bpu_75)
    provinces = run_national(warehouse, DAY, parallel=2)
    return warehouse, provinces, moved


def test_each_province_runs_on_its_own_database_and_publishes(national):
    warehouse, provinces, _ = national
    assert provinces == ["74", "75"]
    for province in provinces:
        folder = Path(warehouse.warehouse_dir) / "provinces" / province
        with duckdb.connect(str(folder / "analytics.duckdb"), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM coverage_by_region WHERE snapshot_date = ?", [DAY]).fetchone()[0] > 0
        with duckdb.connect(str(folder / "pipeline.duckdb"), read_only=True) as con:
            sources = {s for (s,) in con.execute("SELECT DISTINCT source FROM staging.registrations").fetchall()}
        assert sources == {"pu_workers", "bpu_participants", "jakon_workers"}  # its own rows, not prefixed


def test_a_person_registered_in_two_provinces_counts_once(national):
    warehouse, _, moved = national
    national_db = Path(warehouse.warehouse_dir) / "national.duckdb"
    own = {}
    for province in ("74", "75"):
        with duckdb.connect(str(Path(warehouse.warehouse_dir) / "provinces" / province / "pipeline.duckdb"),
                            read_only=True) as con:
            own[province] = con.execute("SELECT count(*), count(*) FILTER (WHERE is_active) FROM marts.workers "
                                        "WHERE snapshot_date = ?", [DAY]).fetchone()
    with duckdb.connect(str(national_db), read_only=True) as con:
        # each moved registration: its copy in 75 and its original in 74 are one person
        pairs = con.execute("""
            WITH moved AS (SELECT unnest($kpj) AS kpj)
            SELECT a.person_id = b.person_id FROM moved
            JOIN identity.record_links a ON a.snapshot_date = $d AND a.record_key = '74/bpu:' || moved.kpj
            JOIN identity.record_links b ON b.snapshot_date = $d AND b.record_key = '75/bpu:' || moved.kpj""",
                            {"kpj": moved["kpj"].to_list(), "d": DAY}).fetchall()
        persons, covered = con.execute("SELECT count(*), count(*) FILTER (WHERE is_active) FROM marts.workers "
                                       "WHERE snapshot_date = ?", [DAY]).fetchone()
        by_runs, counted_once = con.execute("""SELECT sum(covered_by_province_runs), sum(covered_persons)
                                               FROM marts.province_coverage WHERE snapshot_date = ?""", [DAY]).fetchone()
        across = con.execute("""SELECT count(*) FROM (SELECT person_id FROM identity.record_links
                                WHERE snapshot_date = ? GROUP BY ALL
                                HAVING count(DISTINCT split_part(source, '/', 1)) > 1)""", [DAY]).fetchone()[0]
    assert pairs == [(True,)] * MOVED
    assert across == MOVED  # two independently generated provinces share nobody else
    assert persons == own["74"][0] + own["75"][0] - MOVED
    assert covered == own["74"][1] + own["75"][1] - MOVED == counted_once
    assert by_runs - counted_once == MOVED  # what summing the province runs would overcount
    text = national_summary(warehouse, DAY)
    assert f"counting each person once, {counted_once:,}. The difference, +{MOVED:,}, is people" in text


def _national_step(warehouse: NationalWarehouse, day: date) -> str | None:
    """Materialise the national steps alone for `day`; the first failed step's message, or None."""
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(SNAPSHOTS, [day.isoformat()])
    result = defs.resolve_job_def("national_job").execute_in_process(
        partition_key=day.isoformat(), instance=instance, raise_on_error=False, resources={"warehouse": warehouse})
    failed = [e for e in result.all_events if e.is_step_failure]
    return failed[0].step_failure_data.error.message if failed else None


def test_the_national_step_refuses_a_province_without_its_run(tmp_path):
    warehouse = _warehouse(tmp_path)
    generate(warehouse.landing / "74", tmp_path / "truth", DAY, seed=1, scale=0.002)
    assert "province 74 delivered 2025-06-08 but has no database" in _national_step(warehouse, DAY)
    assert not (Path(warehouse.warehouse_dir) / "provinces").exists()
    # its database holds another snapshot only: still no run of this one, and the national step says so
    run_national(warehouse, DAY)
    later = date(2025, 7, 8)
    shutil.copytree(warehouse.landing / "74" / DAY.isoformat(), warehouse.landing / "74" / later.isoformat())
    assert "province 74 delivered 2025-07-08 but its database" in _national_step(warehouse, later)
    assert _national_step(warehouse, DAY) is None  # the snapshot it did run links again, idempotent


def test_a_failed_province_run_names_the_province_and_its_reason(tmp_path):
    warehouse = _warehouse(tmp_path)
    generate(warehouse.landing / "74", tmp_path / "truth", DAY, seed=1, scale=0.002)
    pu = warehouse.landing / "74" / DAY.isoformat() / "pu_workers.csv"
    pu.write_text("this,is,not,the,pu,header\n1,2,3,4,5,6\n")
    with pytest.raises(RunFailed, match=r"province 74") as failed:
        run_national(warehouse, DAY)
    assert "pu_workers" in str(failed.value)  # the province's own reason travels up, naming the file
    assert not (Path(warehouse.warehouse_dir) / "national.duckdb").exists()  # nothing national from a failed province


def test_no_province_delivered_is_a_clear_refusal_and_what_is_left_out_is_named(tmp_path):
    warehouse = _warehouse(tmp_path)
    (warehouse.landing / "74" / "2025-06-01").mkdir(parents=True)  # another date only
    for other in ("not-a-province", "074"):
        (warehouse.landing / other / DAY.isoformat()).mkdir(parents=True)
    assert provinces_delivered(warehouse.landing) == ["74"]
    assert left_out(warehouse.landing, DAY) == [
        "province 74: no delivery of 2025-06-08 (latest: 2025-06-01)",
        "not a province folder (a two-digit Kepmendagri code, e.g. 74): 074, not-a-province"]
    with pytest.raises(RunFailed, match="no province delivered 2025-06-08"):
        run_national(warehouse, DAY)


@pytest.mark.parametrize("areas, expected", [
    ("", "province 73: which regency's coverage rate should its run report? Add it to JAMSOSTEK_PROVINCE_AREAS"),
    ("73=73.71", "JAMSOSTEK_PROVINCE_AREAS gives it '73.71', which is not a region code of"),  # Sultra's reference
    ("73", "JAMSOSTEK_PROVINCE_AREAS='73': '73' is not <two-digit province>=<regency code>"),
    ("74=74.71;73=74.71", "write them comma-separated"),
    ("7=74.71,73=74.71", "'7=74.71' is not <two-digit province>=<regency code>"),
    ("73=74.71,73=74.72", "province 73 is given twice (74.71 and 74.72)"),
])
def test_a_province_without_a_known_area_is_refused_before_it_runs(tmp_path, areas, expected):
    """Another province's run under Kendari's area would publish a report of nobody covered: refused instead."""
    warehouse = _warehouse(tmp_path, province_areas=areas)
    for province in ("73", "74"):  # 74 has an area (JAMSOSTEK_AREA_CODE 74.71 is in it)
        (warehouse.landing / province / DAY.isoformat()).mkdir(parents=True)
    with pytest.raises(RunFailed, match="province 73") as refused:
        run_national(warehouse, DAY)
    assert expected in str(refused.value)
    assert not (Path(warehouse.warehouse_dir) / "provinces").exists()  # refused before any province ran


def test_the_sensor_requests_province_runs_then_the_national_run_once_they_succeeded(tmp_path):
    warehouse = _warehouse(tmp_path)
    for province, seed in (("74", 1), ("75", 2)):
        generate(warehouse.landing / province, tmp_path / "truth" / province, DAY, seed=seed, scale=0.002)
    (warehouse.landing / "76" / "2025-06-01").mkdir(parents=True)  # delivered another date only
    (warehouse.landing / "76" / "2025-06-01" / "pu_workers.csv").write_text("kpj\n")
    with dg.instance_for_test() as instance:
        def tick(cursor=None):
            with dg.build_sensor_context(instance=instance, cursor=cursor,
                                         resources={"warehouse": warehouse}) as context:
                result = province_landing_sensor(context)
            return result, sorted(f"{r.job_name} {r.partition_key}" for r in result.run_requests)

        first, requests = tick()
        assert requests == ["province_job 74|2025-06-08", "province_job 75|2025-06-08", "province_job 76|2025-06-01"]
        added = {r.partitions_def_name: sorted(r.partition_keys) for r in first.dynamic_partitions_requests}
        assert added == {PROVINCES: ["74", "75", "76"], SNAPSHOTS: ["2025-06-01", "2025-06-08"]}
        instance.add_dynamic_partitions(PROVINCES, ["74", "75", "76"])
        instance.add_dynamic_partitions(SNAPSHOTS, ["2025-06-01", "2025-06-08"])
        job = defs.resolve_job_def("province_job")

        def province_run(key: str) -> None:
            assert job.execute_in_process(partition_key=key, instance=instance, resources={"warehouse": warehouse}).success

        province_run("74|2025-06-08")
        second, requests = tick(first.cursor)
        assert requests == []  # 75 has not run yet
        province_run("75|2025-06-08")
        third, requests = tick(second.cursor)
        assert requests == ["national_job 2025-06-08"]  # 76 never delivered that date: it does not hold it back
        fourth, requests = tick(third.cursor)
        assert requests == []
        (warehouse.landing / "75" / DAY.isoformat() / "employers.csv").touch()  # re-delivered
        fifth, requests = tick(fourth.cursor)
        assert requests == ["province_job 75|2025-06-08"]
        province_run("75|2025-06-08")
        sixth, requests = tick(fifth.cursor)
        assert requests == ["national_job 2025-06-08"]  # once its new run succeeded
        assert json.loads(sixth.cursor)["provinces"].keys() == {"74", "75", "76"}


def test_the_national_definitions_load():
    dg.Definitions.validate_loadable(defs)
    assert set(defs.resolve_all_asset_keys()) == {dg.AssetKey(["provinces", "snapshot"]),
                                                  dg.AssetKey(["national", "record_links"]),
                                                  dg.AssetKey(["national", "province_coverage"])}


def test_wait_lets_the_national_run_wait_for_a_busy_province(tmp_path, monkeypatch, capsys):
    """`jamsostek national --wait`: a province warehouse another process holds is waited for, not refused."""
    warehouse = _warehouse(tmp_path)
    generate(warehouse.landing / "74", tmp_path / "truth", DAY, seed=1, scale=0.002)
    for variable, value in (("LANDING_DIR", warehouse.landing_dir), ("WAREHOUSE_DIR", warehouse.warehouse_dir),
                            ("PSEUDONYM_KEY", KEY), ("LINKAGE_MODEL", warehouse.linkage_model),
                            ("DISCLOSURE_THRESHOLD", "1")):
        monkeypatch.setenv(f"JAMSOSTEK_{variable}", value)
    folder = Path(warehouse.warehouse_dir) / "provinces" / "74"
    command = ["national", "--date", DAY.isoformat(), "--parallel", "1"]
    with writer_lock(folder, command="an analyst's script"):
        assert main(command) == 1
    assert "an analyst's script" in capsys.readouterr().err
    held = threading.Event()

    def hold(seconds: float) -> None:
        with writer_lock(folder, command="an analyst's script"):
            held.set()
            time.sleep(seconds)

    holder = threading.Thread(target=hold, args=(5,))
    holder.start()
    held.wait()
    started = time.monotonic()
    assert main([*command, "--wait", "120"]) == 0
    holder.join()
    assert time.monotonic() - started > 5
    assert "Provinces run: 74" in capsys.readouterr().out


def test_a_second_national_run_is_refused_while_one_holds_the_national_warehouse(tmp_path, monkeypatch, capsys):
    """A second `jamsostek national` would rewrite the province databases the first one is reading: it is
    refused at once (or waits, with --wait), naming the run that holds the warehouse, and runs nothing."""
    warehouse = _warehouse(tmp_path)
    generate(warehouse.landing / "74", tmp_path / "truth", DAY, seed=1, scale=0.002)
    for variable, value in (("LANDING_DIR", warehouse.landing_dir), ("WAREHOUSE_DIR", warehouse.warehouse_dir),
                            ("PSEUDONYM_KEY", KEY), ("LINKAGE_MODEL", warehouse.linkage_model)):
        monkeypatch.setenv(f"JAMSOSTEK_{variable}", value)
    holder = hold_lock_elsewhere(Path(warehouse.warehouse_dir), "jamsostek national --date 2025-06-08")
    try:
        assert main(["national", "--date", DAY.isoformat()]) == 1
    finally:
        holder.kill()
        holder.wait()
    said = capsys.readouterr().err
    assert "is being written by process" in said and "jamsostek national --date 2025-06-08" in said
    assert not (Path(warehouse.warehouse_dir) / "provinces").exists()  # no province ran


def test_the_national_step_does_not_read_a_province_while_it_is_written(national):
    """While another process writes a province's warehouse, the national step does not attach its database (a
    half-written run, or DuckDB's own lock error): it fails naming the province and the holder, then links
    again once the province is free."""
    warehouse, _, _ = national
    holder = hold_lock_elsewhere(Path(warehouse.warehouse_dir) / "provinces" / "74", "jamsostek run --date x")
    try:
        failed = _national_step(warehouse, DAY)
    finally:
        holder.kill()
        holder.wait()
    assert failed is not None and "province 74:" in failed and "is being written by process" in failed
    assert "jamsostek run --date x" in failed
    assert _national_step(warehouse, DAY) is None
