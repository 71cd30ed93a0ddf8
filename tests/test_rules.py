"""Business rules of staging: which rows are quarantined, under which reason codes, and which are only flagged."""

import pytest

from tests.landing import (GOOD_PU, copy_sample, counts, field_defects, ingest_and_stage, quarantined, query,
                           snapshot_dir, write_pu)


@pytest.fixture
def landing(tmp_path):
    return copy_sample(tmp_path)


def pu_rows(landing, tmp_path, *rows):
    write_pu(landing, *rows)
    return ingest_and_stage(landing, tmp_path)


def row(**changes) -> str:
    """GOOD_PU with some fields replaced, by column name."""
    names = ["kpj", "nik", "nama", "tanggal_lahir", "jenis_kelamin", "npp", "upah", "program", "kode_wilayah_domisili",
             "tanggal_mulai", "tanggal_berhenti", "status"]
    values = ["K100", "7471010505900011", "Good Row", "1990-05-05", "L", "NPP001", "3000000", '"JKK,JKM"',
              "74.71.01.1005", "2021-01-01", "", "aktif"]
    for k, v in changes.items():
        values[names.index(k)] = v
    return ",".join(values)


def test_good_row_passes(landing, tmp_path):
    assert row() == GOOD_PU
    w = pu_rows(landing, tmp_path, row())
    assert counts(w, "pu_workers") == (1, 1, 0)


def test_every_reason_is_collected_not_only_the_first(landing, tmp_path):
    w = pu_rows(landing, tmp_path, row(kpj="", npp="NPP999", upah="-5", status="hidup", tanggal_mulai="31/02/2021"))
    # the wage is a field defect; listed with the row's own reasons so the steward fixes everything at once
    assert quarantined(w, "pu_workers") == {1: ["invalid_status", "invalid_tanggal_mulai", "invalid_upah",
                                                "missing_kpj", "unknown_npp"]}
    assert field_defects(w, "pu_workers") == {}  # only loaded rows have fields set aside


MONEY = {"Rp 3.500.000": 3500000, "3.500.000": 3500000, "3500000": 3500000, "3500000.0": 3500000, "0": 0,
         "Rp 3.500.000,00": 3500000, "3.500.000,-": 3500000, "Rp3.500.000": 3500000, "IDR 3,500,000.00": 3500000,
         "Rp. 3.500.000,-": 3500000, "3 500 000": 3500000, "3500000,00": 3500000, "3.500.000,50": 3500001,
         "-1": None, "Rp -3.500.000": None, "3,5 juta": None, "3.50.000": None, "(3.500.000)": None}


def test_money_formats_and_amounts_below_zero(landing, tmp_path):
    w = pu_rows(landing, tmp_path, *(row(kpj=f"K{i}", upah=f'"{m}"') for i, m in enumerate(MONEY, start=1)))
    # a bad wage never removes the worker: the row is loaded, the wage set aside (NULL) and counted
    assert counts(w, "pu_workers") == (len(MONEY), len(MONEY), 0)
    loaded = dict(query(w, "SELECT source_row, upah FROM staging.pu_workers"))
    assert loaded == dict(enumerate(MONEY.values(), start=1))
    assert field_defects(w, "pu_workers") == {i: ["invalid_upah"] for i, v in enumerate(MONEY.values(), start=1)
                                              if v is None}


def test_birth_date_younger_than_15_or_older_than_90_is_implausible(landing, tmp_path):
    w = pu_rows(landing, tmp_path,
                row(kpj="K1", tanggal_lahir="2010-06-09"),   # 14 at 2025-06-08
                row(kpj="K2", tanggal_lahir="2010-06-08"),   # 15 that day: plausible
                row(kpj="K3", tanggal_lahir="1934-06-09"),   # 90: plausible
                row(kpj="K4", tanggal_lahir="1934-06-08"))   # 91: implausible
    assert counts(w, "pu_workers") == (4, 4, 0)
    assert field_defects(w, "pu_workers") == {1: ["implausible_tanggal_lahir"], 4: ["implausible_tanggal_lahir"]}
    assert query(w, "SELECT source_row FROM staging.pu_workers WHERE tanggal_lahir IS NULL ORDER BY 1") == [(1,), (4,)]


def test_future_start_is_loaded_as_not_active_yet(landing, tmp_path):
    w = pu_rows(landing, tmp_path, row(tanggal_mulai="2025-07-01"))
    assert counts(w, "pu_workers") == (1, 1, 0)


def test_stop_before_start_is_an_invalid_period(landing, tmp_path):
    w = pu_rows(landing, tmp_path, row(tanggal_mulai="2022-01-01", tanggal_berhenti="2021-12-31", status="nonaktif"))
    assert quarantined(w, "pu_workers") == {1: ["invalid_period"]}


def test_project_ending_before_it_starts_is_an_invalid_period(landing, tmp_path):
    path = snapshot_dir(landing) / "jakon_projects.csv"
    path.write_text(path.read_text().replace("2025-01-01,2025-12-31", "2025-12-31,2025-01-01"))
    w = ingest_and_stage(landing, tmp_path)
    assert quarantined(w, "jakon_projects") == {1: ["invalid_period"]}
    # its workers then point to no project
    assert quarantined(w, "jakon_workers") == {1: ["unknown_nomor_proyek"], 2: ["unknown_nomor_proyek"],
                                               4: ["unknown_nomor_proyek"]}


PU_PROGRAMS = {'"JKK,JKM,JHT,JP,JKP"': True, '"jkk, jkm ;jht"': True, "JKK": True, '"JKK,JKM,JPK"': False,
               '"JKK,JAMSOSTEK"': False, '","': False}


def test_pu_programs(landing, tmp_path):
    w = pu_rows(landing, tmp_path, *(row(kpj=f"K{i}", program=p) for i, p in enumerate(PU_PROGRAMS, start=1)))
    assert field_defects(w, "pu_workers") == {i: ["invalid_program"] for i, ok in enumerate(PU_PROGRAMS.values(), start=1)
                                              if not ok}
    assert counts(w, "pu_workers") == (len(PU_PROGRAMS), len(PU_PROGRAMS), 0)


def test_bpu_has_no_jp_or_jkp(landing, tmp_path):
    path = snapshot_dir(landing) / "bpu_participants.csv"
    path.write_bytes(path.read_bytes().replace(b";JKK,JKM;74.71.02.1009;2025-01-01", b";JKK,JKM,JP;74.71.02.1009;2025-01-01"))
    w = ingest_and_stage(landing, tmp_path)
    assert field_defects(w, "bpu_participants") == {3: ["invalid_program"]}


def test_programs_are_stored_in_one_canonical_form(landing, tmp_path):
    w = pu_rows(landing, tmp_path, row(program='"jkm, JKK,JKK"'))
    assert query(w, "SELECT program FROM staging.pu_workers") == [("JKK,JKM",)]


REGIONS = {"74.71.01.9999": False,  # not in the reference list
           "99.01.01.1001": False,  # no province 99
           "7471011": False, "7471011005": True,
           "73.71.01.1001": True}  # other provinces are kept: the reference list covers Sulawesi Tenggara only


def test_region_codes_exist(landing, tmp_path):
    w = pu_rows(landing, tmp_path, *(row(kpj=f"K{i}", kode_wilayah_domisili=c) for i, c in enumerate(REGIONS, start=1)))
    # a domicile that is no village is set aside: the worker is then placed by the district in their NIK
    assert field_defects(w, "pu_workers") == {i: ["invalid_kode_wilayah_domisili"]
                                              for i, ok in enumerate(REGIONS.values(), start=1) if not ok}


# white space inside a code is dropped ("K 001" is K001: codes hold none); other characters make it implausible
KPJS = {"14012345678": True, "K-001/2024": True, "1.40123E+10": False, "1.4E10": False, "K 001": True, "K001#": False,
        "K_001": False}


def test_kpj_shape(landing, tmp_path):
    w = pu_rows(landing, tmp_path, *(row(kpj=k) for k in KPJS))
    assert quarantined(w, "pu_workers") == {i: ["invalid_kpj"] for i, ok in enumerate(KPJS.values(), start=1) if not ok}


def test_duplicate_kpj_keeps_the_first(landing, tmp_path):
    w = pu_rows(landing, tmp_path, row(), row(nama="Other"))
    assert quarantined(w, "pu_workers") == {2: ["duplicate_kpj"]}


def test_duplicate_npp_quarantines_the_later_employer(landing, tmp_path):
    path = snapshot_dir(landing) / "employers.csv"
    path.write_text(path.read_text() + "NPP001,PT Lain,,swasta,,kecil,74.71.01.1005,3,2021-01-01,aktif\n")
    w = ingest_and_stage(landing, tmp_path)
    assert quarantined(w, "employers") == {3: ["duplicate_npp"]}


def test_duplicate_registry_row_would_count_residents_twice(landing, tmp_path):
    path = landing / "civil_registry" / "workforce_2024-12-31.csv"
    path.write_text(path.read_text() + "7471011005,nelayan/perikanan,l,10\n")
    w = ingest_and_stage(landing, tmp_path)
    assert quarantined(w, "civil_registry") == {6: ["duplicate_row"]}


def test_duplicate_project_listing(landing, tmp_path):
    path = snapshot_dir(landing) / "jakon_workers.csv"
    path.write_text(path.read_text() + "PRJ01,7471011203950003,Andi Saputra,1995-03-12,L,74.71.01.1006\n")
    w = ingest_and_stage(landing, tmp_path)
    assert quarantined(w, "jakon_workers") == {4: ["unknown_nomor_proyek"], 5: ["duplicate_row"]}


def test_worker_of_unknown_employer(landing, tmp_path):
    w = pu_rows(landing, tmp_path, row(npp="NPP404"))
    assert quarantined(w, "pu_workers") == {1: ["unknown_npp"]}


def test_unknown_occupation_in_the_registry(landing, tmp_path):
    path = landing / "civil_registry" / "workforce_2024-12-31.csv"
    path.write_text(path.read_text() + "74.71.01.1005,ASTRONOT,L,3\n")
    w = ingest_and_stage(landing, tmp_path)
    assert quarantined(w, "civil_registry") == {6: ["unknown_pekerjaan"]}


NIKS = {
    "7471010505900001": True,    # man born 05-05-1990
    "7471014505900002": True,    # woman: day + 40
    "7471013202900003": False,   # 32 February
    "9971010505900004": False,   # no province 99
    "7471010505900000": False,   # serial 0000
    "747101050590005": False,    # 15 digits
    "7.47101E+15": False,        # a spreadsheet's number: invalid, not repaired
}


def test_nik_structure_is_a_flag_not_a_reason_to_quarantine(landing, tmp_path):
    w = pu_rows(landing, tmp_path, *(row(kpj=f"K{i}", nik=n) for i, n in enumerate(NIKS, start=1)))
    assert counts(w, "pu_workers") == (7, 7, 0)
    assert query(w, "SELECT nik, nik_is_valid(nik) FROM staging.pu_workers ORDER BY source_row") == list(NIKS.items())


def test_nik_disagreeing_with_birth_date_and_sex_only_lowers_trust(landing, tmp_path):
    from assets.staging import staging_registrations
    import dagster as dg
    from tests.conftest import SAMPLE_DATE

    w = pu_rows(landing, tmp_path, row(), row(kpj="K101", nik="7471014505900012", jenis_kelamin="L"))  # woman's NIK
    staging_registrations(context=dg.build_asset_context(partition_key=SAMPLE_DATE.isoformat()), warehouse=w)
    assert query(w, "SELECT kpj, nik_valid, nik_agrees FROM staging.registrations WHERE segment = 'PU' ORDER BY 1") == [
        ("K100", True, True), ("K101", True, False)]


def test_every_reason_code_and_check_is_documented():
    from pathlib import Path

    from assets.staging import reason_codes
    from sources import SOURCES
    from pipelines.definitions import defs

    page = (Path(__file__).parents[1] / "docs" / "reason-codes.md").read_text()
    for source in SOURCES:
        for code in reason_codes(source):
            generic = code.split("_", 1)[0] + "_<"  # e.g. invalid_<date> documents invalid_tanggal_mulai
            name = code.split("_", 1)[-1]
            assert f"`{code}`" in page or (generic in page and f"`{name}`" in page), code
    for check in defs.asset_checks:
        for spec in check.check_specs:
            assert f"`{spec.name}`" in page, spec.name
