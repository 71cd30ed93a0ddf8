"""Identity resolution on a real pipeline database: the generator's small Kendari sample with a few
people written in by hand, run through ingest, staging and identity with the shipped Splink model."""

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets import linkage
from pipelines.definitions import all_assets
from warehouse.partitions import ensure_snapshots
from sample.generator import generate
from warehouse.resources import PROJECT_DIR, Warehouse
from tests.conftest import SAMPLE_DATE, make_warehouse
from warehouse.db import connect, duckdb_settings, load_macros

IDENTITY = [dg.AssetKey(["identity", n]) for n in ("record_links", "review_pairs", "nik_collisions")]
DECISIONS_HEADER = "record_key_1,record_key_2,decision,decided_by,decided_on,note\n"

# The fisherman of issue 4: a BPU participant and a worker with the right NIK, a construction worker
# whose NIK has its birth digits mistyped, and a former employee with no NIK, named four ways.
RIZAL_NIK = "7471011407830009"
# Born the same day, same name, another district and NIK, confirmed by two registrations of his own.
LOOKALIKE_NIK = "7471051407830001"
# Wa Ode Nurhayati's NIK, also carried by Jumriah Lapodi (another name, another birth date).
SHARED_NIK = "7471026707880007"

PU = [  # kpj, nik, nama, tanggal_lahir, jenis_kelamin, kode_wilayah_domisili, status
    ("T-PU-1", RIZAL_NIK, "MUHAMMAD RIZAL", "1983-07-14", "L", "74.71.01.1005", "aktif"),
    ("T-PU-2", "", "H. Muhammad Rizal, S.E.", "14/07/1983", "L", "74.71.01.1005", "nonaktif"),
    ("T-PU-3", LOOKALIKE_NIK, "Muhammad Rizal", "1983-07-14", "L", "74.71.05.1007", "aktif"),
    ("T-PU-4", SHARED_NIK, "Wa Ode Nurhayati", "1988-07-27", "P", "74.71.02.1009", "aktif"),
    ("T-PU-5", SHARED_NIK, "Jumriah Lapodi", "1990-03-15", "P", "74.71.03.1001", "aktif"),
    ("T-PU-6", "", "Siti Aminah Pagala", "1985-08-12", "P", "74.71.01.1006", "aktif"),
]
BPU = [  # kpj, nik, nama, tanggal_lahir, jenis_kelamin, kode_wilayah
    ("T-BPU-1", RIZAL_NIK, "Muh. Rizal", "1983-07-14", "L", "74.71.01.1005"),
    ("T-BPU-2", LOOKALIKE_NIK, "MUH. RIZAL", "1983-07-14", "L", "74.71.05.1007"),
    ("T-BPU-3", SHARED_NIK, "WA ODE NURHAYATI", "27-07-1988", "P", "74.71.02.1009"),
    ("T-BPU-4", "", "Aminah Hasan", "1985-08-12", "P", "74.71.04.1003"),
]
JAKON = [  # nik, nama, tanggal_lahir, jenis_kelamin, kode_wilayah_domisili (on the first project of the sample)
    ("7471011407880009", "MUHAMMAD RIZAL", "1983-07-14", "L", None),
    (SHARED_NIK, "JUMRIAH LAPODI", "1990-03-15", "P", None),
]
# Twins of issue 11 on one project, without NIK: same family name, birth date and village, given names one
# or two letters apart. Nothing but the names tells them apart: they stay two people, and go to review.
TWINS = [
    (("Wa Ode Fitri Lapodi", "P"), ("Wa Ode Fitria Lapodi", "P"), "1996-02-11", "74.71.02.1009"),
    (("Ahmad Fauzan Hado", "L"), ("Ahmad Fauzi Hado", "L"), "1994-05-03", "74.71.03.1001"),
    (("Nur Aisyah Pagala", "P"), ("Nur Annisa Pagala", "P"), "1998-09-21", "74.71.04.1003"),
    (("Ikhsan Ramadhan", "L"), ("Ikhwan Ramadhan", "L"), "1993-01-27", "74.71.01.1006"),
]
JAKON += [(None, name, born, sex, village) for pair in TWINS for name, sex in pair[:2] for born, village in [pair[2:]]]


RIZAL_ON_SITE, JUMRIAH_ON_SITE = ":MUHAMMAD RIZAL:1983-07-14", ":JUMRIAH LAPODI:1990-03-15"  # their JAKON keys end so


def _append(path: Path, rows: list[dict]) -> None:
    frame = pl.read_csv(path, infer_schema=False)
    pl.concat([frame, pl.DataFrame(rows, schema={c: pl.String for c in frame.columns})]).write_csv(path)


def _write_people(landing: Path) -> None:
    folder = landing / SAMPLE_DATE.isoformat()
    npp = pl.read_csv(folder / "employers.csv", infer_schema=False).filter(pl.col("status") == "aktif")["npp"][0]
    project = pl.read_csv(folder / "jakon_projects.csv", infer_schema=False)["nomor_proyek"][0]
    _append(folder / "pu_workers.csv", [
        {"kpj": k, "nik": n or None, "nama": a, "tanggal_lahir": b, "jenis_kelamin": s, "npp": npp, "upah": "3000000",
         "program": "JKK,JKM", "kode_wilayah_domisili": v, "tanggal_mulai": "2021-01-04",
         "tanggal_berhenti": None if st == "aktif" else "2023-12-31", "status": st}
        for k, n, a, b, s, v, st in PU])
    _append(folder / "bpu_participants.csv", [
        {"kpj": k, "nik": n or None, "nama": a, "tanggal_lahir": b, "jenis_kelamin": s, "pekerjaan": "Nelayan",
         "penghasilan": "2000000", "program": "JKK,JKM", "kode_wilayah": v, "tanggal_daftar": "2024-01-01",
         "iuran_dibayar_sampai": "2025-12-31", "status": "aktif"} for k, n, a, b, s, v in BPU])
    _append(folder / "jakon_workers.csv", [
        {"nomor_proyek": project, "nik": n, "nama": a, "tanggal_lahir": b, "jenis_kelamin": s,
         "kode_wilayah_domisili": v} for n, a, b, s, v in JAKON])


def configured(warehouse: Warehouse, **changes) -> Warehouse:
    """A changed copy. Not model_copy(update=...): Dagster rebuilds a resource from the arguments it was
    constructed with, so such changes never reach the assets."""
    return Warehouse(**{**warehouse.model_dump(), **changes})


def materialize(warehouse, selection) -> dg.ExecuteInProcessResult:
    return dg.materialize(all_assets, selection=selection, partition_key=SAMPLE_DATE.isoformat(),
                          instance=ensure_snapshots(SAMPLE_DATE), resources={"warehouse": warehouse}, raise_on_error=False,
                          run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})


def link_metadata(result) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(["identity", "record_links"]):
            return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
    raise AssertionError("identity/record_links was not materialised")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A sample with the hand-written people, staged once; identity runs on copies of its database."""
    root = tmp_path_factory.mktemp("linkage")
    generate(root / "landing", root / "truth", SAMPLE_DATE, seed=3, scale=0.05)
    _write_people(root / "landing")
    shutil.copytree(PROJECT_DIR / "reference", root / "reference")
    (root / "reference" / "review_decisions.csv").write_text(DECISIONS_HEADER)
    warehouse = configured(make_warehouse(root / "landing", root / "warehouse"), reference_dir=str(root / "reference"))
    result = materialize(warehouse, dg.AssetSelection.assets(*IDENTITY).upstream())
    assert result.success, [e.step_failure_data.error.to_string() for e in result.all_events if e.is_step_failure]
    return {"root": root, "warehouse": warehouse, "metadata": link_metadata(result)}


def rerun(world, name: str, *, decisions: str = DECISIONS_HEADER, **settings):
    """identity alone, again, on a copy of the staged database, with other decisions or settings."""
    root = world["root"] / name
    shutil.copytree(world["root"] / "warehouse", root / "warehouse")
    shutil.copytree(world["root"] / "reference", root / "reference")
    (root / "reference" / "review_decisions.csv").write_text(decisions)
    warehouse = configured(world["warehouse"], warehouse_dir=str(root / "warehouse"),
                           reference_dir=str(root / "reference"), **settings)
    return warehouse, materialize(warehouse, dg.AssetSelection.assets(*IDENTITY))


def links(warehouse) -> dict[str, tuple]:
    """record_key -> (person_id, match_method, match_probability) for the hand-written records."""
    with duckdb.connect(str(warehouse.pipeline_db), read_only=True) as con:
        rows = con.execute("""SELECT record_key, person_id, match_method, match_probability FROM identity.record_links
                              WHERE record_key LIKE '%:T-%' OR record_key LIKE 'jakon:%:MUHAMMAD RIZAL:1983-07-14'
                                 OR record_key LIKE 'jakon:%:JUMRIAH LAPODI:1990-03-15'""").fetchall()
    return {key: rest for key, *rest in rows}


def jakon(name: str) -> str:
    """A JAKON record's key (project, NIK, name and birth date: it has no KPJ)."""
    return next(k for k in JAKON_KEYS if name in k)


JAKON_KEYS: list[str] = []


@pytest.fixture(scope="module")
def linked(world):
    got = links(world["warehouse"])
    JAKON_KEYS[:] = [k for k in got if k.startswith("jakon:")]
    return got


def test_one_fisherman_however_his_forms_spell_him(linked):
    rizal = ["bpu:T-BPU-1", "pu:T-PU-1", "pu:T-PU-2", jakon(RIZAL_ON_SITE)]
    assert {linked[k][0] for k in rizal} == {f"nik:{RIZAL_NIK}"}
    assert linked["pu:T-PU-1"][1:] == linked["bpu:T-BPU-1"][1:] == ["nik", 1.0]  # joined by their agreeing NIK
    for key in ("pu:T-PU-2", jakon(RIZAL_ON_SITE)):  # no NIK; birth digits off: Splink
        method, probability = linked[key][1:]
        assert method == "probabilistic" and probability >= 0.9


def test_a_namesake_born_the_same_day_stays_apart(linked):
    assert linked["pu:T-PU-3"][0] == linked["bpu:T-BPU-2"][0] == f"nik:{LOOKALIKE_NIK}"
    assert linked["pu:T-PU-3"][0] != linked["pu:T-PU-1"][0]


def test_a_nik_carried_by_two_people_keeps_them_apart_and_is_listed(world, linked):
    nurhayati = {linked[k][0] for k in ("pu:T-PU-4", "bpu:T-BPU-3")}
    jumriah = {linked[k][0] for k in ("pu:T-PU-5", jakon(JUMRIAH_ON_SITE))}
    assert len(nurhayati) == len(jumriah) == 1 and nurhayati != jumriah
    assert nurhayati == {f"nik:{SHARED_NIK}"}  # the NIK belongs to the one whose birth date it encodes
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        listed = con.execute("SELECT persons, records FROM identity.nik_collisions WHERE nik = ?", [SHARED_NIK]).fetchall()
    assert listed == [(2, 4)]


def test_every_loaded_registration_has_one_person_and_the_metadata_explains_the_model(world):
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        loaded, linked_rows, methods = con.execute("""
            SELECT (SELECT count(*) FROM staging.registrations), count(*), list(DISTINCT match_method ORDER BY match_method)
            FROM identity.record_links""").fetchall()[0]
        singles_with_probability = con.execute("SELECT count(*) FROM identity.record_links WHERE match_method = 'single' "
                                                "AND match_probability IS NOT NULL").fetchall()[0][0]
    assert loaded == linked_rows and methods == ["nik", "probabilistic", "single"] and singles_with_probability == 0
    meta = world["metadata"]
    assert meta["identity_method"] == "probabilistic" and meta["pairs_scored"] > 0
    assert "linkage_model.json" in meta["model"] and "same NIK, same birth date" in meta["model_parameters"]
    assert sum(meta["pairs_by_blocking_rule"].values()) == meta["pairs_scored"]


def test_the_review_table_shows_both_records_side_by_side(world):
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        columns = [c for c, *_ in con.execute("DESCRIBE identity.review_pairs").fetchall()]
        low, sure_but_linked = con.execute(
            "SELECT min(match_probability), count(*) FILTER (WHERE match_probability >= 0.99 AND linked) "
            "FROM identity.review_pairs WHERE decision IS NULL").fetchall()[0]
    assert {"record_key_1", "record_key_2", "nama_1", "nama_2", "nik_1", "tanggal_lahir_2", "linked", "decision"} <= set(columns)
    assert low is None or low >= 0.4
    assert sure_but_linked == 0  # above the uncertain band: only look-alikes, kept apart for review


def test_reviewers_decisions_apply_on_the_next_run(world, linked):
    decisions = DECISIONS_HEADER + "\n".join([
        "pu:T-PU-6,bpu:T-BPU-4,same,reviewer A,2025-06-10,married name",  # the model cannot see it
        f"{jakon(RIZAL_ON_SITE)},bpu:T-BPU-1,different,reviewer B,2025-06-10,checked the KTP",
        "pu:NO-SUCH-KPJ,bpu:T-BPU-1,same,reviewer C,2025-01-01,record since withdrawn",
    ]) + "\n"
    assert linked["pu:T-PU-6"][0] != linked["bpu:T-BPU-4"][0]
    warehouse, result = rerun(world, "decided", decisions=decisions)
    assert result.success
    after = links(warehouse)
    assert after["pu:T-PU-6"][0] == after["bpu:T-BPU-4"][0] and after["pu:T-PU-6"][1:] == ["probabilistic", 1.0]
    assert after[jakon(RIZAL_ON_SITE)][0] != after["bpu:T-BPU-1"][0]
    assert after["pu:T-PU-1"][0] == after["bpu:T-BPU-1"][0] == after["pu:T-PU-2"][0]
    meta = link_metadata(result)
    assert (meta["review_decisions_applied"], meta["review_decisions_not_found"]) == (2, 1)
    with duckdb.connect(str(warehouse.pipeline_db), read_only=True) as con:
        shown = dict(con.execute("SELECT record_key_1 || '|' || record_key_2, decision FROM identity.review_pairs "
                                 "WHERE decision IS NOT NULL").fetchall())
    assert sorted(shown.values()) == ["different", "same"]


def test_a_decision_file_a_person_cannot_have_meant_stops_the_run(world):
    _, result = rerun(world, "bad", decisions=DECISIONS_HEADER + "pu:T-PU-1,bpu:T-BPU-1,maybe,x,2025-06-10,\n")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "review_decisions.csv" in str(failure.step_failure_data.error) and "same or different" in str(
        failure.step_failure_data.error)


def test_person_ids_are_stable_from_run_to_run(world, linked):
    warehouse, result = rerun(world, "again")
    assert result.success
    with duckdb.connect(str(warehouse.pipeline_db), read_only=True) as con:
        again = con.execute("SELECT source, source_row, person_id FROM identity.record_links ORDER BY ALL").fetchall()
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        first = con.execute("SELECT source, source_row, person_id FROM identity.record_links ORDER BY ALL").fetchall()
    assert again == first


def test_a_new_registration_leaves_everyone_else_s_person_id_alone(world, tmp_path):
    shutil.copy(world["warehouse"].pipeline_db, tmp_path / "p.duckdb")
    model = Path(world["warehouse"].reference_dir) / "linkage_model.json"
    with duckdb.connect(str(tmp_path / "p.duckdb")) as con, linkage.workspace(con) as (_, home):
        load_macros(con)
        con.execute(f"CREATE TEMP TABLE before AS SELECT * FROM {home}.staging.registrations "
                    f"WHERE snapshot_date = DATE '{SAMPLE_DATE}'")
        linkage.resolve(con, "before", options=linkage.Options(model_path=model))
        con.execute("CREATE TEMP TABLE first_ids AS SELECT source, source_row, person_id FROM resolved")
        con.execute("""CREATE TEMP TABLE after AS SELECT * FROM before UNION ALL
                       SELECT * REPLACE ('pu_workers' AS source, 999999 AS source_row, 'pu:T-NEW' AS record_key,
                                         'Yohanis Palinggi' AS nama, NULL AS nik, false AS nik_valid, false AS nik_agrees)
                       FROM before LIMIT 1""")
        linkage.resolve(con, "after", options=linkage.Options(model_path=model))
        changed = con.execute("SELECT count(*) FROM first_ids f JOIN resolved r USING (source, source_row) "
                              "WHERE f.person_id <> r.person_id").fetchall()[0][0]
    assert changed == 0


def test_exact_matching_is_kept_for_comparison(world):
    warehouse, result = rerun(world, "exact", identity_method="exact")
    assert result.success and link_metadata(result)["identity_method"] == "exact"
    exact = links(warehouse)
    assert exact["pu:T-PU-1"][0] == exact["bpu:T-BPU-1"][0] == f"nik:{RIZAL_NIK}"
    assert exact["pu:T-PU-2"][1] == "single" and exact[jakon(RIZAL_ON_SITE)][0] != f"nik:{RIZAL_NIK}"
    # NIK alone merges Wa Ode Nurhayati with the woman who carries her NIK
    assert exact["pu:T-PU-5"][0] == exact["pu:T-PU-4"][0]


def test_twins_stay_apart_and_go_to_review(world):
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        person = dict(con.execute("SELECT record_key, person_id FROM identity.record_links "
                                  "WHERE source = 'jakon_workers'").fetchall())
        reviewed = con.execute("SELECT nama_1, nama_2, linked FROM identity.review_pairs").fetchall()
    key = {tuple(k.split(":")[3:5]): k for k in person}  # jakon:<project>:<NIK>:<NAME>:<birth date>
    in_review = {frozenset((a.upper(), b.upper())): linked for a, b, linked in reviewed}
    for (one, _), (other, _), born, _ in TWINS:
        assert person[key[one.upper(), born]] != person[key[other.upper(), born]], (one, other)
        assert in_review.get(frozenset((one.upper(), other.upper()))) is False, (one, other)
    assert world["metadata"]["look_alikes_to_review"] >= len(TWINS)


def test_the_run_estimates_its_own_parameters_stores_them_and_charts_them(world):
    meta = world["metadata"]
    assert meta["parameters_from"].startswith("estimated on this run's")
    for name in ("match_weights", "m_u_parameters"):
        chart = Path(meta[f"chart_{name}"])
        assert chart.parent == Path(world["warehouse"].warehouse_dir) / "identity" / SAMPLE_DATE.isoformat()
        html = chart.read_text()
        assert "vega" in html and "cdn.jsdelivr" not in html and len(html) > 100_000  # the scripts inlined
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        stored = con.execute("SELECT parameters_from, accept, splink_settings FROM identity.linkage_models").fetchall()
    assert len(stored) == 1 and stored[0][0] == meta["parameters_from"] and stored[0][1] == meta["accept_at_probability"]
    assert json.loads(stored[0][2])["probability_two_random_records_match"] == meta["prior_two_records_match"]


def test_too_few_registrations_fall_back_to_the_shipped_parameters():
    prior, _ = linkage.load_model(PROJECT_DIR / "reference" / "linkage_model.json")
    with duckdb.connect() as con:
        con.execute("CREATE TEMP TABLE link_features AS SELECT range AS unique_id FROM range(2)")
        model, note = linkage.estimate(con, prior)
    assert model == prior and note.startswith("shipped parameters")


def test_many_registrations_estimate_on_a_fixed_sample_whatever_the_thread_count(world, monkeypatch):
    """Above linkage.ESTIMATION_MAX_RECORDS the parameters are estimated on a fixed sample of at most about that
    many records (a hash of unique_id): the same sample and model at one thread and at two, and not the model that
    all records give."""
    prior, _ = linkage.load_model(PROJECT_DIR / "reference" / "linkage_model.json")
    models = {}
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        load_macros(con)
        with linkage.workspace(con) as (_, home):
            records = linkage.features(con, f"{home}.staging.registrations")
            models["all"] = linkage.estimate(con, prior)
            monkeypatch.setattr(linkage, "ESTIMATION_MAX_RECORDS", records // 3)
            for threads in (1, 2):
                con.execute(f"SET threads = {threads}")
                models[threads] = linkage.estimate(con, prior)
    (whole, whole_note), (one, note), (two, note_two) = models["all"], models[1], models[2]
    kept = int(note.split("a fixed sample of ")[1].split(" ")[0].replace(",", ""))
    assert f"this run's {records:,} registrations, a fixed sample of" in note and note_two == note
    share = records / -(-records // (records // 3))  # one record in every ceil(records / most), by its hash
    assert share * 0.8 < kept < share * 1.2 and "sample" not in whole_note
    assert one == two and one != whole and one != prior


@pytest.mark.parametrize("nik_1, nik_2, look_alike", [
    (None, None, True),  # nothing but the names: a twin or a slip, review
    ("7471012701930001", "7471012701930002", True),  # consecutive serials: how twins' NIKs are issued
    ("7471012701930001", "7471012701930012", True),  # two serial digits apart: not a slip
    ("7471012701930001", "7471012701930007", False),  # one serial digit slipped, not the next serial: one person
    ("7471012701930001", "7402052701930001", False),  # two regions: not twins, whose NIKs share theirs
    ("7471012701930001", "7471062701930001", False),  # a slip in the region digits
])
def test_a_nik_decides_a_look_alike_only_when_it_cannot_be_a_twin_s(nik_1, nik_2, look_alike):
    """Ikhsan / Ikhwan Ramadhan, one birth date and village: the names alone send the pair to review; a NIK
    pair that twins could not hold (twins share region and birth digits, their serials run on) decides it."""
    with duckdb.connect() as con:
        load_macros(con)
        _two_records(con, nik_1, nik_2)
        linkage.features(con, "recs")
        got = con.execute(f"SELECT {linkage.LOOK_ALIKE} FROM link_features l JOIN link_features r "
                          "ON l.unique_id < r.unique_id").fetchall()
    assert got == [(look_alike,)]


def _two_records(con, nik_1=None, nik_2=None) -> None:
    con.execute("""CREATE OR REPLACE TEMP TABLE recs AS SELECT * FROM (VALUES
        ('jakon', 1, 'a', ?, ? IS NOT NULL, ? IS NOT NULL, 'Ikhsan Ramadhan', DATE '1993-01-27', 'L', '74.71.01.1006'),
        ('jakon', 2, 'b', ?, ? IS NOT NULL, ? IS NOT NULL, 'Ikhwan Ramadhan', DATE '1993-01-27', 'L', '74.71.01.1006'))
        t(source, source_row, record_key, nik, nik_valid, nik_agrees, nama, tanggal_lahir, jenis_kelamin,
          domicile_village)""", [nik_1] * 3 + [nik_2] * 3)


def _scratch_left(con, spill: Path, prefix: str = "linkage_splink_") -> tuple[list, list]:
    attached = con.execute("SELECT database_name FROM duckdb_databases() WHERE starts_with(database_name, ?)",
                           [prefix]).fetchall()
    return sorted(p.name for p in spill.glob(f"{prefix}*")), attached


def test_splink_works_in_a_scratch_database_under_the_project_s_memory_limit_and_leaves_nothing(tmp_path, monkeypatch):
    """Splink's database is a file in the pipeline's spill directory, on the pipeline connection's database
    instance (so its memory limit, here from JAMSOSTEK_DUCKDB_MEMORY_LIMIT), filled and read by SQL; the file
    is gone afterwards, also when Splink fails."""
    monkeypatch.setenv("JAMSOSTEK_DUCKDB_MEMORY_LIMIT", "300MB")
    spill = tmp_path / "spill"
    model, _ = linkage.load_model(PROJECT_DIR / "reference" / "linkage_model.json")
    with connect(tmp_path / "pipeline.duckdb", temp_directory=spill) as con, linkage.workspace(con):
        _two_records(con)
        assert linkage.features(con, "recs") == 2
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        with linkage._splink(con, model) as splink:
            inside = splink.con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
                                        "current_setting('lambda_syntax')").fetchall()[0]
            files, attached = _scratch_left(con, spill)
            scratch_db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?",
                                     [attached[0][0]]).fetchall()[0][0]
            records = con.execute(f"SELECT count(*), min(name_key) FROM {splink.table('records')}").fetchall()
            pairs = splink.linker.inference.predict(warning_mode="never")  # Splink writes into the scratch file
            scored = con.execute(f"SELECT count(*) FROM {splink.table(pairs.physical_name)}").fetchall()[0][0]
        assert limit == "286.1 MiB" and inside == (limit, str(spill.resolve()), "ENABLE_SINGLE_ARROW")
        assert files[0] == Path(scratch_db).name and Path(scratch_db).parent == spill.resolve()  # (and its .wal)
        assert records == [(2, "iksan ramadan")] and scored == 1
        assert _scratch_left(con, spill) == ([], [])
        with pytest.raises(RuntimeError, match="Splink failed"):
            with linkage._splink(con, model):
                raise RuntimeError("Splink failed")
        assert _scratch_left(con, spill) == ([], [])


def test_the_identity_step_leaves_no_scratch_database(world):
    spill = Path(duckdb_settings(world["warehouse"].pipeline_db)["temp_directory"])
    assert world["metadata"]["pairs_scored"] > 0
    assert not list(spill.glob(f"{linkage.WORKSPACE}_*")) and not list(spill.glob("linkage_splink_*"))
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:  # nothing of it in the database
        assert not con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()


def test_the_linkage_refuses_to_write_its_working_tables_into_a_database_file(tmp_path):
    """On a file database outside a workspace the linkage's tables (millions of rows) would land in that file."""
    with duckdb.connect(str(tmp_path / "p.duckdb")) as con:
        _two_records(con)
        with pytest.raises(RuntimeError, match="linkage.workspace"):
            linkage.features(con, "recs")
        assert not con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'p'").fetchall()
        with linkage.workspace(con) as (work, home):
            assert linkage.features(con, "recs") == 2 and home == "p"
            path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?", [work]).fetchall()[0][0]
        assert con.execute("SELECT current_database()").fetchall() == [("p",)] and not Path(path).exists()


def test_the_prior_is_counted_in_sql_from_the_nik_groups():
    """3 records of one trusted NIK (3 pairs), 2 of another (1), 1 untrusted: 4 pairs / 0.88 of 15."""
    with duckdb.connect() as con:
        con.execute("""CREATE TEMP TABLE link_features AS SELECT * FROM (VALUES
            ('a', true), ('a', true), ('a', true), ('b', true), ('b', true), ('a', false)) t(nik, nik_trusted)""")
        assert linkage.run_prior(con) == pytest.approx(4 / linkage.NIK_PAIR_RECALL / 15)
        con.execute("DELETE FROM link_features WHERE nik = 'b' OR NOT nik_trusted")
        assert linkage.run_prior(con) == 0.5  # 3 pairs of 3 would be more than certain: capped


@pytest.mark.parametrize("trusted, pairs", [(7, 7), (4, 4 + 6)])
def test_namesakes_born_the_same_day_with_trusted_niks_are_paired_only_in_small_blocks(trusted, pairs):
    """One record without a NIK and `trusted` records with trusted NIKs of their own, all born the same day and
    named Rizal <another family name>: the record without a NIK is compared with each; two trusted NIKs only
    where the block holds at most `cap_trusted` (6) records, since their pairs grow as the population squared."""
    with duckdb.connect() as con:
        con.execute("""CREATE TABLE f AS SELECT i AS unique_id, DATE '1990-01-01' AS dob, 1990 AS birth_year,
                              '0101' AS birth_md, 'rizal' AS name_first, 'family' || i AS name_last,
                              'rizal family' || i AS name_key, 'family' || i || ' rizal' AS name_sorted,
                              ['rizal', 'family' || i] AS name_tokens, NULL::VARCHAR AS village,
                              CASE WHEN i > 0 THEN '74' || lpad(i::VARCHAR, 2, '0') || '01010190' || lpad(i::VARCHAR, 4, '0') END AS nik,
                              i > 0 AS nik_trusted
                       FROM range(?) t(i)""", [trusted + 1])
        for statement in linkage.blocking_sql("f"):
            con.execute(statement)
        got = con.execute("SELECT rule, count(*), count(*) FILTER (WHERE id_l = 0) FROM blocked GROUP BY rule").fetchall()
    assert linkage.BLOCKING_RULES["birth_first_name"].cap_trusted == 6
    assert got == [(list(linkage.BLOCKING_RULES).index("birth_first_name"), pairs, trusted)]


def test_blocking_never_pairs_two_records_of_one_trusted_nik_and_pairs_different_ones():
    """Stage one joins records of one trusted NIK: blocking leaves their pair out and keeps the pairs with another
    trusted NIK of the block (NIKs compared as numbers in the keys: 16 digits, so equal exactly when the text is)."""
    with duckdb.connect() as con:
        con.execute("""CREATE TABLE f AS SELECT i AS unique_id, DATE '1990-01-01' AS dob, 1990 AS birth_year,
                              '0101' AS birth_md, 'rizal' AS name_first, 'rizal' AS name_last, 'rizal' AS name_key,
                              'rizal' AS name_sorted, ['rizal'] AS name_tokens, NULL::VARCHAR AS village,
                              CASE WHEN i < 2 THEN '7471010101900001' ELSE '7471010101900002' END AS nik,
                              true AS nik_trusted
                       FROM range(3) t(i)""")
        for statement in linkage.blocking_sql("f"):
            con.execute(statement)
        assert con.execute("SELECT id_l, id_r FROM blocked ORDER BY ALL").fetchall() == [(0, 2), (1, 2)]


def test_a_workspace_opens_on_a_read_only_connection(tmp_path):
    """An analyst's or benchmark's read-only connection to the pipeline database can still link: the workspace is
    a file of its own, attached read-write."""
    duckdb.connect(str(tmp_path / "p.duckdb")).close()
    with duckdb.connect(str(tmp_path / "p.duckdb"), read_only=True) as con, linkage.workspace(con):
        _two_records(con)
        assert linkage.features(con, "recs") == 2


@pytest.mark.parametrize("second, fourth, message", [
    ("('jakon', 1, 'b')", "('pu_workers', 2, 'd')", r"some \(source, source_row\) is carried by more than one record "
                                                  r"\(4 records gave 6 rows\)"),
    ("('jakon', 1, 'a')", "('pu_workers', 2, 'd')", r"\(4 records gave 6 rows\)"),
    # a NULL key would join no id: lost, and beside a pair twice the counts would even out
    ("('jakon', 1, 'b')", "(NULL, 2, 'd')", r"1 records have no source or no source_row"),
    ("('jakon', 2, 'b')", "('pu_workers', NULL, 'd')", r"1 records have no source or no source_row"),
])
def test_records_without_a_source_row_or_sharing_one_are_refused_by_name(second, fourth, message):
    """A record is its (source, source_row): input that holds one twice (a union taken twice, a national source
    without its province prefix) or none would join its ids twice or not at all, and count people wrongly."""
    with duckdb.connect() as con:
        load_macros(con)
        con.execute(f"""CREATE TEMP TABLE recs AS SELECT *, '7471016701930001' AS nik, true AS nik_valid,
                            true AS nik_agrees, 'Wa Ode Nurhayati' AS nama, DATE '1993-01-27' AS tanggal_lahir,
                            'P' AS jenis_kelamin, '74.71.01.1006' AS domicile_village
                        FROM (VALUES ('jakon', 1, 'a'), {second}, ('pu_workers', 1, 'c'), {fourth})
                             t(source, source_row, record_key)""")
        with pytest.raises(ValueError, match="recs: " + message if message.startswith("some") else message):
            linkage.features(con, "recs")
        assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name = 'link_features'").fetchall()
        con.execute("DELETE FROM recs WHERE rowid IN (1, 3)")  # the second and the fourth
        assert linkage.features(con, "recs") == 2


def test_a_nik_that_is_not_sixteen_digits_is_never_trusted_whatever_nik_agrees_says():
    """Two people whose input marks a malformed NIK as agreeing are not one NIK group (a NULL NIK is no NIK)."""
    with duckdb.connect() as con:
        load_macros(con)
        con.execute("""CREATE TEMP TABLE recs AS SELECT * FROM (VALUES
            ('pu_workers', 1, 'a', NULL, 'Ikhsan Ramadhan', DATE '1993-01-27', 'L'),
            ('pu_workers', 2, 'b', '12345', 'Nurhayati', DATE '1988-03-02', 'P'),
            ('pu_workers', 3, 'c', '7471012701930001', 'Rizal', DATE '1993-01-27', 'L'))
            t(source, source_row, record_key, nik, nama, tanggal_lahir, jenis_kelamin)""")
        con.execute("""CREATE TEMP TABLE input AS SELECT *, true AS nik_valid, true AS nik_agrees,
                       '74.71.01.1006' AS domicile_village FROM recs""")
        linkage.features(con, "input")
        trusted = dict(con.execute("SELECT record_key, nik_trusted FROM link_features").fetchall())
        assert trusted == {"a": False, "b": False, "c": True}
        con.execute("CREATE TABLE link_predictions (unique_id_l BIGINT, unique_id_r BIGINT, match_probability DOUBLE)")
        linkage._load_decisions(con, None)
        linkage.cluster(con, 0.5)
        assert con.execute("SELECT count(DISTINCT person_id) FROM resolved").fetchall() == [(3,)]


@pytest.mark.parametrize("pairs_per_chunk", [5_000, 997])
def test_scoring_in_chunks_scores_every_pair_once_and_gives_the_same_links(world, pairs_per_chunk):
    """Splink scores the candidate pairs in chunks (so that 50 million registrations' comparison rows do not
    spill all at once), each on its chunk's records with the term frequencies of all: any chunk size gives the
    same predictions and person ids."""
    model = PROJECT_DIR / "reference" / "linkage_model.json"
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        load_macros(con)
        runs = []
        for size in (10_000_000, pairs_per_chunk):
            with linkage.workspace(con) as (_, home):
                stats = linkage.resolve(con, f"{home}.staging.registrations", options=linkage.Options(
                    model_path=model, estimate=False, pairs_per_chunk=size))
                runs.append((stats, con.execute("SELECT unique_id_l, unique_id_r, match_probability FROM "
                                                "link_predictions ORDER BY ALL").fetchall(),
                             con.execute("SELECT * FROM resolved ORDER BY ALL").fetchall()))
    (whole, predictions, resolved), (chunked, chunk_predictions, chunk_resolved) = runs
    # chunks by the left record's birth date, hashed: as many as the size asks for, unless a share got no pair
    assert 1 < chunked["scoring_chunks"] <= -(-whole["pairs_scored"] // pairs_per_chunk) and whole["scoring_chunks"] == 1
    assert len(predictions) > 100 and chunk_predictions == predictions and chunk_resolved == resolved


def test_estimating_beside_blocking_gives_the_model_and_links_of_one_after_the_other(world, monkeypatch):
    """Below linkage.OVERLAP_MAX_RECORDS the model is estimated on a second connection while the main one
    blocks; above it, one after the other. Same records, same model, predictions and person ids."""
    model = PROJECT_DIR / "reference" / "linkage_model.json"
    runs = []
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        load_macros(con)
        for limit in (linkage.OVERLAP_MAX_RECORDS, 0):
            monkeypatch.setattr(linkage, "OVERLAP_MAX_RECORDS", limit)
            with linkage.workspace(con) as (_, home):
                stats = linkage.resolve(con, f"{home}.staging.registrations", options=linkage.Options(model_path=model))
                runs.append((stats, con.execute("SELECT splink_settings, prior FROM link_model").fetchall(),
                             con.execute("SELECT * FROM link_predictions ORDER BY ALL").fetchall(),
                             con.execute("SELECT * FROM resolved ORDER BY ALL").fetchall()))
    (beside, *results_beside), (after, *results_after) = runs
    assert beside["estimation"].startswith("estimated on this run") and after["estimation"] == beside["estimation"]
    assert list(beside["seconds"])[:3] == ["features", "blocking", "estimation"]  # blocking went first
    assert beside["seconds"]["estimation_beside_blocking"] > 0 and "estimation_beside_blocking" not in after["seconds"]
    assert list(after["seconds"])[:3] == ["features", "estimation", "blocking"]
    assert len(results_beside[1]) > 100 and results_beside == results_after


def test_an_estimation_that_fails_beside_blocking_fails_the_linkage_with_its_message(world, tmp_path):
    """The estimation's own error reaches the caller (here: a model file for other comparisons), after it
    has stopped, and no scratch database of either connection is left attached."""
    model = json.loads((PROJECT_DIR / "reference" / "linkage_model.json").read_text())
    model["comparisons"][0]["comparison_levels"][1]["sql_condition"] = "1 = 1"
    wrong = tmp_path / "wrong_model.json"
    wrong.write_text(json.dumps(model))
    with duckdb.connect(str(world["warehouse"].pipeline_db), read_only=True) as con:
        load_macros(con)
        with linkage.workspace(con) as (_, home):
            with pytest.raises(ValueError, match="trained for other comparisons"):
                linkage.resolve(con, f"{home}.staging.registrations", options=linkage.Options(model_path=wrong))
            assert con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name LIKE 'linkage_splink_%'"
                               ).fetchall() == [(0,)]
