"""What the report reads: one snapshot's rows of the open tier (analytics.duckdb), opened read-only.

Only the open tier, never the restricted one: a cell the publication suppressed (NULL, its column named in the
row's `suppressed` column) stays suppressed here, and is shown as such; nothing is recomputed from person rows.
Tables that a given analytics.duckdb does not hold yet (older publications) leave their section out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

SUPPRESSED_COLUMN = "suppressed"


class Row(dict):
    """One published row; `hidden` names its suppressed columns."""

    hidden: frozenset = frozenset()

    def is_hidden(self, column: str) -> bool:
        return column in self.hidden


@dataclass
class ReportData:
    snapshot_date: date
    tables: set[str]
    city: Row
    districts: list[Row]
    villages: list[Row]
    unassigned: dict[str, Row]  # district code → its "unassigned within the district" row, when published
    segments: list[Row]
    overlap: list[Row]
    outside: list[Row]
    quality: list[Row]
    trend: list[Row]  # every published snapshot up to this one
    vs_targets: list[Row]
    targets: list[Row]
    snapshot: Row | None
    threshold: int | None
    optional: dict[str, list[Row]] = field(default_factory=dict)  # the decision tables, when published


# Decision tables (issue #12) read when the open tier holds them; the template checks which are there.
OPTIONAL_TABLES = ("village_targets", "coverage_by_occupation", "coverage_by_sex", "employer_compliance",
                   "opd_coverage", "bpu_lapse", "coverage_changes")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[Row]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    out = []
    for values in cursor.fetchall():
        row = Row((c, float(v) if isinstance(v, Decimal) else v) for c, v in zip(columns, values))
        marks = row.get(SUPPRESSED_COLUMN)
        if marks:
            row.hidden = frozenset(m.strip() for m in marks.split(","))
        out.append(row)
    return out


def published_dates(analytics_db: Path) -> list[date]:
    with duckdb.connect(str(analytics_db), read_only=True) as con:
        return [d for (d,) in con.execute("SELECT DISTINCT snapshot_date FROM coverage_by_region ORDER BY 1").fetchall()]


def load(analytics_db: Path, snapshot_date: date) -> ReportData:
    """Every row the report shows for `snapshot_date`; a LookupError when that date was never published."""
    with duckdb.connect(str(analytics_db), read_only=True) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() "
                                            "WHERE database_name = current_database()").fetchall()}

        def snap(table: str, order: str = "ALL") -> list[Row]:
            if table not in tables:
                return []
            return _rows(con, f"SELECT * FROM {table} WHERE snapshot_date = ? ORDER BY {order}", [snapshot_date])

        region = snap("coverage_by_region", "region_code")
        city = next((r for r in region if r["level"] == "city"), None)
        if city is None:
            dates = ", ".join(str(d) for d in published_dates(analytics_db)) or "none"
            raise LookupError(f"{snapshot_date} is not published in {analytics_db} (published: {dates}).")
        threshold = None
        if "publication" in tables:
            publication = _rows(con, "SELECT * FROM publication")
            threshold = publication[0].get("disclosure_threshold") if publication else None
        trend = _rows(con, "SELECT * FROM coverage_trend WHERE snapshot_date <= ? ORDER BY snapshot_date",
                      [snapshot_date]) if "coverage_trend" in tables else []
        targets = _rows(con, "SELECT * FROM coverage_targets ORDER BY indicator, year") \
            if "coverage_targets" in tables else []
        snapshot = snap("snapshots")
        return ReportData(
            snapshot_date=snapshot_date, tables=tables, city=city,
            districts=[r for r in region if r["level"] == "district"],
            villages=[r for r in region if r["level"] == "village"],
            unassigned={r.get("district_code") or r["region_code"][:8]: r for r in region if r["level"] == "unassigned"},
            segments=snap("coverage_by_segment", "list_position(['PU', 'BPU', 'JAKON'], segment)"),
            overlap=snap("segment_overlap", "workers DESC NULLS LAST, segments"),
            outside=snap("covered_outside_area", "covered_workers DESC NULLS LAST, regency_code"),
            quality=snap("data_quality", "source, reason = 'ok' DESC, rows_received DESC"),
            trend=trend, vs_targets=snap("coverage_vs_targets", "target_year"), targets=targets,
            snapshot=snapshot[0] if snapshot else None, threshold=threshold,
            optional={t: snap(t) for t in OPTIONAL_TABLES if t in tables},
        )
