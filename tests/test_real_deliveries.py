"""Real deliveries (issue #10): spreadsheet and locale artefacts, incomplete and hostile files.

Each kind is tested with the example the issue lists and at least one variant it does not. An artefact that
can be read must give exactly the clean sample's staged rows (so every figure after them is the clean one);
one that cannot is refused by a message that names the file and says what to do, never a traceback.
"""

import gzip
import os
import shutil
import time
import zipfile
from datetime import date

import polars as pl
import pytest

import assets.ingest as ingest
from assets.ingest import LandingError
from tests.conftest import SAMPLE_DATE, make_warehouse
from tests.landing import copy_sample, counts, ingest_and_stage, query, snapshot_dir

SOURCES = ("employers", "pu_workers", "bpu_participants", "jakon_projects", "jakon_workers", "civil_registry")
DATES = {"pu_workers": ("tanggal_lahir", "tanggal_mulai", "tanggal_berhenti"),
         "bpu_participants": ("tanggal_lahir", "tanggal_daftar", "iuran_dibayar_sampai")}


def staged(warehouse) -> dict[str, list[tuple]]:
    """Every staged source's typed rows and the quarantine, as the figures after staging see them."""
    out = {s: query(warehouse, f"SELECT * EXCLUDE (snapshot_date, source_file) FROM staging.{s} ORDER BY source_row")
           for s in SOURCES}
    out["quarantine"] = query(warehouse, "SELECT source, source_row, list_sort(reasons) FROM staging.quarantine "
                                         "ORDER BY 1, 2")
    out["field_defects"] = query(warehouse, "SELECT source, source_row, field, reason FROM staging.field_defects "
                                            "ORDER BY ALL")
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    return staged(ingest_and_stage(copy_sample(root), root))


@pytest.fixture
def landing(tmp_path):
    return copy_sample(tmp_path)


def path_of(landing, source: str):
    return snapshot_dir(landing) / f"{source}.csv"


def read(landing, source: str) -> tuple[pl.DataFrame, str]:
    raw = path_of(landing, source).read_bytes()
    separator = ";" if raw.split(b"\n")[0].count(b";") > raw.split(b"\n")[0].count(b",") else ","
    return pl.read_csv(raw, infer_schema=False, separator=separator), separator


def rewrite(landing, source: str, frame: pl.DataFrame, separator: str = ","):
    path_of(landing, source).write_text(frame.write_csv(separator=separator))


def refused(landing, tmp_path, *words, absent: tuple[str, ...] = ()) -> str:
    with pytest.raises(LandingError) as err:
        ingest_and_stage(landing, tmp_path)
    message = str(err.value)
    for word in words:
        assert word in message, message
    for word in absent:
        assert word not in message, message
    assert "Traceback" not in message and len(message) < 600, message
    return message


def notes(warehouse, source: str) -> str:
    return query(warehouse, "SELECT notes FROM raw.deliveries WHERE source = ?", [source])[0][0]


def as_date(col: str) -> pl.Expr:
    return pl.coalesce(*(pl.col(col).str.to_date(f, strict=False) for f in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")))


# --- 1. two-digit years and other date shapes ----------------------------------------------------

def test_two_digit_years_read_with_the_documented_pivot(landing, tmp_path, clean):
    frame, sep = read(landing, "bpu_participants")  # 07/11/23: Excel's short date
    rewrite(landing, "bpu_participants", frame.with_columns(
        as_date(c).dt.strftime("%d/%m/%y").alias(c) for c in DATES["bpu_participants"]), sep)
    w = ingest_and_stage(landing, tmp_path)
    assert staged(w) == clean
    assert query(w, "SELECT min(tanggal_daftar) >= DATE '1900-01-01' FROM staging.bpu_participants") == [(True,)]


def test_other_date_shapes_and_birth_dates_never_in_the_future(landing, tmp_path, clean):
    shapes = ["%d %B %Y", "%d-%b-%y", "%Y/%m/%d", "%d.%m.%Y", "%d/%m/%Y 00.00"]
    frame, sep = read(landing, "pu_workers")
    frame = frame.with_row_index().with_columns(
        pl.coalesce(*(pl.when(pl.col("index") % len(shapes) == i).then(as_date(c).dt.strftime(f))
                      for i, f in enumerate(shapes)), pl.col(c)).alias(c) for c in DATES["pu_workers"]).drop("index")
    rewrite(landing, "pu_workers", frame.with_columns(
        pl.col("tanggal_lahir").str.replace("January", "Januari").str.replace("August", "Agustus")), sep)
    w = ingest_and_stage(landing, tmp_path)
    assert staged(w) == clean
    # a birth date's two-digit year takes the latest century that is not in the future: '30' is 1930, not 2030
    assert query(w, "SELECT parse_date('01/01/30', false, DATE '2025-06-08'), parse_date('01/01/30'), "
                    "parse_date('0023-11-07'), parse_date('07/11/0023')") == [(date(1930, 1, 1), date(2030, 1, 1),
                                                                                None, None)]


# --- 2. old-Mac CR line endings ------------------------------------------------------------------

def test_cr_only_line_endings_read_like_the_clean_file(landing, tmp_path, clean):
    path = path_of(landing, "employers")
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    # variant: a BOM, semicolons and CR only (the BPU file)
    bpu = path_of(landing, "bpu_participants")
    bpu.write_bytes(bpu.read_bytes().replace(b"\r\n", b"\r"))
    w = ingest_and_stage(landing, tmp_path)
    assert staged(w) == clean
    assert "CR only" in notes(w, "employers") and "CR only" in notes(w, "bpu_participants")


# --- 3. NIK typed as a number in a workbook -------------------------------------------------------

def _jakon_xlsx(landing, numeric_nik: bool):
    import xlsxwriter

    frame, _ = read(landing, "jakon_workers")
    path_of(landing, "jakon_workers").unlink()
    book = xlsxwriter.Workbook(str(snapshot_dir(landing) / "jakon_workers.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, frame.columns)
    for r, row in enumerate(frame.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if numeric_nik and frame.columns[c] == "nik":
                # Excel keeps 15 significant digits: ...0002 becomes ...0000; row 4 keeps all 16 (still not trusted)
                sheet.write_number(r, c, int(value) if r == 4 else int(value[:15] + "0"))
            else:
                sheet.write_string(r, c, value)
    book.close()


def test_numeric_nik_cells_are_never_trusted_as_niks(landing, tmp_path, clean):
    _jakon_xlsx(landing, numeric_nik=True)
    w = ingest_and_stage(landing, tmp_path)
    assert counts(w, "jakon_workers") == (4, 3, 1)  # as clean: the same row is quarantined (unknown project)
    assert query(w, "SELECT count(*) FILTER (WHERE nik_is_valid(nik)), count(*) FROM staging.jakon_workers") == [(0, 3)]
    assert query(w, "SELECT nik FROM staging.jakon_workers WHERE source_row = 2") == [("7471011203950000.0",)]
    assert "3 nik cell(s) typed as numbers" not in notes(w, "jakon_workers")
    assert "4 nik cell(s) typed as numbers" in notes(w, "jakon_workers")
    # every other value as clean: the record still has its name, birth date and place to be linked by
    keep = "source_row, nama, tanggal_lahir, jenis_kelamin, kode_wilayah_domisili"
    assert query(w, f"SELECT {keep} FROM staging.jakon_workers ORDER BY 1") == [
        (r[0], r[3], r[4], r[5], r[6]) for r in clean["jakon_workers"]]


def test_nik_as_text_in_a_workbook_is_kept(landing, tmp_path, clean):
    _jakon_xlsx(landing, numeric_nik=False)
    w = ingest_and_stage(landing, tmp_path)
    assert staged(w)["jakon_workers"] == clean["jakon_workers"]


def test_nik_a_spreadsheet_rendered_as_a_float_in_a_csv_is_invalid(landing, tmp_path):
    path = path_of(landing, "jakon_workers")
    path.write_text(path.read_text().replace("7471011203950003", "7471011203950000.0")
                    .replace("7471010101800004", "'7471010101800004"))  # the apostrophe that keeps text is removed
    w = ingest_and_stage(landing, tmp_path)
    assert query(w, "SELECT source_row, nik, nik_is_valid(nik) FROM staging.jakon_workers WHERE source_row IN (2, 3) "
                    "ORDER BY 1") == [(2, "7471011203950000.0", False), (3, "7471010101800004", True)]


# --- 5. invisible characters --------------------------------------------------------------------

INVISIBLE = {"nik": "\u00a0{}", "upah": "{}\u200b", "kode_wilayah_domisili": "\ufeff{}", "status": "{}\u2060",
             # variants the issue does not list: narrow no-break space, direction mark, soft hyphen, ideographic
             # space, tab, zero-width joiner
             "kpj": "\u202f{}\u200e", "nama": "{}\u00ad", "tanggal_mulai": "\u3000{}\t", "npp": "\u200d{}"}


def test_invisible_characters_are_removed_before_parsing(landing, tmp_path, clean):
    frame, sep = read(landing, "pu_workers")
    rewrite(landing, "pu_workers", frame.with_columns(
        pl.when(pl.col(c).is_not_null()).then(pl.format(fmt.replace("{}", "{}"), pl.col(c))).alias(c)
        for c, fmt in INVISIBLE.items()), sep)
    frame, sep = read(landing, "bpu_participants")
    rewrite(landing, "bpu_participants", frame.with_columns(
        pl.format("\u2060{}\u00a0", pl.col(c)).alias(c) for c in ("kpj", "nik", "iuran_dibayar_sampai", "status",
                                                                    "penghasilan", "kode_wilayah")), sep)
    header = path_of(landing, "employers")
    header.write_text(header.read_text().replace("npp,", "\u200bNPP\u00a0,", 1))  # and in a header name
    w = ingest_and_stage(landing, tmp_path)
    assert staged(w) == clean


def test_spaces_inside_codes_are_removed(landing, tmp_path, clean):
    """A NIK typed in groups of four, a no-break space or an ideographic space pasted inside a KPJ or a village
    code: codes hold no white space, so the values are the clean ones."""
    frame, sep = read(landing, "pu_workers")
    inside = lambda c, ch: pl.col(c).str.slice(0, 4) + ch + pl.col(c).str.slice(4)  # noqa: E731
    rewrite(landing, "pu_workers", frame.with_columns(
        pl.when(pl.col("nik").str.len_chars() == 16).then(pl.concat_str(
            [pl.col("nik").str.slice(i, 4) for i in (0, 4, 8, 12)], separator=" ")).otherwise(pl.col("nik")).alias("nik"),
        pl.when(pl.col("kpj").is_not_null()).then(inside("kpj", "\u00a0")).alias("kpj"),
        pl.when(pl.col("kode_wilayah_domisili").is_not_null()).then(inside("kode_wilayah_domisili", "\u3000"))
          .alias("kode_wilayah_domisili")), sep)
    w = ingest_and_stage(landing, tmp_path)
    assert staged(w) == clean


# --- 6. a file still being written ----------------------------------------------------------------

def test_file_cut_at_half_refuses_to_publish(landing, tmp_path):
    from pipelines.cli import RunFailed, run_snapshot

    path = path_of(landing, "pu_workers")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    with pytest.raises(RunFailed) as err:
        run_snapshot(warehouse, SAMPLE_DATE)
    message = str(err.value)
    assert "delivery_complete" in message and "pu_workers.csv ends inside data row" in message, message
    assert "wait for the upload to finish" in message and "Traceback" not in message
    assert "DagsterAssetCheckFailedError" not in message  # the check says it once, without Dagster's class name
    assert not warehouse.analytics_db.exists()  # nothing published


@pytest.mark.parametrize("damage", ["inside a character", "zero bytes after it", "inside quotes"])
def test_other_ways_a_file_is_cut(landing, tmp_path, damage):
    path = path_of(landing, "pu_workers")
    text = path.read_text().replace("La Ode Rahman", "La Ode Rahmán")
    data = text.encode()
    cut = {"inside a character": data[: data.index("á".encode()) + 1],
           "zero bytes after it": data + b"\x00" * 4096,
           "inside quotes": data[: data.rindex(b'"JKK') + 5]}[damage]
    path.write_bytes(cut)
    w = ingest_and_stage(landing, tmp_path)
    row = query(w, "SELECT truncated_row FROM raw.deliveries WHERE source = 'pu_workers'")[0][0]
    assert row == {"inside a character": 1, "zero bytes after it": 6, "inside quotes": 6}[damage]
    from checks.deliveries import damaged_deliveries
    assert any(f"pu_workers.csv: cut off inside data row {row}" in line
               for line in damaged_deliveries(w, SAMPLE_DATE))


def test_sudden_drop_in_rows_is_named_in_the_summary(landing, tmp_path, monkeypatch):
    import dagster as dg

    from assets.ingest import raw_assets
    from checks.deliveries import damage_summary, damaged_deliveries

    earlier = landing / "2025-05-08"
    shutil.copytree(snapshot_dir(landing), earlier)
    path = path_of(landing, "pu_workers")
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:3]))  # cut at a line end: 2 of 6 rows
    w = make_warehouse(landing, tmp_path / "warehouse")
    for day in ("2025-05-08", SAMPLE_DATE.isoformat()):
        for asset in raw_assets:
            asset(context=dg.build_asset_context(partition_key=day), warehouse=w)
    lines = damaged_deliveries(w, SAMPLE_DATE)
    assert lines == ["2025-06-08/pu_workers.csv: 2 rows, 67% fewer than the 6 of snapshot 2025-05-08; check with the "
                     "sender that the extract is complete."]
    assert "Deliveries to look at" in damage_summary(w, SAMPLE_DATE)
    monkeypatch.setenv("JAMSOSTEK_MAX_ROW_DROP", "0.8")  # configurable
    assert damaged_deliveries(w, SAMPLE_DATE) == []
    assert "arrived whole" in damage_summary(w, SAMPLE_DATE)


# --- 7. hostile spreadsheets ---------------------------------------------------------------------

def _xlsx(path, cells: dict[tuple[int, int], str]):
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for (r, c), v in cells.items():
        sheet.write_string(r, c, v)
    book.close()


def test_workbook_with_a_cell_at_xfd1048576_is_refused_in_bounded_time(landing, tmp_path):
    path_of(landing, "employers").unlink()
    target = snapshot_dir(landing) / "employers.xlsx"
    _xlsx(target, {(0, 0): "npp", (1048575, 16383): "x"})
    assert target.stat().st_size < 10_000
    start = time.perf_counter()
    refused(landing, tmp_path, "employers.xlsx", "column 16,384", "Delete the stray cells")
    assert time.perf_counter() - start < 60  # the reader never allocated the grid (it aborted the process before)


def test_workbook_reaching_far_down_is_refused(landing, tmp_path):
    path_of(landing, "employers").unlink()
    _xlsx(snapshot_dir(landing) / "employers.xlsx", {(0, 0): "npp", (0, 19): "x", (1048575, 0): "y"})
    refused(landing, tmp_path, "employers.xlsx", "1,048,576 rows x 20 columns", "send the data as CSV")


def test_zip_bomb_is_refused_while_inflating(landing, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_XLSX_UNPACKED_BYTES", 8 * 2**20)
    path_of(landing, "employers").unlink()
    target = snapshot_dir(landing) / "employers.xlsx"
    _xlsx(target, {(0, 0): "npp"})
    with zipfile.ZipFile(target, "a", compression=zipfile.ZIP_DEFLATED) as book:  # 64 MB of XML padding in 64 KB
        book.writestr("xl/media/padding.xml", b"<x/>" + b" " * (64 * 2**20))
    assert target.stat().st_size < 200_000
    refused(landing, tmp_path, "employers.xlsx", "unpacks to more than 8 MB", "zip bomb")


def test_workbook_cut_off_or_a_csv_named_xlsx(landing, tmp_path):
    path_of(landing, "employers").unlink()
    target = snapshot_dir(landing) / "employers.xlsx"
    _xlsx(target, {(0, 0): "npp"})
    target.write_bytes(target.read_bytes()[:2000])  # an upload cut off
    refused(landing, tmp_path, "employers.xlsx", "not a complete XLSX workbook", "cut off")
    target.write_text("npp,nama_perusahaan\n")
    refused(landing, tmp_path, "employers.xlsx", "a CSV named .xlsx")


# --- 8. a header of 200,000 columns ---------------------------------------------------------------

def test_header_of_200000_columns_is_refused_quickly(landing, tmp_path):
    path = path_of(landing, "employers")
    path.write_text(",".join(f"c{i}" for i in range(200_000)) + "\n")
    assert path.stat().st_size > 1_000_000
    start = time.perf_counter()
    refused(landing, tmp_path, "employers.csv", "200,000 columns", "at most 1,000")
    assert time.perf_counter() - start < 30


def test_wide_header_under_the_cap_is_checked_in_linear_time_with_a_short_message(landing, tmp_path):
    path = path_of(landing, "employers")
    path.write_text(",".join(["npp", *(f"x{i % 400}" for i in range(990))]) + "\n")  # 590 duplicates, no nama_...
    message = refused(landing, tmp_path, "employers.csv", "appear more than once", "... and 380 more")
    assert len(message) < 600


# --- 9. links out of the landing folder ----------------------------------------------------------

def test_symlink_out_of_the_landing_folder_is_refused_without_reading_it(landing, tmp_path):
    secret = tmp_path / "outside.csv"
    secret.write_text("SECRET-FIRST-LINE,root:x:0:0\n")
    path_of(landing, "employers").unlink()
    os.symlink(secret, path_of(landing, "employers"))
    refused(landing, tmp_path, "employers.csv", "symbolic link", "outside the landing folder",
            absent=("SECRET", "root:x", str(secret)))


def test_symlink_variants(landing, tmp_path, clean):
    # a system file, through a relative link, as the registry: refused
    registry = landing / "civil_registry" / "workforce_2024-12-31.csv"  # the cut-off the snapshot uses
    shutil.copy(registry, landing / "kept.csv")
    registry.unlink()
    os.symlink(os.path.relpath("/etc/passwd", registry.parent), registry)
    refused(landing, tmp_path, "workforce_2024-12-31.csv", "symbolic link", absent=("root:x", "/bin/"))
    # a link that stays inside the landing zone is a file like any other
    registry.unlink()
    os.symlink(landing / "kept.csv", registry)
    assert staged(ingest_and_stage(landing, tmp_path / "inside")) == clean


# --- 10. binary files named .csv -----------------------------------------------------------------

BINARIES = {
    "executable": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8, "an executable program"),
    "gzip": (None, "a gzip-compressed file"),
    "xlsx": (None, "an Excel workbook (XLSX)"),
    # variants the issue does not list
    "windows exe": (b"MZ\x90\x00\x03" + bytes(200), "an executable program (Windows)"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(50), "a PDF document"),
    "html": (b"<!DOCTYPE html><html><body>Session expired</body></html>", "a web page (HTML)"),
    "random": (bytes((i * 7919) % 256 for i in range(4096)), "binary data"),
}


@pytest.mark.parametrize("kind", BINARIES)
def test_binary_file_named_csv_is_described_by_what_it_looks_like(landing, tmp_path, kind):
    path = path_of(landing, "employers")
    data, words = BINARIES[kind]
    if kind == "gzip":
        data = gzip.compress(path.read_bytes())
    elif kind == "xlsx":
        _xlsx(tmp_path / "book.xlsx", {(0, 0): "npp"})
        data = (tmp_path / "book.xlsx").read_bytes()
    path.write_bytes(data)
    message = refused(landing, tmp_path, "employers.csv", words, absent=("UTF-16", "Session expired"))
    assert {"xlsx": "rename it to .xlsx", "gzip": "unpack it"}.get(kind, "") in message


# --- field defects keep the worker; the feedback file holds exactly what was refused or set aside ---------

@pytest.fixture(scope="module")
def dirty_run(tmp_path_factory):
    """The contract sample with defects in fields coverage does not need, run through every asset."""
    from pipelines.cli import run_snapshot

    root = tmp_path_factory.mktemp("dirty")
    landing = copy_sample(root)
    path = path_of(landing, "pu_workers")
    path.write_text(path.read_text()
                    .replace("La Ode Rahman,1990-05-05", "La Ode Rahman,1920-05-05")  # implausible birth date
                    .replace("Rp 3.500.000", "tiga setengah juta")  # an unparseable wage
                    .replace('"JKK,JKM,JHT,JP"', '"JKK,XYZ"'))  # an unknown program
    employers = path_of(landing, "employers")
    employers.write_text(employers.read_text().replace("01.234.567.8-901.000", "12345"))  # a malformed NPWP
    warehouse = make_warehouse(landing, root / "warehouse")
    run_snapshot(warehouse, SAMPLE_DATE)
    return warehouse


def _figures(warehouse) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(warehouse.analytics_db), read_only=True) as con:
        return con.execute("""SELECT level, region_code, eligible_workforce, covered_workers, covered_pu, covered_bpu,
                                     covered_jakon FROM coverage_by_region ORDER BY ALL""").fetchall() + \
            con.execute("SELECT * EXCLUDE (snapshot_date) FROM coverage_by_segment ORDER BY ALL").fetchall()


def test_implausible_birth_date_or_unparseable_wage_leaves_the_worker_covered(dirty_run, contract_run):
    assert _figures(dirty_run) == _figures(contract_run)
    assert query(dirty_run, "SELECT source, source_row, field, reason FROM staging.field_defects ORDER BY ALL") == [
        ("employers", 1, "npwp", "invalid_npwp"), ("pu_workers", 1, "program", "invalid_program"),
        ("pu_workers", 1, "tanggal_lahir", "implausible_tanggal_lahir"), ("pu_workers", 1, "upah", "invalid_upah")]
    assert query(dirty_run, "SELECT source, field, reason, rows FROM marts.field_defects ORDER BY ALL") == [
        ("employers", "npwp", "invalid_npwp", 1), ("pu_workers", "program", "invalid_program", 1),
        ("pu_workers", "tanggal_lahir", "implausible_tanggal_lahir", 1), ("pu_workers", "upah", "invalid_upah", 1)]
    # the run's summary names a delivery with many rows that had a field set aside, and the field most often so
    from checks.deliveries import damage_summary, damaged_deliveries
    lines = [line for line in damaged_deliveries(dirty_run, SAMPLE_DATE) if "field set aside" in line]
    assert lines == [
        "2025-06-08/employers.csv: 1 of 2 rows (50%) had a field set aside, most often npwp (invalid_npwp); those rows "
        "stay counted. Send the sender the feedback file and ask for the fields to be corrected.",
        "2025-06-08/pu_workers.csv: 1 of 6 rows (17%) had a field set aside, most often program (invalid_program); "
        "those rows stay counted. Send the sender the feedback file and ask for the fields to be corrected."]
    assert "Deliveries to look at" in damage_summary(dirty_run, SAMPLE_DATE)
    assert not any("field set aside" in line for line in damaged_deliveries(contract_run, SAMPLE_DATE))


def test_feedback_files_hold_exactly_the_refused_and_defective_rows(dirty_run):
    import duckdb

    folder = dirty_run.pipeline_db.parent / "feedback" / SAMPLE_DATE.isoformat()
    with duckdb.connect(str(dirty_run.analytics_db), read_only=True) as con:
        refused = dict(con.execute("SELECT source, sum(rows_quarantined) FROM data_quality GROUP BY 1").fetchall())
        # field defects are published as counts only; no row of a delivery, and none of its text, reaches analysts
        assert not con.execute("SELECT table_name FROM information_schema.tables WHERE table_name ILIKE '%feedback%'"
                               ).fetchall()
        assert not con.execute("SELECT table_name, column_name FROM information_schema.columns WHERE column_name IN "
                               "('source_row', 'row_text', 'line_text', 'text_as_received')").fetchall()
    defective = dict(query(dirty_run, "SELECT source, count(DISTINCT source_row) FROM staging.field_defects GROUP BY 1"))
    sent = {p.stem for p in folder.glob("*.csv")}
    assert sent == {s for s in refused if refused[s]} | set(defective)
    for source in sent:
        lines = pl.read_csv(folder / f"{source}.csv", infer_schema=False)
        assert lines.columns == ["file", "row", "outcome", "reasons", "what_to_do", "text_as_received"]
        assert (lines["outcome"] == "refused").sum() == refused.get(source, 0), source
        assert (lines["outcome"] != "refused").sum() == defective.get(source, 0), source
        assert pl.read_excel(folder / f"{source}.xlsx", infer_schema_length=0).height == lines.height
    pu = pl.read_csv(folder / "pu_workers.csv", infer_schema=False)
    kept = pu.filter(pl.col("row") == "1").row(0, named=True)
    assert kept["reasons"] == "implausible_tanggal_lahir + invalid_program + invalid_upah"
    assert "upah cannot be read" in kept["what_to_do"] and "tiga setengah juta" in kept["text_as_received"]
    assert pu.filter(pl.col("row") == "6")["reasons"].item() == "invalid_tanggal_lahir + missing_kpj"
