"""Checks on each raw asset: how its file arrived (encoding, damage, header, size against the previous
snapshot), from raw.deliveries.

These guard the delivery, not the rows: a steward sees, for every source and snapshot, what was
received and what was wrong with the file itself. One blocks: a file cut off (an upload still being
written) would publish a fraction of a source as if it were all of it. The others warn: the rows of a
damaged file that can be read are loaded or quarantined one by one (staging). `damaged_deliveries`
lists the same findings for the run's summary on the command line.
"""

import os
from datetime import date

import dagster as dg

from assets.ingest import UTF8_ENCODINGS
from sources import SOURCES, Source
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse
from warehouse.db import first

DELIVERED_AS_UTF8 = "delivered_as_utf8"
DELIVERY_COMPLETE = "delivery_complete"
DELIVERY_INTACT = "delivery_intact"
HEADER_AS_CONTRACT = "header_as_contract"
ROW_COUNT_STEADY = "row_count_steady"

# A source whose rows fall by more than this share since the previous snapshot is named in a warning: a full
# extract rarely shrinks that fast, a partial export or a wrong filter does. JAMSOSTEK_MAX_ROW_DROP overrides it.
DEFAULT_MAX_ROW_DROP = 0.30
# Above this share of a file's rows quarantined the run's summary names the delivery (mostly_loaded blocks at 50%).
SUMMARY_QUARANTINED_SHARE = 0.05
# Above this share of a file's rows with a field set aside (the row kept and counted) the summary names it too.
SUMMARY_FIELD_DEFECT_SHARE = 0.05

# Per source: rows with a field set aside, and the field and reason set aside most often (ties by name).
FIELD_DEFECTS_SQL = """
WITH d AS (SELECT source, source_row, field, reason FROM staging.field_defects WHERE snapshot_date = ?),
top AS (SELECT source, field || ' (' || reason || ')' AS most_often,
               row_number() OVER (PARTITION BY source ORDER BY count(*) DESC, field, reason) AS rank
        FROM d GROUP BY source, field, reason)
SELECT source, (SELECT count(DISTINCT source_row) FROM d WHERE d.source = top.source), most_often
FROM top WHERE rank = 1
"""


def max_row_drop() -> float:
    return float(os.environ.get("JAMSOSTEK_MAX_ROW_DROP", DEFAULT_MAX_ROW_DROP))


PREVIOUS_SQL = """
SELECT snapshot_date, rows_read FROM raw.deliveries
WHERE source = ? AND snapshot_date < ? AND file_format <> 'none' ORDER BY snapshot_date DESC LIMIT 1
"""


def _row_drop(con, snapshot_date: date, source: str, rows: int) -> tuple[date, int, float] | None:
    """(previous snapshot, its rows, share lost) when the source shrank by more than max_row_drop()."""
    previous = first(con, PREVIOUS_SQL, [source, snapshot_date])
    if previous is None or not previous[1]:
        return None
    share = 1 - rows / previous[1]
    return (previous[0], previous[1], share) if share > max_row_drop() else None

DELIVERY_SQL = """
SELECT source_file, file_format, encoding, delimiter, rows_read, blank_rows, malformed_rows, truncated_row,
       extra_columns, missing_optional_columns, non_ascii_characters
FROM raw.deliveries WHERE snapshot_date = ? AND source = ?
"""
DELIVERY_COLUMNS = ("source_file", "file_format", "encoding", "delimiter", "rows_read", "blank_rows", "malformed_rows",
                    "truncated_row", "extra_columns", "missing_optional_columns", "non_ascii_characters")


def _meta(delivery: dict, *keys: str) -> dict:
    out = {"file": dg.MetadataValue.text(delivery["source_file"] or "(not delivered)")}
    for k in keys:
        v = delivery[k]
        out[k] = dg.MetadataValue.int(int(v)) if isinstance(v, int) else dg.MetadataValue.text(str(v or "none"))
    return out


def _complete(d: dict, drop) -> dict:
    cut = d["truncated_row"]
    return dict(passed=cut is None, metadata={**_meta(d, "rows_read"), "cut_off_at_row": dg.MetadataValue.text(str(cut or "none"))},
                description=None if cut is None else (
                    f"{d['source_file']} ends inside data row {cut}: the upload was cut off or is still being written. "
                    "Nothing of this snapshot is published; wait for the upload to finish (or ask the sender to resend "
                    "the whole file) and rerun."))


def _steady(d: dict, drop) -> dict:
    return dict(passed=drop is None, metadata=_meta(d, "rows_read"), description=None if drop is None else (
        f"{d['source_file']} has {d['rows_read']:,} rows, {drop[2]:.0%} fewer than the {drop[1]:,} of "
        f"snapshot {drop[0]}; check with the sender that the extract is complete."))


def _as_utf8(d: dict, drop) -> dict:
    ok = d["file_format"] == "none" or d["encoding"] in UTF8_ENCODINGS
    return dict(passed=ok, metadata=_meta(d, "encoding", "non_ascii_characters"),
                description=None if ok else f"{d['source_file']} is Windows-1252, not UTF-8: decoded "
                                            f"'{d['non_ascii_characters'] or 'no non-ASCII character'}'; verify and ask for UTF-8.")


def _intact(d: dict, drop) -> dict:
    problems = [f"{d['malformed_rows']} row(s) with a wrong number of fields"] if d["malformed_rows"] else []
    return dict(passed=not problems,
                metadata={**_meta(d, "rows_read", "blank_rows", "malformed_rows"),
                          "cut_off_at_row": dg.MetadataValue.text(str(d["truncated_row"] or "none"))},
                description=f"{d['source_file']}: " + "; ".join(problems) + "; resend the file." if problems else None)


def _as_contract(d: dict, drop) -> dict:
    ok = not d["extra_columns"] and not d["missing_optional_columns"]
    return dict(passed=ok, metadata=_meta(d, "extra_columns", "missing_optional_columns", "delimiter", "file_format"),
                description=None if ok else f"{d['source_file']}: ignored extra column(s): {d['extra_columns'] or 'none'}; "
                                            f"optional column(s) absent: {d['missing_optional_columns'] or 'none'}.")


ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
# (name, severity, blocking, description, verdict from the delivery record and the row drop)
DELIVERY_CHECKS = (
    (DELIVERED_AS_UTF8, WARN, False, (
        "WARN, not blocking. The file is UTF-8 (with or without BOM) or XLSX. A Windows-1252 file is read correctly "
        "(bytes Windows-1252 does not define are refused by name), but the steward is told which characters were "
        "decoded, to verify them and to ask the sender for 'CSV UTF-8'."), _as_utf8),
    (DELIVERY_COMPLETE, ERROR, True, (
        "ERROR, blocking. The file does not stop inside a row: not cut mid-row, inside quotes or inside a "
        "character, and not followed by the zero bytes of an unfinished upload. A file still being written would "
        "publish part of a source as all of it, so nothing after this file is materialised and analytics.duckdb "
        "keeps the previous figures: wait for the upload to finish (or ask for it again) and rerun."), _complete),
    (DELIVERY_INTACT, ERROR, False, (
        "ERROR, not blocking. Every record has as many fields as the header. Rows with a wrong number of fields "
        "(an unquoted comma, a lost delimiter) are quarantined (malformed_row) with their text; the rest is loaded. "
        "The figures may be short by those rows: fix the quoting and resend. (A file cut off: delivery_complete.)"),
     _intact),
    (HEADER_AS_CONTRACT, WARN, False, (
        "WARN, not blocking. The header holds the contract's columns and no others. Extra columns are ignored and "
        "named here; absent optional columns are read as empty. (A missing required column fails the asset itself.)"),
     _as_contract),
    (ROW_COUNT_STEADY, WARN, False, (
        "WARN, not blocking. The file has not lost more than a set share of its rows since the previous snapshot "
        f"(default {DEFAULT_MAX_ROW_DROP:.0%}, JAMSOSTEK_MAX_ROW_DROP). A full extract seldom shrinks that fast: a "
        "partial export, a filter left on, or a file cut at a line end is more likely. Compare with the sender."),
     _steady),
)


def _delivery_checks(source: Source) -> dg.AssetChecksDefinition:
    """The five checks of one source's delivery, in one step: they read one delivery record."""
    asset = dg.AssetKey(["raw", source.name])
    specs = [dg.AssetCheckSpec(name, asset=asset, blocking=blocking, description=description,
                               partitions_def=snapshot_partitions)
             for name, _, blocking, description, _ in DELIVERY_CHECKS]

    @dg.multi_asset_check(name=f"{source.name}_delivery_checks", specs=specs, can_subset=True, pool="pipeline_db")
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        snapshot_date = date.fromisoformat(context.partition_key)
        selected = {key.name for key in context.selected_asset_check_keys}
        with warehouse.connect(read_only=True) as con:
            row = first(con, DELIVERY_SQL, [snapshot_date, source.name])
            d = dict(zip(DELIVERY_COLUMNS, row)) if row else None
            drop = (_row_drop(con, snapshot_date, source.name, d["rows_read"])
                    if d and d["file_format"] != "none" and ROW_COUNT_STEADY in selected else None)
        for name, severity, _, _, verdict in DELIVERY_CHECKS:
            if name not in selected:
                continue
            if d is None:  # before the raw asset ran
                yield dg.AssetCheckResult(asset_key=asset, check_name=name, passed=False, severity=severity,
                                          description="no delivery record")
            else:
                yield dg.AssetCheckResult(asset_key=asset, check_name=name, severity=severity, **verdict(d, drop))

    return _checks


delivery_checks = [_delivery_checks(source) for source in SOURCES]


DAMAGE_SQL = """
SELECT d.source, d.source_file, d.file_format, d.rows_read, d.malformed_rows, d.truncated_row,
       (SELECT count(*) FROM staging.quarantine q WHERE q.snapshot_date = d.snapshot_date AND q.source = d.source)
FROM raw.deliveries d WHERE d.snapshot_date = ? ORDER BY d.source
"""


def damaged_deliveries(warehouse: Warehouse, snapshot_date: date) -> list[str]:
    """One line per damaged delivery of the snapshot, naming the file and what to do: cut off, rows with a wrong
    number of fields, a sudden drop in rows since the previous snapshot, many rows quarantined, many rows with a
    field set aside (a wage, a birth date that could not be read: the row is kept). For the summary
    a person reads after `jamsostek run`; the checks in the Dagster UI say the same."""
    if not warehouse.pipeline_db.exists():
        return []
    with warehouse.connect(read_only=True) as con:
        # before staging has run (a refused delivery) its tables may not exist yet: nothing staged, nothing to count
        staged = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'staging'").fetchall()}
        sql = DAMAGE_SQL if "quarantine" in staged else DAMAGE_SQL.replace(
            "(SELECT count(*) FROM staging.quarantine q WHERE q.snapshot_date = d.snapshot_date AND q.source = d.source)",
            "0")
        rows = con.execute(sql, [snapshot_date]).fetchall()
        defects = {source: (n, most) for source, n, most in
                   (con.execute(FIELD_DEFECTS_SQL, [snapshot_date]).fetchall() if "field_defects" in staged else [])}
        lines = []
        for source, file, file_format, rows_read, malformed, cut, quarantined in rows:
            if file_format == "none":
                continue
            if cut is not None:
                lines.append(f"{file}: cut off inside data row {cut} (upload unfinished); nothing of this snapshot "
                             "was published. Wait for the upload to finish, or ask for the whole file, and rerun.")
            if malformed:
                lines.append(f"{file}: {malformed:,} row(s) with a wrong number of fields were quarantined; fix the "
                             "quoting (or use ';' as delimiter) and resend.")
            drop = _row_drop(con, snapshot_date, source, rows_read)
            if drop:
                lines.append(f"{file}: {rows_read:,} rows, {drop[2]:.0%} fewer than the {drop[1]:,} of snapshot "
                             f"{drop[0]}; check with the sender that the extract is complete.")
            if rows_read and quarantined / rows_read > SUMMARY_QUARANTINED_SHARE:
                lines.append(f"{file}: {quarantined:,} of {rows_read:,} rows ({quarantined / rows_read:.0%}) "
                             "quarantined; send the sender the feedback file and ask for a corrected extract.")
            affected, most_often = defects.get(source, (0, None))
            if rows_read and affected / rows_read > SUMMARY_FIELD_DEFECT_SHARE:
                lines.append(f"{file}: {affected:,} of {rows_read:,} rows ({affected / rows_read:.0%}) had a field set "
                             f"aside, most often {most_often}; those rows stay counted. Send the sender the feedback "
                             "file and ask for the fields to be corrected.")
    return lines


def damage_summary(warehouse: Warehouse, snapshot_date: date) -> str:
    """The run summary's paragraph on deliveries: every damaged one named with what to do, or that all arrived whole."""
    lines = damaged_deliveries(warehouse, snapshot_date)
    if not lines:
        return ("  Every delivery arrived whole (no file cut off, no sudden drop in rows, few rows quarantined or "
                "with a field set aside).")
    return "\n".join(["  Deliveries to look at:", *(f"  - {line}" for line in lines)])
