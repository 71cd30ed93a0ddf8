"""A landing zone written by hand from the contract (not by our generator), with answers worked out by hand."""

import duckdb
import pytest

from tests.conftest import SAMPLE_DATE


@pytest.fixture(scope="module")
def analytics(contract_run):
    with duckdb.connect(str(contract_run.analytics_db), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def restricted(contract_run):
    """The person-level tier: workers and record_links under keyed pseudonyms."""
    with duckdb.connect(str(contract_run.restricted_db), read_only=True) as con:
        yield con


def rows(con, sql):
    return con.execute(sql, [SAMPLE_DATE]).fetchall()


def test_city_coverage_counts_people_once(analytics):
    # 4 covered residents (A: PU+BPU, B: PU+JAKON, C: JAKON, F: BPU) over 10+8+6 eligible;
    # the PNS and the students in the registry are not eligible; the 2025-06-30 registry is after the snapshot.
    assert rows(analytics, "SELECT eligible_workforce, covered_workers, uncovered_workers, coverage_pct "
                           "FROM coverage_by_region WHERE snapshot_date = ? AND level = 'city'") == [(24, 4, 20, pytest.approx(100 * 4 / 24))]


def test_districts_and_villages(analytics):
    got = {code: (e, c) for code, e, c in rows(analytics, """
        SELECT region_code, eligible_workforce, covered_workers FROM coverage_by_region
        WHERE snapshot_date = ? AND level IN ('district', 'village')
          AND region_code IN ('74.71.01', '74.71.02', '74.71.01.1005', '74.71.01.1006', '74.71.02.1009')""")}
    # B is known only by the district in her NIK (74.71.02): her district counts her, no village does.
    assert got == {"74.71.01": (18, 2), "74.71.02": (6, 2), "74.71.01.1005": (10, 1),
                   "74.71.01.1006": (8, 1), "74.71.02.1009": (6, 1)}


def test_segments(analytics):
    assert rows(analytics, "SELECT segment, registrations, active_registrations, active_workers, exclusive_workers "
                           "FROM coverage_by_segment WHERE snapshot_date = ? ORDER BY segment") == [
        ("BPU", 4, 3, 3, 2), ("JAKON", 4, 2, 2, 1), ("PU", 6, 2, 2, 0)]
    assert dict(rows(analytics, "SELECT segments, workers FROM segment_overlap WHERE snapshot_date = ?")) == {
        "BPU": 2, "BPU+PU": 1, "JAKON": 1, "JAKON+PU": 1}


def test_covered_outside_area_reported_apart(analytics):
    assert rows(analytics, "SELECT regency_code, covered_workers FROM covered_outside_area WHERE snapshot_date = ?") == [("74.02", 1)]


def test_quarantine_reasons_and_nothing_lost(analytics):
    quarantined = rows(analytics, "SELECT source, reason, rows_quarantined FROM data_quality "
                                  "WHERE snapshot_date = ? AND reason <> 'ok' ORDER BY ALL")
    assert quarantined == [("jakon_workers", "unknown_nomor_proyek", 1),
                           ("pu_workers", "invalid_tanggal_lahir+missing_kpj", 1),
                           ("pu_workers", "unknown_npp", 1)]
    per_source = dict(rows(analytics, "SELECT source, sum(rows_loaded) + sum(rows_quarantined) FROM data_quality "
                                      "WHERE snapshot_date = ? GROUP BY source"))
    assert per_source == {"employers": 2, "pu_workers": 6, "bpu_participants": 4, "jakon_projects": 2,
                          "jakon_workers": 4, "opd_non_asn": 0, "civil_registry": 5}


def test_record_links_cover_every_loaded_worker_row(restricted):
    links = rows(restricted, "SELECT source, count(*), count(DISTINCT person_key) FROM record_links "
                            "WHERE snapshot_date = ? GROUP BY source ORDER BY source")
    assert links == [("bpu_participants", 4, 4), ("jakon_workers", 3, 3), ("pu_workers", 4, 4)]
    # A's PU and BPU rows share a valid NIK: one person, linked by NIK
    same = rows(restricted, """SELECT count(DISTINCT person_key), min(match_method) FROM record_links
                              WHERE snapshot_date = ? AND (source, source_row) IN (('pu_workers', 1), ('bpu_participants', 1))""")
    assert same == [(1, "nik")]
    assert rows(restricted, "SELECT count(*) FROM workers WHERE snapshot_date = ?") == [(7,)]
