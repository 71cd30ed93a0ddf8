-- Why reference/targets.csv cannot be used, one line per problem (none: it can).
SELECT 'unknown indicator ' || indicator FROM targets_csv WHERE indicator NOT IN $indicators
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
HAVING count(*) FILTER (WHERE indicator = 'coverage_pct') = 0
