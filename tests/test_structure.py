"""The structure the code promises: dependencies run one way, and a source is added through its specification."""

import ast
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

from tests.conftest import CONTRACT_SAMPLE, SAMPLE_DATE

PROJECT = Path(__file__).resolve().parents[1]
LOWER_LAYERS = ("assets", "checks", "warehouse", "sources")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_lower_layer_imports_the_wiring_or_the_sample_data():
    offenders = []
    for package in LOWER_LAYERS:
        for path in sorted((PROJECT / package).rglob("*.py")):
            for name in _imports(path):
                if name.split(".")[0] in ("pipelines", "sample"):
                    offenders.append(f"{path.relative_to(PROJECT)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_production_wheel_leaves_the_sample_data_out():
    import tomllib

    packages = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert "sample" not in packages and {"sources", "assets", "checks", "warehouse", "pipelines"} <= set(packages)


# The worked example of docs/adding-a-source.md: a required source whose kpj must exist in bpu_participants.
BPU_PAYMENTS = textwrap.dedent('''
    BPU_PAYMENTS = Source(
        "bpu_payments", "Contributions paid by BPU participants, one row per payment.",
        columns=(
            Column("kpj", "key", required=True, references=Ref("bpu_participants", "kpj")),
            Column("bulan_iuran", "text", required=True),
            Column("tanggal_bayar", "date", required=True),
            Column("jumlah_iuran", "money"),
        ),
        unique_rows=("kpj", "bulan_iuran"),
    )
''')
PAYMENTS_CSV = """kpj,bulan_iuran,tanggal_bayar,jumlah_iuran
B001,2025-05,2025-05-10,Rp 16.800
B001,2025-06,10/06/2025,16800
B002,2025-05,2025-05-31,16.800
X999,2025-05,2025-05-02,16800
B001,2025-06,2025-06-11,16800
"""


def test_a_source_is_added_through_its_specification_alone(tmp_path):
    """Copy the project, declare bpu_payments in sources/catalog.py only, deliver its file, run every asset."""
    copy = tmp_path / "project"
    for part in ("assets", "checks", "pipelines", "reference", "sources", "warehouse"):
        shutil.copytree(PROJECT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    catalog = copy / "sources" / "catalog.py"
    text = catalog.read_text()
    anchor = "# In dependency order"
    assert anchor in text and "OPD_NON_ASN,\n" in text
    text = text.replace(anchor, BPU_PAYMENTS + "\n" + anchor).replace("OPD_NON_ASN,\n", "OPD_NON_ASN, BPU_PAYMENTS,\n", 1)
    catalog.write_text(text)
    landing = tmp_path / "landing"
    shutil.copytree(CONTRACT_SAMPLE, landing)
    (landing / SAMPLE_DATE.isoformat() / "bpu_payments.csv").write_text(PAYMENTS_CSV)

    script = textwrap.dedent(f"""
        from datetime import date
        from pipelines.cli import run_snapshot
        from warehouse.resources import Warehouse
        run_snapshot(Warehouse(landing_dir={str(landing)!r}, warehouse_dir={str(tmp_path / 'warehouse')!r},
                               pseudonym_key="test-secret-key"), date.fromisoformat({SAMPLE_DATE.isoformat()!r}))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=copy, env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "warehouse" / "pipeline.duckdb"), read_only=True) as con:
        loaded = con.execute("SELECT kpj, bulan_iuran, tanggal_bayar::VARCHAR, jumlah_iuran FROM staging.bpu_payments "
                             "ORDER BY source_row").fetchall()
        reasons = con.execute("SELECT source_row, reasons FROM staging.quarantine WHERE source = 'bpu_payments' "
                              "ORDER BY 1").fetchall()
    assert loaded == [("B001", "2025-05", "2025-05-10", 16800), ("B001", "2025-06", "2025-06-10", 16800),
                      ("B002", "2025-05", "2025-05-31", 16800)]
    assert reasons == [(4, ["unknown_kpj"]), (5, ["duplicate_row"])]
    with duckdb.connect(str(tmp_path / "warehouse" / "analytics.duckdb"), read_only=True) as con:
        quality = con.execute("SELECT reason, rows_received FROM data_quality WHERE source = 'bpu_payments' "
                              "ORDER BY reason").fetchall()
    assert quality == [("duplicate_row", 1), ("ok", 3), ("unknown_kpj", 1)]


def test_every_pipeline_table_is_declared_with_a_comment(contract_run):
    from warehouse import ddl

    declared = ddl.declared()
    with duckdb.connect(str(contract_run.pipeline_db), read_only=True) as con:
        tables = con.execute("""SELECT schema_name || '.' || table_name, comment FROM duckdb_tables()
                                WHERE database_name = current_database() AND schema_name IN ?""",
                             [list(ddl.LAYER_SCHEMAS)]).fetchall()
    undeclared = [t for t, _ in tables if t not in declared and not t.startswith("reference.")]
    assert not undeclared, f"tables that take their shape from a query: {undeclared}"
    assert not [t for t, comment in tables if t in declared and not comment]


def test_an_older_database_gains_declared_columns_and_undeclared_writes_fail(tmp_path):
    from datetime import date

    import pytest

    from warehouse import db

    path = tmp_path / "pipeline.duckdb"
    with db.connect(path) as con:
        con.execute("ALTER TABLE raw.deliveries DROP COLUMN notes")  # as a database made before the column existed
    with db.connect(path) as con:
        assert "notes" in {c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = 'deliveries'").fetchall()}
        with pytest.raises(LookupError, match="marts.nowhere is not declared"):
            db.replace_rows(con, "marts.nowhere", date(2025, 6, 8), "SELECT DATE '2025-06-08' AS snapshot_date")
        con.execute("ALTER TABLE raw.deliveries ALTER COLUMN rows_read TYPE VARCHAR")  # a declaration changed since
    with pytest.raises(TypeError, match=r"raw.deliveries.rows_read is VARCHAR, declared BIGINT"):
        with db.connect(path):
            pass
