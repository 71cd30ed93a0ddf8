"""The shape of a landing-source specification: columns with their kind, keys, references and row rules.

A specification is data. Ingest reads the header it declares, staging generates its parsing and
quarantine SQL from the column kinds, the checks restate the same rules as Great Expectations
suites, and the sample generator writes its headers: one declaration, read everywhere
(docs/adding-a-source.md).
"""

from dataclasses import dataclass

# How a column's text is read (staging.PARSE has the SQL of each; docs/reason-codes.md the accepted forms).
KINDS = (
    "key",         # a code that identifies a row (kpj, npp, nomor_proyek): letters, digits, . / - only
    "code",        # any other code kept as text (npwp, kbli, kode_opd): leading zeros matter
    "nik",         # a person's NIK, kept as received: an invalid one still belongs to a person
    "text",        # free text (names, pekerjaan)
    "date",        # YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY, Excel serials in workbooks
    "birth_date",  # a date, and the person is 15 to 90 years old at the snapshot date
    "money",       # whole Rupiah >= 0
    "count",       # a whole number >= 0
    "choice",      # one of `values` (lower case)
    "sex",         # L or P
    "village",     # Kepmendagri village code, dotted or plain
    "occupation",  # KTP occupation wording (Dukcapil list)
    "programs",    # a subset of `values` (upper case), any separator
)

# The type a staged value of each kind has (staging parses the text into it); every other kind stays VARCHAR.
SQL_TYPES = {kind: "VARCHAR" for kind in KINDS} | {"date": "DATE", "birth_date": "DATE", "money": "BIGINT",
                                                    "count": "BIGINT"}


@dataclass(frozen=True)
class Ref:
    """The values a column may take are the keys of another table of the same snapshot.

    `table` is a source name (its staged rows of the snapshot) or `reference.<table>` (reference data).
    A hard reference quarantines a row that points to nothing (`unknown_<column>`); a soft one only warns.
    """

    table: str
    column: str
    soft: bool = False

    @property
    def is_reference_data(self) -> bool:
        return self.table.startswith("reference.")


@dataclass(frozen=True)
class Column:
    """One column of a landing file and the rules its values obey."""

    name: str
    kind: str
    required: bool = False  # an empty value quarantines the row: missing_<name>
    values: tuple[str, ...] = ()  # allowed values of a `choice` (lower case) or `programs` (upper case)
    unique: bool = False  # a later row repeating the value is quarantined: duplicate_<name>
    references: Ref | None = None
    may_be_absent: bool = False  # the header may lack the column; it is read as empty
    # Whether counting the row needs this value (a key, a status, a date that decides activity). A defect in a
    # needed column quarantines the row; in another column (a wage, a birth date, a program, an NPWP) it sets
    # the field aside: NULL in staging, listed in staging.field_defects, and the row is kept and counted.
    needed: bool = True
    # A shape the contract asks for that does not change who is covered: a warning, never a quarantine.
    # regular expression over the staged value; for a column that is not `needed` a value off the shape is a
    # field defect (invalid_<name>), for a needed one only a warning (source_conventions)
    shape: str | None = None
    shape_mostly: float = 1.0  # the share of rows that must have the shape

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}; use one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class NotBefore:
    """A row rule across two columns: `column` is not before `other` when both are given, else `code`."""

    column: str
    other: str
    code: str = "invalid_period"


@dataclass(frozen=True)
class Source:
    """One landing file: its columns, keys, references and row rules.

    `delivery` is `snapshot` (one file per snapshot folder, `<name>.csv` or `.xlsx`) or `registry`
    (Dukcapil's `civil_registry/workforce_<cut-off>.csv`, the newest on or before the snapshot).
    `segment` names the coverage segment (PU, BPU, JAKON) whose registrations the file carries.
    """

    name: str  # file name without extension; also the raw and staging table name
    description: str
    columns: tuple[Column, ...]
    required_file: bool = True
    unique_rows: tuple[str, ...] = ()  # a key of several columns: a later row repeating it is `duplicate_row`
    row_rules: tuple[NotBefore, ...] = ()
    segment: str | None = None
    delivery: str = "snapshot"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def optional_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.may_be_absent)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def references(self) -> list[Ref]:
        return [c.references for c in self.columns if c.references]
