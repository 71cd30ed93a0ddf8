"""Data quality for the people who send the files: field defects counted, and a feedback file per source.

`marts.field_defects` counts the fields set aside in loaded rows (a wage, a birth date, a program that
could not be read), by source, field and reason: the rows themselves stay counted. `quality/feedback_files`
writes, per snapshot and source, a CSV and an XLSX of every refused row (staging.quarantine) and every
row with a field set aside (staging.field_defects): file row number, reason codes, what to do and the
text as received, for a BPJS branch or an OPD to fix and resend. They hold personal data, so they are
written beside the pipeline database (`<warehouse>/feedback/<date>/`), never into the analysts' copy.
"""


import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from assets.staging import FIELD_DEFECTS, QUARANTINE, reason_codes, what_to_do
from sources import SOURCES
from warehouse.db import first, preview, replace_rows, transaction
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse

FEEDBACK_DIR = "feedback"
XLSX_MAX_ROWS = 1_048_575  # a sheet's rows below its header; the CSV always holds every line
STAGED = [dg.AssetKey(["staging", s.name]) for s in SOURCES]

FIELD_DEFECTS_SQL = f"""
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, source, field, reason, count(*)::BIGINT AS rows
FROM {FIELD_DEFECTS} WHERE snapshot_date = $snapshot_date GROUP BY ALL ORDER BY source, rows DESC, field, reason
"""
FIELD_DEFECTS_COMMENTS = """
COMMENT ON TABLE marts.field_defects IS 'Fields set aside in loaded rows, per source, field and reason: the row is kept and counted, the field is NULL in staging (docs/reason-codes.md). Refused rows are in data_quality.';
COMMENT ON COLUMN marts.field_defects.snapshot_date IS 'Snapshot date of the delivery';
COMMENT ON COLUMN marts.field_defects.source IS 'Landing file name without extension';
COMMENT ON COLUMN marts.field_defects.field IS 'Column whose value was set aside';
COMMENT ON COLUMN marts.field_defects.reason IS 'Reason code (invalid_<column> or implausible_<column>)';
COMMENT ON COLUMN marts.field_defects.rows IS 'Loaded rows whose value in this field was set aside for this reason';
"""

# One line per refused or defective row: refused rows with all their reasons, kept rows with their fields' reasons.
FEEDBACK_SQL = f"""
WITH lines AS (
    SELECT source_file, source_row, 'refused' AS outcome, reasons, row_text
    FROM {QUARANTINE} WHERE snapshot_date = $snapshot_date AND source = $source
    UNION ALL
    SELECT any_value(source_file), source_row, 'kept, field(s) set aside', list(reason ORDER BY field), any_value(row_text)
    FROM {FIELD_DEFECTS} WHERE snapshot_date = $snapshot_date AND source = $source GROUP BY source_row
)
SELECT l.source_file AS file, l.source_row AS row, l.outcome, array_to_string(list_sort(l.reasons), ' + ') AS reasons,
       (SELECT string_agg(a.action, '; ' ORDER BY a.code) FROM feedback_actions a
         WHERE list_contains(l.reasons, a.code)) AS what_to_do,
       l.row_text AS text_as_received
FROM lines l ORDER BY l.source_row
"""


def feedback_folder(warehouse: Warehouse, snapshot_date: date) -> Path:
    return warehouse.pipeline_db.parent / FEEDBACK_DIR / snapshot_date.isoformat()


@dg.asset(key=["marts", "field_defects"], group_name="quality", partitions_def=snapshot_partitions,
          pool="pipeline_db", deps=STAGED, kinds={"duckdb"})
def marts_field_defects(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Fields set aside in loaded rows, by source, field and reason: a typo in a wage or a birth date never removes
    a covered worker; it is counted here instead."""
    snapshot_date = date.fromisoformat(context.partition_key)
    params = {"snapshot_date": snapshot_date}
    with warehouse.connect() as con:
        with transaction(con):
            rows = replace_rows(con, "marts.field_defects", snapshot_date, FIELD_DEFECTS_SQL, params)
        con.execute(FIELD_DEFECTS_COMMENTS)
        total = first(con, "SELECT coalesce(sum(rows), 0) FROM marts.field_defects WHERE snapshot_date = ?",
                      [snapshot_date])[0]
        table = preview(con, "SELECT source, field, reason, rows FROM marts.field_defects WHERE snapshot_date = ?",
                        [snapshot_date], 30)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "fields_set_aside": int(total),
                                          "by_source_field_and_reason": dg.MetadataValue.md(table)})


def write_feedback(warehouse: Warehouse, snapshot_date: date) -> dict[str, int]:
    """Write the snapshot's feedback files, replacing the previous ones; returns lines per source."""
    folder = feedback_folder(warehouse, snapshot_date)
    shutil.rmtree(folder, ignore_errors=True)  # idempotent: a rerun leaves only this run's files
    written = {}
    with warehouse.connect(read_only=True) as con:
        for source in SOURCES:
            codes = reason_codes(source)
            actions = pl.DataFrame({"code": codes, "action": [what_to_do(c) for c in codes]})
            con.register("feedback_actions", actions)
            try:
                lines = pl.from_arrow(con.sql(FEEDBACK_SQL, params={"snapshot_date": snapshot_date,
                                                                   "source": source.name}).to_arrow_table())
            finally:
                con.unregister("feedback_actions")
            if lines.is_empty():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            lines.write_csv(folder / f"{source.name}.csv")
            lines.head(XLSX_MAX_ROWS).write_excel(folder / f"{source.name}.xlsx", worksheet=source.name[:31],
                                                  autofit=True)
            written[source.name] = lines.height
    return written


@dg.asset(key=["quality", "feedback_files"], group_name="quality", partitions_def=snapshot_partitions,
          pool="pipeline_db", deps=STAGED, kinds={"csv", "excel"})
def feedback_files(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per source, the rows to send back: every refused row and every row with a field set aside, with its file row
    number, reason codes, what to do and the text as received (CSV and XLSX, beside the pipeline database: they hold
    personal data and never go to the analysts' copy)."""
    snapshot_date = date.fromisoformat(context.partition_key)
    written = write_feedback(warehouse, snapshot_date)
    return dg.MaterializeResult(metadata={
        "folder": str(feedback_folder(warehouse, snapshot_date)),
        "lines": sum(written.values()),
        **{f"{name}_lines": n for name, n in written.items()},
    })


quality_assets = [marts_field_defects, feedback_files]
