"""No NIK, KPJ, name or exact birth date reaches either published tier."""

from tests.conftest import SAMPLE_DATE
from tests.privacy import leaks, personal_values


def test_analytics_holds_no_personal_data(contract_run):
    personal = personal_values(contract_run.landing / SAMPLE_DATE.isoformat())
    assert {"7471010505900001", "K001", "La Ode Rahman", "1990-05-05"} <= personal  # the scan looks for real values
    assert leaks(contract_run.analytics_db, personal) == []
    assert leaks(contract_run.restricted_db, personal) == []


def test_the_scan_finds_a_leak(contract_run, tmp_path):
    """The scan itself can fail: a copy with one NIK and one name written into it is caught."""
    import shutil

    import duckdb

    leaky = tmp_path / "leaky.duckdb"
    shutil.copy(contract_run.restricted_db, leaky)
    leaky.chmod(0o644)  # published read-only
    with duckdb.connect(str(leaky)) as con:
        con.execute("UPDATE workers SET segments = 'La Ode Rahman' WHERE person_key = (SELECT min(person_key) FROM workers)")
        con.execute("UPDATE record_links SET match_method = 'x 7471010505900001' WHERE source_row = 1")
    found = {(t, c) for t, c, _ in leaks(leaky, personal_values(contract_run.landing / SAMPLE_DATE.isoformat()))}
    assert found == {("workers", "segments"), ("record_links", "match_method")}
