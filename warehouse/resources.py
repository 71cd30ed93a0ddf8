"""Where things live and the secrets the pipeline needs, all from the environment."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from warehouse import db
from warehouse.lock import writer_lock

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEMO_PSEUDONYM_KEY = "demo-key-not-secret"
MIN_KEY_BYTES = 32  # HMAC-SHA256 keys shorter than its output are guessable; 32 random bytes are not
REGIONS_FILE = "regions_sultra.csv"
IDENTITY_METHODS = ("probabilistic", "exact")
LINKAGE_ENGINES = ("duckdb", "spark")


class BadSetting(ValueError):
    """A setting that cannot work; the message names the environment variable and what to put there."""


def check_pseudonym_key(key: str | None) -> None:
    """Refuse an empty key, the published demo key and keys shorter than 32 bytes (for real runs)."""
    if not key:
        raise BadSetting("JAMSOSTEK_PSEUDONYM_KEY is not set: export a secret key for the pseudonyms (32 bytes or "
                         "more, e.g. `openssl rand -hex 32`; for a trial, `jamsostek demo` uses a fixed demo key).")
    if key == DEMO_PSEUDONYM_KEY:
        raise BadSetting("JAMSOSTEK_PSEUDONYM_KEY is the published demo key: anyone can reverse its pseudonyms. "
                         "Use a secret key of 32 bytes or more (e.g. `openssl rand -hex 32`).")
    if len(key.encode()) < MIN_KEY_BYTES:
        raise BadSetting(f"JAMSOSTEK_PSEUDONYM_KEY has {len(key.encode())} bytes; use at least {MIN_KEY_BYTES} "
                         "(e.g. `openssl rand -hex 32`): a short key can be guessed and the pseudonyms reversed.")


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
    # Where Splink scores pairs: "duckdb" (in memory, default) or "spark" (the `spark` extra and Java; the
    # session from JAMSOSTEK_SPARK_MASTER, assets/spark_engine.py, docs/scaling.md). Same model, same links.
    linkage_engine: str = "duckdb"
    # Open tier (analytics.duckdb): a cell counting fewer people than this is suppressed (docs/operations.md).
    disclosure_threshold: int = 5
    # A run that finds another process writing this warehouse waits this long for it, then fails naming it.
    lock_wait_seconds: float = 0

    def validate(self) -> None:
        """Fail at start, naming the setting, when a setting cannot work (run start, `jamsostek run`)."""
        self.check_area(f"JAMSOSTEK_AREA_CODE={self.area_code!r}")
        if self.identity_method not in IDENTITY_METHODS:
            raise BadSetting(f"JAMSOSTEK_IDENTITY_METHOD={self.identity_method!r}: use one of {', '.join(IDENTITY_METHODS)}.")
        if self.linkage_engine not in LINKAGE_ENGINES:
            raise BadSetting(f"JAMSOSTEK_LINKAGE_ENGINE={self.linkage_engine!r}: use one of {', '.join(LINKAGE_ENGINES)}.")
        if self.linkage_engine == "spark" and importlib.util.find_spec("pyspark") is None:
            raise BadSetting("JAMSOSTEK_LINKAGE_ENGINE=spark needs the `spark` extra (`uv sync --extra spark`; "
                             "./dev: JAMSOSTEK_EXTRAS=spark) and a Java runtime (docs/scaling.md).")
        if self.disclosure_threshold < 1:
            raise BadSetting(f"JAMSOSTEK_DISCLOSURE_THRESHOLD={self.disclosure_threshold}: use a whole number, 1 or more.")

    def check_area(self, named: str, unlisted: str = "") -> None:
        """Raise BadSetting, beginning with `named` (the setting the area came from), unless `area_code` is a
        regency of the regions reference: the rate is a regency's, its districts and villages roll up to it.
        `unlisted`: a sentence added when the reference does not list the code at all."""
        regions = self.reference / REGIONS_FILE
        if not regions.is_file():
            raise BadSetting(f"JAMSOSTEK_REFERENCE_DIR={self.reference_dir}: no {REGIONS_FILE} there.")
        with regions.open(newline="", encoding="utf-8") as f:
            levels = {row["code"]: row["level"] for row in csv.DictReader(f)}
        if self.area_code not in levels:
            raise BadSetting(f"{named} is not a region code of {regions} "
                             "(dotted Kepmendagri code, e.g. 74.71 for Kota Kendari)." + (f" {unlisted}" if unlisted else ""))
        if levels[self.area_code] != "regency":
            raise BadSetting(f"{named} is a {levels[self.area_code]}; give the code of a "
                             "regency or city (kabupaten/kota), e.g. 74.71 for Kota Kendari.")

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["Warehouse"]:
        """In a run: validate the settings, take the warehouse's writer lock and hold the pipeline database open
        (`db.hold`: the steps' connections share it) until the run ends (in each step's process, for a
        multiprocess run).

        Outside a run (a sensor or schedule evaluating) neither: they only read the landing zone.
        """
        run_id = context.run.run_id if context.run else None
        if run_id is None:
            yield self
            return
        self.validate()
        with writer_lock(Path(self.warehouse_dir), run_id=run_id, wait_seconds=self.lock_wait_seconds,
                         command=f"Dagster run {run_id}"), db.hold(self.pipeline_db):
            yield self

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
        """The open tier: aggregates only, small cells suppressed."""
        return Path(self.warehouse_dir) / "analytics.duckdb"

    @property
    def restricted_db(self) -> Path:
        """The restricted tier: person-level rows under keyed pseudonyms, for authorised staff."""
        return Path(self.warehouse_dir) / "analytics_restricted.duckdb"

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with db.connect(self.pipeline_db, read_only=read_only) as con:
            yield con

    def environment(self) -> dict[str, str]:
        """These settings as the JAMSOSTEK_* variables `warehouse_from_env` reads: for a `jamsostek run` in
        another process (a province of the national deployment) that must run exactly this warehouse."""
        def absolute(path: str) -> str:  # the other process may start in another folder
            return str(Path(path).resolve())

        return {"JAMSOSTEK_LANDING_DIR": absolute(self.landing_dir),
                "JAMSOSTEK_WAREHOUSE_DIR": absolute(self.warehouse_dir),
                "JAMSOSTEK_REFERENCE_DIR": absolute(self.reference_dir), "JAMSOSTEK_AREA_CODE": self.area_code,
                "JAMSOSTEK_PSEUDONYM_KEY": self.pseudonym_key, "JAMSOSTEK_IDENTITY_METHOD": self.identity_method,
                "JAMSOSTEK_LINKAGE_MODEL": self.linkage_model, "JAMSOSTEK_LINKAGE_ENGINE": self.linkage_engine,
                "JAMSOSTEK_DISCLOSURE_THRESHOLD": str(self.disclosure_threshold)}

    def pseudonym_pads(self) -> tuple[bytes, bytes]:
        """HMAC-SHA256 inner and outer padded keys, for the `hmac_sha256` SQL macro."""
        key = self.pseudonym_key.encode()
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


class NationalWarehouse(Warehouse):
    """The national deployment's warehouse (assets/national.py): `landing_dir` holds one landing zone per
    province (`<code>/`), `warehouse_dir` one warehouse per province (`provinces/<code>/`) and national.duckdb.

    Unlike a city run's, its resource neither locks the folder nor holds a database for the whole run: the
    province steps go on at once, each `jamsostek run` locking its own province's folder; the national steps take
    the folder's writer lock themselves around their writes to national.duckdb, and each province's while they
    read its database. `jamsostek national` (pipelines.national.run_national) holds the folder's lock throughout."""

    # Which regency's rate each province's run reports ("74=74.71,73=73.71"): a province run is a city-style run
    # with an area. A province not listed reports `area_code` when that regency is in it, else it is refused.
    province_areas: str = ""

    def areas(self) -> dict[str, str]:
        """JAMSOSTEK_PROVINCE_AREAS as {province code: regency code}. Raises BadSetting naming the variable and
        the item when an item is not `<two-digit province>=<regency code>` or a province is given twice."""
        areas: dict[str, str] = {}
        for item in filter(None, (i.strip() for i in self.province_areas.split(","))):
            code, sign, area = (part.strip() for part in item.partition("="))
            if not (sign and re.fullmatch(r"\d{2}", code) and re.fullmatch(r"\d{2}\.\d{2}", area)):
                raise BadSetting(f"JAMSOSTEK_PROVINCE_AREAS={self.province_areas!r}: {item!r} is not <two-digit "
                                 "province>=<regency code>; write them comma-separated, e.g. 74=74.71,73=73.71.")
            if code in areas:
                raise BadSetting(f"JAMSOSTEK_PROVINCE_AREAS={self.province_areas!r}: province {code} is given twice "
                                 f"({areas[code]} and {area}); give each province one regency.")
            areas[code] = area
        return areas

    def area_of(self, province: str) -> str:
        """The area code a province's run reports. Raises BadSetting naming JAMSOSTEK_PROVINCE_AREAS when the
        province has none (a run of another province's data under Kendari's area would report nobody covered)."""
        areas = self.areas()
        if province in areas:
            return areas[province]
        if self.area_code.split(".")[0] == province:
            return self.area_code
        raise BadSetting(f"which regency's coverage rate should its run report? Add it to "
                         f"JAMSOSTEK_PROVINCE_AREAS (e.g. {province}=<regency code of province {province}>); the "
                         f"regions reference ({REGIONS_FILE}) must list it.")

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["NationalWarehouse"]:
        if context.run is not None:
            self.validate()
        yield self


def warehouse_from_env(kind: type[Warehouse] = Warehouse, **settings) -> Warehouse:
    """The resource as configured by JAMSOSTEK_* variables: plain settings have defaults, the key has none.

    The key is read when a run starts (dg.EnvVar), so the Definitions load without it and a run
    without it fails saying that JAMSOSTEK_PSEUDONYM_KEY is not set.
    """
    return kind(
        landing_dir=os.environ.get("JAMSOSTEK_LANDING_DIR", "data/landing"),
        warehouse_dir=os.environ.get("JAMSOSTEK_WAREHOUSE_DIR", "warehouse"),
        reference_dir=os.environ.get("JAMSOSTEK_REFERENCE_DIR", str(PROJECT_DIR / "reference")),
        area_code=os.environ.get("JAMSOSTEK_AREA_CODE", "74.71"),
        pseudonym_key=dg.EnvVar("JAMSOSTEK_PSEUDONYM_KEY"),
        identity_method=os.environ.get("JAMSOSTEK_IDENTITY_METHOD", "probabilistic"),
        linkage_engine=os.environ.get("JAMSOSTEK_LINKAGE_ENGINE", "duckdb"),
        linkage_model=os.environ.get("JAMSOSTEK_LINKAGE_MODEL", "linkage_model.json"),
        disclosure_threshold=_whole_number("JAMSOSTEK_DISCLOSURE_THRESHOLD", 5),
        **settings,
    )


def national_warehouse_from_env(**settings) -> NationalWarehouse:
    """The national deployment's resource: the same JAMSOSTEK_* variables, and JAMSOSTEK_PROVINCE_AREAS."""
    return warehouse_from_env(NationalWarehouse, province_areas=os.environ.get("JAMSOSTEK_PROVINCE_AREAS", ""),
                              **settings)


def _whole_number(variable: str, default: int) -> int:
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise BadSetting(f"{variable}={value!r}: use a whole number.") from None
