"""`jamsostek run` as a person meets it: clear messages when it cannot run."""

import io
import re
import shutil

import duckdb
import pytest

from pipelines.cli import main
from pipelines.definitions import defs
from pipelines.progress import wanted
from tests.conftest import CONTRACT_SAMPLE

GOOD_KEY = "0123456789abcdef0123456789abcdef-test"


@pytest.fixture
def env(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(CONTRACT_SAMPLE, landing)
    monkeypatch.setenv("JAMSOSTEK_LANDING_DIR", str(landing))
    monkeypatch.setenv("JAMSOSTEK_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("JAMSOSTEK_DISCLOSURE_THRESHOLD", "1")  # a hand-written sample: every cell is tiny
    return tmp_path


def test_run_refuses_without_a_pseudonym_key(env, monkeypatch, capsys):
    monkeypatch.delenv("JAMSOSTEK_PSEUDONYM_KEY", raising=False)
    assert main(["run", "--date", "2025-06-08"]) == 1
    assert "JAMSOSTEK_PSEUDONYM_KEY is not set" in capsys.readouterr().err
    assert not (env / "warehouse" / "analytics.duckdb").exists()


def test_run_names_a_missing_snapshot_folder(env, monkeypatch, capsys):
    monkeypatch.setenv("JAMSOSTEK_PSEUDONYM_KEY", GOOD_KEY)
    assert main(["run", "--date", "2025-07-01"]) == 1
    err = capsys.readouterr().err
    assert "no landing folder for snapshot 2025-07-01" in err and str(env / "landing" / "2025-07-01") in err


def test_run_prints_the_summary(env, monkeypatch, capsys):
    monkeypatch.setenv("JAMSOSTEK_PSEUDONYM_KEY", GOOD_KEY)
    assert main(["run", "--date", "2025-06-08"]) == 0
    out, err = capsys.readouterr()
    assert "covered workers              4" in out and "16.67 %" in out
    assert "add up to 14, yet only 4 people are covered" in out
    assert " ok  " not in err  # stderr is not a terminal here: no progress lines


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_run_on_a_terminal_prints_each_step_as_it_ends_with_its_rows(env, monkeypatch, capsys):
    monkeypatch.setenv("JAMSOSTEK_PSEUDONYM_KEY", GOOD_KEY)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["run", "--date", "2025-06-08"]) == 0
    line = re.compile(r"^ *(\d+\.\d) s  (ok|warn|FAILED|skipped) +(\S+) +(?:([\d,]+) rows)? +(\d+\.\d) s$")
    lines = [line.match(text) for text in terminal.getvalue().splitlines() if line.match(text)]
    steps = {m.group(3): m for m in lines}
    job = defs.resolve_job_def("snapshot_job")
    assert set(steps) == {node.name.replace("__", "/") for node in job.graph.node_defs}  # every step, once
    elapsed = [float(m.group(1)) for m in lines]
    assert elapsed == sorted(elapsed) and all(m.group(2) in ("ok", "warn") for m in lines)
    analytics = env / "warehouse" / "analytics.duckdb"
    with duckdb.connect(str(analytics), read_only=True) as con:
        regions = con.execute("SELECT count(*) FROM coverage_by_region").fetchone()[0]
    assert steps["marts/coverage_by_region"].group(4) == f"{regions:,}"
    assert steps["staging/pu_workers"].group(4) == "4"
    assert steps["pu_workers_delivery_checks"].group(4) is None  # a check step writes no rows


def test_progress_only_on_a_terminal_and_not_when_quiet():
    assert wanted(quiet=False, stream=Terminal())
    assert not wanted(quiet=True, stream=Terminal())
    assert not wanted(quiet=False, stream=io.StringIO())
