"""Reference data shipped as CSV under reference/: regions and occupation categories."""


import dagster as dg

from warehouse.resources import Warehouse
from warehouse.db import first, replace_table

CATEGORIES = ("eligible", "asn_tni_polri", "not_working")


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


reference_assets = [reference_regions, reference_occupation_categories]
