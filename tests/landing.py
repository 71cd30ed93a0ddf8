"""Altered copies of the contract sample, run through the real ingest and staging assets on a real DuckDB file."""

import shutil
from pathlib import Path

import dagster as dg

from assets.ingest import raw_assets
from assets.reference import reference_assets
from assets.staging import staging_assets
from sources import SOURCES
from warehouse.resources import Warehouse
from tests.conftest import CONTRACT_SAMPLE, SAMPLE_DATE, make_warehouse
from warehouse.db import connect

HEADER = {s.name: ",".join(s.column_names) for s in SOURCES}  # the contract header of every source
# A PU row that passes every rule (employer NPP001 exists in the sample).
GOOD_PU = "K100,7471010505900011,Good Row,1990-05-05,L,NPP001,3000000,\"JKK,JKM\",74.71.01.1005,2021-01-01,,aktif"


def copy_sample(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(CONTRACT_SAMPLE, landing)
    return landing


def snapshot_dir(landing: Path) -> Path:
    return landing / SAMPLE_DATE.isoformat()


def write_pu(landing: Path, *rows: str, header: str = HEADER["pu_workers"], newline: str = "\n") -> Path:
    """Replace pu_workers.csv with the contract header and the given rows."""
    path = snapshot_dir(landing) / "pu_workers.csv"
    path.write_bytes((newline.join([header, *rows]) + newline).encode())
    return path


def ingest_and_stage(landing: Path, tmp_path: Path) -> Warehouse:
    """Materialise the reference, raw and staging assets by direct invocation (no Dagster run, no checks)."""
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    for asset in reference_assets:
        asset(warehouse=warehouse)
    context = dg.build_asset_context(partition_key=SAMPLE_DATE.isoformat())
    for asset in (*raw_assets, *staging_assets):
        asset(context=context, warehouse=warehouse)
    return warehouse


def query(warehouse: Warehouse, sql: str, params: list | None = None) -> list[tuple]:
    with connect(warehouse.pipeline_db, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def counts(warehouse: Warehouse, source: str) -> tuple[int, int, int]:
    """(received, loaded, quarantined) rows of one source."""
    return query(warehouse, f"""SELECT (SELECT count(*) FROM raw.{source}), (SELECT count(*) FROM staging.{source}),
                                       (SELECT count(*) FROM staging.quarantine WHERE source = ?)""", [source])[0]


def quarantined(warehouse: Warehouse, source: str) -> dict[int, list[str]]:
    """source_row -> sorted reason codes of one source's quarantined rows."""
    return {row: sorted(reasons) for row, reasons in query(
        warehouse, "SELECT source_row, reasons FROM staging.quarantine WHERE source = ? ORDER BY 1", [source])}


def field_defects(warehouse: Warehouse, source: str) -> dict[int, list[str]]:
    """source_row -> sorted reason codes of the fields set aside in one source's loaded rows."""
    return {row: sorted(reasons) for row, reasons in query(
        warehouse, "SELECT source_row, list(reason) FROM staging.field_defects WHERE source = ? GROUP BY 1 ORDER BY 1",
        [source])}


def delivery(warehouse: Warehouse, source: str) -> dict:
    cols = ("source_file", "file_format", "encoding", "delimiter", "rows_read", "blank_rows", "malformed_rows",
            "truncated_row", "extra_columns", "missing_optional_columns", "non_ascii_characters")
    row = query(warehouse, f"SELECT {', '.join(cols)} FROM raw.deliveries WHERE source = ?", [source])[0]
    return dict(zip(cols, row))
