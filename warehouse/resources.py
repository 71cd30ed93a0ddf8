"""Where things live and the secrets the pipeline needs, all from the environment."""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from warehouse import db

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEMO_PSEUDONYM_KEY = "demo-key-not-secret"


class Warehouse(dg.ConfigurableResource):
    """Paths of the landing zone, the reference data and the two DuckDB files; the pseudonym key."""

    landing_dir: str = "data/landing"
    warehouse_dir: str = "warehouse"
    reference_dir: str = str(PROJECT_DIR / "reference")
    area_code: str = "74.71"  # Kota Kendari: the area whose coverage rate is reported
    pseudonym_key: str  # secret: from JAMSOSTEK_PSEUDONYM_KEY; the demo passes DEMO_PSEUDONYM_KEY and says so
    # Identity resolution (assets/linkage.py, docs/identity.md): "probabilistic" (NIK, then Splink), or
    # "exact" (NIK only, kept for comparison). The model file lives in reference_dir; "train" fits one per run.
    identity_method: str = "probabilistic"
    linkage_model: str = "linkage_model.json"

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def reference(self) -> Path:
        return Path(self.reference_dir)

    @property
    def pipeline_db(self) -> Path:
        return Path(self.warehouse_dir) / "pipeline.duckdb"

    @property
    def analytics_db(self) -> Path:
        return Path(self.warehouse_dir) / "analytics.duckdb"

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with db.connect(self.pipeline_db, read_only=read_only) as con:
            yield con

    def pseudonym_pads(self) -> tuple[bytes, bytes]:
        """HMAC-SHA256 inner and outer padded keys, for the `hmac_sha256` SQL macro."""
        key = self.pseudonym_key.encode()
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def warehouse_from_env() -> Warehouse:
    """The resource as configured by JAMSOSTEK_* variables: plain settings have defaults, the key has none.

    The key is read when a run starts (dg.EnvVar), so the Definitions load without it and a run
    without it fails saying that JAMSOSTEK_PSEUDONYM_KEY is not set.
    """
    return Warehouse(
        landing_dir=os.environ.get("JAMSOSTEK_LANDING_DIR", "data/landing"),
        warehouse_dir=os.environ.get("JAMSOSTEK_WAREHOUSE_DIR", "warehouse"),
        reference_dir=os.environ.get("JAMSOSTEK_REFERENCE_DIR", str(PROJECT_DIR / "reference")),
        area_code=os.environ.get("JAMSOSTEK_AREA_CODE", "74.71"),
        pseudonym_key=dg.EnvVar("JAMSOSTEK_PSEUDONYM_KEY"),
        identity_method=os.environ.get("JAMSOSTEK_IDENTITY_METHOD", "probabilistic"),
    )
