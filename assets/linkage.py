"""Who is who: records of the three worker sources resolved to persons.

Stage one joins records that carry the same valid NIK. Every other record is, for now,
a person of its own; the probabilistic stage (Splink) plugs in behind `resolve`.
"""


import duckdb

from warehouse.db import first

# The input every method reads: one row per loaded registration (built by the identity asset).
RECORD_COLUMNS = ("source", "source_row", "record_key", "nik", "nik_valid", "nik_agrees", "nama",
                  "tanggal_lahir", "jenis_kelamin", "domicile_village")


def resolve(con: duckdb.DuckDBPyConnection, records: str, *, method: str = "exact") -> dict:
    """Create temp table `resolved(source, source_row, person_id, match_method, match_probability)`.

    `person_id` is an internal anchor (it contains the NIK or the record key): it never leaves
    the pipeline database; the published copy shows only its keyed pseudonym.
    """
    if method != "exact":
        raise ValueError(f"unknown identity method {method!r}; use 'exact'")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE resolved AS
        WITH anchored AS (
            SELECT source, source_row,
                   CASE WHEN nik_valid THEN 'nik:' || nik ELSE 'rec:' || record_key END AS person_id
            FROM {records}
        )
        SELECT source, source_row, person_id,
               CASE WHEN count(*) OVER (PARTITION BY person_id) > 1 THEN 'nik' ELSE 'single' END AS match_method,
               CASE WHEN count(*) OVER (PARTITION BY person_id) > 1 THEN 1.0 END::DOUBLE AS match_probability
        FROM anchored
    """)
    return dict(zip(("records", "persons"), first(con, "SELECT count(*), count(DISTINCT person_id) FROM resolved")))
