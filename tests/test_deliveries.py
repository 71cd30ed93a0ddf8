"""Malformed deliveries: each case alters one thing in a copy of the contract sample and asserts its exact outcome.

Through the real raw and staging assets on a real DuckDB file (tests/landing.py); the failures a
steward sees on the command line go through `run_snapshot` (test_missing_file_fails_the_run_by_name).
The unaltered sample: pu_workers 6 rows, 4 loaded, row 5 unknown_npp, row 6 invalid_tanggal_lahir+missing_kpj.
"""

import shutil
from datetime import date

import dagster as dg
import polars as pl
import pytest

from assets import ingest
from assets.ingest import LandingError, raw_assets
from pipelines.cli import RunFailed, run_snapshot
from tests.conftest import SAMPLE_DATE, make_warehouse
from tests.landing import (GOOD_PU, HEADER, copy_sample, counts, delivery, ingest_and_stage, quarantined, query,
                           snapshot_dir, write_pu)
from warehouse.partitions import ensure_snapshots

SAMPLE_PU = {5: ["unknown_npp"], 6: ["invalid_tanggal_lahir", "missing_kpj"]}


@pytest.fixture(autouse=True, params=["whole", "blocks"])
def reading(request, monkeypatch):
    """Every case read whole and, a big file's way, in blocks (of 64 bytes: a few rows each): same outcome."""
    if request.param == "blocks":
        monkeypatch.setattr(ingest, "BLOCK_BYTES", 64)
    return request.param


@pytest.fixture
def landing(tmp_path):
    return copy_sample(tmp_path)


def pu_text(landing) -> str:
    return (snapshot_dir(landing) / "pu_workers.csv").read_text()


def refused(landing, tmp_path, *words):
    with pytest.raises(LandingError) as err:
        ingest_and_stage(landing, tmp_path)
    for word in words:
        assert word in str(err.value), str(err.value)
    return str(err.value)


# --- formats the contract allows ----------------------------------------------------------------

def test_semicolon_delimited(landing, tmp_path):
    frame = pl.read_csv(snapshot_dir(landing) / "pu_workers.csv", infer_schema=False)
    frame.write_csv(snapshot_dir(landing) / "pu_workers.csv", separator=";")
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (6, 4, 2)
    assert quarantined(w, "pu_workers") == SAMPLE_PU
    assert delivery(w, "pu_workers")["delimiter"] == ";"
    assert query(w, "SELECT program FROM staging.pu_workers WHERE kpj = 'K001'") == [("JHT,JKK,JKM,JP",)]


def test_utf8_with_bom(landing, tmp_path):
    path = snapshot_dir(landing) / "employers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "employers") == (2, 2, 0)
    assert delivery(w, "employers")["encoding"] == "utf-8-sig"


def test_windows_1252_is_read_correctly_and_reported(landing, tmp_path):
    path = snapshot_dir(landing) / "employers.csv"
    path.write_bytes(path.read_text().replace("PT Sultra Jaya", "PT Café Kendari").encode("cp1252"))
    w = ingest_and_stage(landing, tmp_path)
    assert query(w, "SELECT nama_perusahaan FROM staging.employers WHERE npp = 'NPP001'") == [("PT Café Kendari",)]
    d = delivery(w, "employers")
    assert (d["encoding"], d["non_ascii_characters"]) == ("windows-1252", "é")


def test_bytes_neither_utf8_nor_windows_1252_are_refused_by_name(landing, tmp_path):
    path = snapshot_dir(landing) / "employers.csv"
    path.write_bytes(path.read_bytes().replace(b"Sultra", b"Sul\x81tra"))
    refused(landing, tmp_path, "employers.csv", "neither UTF-8 nor Windows-1252", "re-export")


def test_utf16_is_refused_never_misdecoded(landing, tmp_path):
    path = snapshot_dir(landing) / "employers.csv"
    path.write_bytes(path.read_text().encode("utf-16"))
    refused(landing, tmp_path, "employers.csv", "UTF-16", "CSV UTF-8")


def test_header_names_in_any_case_and_spacing(landing, tmp_path):
    header = HEADER["pu_workers"].replace("kpj", " KPJ ").replace("tanggal_lahir", "Tanggal Lahir") \
        .replace("nik", "Nik").replace("tanggal_berhenti", "TANGGAL-BERHENTI")
    text = pu_text(landing).split("\n", 1)[1]
    (snapshot_dir(landing) / "pu_workers.csv").write_text(header + "\n" + text)
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (6, 4, 2)
    assert quarantined(w, "pu_workers") == SAMPLE_PU


def test_crlf_line_endings(landing, tmp_path):
    path = snapshot_dir(landing) / "pu_workers.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (6, 4, 2)
    assert sorted(query(w, "SELECT DISTINCT status FROM staging.pu_workers")) == [("aktif",), ("nonaktif",)]
    assert query(w, "SELECT count(*) FROM raw.pu_workers WHERE contains(status, chr(13))") == [(0,)]


def _pu_xlsx(landing, *, serial_dates: bool, numbers_as_text: bool):
    import xlsxwriter

    csv = snapshot_dir(landing) / "pu_workers.csv"
    frame = pl.read_csv(csv, infer_schema=False)
    csv.unlink()
    book = xlsxwriter.Workbook(str(snapshot_dir(landing) / "pu_workers.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, frame.columns)
    for r, row in enumerate(frame.iter_rows(named=True), start=1):
        for c, (name, value) in enumerate(row.items()):
            if value is None:
                continue
            if serial_dates and name == "tanggal_mulai":
                sheet.write_number(r, c, (date.fromisoformat(value) - date(1899, 12, 30)).days)
            elif name == "upah" and not numbers_as_text and value.isdigit():
                sheet.write_number(r, c, int(value))
            else:
                sheet.write_string(r, c, value)
    book.close()


def test_xlsx_with_excel_serial_dates(landing, tmp_path):
    _pu_xlsx(landing, serial_dates=True, numbers_as_text=False)
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (6, 4, 2)
    assert quarantined(w, "pu_workers") == SAMPLE_PU
    assert query(w, "SELECT tanggal_mulai, upah FROM staging.pu_workers WHERE kpj = 'K004'") == [(date(2019, 1, 1), 2800000)]
    assert delivery(w, "pu_workers")["file_format"] == "xlsx"


def test_xlsx_with_numbers_stored_as_text(landing, tmp_path):
    _pu_xlsx(landing, serial_dates=False, numbers_as_text=True)
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (6, 4, 2)
    assert query(w, "SELECT upah FROM staging.pu_workers WHERE kpj = 'K004'") == [(2800000,)]


def test_serial_number_in_a_csv_date_is_invalid(landing, tmp_path):
    write_pu(landing, GOOD_PU.replace("2021-01-01", "44197"))
    w = ingest_and_stage(landing, tmp_path)
    assert quarantined(w, "pu_workers") == {1: ["invalid_tanggal_mulai"]}


def test_header_only_file_is_an_empty_source(landing, tmp_path):
    path = snapshot_dir(landing) / "bpu_participants.csv"
    path.write_bytes(path.read_bytes().split(b"\r\n")[0] + b"\r\n")
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "bpu_participants") == (0, 0, 0)


def test_empty_file_is_refused(landing, tmp_path):
    (snapshot_dir(landing) / "bpu_participants.csv").write_bytes(b"")
    refused(landing, tmp_path, "bpu_participants.csv", "empty", "header row")


def test_extra_columns_are_ignored_and_reported(landing, tmp_path):
    write_pu(landing, GOOD_PU + ",catatan bebas,x", header=HEADER["pu_workers"] + ",Catatan,kolom_x")
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (1, 1, 0)
    assert delivery(w, "pu_workers")["extra_columns"] == "catatan, kolom_x"


def test_optional_column_absent(landing, tmp_path):
    header = HEADER["pu_workers"].replace(",kode_wilayah_domisili", "")
    write_pu(landing, GOOD_PU.replace(",74.71.01.1005", ""), header=header)
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (1, 1, 0)
    assert delivery(w, "pu_workers")["missing_optional_columns"] == "kode_wilayah_domisili"


# --- refused with a message that names the file and what to do ---------------------------------

def test_missing_file_fails_the_run_by_name(landing, tmp_path):
    (snapshot_dir(landing) / "employers.csv").unlink()
    with pytest.raises(RunFailed) as err:
        run_snapshot(make_warehouse(landing, tmp_path / "warehouse"), SAMPLE_DATE)
    message = str(err.value)
    assert "raw__employers" in message and "employers.csv (or .xlsx) is missing" in message
    assert "header row" in message and "Traceback" not in message


def test_missing_required_column_names_file_and_column(landing, tmp_path):
    header = HEADER["pu_workers"].replace(",upah", "")
    write_pu(landing, GOOD_PU.replace(",3000000", ""), header=header)
    refused(landing, tmp_path, "pu_workers.csv", "required column(s) upah missing", "add them and rerun")


def test_missing_civil_registry_file(landing, tmp_path):
    shutil.rmtree(landing / "civil_registry")
    refused(landing, tmp_path, "civil_registry", "workforce_<YYYY-MM-DD>.csv", "2025-06-08")


def test_civil_registry_only_after_the_snapshot(landing, tmp_path):
    (landing / "civil_registry" / "workforce_2024-12-31.csv").unlink()
    refused(landing, tmp_path, "no civil-registry file", "on or before 2025-06-08")


def test_duplicate_header_is_refused_by_name(landing, tmp_path):
    write_pu(landing, GOOD_PU + ",7471010505900011", header=HEADER["pu_workers"] + ",nik")
    refused(landing, tmp_path, "pu_workers.csv", "nik appear more than once")


def test_duplicate_header_differing_in_case_is_refused(landing, tmp_path):
    write_pu(landing, GOOD_PU + ",x", header=HEADER["pu_workers"] + ", STATUS ")
    refused(landing, tmp_path, "pu_workers.csv", "status appear more than once")


def test_csv_and_xlsx_for_one_source_are_refused(landing, tmp_path):
    shutil.copy(snapshot_dir(landing) / "employers.csv", snapshot_dir(landing) / "employers.xlsx")
    refused(landing, tmp_path, "employers.csv and employers.xlsx", "keep one of them")


def test_tab_delimited_is_refused(landing, tmp_path):
    write_pu(landing, GOOD_PU.replace(",", "\t").replace('"', ""), header=HEADER["pu_workers"].replace(",", "\t"))
    refused(landing, tmp_path, "pu_workers.csv", "tab-delimited", "comma or semicolon")


def test_stray_quote_that_never_closes_is_refused(landing, tmp_path):
    write_pu(landing, GOOD_PU, GOOD_PU.replace("K100", "K101").replace("Good Row", '"Good Row'),
             GOOD_PU.replace("K100", "K102"))
    refused(landing, tmp_path, "pu_workers.csv", "data row 2 never closes")


# --- damaged files: readable rows handled, damage reported by file -----------------------------

def test_file_cut_off_mid_row(landing, tmp_path):
    text = pu_text(landing)
    cut = text.index("K005") + 30  # inside row 5
    (snapshot_dir(landing) / "pu_workers.csv").write_text(text[:cut])
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (5, 4, 1)
    # every reason that applies: the cut row lost its npp, start date and status
    assert quarantined(w, "pu_workers") == {5: ["missing_npp", "missing_status", "missing_tanggal_mulai", "truncated_row"]}
    assert delivery(w, "pu_workers")["truncated_row"] == 5
    assert query(w, "SELECT row_text FROM staging.quarantine WHERE source = 'pu_workers'") == [(text[text.index("K005"):cut],)]


def test_file_cut_off_inside_quotes(landing, tmp_path):
    write_pu(landing, GOOD_PU, GOOD_PU.replace("K100", "K101"))
    path = snapshot_dir(landing) / "pu_workers.csv"
    text = path.read_text()
    path.write_text(text[:text.rindex('"JKK') + 5])  # ... ,"JKK,
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (2, 1, 1)
    # the readable part "JKK, is read as the program JKK; start date and status never arrived
    assert quarantined(w, "pu_workers") == {2: ["missing_status", "missing_tanggal_mulai", "truncated_row"]}
    assert delivery(w, "pu_workers")["truncated_row"] == 2


def test_file_without_final_newline_marks_only_its_last_row_cut(landing, tmp_path):
    # the short row 2 is malformed, not where the file stops: only the last row can be cut off (it is complete here)
    short = GOOD_PU.replace("K100", "K101").rsplit(",", 2)[0]
    path = write_pu(landing, GOOD_PU, short, GOOD_PU.replace("K100", "K102"))
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    w = ingest_and_stage(landing, tmp_path)
    assert quarantined(w, "pu_workers") == {2: ["malformed_row", "missing_status"]}
    assert delivery(w, "pu_workers")["truncated_row"] is None


def test_row_with_too_many_fields_is_quarantined_with_its_text(landing, tmp_path):
    bad = GOOD_PU.replace("K100", "K101").replace('"JKK,JKM"', "JKK,JKM")  # unquoted comma: one field too many
    write_pu(landing, GOOD_PU, bad, GOOD_PU.replace("K100", "K102"))
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (3, 2, 1)
    assert "malformed_row" in quarantined(w, "pu_workers")[2]
    assert query(w, "SELECT row_text FROM staging.quarantine WHERE source = 'pu_workers'") == [(bad,)]
    assert delivery(w, "pu_workers")["malformed_rows"] == 1


def test_row_with_too_few_fields_is_quarantined(landing, tmp_path):
    short = GOOD_PU.replace("K100", "K101").rsplit(",", 2)[0]  # last two fields missing, file goes on
    write_pu(landing, GOOD_PU, short, GOOD_PU.replace("K100", "K102"))
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (3, 2, 1)
    assert quarantined(w, "pu_workers") == {2: ["malformed_row", "missing_status"]}


def test_blank_lines_are_counted_as_empty_rows(landing, tmp_path):
    write_pu(landing, GOOD_PU, "", ",,,,,,,,,,,", GOOD_PU.replace("K100", "K101"))
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (4, 2, 2)
    assert quarantined(w, "pu_workers") == {2: ["empty_row"], 3: ["empty_row"]}
    assert delivery(w, "pu_workers")["blank_rows"] == 2
    assert query(w, "SELECT source_row FROM staging.pu_workers ORDER BY 1") == [(1,), (4,)]


def test_nik_in_scientific_notation_is_an_invalid_nik_not_a_number(landing, tmp_path):
    write_pu(landing, GOOD_PU.replace("7471010505900011", "7.47101E+15"))
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (1, 1, 0)  # a person without a usable NIK, linked by name later
    assert query(w, "SELECT nik, nik_is_valid(nik) FROM staging.pu_workers") == [("7.47101E+15", False)]


def test_kpj_in_scientific_notation_is_quarantined(landing, tmp_path):
    write_pu(landing, GOOD_PU.replace("K100", "1.40123E+10"))
    w = ingest_and_stage(landing, tmp_path)
    assert quarantined(w, "pu_workers") == {1: ["invalid_kpj"]}


def test_trailing_delimiters_that_excel_adds_are_not_extra_fields(landing, tmp_path):
    # header with a trailing ",", one row with it and one without, one row with ",," after the last value
    write_pu(landing, GOOD_PU + ",", GOOD_PU.replace("K100", "K101"), GOOD_PU.replace("K100", "K102") + ",,",
             header=HEADER["pu_workers"] + ",")
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "pu_workers") == (3, 3, 0)
    assert delivery(w, "pu_workers")["malformed_rows"] == 0


def test_a_delivery_check_runs_alone_when_selected_alone(landing, tmp_path):
    """A source's delivery checks share one step; selecting one (the UI, a retry) evaluates that one only."""
    from checks.deliveries import DELIVERY_COMPLETE, delivery_checks

    text = pu_text(landing)
    (snapshot_dir(landing) / "pu_workers.csv").write_text(text[:text.index("K005") + 30])  # cut inside row 5
    raw = next(a for a in raw_assets if a.key == dg.AssetKey(["raw", "pu_workers"]))
    checks = next(c for c in delivery_checks if {k.asset_key for k in c.check_keys} == {raw.key})
    complete = dg.AssetCheckKey(raw.key, DELIVERY_COMPLETE)
    instance = ensure_snapshots(SAMPLE_DATE)
    result = dg.materialize(
        [raw, checks], partition_key=SAMPLE_DATE.isoformat(), raise_on_error=False, instance=instance,
        resources={"warehouse": make_warehouse(landing, tmp_path / "warehouse")},
        selection=dg.AssetSelection.assets(raw.key).without_checks() | dg.AssetSelection.checks(complete))
    evaluations = result.get_asset_check_evaluations()
    assert [(e.check_name, e.passed) for e in evaluations] == [(DELIVERY_COMPLETE, False)]
    assert "ends inside data row 5" in evaluations[0].description

    everything = dg.materialize([raw, checks], partition_key=SAMPLE_DATE.isoformat(), raise_on_error=False,
                                instance=instance,
                                resources={"warehouse": make_warehouse(landing, tmp_path / "warehouse")})
    assert len(everything.get_asset_check_evaluations()) == len(checks.check_keys) == 5
