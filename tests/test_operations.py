"""Operations as the pipeline's users meet them: the nightly schedule, the landing sensor, folders that are not
there, one writer under the concurrency pool inside one run, monthly series. Backfills through a real
`dagster dev`: tests/test_backfills.py."""

import json
import shutil
import subprocess
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml

from pipelines.cli import RunFailed, run_snapshot
from pipelines.definitions import defs, landing_sensor, nightly_snapshot
from warehouse.partitions import SNAPSHOTS, TIMEZONE, ensure_snapshots, landing_dates
from pipelines.schedules import NIGHTLY_CRON
from pipelines.sensors import PUBLISHED
from tests.conftest import CONTRACT_SAMPLE, SAMPLE_DATE, make_warehouse
from tests.dagster_dev import DAGSTER, PROJECT, assert_one_writer_at_a_time, dagster_environment, landing_with

WITA = ZoneInfo(TIMEZONE)
POOL = "pipeline_db"


# --- the one-writer configuration --------------------------------------------------------------------------

def test_dagster_yaml_limits_every_pool_to_one_op_at_a_time(tmp_path):
    shutil.copy(PROJECT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.global_op_concurrency_default_limit == 1
        config = yaml.safe_load((PROJECT / "dagster.yaml").read_text())
        assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
        # one run at a time: on SQLite storage two runs can both win a freed slot (docs/operations.md)
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
        assert instance.run_retries_enabled and not instance.run_retries_retry_on_asset_or_op_failure
        assert not instance.nux_enabled  # no newsletter prompt over the UI's dialogs


def test_every_step_that_opens_the_pipeline_database_is_in_the_pool():
    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).pools == {POOL}, key.to_user_string()
    checks = [c for c in defs.asset_checks]
    assert checks and all(c.node_def.pool == POOL for c in checks)
    assert {node.definition.pool for node in job.graph.node_dict.values()} == {POOL}


def test_runs_execute_in_one_process_unless_asked():
    for job in (defs.resolve_job_def("snapshot_job"), defs.resolve_implicit_global_asset_job_def()):
        assert job.executor_def.name == "in_process_unless_asked"
        schema = job.executor_def.config_schema.as_field()
        assert schema.default_value == {"in_process": {}}


# --- the nightly schedule ---------------------------------------------------------------------------------

def test_nightly_schedule_is_at_two_in_the_morning_wita():
    schedule = defs.resolve_schedule_def("nightly_snapshot")
    assert schedule.cron_schedule == NIGHTLY_CRON == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Makassar"
    assert schedule.job_name == "snapshot_job"


def test_nightly_schedule_materialises_the_newest_delivered_snapshot(tmp_path):
    landing = landing_with(tmp_path, [date(2025, 6, 1), date(2025, 6, 8), date(2025, 6, 10)])
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    # 02:00 WITA on 9 June is 18:00 UTC on 8 June: the 10 June folder is not due yet
    at = datetime(2025, 6, 8, 18, 0, tzinfo=timezone.utc)
    with dg.instance_for_test() as instance:  # on disk: a schedule's context needs an instance it can refer to
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=at,
                                       resources={"warehouse": warehouse}) as context:
            request = nightly_snapshot(context)
        assert isinstance(request, dg.RunRequest) and request.partition_key == "2025-06-08"
        assert request.tags["jamsostek/trigger"] == "nightly_snapshot"
        # a schedule cannot return partition requests: it adds the partition it runs (the sensor may be off)
        assert instance.get_dynamic_partitions(SNAPSHOTS) == ["2025-06-08"]
        later = datetime(2025, 6, 11, 2, 0, tzinfo=WITA)
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=later,
                                       resources={"warehouse": warehouse}) as context:
            assert nightly_snapshot(context).partition_key == "2025-06-10"
        assert instance.get_dynamic_partitions(SNAPSHOTS) == ["2025-06-08", "2025-06-10"]


def test_nightly_schedule_skips_when_nothing_was_delivered(tmp_path):
    warehouse = make_warehouse(tmp_path / "empty", tmp_path / "warehouse")
    at = datetime(2025, 6, 9, 2, 0, tzinfo=WITA)
    with dg.instance_for_test() as instance, dg.build_schedule_context(
            instance=instance, scheduled_execution_time=at, resources={"warehouse": warehouse}) as context:
        result = nightly_snapshot(context)
        assert instance.get_dynamic_partitions(SNAPSHOTS) == []
    assert isinstance(result, dg.SkipReason) and "No landing folder" in result.skip_message


# --- the landing sensor ----------------------------------------------------------------------------------

def evaluate(warehouse, instance, cursor=None):
    """One tick of the sensor; its partition requests applied to the instance, as the daemon does."""
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"warehouse": warehouse}) as context:
        result = landing_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        assert isinstance(request, dg.AddDynamicPartitionsRequest) and request.partitions_def_name == SNAPSHOTS
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return [r.partition_key for r in result.run_requests or []], result.cursor, result


def test_sensor_requests_each_delivered_folder_once_and_only_folders(tmp_path):
    landing = landing_with(tmp_path, [date(2025, 6, 8), date(2025, 1, 10)])
    (landing / "2099-01-01").mkdir()  # dated in the future: waits
    (landing / "notes").mkdir()  # not a snapshot folder
    (landing / "2025-02-30").mkdir()  # not a date
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    with dg.DagsterInstance.ephemeral() as instance:
        requested, cursor, result = evaluate(warehouse, instance)
        assert requested == ["2025-01-10", "2025-06-08"]  # oldest first
        # the partitions are exactly the delivered folders (the future one waits for its date)
        assert [r.partition_keys for r in result.dynamic_partitions_requests] == [["2025-01-10", "2025-06-08"]]
        assert sorted(instance.get_dynamic_partitions(SNAPSHOTS)) == ["2025-01-10", "2025-06-08"]
        requested, cursor, result = evaluate(warehouse, instance, cursor)
        assert requested == [] and "No new or changed landing folder" in result.skip_reason.skip_message
        assert not result.dynamic_partitions_requests  # nothing new to add

        shutil.copytree(CONTRACT_SAMPLE / SAMPLE_DATE.isoformat(), landing / "2025-03-03")  # a new delivery
        requested, cursor, _ = evaluate(warehouse, instance, cursor)
        assert requested == ["2025-03-03"]
        assert sorted(instance.get_dynamic_partitions(SNAPSHOTS)) == ["2025-01-10", "2025-03-03", "2025-06-08"]

        employers = landing / "2025-01-10" / "employers.csv"  # a re-delivered file
        employers.write_text(employers.read_text() + "\n")
        requested, cursor, _ = evaluate(warehouse, instance, cursor)
        assert requested == ["2025-01-10"]


def test_sensor_reruns_the_snapshots_a_newer_registry_file_applies_to(tmp_path):
    landing = landing_with(tmp_path, [date(2025, 3, 1), date(2025, 4, 1), date(2025, 6, 8)])
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    with dg.DagsterInstance.ephemeral() as instance:
        _, cursor, _ = evaluate(warehouse, instance)
        registry = landing / "civil_registry"
        shutil.copy(registry / "workforce_2024-12-31.csv", registry / "workforce_2025-03-31.csv")
        requested, cursor, _ = evaluate(warehouse, instance, cursor)
        assert requested == ["2025-04-01", "2025-06-08"]  # 1 March still uses 2024-12-31


def test_sensor_switched_on_late_leaves_published_snapshots_alone(tmp_path):
    landing = landing_with(tmp_path, [date(2025, 1, 10), date(2025, 6, 8)])
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(PUBLISHED, partition="2025-06-08"))
        requested, cursor, _ = evaluate(warehouse, instance)
        assert requested == ["2025-01-10"]
        assert set(json.loads(cursor)) == {"2025-01-10", "2025-06-08"}
        # the published snapshot still becomes a partition: the UI lists it, materialised
        assert sorted(instance.get_dynamic_partitions(SNAPSHOTS)) == ["2025-01-10", "2025-06-08"]


def test_sensor_and_schedule_target_the_snapshot_job_with_a_run_key():
    sensor = defs.resolve_sensor_def("landing_sensor")
    assert sensor.job_name == "snapshot_job" and sensor.minimum_interval_seconds == 60


def test_snapshots_command_registers_delivered_folders_and_keeps_old_history(tmp_path, monkeypatch, capsys):
    """`jamsostek snapshots` on an instance from before (daily partitions): the delivered folders become its
    partitions, their materialisations recorded under the daily keys count for them; --prune drops the rest."""
    from pipelines.cli import main

    landing = landing_with(tmp_path, [date(2025, 1, 10), date(2025, 6, 8)])
    (landing / "2099-01-01").mkdir()  # dated in the future: not yet
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    for name, value in {"DAGSTER_HOME": home, "JAMSOSTEK_LANDING_DIR": landing,
                        "JAMSOSTEK_WAREHOUSE_DIR": tmp_path / "warehouse"}.items():
        monkeypatch.setenv(name, str(value))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(PUBLISHED, partition="2025-06-08"))
        instance.add_dynamic_partitions(SNAPSHOTS, ["2025-06-09"])  # a partition whose folder was removed
    assert main(["snapshots"]) == 0
    out = capsys.readouterr().out
    assert "added: 2025-01-10, 2025-06-08" in out and "without a landing folder: 2025-06-09" in out
    assert main(["snapshots", "--prune"]) == 0
    assert "removed (no landing folder): 2025-06-09" in capsys.readouterr().out
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert sorted(instance.get_dynamic_partitions(SNAPSHOTS)) == ["2025-01-10", "2025-06-08"]
        # the old history is kept: the published partition shows as materialised
        assert set(instance.get_materialized_partitions(PUBLISHED)) == {"2025-06-08"}
    monkeypatch.delenv("DAGSTER_HOME")
    assert main(["snapshots"]) == 1 and "DAGSTER_HOME is not set" in capsys.readouterr().err


# --- dates with no landing folder --------------------------------------------------------------------------

def test_a_date_without_a_landing_folder_fails_by_name_and_writes_nothing(tmp_path):
    """Only dates with a folder are snapshots: the sensor and the schedule never request another date; a
    backfill or `jamsostek run` that asks for one fails at raw.* with the folder's name, and writes nothing."""
    landing = landing_with(tmp_path, [SAMPLE_DATE])
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    run_snapshot(warehouse, SAMPLE_DATE)
    with pytest.raises(RunFailed) as err:
        run_snapshot(warehouse, date(2025, 6, 9))
    assert f"{landing / '2025-06-09'}: no landing folder for snapshot 2025-06-09" in str(err.value)
    with duckdb.connect(str(warehouse.pipeline_db), read_only=True) as con:
        tables = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                             "WHERE 'snapshot_date' IN (SELECT column_name FROM duckdb_columns() c "
                             "WHERE c.table_oid = duckdb_tables.table_oid)").fetchall()
        written = {t: con.execute(f"SELECT count(*) FROM {t} WHERE snapshot_date = DATE '2025-06-09'").fetchall()[0][0]
                   for (t,) in tables}
    assert written and not any(written.values()), written
    assert landing_dates(landing) == [SAMPLE_DATE]


# --- the pool inside one multiprocess run ------------------------------------------------------------------

@pytest.mark.slow
def test_steps_of_one_multiprocess_run_wait_for_the_pool(tmp_path):
    """Two independent raw assets (and their checks) in one run on the multiprocess executor: Dagster would start
    both at once; the pool makes the second wait until the first has finished."""
    env = dagster_environment(tmp_path, landing_with(tmp_path, [SAMPLE_DATE]))
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        ensure_snapshots(SAMPLE_DATE, instance=instance)  # what the landing sensor does for a delivered folder
    # `dagster asset materialize`, the CLI's way to materialise a selection on the instance of $DAGSTER_HOME
    run = subprocess.run([str(DAGSTER), "asset", "materialize", "-m", "pipelines.definitions", "--select",
                          "raw/employers,raw/pu_workers", "--partition", SAMPLE_DATE.isoformat(), "--config-json",
                          json.dumps({"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}})],
                         cwd=PROJECT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        (record,) = instance.get_runs()
        assert record.status == dg.DagsterRunStatus.SUCCESS
        messages = [r.user_message or "" for r in instance.all_logs(record.run_id)]
        intervals = assert_one_writer_at_a_time(instance, [record.run_id])
    assert any("multiprocess executor" in m for m in messages)
    assert any(f"blocked by limit for pool {POOL}" in m for m in messages)
    assert {step for *_, step in intervals} >= {"raw__employers", "raw__pu_workers"}


# --- a series of snapshots from the generator --------------------------------------------------------------

def test_monthly_series_grows_churns_and_keeps_the_contract(tmp_path):
    from sample.generator import COLUMNS
    from sample.series import generate_series, month_dates

    written = generate_series(tmp_path / "landing", tmp_path / "truth", date(2025, 6, 8), 6, seed=7, scale=0.02)
    dates = month_dates(date(2025, 6, 8), 6)
    assert [w["snapshot_date"] for w in written] == [d.isoformat() for d in dates]
    assert landing_dates(tmp_path / "landing") == dates
    registry = sorted(p.name for p in (tmp_path / "landing" / "civil_registry").iterdir())
    assert registry == ["workforce_2024-12-31.csv"]  # January to June all use the December cut-off
    for source in ("pu_workers", "bpu_participants", "jakon_workers"):
        counts = [w[source] for w in written]
        assert counts == sorted(counts) and counts[0] < counts[-1], (source, counts)  # registrations arrive
    for d in dates:
        for source, columns in COLUMNS.items():
            if source != "civil_registry":
                header = (tmp_path / "landing" / d.isoformat() / f"{source}.csv").read_text().splitlines()[0]
                assert header.split(",") == list(columns)

    def bpu(d: date) -> pl.DataFrame:
        return pl.read_csv(tmp_path / "landing" / d.isoformat() / "bpu_participants.csv", infer_schema=False)

    first, last = bpu(dates[0]), bpu(dates[-1])
    paid_then = first.join(last, on="kpj", suffix="_last").filter(
        pl.col("iuran_dibayar_sampai") != pl.col("iuran_dibayar_sampai_last"))
    assert paid_then.height > 0  # contributions moved on between the months
    # a row keeps the date format it was written in
    slashed = paid_then.filter(pl.col("iuran_dibayar_sampai_last").str.contains("/"))
    assert slashed["iuran_dibayar_sampai"].str.contains(r"^\d{2}/\d{2}/\d{4}$").all()
    # churn: somebody paying in January has lapsed by June
    jan = dates[0]
    lapsed = paid_then.with_columns(pl.coalesce(*(pl.col("iuran_dibayar_sampai_last").str.to_date(f, strict=False)
                                                  for f in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"))).alias("paid"))
    assert lapsed.filter((pl.col("paid") >= jan) & (pl.col("paid") < dates[-1])).height > 0

    again = tmp_path / "again"
    generate_series(again / "landing", again / "truth", date(2025, 6, 8), 6, seed=7, scale=0.02)
    for d in dates:  # the same seed gives the same files
        assert (again / "landing" / d.isoformat() / "pu_workers.csv").read_bytes() == \
               (tmp_path / "landing" / d.isoformat() / "pu_workers.csv").read_bytes()


def test_a_series_run_through_the_pipeline_shows_the_trend(tmp_path):
    from sample.series import generate_series

    generate_series(tmp_path / "landing", tmp_path / "truth", date(2025, 6, 8), 3, seed=3, scale=0.02)
    warehouse = make_warehouse(tmp_path / "landing", tmp_path / "warehouse")
    for d in landing_dates(warehouse.landing):
        run_snapshot(warehouse, d)
    with duckdb.connect(str(warehouse.analytics_db), read_only=True) as con:
        rows = con.execute("""SELECT snapshot_date, coverage_pct, target_pct_this_year, growth_window_days,
                                     covered_workers_growth_pct_per_year, required_growth_pct_per_year
                              FROM coverage_trend ORDER BY snapshot_date""").fetchall()
    assert [r[0] for r in rows] == [date(2025, 4, 8), date(2025, 5, 8), date(2025, 6, 8)]
    assert all(r[2] == 32.15 for r in rows)
    assert rows[0][3] is None and rows[2][3] == 61  # growth from 8 April, the earliest of the year before
    assert rows[2][4] is not None and rows[2][5] > 0
    assert 30 < rows[2][1] < 40  # calibrated: 35.05% in Kendari on 8 June 2025
