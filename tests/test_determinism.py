"""Same snapshot, same tables: two runs of a generated sample at DuckDB threads 1 and 2 give identical
digests of every analytics table and of identity.record_links (ties in mode(), any_value(), arg_min or a
window without a total order would show here)."""

import duckdb
import pytest

from pipelines.cli import run_snapshot
from sample.generator import generate
from tests.conftest import SAMPLE_DATE, make_warehouse


def _digests(path, tables=None) -> dict[str, tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = tables or [f"{s}.{t}" for s, t in con.execute(  # publication: an id made of the time and a uuid
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE table_name <> 'publication' "
            "ORDER BY ALL").fetchall()]
        # order-free: a sum of row hashes (exact for integers) and the row count
        return {n: con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {n} t").fetchall()[0] for n in names}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("determinism")
    generate(root / "landing", root / "truth", SAMPLE_DATE, seed=5, scale=0.03)
    connect = duckdb.connect
    out = {}
    for threads in (1, 2):
        def with_threads(database=":memory:", read_only=False, config=None, **kw):
            return connect(database, read_only=read_only, config={**(config or {}), "threads": threads}, **kw)
        monkeypatch_module.setattr(duckdb, "connect", with_threads)
        warehouse = make_warehouse(root / "landing", root / f"warehouse_{threads}")
        run_snapshot(warehouse, SAMPLE_DATE)
        monkeypatch_module.setattr(duckdb, "connect", connect)
        out[threads] = {**_digests(warehouse.analytics_db),
                        **_digests(warehouse.pipeline_db, ["identity.record_links", "identity.review_pairs",
                                                          "identity.linkage_models"])}
    return out


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_every_analytics_table_is_the_same_at_one_and_two_threads(runs):
    assert len(runs[1]) > 5 and runs[1].keys() == runs[2].keys()
    differ = {name: (runs[1][name], runs[2][name]) for name in runs[1] if runs[1][name] != runs[2][name]}
    assert differ == {}
