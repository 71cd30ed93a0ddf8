"""Great Expectations suites for every staged source and the marts, run as asset checks beside their asset.

Each check validates only its snapshot's rows (`snapshot_date = <partition>`), by SQL pushdown on
the pipeline database opened read-only (checks.gx), and reports unexpected counts with a few
sample values, masked for personal columns.

Two kinds per staged source, both generated from its specification (sources/catalog.py), so the
rules that route rows to quarantine and the rules that verify the result are one description:
  * `staged_rules_hold` (ERROR, blocking): every loaded row obeys the quarantine rules. It fails
    only if staging let a bad row through, which would corrupt every figure after it.
  * `source_conventions` (WARN): shapes the contract asks for but that do not change who is
    covered (NIK structure, KPJ/NPP/NPWP/KBLI shapes, future start dates). The rows stay loaded.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from assets.staging import MAX_AGE, MIN_AGE, reference_sql
from sources import SOURCES, Column, Source
from sources.catalog import NIK_MOSTLY
from checks.gx import PERSONAL_DATA_COLUMNS, GreatExpectationsResource, SuiteOutcome, to_check_result
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse

class _LazyExpectations:
    """Great Expectations takes seconds to import: the Definitions (and the UI) load without it,
    and the expectation classes are looked up when a suite is built, inside a check run."""

    def __getattr__(self, name: str):
        import great_expectations.expectations as expectations

        return getattr(expectations, name)


gxe = _LazyExpectations()

STAGED_RULES_HOLD = "staged_rules_hold"
SOURCE_CONVENTIONS = "source_conventions"
IDENTITY_TRUST = "identity_trust"
MART_SHAPE = "mart_shape"
STARTED_BY_SNAPSHOT = "started_by_snapshot"

VILLAGE_REGEX = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
KEY_REGEX = r"^[A-Za-z0-9][A-Za-z0-9./-]{0,29}$"  # the shape key_is_plausible() accepts (macros.sql)

Expectations = Callable[[date], list]  # the suite for one snapshot date


@dataclass(frozen=True)
class Suite:
    """One GX suite run as one asset check on one table's snapshot rows."""

    asset: tuple[str, ...]
    name: str
    table: str
    expectations: Expectations
    blocking: bool
    description: str
    # extra batches: (SQL predicate added to the snapshot filter, expectations); e.g. orphans of a reference
    extra: tuple[tuple[str, Expectations], ...] = ()
    sensitive: frozenset[str] = PERSONAL_DATA_COLUMNS


def snapshot_filter(snapshot_date: date) -> str:
    return f"snapshot_date = DATE '{snapshot_date.isoformat()}'"


def _years_before(d: date, years: int) -> date:
    return d.replace(year=d.year - years) if not (d.month == 2 and d.day == 29) else date(d.year - years, 2, 28)


def _rule_expectations(col: Column, d: date) -> list:
    """The expectations that restate one column's quarantine rules over the loaded rows."""
    c, out = col.name, []
    if col.required:
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=c))
    if col.unique:
        out.append(gxe.ExpectColumnValuesToBeUnique(column=c))
    if col.kind == "choice":
        out.append(gxe.ExpectColumnValuesToBeInSet(column=c, value_set=list(col.values)))
    elif col.kind == "sex":
        out.append(gxe.ExpectColumnValuesToBeInSet(column=c, value_set=["L", "P"]))
    elif col.kind in ("money", "count"):
        out.append(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0))
    elif col.kind == "village":
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=c, regex=VILLAGE_REGEX))
    elif col.kind == "key":
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=c, regex=KEY_REGEX))
    elif col.kind == "programs":
        one = "(" + "|".join(col.values) + ")"
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=c, regex=f"^{one}(,{one})*$"))
    elif col.kind == "birth_date":
        # age MIN_AGE..MAX_AGE at the snapshot date, as in staging's implausible_<column>
        out.append(gxe.ExpectColumnValuesToBeBetween(
            column=c, min_value=_years_before(d, MAX_AGE + 1) + timedelta(days=1), max_value=_years_before(d, MIN_AGE)))
    return out


def _row_rule_expectations(source: Source) -> list:
    out = [gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=rule.column, column_B=rule.other, or_equal=True,
                                                       ignore_row_if="either_value_is_missing")
           for rule in source.row_rules]
    if source.unique_rows:
        out.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(source.unique_rows)))
    return out


SNAPSHOT_DATE = "DATE '{date}'"  # filled in per partition by run_suite


def _orphans(col: Column) -> tuple[str, Expectations]:
    """An extra batch: the rows whose `col` points to nothing; expected to be none (its values all null)."""
    predicate = f"{col.name} IS NOT NULL AND {col.name} NOT IN " \
                f"({reference_sql(col.references).replace('$snapshot_date', SNAPSHOT_DATE)})"
    return predicate, lambda d, c=col.name: [gxe.ExpectColumnValuesToBeNull(column=c)]


def _staged_rules(source: Source) -> Suite:
    cols = source.columns
    return Suite(
        asset=("staging", source.name), name=STAGED_RULES_HOLD, table=f"staging.{source.name}", blocking=True,
        expectations=lambda d: [e for col in cols for e in _rule_expectations(col, d)] + _row_rule_expectations(source),
        extra=tuple(_orphans(col) for col in cols if col.references and not col.references.soft),
        description=(
            "ERROR, blocking. Every loaded row obeys the rules that send rows to quarantine (required, unique, allowed "
            "values, amounts >= 0, village codes, key shapes, programs of the segment, age 15-90, periods, and the "
            "employer/project/occupation each row points to). A failure means staging let a bad row through: the "
            "assets after this one are not materialised."),
    )


def _conventions(source: Source) -> Suite | None:
    # (column, regex, mostly) per convention; the expectations are built when the check runs
    shapes = [(col.name, col.shape, col.shape_mostly) for col in source.columns if col.shape]
    extra = tuple(_orphans(col) for col in source.columns if col.references and col.references.soft)
    if not shapes and not extra:
        return None
    return Suite(
        asset=("staging", source.name), name=SOURCE_CONVENTIONS, table=f"staging.{source.name}", blocking=False,
        expectations=lambda d: [gxe.ExpectColumnValuesToMatchRegex(column=c, regex=r, mostly=m) for c, r, m in shapes],
        extra=extra,
        description=(
            "WARN, not blocking. Shapes the contract asks for that do not change who is covered: NIK of 16 digits "
            f"(warns above {100 - NIK_MOSTLY * 100:.0f}% without one; such rows are linked by name, birth date and "
            "place), KPJ of 11 digits, NPP of 8 letters/digits, NPWP of 15-16 digits, KBLI of 5 digits, a project's "
            "contractor NPP among the employers. The rows stay loaded; tell the sender."),
    )


IDENTITY_SUITE = Suite(
    asset=("staging", "registrations"), name=IDENTITY_TRUST, table="staging.registrations", blocking=False,
    expectations=lambda d: [
        gxe.ExpectColumnValuesToBeInSet(column="nik_valid", value_set=[True], mostly=NIK_MOSTLY),
        gxe.ExpectColumnValuesToBeInSet(column="nik_agrees", value_set=[True], mostly=0.9),
    ],
    description=(
        "WARN, not blocking. How far the registrations can be trusted for identity: a structurally valid NIK "
        "(16 digits, existing province, real DDMMYY, +40 for women) and a NIK whose birth digits agree with "
        "tanggal_lahir and jenis_kelamin. Disagreement lowers trust in a NIK match; it never quarantines a row."),
)

ACTIVITY_SUITE = Suite(
    asset=("marts", "registration_activity"), name=STARTED_BY_SNAPSHOT, table="marts.registration_activity",
    blocking=False,
    expectations=lambda d: [
        # a start after the snapshot date is "not active yet", not an error; many of them are worth a look
        gxe.ExpectColumnValuesToBeBetween(column="start_date", max_value=d, mostly=0.99),
    ],
    description=(
        "WARN, not blocking. Registrations start on or before the snapshot date (more than 1% starting later is "
        "worth a look: a date typed in the wrong century or format). Such registrations count as not active yet."),
)


def _mart(table: str, expectations: Expectations, what: str) -> Suite:
    return Suite(asset=tuple(table.split(".")), name=MART_SHAPE, table=table, blocking=True, expectations=expectations,
                 description=f"ERROR, blocking: {what} A failure stops analytics.duckdb from being published.")


MART_SUITES = [
    _mart("marts.workers", lambda d: [
        gxe.ExpectColumnValuesToNotBeNull(column="person_id"), gxe.ExpectColumnValuesToBeUnique(column="person_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="is_active"),
        gxe.ExpectColumnValuesToBeInSet(column="region_level", value_set=["village", "district"]),
        gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=["L", "P"]),
        gxe.ExpectColumnValuesToBeBetween(column="birth_year", min_value=d.year - MAX_AGE - 1, max_value=d.year - MIN_AGE),
    ], "one row per person, each active or not, with a known region level, sex and a plausible birth year."),
    _mart("marts.coverage_by_region", lambda d: [
        gxe.ExpectColumnValuesToBeInSet(column="level", value_set=["city", "district", "village", "unassigned"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["level", "region_code"]),
        gxe.ExpectColumnValuesToNotBeNull(column="region_name"),  # every row is a region of the reference list
        gxe.ExpectColumnValuesToBeBetween(column="eligible_workforce", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="covered_workers", min_value=0),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="covered_workers", column_B="covered_pu", or_equal=True),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="covered_workers", column_B="covered_bpu", or_equal=True),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="covered_workers", column_B="covered_jakon", or_equal=True),
    ], "one row per level and region, each in the reference list; counts >= 0; no segment covers more people "
       "than the region."),
    # issue 12: targeting, compliance, OPD staff, lapse and churn
    _mart("marts.village_targets", lambda d: [
        gxe.ExpectColumnValuesToBeUnique(column="village_code"), gxe.ExpectColumnValuesToBeUnique(column="rank"),
        gxe.ExpectColumnValuesToNotBeNull(column="village_name"),
        gxe.ExpectColumnValuesToBeInSet(column="ucj_category", value_set=["sangat rendah", "rendah", "sedang", "tinggi"]),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="uncovered_workers", column_B="uncovered_workers_at_least",
                                                    or_equal=True),
    ], "one row per village of the area with a unique rank and a known UCJ band."),
    _mart("marts.coverage_by_sex", lambda d: [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["level", "region_code", "sex"]),
        gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=["L", "P", "unknown"]),
        gxe.ExpectColumnValuesToBeBetween(column="covered_workers", min_value=0),
    ], "one row per region and sex (L, P, unknown), counts >= 0."),
    _mart("marts.coverage_by_occupation", lambda d: [
        gxe.ExpectColumnValuesToBeUnique(column="occupation"),
        gxe.ExpectColumnValuesToNotBeNull(column="category"),  # every occupation is a Dukcapil one, or unmapped
        gxe.ExpectColumnValuesToBeBetween(column="covered_workers_estimate", min_value=0),
    ], "one row per occupation, each a Dukcapil occupation or unmapped; counts >= 0."),
    _mart("marts.employer_compliance", lambda d: [
        gxe.ExpectColumnValuesToBeUnique(column="npp"),
        gxe.ExpectColumnValuesToBeBetween(column="active_workers", min_value=0),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="active_workers", column_B="workers_below_wage_floor",
                                                    or_equal=True),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="active_workers", column_B="workers_missing_programs",
                                                    or_equal=True),
        gxe.ExpectColumnValuesToBeBetween(column="pds_kinds", min_value=0, max_value=3),
    ], "one row per employer; workers below the floor or missing programs are among its active workers."),
    _mart("marts.opd_coverage", lambda d: [
        gxe.ExpectColumnValuesToBeUnique(column="kode_opd"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="staff_on_roster", column_B="staff_matched", or_equal=True),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="staff_matched", column_B="staff_covered", or_equal=True),
    ], "one row per OPD; staff on roster >= matched >= covered."),
    _mart("marts.bpu_lapse", lambda d: [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["level", "region_code"]),
        gxe.ExpectColumnValuesToBeInSet(column="level", value_set=["city", "district", "village", "outside_area", "unknown"]),
        gxe.ExpectColumnValuesToNotBeNull(column="region_name"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="bpu_participants", column_B="paid_up_participants",
                                                    or_equal=True),
    ], "one row per level and region; participants >= paid up."),
    _mart("marts.coverage_changes", lambda d: [
        gxe.ExpectColumnValuesToBeUnique(column="segment"),
        gxe.ExpectColumnValuesToBeInSet(column="segment", value_set=["ALL", "PU", "BPU", "JAKON"]),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="covered_workers_now", column_B="newly_covered_workers",
                                                    or_equal=True, ignore_row_if="either_value_is_missing"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="covered_workers_before", column_B="lost_coverage_workers",
                                                    or_equal=True, ignore_row_if="either_value_is_missing"),
    ], "one row per segment; the newly covered are among those covered now, the lost among those covered before."),
    _mart("marts.coverage_by_segment", lambda d: [
        gxe.ExpectColumnValuesToBeInSet(column="segment", value_set=["PU", "BPU", "JAKON"]),
        gxe.ExpectColumnValuesToBeUnique(column="segment"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="registrations", column_B="active_registrations", or_equal=True),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="active_registrations", column_B="active_workers", or_equal=True),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="active_workers", column_B="exclusive_workers", or_equal=True),
    ], "one row per segment; registrations >= active registrations >= active workers >= exclusive workers."),
    _mart("marts.segment_overlap", lambda d: [
        gxe.ExpectColumnValuesToBeUnique(column="segments"),
        gxe.ExpectColumnValuesToMatchRegex(column="segments", regex=r"^(BPU|JAKON|PU)(\+(BPU|JAKON|PU))*$"),
        gxe.ExpectColumnValuesToBeBetween(column="workers", min_value=1),
    ], "one row per combination of segments, each with at least one worker."),
    _mart("marts.data_quality", lambda d: [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["source", "reason"]),
        gxe.ExpectColumnValuesToBeBetween(column="rows_received", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="rows_quarantined", min_value=0),
        gxe.ExpectColumnValuesToMatchRegex(column="reason", regex=r"^(ok|[a-z_]+(\+[a-z_]+)*)$"),
    ], "one row per source and reason combination, counts >= 0."),
]


def run_suite(gx: GreatExpectationsResource, warehouse: Warehouse, suite: Suite, snapshot_date: date) -> SuiteOutcome:
    """Validate a suite (and its extra batches) on one snapshot's rows; one outcome for all of them."""
    where = snapshot_filter(snapshot_date)
    database = str(warehouse.pipeline_db)
    outcome = gx.validate(database, suite.table, suite.expectations(snapshot_date), where=where,
                          suite_name=f"{suite.table}.{suite.name}")
    results = list(outcome.results)
    for predicate, expectations in suite.extra:
        more = gx.validate(database, suite.table, expectations(snapshot_date),
                           where=f"{where} AND {predicate.format(date=snapshot_date.isoformat())}")
        results += more.results
    return SuiteOutcome(outcome.suite_name, outcome.table, where, tuple(results))


def suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey(list(suite.asset))

    @dg.asset_check(asset=asset_key, name=suite.name, description=suite.description, blocking=suite.blocking,
                    partitions_def=snapshot_partitions, pool="pipeline_db")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
               gx: GreatExpectationsResource) -> dg.AssetCheckResult:
        outcome = run_suite(gx, warehouse, suite, date.fromisoformat(context.partition_key))
        severity = dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN
        return to_check_result(outcome, asset_key=asset_key, check_name=suite.name, blocking_severity=severity,
                               sensitive_columns=suite.sensitive)

    return _check


STAGED_SUITES = [_staged_rules(s) for s in SOURCES] + [c for c in (_conventions(s) for s in SOURCES) if c] + [IDENTITY_SUITE]
ALL_SUITES: Sequence[Suite] = [*STAGED_SUITES, ACTIVITY_SUITE, *MART_SUITES]
suite_checks = [suite_check(s) for s in ALL_SUITES]
