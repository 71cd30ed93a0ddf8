"""A monthly series of snapshots of one synthetic population, for the trend and for backfills.

The generator writes one calibrated snapshot (the newest, `end`). Each earlier month is the full extract the
source systems would have produced on that date, derived from the newest one with vectorised Polars
expressions over whole files:

- a registration appears only once it exists: PU from `tanggal_mulai`, BPU from `tanggal_daftar`, employers
  from `tanggal_daftar` (or as soon as a listed worker needs them), JAKON projects three months before they
  start, with their workers. Growth from month to month is the registrations that arrive;
- a PU stop that happens later was not known yet: the row is still `aktif` with no `tanggal_berhenti`;
- a BPU participant who lapses later was still paying: contributions paid up to the end of that month or a
  month or two ahead, and `aktif`. Churn from month to month is these lapses (and the PU stops);
- the Dukcapil aggregate of each semester cut-off in the range is the newest one scaled back by the
  growth of the workforce (1.5% a year).

Rows whose dates cannot be read (the generator's deliberately broken rows) appear in every month, as they
would in real extracts. Dates keep the format their row was written in. Only the newest snapshot has
ground truth (the generator's, in truth_dir/<end>/).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from sample.generator import generate, registry_cutoff

WORKFORCE_GROWTH = 0.015  # a year, for the semesters before the newest registry file
PROJECT_LISTED_DAYS = 90  # a JAKON project is registered this long before it starts
SOURCES = ("employers", "pu_workers", "bpu_participants", "jakon_projects", "jakon_workers")


def month_dates(end: date, months: int) -> list[date]:
    """`months` snapshot dates a month apart, on end's day of the month (clamped to the month's length), ending at end."""
    dates = []
    for k in range(months - 1, -1, -1):
        year, month = divmod(end.year * 12 + end.month - 1 - k, 12)
        month += 1
        last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        dates.append(date(year, month, min(end.day, last)))
    return dates


def generate_series(landing_dir: Path, truth_dir: Path, end: date = date(2025, 6, 8), months: int = 12, *,
                    seed: int = 42, scale: float = 1.0) -> list[dict]:
    """Write landing_dir/<date>/*.csv for `months` monthly snapshots ending at `end`, and every civil-registry
    file they need; return per snapshot its date and rows per source."""
    if months < 1:
        raise ValueError("months must be at least 1")
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    generate(landing_dir, truth_dir, end, seed=seed, scale=scale, formats="csv")
    base = {s: pl.read_csv(landing_dir / end.isoformat() / f"{s}.csv", infer_schema=False) for s in SOURCES}
    dated = _with_dates(base)
    out = []
    for d in month_dates(end, months):
        frames = base if d == end else _as_of(dated, d, end)
        if d != end:
            folder = landing_dir / d.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            for source, frame in frames.items():
                frame.write_csv(folder / f"{source}.csv")
        out.append({"snapshot_date": d.isoformat(), **{s: len(f) for s, f in frames.items()}})
    _registry_files(landing_dir, end, month_dates(end, months)[0])
    return out


# --- dates as text, read and written back in the row's own format --------------------------------------

def _parse(column: str) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    return pl.coalesce(text.str.to_date("%Y-%m-%d", strict=False), text.str.to_date("%d/%m/%Y", strict=False),
                       text.str.to_date("%d-%m-%Y", strict=False))


def _render(value: pl.Expr) -> pl.Expr:
    """`value` (a date) as text in the row's own date format (`_date_format`: 0 YYYY-MM-DD, 1 DD/MM/YYYY, 2 DD-MM-YYYY)."""
    fmt = pl.col("_date_format")
    return (pl.when(fmt == 1).then(value.dt.strftime("%d/%m/%Y"))
            .when(fmt == 2).then(value.dt.strftime("%d-%m-%Y"))
            .otherwise(value.dt.strftime("%Y-%m-%d")))


def _date_format(column: str) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    return (pl.when(text.str.contains(r"^\d{2}/\d{2}/\d{4}$")).then(1)
            .when(text.str.contains(r"^\d{2}-\d{2}-\d{4}$")).then(2).otherwise(0)).alias("_date_format")


def _month_end(d: pl.Expr, months_ahead: pl.Expr) -> pl.Expr:
    return d.dt.offset_by(pl.format("{}mo", months_ahead)).dt.month_end()


def _with_dates(base: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The newest snapshot's files with their dates parsed once (hidden columns, dropped when written)."""
    return {
        "employers": base["employers"].with_columns(_parse("tanggal_daftar").alias("_registered")),
        "pu_workers": base["pu_workers"].with_columns(
            _parse("tanggal_mulai").alias("_start"), _parse("tanggal_berhenti").alias("_stop")),
        "bpu_participants": base["bpu_participants"].with_columns(
            _parse("tanggal_daftar").alias("_registered"), _parse("iuran_dibayar_sampai").alias("_paid"),
            _date_format("iuran_dibayar_sampai"),
            # how many months ahead this participant pays, from a stable hash of the card number
            (pl.col("kpj").hash(7).fill_null(0) % 3).cast(pl.Int32).alias("_ahead")),
        "jakon_projects": base["jakon_projects"].with_columns(_parse("tanggal_mulai").alias("_start")),
        "jakon_workers": base["jakon_workers"],
    }


def _as_of(dated: dict[str, pl.DataFrame], d: date, end: date) -> dict[str, pl.DataFrame]:
    """The full extracts as they stood on `d`, derived from those of the newest snapshot `end`."""
    on, newest = pl.lit(d), pl.lit(end)

    # PU: registered once started; a stop between d and the newest snapshot had not happened yet
    pu = dated["pu_workers"].filter(pl.col("_start").is_null() | (pl.col("_start") <= on))
    stopped_since = (pl.col("_stop") > on) & (pl.col("_stop") <= newest)
    pu = pu.with_columns(
        pl.when(stopped_since).then(pl.lit("aktif")).otherwise(pl.col("status")).alias("status"),
        pl.when(stopped_since).then(pl.lit(None, pl.String)).otherwise(pl.col("tanggal_berhenti")).alias("tanggal_berhenti"),
    )

    # BPU: registered from tanggal_daftar; someone who lapsed after d was still paying then, and aktif
    bpu = dated["bpu_participants"].filter(pl.col("_registered").is_null() | (pl.col("_registered") <= on))
    paying = pl.col("_paid") >= on
    bpu = bpu.with_columns(
        pl.when(paying).then(_render(pl.min_horizontal(pl.col("_paid"), _month_end(on, pl.col("_ahead")))))
        .otherwise(pl.col("iuran_dibayar_sampai")).alias("iuran_dibayar_sampai"),
        pl.when(paying & (pl.col("_paid") < newest)).then(pl.lit("aktif")).otherwise(pl.col("status")).alias("status"),
    )

    # JAKON: a project is listed some months before it starts, with its workers; a worker row naming no
    # known project (a broken row) stays in every month
    projects = dated["jakon_projects"].filter(
        pl.col("_start").is_null() | (pl.col("_start") <= on + timedelta(days=PROJECT_LISTED_DAYS)))
    known = dated["jakon_projects"]["nomor_proyek"].implode()
    workers = dated["jakon_workers"].filter(
        pl.col("nomor_proyek").is_in(projects["nomor_proyek"].implode()) | ~pl.col("nomor_proyek").is_in(known).fill_null(False)
        | pl.col("nomor_proyek").is_null())

    # employers: registered by then, or needed by a PU row of the month
    employers = dated["employers"].filter(
        pl.col("_registered").is_null() | (pl.col("_registered") <= on) | pl.col("npp").is_in(pu["npp"].implode()))

    def visible(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(pl.exclude("^_.*$"))

    return {"employers": visible(employers), "pu_workers": visible(pu), "bpu_participants": visible(bpu),
            "jakon_projects": visible(projects), "jakon_workers": visible(workers)}


def _registry_files(landing_dir: Path, end: date, first: date) -> None:
    """Every semester's workforce file from the first snapshot's cut-off on, the newest scaled back by growth."""
    newest_cutoff = registry_cutoff(end)
    folder = landing_dir / "civil_registry"
    newest = pl.read_csv(folder / f"workforce_{newest_cutoff.isoformat()}.csv", infer_schema=False)
    cutoff = registry_cutoff(first)
    while cutoff < newest_cutoff:
        years = (newest_cutoff - cutoff).days / 365.25
        # rounded up or down at random in proportion (a stable hash per row), so small counts shrink too
        jitter = (pl.concat_str(pl.all(), separator="|").hash(cutoff.toordinal()) % 1_000_000) / 1_000_000
        scaled = newest.with_columns(
            (pl.col("jumlah").cast(pl.Float64) / (1 + WORKFORCE_GROWTH) ** years + jitter).floor().cast(pl.Int64)
            .cast(pl.String).alias("jumlah"))
        scaled.write_csv(folder / f"workforce_{cutoff.isoformat()}.csv")
        cutoff = registry_cutoff(cutoff + timedelta(days=190))
