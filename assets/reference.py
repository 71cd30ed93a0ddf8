"""Reference data shipped as CSV under reference/: regions, occupation categories and the national coverage targets."""


import dagster as dg

from warehouse.db import first, preview, replace_table, sql
from warehouse.resources import Warehouse

CATEGORIES = ("eligible", "asn_tni_polri", "not_working")
INDICATORS = ("coverage_pct", "participant_growth_pct")  # the rows reference/targets.csv may hold


@dg.asset(key=["reference", "regions"], group_name="reference", pool="pipeline_db", kinds={"duckdb"})
def reference_regions(warehouse: Warehouse) -> dg.MaterializeResult:
    """Kepmendagri regions of Sulawesi Tenggara: province, regencies, districts and villages (dotted codes)."""
    path = warehouse.reference / "regions_sultra.csv"
    with warehouse.connect() as con:
        rows = replace_table(con, "reference.regions",
                             "SELECT code, level, name, nullif(parent_code, '') AS parent_code "
                             "FROM read_csv(?, all_varchar = true, header = true)", [str(path)])
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "file": str(path)})


@dg.asset(key=["reference", "occupation_categories"], group_name="reference", pool="pipeline_db", kinds={"duckdb"})
def reference_occupation_categories(warehouse: Warehouse) -> dg.MaterializeResult:
    """KTP occupations and whether they count in the eligible workforce (edit reference/occupation_categories.csv)."""
    path = warehouse.reference / "occupation_categories.csv"
    with warehouse.connect() as con:
        rows = replace_table(con, "reference.occupation_categories",
                             "SELECT code, upper(trim(name)) AS name, lower(trim(category)) AS category "
                             "FROM read_csv(?, all_varchar = true, header = true)", [str(path)])
        bad = first(con, "SELECT list(DISTINCT category) FROM reference.occupation_categories "
                          "WHERE category NOT IN ?", [list(CATEGORIES)])[0]
        if bad:
            raise ValueError(f"{path}: unknown category {bad}; use one of {', '.join(CATEGORIES)}.")
        counts = dict(con.execute("SELECT category, count(*) FROM reference.occupation_categories GROUP BY ALL").fetchall())
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "file": str(path), **{f"occupations_{k}": v for k, v in counts.items()}})


@dg.asset(key=["reference", "coverage_targets"], group_name="reference", pool="pipeline_db", kinds={"duckdb"})
def reference_coverage_targets(warehouse: Warehouse) -> dg.MaterializeResult:
    """National targets the trend is read against (edit reference/targets.csv): coverage % by the end of a
    year (RPJMN 2025: 32.15, RKP 2026: 34.99, RPJMN 2029: 43.92, RPJPN 2045: 99.5) and BPJS's +20%
    participants a year."""
    path = warehouse.reference / "targets.csv"
    with warehouse.connect() as con:
        con.execute(f"CREATE OR REPLACE TEMP TABLE targets_csv AS {sql('reference/coverage_targets')}", [str(path)])
        problems = [p for (p,) in con.execute(sql("reference/coverage_targets_problems"),
                                              {"indicators": list(INDICATORS)}).fetchall()]
        if problems:
            raise ValueError(f"{path}: {'; '.join(problems)}. Fix the file and rerun.")
        rows = replace_table(con, "reference.coverage_targets",
                             "SELECT indicator, year, value, source, note FROM targets_csv ORDER BY indicator, year")
        table = preview(con, "SELECT indicator, year, value, source FROM reference.coverage_targets", limit=20)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "file": str(path), "targets": dg.MetadataValue.md(table)})


reference_assets = [reference_regions, reference_occupation_categories, reference_coverage_targets]
