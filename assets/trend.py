"""Trend: coverage and participants across snapshots, against the national targets (reference/targets.csv)."""


import dagster as dg

from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse
from warehouse.db import first, preview, replace_table, transaction

INDICATORS = ("coverage_pct", "participant_growth_pct")

# Targets as shipped (reference/targets.csv): coverage % by the end of a year, and BPJS's growth push.
TARGETS_SQL = """
SELECT lower(trim(indicator)) AS indicator, try_cast(nullif(trim(year), '') AS INTEGER) AS year,
       try_cast(trim(value) AS DOUBLE) AS value, trim(source) AS source, trim(note) AS note,
       trim(year) AS year_text, trim(value) AS value_text
FROM read_csv(?, all_varchar = true, header = true)
"""

# Per snapshot: the city's figures, the target for its year, the growth achieved over the 12 months
# before it (annualised) and the growth still needed to reach the final target (99.5% in 2045).
# {src} is the schema holding coverage_by_region and coverage_by_segment: `publish` (what analysts see).
TREND_SQL = """
WITH snap AS (
    SELECT r.snapshot_date, year(r.snapshot_date) AS snapshot_year, r.eligible_workforce, r.covered_workers,
           r.coverage_pct, s.active_registrations
    FROM {src}.coverage_by_region r
    LEFT JOIN (SELECT snapshot_date, sum(active_registrations)::BIGINT AS active_registrations
               FROM {src}.coverage_by_segment GROUP BY ALL) s USING (snapshot_date)
    WHERE r.level = 'city'
),
coverage_targets AS (SELECT year, value, source FROM reference.coverage_targets WHERE indicator = 'coverage_pct'),
final AS (SELECT arg_max(year, year) AS year, arg_max(value, year) AS value FROM coverage_targets),
window_start AS (  -- the earliest snapshot in the 12 months before, at least four weeks earlier
    SELECT a.snapshot_date, min(b.snapshot_date) AS since
    FROM snap a JOIN snap b ON b.snapshot_date >= a.snapshot_date - INTERVAL 12 MONTH
                           AND b.snapshot_date <= a.snapshot_date - INTERVAL 28 DAY
    GROUP BY a.snapshot_date
),
growth AS (
    SELECT w.snapshot_date, (w.snapshot_date - w.since)::INTEGER AS days,
           b.covered_workers AS covered_before, b.active_registrations AS registrations_before,
           b.coverage_pct AS coverage_before
    FROM window_start w JOIN snap b ON b.snapshot_date = w.since
),
year_target AS (  -- the target for the snapshot's year, linear between the target years
    SELECT s.snapshot_date,
           CASE WHEN p.year IS NULL THEN NULL
                WHEN p.year = s.snapshot_year OR n.year IS NULL THEN p.value
                ELSE p.value + (n.value - p.value) * (s.snapshot_year - p.year) / (n.year - p.year) END AS target_pct,
           CASE WHEN p.year IS NULL THEN NULL
                WHEN p.year = s.snapshot_year OR n.year IS NULL THEN p.source || ' ' || p.year
                ELSE 'between ' || p.source || ' ' || p.year || ' and ' || n.source || ' ' || n.year END AS target_source
    FROM snap s
    ASOF LEFT JOIN coverage_targets p ON s.snapshot_year >= p.year
    ASOF LEFT JOIN coverage_targets n ON s.snapshot_year <= n.year
)
SELECT s.snapshot_date, s.eligible_workforce, s.covered_workers, s.coverage_pct, s.active_registrations,
       t.target_pct AS target_pct_this_year, t.target_source,
       s.coverage_pct - t.target_pct AS gap_pp,
       g.days AS growth_window_days,
       100 * (power(s.covered_workers / nullif(g.covered_before, 0), 365.25 / g.days) - 1) AS covered_workers_growth_pct_per_year,
       100 * (power(s.active_registrations / nullif(g.registrations_before, 0), 365.25 / g.days) - 1)
           AS active_registrations_growth_pct_per_year,
       (s.coverage_pct - g.coverage_before) * 365.25 / g.days AS coverage_pp_per_year,
       (SELECT value FROM reference.coverage_targets WHERE indicator = 'participant_growth_pct') AS participant_growth_target_pct,
       f.year AS final_target_year, f.value AS final_target_pct,
       (make_date(f.year, 12, 31) - s.snapshot_date) / 365.25 AS years_to_final_target,
       (f.value - s.coverage_pct) / ((make_date(f.year, 12, 31) - s.snapshot_date) / 365.25) AS required_pp_per_year,
       100 * (power(f.value / nullif(s.coverage_pct, 0), 365.25 / (make_date(f.year, 12, 31) - s.snapshot_date)) - 1)
           AS required_growth_pct_per_year
FROM snap s
LEFT JOIN growth g USING (snapshot_date)
LEFT JOIN year_target t USING (snapshot_date)
CROSS JOIN final f
ORDER BY s.snapshot_date
"""

# Every snapshot against every coverage target: how far, and what it takes to get there in time.
VS_TARGETS_SQL = """
SELECT s.snapshot_date, t.year AS target_year, t.value AS target_pct, t.source,
       s.coverage_pct, s.coverage_pct - t.value AS gap_pp, s.coverage_pct >= t.value AS met,
       (make_date(t.year, 12, 31) - s.snapshot_date) / 365.25 AS years_left,
       CASE WHEN make_date(t.year, 12, 31) > s.snapshot_date
            THEN (t.value - s.coverage_pct) / ((make_date(t.year, 12, 31) - s.snapshot_date) / 365.25) END AS required_pp_per_year,
       CASE WHEN make_date(t.year, 12, 31) > s.snapshot_date
            THEN 100 * (power(t.value / nullif(s.coverage_pct, 0), 365.25 / (make_date(t.year, 12, 31) - s.snapshot_date)) - 1)
            END AS required_growth_pct_per_year
FROM {src}.coverage_by_region s
CROSS JOIN reference.coverage_targets t
WHERE s.level = 'city' AND t.indicator = 'coverage_pct'
ORDER BY s.snapshot_date, t.year
"""


def trend_sql(src: str) -> str:
    return TREND_SQL.format(src=src)


def vs_targets_sql(src: str) -> str:
    return VS_TARGETS_SQL.format(src=src)


@dg.asset(key=["reference", "coverage_targets"], group_name="reference", pool="pipeline_db", kinds={"duckdb"})
def reference_coverage_targets(warehouse: Warehouse) -> dg.MaterializeResult:
    """National targets the trend is read against (edit reference/targets.csv): coverage % by the end of a
    year (RPJMN 2025: 32.15, RKP 2026: 34.99, RPJMN 2029: 43.92, RPJPN 2045: 99.5) and BPJS's +20%
    participants a year."""
    path = warehouse.reference / "targets.csv"
    with warehouse.connect() as con:
        con.execute(f"CREATE OR REPLACE TEMP TABLE targets_csv AS {TARGETS_SQL}", [str(path)])
        problems = [p for (p,) in con.execute("""
            SELECT 'unknown indicator ' || indicator FROM targets_csv WHERE indicator NOT IN ?
            UNION ALL SELECT 'value ' || coalesce(value_text, '(empty)') || ' is not a number (' || indicator || ')'
                      FROM targets_csv WHERE value IS NULL
            UNION ALL SELECT 'coverage_pct needs a year, not ' || coalesce(year_text, '(empty)')
                      FROM targets_csv WHERE indicator = 'coverage_pct' AND year IS NULL
            UNION ALL SELECT 'coverage_pct ' || value_text || ' is not between 0 and 100'
                      FROM targets_csv WHERE indicator = 'coverage_pct' AND NOT value BETWEEN 0 AND 100
            UNION ALL SELECT 'two coverage_pct targets for ' || year FROM targets_csv
                      WHERE indicator = 'coverage_pct' GROUP BY year HAVING count(*) > 1
            UNION ALL SELECT 'more than one participant_growth_pct row' FROM targets_csv
                      WHERE indicator = 'participant_growth_pct' HAVING count(*) > 1
            UNION ALL SELECT 'no coverage_pct target' FROM targets_csv
                      HAVING count(*) FILTER (WHERE indicator = 'coverage_pct') = 0""", [list(INDICATORS)]).fetchall()]
        if problems:
            raise ValueError(f"{path}: {'; '.join(problems)}. Fix the file and rerun.")
        rows = replace_table(con, "reference.coverage_targets",
                             "SELECT indicator, year, value, source, note FROM targets_csv ORDER BY indicator, year")
        table = preview(con, "SELECT indicator, year, value, source FROM reference.coverage_targets", limit=20)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "file": str(path), "targets": dg.MetadataValue.md(table)})


@dg.asset(
    key=["marts", "coverage_trend"], group_name="publish", partitions_def=snapshot_partitions, pool="pipeline_db",
    deps=[dg.AssetKey(["publish", "snapshot"]), reference_coverage_targets], kinds={"duckdb"},
)
def marts_coverage_trend(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Where Kendari's coverage is heading: per published snapshot, coverage and participants against the target
    for its year, the annual growth achieved over the 12 months before it, and the growth needed to reach the
    final target (99.5% by 2045).

    Recomputed over every published snapshot each time one is materialised, so a snapshot backfilled late
    still updates the growth of the ones after it. Also writes marts.coverage_vs_targets (every snapshot
    against every coverage target).
    """
    with warehouse.connect() as con, transaction(con):
        rows = replace_table(con, "marts.coverage_trend", trend_sql("publish"))
        replace_table(con, "marts.coverage_vs_targets", vs_targets_sql("publish"))
    with warehouse.connect(read_only=True) as con:
        latest = first(con, """SELECT snapshot_date, coverage_pct, target_pct_this_year, gap_pp,
                                      covered_workers_growth_pct_per_year, required_growth_pct_per_year,
                                      required_pp_per_year, final_target_pct, final_target_year
                               FROM marts.coverage_trend ORDER BY snapshot_date DESC LIMIT 1""")
        table = preview(con, """SELECT snapshot_date, covered_workers, round(coverage_pct, 2) AS coverage_pct,
                                       round(target_pct_this_year, 2) AS target_pct, round(gap_pp, 2) AS gap_pp,
                                       round(covered_workers_growth_pct_per_year, 1) AS growth_pct_per_year,
                                       round(required_growth_pct_per_year, 1) AS required_growth_pct_per_year
                                FROM marts.coverage_trend ORDER BY snapshot_date DESC""", limit=24)
    metadata = {"dagster/row_count": rows, "trend": dg.MetadataValue.md(table)}
    if latest:
        date_, pct, target, gap, growth, required, pp, final_pct, final_year = latest
        metadata |= {
            "latest_snapshot": str(date_), "coverage_pct": _num(pct), "target_pct_this_year": _num(target),
            "gap_pp": _num(gap), "covered_workers_growth_pct_per_year": _num(growth),
            f"required_growth_pct_per_year_to_{final_year}": _num(required),
            f"required_pp_per_year_to_{final_year}": _num(pp), "final_target_pct": _num(final_pct),
        }
    return dg.MaterializeResult(metadata=metadata)


def _num(value) -> dg.MetadataValue:
    return dg.MetadataValue.float(float(value)) if value is not None else dg.MetadataValue.text("n/a")


trend_assets = [reference_coverage_targets, marts_coverage_trend]
