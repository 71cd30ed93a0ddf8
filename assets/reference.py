"""Reference data shipped as CSV under reference/: regions, occupation categories, the national coverage targets, and
the files targeting and employer compliance read (UCJ bands, occupation mappings, wage floors, mandatory programs)."""


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


def _load(warehouse: Warehouse, table: str, file: str, select: str, problems: str | None = None) -> dg.MaterializeResult:
    """Replace reference.<table> with `select` over reference/<file> (read as text as `csv`); `problems` is a query
    over the new table listing what is wrong with the file (one text per problem): the asset fails naming them."""
    path = warehouse.reference / file
    with warehouse.connect() as con:
        con.execute("CREATE OR REPLACE TEMP TABLE csv AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
                    [str(path)])
        rows = replace_table(con, f"reference.{table}", select)
        found = [p for (p,) in con.execute(problems).fetchall()] if problems else []
        if found:
            raise ValueError(f"{path}: {'; '.join(found)}. Fix the file and rerun.")
        table_md = preview(con, f"SELECT * FROM reference.{table}", limit=20)
        con.execute("DROP TABLE temp.csv")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "file": str(path), "rows": dg.MetadataValue.md(table_md)})


UCJ_CATEGORIES = ("sangat rendah", "rendah", "sedang", "tinggi")


@dg.asset(key=["reference", "ucj_categories"], group_name="reference", pool="pipeline_db", kinds={"duckdb"})
def reference_ucj_categories(warehouse: Warehouse) -> dg.MaterializeResult:
    """UCJ (Universal Coverage Jamsostek) bands of an area's coverage %: sangat rendah, rendah, sedang, tinggi, with
    their thresholds (edit reference/ucj_categories.csv): from min_pct (inclusive) to max_pct (exclusive)."""
    return _load(warehouse, "ucj_categories", "ucj_categories.csv",
                 "SELECT lower(trim(category)) AS category, CAST(min_pct AS DOUBLE) AS min_pct, "
                 "CAST(nullif(trim(max_pct), '') AS DOUBLE) AS max_pct, note FROM csv ORDER BY min_pct",
                 f"""SELECT 'unknown category ' || category FROM reference.ucj_categories WHERE category NOT IN {UCJ_CATEGORIES}
                     UNION ALL SELECT 'the bands must start at 0 and follow each other without gap or overlap'
                     FROM (SELECT min_pct, lag(max_pct) OVER (ORDER BY min_pct) AS prev, row_number() OVER (ORDER BY min_pct) AS i
                           FROM reference.ucj_categories)
                     WHERE (i = 1 AND min_pct <> 0) OR (i > 1 AND prev IS DISTINCT FROM min_pct) LIMIT 1""")


_UNKNOWN_OCCUPATION = """SELECT 'occupation ' || occupation || ' is not in occupation_categories.csv'
    FROM reference.{table} WHERE occupation NOT IN (SELECT name FROM reference.occupation_categories)"""


@dg.asset(key=["reference", "bpu_occupation_map"], group_name="reference", pool="pipeline_db", kinds={"duckdb"},
          deps=[reference_occupation_categories])
def reference_bpu_occupation_map(warehouse: Warehouse) -> dg.MaterializeResult:
    """BPU free-text `pekerjaan` (case and spaces ignored) → the Dukcapil KTP occupation it most likely is
    (edit reference/bpu_occupation_map.csv). A text not listed is counted as unmapped."""
    return _load(warehouse, "bpu_occupation_map", "bpu_occupation_map.csv",
                 "SELECT upper(trim(regexp_replace(pekerjaan, '\\s+', ' ', 'g'))) AS pekerjaan, "
                 "upper(trim(occupation)) AS occupation, note FROM csv",
                 _UNKNOWN_OCCUPATION.format(table="bpu_occupation_map") + " UNION ALL SELECT 'pekerjaan ' || pekerjaan || "
                 "' is listed twice' FROM reference.bpu_occupation_map GROUP BY pekerjaan HAVING count(*) > 1")


@dg.asset(key=["reference", "employer_occupation_map"], group_name="reference", pool="pipeline_db", kinds={"duckdb"},
          deps=[reference_occupation_categories])
def reference_employer_occupation_map(warehouse: Warehouse) -> dg.MaterializeResult:
    """PU employer type and KBLI prefix → the Dukcapil KTP occupation of its wage earners; the longest matching prefix
    wins, an empty prefix is the type's default; type `jakon` is for JAKON project workers
    (edit reference/employer_occupation_map.csv)."""
    return _load(warehouse, "employer_occupation_map", "employer_occupation_map.csv",
                 "SELECT lower(trim(jenis_pemberi_kerja)) AS jenis_pemberi_kerja, coalesce(trim(kbli_prefix), '') AS kbli_prefix, "
                 "upper(trim(occupation)) AS occupation, note FROM csv",
                 _UNKNOWN_OCCUPATION.format(table="employer_occupation_map"))


@dg.asset(key=["reference", "wage_floors"], group_name="reference", pool="pipeline_db", kinds={"duckdb"})
def reference_wage_floors(warehouse: Warehouse) -> dg.MaterializeResult:
    """Monthly minimum wages of Sulawesi Tenggara: the province's UMP (region 74) and the UMK of regencies that set
    their own, per year (edit reference/wage_floors_sultra.csv). PDS Upah screening reads them."""
    return _load(warehouse, "wage_floors", "wage_floors_sultra.csv",
                 "SELECT trim(region_code) AS region_code, CAST(year AS INTEGER) AS year, upper(trim(kind)) AS kind, "
                 "CAST(monthly_rupiah AS BIGINT) AS monthly_rupiah, legal_basis FROM csv ORDER BY region_code, year",
                 "SELECT 'region ' || region_code || ' year ' || year || ' is listed twice' FROM reference.wage_floors "
                 "GROUP BY region_code, year HAVING count(*) > 1")


SCALES = ("mikro", "kecil", "menengah", "besar")


@dg.asset(key=["reference", "mandatory_programs"], group_name="reference", pool="pipeline_db", kinds={"duckdb"})
def reference_mandatory_programs(warehouse: Warehouse) -> dg.MaterializeResult:
    """BPJS Ketenagakerjaan programs an employer must enrol its wage earners in, by scale (edit
    reference/mandatory_programs.csv). PDS Program screening reads them."""
    return _load(warehouse, "mandatory_programs", "mandatory_programs.csv",
                 "SELECT lower(trim(skala_usaha)) AS skala_usaha, "
                 "list_sort(list_transform(string_split(mandatory_programs, ','), lambda p: upper(trim(p)))) AS programs, "
                 "note FROM csv",
                 f"""SELECT 'unknown scale ' || skala_usaha FROM reference.mandatory_programs WHERE skala_usaha NOT IN {SCALES}
                     UNION ALL SELECT 'unknown program in ' || skala_usaha FROM reference.mandatory_programs
                     WHERE NOT list_has_all(['JKK', 'JKM', 'JHT', 'JP', 'JKP'], programs)""")


reference_assets = [reference_regions, reference_occupation_categories, reference_coverage_targets, reference_ucj_categories,
                    reference_bpu_occupation_map, reference_employer_occupation_map, reference_wage_floors,
                    reference_mandatory_programs]
