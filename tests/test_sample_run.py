"""The generated Kendari sample, run end to end and held against its ground truth."""


import duckdb
import polars as pl
import pytest

from assets.ingest import find_source_file, read_landing_file
from sources.catalog import BPU_PARTICIPANTS, JAKON_WORKERS, PU_WORKERS, WORKER_SOURCES
from pipelines.cli import run_snapshot
from sample.generator import generate
from tests.conftest import SAMPLE_DATE, make_warehouse
from tests.privacy import leaks, personal_values
from warehouse.db import load_macros


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    truth = generate(root / "landing", root / "truth", SAMPLE_DATE, seed=7, scale=0.05, formats="mixed")
    warehouse = make_warehouse(root / "landing", root / "warehouse")
    run_snapshot(warehouse, SAMPLE_DATE)
    records = pl.read_parquet(root / "truth" / SAMPLE_DATE.isoformat() / "records.parquet")
    with duckdb.connect(str(warehouse.restricted_db), read_only=True) as con:  # person-level rows: restricted tier
        links = pl.from_arrow(con.sql("SELECT source, source_row, person_key, match_method FROM record_links").to_arrow_table())
    with duckdb.connect(str(warehouse.analytics_db), read_only=True) as con:
        city = con.execute("SELECT eligible_workforce, covered_workers FROM coverage_by_region WHERE level = 'city'").fetchall()[0]
        quality = pl.from_arrow(con.sql("SELECT * FROM data_quality").to_arrow_table())
    return dict(root=root, truth=truth, warehouse=warehouse, records=records, links=links, city=city, quality=quality)


def test_truth_is_kept_outside_the_landing_zone(sample):
    assert not list((sample["root"] / "landing").rglob("*.parquet"))
    assert not list((sample["root"] / "landing").rglob("summary.json"))


def test_eligible_workforce_matches_truth(sample):
    assert sample["city"][0] == sample["truth"]["eligible_workforce"]


def test_every_row_is_loaded_or_quarantined(sample):
    per_source = sample["quality"].group_by("source").agg(
        pl.col("rows_received").sum(), pl.col("rows_loaded").sum(), pl.col("rows_quarantined").sum())
    for source, received, loaded, quarantined in per_source.iter_rows():
        assert received == loaded + quarantined, source
    worker_rows = {s: r for s, r, _, _ in per_source.iter_rows() if s in WORKER_SOURCES}
    assert worker_rows == sample["truth"]["registrations"]
    quarantined = {s: q for s, _, _, q in per_source.iter_rows() if s in WORKER_SOURCES}
    assert quarantined == {s: n for s, n in sample["truth"]["unusable_rows"].items() if s in WORKER_SOURCES}


def test_record_links_cover_every_loaded_worker_row(sample):
    usable = sample["records"].filter("usable").select("source", pl.col("source_row").cast(pl.Int64))
    linked = sample["links"].select("source", "source_row")
    assert linked.sort(pl.all()).equals(usable.sort(pl.all()))


def _exact_splits(sample) -> int:
    """How many extra persons NIK matching alone must report: per covered person, the distinct
    valid NIKs and NIK-less rows among their active registrations, less one."""
    folder = sample["root"] / "landing" / SAMPLE_DATE.isoformat()
    niks = pl.concat([
        read_landing_file(find_source_file(folder, s.name), s).frame.with_row_index("source_row", offset=1)
        .select(pl.lit(s.name).alias("source"), pl.col("source_row").cast(pl.Int64), "nik")
        for s in (PU_WORKERS, BPU_PARTICIPANTS, JAKON_WORKERS)])
    active = sample["records"].filter("usable", "active").with_columns(pl.col("source_row").cast(pl.Int64)).join(
        niks, on=["source", "source_row"])
    with duckdb.connect() as con:
        load_macros(con)
        con.register("active", active)
        return con.execute("""
            SELECT coalesce(sum(anchors - 1), 0) FROM (
                SELECT person_id, count(DISTINCT CASE WHEN nik_is_valid(trim(nik)) THEN trim(nik)
                                                      ELSE source || source_row END) AS anchors
                FROM active GROUP BY person_id)""").fetchall()[0][0]


def _city_covered(warehouse) -> int:
    with duckdb.connect(str(warehouse.analytics_db), read_only=True) as con:
        return con.execute("SELECT covered_workers FROM coverage_by_region WHERE level = 'city'").fetchall()[0][0]


def test_covered_workers_match_truth_but_for_what_nik_matching_cannot_join(sample):
    """NIK matching alone only splits people (never merges, but for shared NIKs): it over-counts by at most
    the active registrations whose NIK is missing, invalid or mistyped."""
    warehouse = make_warehouse(sample["root"] / "landing", sample["root"] / "warehouse_exact", identity_method="exact")
    run_snapshot(warehouse, SAMPLE_DATE)
    covered, truth, splits = _city_covered(warehouse), sample["truth"]["covered_workers"], _exact_splits(sample)
    print(f"\nNIK matching only: covered {covered:,}, ground truth {truth:,}, difference {covered - truth:+,}; "
          f"{splits:,} active registrations carry a NIK that cannot join them to their person")
    assert 0 < covered - truth <= splits


def test_linkage_joins_what_nik_matching_cannot(sample):
    covered, truth, splits = sample["city"][1], sample["truth"]["covered_workers"], _exact_splits(sample)
    print(f"\nNIK + probabilistic linkage: covered {covered:,}, ground truth {truth:,}, difference {covered - truth:+,}")
    assert abs(covered - truth) <= max(2, 0.002 * truth) < splits


def test_no_personal_data_in_analytics(sample):
    personal = personal_values(sample["root"] / "landing" / SAMPLE_DATE.isoformat())
    assert len(personal) > 1000
    assert leaks(sample["warehouse"].analytics_db, personal) == []
    assert leaks(sample["warehouse"].restricted_db, personal) == []  # pseudonymised: no NIK, KPJ, name either
