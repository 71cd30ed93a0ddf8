"""docs/analyst-guide.md works: every query in it runs and returns rows on a demo warehouse, and every table and
column of the published files has a comment."""

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import run_snapshot
from sample.generator import generate
from tests.conftest import make_warehouse

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "analyst-guide.md"
D = date(2025, 6, 8)


def guide_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo at a small scale (the same generator, roster included), run through every asset."""
    root = tmp_path_factory.mktemp("demo")
    generate(root / "landing", root / "truth", D, scale=0.05, formats="mixed", opd_roster=True)
    warehouse = make_warehouse(root / "landing", root / "warehouse")
    run_snapshot(warehouse, D)
    return warehouse


def test_the_guide_has_the_everyday_questions():
    text = GUIDE.read_text(encoding="utf-8")
    assert len(guide_queries()) >= 6
    for table in ("village_targets", "bpu_lapse", "coverage_by_sex", "employer_compliance", "opd_coverage",
                  "coverage_trend"):
        assert f"FROM {table}" in text, table


@pytest.mark.parametrize("number", range(len(guide_queries())))
def test_every_guide_query_returns_rows(demo, number):
    query = guide_queries()[number]
    with duckdb.connect(str(demo.analytics_db), read_only=True) as con:
        rows = con.execute(query).fetchall()
    assert rows, f"query {number + 1} of the guide returned no rows:\n{query}"


def uncommented(database: Path) -> list[str]:
    """Every table and column of a published file without a comment."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                                            "AND (comment IS NULL OR trim(comment) = '')").fetchall()]
        columns = [f"{t}.{c}" for t, c in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND (comment IS NULL OR trim(comment) = '') ORDER BY ALL").fetchall()]
    return tables + columns


def test_every_analyst_table_and_column_has_a_comment(demo):
    files = [demo.analytics_db, *demo.analytics_db.parent.glob("analytics_restricted.duckdb")]
    missing = {f.name: uncommented(f) for f in files}
    assert missing == {f.name: [] for f in files}
