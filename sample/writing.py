"""Writing the sample: one file per source in the landing zone, its header as the source specification declares it
(sources.SOURCES), in the delivery's formats; and the ground truth in its own folder.

formats="csv": every file comma-delimited UTF-8; "mixed": employers as .xlsx (all text), bpu_participants
semicolon-delimited with a BOM, the rest comma CSV.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import polars as pl

from sources import SOURCES

# The headers, as the specification declares them, of every file the generator writes (the required ones).
COLUMNS = {s.name: s.column_names for s in SOURCES if s.required_file}
HEADERS = {s.name: s.column_names for s in SOURCES}
OPTIONAL = tuple(s.name for s in SOURCES if not s.required_file)
# How each source's file is written in each delivery format (any other: comma CSV).
FILE_FORMATS = {"csv": {}, "mixed": {"employers": "xlsx", "bpu_participants": "csv;bom"}}


def write_source(frame: pl.DataFrame, stem: Path, how: str, d: date) -> None:
    """One file per source: the other format's file, if an earlier run left one, is removed."""
    for ext in (".csv", ".xlsx"):
        stem.with_suffix(ext).unlink(missing_ok=True)
    frame = frame.select(HEADERS[stem.name])
    if how == "xlsx":
        import xlsxwriter

        with xlsxwriter.Workbook(stem.with_suffix(".xlsx")) as workbook:
            workbook.set_properties({"created": datetime(d.year, d.month, d.day)})  # reproducible bytes
            frame.write_excel(workbook, worksheet=stem.name, autofit=False)
    else:
        frame.write_csv(stem.with_suffix(".csv"), separator=";" if how == "csv;bom" else ",",
                        include_bom=how == "csv;bom")


def write_landing(landing_dir: Path, d: date, formats: str, frames: dict[str, pl.DataFrame], registry: pl.DataFrame,
                  cutoff: date) -> None:
    """landing_dir/<date>/<source>.csv (or .xlsx) per frame, and landing_dir/civil_registry/workforce_<cutoff>.csv.
    An optional source without a frame loses the file an earlier run may have left."""
    folder = landing_dir / d.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (landing_dir / "civil_registry").mkdir(parents=True, exist_ok=True)
    registry.select(HEADERS["civil_registry"]).write_csv(
        landing_dir / "civil_registry" / f"workforce_{cutoff.isoformat()}.csv")
    for source, frame in frames.items():
        write_source(frame, folder / source, FILE_FORMATS[formats].get(source, "csv"), d)
    for source in OPTIONAL:
        if source not in frames:
            (folder / f"{source}.csv").unlink(missing_ok=True)


def write_truth(truth_dir: Path, d: date, records: pl.DataFrame, persons: pl.DataFrame, summary: dict) -> None:
    """truth_dir/<date>/records.parquet, persons.parquet and summary.json."""
    out = truth_dir / d.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    records.write_parquet(out / "records.parquet")
    persons.write_parquet(out / "persons.parquet")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
