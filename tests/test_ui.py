"""The Dagster UI as a person uses it: `dagster dev` from workspace.yaml, headless Chromium to the asset graph,
"Materialize all" over the snapshot partitions (exactly the delivered folders), the backfill watched to success;
screenshots saved on the way."""

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.browser import chromium, chromium_path
from tests.conftest import CONTRACT_SAMPLE, SAMPLE_DATE
from tests.dagster_dev import PROJECT, dagster_dev

DATES = [SAMPLE_DATE + timedelta(days=i) for i in range(3)]  # 2025-06-08 ... 2025-06-10


@pytest.fixture
def artifacts(tmp_path) -> Path:
    """Screenshots go to $JAMSOSTEK_TEST_ARTIFACTS when set (CI keeps them), else beside the test's files."""
    folder = Path(os.environ.get("JAMSOSTEK_TEST_ARTIFACTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow
def test_backfill_of_three_snapshots_from_the_asset_graph(tmp_path, artifacts):
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    landing = tmp_path / "landing"
    shutil.copytree(CONTRACT_SAMPLE / "civil_registry", landing / "civil_registry")
    for d in DATES:
        shutil.copytree(CONTRACT_SAMPLE / SAMPLE_DATE.isoformat(), landing / d.isoformat())

    (landing / "2099-01-01").mkdir()  # dated in the future: not a partition yet

    with dagster_dev(tmp_path, landing) as dev, chromium(tmp_path / "chromium-profile", tmp_path / "chromium.log") as page:
        seen = []  # what the page showed at each screenshot
        # the sensor is off in tests: register the delivered folders as an operator would after upgrading
        env = {**os.environ, "DAGSTER_HOME": str(dev.home), "JAMSOSTEK_LANDING_DIR": str(landing)}
        registered = subprocess.run([sys.executable, "-m", "pipelines.cli", "snapshots"], cwd=PROJECT, env=env,
                                    capture_output=True, text=True, timeout=300)
        assert registered.returncode == 0, registered.stderr
        assert f"3 snapshot partitions in {dev.home}: {', '.join(d.isoformat() for d in DATES)}" in registered.stdout

        def snap(name: str) -> None:
            seen.append(page.text())
            page.screenshot(artifacts / name)

        page.goto(f"{dev.url}/asset-groups")
        page.wait_for_text("Global asset lineage", timeout=180)
        page.wait_for_text("Materialize all", timeout=120)
        page.wait_for("document.querySelectorAll('[data-testid=asset-node], [class*=AssetNode], svg').length > 0",
                      timeout=60, what="the asset graph")
        snap("1-asset-graph.png")

        page.click_text("Materialize all", prefix=True)
        page.wait_for_text("Launch runs to materialize", timeout=60)
        # dynamic partitions: the dialog offers All / Failed / Missing / Failed and missing / Custom (a picker of
        # the partitions, opened on Custom with none picked); All is every delivered snapshot, nothing else
        page.wait_for_text("Partition selection", timeout=60)
        page.click_text("All", selector="div[role=dialog] button")
        page.wait_for_text("3 partitions", timeout=60)
        snap("2-launch-backfill-dialog.png")
        dialog = page.text()
        assert all(d.isoformat() in dialog for d in DATES) and "2099-01-01" not in dialog
        page.click_text("Launch backfill")

        backfills = []
        deadline = time.monotonic() + 60
        while not backfills and time.monotonic() < deadline:
            backfills = dev.gql("{ partitionBackfillsOrError(limit: 5) { ... on PartitionBackfills { results { id "
                                "partitionNames } } } }")["partitionBackfillsOrError"]["results"]
            time.sleep(1)
        assert len(backfills) == 1, f"the dialog did not launch one backfill; the page shows {page.text()[:1000]}"
        backfill = backfills[0]["id"]
        assert sorted(backfills[0]["partitionNames"]) == [d.isoformat() for d in DATES]
        snap("3-backfill-launched.png")

        page.goto(f"{dev.url}/runs/b/{backfill}?tab=partitions")
        page.wait_for_text(backfill, timeout=60)
        status = dev.wait_for_backfill(backfill, timeout=900)
        page.goto(f"{dev.url}/runs/b/{backfill}?tab=partitions")
        page.wait_for_text("Succeeded", timeout=120)
        snap("4-backfill-completed.png")
    assert status == "COMPLETED_SUCCESS", f"see {dev.log}"
    # dagster.yaml turns Dagster's newsletter prompt off: it took the focus from the partition field
    assert not any("Join the Dagster community" in text for text in seen)

    with duckdb.connect(str(tmp_path / "warehouse" / "analytics.duckdb"), read_only=True) as con:
        published = [d for (d,) in con.execute("SELECT snapshot_date FROM snapshots ORDER BY 1").fetchall()]
    assert published == DATES
    assert all((artifacts / name).stat().st_size > 10_000 for name in
               ("1-asset-graph.png", "2-launch-backfill-dialog.png", "4-backfill-completed.png"))
