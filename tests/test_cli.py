"""`jamsostek run` as a person meets it: clear messages when it cannot run."""

import shutil

import pytest

from pipelines.cli import main
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
    out = capsys.readouterr().out
    assert "covered workers              4" in out and "16.67 %" in out
    assert "add up to 14, yet only 4 people are covered" in out
