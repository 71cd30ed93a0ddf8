"""A CSV bigger than ingest.BLOCK_BYTES is read in blocks: the same outcome as reading it whole, whatever the file.

tests/test_deliveries.py runs every delivery case both ways too (its `reading` fixture).
"""

import polars as pl
import pytest

from assets import ingest
from tests.landing import GOOD_PU, HEADER


def _row(i: int, name: str = "Good Row") -> bytes:
    return GOOD_PU.replace("K100", f"K{100 + i}").replace("Good Row", name).encode()


def _rows(n: int, start: int = 1) -> list[bytes]:
    return [_row(i) for i in range(start, start + n)]


_H = HEADER["pu_workers"].encode()
_RENE = _row(1, "Ren@").replace(b"@", b"\xe9")  # Windows-1252
# Inputs where reading in blocks could part from reading whole (several found by a differential fuzzer).
BLOCK_CASES = {
    "plain": b"\n".join([_H, *_rows(40)]) + b"\n",
    "UTF-8 rows, then a Windows-1252 one": b"\n".join([_H, _row(1, "Ren\u00e9"), *_rows(30, 2), _RENE]) + b"\n",
    "Windows-1252 early, UTF-8 later": b"\n".join([_H, _RENE, *_rows(30, 2), _row(90, "Jos\u00e9")]) + b"\n",
    "Windows-1252 early, cut inside a character at the end": b"\n".join([_H, _RENE, *_rows(30, 2)]) + b"\n"
        + _row(90, "Jos\u00e9")[:_row(90, "Jos\u00e9").index(b"\xc3") + 1],
    "neither encoding late": b"\n".join([_H, _RENE, *_rows(30, 2), _row(90, "x\x81")]) + b"\n",
    "a value spanning lines": b"\n".join([_H, *_rows(3), _row(50, '"Good\nRow"'), *_rows(30, 60)]) + b"\n",
    "a quote that never closes": b"\n".join([_H, *_rows(3), _row(50, '"abc'), *_rows(30, 60)]) + b"\n",
    "irregular quoting": b"\n".join([_H, *_rows(5), _row(50, 'ab"c"d"e"f'), _row(51, 'x"y'), b'K1,"a"b"c,d',
                                     *_rows(20, 60)]) + b"\n",
    "short last row, blank lines, no final newline": b"\n".join([_H, *_rows(30), b"K200,123", b"", b"", b"   "]),
    "zero bytes after blank lines": b"\n".join([_H, *_rows(30), b"", b""]) + b"\n" + b"\x00" * 300,
    "a NUL early, zero bytes at the end": b"\n".join([_H, _row(1, "A\x00B"), *_rows(40, 2)]) + b"\n" + b"\x00" * 40,
    "unit separators late": b"\n".join([_H, *_rows(40), _row(99, "A" + "\x1f" * 20)]) + b"\n",
    "header line ending in CR alone": b"\r".join([_H, *_rows(3)]) + b"\n" + b"\n".join(_rows(30, 4)) + b"\n",
    "old Mac file (CR only)": b"\r".join([_H, *_rows(30)]) + b"\r",
    "BOM and CRLF": b"\xef\xbb\xbf" + b"\r\n".join([_H, *_rows(30)]) + b"\r\n",
    "duplicated header column, bad byte late": b"\n".join([_H + b",nama", *_rows(30), _row(90, "x\x81")]) + b"\n",
}


def _outcome(path, source, spool=None):
    try:
        landing = ingest.read_landing_file(path, source, spool)
    except ingest.LandingError as error:
        return str(error)
    rows = pl.read_parquet(landing.spooled) if landing.spooled else landing.frame.with_row_index(
        "source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))
    facts = {name: getattr(landing, name) for name in ("rows", "encoding", "blank_rows", "non_ascii", "notes",
                                                         "extra_columns", "missing_optional_columns", "header",
                                                         "delimiter")}
    return rows, landing.defects, facts


@pytest.mark.parametrize("case", BLOCK_CASES)
def test_a_big_file_read_in_blocks_reads_as_the_whole_file(case, tmp_path, monkeypatch):
    """Rows, defects, delivery facts, or the refusal and its message: the same whichever way a file is read."""
    source = next(s for s in ingest.SOURCES if s.name == "pu_workers")
    path = tmp_path / "pu_workers.csv"
    path.write_bytes(BLOCK_CASES[case])
    whole = _outcome(path, source)
    for size in (7, 64, 200, 1000):
        monkeypatch.setattr(ingest, "BLOCK_BYTES", size)
        got = _outcome(path, source, tmp_path / f"spool{size}")
        if isinstance(whole, str) or isinstance(got, str):
            assert got == whole, (case, size)
        else:
            assert got[0].equals(whole[0]) and got[1].equals(whole[1]) and got[2] == whole[2], (case, size)
