-- marts.village_targets: the villages of the area ranked by uncovered workers, for campaigns. Caveat carried on
-- every row: covered people known only by their district (the district's unassigned row) live in some village of
-- it, so a village's uncovered figure can be overstated by up to the district's unassigned covered workers.
WITH v AS (SELECT * FROM marts.coverage_by_region WHERE snapshot_date = $snapshot_date AND level = 'village'),
d AS (SELECT region_code AS district_code, region_name AS district_name FROM marts.coverage_by_region
      WHERE snapshot_date = $snapshot_date AND level = 'district'),
u AS (SELECT district_code, covered_workers AS unassigned_covered FROM marts.coverage_by_region
      WHERE snapshot_date = $snapshot_date AND level = 'unassigned')
SELECT CAST($snapshot_date AS DATE) AS snapshot_date,
       row_number() OVER (ORDER BY v.uncovered_workers DESC, v.region_code)::BIGINT AS rank,
       v.region_code AS village_code, v.region_name AS village_name, v.district_code, d.district_name,
       v.eligible_workforce, v.covered_workers, v.uncovered_workers, v.coverage_pct, v.ucj_category,
       coalesce(u.unassigned_covered, 0)::BIGINT AS district_unassigned_covered_workers,
       -- never above the village's own figure, which is negative where more are covered than Dukcapil counts
       least(v.uncovered_workers, greatest(v.uncovered_workers - coalesce(u.unassigned_covered, 0), 0))::BIGINT
           AS uncovered_workers_at_least
FROM v LEFT JOIN d USING (district_code) LEFT JOIN u USING (district_code)
ORDER BY rank
