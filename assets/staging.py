"""Staging: typed, normalised rows; a row that breaks a rule goes to quarantine with every reason that applies.

Each source is described by its columns' kinds; the SQL that parses and checks them is
generated from that description, so a rule is written once and means the same in every file.
Reason codes are `missing_<column>`, `invalid_<column>`, `unknown_<column>` (points to nothing),
`duplicate_<column>` (a later row repeating a key: the first row is kept) and `empty_row`.
"""


from dataclasses import dataclass
from datetime import date

import dagster as dg

from assets.sources import (BPU_PARTICIPANTS, CIVIL_REGISTRY, EMPLOYERS, JAKON_PROJECTS, JAKON_WORKERS,
                            OPD_NON_ASN, PU_WORKERS, Source)
from pipelines.partitions import snapshot_partitions
from pipelines.resources import Warehouse
from warehouse.db import first, preview, replace_rows, transaction

QUARANTINE = "staging.quarantine"


@dataclass(frozen=True)
class Col:
    """How one source column is parsed and checked."""

    name: str
    kind: str  # code | text | nik | date | money | count | choice | sex | village
    required: bool = False
    values: tuple[str, ...] = ()  # allowed values of a `choice`, compared in lower case
    references: str | None = None  # query of the values allowed (another table's keys)
    unique: bool = False  # a later row with the same value is quarantined as duplicate_<name>


PARSE = {
    "code": "clean_code({c})",
    "text": "nullif(trim({c}), '')",
    "nik": "nullif(trim({c}), '')",  # kept as received: an invalid NIK still belongs to a person
    "date": "parse_date({c})",
    "money": "parse_money({c})",
    "count": "parse_count({c})",
    "choice": "lower(trim({c}))",
    "sex": "sex_code({c})",
    "village": "village_code({c})",
    "occupation": "upper(trim({c}))",  # KTP wording, matched against reference/occupation_categories.csv
}


def _present(c: str) -> str:
    return f"nullif(trim(r.{c}), '') IS NOT NULL"


def _reasons(col: Col, parsed: str) -> list[str]:
    c, out = col.name, []
    if col.required:
        out.append(f"CASE WHEN NOT {_present(c)} THEN 'missing_{c}' END")
    invalid = {
        "date": f"{parsed} IS NULL",
        "money": f"{parsed} IS NULL OR {parsed} < 0",
        "count": f"{parsed} IS NULL",
        "choice": f"{parsed} NOT IN ({', '.join(repr(v) for v in col.values)})",
        "sex": f"{parsed} IS NULL",
        # well-formed codes outside Sulawesi Tenggara are kept: the reference list covers province 74 only
        "village": f"{parsed} IS NULL OR (starts_with({parsed}, '74.') AND {parsed} NOT IN "
                   "(SELECT code FROM reference.regions WHERE level = 'village'))",
    }.get(col.kind)
    if invalid:
        out.append(f"CASE WHEN {_present(c)} AND ({invalid}) THEN 'invalid_{c}' END")
    if col.references:
        out.append(f"CASE WHEN {_present(c)} AND {parsed} NOT IN ({col.references}) THEN 'unknown_{c}' END")
    if col.unique:
        out.append(f"CASE WHEN {parsed} IS NOT NULL AND row_number() OVER (PARTITION BY {parsed} ORDER BY r.source_row) > 1 "
                   f"THEN 'duplicate_{c}' END")
    return out


def parse_sql(source: Source, cols: tuple[Col, ...]) -> str:
    """SELECT of typed columns, the original row as JSON text and the list of reason codes."""
    typed = [f"{PARSE[col.kind].format(c='r.' + col.name)} AS {col.name}" for col in cols]
    reasons = [reason for col in cols for reason in _reasons(col, PARSE[col.kind].format(c="r." + col.name))]
    empty = " AND ".join(f"NOT {_present(c)}" for c in source.columns)
    return f"""
        SELECT r.snapshot_date, r.source_file, r.source_row, {', '.join(typed)},
               to_json(r) AS row_text,
               CASE WHEN {empty} THEN ['empty_row']
                    ELSE list_filter([{', '.join(reasons)}]::VARCHAR[], lambda x: x IS NOT NULL) END AS reasons
        FROM raw.{source.name} AS r
        WHERE r.snapshot_date = $snapshot_date
    """


def stage(con, source: Source, cols: tuple[Col, ...], snapshot_date: date, table: str | None = None) -> dict:
    """Parse one source's snapshot; loaded rows to staging, the rest to quarantine, in one transaction."""
    table = table or f"staging.{source.name}"
    params = {"snapshot_date": snapshot_date}
    con.execute(f"CREATE OR REPLACE TEMP TABLE parsed AS {parse_sql(source, cols)}", params)
    names = ", ".join(col.name for col in cols)
    with transaction(con):
        loaded = replace_rows(con, table, snapshot_date,
                              f"SELECT snapshot_date, source_file, source_row, {names} FROM parsed WHERE len(reasons) = 0")
        quarantined = replace_rows(con, QUARANTINE, snapshot_date, f"""
            SELECT snapshot_date, '{source.name}' AS source, source_file, source_row, reasons, row_text
            FROM parsed WHERE len(reasons) > 0""", source=source.name)
    received = first(con, "SELECT count(*) FROM parsed")[0]
    by_reason = con.execute("SELECT reason, count(*) AS n FROM (SELECT unnest(reasons) AS reason FROM parsed) "
                            "GROUP BY ALL ORDER BY n DESC, reason").fetchall()
    con.execute("DROP TABLE parsed")
    return {
        "dagster/row_count": loaded,
        "rows_received": received,
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "quarantine_reasons": dg.MetadataValue.md(
            "\n".join(f"- `{r}`: {n}" for r, n in by_reason) or "none"),
    }


STATUS = ("aktif", "nonaktif")
KEYS_OF = "SELECT {key} FROM {table} WHERE snapshot_date = $snapshot_date"
PERSON = (Col("nik", "nik"), Col("nama", "text", required=True), Col("tanggal_lahir", "date"),
          Col("jenis_kelamin", "sex"))

COLUMNS: dict[str, tuple[Col, ...]] = {
    EMPLOYERS.name: (
        Col("npp", "code", required=True, unique=True), Col("nama_perusahaan", "text", required=True),
        Col("npwp", "code"),
        Col("jenis_pemberi_kerja", "choice", required=True, values=("swasta", "bumn", "bumd", "instansi_pemerintah")),
        Col("kbli", "code"), Col("skala_usaha", "choice", values=("mikro", "kecil", "menengah", "besar")),
        Col("kode_wilayah", "village"), Col("jumlah_pekerja", "count"), Col("tanggal_daftar", "date"),
        Col("status", "choice", required=True, values=STATUS),
    ),
    PU_WORKERS.name: (
        Col("kpj", "code", required=True, unique=True), *PERSON,
        Col("npp", "code", required=True, references=KEYS_OF.format(key="npp", table="staging.employers")), Col("upah", "money"),
        Col("program", "text"), Col("kode_wilayah_domisili", "village"),
        Col("tanggal_mulai", "date", required=True), Col("tanggal_berhenti", "date"),
        Col("status", "choice", required=True, values=STATUS),
    ),
    BPU_PARTICIPANTS.name: (
        Col("kpj", "code", required=True, unique=True), *PERSON, Col("pekerjaan", "text"),
        Col("penghasilan", "money"), Col("program", "text"), Col("kode_wilayah", "village"),
        Col("tanggal_daftar", "date", required=True), Col("iuran_dibayar_sampai", "date", required=True),
        Col("status", "choice", required=True, values=STATUS),
    ),
    JAKON_PROJECTS.name: (
        Col("nomor_proyek", "code", required=True, unique=True), Col("nama_proyek", "text"), Col("npp", "code"),
        Col("nilai_kontrak", "money"), Col("sumber_dana", "choice", values=("apbn", "apbd", "bumn", "swasta")),
        Col("kode_wilayah", "village"), Col("tanggal_mulai", "date", required=True),
        Col("tanggal_selesai", "date", required=True),
    ),
    JAKON_WORKERS.name: (
        Col("nomor_proyek", "code", required=True, references=KEYS_OF.format(key="nomor_proyek", table="staging.jakon_projects")), *PERSON,
        Col("kode_wilayah_domisili", "village"),
    ),
    OPD_NON_ASN.name: (
        Col("kode_opd", "code", required=True), Col("nama_opd", "text"), *PERSON, Col("jabatan", "text"),
    ),
    CIVIL_REGISTRY.name: (
        Col("kode_wilayah", "village", required=True), Col("pekerjaan", "occupation", required=True,
                                                       references="SELECT name FROM reference.occupation_categories"),
        Col("jenis_kelamin", "sex", required=True), Col("jumlah", "count", required=True),
    ),
}

DEPENDS = {
    EMPLOYERS.name: [],
    PU_WORKERS.name: [dg.AssetKey(["staging", "employers"])],
    BPU_PARTICIPANTS.name: [],
    JAKON_PROJECTS.name: [],
    JAKON_WORKERS.name: [dg.AssetKey(["staging", "jakon_projects"])],
    OPD_NON_ASN.name: [],
    CIVIL_REGISTRY.name: [dg.AssetKey(["reference", "occupation_categories"])],
}


def _staging_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=source.name, key_prefix="staging", group_name="staging", partitions_def=snapshot_partitions,
        pool="pipeline_db", kinds={"duckdb"},
        deps=[dg.AssetKey(["raw", source.name]), dg.AssetKey(["reference", "regions"]), *DEPENDS[source.name]],
        description=f"{source.description} Typed and checked; rows that break a rule are in staging.quarantine.",
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        snapshot_date = date.fromisoformat(context.partition_key)
        with warehouse.connect() as con:
            metadata = stage(con, source, COLUMNS[source.name], snapshot_date)
        return dg.MaterializeResult(metadata=metadata)

    return _asset


STAGED_SOURCES = (EMPLOYERS, PU_WORKERS, BPU_PARTICIPANTS, JAKON_PROJECTS, JAKON_WORKERS, OPD_NON_ASN, CIVIL_REGISTRY)
staging_assets = [_staging_asset(s) for s in STAGED_SOURCES]
