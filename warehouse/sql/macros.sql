-- The one place where source text becomes typed values. Every layer calls these macros,
-- so a date, an amount or a code is parsed the same way everywhere.

-- Dates arrive as YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY; spreadsheets may add a time.
-- `serial` (true only for XLSX deliveries): a bare number is an Excel serial day count, the way a
-- date cell formatted as General reads (45292 = 2024-01-01). In a CSV such a number stays invalid.
CREATE OR REPLACE TEMP MACRO parse_date(t, serial := false) AS COALESCE(
    try_strptime(trim(t), '%Y-%m-%d')::DATE,
    try_strptime(trim(t), '%d/%m/%Y')::DATE,
    try_strptime(trim(t), '%d-%m-%Y')::DATE,
    try_strptime(trim(t), '%Y-%m-%d %H:%M:%S')::DATE,
    try_strptime(trim(t), '%Y-%m-%dT%H:%M:%S')::DATE,
    CASE WHEN serial AND regexp_full_match(trim(t), '[0-9]{1,7}(\.[0-9]+)?')
              AND try_cast(trim(t) AS DOUBLE) BETWEEN 1 AND 2958465
         THEN DATE '1899-12-30' + floor(try_cast(trim(t) AS DOUBLE))::INTEGER END
);

-- Whole Rupiah: '3.500.000', '3500000' and 'Rp 3.500.000' are all 3,500,000.
-- '3500000.0' is how a spreadsheet renders a whole number stored as a float.
CREATE OR REPLACE TEMP MACRO parse_money(t) AS (
    WITH s AS (SELECT regexp_replace(trim(t), '^[Rr][Pp]\.?\s*', '') AS v)
    SELECT CASE
        WHEN regexp_full_match(v, '-?[0-9]{1,3}(\.[0-9]{3})+') THEN try_cast(replace(v, '.', '') AS BIGINT)
        WHEN regexp_full_match(v, '-?[0-9]+(\.0+)?') THEN try_cast(split_part(v, '.', 1) AS BIGINT)
    END FROM s
);

-- Whole non-negative counts (jumlah, jumlah_pekerja); '12.0' from spreadsheets is 12.
CREATE OR REPLACE TEMP MACRO parse_count(t) AS
    CASE WHEN regexp_full_match(trim(t), '[0-9]+(\.0+)?') THEN try_cast(split_part(trim(t), '.', 1) AS BIGINT) END;

-- Kepmendagri village code, dotted '74.71.01.1005' or plain '7471011005', as dotted text.
CREATE OR REPLACE TEMP MACRO village_code(t) AS CASE
    WHEN regexp_full_match(trim(t), '[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}') THEN trim(t)
    WHEN regexp_full_match(trim(t), '[0-9]{10}') THEN
        concat_ws('.', substr(trim(t), 1, 2), substr(trim(t), 3, 2), substr(trim(t), 5, 2), substr(trim(t), 7, 4))
END;

-- Codes are text: trimmed, never numbers. NULL when empty.
CREATE OR REPLACE TEMP MACRO clean_code(t) AS nullif(trim(t), '');

-- A key (KPJ, NPP, project number) that can still identify its row: letters, digits and . / -
-- only, at most 30 characters, and not a number a spreadsheet rewrote ('1.40123E+10', '7.47101E+15').
CREATE OR REPLACE TEMP MACRO key_is_plausible(t) AS
    regexp_full_match(t, '[A-Za-z0-9][A-Za-z0-9./-]{0,29}') AND NOT regexp_full_match(t, '[0-9.,]+[Ee][+-]?[0-9]+');

-- The 38 provinces of Indonesia (Kepmendagri), for NIKs and region codes alike.
CREATE OR REPLACE TEMP MACRO province_exists(p) AS p IN ('11','12','13','14','15','16','17','18','19','21','31','32',
    '33','34','35','36','51','52','53','61','62','63','64','65','71','72','73','74','75','76','81','82',
    '91','92','93','94','95','96','97');

-- Programs as a canonical list: 'jkk, JKM;JHT' -> ['JHT', 'JKK', 'JKM'] (sorted, no repeats).
CREATE OR REPLACE TEMP MACRO program_codes(t) AS
    list_sort(list_distinct(list_filter(regexp_split_to_array(upper(trim(t)), '[\s,;/+]+'), lambda x: x <> '')));

-- NIK = province(2) regency(2) district(2) DDMMYY (women: day + 40) serial(4).
-- Valid: 16 digits, an existing province, regency/district/serial not zero, a real DDMMYY.
CREATE OR REPLACE TEMP MACRO nik_is_valid(n) AS
    coalesce(
        regexp_full_match(n, '[0-9]{16}')
        AND province_exists(substr(n, 1, 2))
        AND substr(n, 3, 2) <> '00' AND substr(n, 5, 2) <> '00' AND substr(n, 13, 4) <> '0000'
        AND coalesce(
            try_strptime(lpad((try_cast(substr(n, 7, 2) AS INT) % 40)::VARCHAR, 2, '0') || substr(n, 9, 2) || '20' || substr(n, 11, 2), '%d%m%Y'),
            try_strptime(lpad((try_cast(substr(n, 7, 2) AS INT) % 40)::VARCHAR, 2, '0') || substr(n, 9, 2) || '19' || substr(n, 11, 2), '%d%m%Y')
        ) IS NOT NULL
        AND try_cast(substr(n, 7, 2) AS INT) NOT IN (0, 40) AND try_cast(substr(n, 7, 2) AS INT) <= 71,
    false);

-- The DDMMYY a valid NIK should carry for this birth date and sex.
CREATE OR REPLACE TEMP MACRO nik_birth_digits(birth_date, sex) AS
    lpad((day(birth_date) + CASE WHEN sex = 'P' THEN 40 ELSE 0 END)::VARCHAR, 2, '0') || strftime(birth_date, '%m%y');

-- District encoded in a NIK, dotted like the Kepmendagri codes ('74.71.01').
CREATE OR REPLACE TEMP MACRO nik_district(n) AS concat_ws('.', substr(n, 1, 2), substr(n, 3, 2), substr(n, 5, 2));

CREATE OR REPLACE TEMP MACRO sex_code(t) AS CASE upper(trim(t))
    WHEN 'L' THEN 'L' WHEN 'LAKI-LAKI' THEN 'L' WHEN 'P' THEN 'P' WHEN 'PEREMPUAN' THEN 'P' END;

-- HMAC-SHA256 from the padded key halves, so pseudonyms are computed set-based in SQL.
CREATE OR REPLACE TEMP MACRO hmac_sha256(ipad, opad, msg) AS sha256(opad || unhex(sha256(ipad || encode(msg))));
