"""The synthetic landing zone: calibration, contract shape, dirt, truth and reproducibility.

The files are re-read as text with polars and the contract's rules are applied here, independently
of the generator's internals; only the truth's person_id (which rows are the same human) is borrowed.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from sample.generator import CALIBRATION, generate

D = date(2025, 6, 8)
REFERENCE = Path(__file__).resolve().parents[1] / "reference"
HEADERS = {
    "employers": "npp,nama_perusahaan,npwp,jenis_pemberi_kerja,kbli,skala_usaha,kode_wilayah,jumlah_pekerja,"
                 "tanggal_daftar,status",
    "pu_workers": "kpj,nik,nama,tanggal_lahir,jenis_kelamin,npp,upah,program,kode_wilayah_domisili,tanggal_mulai,"
                  "tanggal_berhenti,status",
    "bpu_participants": "kpj,nik,nama,tanggal_lahir,jenis_kelamin,pekerjaan,penghasilan,program,kode_wilayah,"
                        "tanggal_daftar,iuran_dibayar_sampai,status",
    "jakon_projects": "nomor_proyek,nama_proyek,npp,nilai_kontrak,sumber_dana,kode_wilayah,tanggal_mulai,"
                      "tanggal_selesai",
    "jakon_workers": "nomor_proyek,nik,nama,tanggal_lahir,jenis_kelamin,kode_wilayah_domisili",
    "civil_registry": "kode_wilayah,pekerjaan,jenis_kelamin,jumlah",
}


# --- reading the landing zone as a pipeline would, without the generator's help --------------------

def parse_date(col: str) -> pl.Expr:
    c = pl.col(col).str.strip_chars()
    return pl.coalesce(c.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
                       c.str.strptime(pl.Date, "%d/%m/%Y", strict=False),
                       c.str.strptime(pl.Date, "%d-%m-%Y", strict=False))


def village(col: str) -> pl.Expr:
    """Village code as 10 plain digits, null when empty."""
    return pl.col(col).str.replace_all(".", "", literal=True)


def read(folder: Path, name: str) -> pl.DataFrame:
    csv, xlsx = folder / f"{name}.csv", folder / f"{name}.xlsx"
    if xlsx.exists():
        return pl.read_excel(xlsx, infer_schema_length=0)
    text = csv.read_bytes()
    separator = ";" if text.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].count(b";") else ","
    return pl.read_csv(csv, infer_schema=False, separator=separator)


def worker_rows(landing: Path, truth: Path) -> pl.DataFrame:
    """Every worker row with usability and activity judged by the contract's rules, plus the truth's person_id."""
    folder = landing / D.isoformat()
    employers = read(folder, "employers")
    projects = read(folder, "jakon_projects").select(
        "nomor_proyek", parse_date("tanggal_mulai").alias("p_start"), parse_date("tanggal_selesai").alias("p_end"))
    pu = read(folder, "pu_workers").with_row_index("source_row", 1).with_columns(
        parse_date("tanggal_mulai").alias("start"), parse_date("tanggal_berhenti").alias("stop"))
    pu = pu.with_columns(
        usable=pl.col("kpj").is_not_null() & pl.col("start").is_not_null()
        & pl.col("npp").is_in(employers["npp"].implode()),
        active=(pl.col("status") == "aktif") & (pl.col("start") <= D) & (pl.col("stop").is_null() | (pl.col("stop") > D)),
        domicile=village("kode_wilayah_domisili"))
    bpu = read(folder, "bpu_participants").with_row_index("source_row", 1).with_columns(
        parse_date("tanggal_daftar").alias("start"), parse_date("iuran_dibayar_sampai").alias("paid"))
    bpu = bpu.with_columns(
        usable=pl.col("kpj").is_not_null() & pl.col("start").is_not_null() & pl.col("paid").is_not_null(),
        active=(pl.col("status") == "aktif") & (pl.col("start") <= D) & (pl.col("paid") >= D),
        domicile=village("kode_wilayah"))
    jakon = read(folder, "jakon_workers").with_row_index("source_row", 1).join(
        projects, on="nomor_proyek", how="left", maintain_order="left")
    jakon = jakon.with_columns(
        usable=pl.col("p_start").is_not_null(), active=(pl.col("p_start") <= D) & (D <= pl.col("p_end")),
        start=pl.col("p_start"), domicile=village("kode_wilayah_domisili"))
    records = pl.read_parquet(truth / D.isoformat() / "records.parquet")
    keep = ["source", "source_row", "nik", "nama", "tanggal_lahir", "jenis_kelamin", "start", "domicile", "usable",
            "active"]
    rows = pl.concat([f.with_columns(pl.lit(s).alias("source"), pl.col("source_row").cast(pl.Int64)).select(keep)
                      for s, f in (("pu_workers", pu), ("bpu_participants", bpu), ("jakon_workers", jakon))])
    return rows.join(records, on=["source", "source_row"], how="left", suffix="_truth")


def covered_people(rows: pl.DataFrame) -> pl.DataFrame:
    """Region of each covered person by the contract: domicile of the most recent active registration that has
    one, else the district in a valid NIK (taken from the person's rows whose NIK is clean)."""
    active = rows.filter(pl.col("usable") & pl.col("active"))
    by_domicile = (active.filter(pl.col("domicile").is_not_null())
                   .sort(["person_id", "start"], descending=[False, True])
                   .group_by("person_id", maintain_order=True).agg(pl.col("domicile").first()))
    nik = (rows.filter(pl.col("nik_issue").is_in(["none", "collision"]))
           .group_by("person_id").agg(pl.col("nik").first()))
    people = active.select("person_id").unique().join(by_domicile, on="person_id", how="left") \
        .join(nik, on="person_id", how="left")
    return people.with_columns(region=pl.coalesce(pl.col("domicile"), pl.col("nik").str.slice(0, 6)))


# --- fixtures -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def full(tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    summary = generate(root / "landing", root / "truth", scale=1.0)
    return root / "landing", root / "truth", summary


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    summary = generate(root / "landing", root / "truth", scale=0.05, seed=7)
    return root / "landing", root / "truth", summary


@pytest.fixture(scope="module")
def small_rows(small):
    landing, truth, _ = small
    return worker_rows(landing, truth)


# --- calibration ----------------------------------------------------------------------------------------

def test_exact_calibration_at_scale_one(full):
    landing, truth, summary = full
    rows = worker_rows(landing, truth)
    received = rows.group_by("source").len()
    assert dict(received.iter_rows()) == {s: CALIBRATION[s] for s in ("pu_workers", "bpu_participants", "jakon_workers")}
    # the four published figures sum: registrations received equal the eligible workforce
    assert sum(CALIBRATION[s] for s in ("pu_workers", "bpu_participants", "jakon_workers")) == 140_940

    people = covered_people(rows)
    assert people["region"].null_count() == 0, "every covered person can be placed"
    inside = people.filter(pl.col("region").str.starts_with("7471"))
    assert inside.height == 49_397
    outside = people.height - inside.height
    assert 0.01 * 49_397 <= outside <= 0.02 * 49_397
    assert people.filter(~pl.col("region").str.starts_with("7471"))["region"].str.slice(0, 4).is_in(
        ["7402", "7405"]).mean() > 0.5, "outside the city mostly means Konawe / Konawe Selatan"

    registry = pl.read_csv(landing / "civil_registry" / "workforce_2024-12-31.csv", infer_schema=False)
    categories = pl.read_csv(REFERENCE / "occupation_categories.csv", infer_schema=False)
    registry = registry.join(categories, left_on="pekerjaan", right_on="name", how="left")
    assert registry["category"].null_count() == 0, "occupation names exactly as in occupation_categories.csv"
    totals = dict(registry.group_by("category").agg(pl.col("jumlah").cast(pl.Int64).sum()).iter_rows())
    assert totals["eligible"] == 140_940
    assert totals["not_working"] > 100_000 and totals["asn_tni_polri"] > 5_000
    assert registry["kode_wilayah"].str.replace_all(".", "", literal=True).n_unique() == 65
    assert registry.filter(pl.col("category") == "eligible")["pekerjaan"].n_unique() >= 40

    assert summary["eligible_workforce"] == 140_940
    assert summary["covered_workers"] == 49_397
    assert summary["covered_outside_area"] == outside
    assert summary["registrations"] == {"pu_workers": 88_357, "bpu_participants": 36_140, "jakon_workers": 16_443}
    assert summary["area_code"] == "74.71" and summary["snapshot_date"] == "2025-06-08"


def test_village_coverage_stays_well_under_full(full):
    landing, truth, _ = full
    rows = worker_rows(landing, truth)
    people = covered_people(rows).filter(pl.col("domicile").str.starts_with("7471"))
    covered = people.group_by("domicile").len()
    registry = pl.read_csv(landing / "civil_registry" / "workforce_2024-12-31.csv", infer_schema=False)
    categories = pl.read_csv(REFERENCE / "occupation_categories.csv", infer_schema=False)
    eligible = (registry.join(categories, left_on="pekerjaan", right_on="name")
                .filter(pl.col("category") == "eligible")
                .group_by(village("kode_wilayah").alias("domicile")).agg(pl.col("jumlah").cast(pl.Int64).sum()))
    rate = eligible.join(covered, on="domicile", how="left").select(pl.col("len").fill_null(0) / pl.col("jumlah"))
    assert rate.height == 65
    assert rate.to_series().min() > 0.10 and rate.to_series().max() < 0.60


def test_scale_rounds_each_figure(small):
    landing, truth, summary = small
    assert summary["eligible_workforce"] == round(140_940 * 0.05)
    assert summary["covered_workers"] == round(49_397 * 0.05)
    assert summary["registrations"] == {"pu_workers": round(88_357 * 0.05), "bpu_participants": round(36_140 * 0.05),
                                        "jakon_workers": round(16_443 * 0.05)}


def test_truth_agrees_with_the_rules(small, small_rows):
    _, truth, summary = small
    rows = small_rows
    assert rows["person_id"].null_count() == 0, "every row written has a truth row"
    assert (rows["usable"] == rows["usable_truth"]).all()
    usable = rows.filter("usable")
    assert (usable["active"] == usable["active_truth"]).all()
    assert not rows.filter(~pl.col("usable"))["active_truth"].any()
    # unusable rows are few, extra, and present in every worker source
    unusable = rows.filter(~pl.col("usable")).group_by("source").len()
    assert dict(unusable.iter_rows()) == {k: v for k, v in summary["unusable_rows"].items() if v}
    assert all(n <= max(1, round(0.002 * summary["registrations"][s])) for s, n in unusable.iter_rows())

    people = covered_people(rows)
    assert people.filter(pl.col("region").str.starts_with("7471")).height == summary["covered_workers"]
    active = rows.filter(pl.col("usable") & pl.col("active"))
    segment = {"pu_workers": "PU", "bpu_participants": "BPU", "jakon_workers": "JAKON"}
    per_segment = {segment[s]: n for s, n in active.group_by("source").agg(pl.col("person_id").n_unique()).iter_rows()}
    assert per_segment == summary["active_workers"]
    several = active.group_by("person_id").agg(pl.col("source").n_unique()).filter(pl.col("source") > 1)
    assert several.height == summary["workers_active_in_several_segments"] > 0

    persons = pl.read_parquet(truth / D.isoformat() / "persons.parquet")
    assert persons.filter("covered").height == people.height
    assert set(persons["person_id"]) == set(rows["person_id"])


def test_truth_is_beside_the_landing_zone_never_inside(small, tmp_path):
    landing, truth, _ = small
    written = {p.suffix for p in landing.rglob("*") if p.is_file()}
    assert written == {".csv"}
    assert sorted(p.name for p in (landing / D.isoformat()).iterdir()) == sorted(
        f"{s}.csv" for s in ("employers", "pu_workers", "bpu_participants", "jakon_projects", "jakon_workers"))
    assert sorted(p.name for p in (truth / D.isoformat()).iterdir()) == ["persons.parquet", "records.parquet",
                                                                        "summary.json"]
    with pytest.raises(ValueError, match="inside the landing zone"):
        generate(tmp_path / "landing", tmp_path / "landing" / "truth", scale=0.01)


def test_same_seed_same_bytes(tmp_path):
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    for name in ("a", "b"):
        generate(tmp_path / name / "landing", tmp_path / name / "truth", scale=0.02, seed=11, formats="mixed")
    generate(tmp_path / "c" / "landing", tmp_path / "c" / "truth", scale=0.02, seed=12, formats="mixed")
    a, b, c = files(tmp_path / "a"), files(tmp_path / "b"), files(tmp_path / "c")
    assert a == b
    assert a.keys() == c.keys()
    assert a["landing/2025-06-08/pu_workers.csv"] != c["landing/2025-06-08/pu_workers.csv"]


# --- contract shape ---------------------------------------------------------------------------------------

def test_headers_exactly_as_in_the_contract(small):
    landing, _, _ = small
    for name, header in HEADERS.items():
        path = (landing / "civil_registry" / "workforce_2024-12-31.csv" if name == "civil_registry"
                else landing / D.isoformat() / f"{name}.csv")
        assert path.read_text(encoding="utf-8").split("\n", 1)[0] == header, name
    assert not (landing / D.isoformat() / "opd_non_asn.csv").exists()


def test_registry_cut_off_is_on_or_before_the_snapshot(tmp_path):
    generate(tmp_path / "landing", tmp_path / "truth", date(2025, 8, 1), scale=0.01)
    assert [p.name for p in (tmp_path / "landing" / "civil_registry").iterdir()] == ["workforce_2025-06-30.csv"]


def test_employers_and_projects(small, small_rows):
    landing, _, _ = small
    folder = landing / D.isoformat()
    employers = read(folder, "employers")
    assert employers["npp"].is_unique().all()
    assert 100 <= employers.height <= 300  # a few thousand at scale 1
    assert set(employers["jenis_pemberi_kerja"]) == {"swasta", "bumn", "bumd", "instansi_pemerintah"}
    assert set(employers["skala_usaha"]) == {"mikro", "kecil", "menengah", "besar"}
    assert set(employers["status"]) == {"aktif", "nonaktif"}
    assert employers["nama_perusahaan"].null_count() == 0
    assert employers["npwp"].drop_nulls().str.replace_all(r"[.\-]", "").str.len_chars().is_in([15, 16]).all()
    assert employers["kbli"].drop_nulls().str.contains(r"^\d{5}$").all()
    assert employers["jumlah_pekerja"].str.contains(r"^\d+$").all()

    projects = read(folder, "jakon_projects").with_columns(
        parse_date("tanggal_mulai").alias("s"), parse_date("tanggal_selesai").alias("e"))
    assert projects["nomor_proyek"].is_unique().all()
    assert set(projects["sumber_dana"]) <= {"APBN", "APBD", "BUMN", "SWASTA"}
    assert projects.filter((pl.col("s") <= D) & (D <= pl.col("e"))).height > 0
    assert projects.filter(pl.col("e") < D).height > 0, "some projects ended"
    assert projects.filter(pl.col("s") > D).height > 0, "some projects not started"
    assert projects.filter(pl.col("e") == D).height > 0, "a project ends on D: still active"


def test_inactive_variants_and_repeat_registrations(small_rows):
    rows = small_rows.filter("usable")
    per_person = rows.group_by("person_id", "source").len()
    assert per_person.filter(pl.col("len") > 1).height > 0, "several registrations in one segment"
    both = rows.filter("active").group_by("person_id").agg(pl.col("source").n_unique())
    assert both.filter(pl.col("source") > 1).height > 0, "active in several segments"
    # a person with an old nonaktif PU registration and a new aktif one
    pu = rows.filter(pl.col("source") == "pu_workers")
    old_and_new = pu.group_by("person_id").agg(pl.col("active").any().alias("a"), (~pl.col("active")).any().alias("i"))
    assert old_and_new.filter(pl.col("a") & pl.col("i")).height > 0
    for source in ("pu_workers", "bpu_participants", "jakon_workers"):
        seg = rows.filter(pl.col("source") == source)
        assert 0.2 < seg["active"].mean() < 0.7, source
    # people whose every registration is inactive
    assert rows.group_by("person_id").agg(pl.col("active").any()).filter(~pl.col("active")).height > 0


def test_nobody_listed_twice_on_one_project(small):
    landing, truth, _ = small
    workers = read(landing / D.isoformat(), "jakon_workers").with_row_index("source_row", 1).with_columns(
        pl.col("source_row").cast(pl.Int64))
    records = pl.read_parquet(truth / D.isoformat() / "records.parquet").filter(pl.col("source") == "jakon_workers")
    listed = workers.join(records, on="source_row").filter("usable")
    assert listed.select("person_id", "nomor_proyek").is_duplicated().sum() == 0


def test_inactive_variants_in_the_files(small):
    landing, _, _ = small
    folder = landing / D.isoformat()
    pu = read(folder, "pu_workers").with_columns(parse_date("tanggal_mulai").alias("s"),
                                                 parse_date("tanggal_berhenti").alias("b"))
    assert pu.filter(pl.col("status") == "nonaktif").height > 0
    assert pu.filter((pl.col("status") == "aktif") & (pl.col("b") <= D)).height > 0, "ended but still aktif"
    assert pu.filter((pl.col("status") == "aktif") & (pl.col("s") > D)).height > 0, "starts after D"
    bpu = read(folder, "bpu_participants").with_columns(parse_date("iuran_dibayar_sampai").alias("i"))
    assert bpu.filter((pl.col("status") == "aktif") & (pl.col("i") < D)).height > 0, "contributions lapsed"
    assert bpu["kode_wilayah"].null_count() == 0
    for name, share in (("pu_workers", 0.30), ("jakon_workers", 0.50)):
        empty = read(folder, name)["kode_wilayah_domisili"].is_null().mean()
        assert share - 0.1 < empty < share + 0.05, name


# --- people and dirt --------------------------------------------------------------------------------------

def test_clean_niks_have_the_structure(small, small_rows):
    _, truth, _ = small
    districts = pl.read_csv(REFERENCE / "regions_sultra.csv", infer_schema=False).filter(
        pl.col("level") == "district")["code"].str.replace_all(".", "", literal=True)
    clean = small_rows.filter(pl.col("nik_issue") == "none").with_columns(
        parse_date("tanggal_lahir").alias("born"),
        pl.col("nik").str.slice(6, 2).cast(pl.Int32).alias("dd"),
        pl.col("nik").str.slice(8, 2).alias("mm"), pl.col("nik").str.slice(10, 2).alias("yy"))
    assert clean["nik"].str.contains(r"^\d{16}$").all()
    assert clean["nik"].str.slice(0, 6).is_in(districts.implode()).all()
    assert (clean["nik"].str.slice(0, 6).str.starts_with("7471").mean()) > 0.75
    assert (clean["nik"].str.slice(12, 4) != "0000").all()
    women = clean.filter(pl.col("jenis_kelamin") == "P")
    assert (women["dd"] > 40).all() and (clean.filter(pl.col("jenis_kelamin") == "L")["dd"] <= 31).all()
    same_birth = clean.filter(~pl.col("birth_date_issue")).with_columns(
        (pl.col("dd") % 40).cast(pl.String).str.zfill(2).alias("d2"))
    expected = pl.concat_str([pl.col("d2"), pl.col("mm"), pl.col("yy")])
    assert (same_birth.select(expected == pl.col("born").dt.strftime("%d%m%y")).to_series()).all()
    assert clean.filter("birth_date_issue").height > 0

    persons = pl.read_parquet(truth / D.isoformat() / "persons.parquet")
    shared = persons.group_by("nik").len().filter(pl.col("len") > 1)
    assert (shared["len"] == 2).all() and shared.height == persons["nik_collision"].sum() >= 1
    age = persons.select((pl.lit(D) - pl.col("birth_date")).dt.total_days() / 365.25).to_series()
    assert age.min() >= 18 and age.max() < 65


def test_nik_dirt(small, small_rows):
    _, truth, _ = small
    persons = pl.read_parquet(truth / D.isoformat() / "persons.parquet").select("person_id", pl.col("nik").alias("true"))
    rows = small_rows.join(persons, on="person_id")
    share = rows.group_by("nik_issue").len().with_columns(pl.col("len") / rows.height)
    share = dict(share.iter_rows())
    assert 0.01 < share["missing"] < 0.035 and 0.015 < share["typo"] + share["transposed"] < 0.045
    assert share["scientific"] > 0 and share.get("collision", 0) > 0
    assert rows.filter(pl.col("nik_issue") == "missing")["nik"].null_count() == rows.filter(
        pl.col("nik_issue") == "missing").height
    assert rows.filter(pl.col("nik_issue") == "scientific")["nik"].str.contains(r"^7\.\d{1,5}E\+15$").all()

    def differing(frame: pl.DataFrame) -> list[list[int]]:
        return [[i for i in range(16) if a[i] != b[i]] for a, b in zip(frame["nik"], frame["true"])]

    typos = differing(rows.filter(pl.col("nik_issue") == "typo"))
    assert all(len(d) == 1 for d in typos)
    swaps = differing(rows.filter(pl.col("nik_issue") == "transposed"))
    assert all(len(d) == 2 and d[1] == d[0] + 1 for d in swaps)


def test_names_carry_titles_variants_and_spellings(small_rows):
    names = small_rows["nama"]
    assert names.null_count() == 0
    for pattern in (r"^(H|Hj)\. ", r"(?i)\bS\.(Pd|E|H|Kep|T|Sos|Kom)\b", r"(?i)^(dr|drg|Dr|Ir)\. |(?i) (dr|drg|ir)\. ",
                    r"(?i)\b(Muh\.|Moh\.|M\.|Muhamad|Mohammad)", r"(?i)\bSitti\b", r"(?i)\b(La Ode|Laode)\b",
                    r"(?i)\b(Wa Ode|Waode)\b", r"^[A-Z .,']+$", r"^[A-Z][a-z]"):
        assert names.str.contains(pattern).any(), pattern
    assert names.str.strip_chars().str.contains(" ").mean() > 0.6, "mononyms exist but are the minority"
    spellings = small_rows.group_by("person_id").agg(pl.col("nama").str.to_uppercase().n_unique())
    assert spellings.filter(pl.col("nama") > 1).height > 100, "the same person spelled differently"


def test_formats_vary_within_the_contract(small):
    landing, _, _ = small
    pu = read(landing / D.isoformat(), "pu_workers")
    assert pu["tanggal_mulai"].str.contains(r"^\d{4}-\d{2}-\d{2}$").mean() > 0.7
    assert pu["tanggal_mulai"].str.contains(r"^\d{2}/\d{2}/\d{4}$").any()
    assert pu["tanggal_mulai"].str.contains(r"^\d{2}-\d{2}-\d{4}$").any()
    assert pu["upah"].str.contains(r"^Rp \d{1,3}(\.\d{3})+$").any()
    assert pu["upah"].str.contains(r"^\d{1,3}(\.\d{3})+$").any()
    assert pu["upah"].str.contains(r"^(Rp )?\d{1,3}(\.\d{3})*$|^\d+$").all()
    codes = pu["kode_wilayah_domisili"].drop_nulls()
    assert codes.str.contains(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$").any() and codes.str.contains(r"^\d{10}$").any()
    assert pu["program"].str.contains("JKK,JKM,JHT,JP").any()
    assert set(pu["status"]) == {"aktif", "nonaktif"} and set(pu["jenis_kelamin"]) == {"L", "P"}


def test_mixed_formats_are_readable(tmp_path):
    summary = generate(tmp_path / "landing", tmp_path / "truth", scale=0.02, formats="mixed")
    folder = tmp_path / "landing" / D.isoformat()
    assert not (folder / "employers.csv").exists()
    employers = pl.read_excel(folder / "employers.xlsx", infer_schema_length=0)
    assert ",".join(employers.columns) == HEADERS["employers"]
    assert all(dtype == pl.String for dtype in employers.dtypes)
    assert employers["npp"].str.contains(r"^\d{8}$").all()
    raw = (folder / "bpu_participants.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw[3:].split(b"\n", 1)[0].decode() == HEADERS[
        "bpu_participants"].replace(",", ";")
    bpu = read(folder, "bpu_participants")
    assert bpu.height == summary["registrations"]["bpu_participants"]
    assert (folder / "pu_workers.csv").read_text(encoding="utf-8").startswith(HEADERS["pu_workers"])
    # a later csv run over the same folder leaves one file per source
    generate(tmp_path / "landing", tmp_path / "truth", scale=0.02, formats="csv")
    assert not (folder / "employers.xlsx").exists() and (folder / "employers.csv").exists()


def test_summary_is_complete_json(small):
    _, truth, summary = small
    on_disk = json.loads((truth / D.isoformat() / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(summary))
    for key in ("eligible_workforce", "covered_workers", "covered_outside_area", "registrations", "unusable_rows",
                "active_workers", "segment_overlap", "covered_by_district", "persons"):
        assert key in on_disk
    assert sum(on_disk["covered_by_district"].values()) == on_disk["covered_workers"]
    assert set(on_disk["covered_by_district"]) <= {f"74.71.{i:02d}" for i in range(1, 12)}


# --- chunked runs (above CHUNK_PEOPLE people; forced here with a small chunk) -------------------------------

def test_chunked_run_is_consistent_and_keeps_the_calibration(tmp_path):
    scale = 0.3
    summary = generate(tmp_path / "landing", tmp_path / "truth", scale=scale, seed=7, chunk_people=5_000)
    landing, truth = tmp_path / "landing", tmp_path / "truth"
    assert summary["chunked"] == {"blocks": 4, "chunk_people": 5_000}
    # calibration totals are the area's, however the people are cut into blocks
    assert summary["eligible_workforce"] == round(140_940 * scale)
    assert summary["covered_workers"] == round(49_397 * scale)
    expected = {s: round(CALIBRATION[s] * scale) for s in ("pu_workers", "bpu_participants", "jakon_workers")}
    assert summary["registrations"] == expected

    rows = worker_rows(landing, truth)
    assert dict(rows.group_by("source").len().iter_rows()) == expected, "rows in the files = the summary"
    assert rows["person_id"].null_count() == 0, "every row written has its truth row (source_row across blocks)"
    assert (rows["usable"] == rows["usable_truth"]).all()
    usable = rows.filter("usable")
    assert (usable["active"] == usable["active_truth"]).all()
    people = covered_people(rows)
    assert people.filter(pl.col("region").str.starts_with("7471")).height == summary["covered_workers"]
    segment = {"pu_workers": "PU", "bpu_participants": "BPU", "jakon_workers": "JAKON"}
    per_segment = {segment[s]: n for s, n in usable.filter("active").group_by("source")
                   .agg(pl.col("person_id").n_unique()).iter_rows()}
    assert per_segment == summary["active_workers"]
    registry = pl.read_csv(landing / "civil_registry" / "workforce_2024-12-31.csv", infer_schema=False)
    categories = pl.read_csv(REFERENCE / "occupation_categories.csv", infer_schema=False)
    eligible = registry.join(categories, left_on="pekerjaan", right_on="name").filter(pl.col("category") == "eligible")
    assert eligible["jumlah"].cast(pl.Int64).sum() == summary["eligible_workforce"]

    folder = landing / D.isoformat()
    kpj = pl.concat([read(folder, "pu_workers")["kpj"], read(folder, "bpu_participants")["kpj"]]).drop_nulls()
    assert kpj.is_unique().all(), "kpj unique across the blocks"
    persons = pl.read_parquet(truth / D.isoformat() / "persons.parquet")
    records = pl.read_parquet(truth / D.isoformat() / "records.parquet")
    assert persons["person_id"].to_list() == list(range(1, persons.height + 1))
    assert persons.filter(~pl.col("nik_collision"))["nik"].is_unique().all(), "a NIK per person across the blocks"
    assert persons["nik_collision"].sum() == summary["nik_collision_pairs"] > 0
    # the summary adds up over the blocks: recomputed from the truth files
    inside = persons.filter(pl.col("covered") & pl.col("in_area"))
    assert inside.height == summary["covered_workers"]
    assert dict(sorted(inside.group_by("district_code").len().iter_rows())) == summary["covered_by_district"]
    assert dict(sorted(records.group_by("nik_issue").len().iter_rows())) == summary["nik_issues"]
    assert records["person_id"].n_unique() == summary["persons"]
    assert persons.height - persons["covered"].sum() == summary["persons_without_active_registration"]
    for s in expected:
        numbered = records.filter(pl.col("source") == s)["source_row"].sort()
        assert numbered.to_list() == list(range(1, expected[s] + 1))

    again = generate(tmp_path / "again" / "landing", tmp_path / "again" / "truth", scale=scale, seed=7,
                     chunk_people=5_000)
    assert again == summary
    assert (folder / "pu_workers.csv").read_bytes() == (tmp_path / "again" / "landing" / D.isoformat()
                                                        / "pu_workers.csv").read_bytes(), "a seed per block"
