"""Ingest: every landing file read as text, exactly as received, with its file name and row number."""


import codecs
import re
import shutil
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

import dagster as dg
import polars as pl

from warehouse.partitions import snapshot_partitions
from sources import SOURCES, Source
from warehouse.resources import Warehouse
from warehouse.db import replace_rows, transaction

REGISTRY_FILE = re.compile(r"^workforce_(\d{4}-\d{2}-\d{2})\.(csv|xlsx)$", re.IGNORECASE)


class LandingError(Exception):
    """A delivery the pipeline cannot read; the message names the file and what to do."""


# Row-level damage found while reading a file; staging quarantines these rows under the same codes.
TRUNCATED_ROW = "truncated_row"  # the file ends inside this row: an upload cut off
MALFORMED_ROW = "malformed_row"  # more or fewer fields than the header
DEFECTS_SCHEMA = {"source_row": pl.Int64, "defect": pl.String, "line_text": pl.String}
UTF8_ENCODINGS = ("utf-8", "utf-8-sig", "xlsx")

# Sane limits, checked before anything is parsed, so a hostile or wrong file is refused by name in bounded time
# and memory. The contract's files have at most 12 columns and Kendari's biggest workbook unpacks to ~40 MB.
MAX_COLUMNS = 1_000  # header columns of a CSV or a sheet
MAX_XLSX_UNPACKED_BYTES = 512 * 2**20  # all parts of a workbook, decompressed (counted while inflating)
MAX_XLSX_CELLS = 16_000_000  # the cell grid the reader would allocate: rows x columns (1,048,576 rows x 15)
XLSX_CHUNK = 4 * 2**20


@dataclass
class LandingFile:
    """One source file as text columns, plus what a steward should know about how it arrived."""

    path: Path | None
    frame: pl.DataFrame  # contract columns only, all text
    encoding: str = "utf-8"  # utf-8, utf-8-sig (with BOM), windows-1252 (decoded, reported), xlsx
    delimiter: str = ","
    extra_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the file was read where it differs from plain CSV/XLSX
    missing_optional_columns: list[str] = field(default_factory=list)
    file_format: str = "csv"  # csv | xlsx | none (optional source not delivered)
    header: str = ""  # the header row as received
    blank_rows: int = 0  # all fields empty: kept, quarantined as empty_row
    # rows damaged in transit or by hand (source_row, defect, line_text): quarantined under `defect`
    defects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=DEFECTS_SCHEMA))
    non_ascii: str = ""  # windows-1252 only: the characters decoded, for the steward to verify
    # a CSV read in blocks (bigger than BLOCK_BYTES): its rows are in these Parquet files as (source_row, contract
    # columns), and `frame` is empty; `rows` counts the file's data rows either way
    spooled: list[Path] = field(default_factory=list)
    rows: int = 0

    def defect_rows(self, defect: str) -> list[int]:
        return self.defects.filter(pl.col("defect") == defect)["source_row"].to_list()


def refuse_links_out(path: Path, landing: Path) -> Path:
    """The path, unless it is a link that leads outside the landing zone: such a file is never opened, so
    nothing of it (a system file, another agency's extract) can reach the database or the logs."""
    try:
        inside = path.resolve(strict=True).is_relative_to(landing.resolve())
    except (OSError, RuntimeError):  # a dangling or looping link
        inside = False
    if not inside:
        raise LandingError(f"{path}: is a symbolic link that leads outside the landing folder {landing}; it was not "
                           "read. Deliver the file itself (a copy, not a link) and rerun.")
    return path


def find_source_file(folder: Path, name: str, landing: Path | None = None) -> Path | None:
    """The .csv or .xlsx file of a source; refuses a folder that holds both, and links out of the landing zone."""
    found = [p for p in folder.iterdir()
             if (p.is_file() or p.is_symlink()) and p.stem.lower() == name and p.suffix.lower() in (".csv", ".xlsx")] \
        if folder.is_dir() else []
    if len(found) > 1:
        raise LandingError(f"{folder}: both {' and '.join(sorted(p.name for p in found))} arrived for '{name}'; "
                           "keep one of them and rerun.")
    return refuse_links_out(found[0], landing or folder.parent) if found else None


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
    if len([c for c in candidates if c[0] == cut_off]) > 1:
        raise LandingError(f"{folder}: both workforce_{cut_off}.csv and .xlsx arrived; keep one of them and rerun.")
    return refuse_links_out(path, landing), cut_off


def normalise_header(name: str | None) -> str:
    """`" Tanggal Lahir "` and `TANGGAL-LAHIR` both mean `tanggal_lahir`: case, outer and inner spacing ignored,
    invisible characters (BOM, zero-width space, no-break space) too."""
    text = "".join(ch for ch in (name or "") if unicodedata.category(ch) != "Cf")
    text = text.replace("\xa0", " ").strip().strip('"').strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def _names(values, limit: int = 20) -> str:
    """A short list for a message: a header of 200,000 names, or a long cell, must not flood the logs."""
    values = list(values)
    shown = ", ".join((v if len(v) <= 40 else v[:37] + "...") for v in values[:limit])
    return shown + (f" ... and {len(values) - limit:,} more" if len(values) > limit else "")


# What a file that is not a text CSV looks like, from its first bytes (magic numbers).
SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard-compressed file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls) or another Office document"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "an executable program (Linux)"),
    (b"MZ", "an executable program (Windows)"),
    (b"\xcf\xfa\xed\xfe", "an executable program (macOS)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
)


def looks_like(data: bytes) -> str | None:
    """What a delivery that is not a CSV looks like, in a steward's words; None for text."""
    head = data[:4096]
    if head.startswith(b"PK\x03\x04") and b"xl/" in data[:65536]:
        return "an Excel workbook (XLSX)"
    for magic, what in SIGNATURES:
        if head.startswith(magic):
            return what
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32 text"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or re.match(rb"(?:[\x20-\x7e]\x00){4}|(?:\x00[\x20-\x7e]){4}", head):
        return "UTF-16 text (Excel's 'Unicode Text')"
    if re.match(rb"\s*<(?:!doctype html|html)", head, re.IGNORECASE):
        return "a web page (HTML), e.g. a download portal's error or login page"
    if re.match(rb"\s*<\?xml", head):
        return "an XML document (Excel's 'XML Spreadsheet 2003'?)"
    control = sum(head.count(bytes([b])) for b in (*range(0, 9), 11, 12, *range(14, 32)))
    if control > max(8, len(head) // 100):
        return "binary data, not text"
    return None


def _decode(path: Path, data: bytes, windows_1252: bool = False, offset: int = 0,
            head: bytes | None = None) -> tuple[bytes, str, bool]:
    """The file as UTF-8 bytes (BOM removed), the encoding it arrived in, and whether it was cut off inside a
    character or padded with zero bytes (an upload still being written); never a silent guess.
    For a block of a big file: `windows_1252` when the file is (`_facts`), `offset`, the file's byte number
    of the block's byte 0 (for messages), and `head`, the file's first bytes, which say what the file is."""
    cut = False
    if data.endswith(b"\x00") and b"\x00" not in (data if head is None else head)[:4096].rstrip(b"\x00"):
        data, cut = data.rstrip(b"\x00"), True  # space reserved by an unfinished upload
    what = looks_like(data if head is None else head.rstrip(b"\x00"))
    if what and what.startswith("UTF-16"):
        raise LandingError(f"{path}: the file is UTF-16 (Excel's 'Unicode Text'), not a CSV the contract allows; "
                           "re-export it as 'CSV UTF-8' and rerun.")
    if what:
        hint = ("rename it to .xlsx (or save it as 'CSV UTF-8')" if "XLSX" in what else
                "unpack it and deliver the CSV inside" if "compress" in what or "archive" in what else
                "deliver the source's CSV (UTF-8) or XLSX file")
        raise LandingError(f"{path}: is named .csv but looks like {what}, not a CSV text file; {hint}, and rerun.")
    encoding = "utf-8"
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], "utf-8-sig"
    if not windows_1252:
        try:
            data.decode("utf-8")  # a wrong guess must never pass silently
            return data, encoding, cut
        except UnicodeDecodeError as exc:
            if exc.end == len(data) and exc.reason == "unexpected end of data":  # cut inside a character
                try:
                    data[:exc.start].decode("utf-8")
                    return data[:exc.start], encoding, True
                except UnicodeDecodeError:
                    pass
    try:
        # Windows-1252 is what Excel writes for 'CSV (Comma delimited)' on Indonesian Windows. Its five
        # undefined bytes make decode() fail, so a file in another encoding is refused, not mis-read.
        return data.decode("cp1252").encode("utf-8"), "windows-1252", cut
    except UnicodeDecodeError as exc:
        raise LandingError(f"{path}: byte {offset + exc.start} is neither UTF-8 nor Windows-1252; "
                           "re-export the file as UTF-8 CSV and rerun.") from exc


def _lines(data: bytes) -> pl.Series:
    """The file's physical lines (CR LF or LF), blank lines included as empty strings."""
    if b"\x1f" not in data:  # the fast path: Polars' reader splits lines, a separator that never occurs keeps them whole
        lines = pl.read_csv(data, has_header=False, separator="\x1f", quote_char=None, new_columns=["line_text"],
                            infer_schema=False)["line_text"]
    else:
        text = data.decode("utf-8")
        text = text[:-1] if text.endswith("\n") else text
        lines = pl.Series("line_text", text.split("\n")).str.strip_suffix("\r")
    return lines.fill_null("")


def _records(data: bytes, delimiter: str) -> pl.DataFrame:
    """One row per CSV record (header first): its text, field count and whether its quotes close.

    Physical lines are joined into records while a quoted field is open (quote parity), and
    fields are counted outside quotes: all set-based, so it costs one pass over the file.
    """
    ends_with_newline = data.endswith(b"\n")
    lines = _lines(data).to_frame().with_columns(quotes=pl.col("line_text").str.count_matches('"', literal=True))
    if (lines["quotes"] % 2).sum() == 0:  # the usual case: no value spans lines, a record is a line
        records = lines.with_row_index("record").with_columns(pl.col("record").cast(pl.Int64), lines=pl.lit(1),
                                                               closed=pl.lit(True))
    else:
        lines = lines.with_columns(open_quotes=(pl.col("quotes").cum_sum() % 2) == 1)
        lines = lines.with_columns(record=pl.col("open_quotes").shift(1, fill_value=False).not_().cum_sum().cast(pl.Int64) - 1)
        records = lines.group_by("record", maintain_order=True).agg(
            pl.col("line_text").str.join("\n"), pl.col("quotes").sum(), pl.len().alias("lines"),
            pl.col("open_quotes").last().not_().alias("closed"))
    return records.with_columns(
        fields=_unquoted().str.count_matches(delimiter, literal=True) + 1,
        blank=pl.col("line_text").str.strip_chars(f'\t "{delimiter}') == "",
    ).with_columns(ends_with_newline=pl.lit(ends_with_newline))


def _unquoted() -> pl.Expr:
    """A record's text without its quoted values, whose delimiters do not separate fields (only lines with quotes
    need them removed)."""
    return pl.when(pl.col("quotes") > 0).then(pl.col("line_text").str.replace_all(r'"[^"]*("|$)', "")) \
        .otherwise(pl.col("line_text"))


def _read_csv(path: Path, raw: bytes | None = None, *, first_row: int = 1, windows_1252: bool = False,
              offset: int = 0, head: bytes | None = None
              ) -> tuple[list[str], pl.DataFrame, pl.DataFrame, str, str, bool, list[str]]:
    """Header, rows (text), record structure, encoding, delimiter, whether the file was cut off, and notes.

    `raw`: a block of a big file (its header line, then whole records: `_csv_blocks`) instead of the whole
    file; its first record is data row `first_row`, at the file's byte `offset` (for messages).
    """
    data, encoding, cut = _decode(path, path.read_bytes() if raw is None else raw, windows_1252, offset, head)
    if not data or data.isspace():
        raise LandingError(f"{path}: the file is empty, not even a header row; a source with nothing to report "
                           "sends its header row alone. Resend the file.")
    notes = ["cut off: ended inside a character or in zero bytes"] if cut else []
    lone_cr = data.count(b"\r") - data.count(b"\r\n")
    if lone_cr > data.count(b"\n"):  # Excel for Mac (old): every line ends in CR alone
        data = re.sub(rb"\r(?!\n)", b"\n", data)
        notes.append("line endings: CR only (old Mac), read as lines")
    header_line = data.split(b"\n", 1)[0]
    columns = max(header_line.count(b";"), header_line.count(b","), header_line.count(b"\t")) + 1
    if columns > MAX_COLUMNS:
        raise LandingError(f"{path}: the header has {columns:,} columns; a landing file has at most {MAX_COLUMNS:,} "
                           "(the contract's have 12 or fewer). Check that this is the source's extract, with one "
                           "header row, and rerun.")
    if header_line.count(b"\t") > max(header_line.count(b";"), header_line.count(b",")):
        raise LandingError(f"{path}: the file is tab-delimited; the contract allows comma or semicolon. "
                           "Re-export it as CSV and rerun.")
    delimiter = ";" if header_line.count(b";") > header_line.count(b",") else ","
    records = _records(data, delimiter)
    if first_row != 1:  # a later block: its records numbered as the file's data rows
        records = records.with_columns(pl.when(pl.col("record") > 0).then(pl.col("record") + first_row - 1)
                                       .otherwise(0).alias("record"))
    last = records.row(-1, named=True)
    if not last["closed"] and last["lines"] > 1 and last["record"] > 0:
        raise LandingError(f"{path}: a quote opened in data row {last['record']} never closes, so every line after "
                           "it would be read as one value; fix the quoting of that row (or remove the stray \") and rerun.")
    if not last["closed"]:  # an upload cut inside quotes: close them to read what arrived
        data += b'"'
    width = records["fields"][0]
    try:
        frame = pl.read_csv(data, has_header=False, separator=delimiter,
                            schema={f"column_{i}": pl.String for i in range(width)},
                            truncate_ragged_lines=True, missing_columns="insert")
    except pl.exceptions.PolarsError as exc:
        raise LandingError(f"{path}: cannot be parsed as CSV ({str(exc).splitlines()[0][:200]}); "
                           "check the delimiter and quoting, re-export and rerun.") from exc
    if frame.height != records.height:  # two readers disagreeing means the quoting is ambiguous: never guess
        raise LandingError(f"{path}: {records.height} records by quote-aware line count but {frame.height} parsed; "
                           "the quoting is irregular. Re-export the file and rerun.")
    header = [v for v in frame.row(0)]
    return header, frame.slice(1), records, encoding, delimiter, cut, notes


BLOCK_BYTES = 32 * 2**20  # a CSV bigger than this is read in blocks of about this size: memory bounded by a block
SPOOL_DIR = "ingest_spool"  # beside the pipeline database: a big CSV's blocks as Parquet, deleted once loaded


def _csv_blocks(path: Path, size: int) -> Iterator[tuple[int, bytes]]:
    """The file in pieces of about `size` bytes, as (file offset, bytes), each ending at a line end outside
    quotes (an even number of quotes before it), so that no record spans two pieces; the header line is put
    before every piece after the first, so that each reads as a small file. A piece that holds no such line end
    grows until it does or the file ends (a quote that never closes: the rest of the file is one piece), and
    zero bytes at the end of the file (an unfinished upload) stay with the last piece, which they mark cut."""
    header, start, carry, pending = b"", 0, b"", None
    with path.open("rb") as f:
        while chunk := f.read(size):
            data = carry + chunk
            cut, total, after = len(data), data.count(b'"'), 0  # after: the quotes in data[cut:]
            while (line_end := data.rfind(b"\n", 0, cut)) >= 0:
                after += data.count(b'"', line_end, cut)
                cut = line_end
                if (total - after) % 2 == 0:  # an even number of quotes before this line end: outside quotes
                    break
            else:
                cut = -1
            if cut < 0:
                carry = data
                continue
            piece, carry = data[:cut + 1], data[cut + 1:]
            offset, start = start, start + len(piece)  # the piece's place in the file
            if pending is not None and _blank(piece):  # the last row must stay in the last piece: see _defects
                pending = (pending[0], pending[1] + piece)
                continue
            if pending is not None:
                yield pending
            header = header or piece[:piece.index(b"\n") + 1]
            pending = (0, piece) if offset == 0 else (offset - len(header), header + piece)
    if pending is not None and _blank(carry):
        pending, carry = (pending[0], pending[1] + carry), b""
    if pending is not None:
        yield pending
    if carry:
        yield (0, carry) if start == 0 else (start - len(header), header + carry)


def _blank(data: bytes) -> bool:
    """Nothing but blank lines (and an unfinished upload's zero bytes): no row a reader would count as one."""
    return not data.strip(b' \t\r\n",;\x00')


def _facts(path: Path) -> tuple[bool, bool]:
    """(Windows-1252, lone CR) of a big file, decided for the whole file as a whole read would, in one pass of
    bounded memory: not UTF-8 anywhere (a character cut off at the very end, or zero bytes after it, aside)
    means Windows-1252 everywhere; a CR that ends a line without LF (old Mac files) anywhere."""
    decoder, zeros, last, crs, crlfs = codecs.getincrementaldecoder("utf-8")(), b"", b"", 0, 0
    windows_1252 = False
    with path.open("rb") as f:
        while chunk := f.read(BLOCK_BYTES):
            crs, crlfs = crs + chunk.count(b"\r"), crlfs + chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            last = chunk[-1:]
            if not windows_1252:
                body = chunk.rstrip(b"\x00")  # zero bytes at the end of the file are an upload's padding
                try:
                    decoder.decode(zeros + body)
                except UnicodeDecodeError:
                    windows_1252 = True
                zeros = chunk[len(body):]
    return windows_1252, crs > crlfs


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def inspect_xlsx(path: Path) -> None:
    """Refuse, by name and before the reader allocates anything, a workbook that is not one, that unpacks to more
    than MAX_XLSX_UNPACKED_BYTES (a zip bomb), or whose cell grid (declared dimension, cell references or cell
    count) exceeds MAX_XLSX_CELLS or MAX_COLUMNS. Decompressed sizes are counted while inflating, in chunks, so a
    size the archive declares falsely does not matter; memory stays at one chunk."""
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        what = looks_like(path.open("rb").read(65536))
        raise LandingError(f"{path}: is not a complete XLSX workbook: "
                           + (f"it looks like {what}" if what else "it is text, e.g. a CSV named .xlsx (rename it)")
                           + " or the upload was cut off; resend the workbook (or a CSV) and rerun.") from exc
    limit_mb = MAX_XLSX_UNPACKED_BYTES // 2**20
    refuse_size = (f"{path}: the workbook unpacks to more than {limit_mb} MB (a normal extract unpacks to a few "
                   "MB; this looks like a zip bomb or a sheet full of formatting); it was not read. Send the data as "
                   "CSV or as an XLSX of the data alone, and rerun.")
    with book:
        infos = book.infolist()
        if "xl/workbook.xml" not in {i.filename for i in infos}:
            raise LandingError(f"{path}: is a ZIP archive but not an Excel workbook; deliver the .xlsx itself, or a CSV.")
        if sum(i.file_size for i in infos) > MAX_XLSX_UNPACKED_BYTES:
            raise LandingError(refuse_size)
        unpacked, max_row, max_col, cells = 0, 0, 0, 0
        for info in infos:
            is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            tail = b""
            try:
                with book.open(info) as part:
                    while chunk := part.read(XLSX_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > MAX_XLSX_UNPACKED_BYTES:
                            raise LandingError(refuse_size)
                        if is_sheet:
                            text = tail + chunk
                            cells += text.count(b"<c ") + text.count(b"<c>") + text.count(b"<c/>") \
                                - tail.count(b"<c ") - tail.count(b"<c>") - tail.count(b"<c/>")
                            refs = pl.Series([text.decode("latin-1")]).str.extract_all(
                                r'(?:<c [^>]*?\br|<dimension [^>]*?\bref)="[A-Z]{1,3}[0-9]{1,7}(?::[A-Z]{1,3}[0-9]{1,7})?"'
                            ).explode().str.extract_all(r"[A-Z]{1,3}[0-9]{1,7}").explode().drop_nulls()
                            if len(refs):
                                parts = refs.to_frame("ref").select(
                                    letters=pl.col("ref").str.extract(r"^([A-Z]+)"),
                                    row=pl.col("ref").str.extract(r"([0-9]+)$").cast(pl.Int64))
                                max_row = max(max_row, parts["row"].max())
                                width = parts["letters"].str.len_bytes()  # AA > Z: longer letters first
                                widest = parts["letters"].filter(width == width.max()).max()
                                max_col = max(max_col, _column_number(widest))
                            tail = chunk[-256:]
            except LandingError:
                raise
            except Exception as exc:  # BadZipFile (bad CRC), zlib.error, EOFError: all mean a damaged upload
                raise LandingError(f"{path}: the workbook is damaged or cut off ({info.filename} cannot be unpacked); "
                                   "resend it and rerun.") from exc
    if max_col > MAX_COLUMNS:
        raise LandingError(f"{path}: a sheet reaches column {max_col:,} (a cell or the declared dimension far "
                           f"to the right); at most {MAX_COLUMNS:,} columns are read. Delete the stray cells (or copy "
                           "the data to a new sheet), save, and rerun.")
    if max(max_row * max_col, cells) > MAX_XLSX_CELLS:
        raise LandingError(f"{path}: a sheet spans {max_row:,} rows x {max_col:,} columns, more than the "
                           f"{MAX_XLSX_CELLS:,} cells read from a workbook; delete stray cells far below or to the "
                           "right of the data, or send the data as CSV, and rerun.")


def _read_xlsx(path: Path, nik_columns: tuple[str, ...] = ()) -> tuple[list[str], pl.DataFrame, list[str]]:
    """Header and rows (text) of the first sheet; a NIK typed as a number is never trusted as a NIK."""
    inspect_xlsx(path)
    try:
        frame = pl.read_excel(path, sheet_id=1, has_header=False, infer_schema_length=0, drop_empty_rows=False)
    except pl.exceptions.NoDataError as exc:
        raise LandingError(f"{path}: the first sheet is empty, not even a header row; resend the file.") from exc
    except Exception as exc:  # the Excel reader raises several types; all mean the same to a steward
        raise LandingError(f"{path}: cannot be read as an XLSX workbook ({str(exc)[:200]}); re-save it as .xlsx or "
                           "CSV and rerun.") from exc
    frame = frame.select(pl.all().cast(pl.String))
    header = [v for v in frame.row(0)]
    notes = []
    for i, name in enumerate(header):
        if normalise_header(name) in nik_columns:
            numeric = _numeric_cells(path, i, frame.height)
            n = int(numeric.sum())
            if n:
                # Excel keeps 15 significant digits: a 16-digit NIK typed as a number has lost its last one. Its
                # text becomes the number as a spreadsheet holds it ('7471010505901230.0'): never a valid NIK,
                # so the record is linked by name, birth date, sex and place, like the contract's '7.47101E+15'.
                column = frame.columns[i]
                frame = frame.with_columns(
                    pl.when(pl.Series(numeric)).then(pl.col(column).cast(pl.Float64, strict=False).cast(pl.String))
                    .otherwise(pl.col(column)).alias(column))
                notes.append(f"{n} {normalise_header(name)} cell(s) typed as numbers: not trusted as NIKs")
    return header, frame.slice(1), notes


def _numeric_cells(path: Path, column: int, height: int) -> pl.Series:
    """True where a cell of the column is a number (or a date or boolean), not text: read as booleans, text cells
    come back empty and every other cell does not."""
    import fastexcel

    sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, use_columns=[column],
                                                       dtypes={column: "boolean"})
    values = pl.from_arrow(sheet.to_arrow()).to_series(0).is_not_null()
    return pl.concat([values, pl.Series([False] * (height - len(values)))])[:height] if len(values) < height \
        else values[:height]


def _defects(records: pl.DataFrame, header: list[str | None], delimiter: str, cut: bool = False) -> pl.DataFrame:
    """Rows with fewer fields than the header's named columns or more than the header has; the last
    one is `truncated` when the file stops inside it (or is known to be cut: inside a character, or
    followed by the zero bytes of an unfinished upload)."""
    named = len(header) - next((i for i, h in enumerate(reversed(header)) if (h or "").strip()), len(header))
    data = records.slice(1).with_columns(pl.col("record").alias("source_row"))
    last = data.filter(pl.col("blank").not_())["source_row"].max()
    is_last = pl.col("source_row") == last if last is not None else pl.lit(False)
    short = pl.col("fields") < named
    # only a row with more fields than the header can have too many (fields_used <= fields): the rest is left alone
    candidates = data.filter(pl.col("blank").not_() & (short | (pl.col("fields") > len(header)) | is_last))
    # fields up to the last non-empty one: a trailing "," or ";;" that Excel adds is not an extra field
    fields_used = _unquoted().str.strip_chars_end(f" \t{delimiter}").str.count_matches(delimiter, literal=True) + 1
    truncated = is_last & (pl.col("closed").not_() | (short & pl.col("ends_with_newline").not_()) | pl.lit(cut))
    malformed = short | (fields_used > len(header))
    return candidates.filter(truncated | malformed).select(
        pl.col("source_row").cast(pl.Int64),
        pl.when(truncated).then(pl.lit(TRUNCATED_ROW)).otherwise(pl.lit(MALFORMED_ROW)).alias("defect"),
        pl.col("line_text"),
    )


def read_landing_file(path: Path | None, source: Source, spool: Path | None = None) -> LandingFile:
    """Read one source file as text columns named by the contract; raises LandingError when unusable.

    `spool`: a folder for a CSV bigger than BLOCK_BYTES, read block by block into Parquet files there
    (`LandingFile.spooled`), so that memory holds one block, not the file; without it the file is read whole.
    """
    if path is None:
        empty = pl.DataFrame({c: [] for c in source.column_names}, schema={c: pl.String for c in source.column_names})
        return LandingFile(None, empty, encoding="", delimiter="", file_format="none")
    if spool is not None and path.suffix.lower() != ".xlsx" and path.stat().st_size > BLOCK_BYTES:
        windows_1252, lone_cr = _facts(path)
        if not lone_cr:  # an old Mac file's lines end in CR alone: read whole, as such files are small
            try:
                return _read_in_blocks(path, source, spool, windows_1252)
            except LandingError:
                pass  # refused: read whole, for the verdict and the message a whole read gives
    records, cut = None, False
    if path.suffix.lower() == ".xlsx":
        nik_columns = tuple(c.name for c in source.columns if c.kind == "nik")
        (original, frame, notes), encoding, delimiter, file_format = _read_xlsx(path, nik_columns), "xlsx", "", "xlsx"
    else:
        original, frame, records, encoding, delimiter, cut, notes = _read_csv(path)
        file_format = "csv"
    landing, contract = _landing(path, source, original, encoding, delimiter, notes, file_format)
    landing.frame = contract(frame)
    landing.rows = frame.height
    if records is not None:
        _add_damage(landing, records, original, delimiter, cut)
    else:
        landing.blank_rows = frame.select(pl.all_horizontal(pl.all().str.strip_chars().fill_null("") == "").sum()).item()
    return landing


def _landing(path: Path, source: Source, original: list, encoding: str, delimiter: str, notes: list[str],
             file_format: str):
    """The file's LandingFile (rows still to add) from its header, and the function that turns its rows into the
    contract's columns; raises LandingError for a header the contract cannot read."""
    if len(original) > MAX_COLUMNS:
        raise LandingError(f"{path}: the header has {len(original):,} columns; at most {MAX_COLUMNS:,} are read "
                           "(the contract's files have 12 or fewer). Check the file and rerun.")
    headers = [normalise_header(c) for c in original]
    seen = Counter(h for h in headers if h)  # linear: a header of many columns costs one pass
    duplicated = sorted(h for h, n in seen.items() if n > 1)
    if duplicated:
        raise LandingError(f"{path}: column(s) {_names(duplicated)} appear more than once in the header; "
                           "remove the duplicate column and rerun.")
    missing = [c for c in source.column_names if c not in seen]
    missing_required = [c for c in missing if c not in source.optional_columns]
    if missing_required:
        raise LandingError(f"{path}: required column(s) {', '.join(missing_required)} missing from the header "
                           f"(found: {_names(h or '(blank)' for h in headers)}); add them and rerun.")

    def contract(frame: pl.DataFrame) -> pl.DataFrame:
        # blank header cells over empty columns (a spreadsheet's stray cells) are dropped like extra columns
        frame = frame.rename(dict(zip(frame.columns, [h or f"_blank_{i}" for i, h in enumerate(headers)])))
        return frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing).select(source.column_names)

    extra = [h or "(blank header)" for h in headers if h not in source.column_names]
    empty = pl.DataFrame(schema={c: pl.String for c in source.column_names})
    landing = LandingFile(path, empty, encoding, delimiter, extra, notes, missing, file_format,
                          header=delimiter.join(str(c or "") for c in original) if delimiter else ", ".join(str(c or "") for c in original))
    return landing, contract


def _add_damage(landing: LandingFile, records: pl.DataFrame, original: list, delimiter: str, cut: bool) -> None:
    """Blank rows, rows with the wrong number of fields or cut off, and Windows-1252's decoded characters, of
    one CSV's records (or one block's), added to what `landing` holds."""
    landing.blank_rows += int(records.slice(1)["blank"].sum())
    landing.defects = pl.concat([landing.defects, _defects(records, original, delimiter, cut)])
    if landing.encoding == "windows-1252":
        chars = set(re.findall(r"[^\x00-\x7f]", records.slice(1)["line_text"].str.replace_all(r"[\x00-\x7f]", "").str.join("").item()))
        landing.non_ascii = "".join(sorted(chars | set(landing.non_ascii)))


def _read_in_blocks(path: Path, source: Source, spool: Path, windows_1252: bool) -> LandingFile:
    """A big CSV read block by block (`_csv_blocks`), each block's rows written to a Parquet file in `spool`
    with their file row numbers: the same rows, defects and delivery facts as reading it whole, in the memory
    of one block. `windows_1252`: the file's encoding, decided for the whole file (`_facts`)."""
    shutil.rmtree(spool, ignore_errors=True)
    spool.mkdir(parents=True)
    with path.open("rb") as f:
        head = f.read(65536)  # what the file is (looks_like) is judged on its start, as a whole read does
    landing, contract = None, None
    for offset, raw in _csv_blocks(path, BLOCK_BYTES):
        first_row = landing.rows + 1 if landing else 1
        original, frame, records, encoding, delimiter, cut, notes = _read_csv(
            path, raw, first_row=first_row, windows_1252=windows_1252, offset=offset, head=head)
        if landing is None:
            landing, contract = _landing(path, source, original, encoding, delimiter, notes, "csv")
        landing.notes += [n for n in notes if n not in landing.notes]
        _add_damage(landing, records, original, delimiter, cut)
        part = spool / f"block-{len(landing.spooled):06d}.parquet"
        contract(frame).with_row_index("source_row", offset=first_row).with_columns(
            pl.col("source_row").cast(pl.Int64)).write_parquet(part)
        landing.spooled.append(part)
        landing.rows += frame.height
    return landing


_SQL_TYPE = {date: "DATE", str: "VARCHAR", int: "BIGINT"}


def load_raw(con, table: str, landing_file: LandingFile, snapshot_date: date, source_file: str,
             extra_columns: dict | None = None) -> int:
    """Write one file's rows to raw.<table> for the snapshot, numbered 1.. in file order, with its delivery record.

    raw.deliveries (one row per source and snapshot: format, encoding, damage) and raw.row_defects
    (rows cut off or with the wrong number of fields, with their original text) are replaced in
    the same transaction, so staging and the checks always see the delivery the rows came from.
    """
    frame = landing_file.frame.with_row_index("source_row", offset=1).with_columns(
        pl.lit(snapshot_date).alias("snapshot_date"),
        pl.lit(source_file).alias("source_file"),
        pl.col("source_row").cast(pl.Int64),
        *[pl.lit(v).alias(k) for k, v in (extra_columns or {}).items()],
    )
    front = ["snapshot_date", "source_file", "source_row", *(extra_columns or {})]
    rows_sql, params = "SELECT * FROM landing_frame", []
    if landing_file.spooled:  # read in blocks: DuckDB reads the blocks' files, the rows never pass through Python
        literals = {"snapshot_date": snapshot_date, "source_file": source_file, **(extra_columns or {})}
        rows_sql = (f"SELECT {', '.join(f'?::{_SQL_TYPE[type(v)]} AS {k}' for k, v in literals.items())}, source_row, "
                    f"{', '.join(landing_file.frame.columns)} FROM read_parquet(?)")
        params = [*literals.values(), [str(p) for p in landing_file.spooled]]
    defects = landing_file.defects.with_columns(pl.lit(snapshot_date).alias("snapshot_date"), pl.lit(table).alias("source"))
    delivery = pl.DataFrame([{
        "snapshot_date": snapshot_date, "source": table, "source_file": source_file,
        "file_format": landing_file.file_format, "encoding": landing_file.encoding, "delimiter": landing_file.delimiter,
        "header": landing_file.header, "rows_read": landing_file.rows, "blank_rows": landing_file.blank_rows,
        "malformed_rows": len(landing_file.defect_rows(MALFORMED_ROW)),
        "truncated_row": (landing_file.defect_rows(TRUNCATED_ROW) or [None])[0],
        "extra_columns": ", ".join(landing_file.extra_columns),
        "missing_optional_columns": ", ".join(landing_file.missing_optional_columns),
        "non_ascii_characters": landing_file.non_ascii,
        "notes": "; ".join(landing_file.notes),
    }], schema_overrides={"truncated_row": pl.Int64, "rows_read": pl.Int64, "blank_rows": pl.Int64,
                          "malformed_rows": pl.Int64})
    con.register("landing_frame", frame.select(front + list(landing_file.frame.columns)))
    con.register("landing_defects", defects.select("snapshot_date", "source", "source_row", "defect", "line_text"))
    con.register("landing_delivery", delivery)
    try:
        with transaction(con):
            rows = replace_rows(con, f"raw.{table}", snapshot_date, rows_sql, params)
            replace_rows(con, "raw.row_defects", snapshot_date, "SELECT * FROM landing_defects", source=table)
            replace_rows(con, "raw.deliveries", snapshot_date, "SELECT * FROM landing_delivery", source=table)
        return rows
    finally:
        for name in ("landing_frame", "landing_defects", "landing_delivery"):
            con.unregister(name)


def _metadata(landing_file: LandingFile, rows: int) -> dict:
    truncated = landing_file.defect_rows(TRUNCATED_ROW)
    return {
        "dagster/row_count": rows,
        "file": str(landing_file.path) if landing_file.path else "(not delivered: optional source)",
        "format": landing_file.file_format,
        "encoding": landing_file.encoding,
        "delimiter": landing_file.delimiter,
        "extra_columns_ignored": ", ".join(landing_file.extra_columns) or "none",
        "optional_columns_absent": ", ".join(landing_file.missing_optional_columns) or "none",
        "blank_rows": landing_file.blank_rows,
        "malformed_rows": len(landing_file.defect_rows(MALFORMED_ROW)),
        "cut_off_at_row": truncated[0] if truncated else "none",
        "read_notes": "; ".join(landing_file.notes) or "none",
        **({"decoded_characters": landing_file.non_ascii} if landing_file.encoding == "windows-1252" else {}),
    }


def _log_delivery(context, landing_file: LandingFile) -> None:
    """What a steward must hear about at once; the raw asset's checks report the same with counts."""
    if landing_file.encoding == "windows-1252":
        context.log.warning(f"{landing_file.path}: not UTF-8; read as Windows-1252 (decoded: "
                            f"{landing_file.non_ascii or 'no non-ASCII character'}). Ask the sender for 'CSV UTF-8'.")
    for row in landing_file.defect_rows(TRUNCATED_ROW):
        context.log.warning(f"{landing_file.path}: the file ends inside data row {row}: the upload was cut off or is "
                            "still being written. Nothing of this snapshot is published; wait for the upload to "
                            "finish (or ask the sender to resend it) and rerun.")
    for note in landing_file.notes:
        context.log.info(f"{landing_file.path}: {note}")


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
        folder = snapshot_folder(warehouse, snapshot_date)  # a date without a landing folder is not a snapshot
        extra = {}
        if source.delivery == "registry":
            path, cut_off = find_registry_file(warehouse.landing, snapshot_date)
            extra = {"cut_off_date": cut_off}
        else:
            path = find_source_file(folder, source.name, warehouse.landing)
            if path is None and source.required_file:
                raise LandingError(f"{folder}: {source.name}.csv (or .xlsx) is missing; deliver it — a source with "
                                   "nothing to report sends a file with only its header row — and rerun.")
        spool = warehouse.pipeline_db.parent / SPOOL_DIR / source.name  # a big CSV's blocks, until loaded
        try:
            landing_file = read_landing_file(path, source, spool)
            source_file = path.relative_to(warehouse.landing).as_posix() if path else ""
            with warehouse.connect() as con:
                rows = load_raw(con, source.name, landing_file, snapshot_date, source_file, extra)
        finally:
            shutil.rmtree(spool, ignore_errors=True)
        _log_delivery(context, landing_file)
        return dg.MaterializeResult(metadata={**_metadata(landing_file, rows),
                                              **{k: v.isoformat() for k, v in extra.items()}})

    return _asset


raw_assets = [_raw_asset(s) for s in SOURCES]
