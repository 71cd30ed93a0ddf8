-- The one place where source text becomes typed values. Every layer calls these macros,
-- so a date, an amount or a code is parsed the same way everywhere. docs/reason-codes.md lists
-- every accepted form (section "Accepted forms").

-- Text as a person reads it: invisible format characters removed (zero-width space U+200B, word
-- joiner U+2060, BOM U+FEFF inside a value, soft hyphen, direction marks: Unicode category Cf), every
-- space-like or control character (no-break space U+00A0, U+202F, U+3000, tab, CR, LF: Z and Cc)
-- read as one space, trimmed. NULL when nothing is left. Staging applies it to every cell first.
-- The usual cell, printable ASCII words one space apart, has nothing to clean: one cheap test spares it the two
-- Unicode replacements (staging cleans every cell of every row).
CREATE OR REPLACE TEMP MACRO clean_text(t) AS CASE
    WHEN regexp_full_match(t, '[!-~]+(?: [!-~]+)*') THEN t
    ELSE nullif(trim(regexp_replace(regexp_replace(t, '\p{Cf}', '', 'g'), '[\p{Z}\p{Cc}]+', ' ', 'g')), '')
END;

-- Month numbers and names: Indonesian and English, full or abbreviated ('Agu', 'Agt', 'Aug', 'Agustus').
CREATE OR REPLACE TEMP MACRO month_number(m) AS CASE
    WHEN regexp_full_match(m, '[0-9]{1,2}') THEN m::INTEGER
    ELSE MAP {'jan': 1, 'januari': 1, 'january': 1, 'feb': 2, 'peb': 2, 'februari': 2, 'pebruari': 2, 'february': 2,
              'mar': 3, 'mrt': 3, 'maret': 3, 'march': 3, 'apr': 4, 'april': 4, 'mei': 5, 'may': 5,
              'jun': 6, 'juni': 6, 'june': 6, 'jul': 7, 'juli': 7, 'july': 7,
              'agu': 8, 'agt': 8, 'ags': 8, 'agus': 8, 'agustus': 8, 'aug': 8, 'august': 8,
              'sep': 9, 'sept': 9, 'september': 9, 'okt': 10, 'oct': 10, 'oktober': 10, 'october': 10,
              'nov': 11, 'nop': 11, 'november': 11, 'nopember': 11, 'des': 12, 'dec': 12, 'desember': 12,
              'december': 12}[lower(rtrim(m, '.'))]
END;

-- A two-digit year (Excel's short date, '07/11/23'): 00-49 are 20xx, 50-99 are 19xx. With `born_by`
-- (birth dates) the century is the latest that does not put the year after `born_by`: a birth date is
-- never in the future. Four-digit years are kept as written.
CREATE OR REPLACE TEMP MACRO full_year(y, born_by) AS CASE
    WHEN length(y) = 4 THEN y::INTEGER
    WHEN born_by IS NOT NULL THEN CASE WHEN 2000 + y::INTEGER <= year(CAST(born_by AS DATE)) THEN 2000 + y::INTEGER ELSE 1900 + y::INTEGER END
    WHEN y::INTEGER < 50 THEN 2000 + y::INTEGER
    ELSE 1900 + y::INTEGER
END;

-- An optional time after a date ('2024-01-05 00:00:00', '05/01/2024 13.45', '2024-01-05T08:00:00Z').
CREATE OR REPLACE TEMP MACRO _time_re() AS
    '(?:[ T][0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2}(?:[.,][0-9]+)?)?(?: ?[AaPp]\.?[Mm]\.?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?';
CREATE OR REPLACE TEMP MACRO _ymd_re() AS '([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})' || _time_re();
CREATE OR REPLACE TEMP MACRO _dmy_re() AS
    '([0-9]{1,2})(?:[-/.]| +)([0-9]{1,2}|[A-Za-z]{3,9}\.?)(?:[-/.]| +)([0-9]{4}|[0-9]{2})' || _time_re();
-- The date of a year, month and day (integers), NULL unless that day exists and is 1900 or later. Checked before
-- make_date, which would raise: an error inside try() sends the whole vector down a row-by-row path.
CREATE OR REPLACE TEMP MACRO _date_of(y, m, d) AS CASE
    WHEN y >= 1900 AND m BETWEEN 1 AND 12 AND d BETWEEN 1 AND day(last_day(make_date(least(y, 9999), least(greatest(m, 1), 12), 1)))
        THEN make_date(y, m, d)
END;

-- Dates: year first ('2024-01-05', '2024/1/5') or day first ('05/01/2024', '5-1-2024', '05.01.2024',
-- '05/01/24', '5 Januari 2024', '05-Jan-24'), an optional time after either. Never month first: the
-- contract's extracts are Indonesian. A day that does not exist ('31/02/2024') or a year before 1900
-- ('0023-11-07', a two-digit year read as four) is NULL: invalid, never a date before 1900.
-- `serial` (true only for XLSX deliveries): a bare number is an Excel serial day count, the way a
-- date cell formatted as General reads (45292 = 2024-01-01). In a CSV such a number stays invalid.
-- `born_by`: for birth dates, the snapshot date (see full_year).
-- One match of both patterns (they exclude each other: four digits first or at most two), its parts read once
-- (`list_transform([x], lambda v: ...)[1]` names a value computed once; a macro's argument is computed wherever
-- it is written).
CREATE OR REPLACE TEMP MACRO parse_date(t, serial := false, born_by := NULL) AS list_transform(
    list_transform([regexp_extract(trim(t), '^(?:' || _ymd_re() || '|' || _dmy_re() || ')$', ['y', 'm', 'd', 'd_', 'm_', 'y_'])],
        lambda p: CASE WHEN p.y <> '' OR p.y_ <> '' THEN
            {'y': full_year(p.y || p.y_, born_by), 'm': month_number(p.m || p.m_), 'd': (p.d || p.d_)::INTEGER} END),
    lambda x: CASE
        WHEN x IS NOT NULL THEN _date_of(x.y, x.m, x.d)
        WHEN serial AND regexp_full_match(trim(t), '[0-9]{1,7}(\.[0-9]+)?') AND try_cast(trim(t) AS DOUBLE) BETWEEN 1 AND 2958465
            AND year(DATE '1899-12-30' + floor(try_cast(trim(t) AS DOUBLE))::INTEGER) >= 1900
            THEN DATE '1899-12-30' + floor(try_cast(trim(t) AS DOUBLE))::INTEGER
    END)[1];

-- Rupiah as Indonesian and Excel extracts write it: 'Rp 3.500.000', 'Rp3.500.000', 'Rp. 3.500.000',
-- 'IDR 3,500,000', '3.500.000,00' and '3.500.000,-' (sen, or none), '3 500 000', '3500000', '3500000.0'
-- (a spreadsheet's float). Sen are rounded to the nearest Rupiah. Thousands groups of three after a dot
-- (Indonesian) or a comma (English); one or two digits after the last separator are sen.
CREATE OR REPLACE TEMP MACRO _money_text(t) AS
    regexp_replace(regexp_replace(upper(trim(t)), '^(-?) *(?:RP|IDR)\.? *', '\1'), '(?:,-+|\.-+| *RUPIAH)$', '');
CREATE OR REPLACE TEMP MACRO _money_number(v) AS CASE
    WHEN regexp_full_match(v, '-?[0-9]{1,3}([. ][0-9]{3})+(,[0-9]{1,2})?') THEN replace(regexp_replace(v, '[. ]', '', 'g'), ',', '.')
    WHEN regexp_full_match(v, '-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]{1,2})?') THEN replace(v, ',', '')
    WHEN regexp_full_match(v, '-?[0-9]+([.,][0-9]{1,2}|\.0+)?') THEN replace(v, ',', '.')
END;
-- Plain digits (the usual amount) are read directly.
CREATE OR REPLACE TEMP MACRO parse_money(t) AS CASE
    WHEN regexp_full_match(t, '[0-9]{1,18}') THEN t::BIGINT
    ELSE try_cast(round(try_cast(list_transform([_money_text(t)], lambda v: _money_number(v))[1] AS DECIMAL(38, 2))) AS BIGINT)
END;

-- Whole non-negative counts (jumlah, jumlah_pekerja): '12', '1.200' (thousands), '12.0' (a spreadsheet's float).
CREATE OR REPLACE TEMP MACRO parse_count(t) AS CASE
    WHEN regexp_full_match(trim(t), '[0-9]{1,3}(\.[0-9]{3})+') THEN try_cast(replace(trim(t), '.', '') AS BIGINT)
    WHEN regexp_full_match(trim(t), '[0-9]+(\.0+)?') THEN try_cast(split_part(trim(t), '.', 1) AS BIGINT)
END;

-- Codes are text, never numbers. The marks spreadsheet users type to keep a code as text are removed: a
-- leading apostrophe ('7471...) and Excel's formula form ="7471..."; and so is white space anywhere (a code
-- holds none: '7471 0112 0395 0003' is the NIK 7471011203950003). NULL when empty.
-- The usual code, printable ASCII without spaces or a leading mark, is kept as it is without the two replacements.
CREATE OR REPLACE TEMP MACRO clean_code(t) AS CASE
    WHEN regexp_full_match(t, '[!-&(-<>-~][!-~]*') THEN t
    ELSE nullif(regexp_replace(regexp_replace(trim(t), '^(?:''|="(.*)"$)', '\1'), '\s+', '', 'g'), '')
END;

-- Kepmendagri village code, dotted '74.71.01.1005' or plain '7471011005', as dotted text.
CREATE OR REPLACE TEMP MACRO village_code(t) AS list_transform([clean_code(t)], lambda c: CASE
    WHEN regexp_full_match(c, '[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}') THEN c
    WHEN regexp_full_match(c, '[0-9]{10}') THEN concat_ws('.', substr(c, 1, 2), substr(c, 3, 2), substr(c, 5, 2), substr(c, 7, 4))
END)[1];

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

-- L or P; the words KTPs and forms use are accepted ('Laki-laki', 'Laki laki', 'Pria', 'Perempuan', 'Wanita').
CREATE OR REPLACE TEMP MACRO sex_code(t) AS CASE regexp_replace(upper(trim(t)), '[^A-Z]', '', 'g')
    WHEN 'L' THEN 'L' WHEN 'LAKILAKI' THEN 'L' WHEN 'LK' THEN 'L' WHEN 'PRIA' THEN 'L'
    WHEN 'P' THEN 'P' WHEN 'PEREMPUAN' THEN 'P' WHEN 'PR' THEN 'P' WHEN 'WANITA' THEN 'P' END;

-- HMAC-SHA256 from the padded key halves, so pseudonyms are computed set-based in SQL.
CREATE OR REPLACE TEMP MACRO hmac_sha256(ipad, opad, msg) AS sha256(opad || unhex(sha256(ipad || encode(msg))));
