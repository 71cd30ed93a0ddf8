"""Ingest: every landing file read as text, exactly as received, with its file name and row number."""


import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from pipelines.partitions import snapshot_partitions
from assets.sources import CIVIL_REGISTRY, SNAPSHOT_SOURCES, Source
from pipelines.resources import Warehouse
from warehouse.db import replace_partition

REGISTRY_FILE = re.compile(r"^workforce_(\d{4}-\d{2}-\d{2})\.(csv|xlsx)$", re.IGNORECASE)


class LandingError(Exception):
    """A delivery the pipeline cannot read; the message names the file and what to do."""


@dataclass
class LandingFile:
    """One source file as text columns, plus what a steward should know about how it arrived."""

    path: Path | None
    frame: pl.DataFrame  # contract columns only, all text
    encoding: str = "utf-8"
    delimiter: str = ","
    extra_columns: list[str] = field(default_factory=list)
    missing_optional_columns: list[str] = field(default_factory=list)


def find_source_file(folder: Path, name: str) -> Path | None:
    """The .csv or .xlsx file of a source; refuses a folder that holds both."""
    found = [p for p in folder.iterdir() if p.is_file() and p.stem.lower() == name and p.suffix.lower() in (".csv", ".xlsx")] \
        if folder.is_dir() else []
    if len(found) > 1:
        raise LandingError(f"{folder}: both {' and '.join(p.name for p in found)} arrived for '{name}'; "
                           "keep one of them and rerun.")
    return found[0] if found else None


def find_registry_file(landing: Path, snapshot_date: date) -> tuple[Path, date]:
    """The newest Dukcapil workforce file whose cut-off date is on or before the snapshot date."""
    folder = landing / "civil_registry"
    candidates = []
    for p in folder.iterdir() if folder.is_dir() else []:
        m = REGISTRY_FILE.match(p.name)
        if m and date.fromisoformat(m.group(1)) <= snapshot_date:
            candidates.append((date.fromisoformat(m.group(1)), p))
    if not candidates:
        raise LandingError(f"{folder}: no civil-registry file workforce_<YYYY-MM-DD>.csv with a cut-off on or before "
                           f"{snapshot_date}; add the Dukcapil workforce aggregate for that period and rerun.")
    cut_off, path = max(candidates)
    return path, cut_off


def normalise_header(name: str) -> str:
    return name.replace("\ufeff", "").strip().strip('"').strip().lower()


def _read_csv(path: Path) -> tuple[pl.DataFrame, str, str]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    encoding = "utf-8"
    try:
        data.decode("utf-8")  # cheap check before the parser: a wrong guess must never pass silently
    except UnicodeDecodeError as exc:
        try:
            data = data.decode("cp1252").encode("utf-8")
            encoding = "windows-1252"
        except UnicodeDecodeError:
            raise LandingError(f"{path}: byte {exc.start} is neither UTF-8 nor Windows-1252; "
                               "re-export the file as UTF-8 CSV and rerun.") from exc
    header_line = data.split(b"\n", 1)[0]
    delimiter = ";" if header_line.count(b";") > header_line.count(b",") else ","
    try:
        frame = pl.read_csv(io.BytesIO(data), separator=delimiter, infer_schema=False, truncate_ragged_lines=False)
    except pl.exceptions.ComputeError as exc:
        raise LandingError(f"{path}: cannot be parsed as CSV ({str(exc).splitlines()[0]}); "
                           "check the delimiter and quoting, re-export and rerun.") from exc
    return frame, encoding, delimiter


def _read_xlsx(path: Path) -> pl.DataFrame:
    try:
        return pl.read_excel(path, sheet_id=1, infer_schema_length=0)
    except Exception as exc:  # the Excel reader raises several types; all mean the same to a steward
        raise LandingError(f"{path}: cannot be read as an XLSX workbook ({exc}); re-save it as .xlsx or CSV and rerun.") from exc


def read_landing_file(path: Path | None, source: Source) -> LandingFile:
    """Read one source file as text columns named by the contract; raises LandingError when unusable."""
    if path is None:
        empty = pl.DataFrame({c: [] for c in source.columns}, schema={c: pl.String for c in source.columns})
        return LandingFile(None, empty)
    if path.suffix.lower() == ".xlsx":
        frame, encoding, delimiter = _read_xlsx(path), "xlsx", ""
    else:
        frame, encoding, delimiter = _read_csv(path)
    original = [c for c in frame.columns]
    headers = [normalise_header(c) for c in original]
    duplicated = sorted({h for h in headers if headers.count(h) > 1 or re.search(r"_duplicated_\d+$", h)})
    if duplicated:
        raise LandingError(f"{path}: column(s) {', '.join(duplicated)} appear more than once in the header; "
                           "remove the duplicate column and rerun.")
    frame = frame.rename(dict(zip(original, headers))).select(pl.all().cast(pl.String))
    missing = [c for c in source.columns if c not in headers]
    missing_required = [c for c in missing if c not in source.optional_columns]
    if missing_required:
        raise LandingError(f"{path}: required column(s) {', '.join(missing_required)} missing from the header "
                           f"(found: {', '.join(headers)}); add them and rerun.")
    frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing).select(source.columns)
    extra = [h for h in headers if h not in source.columns]
    return LandingFile(path, frame, encoding, delimiter, extra, missing)


def load_raw(con, table: str, landing_file: LandingFile, snapshot_date: date, source_file: str,
             extra_columns: dict | None = None) -> int:
    """Write one file's rows to raw.<table> for the snapshot, numbered 1.. in file order."""
    frame = landing_file.frame.with_row_index("source_row", offset=1).with_columns(
        pl.lit(snapshot_date).alias("snapshot_date"),
        pl.lit(source_file).alias("source_file"),
        pl.col("source_row").cast(pl.Int64),
        *[pl.lit(v).alias(k) for k, v in (extra_columns or {}).items()],
    )
    front = ["snapshot_date", "source_file", "source_row", *(extra_columns or {})]
    con.register("landing_frame", frame.select(front + list(landing_file.frame.columns)))
    try:
        return replace_partition(con, f"raw.{table}", snapshot_date, "SELECT * FROM landing_frame")
    finally:
        con.unregister("landing_frame")


def _metadata(landing_file: LandingFile, rows: int) -> dict:
    return {
        "dagster/row_count": rows,
        "file": str(landing_file.path) if landing_file.path else "(not delivered: optional source)",
        "encoding": landing_file.encoding,
        "delimiter": landing_file.delimiter,
        "extra_columns_ignored": ", ".join(landing_file.extra_columns) or "none",
        "optional_columns_absent": ", ".join(landing_file.missing_optional_columns) or "none",
    }


def snapshot_folder(warehouse: Warehouse, snapshot_date: date) -> Path:
    folder = warehouse.landing / snapshot_date.isoformat()
    if not folder.is_dir():
        raise LandingError(f"{folder}: no landing folder for snapshot {snapshot_date}; deliver the extracts "
                           f"there (one file per source) or pick a snapshot date that has one.")
    return folder


def _raw_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=source.name, key_prefix="raw", group_name="ingest", partitions_def=snapshot_partitions,
        pool="pipeline_db", description=f"{source.description} Every row exactly as received, as text.",
        kinds={"duckdb"},
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        snapshot_date = date.fromisoformat(context.partition_key)
        folder = snapshot_folder(warehouse, snapshot_date)
        path = find_source_file(folder, source.name)
        if path is None and source.required_file:
            raise LandingError(f"{folder}: {source.name}.csv (or .xlsx) is missing; deliver it — a source with "
                               "nothing to report sends a file with only its header row — and rerun.")
        landing_file = read_landing_file(path, source)
        source_file = path.relative_to(warehouse.landing).as_posix() if path else ""
        with warehouse.connect() as con:
            rows = load_raw(con, source.name, landing_file, snapshot_date, source_file)
        return dg.MaterializeResult(metadata=_metadata(landing_file, rows))

    return _asset


@dg.asset(
    key=["raw", CIVIL_REGISTRY.name], group_name="ingest", partitions_def=snapshot_partitions, pool="pipeline_db",
    description=f"{CIVIL_REGISTRY.description} Rows exactly as received, as text.", kinds={"duckdb"},
)
def raw_civil_registry(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    snapshot_date = date.fromisoformat(context.partition_key)
    path, cut_off = find_registry_file(warehouse.landing, snapshot_date)
    landing_file = read_landing_file(path, CIVIL_REGISTRY)
    with warehouse.connect() as con:
        rows = load_raw(con, CIVIL_REGISTRY.name, landing_file, snapshot_date,
                        path.relative_to(warehouse.landing).as_posix(), {"cut_off_date": cut_off})
    return dg.MaterializeResult(metadata={**_metadata(landing_file, rows), "cut_off_date": cut_off.isoformat()})


raw_assets = [_raw_asset(s) for s in SNAPSHOT_SOURCES] + [raw_civil_registry]
