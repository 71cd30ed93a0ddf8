"""Staging: typed, normalised rows; a row that breaks a rule goes to quarantine with every reason that applies.

Each source is described by its columns' kinds; the SQL that parses and checks them is
generated from that description, so a rule is written once and means the same in every file.
Reason codes (docs/reason-codes.md says what each means and what a steward does about it):
`missing_<column>`, `invalid_<column>`, `implausible_<column>` (parses, but cannot be true),
`unknown_<column>` (points to nothing), `duplicate_<column>` / `duplicate_row` (a later row
repeating a key: the first row is kept), `invalid_period` (ends before it starts), `empty_row`,
and the damage found while reading the file, `truncated_row` and `malformed_row`.

Row defects and field defects: a row is quarantined only when it cannot be counted correctly (its
key, status, the dates that decide activity, its references). A defect in a field coverage does not
need (`Column.needed=False`: a wage, a birth date, a program, an NPWP) sets that field aside (NULL in
staging, listed in staging.field_defects with its original text) and keeps the row.
"""


import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from assets.ingest import MALFORMED_ROW, TRUNCATED_ROW
from sources import SOURCES, Column, Ref, Source
from warehouse.db import replace_rows, sql, transaction
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse

QUARANTINE = "staging.quarantine"
READ_DEFECTS = (TRUNCATED_ROW, MALFORMED_ROW)
# Workers are 15 to 90 years old at the snapshot date; a birth date outside that is a typing error.
MIN_AGE, MAX_AGE = 15, 90


XLSX = "r._xlsx"  # dates in a workbook may be Excel serial numbers (the delivery's file_format is 'xlsx')
# `{c}` is the cell's text after clean_text (invisible characters removed, spaces normalised, NULL when blank).
PARSE = {
    "code": "clean_code({c})",
    "key": "clean_code({c})",  # a code that identifies a row: it must be plausible (key_is_plausible)
    "text": "{c}",
    "nik": "clean_code({c})",  # kept as received: an invalid NIK still belongs to a person
    "date": f"parse_date({{c}}, {XLSX})",
    "birth_date": f"parse_date({{c}}, {XLSX}, r.snapshot_date)",  # a two-digit year never in the future
    "money": "parse_money({c})",
    "count": "parse_count({c})",
    "choice": "lower({c})",
    "sex": "sex_code({c})",
    "village": "village_code({c})",
    "occupation": "upper({c})",  # KTP wording, matched against reference/occupation_categories.csv
    "programs": "nullif(array_to_string(program_codes({c}), ','), '')",  # canonical 'JHT,JKK,JKM'
}
FIELD_DEFECTS = "staging.field_defects"
FIELD_DEFECT = "STRUCT(field VARCHAR, reason VARCHAR, value VARCHAR)"


def _present(c: str) -> str:
    return f"r.{c} IS NOT NULL"


def _parsed(c: str) -> str:
    """The column holding `c`'s parsed value: computed once per row, however many checks read it."""
    return f"r._v_{c}"


def reference_sql(ref: Ref) -> str:
    """The values a referencing column may take: the referenced table's keys (of the same snapshot for a source)."""
    if ref.is_reference_data:
        return f"SELECT {ref.column} FROM {ref.table}"
    return f"SELECT {ref.column} FROM staging.{ref.table} WHERE snapshot_date = $snapshot_date"


def _reasons(col: Column, parsed: str) -> list[str]:
    c, out = col.name, []
    if col.required:
        out.append(f"CASE WHEN NOT {_present(c)} THEN 'missing_{c}' END")
    invalid = {
        "key": f"NOT key_is_plausible({parsed})",
        "date": f"{parsed} IS NULL",
        "birth_date": f"{parsed} IS NULL",
        "money": f"{parsed} IS NULL OR {parsed} < 0",
        "count": f"{parsed} IS NULL",
        "choice": f"{parsed} NOT IN ({', '.join(repr(v) for v in col.values)})",
        "sex": f"{parsed} IS NULL",
        # well-formed codes outside Sulawesi Tenggara are kept: the reference list covers province 74 only
        "village": f"{parsed} IS NULL OR NOT province_exists(substr({parsed}, 1, 2)) OR (starts_with({parsed}, '74.') "
                   f"AND {parsed} NOT IN (SELECT code FROM reference.regions WHERE level = 'village'))",
        # the parsed value is the canonical list joined by ',' (a code never holds one)
        "programs": f"{parsed} IS NULL OR NOT list_has_all([{', '.join(repr(v) for v in col.values)}], "
                    f"string_split({parsed}, ','))",
    }.get(col.kind)
    if invalid is None and col.shape and not col.needed:  # a shape the contract asks of a field coverage does not need
        invalid = f"NOT regexp_matches({parsed}, '{col.shape}')"
    if invalid:
        out.append(f"CASE WHEN {_present(c)} AND ({invalid}) THEN 'invalid_{c}' END")
    if col.kind == "birth_date":
        out.append(f"CASE WHEN {parsed} > r.snapshot_date - INTERVAL {MIN_AGE} YEAR "
                   f"OR {parsed} <= r.snapshot_date - INTERVAL {MAX_AGE + 1} YEAR THEN 'implausible_{c}' END")
    if col.references and not col.references.soft:
        out.append(f"CASE WHEN {_present(c)} AND {parsed} NOT IN ({reference_sql(col.references)}) THEN 'unknown_{c}' END")
    if col.unique:  # a later row repeating the value (the first is kept): found beforehand, see duplicates_sql
        out.append(f"CASE WHEN r._duplicate_{c} THEN 'duplicate_{c}' END")
    return out


# Kinds whose values repeat from row to row (dates, amounts, codes from short lists): each distinct text is cleaned and
# parsed once and joined back, rather than once per row (3 million birth dates hold some 50,000 distinct values).
LOOKUP_KINDS = frozenset({"date", "birth_date", "money", "count", "choice", "sex", "village", "occupation", "programs"})


def _read(source: Source, columns: list[str], extra: str = "", joins: str = "") -> str:
    """The snapshot's rows of raw.<source>, each named cell cleaned (clean_text) as `<column>` and, for the kinds in
    LOOKUP_KINDS, parsed as `_v_<column>` (`_parse` gives every column's value), with the delivery's format."""
    def delivered(select: str) -> str:
        return f"""SELECT {select} FROM raw.{source.name} AS raw
                   LEFT JOIN raw.deliveries AS d ON d.snapshot_date = raw.snapshot_date AND d.source = '{source.name}'"""
    cells, lookups = [], []
    for c in columns:
        kind = source.column(c).kind
        if kind not in LOOKUP_KINDS:
            cells.append(f", clean_text(raw.{c}) AS {c}")
            continue
        cells.append(f", l_{c}.cleaned AS {c}, l_{c}.parsed AS _v_{c}")
        distinct = delivered(f"DISTINCT raw.{c} AS value, raw.snapshot_date, d.file_format = 'xlsx' AS _xlsx")
        lookups.append(f"""
                LEFT JOIN (SELECT r.value, r.{c} AS cleaned, {PARSE[kind].format(c='r.' + c)} AS parsed
                           FROM (SELECT *, clean_text(value) AS {c} FROM ({distinct}
                                 WHERE raw.snapshot_date = $snapshot_date)) AS r) AS l_{c}
                       ON l_{c}.value IS NOT DISTINCT FROM raw.{c}""")
    select = f"raw.snapshot_date, raw.source_row, d.file_format = 'xlsx' AS _xlsx{''.join(cells)}{extra}"
    return f"""({delivered(select)}{''.join(lookups)}
                {joins}
                WHERE raw.snapshot_date = $snapshot_date) AS r"""


def _parse(source: Source, c: str) -> str:
    """`c`'s parsed value over _read's row `r`: read there for the kinds in LOOKUP_KINDS, else parsed here."""
    kind = source.column(c).kind
    return f"r._v_{c}" if kind in LOOKUP_KINDS else PARSE[kind].format(c="r." + c)


def _unique_keys(source: Source) -> dict[str, list[str]]:
    """Each key a later row may not repeat: a unique column (`duplicate_<column>`), the row key (`duplicate_row`)."""
    keys = {col.name: [col.name] for col in source.columns if col.unique}
    if source.unique_rows:
        keys["row"] = list(source.unique_rows)
    return keys


def duplicates_sql(source: Source) -> str | None:
    """SELECT of the rows that repeat an earlier row's key, one boolean per key (`_duplicate_<name>`).

    A narrow pass of its own over the key columns, so the full parse reads every row once and no window
    function has to hold every column: per key the first row (GROUP BY, spills), then the later ones.
    """
    keys = _unique_keys(source)
    if not keys:
        return None
    columns = sorted({c for cols in keys.values() for c in cols})
    parsed = ", ".join(f"{_parse(source, c)} AS {c}" for c in columns)
    repeats = []
    for name, cols in keys.items():
        # a unique column ignores rows without a value; the row key compares NULLs as equal (as PARTITION BY does)
        present = " AND ".join(f"{c} IS NOT NULL" for c in cols) if name != "row" else "true"
        same = " AND ".join(f"k.{c} IS NOT DISTINCT FROM g.{c}" for c in cols)
        group = ", ".join(cols)
        repeats.append(f"""SELECT k.source_row, '{name}' AS key FROM keys AS k
            JOIN (SELECT {group}, min(source_row) AS first_row FROM keys WHERE {present}
                  GROUP BY ALL HAVING count(*) > 1) AS g ON {same} AND k.source_row > g.first_row""")
    flags = ", ".join(f"bool_or(key = '{name}') AS _duplicate_{name}" for name in keys)
    return f"""
        WITH keys AS MATERIALIZED (SELECT r.source_row, {parsed} FROM {_read(source, columns)})
        SELECT source_row, {flags} FROM ({' UNION ALL '.join(repeats)}) GROUP BY source_row
    """


def parse_sql(source: Source, duplicates: str | None = None) -> str:
    """SELECT of typed columns, the row's reason codes, its field defects and, for a row with any, its text.

    Every cell is first cleaned (clean_text), then parsed by its column's kind, once: the checks read the
    parsed value. `reasons` are the defects that stop the row from being counted (quarantine);
    `field_defects` those of fields coverage does not need: such a field is NULL in the typed columns and
    the row is kept. `duplicates` is the table of duplicates_sql's rows (needed when the source has keys).
    """
    cols = source.columns
    parsed = {col.name: _parsed(col.name) for col in cols}
    row_reasons = [reason for col in cols if col.needed for reason in _reasons(col, parsed[col.name])]
    field_reason = {col.name: f"coalesce({', '.join(rs)})" for col in cols if not col.needed
                    for rs in [_reasons(col, parsed[col.name])] if rs}
    for rule in source.row_rules:
        row_reasons.append(f"CASE WHEN {parsed[rule.column]} < {parsed[rule.other]} THEN '{rule.code}' END")
    if source.unique_rows:
        row_reasons.append("CASE WHEN r._duplicate_row THEN 'duplicate_row' END")
    keys = _unique_keys(source)
    if keys and not duplicates:
        raise ValueError(f"{source.name} has unique keys: pass the table of its duplicates (duplicates_sql)")
    empty = " AND ".join(f"NOT {_present(c)}" for c in source.column_names)
    joins = f"""LEFT JOIN raw.row_defects AS x
                       ON x.snapshot_date = raw.snapshot_date AND x.source = '{source.name}' AND x.source_row = raw.source_row"""
    if keys:
        joins += f"\n                LEFT JOIN {duplicates} AS u ON u.source_row = raw.source_row"
    dup_flags = "".join(f", coalesce(u._duplicate_{name}, false) AS _duplicate_{name}" for name in keys)
    typed = "".join(f", {_parse(source, col.name)} AS _v_{col.name}" for col in cols if col.kind not in LOOKUP_KINDS)
    defects = "".join(f", {expr} AS _defect_{c}" for c, expr in field_reason.items())
    out_cols = [f"CASE WHEN _defect_{c} IS NULL THEN _v_{c} END AS {c}" if c in field_reason else f"_v_{c} AS {c}"
                for c in source.column_names]
    field_list = ", ".join(f"CASE WHEN _defect_{c} IS NOT NULL THEN {{'field': '{c}', 'reason': _defect_{c}, "
                           f"'value': _raw_row.{c}}} END" for c in field_reason)
    return f"""
        WITH parsed AS (
            SELECT r.*{typed}
            FROM {_read(source, list(source.column_names),
                           f", raw.source_file, x.defect, x.line_text, raw AS _raw_row{dup_flags}", joins)}
        ), checked AS (
            SELECT r.*{defects},
                   CASE WHEN {empty} AND r.defect IS NULL THEN ['empty_row']
                        ELSE list_filter([r.defect, {', '.join(row_reasons)}]::VARCHAR[], lambda x: x IS NOT NULL)
                   END AS reasons
            FROM parsed AS r
        )
        SELECT snapshot_date, source_file, source_row, {', '.join(out_cols)}, reasons, field_defects,
               -- the row as received, only where a steward reads it: a refused row or one with a field set aside
               CASE WHEN len(reasons) > 0 OR len(field_defects) > 0
                    THEN coalesce(line_text, to_json(_raw_row)::VARCHAR) END AS row_text
        FROM (SELECT *, list_filter([{field_list}]::{FIELD_DEFECT}[], lambda f: f IS NOT NULL) AS field_defects
              FROM checked)
    """


def stage(con, source: Source, snapshot_date: date, table: str | None = None) -> dict:
    """Parse one source's snapshot in one transaction: rows that can be counted to staging (with their defective
    fields set aside, listed in staging.field_defects), the rest to quarantine with every reason that applies.

    The raw rows are read and parsed once, into a temporary table that holds the row text only of the rows a
    steward will see; the three tables and the statistics are written from it. Repeated keys are found first, by
    a narrow pass over the key columns.
    """
    table = table or f"staging.{source.name}"
    params = {"snapshot_date": snapshot_date}
    duplicates = duplicates_sql(source)
    names = ", ".join(source.column_names)
    try:
        if duplicates:
            con.execute(f"CREATE OR REPLACE TEMP TABLE duplicates AS {duplicates}", params)
        con.execute(f"CREATE OR REPLACE TEMP TABLE parsed AS {parse_sql(source, 'duplicates' if duplicates else None)}",
                    params)
        with transaction(con):
            loaded = replace_rows(con, table, snapshot_date,
                                  f"SELECT snapshot_date, source_file, source_row, {names} FROM parsed WHERE len(reasons) = 0")
            # a refused row lists its field defects too: the steward fixes everything in one go
            quarantined = replace_rows(con, QUARANTINE, snapshot_date, f"""
                SELECT snapshot_date, '{source.name}' AS source, source_file, source_row,
                       list_concat(reasons, list_transform(field_defects, lambda f: f.reason)) AS reasons, row_text
                FROM parsed WHERE len(reasons) > 0""", source=source.name)
            set_aside = replace_rows(con, FIELD_DEFECTS, snapshot_date, f"""
                SELECT snapshot_date, '{source.name}' AS source, source_file, source_row, f.field, f.reason,
                       f.value AS original_value, row_text
                FROM (SELECT *, unnest(field_defects) AS f FROM parsed WHERE len(reasons) = 0 AND len(field_defects) > 0)""",
                                     source=source.name)
        # one query for the statistics: rows, the reasons of refused rows and the field defects of loaded ones
        counted = con.execute("""
            SELECT 'received' AS kind, NULL AS reason, count(*) AS n FROM parsed
            UNION ALL
            SELECT kind, reason, count(*) AS n FROM (
                SELECT 'row' AS kind, unnest(reasons) AS reason FROM parsed WHERE len(reasons) > 0
                UNION ALL
                SELECT 'field', unnest(list_transform(field_defects, lambda f: f.reason)) FROM parsed
                WHERE len(reasons) = 0 AND len(field_defects) > 0)
            GROUP BY ALL""").fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS temp.parsed")
        con.execute("DROP TABLE IF EXISTS temp.duplicates")
    by_reason = sorted(((r, n) for kind, r, n in counted if kind == "row"), key=lambda rn: (-rn[1], rn[0]))
    by_field = sorted(((r, n) for kind, r, n in counted if kind == "field"), key=lambda rn: (-rn[1], rn[0]))
    return {
        "dagster/row_count": loaded,
        "rows_received": next(n for kind, _, n in counted if kind == "received"),
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "fields_set_aside": set_aside,
        "quarantine_reasons": dg.MetadataValue.md(
            "\n".join(f"- `{r}`: {n}" for r, n in by_reason) or "none"),
        "field_defects": dg.MetadataValue.md("\n".join(f"- `{r}`: {n}" for r, n in by_field) or "none"),
    }


def _depends(source: Source) -> list[dg.AssetKey]:
    """The raw file, the regions every village code is checked against, and every table a column references."""
    keys = [dg.AssetKey(["raw", source.name]), dg.AssetKey(["reference", "regions"])]
    for ref in source.references():
        if ref.is_reference_data:
            keys.append(dg.AssetKey(ref.table.split(".")))
        elif not ref.soft:
            keys.append(dg.AssetKey(["staging", ref.table]))
    return keys


def _staging_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=source.name, key_prefix="staging", group_name="staging", partitions_def=snapshot_partitions,
        pool="pipeline_db", kinds={"duckdb"},
        deps=_depends(source),
        description=f"{source.description} Typed and checked; rows that break a rule are in staging.quarantine.",
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        snapshot_date = date.fromisoformat(context.partition_key)
        with warehouse.connect() as con:
            metadata = stage(con, source, snapshot_date)
        return dg.MaterializeResult(metadata=metadata)

    return _asset


@dg.asset(
    key=["staging", "registrations"], group_name="staging", partitions_def=snapshot_partitions, pool="pipeline_db",
    deps=[dg.AssetKey(["staging", s.name]) for s in SOURCES if s.segment], kinds={"duckdb"},
)
def staging_registrations(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every loaded worker registration (PU, BPU, JAKON) in one shape: the person it names and whether its NIK can
    be trusted (valid, agreeing with the birth date and sex). Identity's only input; activity is a coverage rule."""
    snapshot_date = date.fromisoformat(context.partition_key)
    with warehouse.connect() as con:
        with transaction(con):
            rows = replace_rows(con, "staging.registrations", snapshot_date, sql("staging/registrations"),
                                {"snapshot_date": snapshot_date})
        by_segment = con.execute("""SELECT segment, count(*), count(*) FILTER (WHERE NOT nik_valid OR nik_valid IS NULL)
                                    FROM staging.registrations WHERE snapshot_date = ? GROUP BY ALL ORDER BY 1""",
                                 [snapshot_date]).fetchall()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        **{f"{seg}_registrations": n for seg, n, _ in by_segment},
        **{f"{seg}_without_valid_nik": b for seg, _, b in by_segment},
    })


# --- feedback files for the sources ----------------------------------------------------------------------------

FEEDBACK_DIR = "feedback"  # beside the pipeline database: the files hold personal data
XLSX_MAX_ROWS = 1_048_575  # a sheet's rows below its header; the CSV always holds every line


def feedback_folder(warehouse: Warehouse, snapshot_date: date) -> Path:
    return warehouse.pipeline_db.parent / FEEDBACK_DIR / snapshot_date.isoformat()


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
                lines = pl.from_arrow(con.sql(sql("staging/feedback"), params={"snapshot_date": snapshot_date,
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


@dg.asset(key=["staging", "feedback_files"], group_name="staging", partitions_def=snapshot_partitions,
          pool="pipeline_db", deps=[dg.AssetKey(["staging", s.name]) for s in SOURCES], kinds={"csv", "excel"})
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


staging_assets = [*(_staging_asset(s) for s in SOURCES), staging_registrations, feedback_files]


def reason_codes(source: Source) -> list[str]:
    """Every reason code staging can give a row of `source` (docs/reason-codes.md documents each)."""
    codes = ["empty_row", *READ_DEFECTS]
    for col in source.columns:
        if col.required:
            codes.append(f"missing_{col.name}")
        if col.kind in ("key", "date", "birth_date", "money", "count", "choice", "sex", "village", "programs") \
                or (col.shape and not col.needed):
            codes.append(f"invalid_{col.name}")
        if col.kind == "birth_date":
            codes.append(f"implausible_{col.name}")
        if col.references and not col.references.soft:
            codes.append(f"unknown_{col.name}")
        if col.unique:
            codes.append(f"duplicate_{col.name}")
    codes += [rule.code for rule in source.row_rules]
    codes += ["duplicate_row"] if source.unique_rows else []
    return codes


# What the sender does about each reason: the feedback file repeats it beside every row (docs/reason-codes.md).
ACTIONS = {
    "empty_row": "remove the empty line (or the spreadsheet's stray formatting) from the export",
    "truncated_row": "the file ended inside this row: wait for the upload to finish or resend the whole file",
    "malformed_row": "the row has more or fewer fields than the header: quote values that contain the delimiter",
    "missing_": "fill in {column}: the row cannot be counted without it",
    "invalid_period": "the end date is before the start date: correct one of them",
    "implausible_": "{column} makes the person younger than 15 or older than 90: correct it",
    "unknown_": "{column} matches nothing delivered in this snapshot: correct it or deliver what it points to",
    "duplicate_row": "the row repeats an earlier one: remove the repeat",
    "duplicate_": "{column} repeats an earlier row's: remove the repeat or correct the value",
    "invalid_": "{column} cannot be read (see docs/reason-codes.md for the accepted forms): correct it",
}


def what_to_do(code: str) -> str:
    """The sender's action for one reason code, e.g. `invalid_upah`."""
    if code in ACTIONS:
        return ACTIONS[code]
    prefix = next(p for p in ACTIONS if p.endswith("_") and code.startswith(p))
    return ACTIONS[prefix].format(column=code[len(prefix):])


def field_defect_codes(source: Source) -> list[str]:
    """The codes that set a field aside and keep the row: defects of the columns coverage does not need."""
    return [code for col in source.columns if not col.needed
            for code in (f"invalid_{col.name}", f"implausible_{col.name}") if code in reason_codes(source)]
