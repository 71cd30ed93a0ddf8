"""The Definitions load, and their asset graph is the reviewed one (tests/data/asset_graph.json).

A structural change (an asset, a dependency, a group, a check) shows as a diff of that file. After a deliberate
change, rewrite it with `JAMSOSTEK_UPDATE_GRAPH=1 ./dev test tests/test_definitions.py` and review the diff.
"""

import json
import os
from pathlib import Path

from pipelines.definitions import defs

SNAPSHOT = Path(__file__).parent / "data" / "asset_graph.json"
# Each layer is one module of assets/, one group, and one schema as the key prefix.
LAYERS = {"reference": "reference", "ingest": "raw", "staging": "staging", "identity": "identity",
          "coverage": "marts", "publish": "publish"}


def asset_graph() -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": sorted(c.name for c in graph.asset_check_keys if c.asset_key == key),
        }
    return {"assets": assets, "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
            "schedules": sorted(s.name for s in defs.schedules or []),
            "sensors": sorted(s.name for s in defs.sensors or [])}


def test_asset_graph_is_the_reviewed_one():
    current = asset_graph()
    if os.environ.get("JAMSOSTEK_UPDATE_GRAPH"):
        SNAPSHOT.write_text(json.dumps(current, indent=1) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), (
        "the asset graph changed; if that was meant, rerun with JAMSOSTEK_UPDATE_GRAPH=1 and review the diff")


def test_module_group_and_key_prefix_agree():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        module = node.assets_def.op.compute_fn.decorated_fn.__module__
        assert module == f"assets.{node.group_name}", (key.to_user_string(), module, node.group_name)
        assert key.path[0] == LAYERS[node.group_name], (key.to_user_string(), node.group_name)


def test_every_asset_and_check_is_described():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, f"{key.to_user_string()} has no description"
    for checks_def in defs.asset_checks or []:
        for spec in checks_def.check_specs:
            assert spec.description, f"check {spec.asset_key.to_user_string()} {spec.name} has no description"
