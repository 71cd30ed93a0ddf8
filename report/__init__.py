"""Laporan Cakupan: the one-file offline HTML report of a published snapshot, read from the open analytics.duckdb.

`report.render.render_report` draws it; `report_path` says where it goes (cheap to import: no chart library).
"""

from datetime import date
from pathlib import Path


def report_path(analytics_db: Path, snapshot_date: date, lang: str = "id") -> Path:
    """laporan_cakupan_<date>.html beside analytics.duckdb (laporan_cakupan_<date>.en.html in English)."""
    suffix = "" if lang == "id" else f".{lang}"
    return Path(analytics_db).parent / f"laporan_cakupan_{snapshot_date.isoformat()}{suffix}.html"
