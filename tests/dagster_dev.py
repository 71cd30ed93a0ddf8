"""`dagster dev` as a user starts it (workspace.yaml, the project's dagster.yaml in a fresh DAGSTER_HOME), on
loopback, for the end-to-end tests; GraphQL helpers; the run history read back from the instance; a landing zone
of the contract sample delivered on several dates."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

import dagster as dg
import requests

from tests.conftest import CONTRACT_SAMPLE, SAMPLE_DATE, TEST_KEY

PROJECT = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).with_name("dagster")
LOCK_ERRORS = ("Could not set lock", "Conflicting lock")


@dataclass
class DagsterDev:
    url: str
    home: Path
    log: Path

    def gql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=timeout)
        if response.status_code != 200:
            raise RuntimeError(f"GraphQL answered {response.status_code}: {response.text[:2000]}")
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(json.dumps(body["errors"])[:2000])
        return body["data"]

    def launch_backfill(self, partitions: list[str], assets: list[list[str]] | None = None,
                        run_config: dict | None = None) -> str:
        """An asset backfill, as the UI's Materialize dialog launches one; every asset when `assets` is None."""
        if assets is None:
            assets = [n["assetKey"]["path"] for n in self.gql("{ assetNodes { assetKey { path } } }")["assetNodes"]]
        params = {"partitionNames": partitions, "assetSelection": [{"path": a} for a in assets]}
        if run_config is not None:
            params["runConfigData"] = run_config
        result = self.gql("""mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
            __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message stack }
            ... on PartitionKeysNotFoundError { message } } }""", {"p": params})["launchPartitionBackfill"]
        assert result["__typename"] == "LaunchBackfillSuccess", result
        return result["backfillId"]

    def wait_for_backfill(self, backfill_id: str, timeout: float) -> str:
        """The backfill's final status (COMPLETED_SUCCESS, COMPLETED_FAILED, ...); fails the test after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.backfill_status(backfill_id)
            if status not in ("REQUESTED", "CANCELING", "FAILING"):
                return status
            time.sleep(2)
        raise TimeoutError(f"backfill {backfill_id} still {status} after {timeout:.0f} s; see {self.log}")

    def backfill_status(self, backfill_id: str) -> str:
        return self.gql("""query($id: String!) { partitionBackfillOrError(backfillId: $id) {
            ... on PartitionBackfill { status } } }""", {"id": backfill_id})["partitionBackfillOrError"]["status"]

    def instance(self) -> dg.DagsterInstance:
        """The server's own instance (SQLite under DAGSTER_HOME), read from the test process."""
        return dg.DagsterInstance.from_config(str(self.home))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dagster_environment(root: Path, landing: Path) -> dict[str, str]:
    """A fresh DAGSTER_HOME under `root` holding the project's dagster.yaml, and the environment that points
    Dagster at it and the pipeline at `landing` and `root/warehouse`."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    return {**os.environ, "DAGSTER_HOME": str(home), "JAMSOSTEK_LANDING_DIR": str(landing),
            "JAMSOSTEK_WAREHOUSE_DIR": str(root / "warehouse"), "JAMSOSTEK_PSEUDONYM_KEY": TEST_KEY}


@contextmanager
def dagster_dev(root: Path, landing: Path, *, startup_timeout: float = 240) -> Iterator[DagsterDev]:
    """Start `dagster dev` from the project folder with a temporary DAGSTER_HOME holding the project's
    dagster.yaml; stop it, and every process it started, whatever happens."""
    # the tests launch their own runs; the sensor would add more
    env = {**dagster_environment(root, landing), "JAMSOSTEK_AUTOMATION": "off"}
    home = Path(env["DAGSTER_HOME"])
    log = root / "dagster_dev.log"
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                                cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = DagsterDev(f"http://127.0.0.1:{port}", home, log)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dagster dev exited with {proc.returncode}; see {log}")
            try:
                nodes = server.gql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }",
                                   timeout=10)["repositoriesOrError"].get("nodes")
                if nodes:
                    break
            except (requests.RequestException, RuntimeError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"dagster dev did not answer within {startup_timeout:.0f} s; see {log}")
            time.sleep(1)
        yield server
    finally:
        _stop(proc, home)


def _stop(proc: subprocess.Popen, home: Path) -> None:
    """SIGTERM the process group, then SIGKILL what is left of it and of anything else started for this home."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        pass
    for pid in [proc.pid, *_processes_of(home)]:
        try:
            os.killpg(pid, signal.SIGKILL) if pid == proc.pid else os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _processes_of(home: Path) -> list[int]:
    """Processes whose environment names this DAGSTER_HOME: the server's, its run workers and their steps."""
    marker = f"DAGSTER_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def step_intervals(instance: dg.DagsterInstance, run_ids: list[str]) -> list[tuple[float, float, str, str]]:
    """(start, end, run_id, step_key) of every step that ran, from the runs' event logs."""
    intervals = []
    for run_id in run_ids:
        started = {}
        for record in instance.all_logs(run_id):
            event = record.dagster_event
            if event is None or record.step_key is None:
                continue
            if event.event_type_value == "STEP_START":
                started[record.step_key] = record.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and record.step_key in started:
                intervals.append((started.pop(record.step_key), record.timestamp, run_id, record.step_key))
    return sorted(intervals)


def lock_errors(instance: dg.DagsterInstance, run_ids: list[str]) -> list[str]:
    """Every event message or error in these runs that is DuckDB's lock conflict."""
    found = []
    for run_id in run_ids:
        for record in instance.all_logs(run_id):
            text = record.user_message or ""
            event = record.dagster_event
            error = getattr(event.event_specific_data, "error", None) if event else None
            if error is not None:
                text += error.to_string()
            if any(marker in text for marker in LOCK_ERRORS):
                found.append(f"{run_id} {record.step_key}: {text[:300]}")
    return found


def landing_with(root: Path, dates: list[date]) -> Path:
    """The contract sample delivered on each of `dates` (its registry files cover 2024-12-31 and 2025-06-30)."""
    landing = root / "landing"
    shutil.copytree(CONTRACT_SAMPLE / "civil_registry", landing / "civil_registry")
    for d in dates:
        shutil.copytree(CONTRACT_SAMPLE / SAMPLE_DATE.isoformat(), landing / d.isoformat())
    return landing


def assert_one_writer_at_a_time(instance: dg.DagsterInstance, run_ids: list[str]):
    """No DuckDB lock error in these runs, and no step started before the one before it had finished."""
    assert lock_errors(instance, run_ids) == []
    intervals = step_intervals(instance, run_ids)
    assert intervals
    for (start, end, run, step), (next_start, _, next_run, next_step) in zip(intervals, intervals[1:]):
        assert end <= next_start, f"{run}/{step} still running when {next_run}/{next_step} started"
    return intervals


# --- the snapshots of the backfill modules (their `dagster dev`: the `server` fixture, tests/conftest.py) -----

BACKFILL_DATES = [date(2025, 1, 1) + timedelta(days=i) for i in range(30)]


def backfill_runs(dev, backfill_id: str) -> list[dg.DagsterRun]:
    with dev.instance() as instance:
        return instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
