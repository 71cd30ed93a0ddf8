"""Shared fixtures: real pipeline runs on small landing zones, in temporary folders."""

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pipelines.cli import run_snapshot
from warehouse.resources import PROJECT_DIR, Warehouse

CONTRACT_SAMPLE = Path(__file__).parent / "data" / "contract_sample"
SAMPLE_DATE = date(2025, 6, 8)
TEST_KEY = "test-secret-key"


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from warehouse.lock import writer_lock
with writer_lock(Path(sys.argv[1]), command=sys.argv[2]):
    print("holding", flush=True)
    time.sleep(600)
"""


def hold_lock_elsewhere(warehouse_dir: Path, command: str) -> subprocess.Popen:
    """Another process holding the writer lock of `warehouse_dir` as `command` (until killed); returns once held."""
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(warehouse_dir), command], cwd=PROJECT_DIR,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def make_warehouse(landing: Path, warehouse_dir: Path, **settings) -> Warehouse:
    """A warehouse on `landing`. The hand-written samples count a handful of people per cell, so their figures
    are published unsuppressed (threshold 1) unless a test asks otherwise; tests/test_safety.py tests suppression."""
    settings.setdefault("disclosure_threshold", 1)
    return Warehouse(landing_dir=str(landing), warehouse_dir=str(warehouse_dir), pseudonym_key=TEST_KEY, **settings)


def copy_warehouse(source: Warehouse, root: Path) -> Warehouse:
    """A copy of `source`'s databases under `root`, on the same landing zone: a test can change it freely."""
    shutil.copytree(source.analytics_db.parent, root / "warehouse")
    return make_warehouse(source.landing, root / "warehouse")


@pytest.fixture(scope="module")
def contract_run(tmp_path_factory) -> Warehouse:
    """The hand-written contract sample, materialised once through every asset."""
    root = tmp_path_factory.mktemp("contract")
    landing = root / "landing"
    shutil.copytree(CONTRACT_SAMPLE, landing)
    warehouse = make_warehouse(landing, root / "warehouse")
    run_snapshot(warehouse, SAMPLE_DATE)
    return warehouse


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A `dagster dev` on the contract sample delivered on each of BACKFILL_DATES, for one test module:
    (DagsterDev, its warehouse folder)."""
    from tests.dagster_dev import BACKFILL_DATES, dagster_dev, landing_with
    from warehouse.partitions import ensure_snapshots

    root = tmp_path_factory.mktemp("backfill")
    landing = landing_with(root, BACKFILL_DATES)
    with dagster_dev(root, landing) as dev:
        with dev.instance() as instance:  # the sensor is off in these tests: add what it would add
            ensure_snapshots(*BACKFILL_DATES, instance=instance)
        yield dev, root / "warehouse"


def pytest_collection_modifyitems(session, config, items):
    """Modules that hold slow end-to-end tests run first: under `-n 2 --dist loadfile` (pyproject.toml) each
    module stays on one worker, and starting the longest first lets the short ones fill the other worker."""
    slow_modules = {item.module.__name__ for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.module.__name__ not in slow_modules)  # stable: file order kept within
