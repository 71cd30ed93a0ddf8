-- coverage_trend: per snapshot, the city's figures, the target for its year, the growth achieved over the 12
-- months before it (annualised) and the growth still needed to reach the final target (99.5% in 2045).
-- {src} is the schema holding coverage_by_region and coverage_by_segment: `marts` for the pipeline's own
-- trend, `publish` for what analysts see (published snapshots only).
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
