"""Identity: every worker registration linked to one person_id, one per human."""


from datetime import date

import dagster as dg

from assets import linkage
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse
from warehouse.db import replace_rows, transaction

# Every loaded registration of the three segments, in one shape, with its activity at the snapshot date.
REGISTRATION_COLUMNS = ("source, source_row, segment, record_key, kpj, nik, nama, tanggal_lahir, jenis_kelamin, "
                        "domicile_village, start_date, is_active")
REGISTRATIONS_SQL = """
WITH unioned AS (
    SELECT snapshot_date, 'pu_workers' AS source, source_row, 'PU' AS segment, 'pu:' || kpj AS record_key,
           kpj, nik, nama, tanggal_lahir, jenis_kelamin, kode_wilayah_domisili AS domicile_village,
           tanggal_mulai AS start_date,
           status = 'aktif' AND tanggal_mulai <= snapshot_date
               AND (tanggal_berhenti IS NULL OR tanggal_berhenti > snapshot_date) AS is_active
    FROM staging.pu_workers WHERE snapshot_date = $snapshot_date
    UNION ALL
    SELECT snapshot_date, 'bpu_participants', source_row, 'BPU', 'bpu:' || kpj,
           kpj, nik, nama, tanggal_lahir, jenis_kelamin, kode_wilayah,
           tanggal_daftar,
           status = 'aktif' AND tanggal_daftar <= snapshot_date AND iuran_dibayar_sampai >= snapshot_date
    FROM staging.bpu_participants WHERE snapshot_date = $snapshot_date
    UNION ALL
    SELECT w.snapshot_date, 'jakon_workers', w.source_row, 'JAKON',
           'jakon:' || w.nomor_proyek || ':' || coalesce(w.nik, '') || ':' || upper(w.nama) || ':' || coalesce(w.tanggal_lahir::VARCHAR, ''),
           NULL, w.nik, w.nama, w.tanggal_lahir, w.jenis_kelamin, w.kode_wilayah_domisili,
           p.tanggal_mulai,
           p.tanggal_mulai <= w.snapshot_date AND w.snapshot_date <= p.tanggal_selesai
    FROM staging.jakon_workers w
    JOIN staging.jakon_projects p ON p.snapshot_date = w.snapshot_date AND p.nomor_proyek = w.nomor_proyek
    WHERE w.snapshot_date = $snapshot_date
)
SELECT *, nik_is_valid(nik) AS nik_valid,
       nik_is_valid(nik) AND substr(nik, 7, 6) = nik_birth_digits(tanggal_lahir, jenis_kelamin) AS nik_agrees
FROM unioned
"""


@dg.asset(
    key=["staging", "registrations"], group_name="staging", partitions_def=snapshot_partitions, pool="pipeline_db",
    deps=[dg.AssetKey(["staging", s]) for s in ("pu_workers", "bpu_participants", "jakon_workers", "jakon_projects")],
    kinds={"duckdb"},
)
def staging_registrations(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every loaded worker registration (PU, BPU, JAKON) in one shape, and whether it is active at the snapshot date.

    Active PU: status aktif, started on or before the date, not stopped by it. Active BPU: aktif,
    registered on or before the date, contributions paid up to at least the date. Active JAKON:
    listed on a project whose coverage period contains the date.
    """
    snapshot_date = date.fromisoformat(context.partition_key)
    with warehouse.connect() as con:
        rows = _replace(con, "staging.registrations", snapshot_date, REGISTRATIONS_SQL)
        by_segment = con.execute("""SELECT segment, count(*), count(*) FILTER (WHERE is_active),
                                           count(*) FILTER (WHERE NOT nik_valid OR nik_valid IS NULL)
                                    FROM staging.registrations WHERE snapshot_date = ? GROUP BY ALL ORDER BY 1""",
                                 [snapshot_date]).fetchall()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        **{f"{seg}_registrations": n for seg, n, _, _ in by_segment},
        **{f"{seg}_active_registrations": a for seg, _, a, _ in by_segment},
        **{f"{seg}_without_valid_nik": b for seg, _, _, b in by_segment},
    })


def _replace(con, table: str, snapshot_date: date, sql: str) -> int:
    with transaction(con):
        return replace_rows(con, table, snapshot_date, sql, {"snapshot_date": snapshot_date})


REVIEW_DECISIONS = "review_decisions.csv"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["identity", "record_links"], group_name="identity", kinds={"duckdb"}, deps=[staging_registrations],
                     description="Which registrations belong to the same person: one person_id per human, with how "
                                 "each link was made (`nik`, `probabilistic`, `single`) and its match probability."),
        dg.AssetSpec(["identity", "review_pairs"], group_name="identity", kinds={"duckdb"}, deps=[staging_registrations],
                     description="Pairs of registrations the model is unsure about, with both records side by side "
                                 "for a person to decide (pipeline database only: it shows names, NIKs and birth "
                                 "dates). Decisions go to reference/review_decisions.csv and apply on every run."),
        dg.AssetSpec(["identity", "nik_collisions"], group_name="identity", kinds={"duckdb"},
                     deps=[staging_registrations],
                     description="NIKs carried by records of more than one person: a NIK issued twice, or one "
                                 "person's NIK mistyped into another's. Kept apart, listed for follow-up."),
    ],
    partitions_def=snapshot_partitions, pool="pipeline_db", can_subset=False,
)
def identity_record_links(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Who is who. Stage one joins registrations that carry the same trusted NIK (valid, agreeing with the record);
    stage two (Splink) links the rest (NIK missing, malformed, mistyped or disagreeing) to everyone.
    Reviewers' decisions in reference/review_decisions.csv override the model. See docs/identity.md.
    """
    snapshot_date = date.fromisoformat(context.partition_key)
    options = linkage.Options(
        method=warehouse.identity_method,
        model_path=None if warehouse.linkage_model == "train" else warehouse.reference / warehouse.linkage_model,
        decisions_path=warehouse.reference / REVIEW_DECISIONS,
    )
    with warehouse.connect() as con:
        con.execute("CREATE OR REPLACE TEMP TABLE identity_input AS SELECT * FROM staging.registrations "
                    "WHERE snapshot_date = ?", [snapshot_date])
        stats = linkage.resolve(con, "identity_input", options=options)
        params = {"snapshot_date": snapshot_date}
        with transaction(con):
            rows = replace_rows(con, "identity.record_links", snapshot_date, """
                SELECT CAST($snapshot_date AS DATE) AS snapshot_date, source, source_row, record_key, person_id,
                       person_nik, match_method, match_probability FROM resolved""", params)
            reviews = replace_rows(con, "identity.review_pairs", snapshot_date,
                                   "SELECT CAST($snapshot_date AS DATE) AS snapshot_date, * FROM review_pairs", params)
            collisions = replace_rows(con, "identity.nik_collisions", snapshot_date,
                                      "SELECT CAST($snapshot_date AS DATE) AS snapshot_date, * FROM nik_collisions", params)
        methods = dict(con.execute("SELECT match_method, count(*) FROM resolved GROUP BY ALL ORDER BY 1").fetchall())
    link_metadata = {
        "dagster/row_count": rows, "registrations": stats["records"], "persons": stats["persons"],
        "identity_method": stats["method"], **{f"links_{m}": n for m, n in methods.items()},
    }
    if stats["method"] == "probabilistic":
        link_metadata |= {
            "model": stats["model"], "prior_two_records_match": stats["prior"],
            "accept_at_probability": stats["accept"], "pairs_scored": stats["pairs_scored"],
            "pairs_by_blocking_rule": dg.MetadataValue.json(stats["pairs_by_blocking_rule"]),
            "links_accepted": stats["links_accepted"], "nik_collisions": collisions,
            "review_pending": stats["review_pending"], "review_decisions_applied": stats["review_decided"],
            "review_decisions_not_found": stats["review_decisions_not_found"],
            "seconds": dg.MetadataValue.json(stats["seconds"]),
            "model_parameters": dg.MetadataValue.md(stats["parameters"]),
        }
    yield dg.MaterializeResult(asset_key=["identity", "record_links"], metadata=link_metadata)
    yield dg.MaterializeResult(asset_key=["identity", "review_pairs"], metadata={
        "dagster/row_count": reviews, "pending": stats.get("review_pending", 0),
        "decided": stats.get("review_decided", 0), "band": str(stats.get("review_band", ""))})
    yield dg.MaterializeResult(asset_key=["identity", "nik_collisions"], metadata={"dagster/row_count": collisions})


identity_assets = [staging_registrations, identity_record_links]
