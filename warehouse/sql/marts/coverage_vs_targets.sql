-- coverage_vs_targets: every snapshot against every coverage target: how far, and what it takes to get there
-- in time. {src} as in coverage_trend.sql.
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
