"""Writing the sample: one file per source in the landing zone, its header as the source specification declares it
(sources.SOURCES), in the delivery's formats; and the ground truth in its own folder.

formats="csv": every file comma-delimited UTF-8; "mixed": employers as .xlsx (all text), bpu_participants
semicolon-delimited with a BOM, the rest comma CSV.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

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
    write_registry(landing_dir, registry, cutoff)
    for source, frame in frames.items():
        write_source(frame, folder / source, FILE_FORMATS[formats].get(source, "csv"), d)
    for source in OPTIONAL:
        if source not in frames:
            (folder / f"{source}.csv").unlink(missing_ok=True)


def write_registry(landing_dir: Path, registry: pl.DataFrame, cutoff: date) -> None:
    (landing_dir / "civil_registry").mkdir(parents=True, exist_ok=True)
    registry.select(HEADERS["civil_registry"]).write_csv(
        landing_dir / "civil_registry" / f"workforce_{cutoff.isoformat()}.csv")


class BlockWriter:
    """The files of a chunked run, written block by block: each worker source's rows appended to its one file
    (header and BOM with the first block), the truth's records and persons appended to their one Parquet file each
    (a row group per block); what is drawn once for the whole area (employers, projects, civil registry) and the
    summary at `finish`. Use as a context manager: the files are closed even when a block fails."""

    def __init__(self, landing_dir: Path, truth_dir: Path, d: date, formats: str, sources: tuple[str, ...]):
        self.landing_dir, self.d, self.formats = landing_dir, d, formats
        self.folder = landing_dir / d.isoformat()
        self.truth = truth_dir / d.isoformat()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.truth.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, BinaryIO] = {}
        for source in sources:
            for ext in (".csv", ".xlsx"):
                (self.folder / source).with_suffix(ext).unlink(missing_ok=True)
            self.files[source] = (self.folder / f"{source}.csv").open("wb")
        self.rows = dict.fromkeys(sources, 0)  # rows written so far per source
        self.parquet: dict = {}

    def __enter__(self) -> BlockWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        for w in self.parquet.values():
            w.close()
        self.files, self.parquet = {}, {}

    def append(self, frames: dict[str, pl.DataFrame], records: pl.DataFrame, persons: pl.DataFrame) -> None:
        for source, frame in frames.items():
            how = FILE_FORMATS[self.formats].get(source, "csv")
            if how not in ("csv", "csv;bom"):
                raise ValueError(f"{source}: a chunked run writes CSV only, not {how}")
            first = self.rows[source] == 0
            frame.select(HEADERS[source]).write_csv(self.files[source], separator=";" if how == "csv;bom" else ",",
                                                    include_header=first, include_bom=first and how == "csv;bom")
            self.rows[source] += frame.height
        for name, frame in (("records", records), ("persons", persons)):
            table = frame.to_arrow()
            if name not in self.parquet:
                import pyarrow.parquet as pq

                self.parquet[name] = pq.ParquetWriter(self.truth / f"{name}.parquet", table.schema,
                                                      compression="zstd")
            self.parquet[name].write_table(table)

    def finish(self, frames: dict[str, pl.DataFrame], registry: pl.DataFrame, cutoff: date, summary: dict) -> None:
        """The area-wide files, the summary; closes every file."""
        self.close()
        write_registry(self.landing_dir, registry, cutoff)
        for source, frame in frames.items():
            write_source(frame, self.folder / source, FILE_FORMATS[self.formats].get(source, "csv"), self.d)
        for source in OPTIONAL:
            if source not in frames:
                (self.folder / f"{source}.csv").unlink(missing_ok=True)
        (self.truth / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")


def write_truth(truth_dir: Path, d: date, records: pl.DataFrame, persons: pl.DataFrame, summary: dict) -> None:
    """truth_dir/<date>/records.parquet, persons.parquet and summary.json."""
    out = truth_dir / d.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    records.write_parquet(out / "records.parquet")
    persons.write_parquet(out / "persons.parquet")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
