"""The identity layer's probabilistic linkage on Apache Spark (JAMSOSTEK_LINKAGE_ENGINE=spark).

`assets/linkage.py` writes its Splink model and its blocking SQL for DuckDB and runs them on an on-disk
scratch DuckDB database by default. With the Spark engine its seam `_splink` gets its linker here instead: the same model
and the same blocking, on a Spark session, through Splink's Spark backend. What this module does:

- the session: the active one if there is one (a cluster job, a test), else one built from
  JAMSOSTEK_SPARK_MASTER (default `local[*]`, bound to the loopback address, no UI) with Splink's
  similarity jar (Jaro-Winkler, Damerau-Levenshtein). A cluster's own settings go in spark-defaults.conf;
- the model's SQL and the linkage's own SQL, written for DuckDB, transpiled by sqlglot (as Splink itself
  does), with the few DuckDB functions Spark lacks written out (`to_spark_sql`);
- data in and out through Parquet files in a spool folder (JAMSOSTEK_SPARK_SPOOL_DIR; on a cluster, a
  folder every executor sees): the pipeline's DuckDB writes the records there (`COPY ... TO`), and reads
  results back from Parquet written by Spark (`read_parquet`): no table passes through Python;
- `SparkConnection`: the few calls the linkage makes on its engine connection (`execute`, `sql`,
  `close`) for Spark.

No Dagster assets here; nothing imports pyspark unless the Spark engine is chosen.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

MASTER_VAR = "JAMSOSTEK_SPARK_MASTER"
SPOOL_VAR = "JAMSOSTEK_SPARK_SPOOL_DIR"
SHUFFLE_VAR = "JAMSOSTEK_SPARK_SHUFFLE_PARTITIONS"
DRIVER_MEMORY_VAR = "JAMSOSTEK_SPARK_DRIVER_MEMORY"
BREAK_LINEAGE_VAR = "JAMSOSTEK_SPARK_BREAK_LINEAGE"
LOCAL_SHUFFLE_PARTITIONS = 8  # Spark's default 200 is for clusters: on one machine each costs a task per step


def available() -> str | None:
    """None when the Spark engine can run here, else why not (for a message or a test's skip)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed: `uv sync --extra spark` (or JAMSOSTEK_EXTRAS=spark ./dev ...)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime: install one (Debian: apt-get install default-jre-headless)"
    return None


def session():
    """The active Spark session, else a new one from JAMSOSTEK_SPARK_* (local: loopback only, no UI)."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    master = os.environ.get(MASTER_VAR, "local[*]")
    builder = (SparkSession.builder.appName("jamsostek-linkage").master(master)
               .config("spark.jars", similarity_jar_location())
               .config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false"))
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # read by the JVM at start: nothing listens elsewhere
        builder = (builder.config("spark.ui.enabled", "false")
                   .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
                   .config("spark.sql.shuffle.partitions", os.environ.get(SHUFFLE_VAR, LOCAL_SHUFFLE_PARTITIONS))
                   .config("spark.local.dir", str(_spool_root())))
    if os.environ.get(DRIVER_MEMORY_VAR):
        builder = builder.config("spark.driver.memory", os.environ[DRIVER_MEMORY_VAR])
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _spool_root() -> Path:
    root = Path(os.environ.get(SPOOL_VAR) or Path(tempfile.gettempdir()) / "jamsostek-spark")
    root.mkdir(parents=True, exist_ok=True)
    return root


# --- SQL: DuckDB's dialect to Spark's -------------------------------------------------------------

def _hamming(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """Positions where two strings differ (both non-null, as DuckDB's `hamming`, which refuses unequal lengths)."""
    a_sql, b_sql = a.sql("spark"), b.sql("spark")
    return sqlglot.parse_one(
        f"CASE WHEN {a_sql} IS NOT NULL AND {b_sql} IS NOT NULL AND length({a_sql}) = length({b_sql}) THEN "
        f"size(filter(sequence(1, length({a_sql})), i -> substr({a_sql}, i, 1) <> substr({b_sql}, i, 1))) END",
        read="spark")


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.CTE):
        node.set("materialized", None)  # DuckDB's hint; Spark plans CTEs itself
    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])  # Splink's jar
    if isinstance(node, exp.Anonymous):
        name, args = node.name.lower(), node.expressions
        if name == "hash":  # 64 bits, as DuckDB's: Spark's `hash` has 32 and would merge blocks at scale
            return exp.Anonymous(this="xxhash64", expressions=args)
        if name == "hamming":
            return _hamming(*args)
        if name == "list_has_all":  # every element of the second list is in the first
            return sqlglot.parse_one(f"size(array_except({args[1].sql('spark')}, {args[0].sql('spark')})) = 0",
                                     read="spark")
    return node


def to_spark_sql(sql: str) -> str:
    """A DuckDB statement or condition of the linkage, in Spark SQL."""
    return sqlglot.parse_one(sql, read="duckdb").transform(_rewrite).sql("spark")


def spark_model(model: dict) -> dict:
    """Splink settings written for DuckDB (the model file), with every comparison level's SQL in Spark's."""
    if model.get("sql_dialect") == "spark":
        return model
    model = copy.deepcopy(model)
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level["sql_condition"].strip().upper() != "ELSE":
                level["sql_condition"] = to_spark_sql(level["sql_condition"])
    model["sql_dialect"] = "spark"
    return model


# --- the engine ------------------------------------------------------------------------------------

def splink(con: duckdb.DuckDBPyConnection, select: str, model: dict):
    """(linker_on, db_api, connection, splink version) on Spark: the rows of `select` (a query on the pipeline
    connection `con`) as view `records`, through a Parquet file that DuckDB writes; `linker_on(view)`: a linker
    with `model` on that view or another of the session."""
    import splink as splink_package
    from splink import Linker, SparkAPI

    logging.getLogger("py4j").setLevel(logging.ERROR)
    spark_con = SparkConnection(session())
    spark = spark_con.spark
    # Splink breaks the lineage of its intermediate tables: on one machine by caching them (memory, then local
    # disk), on a cluster by writing Parquet to the spool (JAMSOSTEK_SPARK_BREAK_LINEAGE overrides)
    local = spark.sparkContext.master.startswith("local")
    method = os.environ.get(BREAK_LINEAGE_VAR) or ("persist" if local else "parquet")
    spark.sparkContext.setCheckpointDir(str(spark_con.spool / "checkpoints"))
    db_api = SparkAPI(spark_session=spark, break_lineage_method=method)
    path = spark_con.spool / "records.parquet"
    con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 100000)")
    spark.read.parquet(str(path)).createOrReplaceTempView("records")
    spark_con.views.add("records")
    settings = spark_model(model)
    return (lambda view: Linker(db_api.register(view, table_name=view), settings, log_level=None),
            db_api, spark_con, splink_package.__version__)


CREATE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(TABLE|VIEW)\s+(\w+)\s+AS\s+(.*)$",
                    re.IGNORECASE | re.DOTALL)


class SparkConnection:
    """What the linkage asks of its engine connection (`execute`, `sql`, `export`, `close`), on a Spark session.

    Statements are DuckDB SQL, transpiled. `CREATE TABLE x AS ...` is written to Parquet in the spool and
    read back as temp view x (lineage broken, as Splink does); `CREATE VIEW` is a temp view. `export(x)`:
    table x for DuckDB to read. `close` drops the views and the spool (read what was exported before it).
    """

    def __init__(self, spark):
        self.spark = spark
        self.spool = _spool_root() / f"linkage-{uuid.uuid4().hex}"
        self.spool.mkdir(parents=True)
        self.views: set[str] = set()

    def execute(self, sql: str, parameters=None) -> "SparkResult | None":
        if parameters:
            raise NotImplementedError("the Spark engine takes no query parameters")
        created = CREATE.match(sql)
        if created is None:
            return self.sql(sql)
        kind, name, select = created.groups()
        frame = self.spark.sql(to_spark_sql(select))
        if kind.upper() == "TABLE":
            path = str(self.spool / f"{name}.parquet")
            frame.write.mode("overwrite").parquet(path)
            frame = self.spark.read.parquet(path)
        frame.createOrReplaceTempView(name)
        self.views.add(name)
        return None

    def sql(self, sql: str) -> "SparkResult":
        return SparkResult(self.spark.sql(to_spark_sql(sql)))

    def export(self, name: str) -> str:
        """Table or view `name` as a DuckDB table expression: Parquet files in the spool, written by Spark."""
        folder = self.spool / f"export-{name}-{uuid.uuid4().hex}"
        self.spark.table(name).write.parquet(str(folder))
        return f"read_parquet('{folder}/*.parquet')"

    def close(self) -> None:
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        for table in self.spark.catalog.listTables():  # Splink's own intermediate tables of this linker
            if table.isTemporary and table.name.startswith("__splink__"):
                self.spark.table(table.name).unpersist()  # cached when lineage is broken by persisting
                self.spark.catalog.dropTempView(table.name)
        shutil.rmtree(self.spool, ignore_errors=True)


class SparkResult:
    """A Spark query's result: small ones collected (counts by rule)."""

    def __init__(self, frame):
        self.frame = frame

    def fetchall(self) -> list[tuple]:
        return [tuple(row) for row in self.frame.collect()]
