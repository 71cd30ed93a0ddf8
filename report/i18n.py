"""Words and number formats of the report: Bahasa Indonesia by default, English as an option.

Numbers follow the language: Indonesian writes 140.940 and 35,02%; English 140,940 and 35.02%.
A suppressed cell (disclosure control of the open tier) is never a number: it reads as SUPPRESSED_MARK.
"""

from datetime import date

LANGUAGES = ("id", "en")
SUPPRESSED_MARK = "(s)"

MONTHS = {
    "id": ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}

# d3-format / d3-time-format locales handed to vl-convert so that chart axes read like the text.
D3_FORMAT = {
    "id": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["Rp", ""]},
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["Rp", ""]},
}
D3_TIME = {
    lang: {"dateTime": "%A, %e %B %Y %X", "date": "%d/%m/%Y", "time": "%H:%M:%S", "periods": ["AM", "PM"],
           "days": days, "shortDays": [d[:3] for d in days], "months": MONTHS[lang],
           "shortMonths": [m[:3] for m in MONTHS[lang]]}
    for lang, days in {
        "id": ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"],
        "en": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    }.items()
}


def _group(text: str, sep: str) -> str:
    head, _, tail = text.partition(".")
    sign = "-" if head.startswith("-") else ""
    digits = head.lstrip("-")
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sign + sep.join(groups), tail


def number(value, lang: str = "id", decimals: int = 0) -> str:
    """140940 → '140.940' (id) / '140,940' (en); None → SUPPRESSED_MARK is the caller's business, here '–'."""
    if value is None:
        return "–"
    thousands, decimal = (".", ",") if lang == "id" else (",", ".")
    whole, frac = _group(f"{value:.{decimals}f}", thousands)
    return whole.replace("-", "−") + (decimal + frac if frac else "")


def pct(value, lang: str = "id", decimals: int = 2) -> str:
    """35.0218 → '35,02%'."""
    return "–" if value is None else number(value, lang, decimals) + "%"


def signed(value, lang: str = "id", decimals: int = 2) -> str:
    """2.87 → '+2,87'; -1.5 → '−1,50'."""
    if value is None:
        return "–"
    text = number(abs(value), lang, decimals)
    return ("+" if value >= 0 else "−") + text


def long_date(value: date, lang: str = "id") -> str:
    """date(2025, 6, 8) → '8 Juni 2025' / '8 June 2025'."""
    return f"{value.day} {MONTHS[lang][value.month - 1]} {value.year}"


# Every phrase of the report. Sentences are str.format templates filled with already formatted values.
TEXT = {
    "id": {
        "title": "Laporan Cakupan Jaminan Sosial Ketenagakerjaan",
        "subtitle": "{area}, data per {date}",
        "generated": "Dibuat dari analytics.duckdb (tingkat terbuka) pada {when}. Sumber: ekstrak BPJS Ketenagakerjaan "
                     "dan agregat Dukcapil (batas {cutoff}).",
        "demo_note": "Data contoh sintetis (demo): bukan data sebenarnya.",
        "suppressed_note": "{mark} = disembunyikan: sel ini menghitung kurang dari {threshold} orang (aturan "
                           "kerahasiaan data terbuka), atau diturunkan dari sel semacam itu.",
        "contents": "Isi",
        "s_headline": "Ringkasan", "s_trend": "Tren dan target", "s_map": "Peta cakupan per kelurahan",
        "s_districts": "Kecamatan", "s_targets": "Sasaran pertama", "s_overlap": "Kepesertaan ganda antarsegmen",
        "s_occupation": "Pekerjaan dan jenis kelamin", "s_employers": "Kepatuhan pemberi kerja (PDS)",
        "s_opd": "Tenaga non-ASN di OPD", "s_lapsed": "Peserta BPU yang menunggak", "s_churn": "Peserta baru dan yang keluar",
        "s_outside": "Peserta yang tinggal di luar wilayah", "s_quality": "Kualitas data",
        "eligible": "Angkatan kerja yang memenuhi syarat", "covered": "Pekerja terlindungi",
        "uncovered": "Belum terlindungi", "rate": "Cakupan", "ucj": "Kategori UCJ",
        "eligible_short": "Memenuhi syarat", "unmapped": "Tidak terpetakan", "covered_short": "Terlindungi", "bpu_participants": "Peserta BPU",
        "headline_read": "Cakupan {area} {rate}, {gap} poin {side} target {target_name} ({target}): {covered} dari "
                         "{eligible} pekerja yang memenuhi syarat terlindungi, {uncovered} belum.",
        "above": "di atas", "below": "di bawah",
        "headline_read_no_target": "Cakupan {area} {rate}: {covered} dari {eligible} pekerja yang memenuhi syarat "
                                   "terlindungi, {uncovered} belum.",
        "trend_read": "Untuk mencapai {final} pada akhir {year} ({source}), cakupan perlu naik {pp} poin per tahun, "
                      "atau jumlah peserta tumbuh {growth} per tahun.",
        "trend_read_growth": " Dalam 12 bulan terakhir peserta tumbuh {achieved} per tahun (target BPJS {push}).",
        "target": "Target", "target_year": "Tahun", "gap_pp": "Selisih (poin)", "met": "Tercapai",
        "required_pp": "Perlu naik (poin/tahun)", "required_growth": "Pertumbuhan peserta yang perlu (%/tahun)",
        "yes": "ya", "no": "belum", "passed": "sudah lewat",
        "map_read": "Cakupan terendah di Kelurahan {low} ({low_rate}), tertinggi di {high} ({high_rate}). {unassigned} "
                    "pekerja terlindungi ({share} dari yang terlindungi) hanya diketahui kecamatannya dari NIK, "
                    "sehingga tidak tergambar di kelurahan mana pun.",
        "map_legend": "Cakupan", "map_suppressed": "disembunyikan", "map_no_data": "tanpa data",
        "map_missing": "Kelurahan tanpa batas wilayah di peta (angkanya tetap di tabel):",
        "map_caption": "Batas wilayah: cahyadsn/wilayah_boundaries (MIT), Kepmendagri 300.2.2-2430 Tahun 2025.",
        "districts_read": "Cakupan tertinggi di Kecamatan {best} ({best_rate}) dan terendah di {worst} ({worst_rate}); "
                          "selisihnya {spread} poin.",
        "district": "Kecamatan", "village": "Kelurahan", "unassigned_share": "Tanpa kelurahan",
        "targets_read": "Sepuluh kelurahan dengan pekerja belum terlindungi terbanyak menampung {top} orang, {share} "
                        "dari seluruh yang belum terlindungi.",
        "targets_caveat": "Angka belum terlindungi per kelurahan adalah batas atas: pekerja terlindungi yang hanya "
                          "diketahui kecamatannya tidak dikurangkan di kelurahan mana pun.",
        "uncovered_at_least": "Belum terlindungi (paling sedikit)",
        "occupation_read": "Pekerjaan dengan pekerja belum terlindungi terbanyak (perkiraan): {top} ({n}).",
        "occupation_caveat": "Perkiraan: pekerja terlindungi dipetakan ke jenis pekerjaan KTP dari isian pekerjaan BPU "
                             "dan KBLI pemberi kerja PU; yang tak terpetakan ditunjukkan apa adanya.",
        "occupation": "Pekerjaan", "sex": "Jenis kelamin", "sex_L": "Laki-laki", "sex_P": "Perempuan",
        "sex_read": "Cakupan laki-laki {l_rate}, perempuan {p_rate}.",
        "overlap_read": "{multi} orang aktif di lebih dari satu segmen: {registrations} registrasi aktif tetapi "
                        "{workers} orang. Hitung orang, bukan registrasi.",
        "segments": "Segmen", "workers": "Orang", "workers_in_area": "Tinggal di wilayah",
        "registrations": "Registrasi diterima", "active_registrations": "Registrasi aktif",
        "active_workers": "Orang aktif", "exclusive_workers": "Hanya di segmen ini",
        "employers_read": "{n} pemberi kerja aktif terindikasi PDS; teratas {top} ({kinds}).",
        "employer": "Pemberi kerja", "declared": "Dilaporkan", "registered": "Terdaftar aktif",
        "unregistered": "Selisih", "below_floor": "Upah < UMK", "missing_programs": "Program kurang",
        "pds_tk": "tenaga kerja", "pds_upah": "upah", "pds_program": "program",
        "opd_read": "{n} OPD; {covered} dari {staff} tenaga non-ASN terlindungi ({rate}). Terendah: {low} ({low_rate}).",
        "opd": "OPD", "staff": "Tenaga non-ASN", "staff_covered": "Terlindungi", "staff_not_covered": "Belum",
        "lapsed_read": "{lapsed} peserta BPU berhenti membayar iuran dalam 90 hari terakhir; {long} menunggak lebih lama. Mereka yang pertama dihubungi agar kembali terlindungi.",
        "paid_up": "Iuran lancar", "lapsed_30": "Menunggak ≤30 hari", "lapsed_60": "31–60 hari",
        "lapsed_90": "61–90 hari", "lapsed_long": "Lebih lama",
        "churn_read": "Sejak data sebelumnya: {new} peserta baru, {lost} berhenti terlindungi.",
        "newly_covered": "Baru terlindungi", "lost_coverage": "Berhenti terlindungi",
        "churn_first": "Ini data pertama yang diterbitkan: belum ada data sebelumnya untuk dibandingkan.",
        "before": "sebelumnya", "all_segments": "Semua segmen",
        "outside_read": "{n} pekerja terlindungi tinggal di luar {area}; mereka tidak dihitung dalam cakupannya.",
        "regency": "Kabupaten/kota",
        "quality_read": "Dari {received} baris yang diterima, {refused} ditolak ({share}); penyebab terbanyak: {top}.",
        "quality_read_clean": "Semua {received} baris yang diterima terbaca; tidak ada yang ditolak.",
        "source": "Sumber", "received": "Diterima", "loaded": "Dimuat", "refused": "Ditolak", "reason": "Alasan",
        "fix": "Yang perlu diperbaiki cabang",
        "fix_missing": "isi kolom wajib yang kosong", "fix_invalid": "perbaiki nilai yang tidak sah",
        "fix_implausible": "periksa tanggal lahir (usia di luar 15–90 tahun)",
        "fix_unknown": "kirim data rujukan yang hilang atau perbaiki kodenya",
        "fix_duplicate": "hapus baris ganda", "fix_empty_row": "hapus baris kosong",
        "fix_truncated_row": "kirim ulang berkas yang terpotong", "fix_malformed_row": "perbaiki tanda kutip/pemisah",
        "fix_other": "lihat docs/reason-codes.md",
        "chart_trend": "Cakupan (%) dan target", "chart_districts": "Cakupan per kecamatan (%); garis merah: kota",
        "chart_overlap": "Orang aktif per kombinasi segmen", "chart_occupation": "Belum terlindungi per pekerjaan (perkiraan)",
        "chart_quality": "Baris per sumber", "coverage_axis": "Cakupan (%)", "date_axis": "Tanggal data",
        "not_published": "Tabel {table} belum ada di analytics.duckdb ini.",
        "rank": "No.",
    },
    "en": {
        "title": "Social Security Coverage Report (BPJS Ketenagakerjaan)",
        "subtitle": "{area}, data as of {date}",
        "generated": "Built from analytics.duckdb (open tier) on {when}. Sources: BPJS Ketenagakerjaan extracts and "
                     "the Dukcapil aggregate (cut-off {cutoff}).",
        "demo_note": "Synthetic sample data (demo): not real figures.",
        "suppressed_note": "{mark} = suppressed: this cell counts fewer than {threshold} people (disclosure rule of "
                           "the open tier), or derives from such a cell.",
        "contents": "Contents",
        "s_headline": "Summary", "s_trend": "Trend and targets", "s_map": "Coverage by kelurahan (map)",
        "s_districts": "Districts", "s_targets": "Where to start", "s_overlap": "Registrations across segments",
        "s_occupation": "Occupation and sex", "s_employers": "Employer compliance (PDS)",
        "s_opd": "Non-ASN staff of the OPD", "s_lapsed": "BPU participants in arrears", "s_churn": "New and lost participants",
        "s_outside": "Participants living outside the area", "s_quality": "Data quality",
        "eligible": "Eligible workforce", "covered": "Covered workers", "uncovered": "Not yet covered",
        "rate": "Coverage", "ucj": "UCJ category",
        "eligible_short": "Eligible", "unmapped": "Unmapped", "covered_short": "Covered", "bpu_participants": "BPU participants",
        "headline_read": "Coverage of {area} is {rate}, {gap} points {side} the {target_name} target ({target}): {covered} "
                         "of {eligible} eligible workers are covered, {uncovered} are not.",
        "above": "above", "below": "below",
        "headline_read_no_target": "Coverage of {area} is {rate}: {covered} of {eligible} eligible workers are covered, "
                                   "{uncovered} are not.",
        "trend_read": "To reach {final} by the end of {year} ({source}), coverage must rise {pp} points a year, or "
                      "participants grow {growth} a year.",
        "trend_read_growth": " Over the last 12 months participants grew {achieved} a year (BPJS target {push}).",
        "target": "Target", "target_year": "Year", "gap_pp": "Gap (points)", "met": "Met",
        "required_pp": "Needed (points/year)", "required_growth": "Participant growth needed (%/year)",
        "yes": "yes", "no": "not yet", "passed": "passed",
        "map_read": "Lowest coverage in {low} ({low_rate}), highest in {high} ({high_rate}). {unassigned} covered "
                    "workers ({share} of the covered) are known only by the district in their NIK and are drawn in "
                    "no kelurahan.",
        "map_legend": "Coverage", "map_suppressed": "suppressed", "map_no_data": "no data",
        "map_missing": "Kelurahan without a boundary on the map (their figures are in the tables):",
        "map_caption": "Boundaries: cahyadsn/wilayah_boundaries (MIT), Kepmendagri 300.2.2-2430 of 2025.",
        "districts_read": "Coverage is highest in {best} ({best_rate}) and lowest in {worst} ({worst_rate}); "
                          "{spread} points apart.",
        "district": "District", "village": "Kelurahan", "unassigned_share": "No kelurahan",
        "targets_read": "The ten kelurahan with the most uncovered workers hold {top} of them, {share} of all the "
                        "uncovered.",
        "targets_caveat": "Uncovered per kelurahan is an upper bound: covered workers known only by their district are "
                          "subtracted in no kelurahan.",
        "uncovered_at_least": "Uncovered (at least)",
        "occupation_read": "Occupation with the most uncovered workers (estimate): {top} ({n}).",
        "occupation_caveat": "Estimate: covered workers are mapped to KTP occupations from the BPU occupation field and "
                             "the PU employer's KBLI; the unmapped are shown as such.",
        "occupation": "Occupation", "sex": "Sex", "sex_L": "Men", "sex_P": "Women",
        "sex_read": "Coverage of men {l_rate}, of women {p_rate}.",
        "overlap_read": "{multi} people are active in more than one segment: {registrations} active registrations but "
                        "{workers} people. Count people, not registrations.",
        "segments": "Segments", "workers": "People", "workers_in_area": "Living in the area",
        "registrations": "Registrations received", "active_registrations": "Active registrations",
        "active_workers": "Active people", "exclusive_workers": "In this segment only",
        "employers_read": "{n} active employers show signs of PDS; first {top} ({kinds}).",
        "employer": "Employer", "declared": "Declared", "registered": "Active registered",
        "unregistered": "Difference", "below_floor": "Wage < minimum", "missing_programs": "Programs missing",
        "pds_tk": "workers", "pds_upah": "wage", "pds_program": "program",
        "opd_read": "{n} OPD; {covered} of {staff} non-ASN staff covered ({rate}). Lowest: {low} ({low_rate}).",
        "opd": "OPD", "staff": "Non-ASN staff", "staff_covered": "Covered", "staff_not_covered": "Not covered",
        "lapsed_read": "{lapsed} BPU participants stopped paying in the last 90 days; {long} longer ago. They are the first to call back into coverage.",
        "paid_up": "Paid up", "lapsed_30": "Lapsed ≤30 days", "lapsed_60": "31–60 days", "lapsed_90": "61–90 days",
        "lapsed_long": "Longer",
        "churn_read": "Since the previous snapshot: {new} newly covered, {lost} lost coverage.",
        "newly_covered": "Newly covered", "lost_coverage": "Lost coverage",
        "churn_first": "This is the first published snapshot: there is none before it to compare with.",
        "before": "before", "all_segments": "All segments",
        "outside_read": "{n} covered workers live outside {area}; they are not counted in its rate.",
        "regency": "Regency/city",
        "quality_read": "Of {received} rows received, {refused} were refused ({share}); most often: {top}.",
        "quality_read_clean": "All {received} rows received were read; none was refused.",
        "source": "Source", "received": "Received", "loaded": "Loaded", "refused": "Refused", "reason": "Reason",
        "fix": "What the branch should fix",
        "fix_missing": "fill the empty required field", "fix_invalid": "correct the invalid value",
        "fix_implausible": "check the birth date (age outside 15–90)",
        "fix_unknown": "deliver the missing referenced record or correct its code",
        "fix_duplicate": "remove the repeated row", "fix_empty_row": "remove empty rows",
        "fix_truncated_row": "resend the cut-off file", "fix_malformed_row": "fix quoting/delimiters",
        "fix_other": "see docs/reason-codes.md",
        "chart_trend": "Coverage (%) and targets", "chart_districts": "Coverage by district (%); red line: city",
        "chart_overlap": "Active people by combination of segments", "chart_occupation": "Uncovered by occupation (estimate)",
        "chart_quality": "Rows per source", "coverage_axis": "Coverage (%)", "date_axis": "Snapshot date",
        "not_published": "Table {table} is not in this analytics.duckdb yet.",
        "rank": "No.",
    },
}


def advice(reason: str, lang: str) -> str:
    """What the data steward does about a quarantine reason (combinations joined by + give each advice once)."""
    words = TEXT[lang]
    seen = []
    for code in reason.split("+"):
        key = next((f"fix_{p}" for p in ("missing", "invalid", "implausible", "unknown", "duplicate")
                    if code.startswith(p + "_")), f"fix_{code}")
        text = words.get(key, words["fix_other"])
        if text not in seen:
            seen.append(text)
    return "; ".join(seen)
