"""Issue 12's tables on a hand-written landing zone (tests/data/targeting_sample, README there), figures worked out
by hand. Read from the marts of the pipeline database: the open tier suppresses cells this small."""

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import run_snapshot
from tests.conftest import make_warehouse

ZONE = Path(__file__).parent / "data" / "targeting_sample"
D1, D2 = date(2025, 6, 8), date(2025, 7, 8)


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    root = tmp_path_factory.mktemp("targeting")
    shutil.copytree(ZONE, root / "landing")
    warehouse = make_warehouse(root / "landing", root / "warehouse")
    run_snapshot(warehouse, D1)
    run_snapshot(warehouse, D2)
    with duckdb.connect(str(warehouse.pipeline_db), read_only=True) as con:
        yield con


def q(con, sql, d=D1):
    return con.execute(sql, [d]).fetchall()


def test_unassigned_rows_make_villages_add_up(marts):
    # Citra has no domicile: her NIK's district 74.71.02 places her, in no village
    rows = {(lvl, code): (e, c, u) for lvl, code, e, c, u in q(marts, """
        SELECT level, region_code, eligible_workforce, covered_workers, uncovered_workers FROM marts.coverage_by_region
        WHERE snapshot_date = ? AND region_code IN ('74.71', '74.71.01', '74.71.02', '74.71.01.1005', '74.71.01.1006',
                                                     '74.71.02.1009')""")}
    assert rows == {
        ("city", "74.71"): (30, 7, 23), ("district", "74.71.01"): (18, 4, 14), ("district", "74.71.02"): (12, 3, 9),
        ("village", "74.71.01.1005"): (10, 2, 8), ("village", "74.71.01.1006"): (8, 2, 6),
        ("village", "74.71.02.1009"): (12, 2, 10),
        ("unassigned", "74.71.01"): (0, 0, 0), ("unassigned", "74.71.02"): (0, 1, -1)}
    bands = dict(q(marts, "SELECT region_code, ucj_category FROM marts.coverage_by_region WHERE snapshot_date = ? "
                          "AND level IN ('city', 'district', 'village') AND eligible_workforce > 0"))
    # 7/30 = 23.3%, 4/18 = 22.2%, 3/12 = 25% (a band starts at its minimum), 2/10, 2/8 = 25%, 2/12
    assert bands == {"74.71": "sangat rendah", "74.71.01": "sangat rendah", "74.71.02": "rendah",
                     "74.71.01.1005": "sangat rendah", "74.71.01.1006": "rendah", "74.71.02.1009": "sangat rendah"}


def test_unknown_district_is_unknown_never_a_region(marts):
    # Yohanis's NIK names district 74.71.30, which does not exist: not in the city, reported as unknown
    assert q(marts, "SELECT regency_code, covered_workers FROM marts.covered_outside_area WHERE snapshot_date = ?") == [
        ("unknown", 1)]
    assert q(marts, "SELECT count(*) FROM marts.coverage_by_region WHERE snapshot_date = ? AND region_code LIKE '74.71.30%'") == [(0,)]
    assert q(marts, "SELECT count(*) FROM marts.workers WHERE snapshot_date = ? AND region_code = ''") == [(0,)]


def test_village_targets(marts):
    assert q(marts, """SELECT rank, village_code, uncovered_workers, district_unassigned_covered_workers,
                              uncovered_workers_at_least, ucj_category
                       FROM marts.village_targets WHERE snapshot_date = ? AND rank <= 3 ORDER BY rank""") == [
        (1, "74.71.02.1009", 10, 1, 9, "sangat rendah"), (2, "74.71.01.1005", 8, 0, 8, "sangat rendah"),
        (3, "74.71.01.1006", 6, 0, 6, "rendah")]


def test_coverage_by_sex(marts):
    # eligible L: 6 (1005) + 12 (1009); P: 4 + 8. Covered L: Andi, Budi, Rudi, Agus; P: Citra, Dewi, Hasnah
    assert q(marts, "SELECT region_code, sex, eligible_workforce, covered_workers FROM marts.coverage_by_sex "
                    "WHERE snapshot_date = ? ORDER BY level, region_code, sex") == [
        ("74.71", "L", 18, 4), ("74.71", "P", 12, 3),
        ("74.71.01", "L", 6, 2), ("74.71.01", "P", 12, 2), ("74.71.02", "L", 12, 2), ("74.71.02", "P", 0, 1)]


def test_coverage_by_occupation_estimate(marts):
    got = {o: (e, c) for o, e, c in q(marts, "SELECT occupation, eligible_workforce, covered_workers_estimate "
                                             "FROM marts.coverage_by_occupation WHERE snapshot_date = ?")}
    # Andi, Budi: swasta KBLI 47111 -> KARYAWAN SWASTA; Citra: swasta KBLI 03111 -> BURUH NELAYAN/PERIKANAN;
    # Dewi: instansi -> KARYAWAN HONORER; Hasnah: Pedagang Pasar -> PEDAGANG; Rudi: Tukang Servis HP -> unmapped;
    # Agus: JAKON -> KONSTRUKSI. La Ode Rahim (Nelayan) lapsed: nobody covered among the 10 fishermen.
    assert got == {"KARYAWAN SWASTA": (10, 2), "BURUH NELAYAN/PERIKANAN": (2, 1), "KARYAWAN HONORER": (3, 1),
                   "PEDAGANG": (5, 1), "NELAYAN/PERIKANAN": (10, 0), "KONSTRUKSI": (0, 1), "unmapped": (0, 1)}


def test_employer_compliance_one_employer_of_each_pds_kind(marts):
    assert q(marts, """SELECT npp, declared_workers, active_workers, unregistered_workers, wage_floor,
                              workers_below_wage_floor, programs_required, programs_missing, pds_tenaga_kerja,
                              pds_upah, pds_program, inspection_rank
                       FROM marts.employer_compliance WHERE snapshot_date = ? ORDER BY npp""") == [
        # Budi earns 2,000,000 < Kendari's UMK 2025 of 3,314,389
        ("NPP00001", 2, 2, 0, 3_314_389, 1, "JHT,JKK,JKM", "", False, True, False, 2),
        # besar requires JP; Citra holds JKK, JKM, JHT
        ("NPP00002", 1, 1, 0, 3_314_389, 0, "JHT,JKK,JKM,JP", "JP", False, False, True, 3),
        # declares 3, registers Dewi only
        ("NPP00003", 3, 1, 2, 3_314_389, 0, "JHT,JKK,JKM,JP", "", True, False, False, 1)]


def test_opd_staff_partly_covered(marts):
    assert q(marts, """SELECT kode_opd, staff_on_roster, staff_matched, staff_covered, staff_not_covered, staff_not_matched
                       FROM marts.opd_coverage WHERE snapshot_date = ? ORDER BY kode_opd""") == [
        ("DINKES", 3, 2, 1, 2, 1), ("DISHUB", 2, 2, 2, 0, 0)]
    # Agus's roster row has no NIK: matched by name, birth date and sex
    assert q(marts, "SELECT match_method FROM marts.opd_staff WHERE snapshot_date = ? AND source_row = 4") == [
        ("name_birth_date",)]
    # by the second snapshot La Ode Rahim paid again
    assert q(marts, "SELECT staff_covered FROM marts.opd_coverage WHERE snapshot_date = ? AND kode_opd = 'DINKES'",
             D2) == [(2,)]


def test_bpu_lapse(marts):
    # Hasnah, Rudi paid up; La Ode Rahim lapsed 19 days (and covered nowhere else); Wa Ode Sitti 128 days
    assert q(marts, """SELECT region_code, bpu_participants, paid_up_participants, lapsed_1_30_days, lapsed_31_60_days,
                              lapsed_61_90_days, lapsed_over_90_days, closed_participants, lapsed_90_days_uncovered
                       FROM marts.bpu_lapse WHERE snapshot_date = ? AND level IN ('city', 'village')
                       ORDER BY region_code""") == [
        ("74.71", 4, 2, 1, 0, 0, 1, 0, 1), ("74.71.01.1005", 1, 0, 0, 0, 0, 1, 0, 0),
        ("74.71.01.1006", 1, 1, 0, 0, 0, 0, 0, 0), ("74.71.02.1009", 2, 1, 1, 0, 0, 0, 0, 1)]


def test_newly_covered_and_lost_since_previous_snapshot(marts):
    assert q(marts, "SELECT segment, newly_covered_workers FROM marts.coverage_changes WHERE snapshot_date = ?") == [
        ("ALL", None), ("PU", None), ("BPU", None), ("JAKON", None)]
    # Budi's job ended (PU lost), La Ode Rahim paid again (BPU new)
    assert q(marts, """SELECT segment, days_since_previous_snapshot, covered_workers_before, covered_workers_now,
                              newly_covered_workers, lost_coverage_workers
                       FROM marts.coverage_changes WHERE snapshot_date = ?""", D2) == [
        ("ALL", 30, 7, 7, 1, 1), ("PU", 30, 4, 3, 0, 1), ("BPU", 30, 2, 3, 1, 0), ("JAKON", 30, 1, 1, 0, 0)]


def test_no_region_outside_the_reference_list(marts):
    """Every region code any published mart shows is a Kepmendagri code of the reference list, or a named marker."""
    markers = {"unknown", "other_province", "outside_area"}
    columns = q(marts, """SELECT table_name, column_name FROM duckdb_columns()
                          WHERE schema_name = 'marts' AND table_name <> 'workers' AND ? IS NOT NULL
                            AND regexp_matches(column_name, '(region|village|district|regency)_code$')""")
    assert len(columns) >= 8
    for table, column in columns:
        strays = q(marts, f"""SELECT DISTINCT "{column}" FROM marts.{table} WHERE snapshot_date = ?
                              AND "{column}" IS NOT NULL AND "{column}" NOT IN (SELECT code FROM reference.regions)""")
        assert {v for (v,) in strays} <= markers, (table, column, strays)
