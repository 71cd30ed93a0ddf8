-- reference/targets.csv as typed rows: coverage % by the end of a year, and BPJS's growth push.
SELECT lower(trim(indicator)) AS indicator, try_cast(nullif(trim(year), '') AS INTEGER) AS year,
       try_cast(trim(value) AS DOUBLE) AS value, trim(source) AS source, trim(note) AS note,
       trim(year) AS year_text, trim(value) AS value_text
FROM read_csv(?, all_varchar = true, header = true)
