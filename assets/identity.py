"""Identity: every worker registration linked to one person_id, one per human."""


from datetime import date

import dagster as dg

from assets import linkage
from pipelines.partitions import snapshot_partitions
from pipelines.resources import Warehouse
from warehouse.db import replace_rows, transaction

# Every loaded registration of the three segments, in one shape, with its activity at the snapshot date.
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


@dg.asset(
    key=["identity", "record_links"], group_name="identity", partitions_def=snapshot_partitions, pool="pipeline_db",
    deps=[staging_registrations], kinds={"duckdb"},
)
def identity_record_links(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Which registrations belong to the same person: one person_id per human, with how each link was made.

    Registrations sharing a valid NIK are one person (match_method `nik`); a registration linked to
    no other is `single`.
    """
    snapshot_date = date.fromisoformat(context.partition_key)
    with warehouse.connect() as con:
        con.execute("CREATE OR REPLACE TEMP TABLE identity_input AS SELECT * FROM staging.registrations "
                    "WHERE snapshot_date = ?", [snapshot_date])
        stats = linkage.resolve(con, "identity_input")
        rows = _replace(con, "identity.record_links", snapshot_date, """
            SELECT CAST($snapshot_date AS DATE) AS snapshot_date, source, source_row, person_id,
                   match_method, match_probability FROM resolved""")
        methods = dict(con.execute("SELECT match_method, count(*) FROM resolved GROUP BY ALL").fetchall())
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "registrations": stats["records"], "persons": stats["persons"],
        **{f"links_{m}": n for m, n in methods.items()},
    })


identity_assets = [staging_registrations, identity_record_links]
