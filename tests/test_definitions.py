"""The Definitions load, with the assets a user expects to see in the UI."""


from pipelines.definitions import defs


def test_definitions_load_with_expected_assets():
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    expected = {f"raw/{s}" for s in ("employers", "pu_workers", "bpu_participants", "jakon_projects", "jakon_workers",
                                      "opd_non_asn", "civil_registry")}
    expected |= {f"staging/{s}" for s in ("employers", "pu_workers", "bpu_participants", "jakon_projects",
                                          "jakon_workers", "civil_registry", "registrations")}
    expected |= {"reference/regions", "reference/occupation_categories", "identity/record_links", "marts/workers",
                 "marts/coverage_by_region", "marts/coverage_by_segment", "marts/segment_overlap", "marts/data_quality",
                 "publish/analytics"}
    assert expected <= keys
    assert defs.resolve_job_def("snapshot_job") is not None


def test_every_asset_has_a_description_and_a_layer_group():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key.to_user_string()} has no description"
        assert node.group_name in {"reference", "ingest", "staging", "identity", "coverage", "publish"}, key
