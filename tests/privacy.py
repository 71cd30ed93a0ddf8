"""What counts as personal data in a landing zone, and a scan of every text value of analytics.duckdb."""

from pathlib import Path

import duckdb
import polars as pl

from assets.ingest import find_source_file, read_landing_file
from sources.catalog import BPU_PARTICIPANTS, JAKON_WORKERS, OPD_NON_ASN, PU_WORKERS

PERSON_SOURCES = (PU_WORKERS, BPU_PARTICIPANTS, JAKON_WORKERS, OPD_NON_ASN)
ALLOWED_DATE_COLUMNS = {"snapshot_date", "civil_registry_cut_off"}


def personal_values(snapshot_folder: Path) -> set[str]:
    """Every NIK, KPJ, name and birth date (as received) in a snapshot's person files."""
    values: set[str] = set()
    for source in PERSON_SOURCES:
        frame = read_landing_file(find_source_file(snapshot_folder, source.name), source).frame
        for column in ("nik", "kpj", "nama", "tanggal_lahir"):
            if column in frame.columns:
                values |= {v.strip() for v in frame[column].drop_nulls().to_list() if v.strip()}
    return values


def leaks(analytics_db: Path, personal: set[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text value that is personal data or looks like a NIK or a date."""
    found = []
    with duckdb.connect(str(analytics_db), read_only=True) as con:
        con.register("personal", pl.DataFrame({"v": sorted(personal)}))
        columns = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                              "WHERE table_catalog = current_database()").fetchall()
        for table, column, data_type in columns:
            if data_type in ("DATE", "TIMESTAMP") and column not in ALLOWED_DATE_COLUMNS:
                found.append((table, column, f"a {data_type} column"))
            if data_type != "VARCHAR":
                continue
            found += [(table, column, v) for (v,) in con.execute(f"""
                SELECT DISTINCT t."{column}" FROM "{table}" t
                WHERE t."{column}" IN (SELECT v FROM personal)
                   OR regexp_matches(t."{column}", '(^|[^0-9a-f])[0-9]{{16}}($|[^0-9a-f])')
                   OR regexp_matches(t."{column}", '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}|[0-9]{{2}}[/-][0-9]{{2}}[/-][0-9]{{4}}')
                LIMIT 5""").fetchall()]
    return found
