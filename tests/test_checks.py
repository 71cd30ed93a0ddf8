"""Asset checks: GX suites and reconciliation beside their assets; blocking ones stop what depends on them."""


import dagster as dg
import duckdb
import pytest

from assets.coverage import marts_data_quality
from checks.gx import GreatExpectationsResource
from checks.reconciliation import NOTHING_LOST, REGISTRY_COMPLETE
from checks.suites import ALL_SUITES, STAGED_RULES_HOLD, run_suite
from pipelines.cli import RunFailed, run_snapshot
from pipelines.definitions import defs
from warehouse.partitions import ensure_snapshots
from tests.conftest import SAMPLE_DATE, copy_warehouse, make_warehouse
from tests.landing import copy_sample, snapshot_dir

STAGED = ("employers", "pu_workers", "bpu_participants", "jakon_projects", "jakon_workers", "opd_non_asn", "civil_registry")
MARTS = ("workers", "coverage_by_region", "coverage_by_segment", "segment_overlap", "data_quality")


ALL_CHECKS = list(defs.asset_checks)  # the Definitions' own checks, not a list picked here


def materialise(warehouse, assets=None, selection=None) -> dg.ExecuteInProcessResult:
    """What run_snapshot does (every asset and check of the Definitions), keeping the result to read the check
    evaluations."""
    return dg.materialize(
        assets or [*defs.assets, *ALL_CHECKS], partition_key=SAMPLE_DATE.isoformat(), selection=selection,
        resources={"warehouse": warehouse, "gx": GreatExpectationsResource()}, raise_on_error=False,
        instance=ensure_snapshots(SAMPLE_DATE),
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})


def evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def materialised(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("checks")
    warehouse = make_warehouse(copy_sample(root), root / "warehouse")
    return warehouse, materialise(warehouse)


def test_every_staged_source_and_mart_has_its_checks_in_the_definitions():
    specs = {(s.asset_key.to_user_string(), s.name): s for c in ALL_CHECKS for s in c.check_specs}
    for source in STAGED:
        assert (f"staging/{source}", STAGED_RULES_HOLD) in specs
        assert (f"raw/{source}", "delivery_intact") in specs
    for mart in MARTS:
        assert (f"marts/{mart}", "mart_shape") in specs
    assert len(defs.resolve_asset_graph().asset_check_keys) == len(specs)
    # the description says which kind each one is, and why
    for (asset, name), spec in specs.items():
        assert spec.description.startswith("ERROR, blocking" if spec.blocking else ("WARN", "ERROR, not blocking")), name


def test_contract_sample_passes_every_blocking_check(sample):
    _, result = sample
    assert result.success
    evals = evaluations(result)
    assert len(evals) == len([s for c in ALL_CHECKS for s in c.check_specs])
    assert all(e.passed for e in evals.values() if e.blocking)
    # the sample's keys (K001, NPP001) are not the documented KPJ/NPP shapes, and one BPU row has no NIK: warnings only
    assert sorted(k for k, e in evals.items() if not e.passed) == [
        ("staging/bpu_participants", "source_conventions"), ("staging/employers", "source_conventions"),
        ("staging/pu_workers", "source_conventions"), ("staging/registrations", "identity_trust")]
    assert all(evals[k].severity == dg.AssetCheckSeverity.WARN for k, e in evals.items() if not e.passed)


def test_check_metadata_has_counts_and_masks_personal_values(sample):
    _, result = sample
    evals = evaluations(result)
    pu = evals[("staging/pu_workers", "source_conventions")].metadata
    assert pu["unexpected_total"].value == 4 and pu["rows_validated"].value == 4
    assert "K*** (4 chars)" in pu["unexpected_samples"].value and "K001" not in pu["unexpected_samples"].value
    npp = evals[("staging/employers", "source_conventions")].metadata["unexpected_samples"].value
    assert "'NPP001'" in npp  # an employer number is not personal data
    lost = evals[("marts/data_quality", NOTHING_LOST)].metadata
    assert (lost["rows_received"].value, lost["rows_loaded"].value, lost["rows_quarantined"].value) == (23, 20, 3)
    overlap = evals[("marts/coverage_by_segment", "segment_sum_beside_distinct")].metadata
    assert (overlap["segment_sum_active_workers"].value, overlap["distinct_covered_workers"].value) == (7, 5)


def test_suites_validate_only_their_partition_and_catch_rows_that_slipped_through(sample, tmp_path):
    warehouse, _ = sample
    copy = copy_warehouse(warehouse, tmp_path)
    with duckdb.connect(str(copy.pipeline_db)) as con:
        # a bad row on another date: not this partition's business
        con.execute("""INSERT INTO staging.pu_workers BY NAME
                       SELECT * REPLACE (DATE '2025-06-01' AS snapshot_date, -1 AS upah) FROM staging.pu_workers LIMIT 1""")
    suite = next(s for s in ALL_SUITES if s.asset == ("staging", "pu_workers") and s.name == STAGED_RULES_HOLD)
    gx = GreatExpectationsResource()
    assert run_suite(gx, copy, suite, SAMPLE_DATE).success
    with duckdb.connect(str(copy.pipeline_db)) as con:
        # staging bypassed: a repeated KPJ, a negative wage, an unknown employer, a 10-year-old
        con.execute("""INSERT INTO staging.pu_workers BY NAME
                       SELECT * REPLACE (-1 AS upah, 'NPP404' AS npp, DATE '2015-01-01' AS tanggal_lahir)
                       FROM staging.pu_workers WHERE snapshot_date = DATE '2025-06-08' AND kpj = 'K001'""")
    outcome = run_suite(gx, copy, suite, SAMPLE_DATE)
    failed = {(r.expectation_type, r.column): r.unexpected_count for r in outcome.failed}
    assert failed == {("expect_column_values_to_be_unique", "kpj"): 2,
                      ("expect_column_values_to_be_between", "upah"): 1,
                      ("expect_column_values_to_be_between", "tanggal_lahir"): 1,
                      ("expect_column_values_to_be_null", "npp"): 1}
    samples = {(r.expectation_type, r.column): r.partial_unexpected for r in outcome.failed}
    assert samples[("expect_column_values_to_be_null", "npp")] == ("NPP404",)


def test_nothing_lost_stops_publication_when_a_row_vanishes(sample, tmp_path):
    warehouse, _ = sample
    copy = copy_warehouse(warehouse, tmp_path)
    with duckdb.connect(str(copy.pipeline_db)) as con:
        con.execute("DELETE FROM staging.bpu_participants WHERE source_row = 4")
    result = materialise(copy, selection=dg.AssetSelection.assets(marts_data_quality, ["publish", "analytics"]))
    lost = evaluations(result)[("marts/data_quality", NOTHING_LOST)]
    assert not lost.passed and lost.blocking
    assert lost.description == "received != loaded + quarantined for bpu_participants"
    assert materialised(result) == {"marts/data_quality"}  # analytics.duckdb is not replaced


def test_blocking_check_failure_stops_what_depends_on_it(tmp_path):
    landing = copy_sample(tmp_path)
    registry = landing / "civil_registry" / "workforce_2024-12-31.csv"
    registry.write_text(registry.read_text() + "74.71.01.1005,ASTRONOT,L,3\n")  # an occupation not in the reference
    result = materialise(make_warehouse(landing, tmp_path / "warehouse"))
    assert not result.success
    check = evaluations(result)[("staging/civil_registry", REGISTRY_COMPLETE)]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.description == ("1 of 6 civil_registry rows quarantined (17%); top reason: unknown_pekerjaan. "
                                 "Every Dukcapil row must load: fix the file or the occupation reference, then rerun.")
    done = materialised(result)
    assert "staging/civil_registry" in done and "marts/workers" in done  # what does not depend on it goes on
    assert "marts/coverage_by_region" not in done and "publish/analytics" not in done


def test_run_snapshot_names_the_blocking_check_and_why(tmp_path):
    landing = copy_sample(tmp_path)
    path = snapshot_dir(landing) / "pu_workers.csv"
    path.write_text(path.read_text().replace("2021-01-01", "20210101").replace("2022-02-01", "20220201")
                    .replace("2019-01-01", "20190101"))  # a date shape no locale writes: ambiguous, never guessed
    with pytest.raises(RunFailed) as err:
        run_snapshot(make_warehouse(landing, tmp_path / "warehouse"), SAMPLE_DATE)
    assert "check staging/pu_workers mostly_loaded: 5 of 6 pu_workers rows quarantined (83%)" in str(err.value)
    assert "top reason: invalid_tanggal_mulai" in str(err.value)
    assert "get a complete delivery and rerun" in str(err.value)  # and what to do
    assert "DagsterAssetCheckFailedError" not in str(err.value)


def test_damaged_but_readable_delivery_is_published_with_warnings(tmp_path):
    landing = copy_sample(tmp_path)
    employers = snapshot_dir(landing) / "employers.csv"
    employers.write_bytes(employers.read_text().replace("PT Sultra Jaya", "PT Sultra Jaya Café").encode("cp1252"))
    jakon = snapshot_dir(landing) / "jakon_workers.csv"
    # a row with two fields too many: readable, quarantined as malformed_row (a file cut off would be refused)
    jakon.write_text(jakon.read_text() + "PRJ01,,Baris Rusak,1990-01-01,L,,lebih,lagi\n")
    registry = landing / "civil_registry" / "workforce_2024-12-31.csv"
    registry.write_text(registry.read_text().replace("KARYAWAN SWASTA,P,8", "KARYAWAN SWASTA,P,0"))
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    result = materialise(warehouse)
    assert result.success and "publish/analytics" in materialised(result)
    evals = evaluations(result)
    utf8 = evals[("raw/employers", "delivered_as_utf8")]
    assert not utf8.passed and utf8.severity == dg.AssetCheckSeverity.WARN and "decoded 'é'" in utf8.description
    intact = evals[("raw/jakon_workers", "delivery_intact")]
    assert not intact.passed and intact.severity == dg.AssetCheckSeverity.ERROR and not intact.blocking
    assert intact.description.startswith("2025-06-08/jakon_workers.csv: 1 row(s) with a wrong number of fields")
    village = evals[("marts/coverage_by_region", "villages_within_eligible")]
    assert not village.passed and "74.71.01.1006" in village.description
