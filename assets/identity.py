"""Identity: every worker registration linked to one person_id, one per human."""


from datetime import date
from pathlib import Path

import dagster as dg

from assets import linkage
from assets.staging import staging_registrations
from warehouse.db import replace_rows, transaction
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse

REVIEW_DECISIONS = "review_decisions.csv"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["identity", "record_links"], group_name="identity", kinds={"duckdb"}, deps=[staging_registrations],
                     description="Which registrations belong to the same person: one person_id per human, with how "
                                 "each link was made (`nik`, `probabilistic`, `single`) and its match probability."),
        dg.AssetSpec(["identity", "review_pairs"], group_name="identity", kinds={"duckdb"}, deps=[staging_registrations],
                     description="Pairs of registrations the model is unsure about, with both records side by side "
                                 "for a person to decide (pipeline database only: it shows names, NIKs and birth "
                                 "dates). Decisions go to reference/review_decisions.csv and apply on every run."),
        dg.AssetSpec(["identity", "nik_collisions"], group_name="identity", kinds={"duckdb"},
                     deps=[staging_registrations],
                     description="NIKs carried by records of more than one person: a NIK issued twice, or one "
                                 "person's NIK mistyped into another's. Kept apart, listed for follow-up."),
    ],
    partitions_def=snapshot_partitions, pool="pipeline_db", can_subset=False,
)
def identity_record_links(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Who is who. Stage one joins registrations that carry the same trusted NIK (valid, agreeing with the record);
    stage two (Splink) links the rest (NIK missing, malformed, mistyped or disagreeing) to everyone.
    Reviewers' decisions in reference/review_decisions.csv override the model. See docs/identity.md.
    """
    snapshot_date = date.fromisoformat(context.partition_key)
    with warehouse.connect() as con:
        stats = link_snapshot(con, warehouse, snapshot_date, "staging.registrations")
    rows, reviews, collisions, methods = (stats[k] for k in ("rows", "reviews", "collisions", "methods"))
    link_metadata = {
        "dagster/row_count": rows, "registrations": stats["records"], "persons": stats["persons"],
        "identity_method": stats["method"], **{f"links_{m}": n for m, n in methods.items()},
    }
    if stats["method"] == "probabilistic":
        link_metadata |= {
            "model": stats["model"], "parameters_from": stats["estimation"],
            "parameters_stored_in": "identity.linkage_models (splink_settings: Splink's model JSON)",
            **{f"chart_{name}": dg.MetadataValue.path(path) for name, path in stats.get("charts", {}).items()},
            "look_alikes_to_review": stats["look_alikes_to_review"], "prior_two_records_match": stats["prior"],
            "accept_at_probability": stats["accept"], "pairs_scored": stats["pairs_scored"],
            "pairs_by_blocking_rule": dg.MetadataValue.json(stats["pairs_by_blocking_rule"]),
            "links_accepted": stats["links_accepted"], "nik_collisions": collisions,
            "review_pending": stats["review_pending"], "review_decisions_applied": stats["review_decided"],
            "review_decisions_not_found": stats["review_decisions_not_found"],
            "seconds": dg.MetadataValue.json(stats["seconds"]),
            "model_parameters": dg.MetadataValue.md(stats["parameters"]),
        }
    yield dg.MaterializeResult(asset_key=["identity", "record_links"], metadata=link_metadata)
    yield dg.MaterializeResult(asset_key=["identity", "review_pairs"], metadata={
        "dagster/row_count": reviews, "pending": stats.get("review_pending", 0),
        "decided": stats.get("review_decided", 0), "band": str(stats.get("review_band", ""))})
    yield dg.MaterializeResult(asset_key=["identity", "nik_collisions"], metadata={"dagster/row_count": collisions})


def link_snapshot(con, warehouse: Warehouse, snapshot_date: date, registrations: str) -> dict:
    """Resolve one snapshot's registrations (`registrations`: a table of `con`'s database shaped like
    staging.registrations) into identity.record_links, review_pairs, nik_collisions and linkage_models of the
    same database, each snapshot's rows replaced in one transaction. The model and engine are the warehouse's
    settings. Returns linkage.resolve's statistics plus the rows written ("rows", "reviews", "collisions") and
    the links per match method ("methods"). Used by the city pipeline and by the national identity step."""
    # linkage_model: a model file in reference_dir, the prior that each run re-estimates on its own records;
    # "fixed:<file>" uses the file's parameters as they are; "train" estimates from the structure's defaults.
    fixed, model_file = warehouse.linkage_model.startswith("fixed:"), warehouse.linkage_model.removeprefix("fixed:")
    options = linkage.Options(
        method=warehouse.identity_method,
        engine=warehouse.linkage_engine,  # "duckdb" or "spark": where Splink runs (docs/scaling.md)
        model_path=None if model_file == "train" else warehouse.reference / model_file,
        estimate=not fixed,
        decisions_path=warehouse.reference / REVIEW_DECISIONS,
        charts_dir=Path(warehouse.warehouse_dir) / "identity" / snapshot_date.isoformat(),  # beside the run
    )
    with linkage.workspace(con) as (work, home):
        # the snapshot's registrations, read where they are (a view: no copy of 50 million rows)
        con.execute(f"CREATE VIEW identity_input AS SELECT * FROM {home}.{registrations} "
                    f"WHERE snapshot_date = DATE '{snapshot_date.isoformat()}'")
        stats = linkage.resolve(con, "identity_input", options=options)
        con.execute(f"USE {home}")  # the results go to the pipeline's identity tables
        params = {"snapshot_date": snapshot_date}
        with transaction(con):
            stats["rows"] = replace_rows(con, "identity.record_links", snapshot_date, f"""
                SELECT CAST($snapshot_date AS DATE) AS snapshot_date, source, source_row, record_key, person_id,
                       person_nik, match_method, match_probability FROM {work}.resolved""", params)
            stats["reviews"] = replace_rows(
                con, "identity.review_pairs", snapshot_date,
                f"SELECT CAST($snapshot_date AS DATE) AS snapshot_date, * FROM {work}.review_pairs", params)
            stats["collisions"] = replace_rows(
                con, "identity.nik_collisions", snapshot_date,
                f"SELECT CAST($snapshot_date AS DATE) AS snapshot_date, * FROM {work}.nik_collisions", params)
            # the parameters behind every link of this snapshot
            replace_rows(con, "identity.linkage_models", snapshot_date,
                         f"SELECT CAST($snapshot_date AS DATE) AS snapshot_date, * FROM {work}.link_model", params)
        stats["methods"] = dict(con.execute(f"SELECT match_method, count(*) FROM {work}.resolved "
                                            "GROUP BY ALL ORDER BY 1").fetchall())
    return stats


identity_assets = [identity_record_links]
