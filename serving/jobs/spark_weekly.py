"""The weekly job on Spark: the same computation as ``serving.jobs.weekly.run_week``, partitioned
by township, for a province or the country.

Steps:
1. On the driver, exactly as the single-machine job: read + validate the week's export (quarantine)
   and append it to the Parquet history under ``FANPIN_HOME/history/`` (the path Spark reads; on a
   cluster FANPIN_HOME is shared storage).
2. Spark reads the history Parquet, keeps each household's row valid at the cutoff to learn its
   township, tags every row of every table with that township and hash-partitions by it. A whole
   township is then in one partition, so the village and township context features, the
   watch list's per-township capacity and the township rank come out exactly as on one machine.
3. ``mapInArrow`` per partition: ``build_household_frame`` -> the scoring core
   (``serving.core.scoring.score_week``: risk, level, rules, watch list) -> batch TreeSHAP
   explanations of the watch list (``serving.weekly.explaining``), the very functions the single-machine
   job calls.
4. The county-wide rank by probability is a Spark window; scores, explanations and the watch list
   are written as Parquet under ``<out>/<week>/``; the run's summary is published to the store.

pyspark is an optional extra (``pip install fanpin[spark]``) and is imported only in functions.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from features.weeks import Week
from serving.core.scoring import Previous
from serving.settings import Settings

TABLE_NAMES = ("households", "members", "income_surveys", "events", "outcomes")
PART = "_part"
TAG = "_table"
SEP = "__"
SCORE_SCHEMA = (
    "household_id string, township string, village string, probability double, level string, "
    "township_rank long, change double, on_watchlist boolean, flag_new boolean, flag_rising boolean, "
    "flag_rule boolean, under_monitoring boolean, rules_triggered boolean, criteria_met string, "
    "top_reason_zh string, top_reason_en string, reasons string, explanation string"
)


def spark_master(master: str | None = None) -> str:
    """``--master``, else ``SPARK_MASTER``, else ``local[*]``."""
    return master or os.environ.get("SPARK_MASTER") or "local[*]"


def spark_session(master: str | None = None, partitions: int | None = None):
    """A Spark session; on a local master everything stays on 127.0.0.1 with no web UI."""
    from pyspark.sql import SparkSession

    master = spark_master(master)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName("fanpin-weekly")
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (builder.config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.ui.enabled", "false"))
    builder = (builder.config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.legacy.parquet.nanosAsLong", "true")
               .config("spark.sql.shuffle.partitions", str(partitions or 8)))
    return builder.getOrCreate()


def _arrow_schemas(folder: Path) -> dict[str, Any]:
    """Each history table's Arrow schema (with pandas metadata: the dtypes pandas reads back)."""
    import pyarrow.parquet as pq

    return {name: pq.read_schema(folder / f"{name}.parquet") for name in TABLE_NAMES}


def _tagged_rows(spark, folder: Path, cutoff: pd.Timestamp, schemas: dict[str, Any]):
    """One wide DataFrame: every row of every table whose household is present at the cutoff,
    columns prefixed by table, ``_table`` naming the table and ``_part`` the household's township."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # pandas writes nanosecond timestamps, which Spark reads as nanoseconds since the epoch
    # (spark.sql.legacy.parquet.nanosAsLong): compare them as integers, no time zone involved.
    cut = F.lit(int(cutoff.value))

    def known(df, key):
        # features.point_in_time.known_at in Spark: the latest version recorded and valid by the
        # cutoff; it ends only when nothing follows it and the closing day has passed.
        if "recorded_at" not in df.columns:
            return latest(df.where((F.col("valid_from") <= cut)
                                   & (F.col("valid_to").isNull() | (F.col("valid_to") > cut))), key)
        following = F.lead("valid_from").over(Window.partitionBy(key).orderBy("valid_from"))
        df = df.withColumn("_next", following)
        closes = F.col("valid_to").isNotNull() & (F.col("_next").isNull() | (F.col("_next") != F.col("valid_to")))
        seen = df.where((F.col("recorded_at").isNull() | (F.col("recorded_at") <= cut)) & (F.col("valid_from") <= cut))
        return latest(seen, key).where(~(closes & (F.col("valid_to") <= cut))).drop("_next")

    def latest(df, key):
        w = Window.partitionBy(key).orderBy(F.col("valid_from").desc())
        return df.withColumn("_n", F.row_number().over(w)).where("_n = 1").drop("_n")

    read = {name: spark.read.parquet(str(folder / f"{name}.parquet")) for name in TABLE_NAMES}
    keys = known(read["households"], "household_id").select("household_id", F.col("township").alias(PART))
    # A member's current version decides its household (a member who moved counts where they live);
    # all its versions travel there, since the frame applies the same point-in-time rule again.
    member_parts = (known(read["members"], "member_id").select("member_id", F.col("household_id").alias("_now"))
                    .join(keys.withColumnRenamed("household_id", "_now"), "_now").select("member_id", PART))
    parts = []
    for name in TABLE_NAMES:
        df = read[name]
        cols = [F.col(c).alias(f"{name}{SEP}{c}") for c in schemas[name].names]
        joined = df.join(member_parts, "member_id") if name == "members" else df.join(keys, "household_id")
        parts.append(joined.select(F.lit(name).alias(TAG), F.col(PART), *cols))
    wide = parts[0]
    for p in parts[1:]:
        wide = wide.unionByName(p, allowMissingColumns=True)
    return wide


def _tables_of(batch_table, schemas: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Split a partition's wide Arrow table back into contract tables with the history's dtypes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    tables = {}
    tags = batch_table.column(TAG)
    for name in TABLE_NAMES:
        schema = schemas[name]
        rows = batch_table.filter(pc.equal(tags, name))
        cols = []
        for field in schema:
            col = rows.column(f"{name}{SEP}{field.name}")
            cols.append(col.cast(field.type) if col.type != field.type else col)
        t = pa.Table.from_arrays(cols, schema=schema)
        tables[name] = t.to_pandas()
    return tables


def score_partition(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, model: Any, policy: Any,
                    config: Any, previous: Previous) -> pd.DataFrame:
    """Whole townships through the scoring core (``serving.core.scoring.score_week``) and the
    watch list's explanations, as the rows ``SCORE_SCHEMA`` describes."""
    from features.household_frame import build_household_frame
    from serving.core.scoring import score_week
    from serving.weekly.explaining import explain_rows

    frame = build_household_frame(tables, cutoff, policy)
    if not len(frame):
        return pd.DataFrame()
    week_scores = score_week(frame, model, policy, config, previous)
    scored, rules, listed = week_scores.scored, week_scores.rules, week_scores.listed
    explanations = explain_rows(model, frame.loc[listed].reset_index(drop=True), policy,
                                rules.loc[listed].reset_index(drop=True), dict(previous.probability))
    by_id = {e["household_id"]: e for e in explanations}
    top = [by_id.get(h, {}).get("reasons") or [None] for h in scored["household_id"]]
    scored["top_reason_zh"] = [t[0]["text_zh"] if t[0] else None for t in top]
    scored["top_reason_en"] = [t[0]["text_en"] if t[0] else None for t in top]
    scored["reasons"] = [json.dumps(list(r), ensure_ascii=False) for r in scored["reasons"]]
    scored["explanation"] = [json.dumps(by_id[h], ensure_ascii=False) if h in by_id else None
                             for h in scored["household_id"]]
    for col in ("on_watchlist", "flag_new", "flag_rising", "flag_rule", "under_monitoring", "rules_triggered"):
        scored[col] = scored[col].astype(bool)
    scored["criteria_met"] = scored["criteria_met"].astype(str)
    scored["township_rank"] = scored["township_rank"].astype("int64")
    return scored


def _partition_function(schemas, cutoff, model, policy, config, previous, out_schema):
    """The function ``mapInArrow`` runs on each partition (every township in it, all at once)."""

    def run(batches):
        import pyarrow as pa

        batches = list(batches)
        if not batches or not sum(b.num_rows for b in batches):
            return
        table = pa.Table.from_batches(batches)
        tables = _tables_of(table, schemas)
        scored = score_partition(tables, cutoff, model, policy, config, previous)
        if not len(scored):
            return
        names = [f.name for f in out_schema]
        out = pa.Table.from_pandas(scored[names], preserve_index=False)
        yield from out.cast(out_schema).to_batches()

    return run


def _arrow_out_schema():
    import pyarrow as pa

    types = {"string": pa.string(), "double": pa.float64(), "long": pa.int64(), "boolean": pa.bool_()}
    return pa.schema([(name, types[kind]) for name, kind in
                      (part.strip().split(" ") for part in SCORE_SCHEMA.split(","))])


def run_week_spark(data_dir: str | Path, week: Week | str, settings: Settings, *, master: str | None = None,
                   champion=None, out: str | Path | None = None, partitions: int | None = None,
                   started_by: str | None = None, progress: Callable[[str], None] | None = None,
                   accept_incomplete: str | None = None) -> dict[str, Any]:
    """Run the weekly job on Spark and publish its summary.

    Args:
        data_dir: a county folder (``exports/<week>/``) or the week's export folder.
        week: ISO week, ``YYYY-Www``.
        settings: store, home (history) and model registry locations.
        master: Spark master URL (default ``SPARK_MASTER`` or ``local[*]``).
        champion: a loaded champion (default: the registry's).
        out: where the Parquet results go (default ``FANPIN_HOME/spark/``); ``<out>/<week>/``
            gets ``scores/``, ``explanations/`` and ``watchlist/``.
        partitions: Spark partitions for the township shuffle (default: 2 per core, at least 8).
        started_by: the run's operator.
        progress: called with each stage name as it starts.
        accept_incomplete: publish even outside the completeness bounds, for this (audited) reason.

    Returns:
        The single-machine job's summary keys plus ``engine``, ``master`` and ``outputs``.
    """
    from serving.jobs import week_run as wr
    from serving.store import publishing as pub
    from serving.weekly import history as hist

    week = wr.as_week(week)
    clock = wr.StageClock(progress)
    say = clock.start
    job = wr.prepare_job(data_dir, week, settings, champion)
    job.accept_incomplete = accept_incomplete
    engine, champion, policy, config, cutoff, week = (job.engine, job.champion, job.policy, job.config, job.cutoff,
                                                      job.week)
    master = spark_master(master)
    run_id = pub.start_run(engine, week, started_by=started_by)
    out_dir = Path(out) if out else job.home / "spark"
    target = out_dir / week
    stages: dict[str, Any] = {"seconds": clock.seconds, "engine": "spark", "master": master}
    try:
        say("read")
        history, read = wr.read_export(job, run_id, stages)

        say("history")
        history = wr.append_week(job, history, read, stages)
        del history  # the executors read the Parquet, not the driver's copy
        parquet = hist.history_root(job.home) / (hist.history_root(job.home) / "CURRENT").read_text().strip()

        say("previous")
        previous = wr.previous_scores(engine, job.previous)

        say("spark")
        spark = spark_session(master, partitions)
        n_parts = partitions or max(8, 2 * spark.sparkContext.defaultParallelism)
        schemas = _arrow_schemas(parquet)
        wide = _tagged_rows(spark, parquet, cutoff, schemas).repartition(n_parts, PART)
        out_schema = _arrow_out_schema()
        fn = _partition_function(schemas, cutoff, champion.model, policy, config, previous, out_schema)
        scored = _ranked(wide.mapInArrow(fn, SCORE_SCHEMA)).persist()

        say("write")
        scores_path, expl_path, list_path = (target / "scores", target / "explanations", target / "watchlist")
        scored.drop("explanation").write.mode("overwrite").parquet(str(scores_path))
        scored.where("explanation IS NOT NULL").select("household_id", "township", "explanation") \
            .write.mode("overwrite").parquet(str(expl_path))
        scored.where("on_watchlist").select("household_id", "township", "village", "probability", "rank",
                                            "township_rank", "reasons", "top_reason_zh", "top_reason_en") \
            .write.mode("overwrite").parquet(str(list_path))
        counts = scored.selectExpr("count(*) AS n", "sum(CAST(on_watchlist AS INT)) AS listed").first()
        scored.unpersist()
        households_scored, listed = int(counts["n"]), int(counts["listed"] or 0)
        stages["households"] = wr.reconciled(read, pd.read_parquet(scores_path, columns=["household_id"]))

        say("publish")
        result = wr.run_summary(job, read, households_scored=households_scored, watchlist_size=listed, drift_alerts=0,
                             seconds=clock.total())
        stages["outputs"] = {"scores": str(scores_path), "explanations": str(expl_path), "watchlist": str(list_path)}
        stages["drift"] = "not run (spark engine: run `fanpin drift` on the written scores)"
        pub.publish(engine, run_id, week, cutoff.date(),
                    wr.publish_facts(result, wr.read_counts(read), stages))
        say(None)
    except BaseException as error:
        if not isinstance(error, (KeyboardInterrupt, SystemExit)):
            pub.fail_run(engine, run_id, f"{type(error).__name__}: {error}")
        raise
    result["seconds"] = clock.total()
    return {**result, "run_id": run_id, "stages": stages, "engine": "spark", "master": master,
            "outputs": stages["outputs"]}


def _ranked(scored):
    """The county-wide rank (probability descending, then household id), as the single engine."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.orderBy(F.col("probability").desc(), F.col("household_id").asc())
    return scored.withColumn("rank", F.row_number().over(w).cast("long"))
