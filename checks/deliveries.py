"""Checks on each raw asset: how its file arrived (encoding, damage, header), from raw.deliveries.

These guard the delivery, not the rows: a steward sees, for every source and snapshot, what was
received and what was wrong with the file itself. None of them blocks: the rows of a damaged file
that can be read are loaded or quarantined one by one (staging), and the reconciliation checks
stop the run where the damage would corrupt the figures.
"""

from datetime import date

import dagster as dg

from assets.ingest import UTF8_ENCODINGS
from sources import SOURCES, Source
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse
from warehouse.db import first

DELIVERED_AS_UTF8 = "delivered_as_utf8"
DELIVERY_INTACT = "delivery_intact"
HEADER_AS_CONTRACT = "header_as_contract"

DELIVERY_SQL = """
SELECT source_file, file_format, encoding, delimiter, rows_read, blank_rows, malformed_rows, truncated_row,
       extra_columns, missing_optional_columns, non_ascii_characters
FROM raw.deliveries WHERE snapshot_date = ? AND source = ?
"""
DELIVERY_COLUMNS = ("source_file", "file_format", "encoding", "delimiter", "rows_read", "blank_rows", "malformed_rows",
                    "truncated_row", "extra_columns", "missing_optional_columns", "non_ascii_characters")


def read_delivery(warehouse: Warehouse, snapshot_date: date, source: str) -> dict | None:
    """The delivery record of one source's file for one snapshot (None before its raw asset ran)."""
    with warehouse.connect(read_only=True) as con:
        row = first(con, DELIVERY_SQL, [snapshot_date, source])
    return dict(zip(DELIVERY_COLUMNS, row)) if row else None


def _meta(delivery: dict, *keys: str) -> dict:
    out = {"file": dg.MetadataValue.text(delivery["source_file"] or "(not delivered)")}
    for k in keys:
        v = delivery[k]
        out[k] = dg.MetadataValue.int(int(v)) if isinstance(v, int) else dg.MetadataValue.text(str(v or "none"))
    return out


def _delivery_checks(source: Source) -> list[dg.AssetChecksDefinition]:
    asset = dg.AssetKey(["raw", source.name])
    common = dict(asset=asset, partitions_def=snapshot_partitions, pool="pipeline_db", blocking=False)

    @dg.asset_check(name=DELIVERED_AS_UTF8, **common, description=(
        "WARN, not blocking. The file is UTF-8 (with or without BOM) or XLSX. A Windows-1252 file is read correctly "
        "(bytes Windows-1252 does not define are refused by name), but the steward is told which characters were "
        "decoded, to verify them and to ask the sender for 'CSV UTF-8'."))
    def delivered_as_utf8(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        d = read_delivery(warehouse, date.fromisoformat(context.partition_key), source.name)
        if d is None:
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="no delivery record")
        ok = d["file_format"] == "none" or d["encoding"] in UTF8_ENCODINGS
        return dg.AssetCheckResult(
            passed=ok, severity=dg.AssetCheckSeverity.WARN, metadata=_meta(d, "encoding", "non_ascii_characters"),
            description=None if ok else f"{d['source_file']} is Windows-1252, not UTF-8: decoded "
                                        f"'{d['non_ascii_characters'] or 'no non-ASCII character'}'; verify and ask for UTF-8.")

    @dg.asset_check(name=DELIVERY_INTACT, **common, description=(
        "ERROR, not blocking. Every record has as many fields as the header and the file does not stop inside a row. "
        "A file cut off by an upload or rows with a wrong number of fields: the readable rows are loaded, the damaged "
        "ones quarantined (truncated_row, malformed_row) with their text; the figures may be short, so resend the file."))
    def delivery_intact(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        d = read_delivery(warehouse, date.fromisoformat(context.partition_key), source.name)
        if d is None:
            return dg.AssetCheckResult(passed=False, description="no delivery record")
        problems = []
        if d["truncated_row"] is not None:
            problems.append(f"the file ends inside data row {d['truncated_row']} (upload cut off)")
        if d["malformed_rows"]:
            problems.append(f"{d['malformed_rows']} row(s) with a wrong number of fields")
        return dg.AssetCheckResult(
            passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
            metadata={**_meta(d, "rows_read", "blank_rows", "malformed_rows"),
                      "cut_off_at_row": dg.MetadataValue.text(str(d["truncated_row"] or "none"))},
            description=f"{d['source_file']}: " + "; ".join(problems) + "; resend the file." if problems else None)

    @dg.asset_check(name=HEADER_AS_CONTRACT, **common, description=(
        "WARN, not blocking. The header holds the contract's columns and no others. Extra columns are ignored and "
        "named here; absent optional columns are read as empty. (A missing required column fails the asset itself.)"))
    def header_as_contract(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        d = read_delivery(warehouse, date.fromisoformat(context.partition_key), source.name)
        if d is None:
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="no delivery record")
        ok = not d["extra_columns"] and not d["missing_optional_columns"]
        return dg.AssetCheckResult(
            passed=ok, severity=dg.AssetCheckSeverity.WARN,
            metadata=_meta(d, "extra_columns", "missing_optional_columns", "delimiter", "file_format"),
            description=None if ok else f"{d['source_file']}: ignored extra column(s): {d['extra_columns'] or 'none'}; "
                                        f"optional column(s) absent: {d['missing_optional_columns'] or 'none'}.")

    return [delivered_as_utf8, delivery_intact, header_as_contract]


delivery_checks = [check for source in SOURCES for check in _delivery_checks(source)]
