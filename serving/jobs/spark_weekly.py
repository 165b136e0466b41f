"""The weekly job on Spark: the same computation as ``serving.jobs.weekly.run_week``, partitioned
by township, for a province or the country; the same store rows, checks and publishing after it.

Steps:
1. On the driver, exactly as the single-machine job: read + validate the week's export (quarantine,
   completeness) and append it to the Parquet history under ``FANPIN_HOME/history/`` (the path
   Spark reads; on a cluster FANPIN_HOME is shared storage).
2. Spark reads the history Parquet, keeps each household's row valid at the cutoff to learn its
   township, tags every row of every table with that township and hash-partitions by it. A whole
   township is then in one partition, so the village and township context features, the
   watch list's per-township capacity and the township rank come out exactly as on one machine.
3. ``mapInArrow`` per partition: ``build_household_frame`` -> the scoring core
   (``serving.core.scoring.score_week``: risk, level, rules, watch list) -> batch TreeSHAP
   explanations of the watch list (``serving.weekly.explaining.explained``), the very functions the
   single-machine job calls. Each partition yields one row per household (id, probability) and
   one blob (its frame, scores, rule triggers and explanations, pickled).
4. The county-wide rank from per-partition sorted runs: the scores are range-partitioned by
   (probability descending, household id), each run is numbered inside its partition and offset
   by the sizes of the runs before it (no window over a single partition).
5. The driver collects the blobs one partition at a time (``toLocalIterator``), puts them in the
   household order the local frame has, and hands the scored week to
   ``serving.jobs.week_finish``: department warnings, drift, model health, staging every row
   (PostgreSQL COPY, SQLite executemany) and the one publish transaction under the week's lease;
   then the challenger's shadow scores. A Spark week is a week like any other in the store.

pyspark is an optional extra (``pip install fanpin[spark]``) and is imported only in functions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.weeks import Week
from serving.core.scoring import Previous
from serving.jobs.week_run import log
from serving.settings import Settings

TABLE_NAMES = ("households", "members", "income_surveys", "events", "outcomes")
PART = "_part"
TAG = "_table"
SEP = "__"
# What each partition yields: a row per household (``kind`` "score": id and probability, for the
# county rank) and one row (``kind`` "blob") holding the partition's scored week, pickled.
OUT_SCHEMA = "kind string, household_id string, probability double, blob binary"
SCORE, BLOB = "score", "blob"


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
        # In local mode the executors live in the driver's JVM, so Spark's default 1 GB heap is
        # the whole cluster's (a 200k run lost its JVM with it; 20k ran).
        builder = (builder.config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.ui.enabled", "false")
                   .config("spark.driver.memory", os.environ.get("FANPIN_SPARK_DRIVER_MEMORY", "4g")))
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
                    config: Any, given: dict[str, Any]) -> dict[str, Any] | None:
    """Whole townships through the scoring core (``serving.core.scoring.score_week``) and the
    watch list's explanations: {frame, scored, rules, probability, explained} (None for no household).

    ``given`` is what the driver decided before scoring (``scoring_given``): last week's scores,
    the follow-up holds and the shock offset per area; the offset per row is taken here, from the
    partition's own frame, as the single machine takes it from the county's."""
    from features.household_frame import build_household_frame
    from serving.core.scoring import score_week
    from serving.weekly.explaining import explained
    from serving.weekly.shock import row_offsets

    frame = build_household_frame(tables, cutoff, policy)
    if not len(frame):
        return None
    previous = given["previous"]
    week_scores = score_week(frame, model, policy, config, previous, followup=given["followup"],
                             offset=row_offsets(frame, given["level"], given["by_area"]))
    listed = week_scores.listed
    explanations = list(explained(model, frame.loc[listed].reset_index(drop=True), policy,
                                  week_scores.rules.loc[listed].reset_index(drop=True), previous.probability))
    return {"frame": frame, "scored": week_scores.scored, "rules": week_scores.rules,
            "probability": week_scores.probability, "explained": explanations}


def scoring_given(previous: Previous, inputs: Any) -> dict[str, Any]:
    """What every partition needs from the driver (``serving.jobs.week_finish.WeekInputs``), as
    one broadcast value: last week's scores, the follow-up holds, the shock offsets by area."""
    return {"previous": previous, "followup": inputs.followup, "level": inputs.shock.rule.level,
            "by_area": inputs.shock.by_area}


def _partition_function(schemas, cutoff, model, policy, config, given):
    """The function ``mapInArrow`` runs on each partition (every township in it, all at once);
    ``given`` is the broadcast of ``scoring_given``."""

    def run(batches):
        import pickle

        import pyarrow as pa

        batches = list(batches)
        if not batches or not sum(b.num_rows for b in batches):
            return
        part = score_partition(_tables_of(pa.Table.from_batches(batches), schemas), cutoff, model, policy, config,
                               given.value)
        if part is None:
            return
        scored = part["scored"]
        n = len(scored)
        yield pa.RecordBatch.from_arrays([
            pa.array([SCORE] * n + [BLOB], pa.string()),
            pa.array([*scored["household_id"].astype(str), None], pa.string()),
            pa.array([*scored["probability"].astype("float64"), None], pa.float64()),
            pa.array([None] * n + [pickle.dumps(part, protocol=5)], pa.binary()),
        ], names=["kind", "household_id", "probability", "blob"])

    return run


def county_rank(scores, partitions: int):
    """(household_id, rank): the county-wide rank (probability descending, then household id, as
    ``serving.core.scoring``) from sorted runs. Range partitioning puts every household of a run
    before every household of the next; a run is numbered inside its partition and offset by the
    sizes of the runs before it, so no window ever holds the whole county in one partition."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = (F.col("probability").desc(), F.col("household_id").asc())
    # Persisted: the run sizes and the numbering must see the same range boundaries (a sample).
    runs = (scores.select("household_id", "probability").repartitionByRange(partitions, *order)
            .withColumn("_run", F.spark_partition_id()).persist())
    sizes = sorted((int(r["_run"]), int(r["count"])) for r in runs.groupBy("_run").count().collect())
    offsets, total = [], 0
    for run, size in sizes:
        offsets += [F.lit(run), F.lit(total)]
        total += size
    offset = F.create_map(*offsets) if offsets else F.create_map(F.lit(0), F.lit(0))
    within = F.row_number().over(Window.partitionBy("_run").orderBy(*order))
    ranked = runs.select("household_id", (offset[F.col("_run")] + within).cast("long").alias("rank"))
    return ranked, runs


def collect_week(blobs, ranks: pd.DataFrame):
    """The partitions' blobs (an iterator of pickled parts) as one scored week in the household
    order of ``build_household_frame`` (sorted by id), the county rank from ``ranks``:
    (frame, ``ScoredWeek``, explanations by household id)."""
    import pickle

    from pandas.api.types import union_categoricals

    from serving.core.scoring import ScoredWeek

    frames, scored, rules, probability, explained = [], [], [], [], {}
    for blob in blobs:
        part = pickle.loads(blob)
        frames.append(part["frame"])
        scored.append(part["scored"])
        rules.append(part["rules"])
        probability.append(part["probability"])
        explained.update((e[0], e) for e in part["explained"])
    if not frames:
        raise RuntimeError("Spark scored no household; nothing published")
    frame = _concat(frames, union_categoricals)
    order = np.argsort(frame["household_id"].to_numpy(dtype=str), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    scores = _concat(scored, union_categoricals).iloc[order].reset_index(drop=True)
    rule_rows = _concat(rules, union_categoricals).iloc[order].reset_index(drop=True)
    rank = scores["household_id"].map(dict(zip(ranks["household_id"], ranks["rank"], strict=True)))
    if rank.isna().any():
        raise RuntimeError(f"{int(rank.isna().sum())} households without a county rank; nothing published")
    scores["rank"] = rank.astype(scores["rank"].dtype)
    # The model's own probability (``scores.probability`` is the shock-adjusted risk the list ranks);
    # the week's new work is split on the driver (``week_finish``) from the whole list.
    week = ScoredWeek(probability=np.concatenate(probability).astype("float64")[order], rules=rule_rows,
                      scored=scores)
    return frame, week, explained


def _concat(parts: list[pd.DataFrame], union_categoricals) -> pd.DataFrame:
    """Concatenate partitions' frames keeping categorical columns categorical (each partition
    knows only its own categories; the union, sorted, is what one machine's frame has)."""
    out = pd.concat(parts, ignore_index=True)
    for name in parts[0].columns:
        if isinstance(parts[0][name].dtype, pd.CategoricalDtype):
            out[name] = union_categoricals([p[name] for p in parts], sort_categories=True)
    return out


def run_week_spark(data_dir: str | Path, week: Week | str, settings: Settings, *, master: str | None = None,
                   champion=None, partitions: int | None = None, started_by: str | None = None,
                   progress: Callable[[str], None] | None = None, accept_incomplete: str | None = None,
                   challenger=None, started: float | None = None) -> dict[str, Any]:
    """Run the weekly job on Spark and publish it as the single-machine job does.

    Args:
        data_dir: a county folder (``exports/<week>/``) or the week's export folder.
        week: ISO week, ``YYYY-Www``.
        settings: store, home (history) and model registry locations.
        master: Spark master URL (default ``SPARK_MASTER`` or ``local[*]``).
        champion: a loaded champion (default: the registry's).
        partitions: Spark partitions for the township shuffle (default: 2 per core, at least 8).
        started_by: the run's operator.
        progress: called with each stage name as it starts.
        accept_incomplete: publish even outside the completeness bounds, for this (audited) reason.
        challenger: a loaded challenger to shadow-score (default: the registry's, when the
            champion also comes from the registry).
        started: ``time.perf_counter()`` when the wait began (the ``start-up`` stage, as the
            single-machine job's).

    Returns:
        The single-machine job's result (same keys, same meaning) plus ``engine`` and ``master``.
    """
    from serving.jobs import week_run as wr
    from serving.jobs.week_finish import ScoredRun, after_week, before_scoring, finish_week
    from serving.store import publishing as pub
    from serving.weekly import history as hist

    week = wr.as_week(week)
    clock = wr.StageClock(progress, task=f"weekly {week} (spark)", total=len(wr.STAGES), started=started)
    say = clock.start
    from_registry = champion is None
    job = wr.prepare_job(data_dir, week, settings, champion)
    job.accept_incomplete = accept_incomplete
    engine, champion, policy, config, cutoff, week = (job.engine, job.champion, job.policy, job.config, job.cutoff,
                                                      job.week)
    master = spark_master(master)
    run_id = pub.start_run(engine, week, started_by=started_by)
    stages: dict[str, Any] = {"seconds": clock.seconds, "engine": "spark", "master": master}
    runs = scored = given = None
    try:
        say("read")
        history, read = wr.read_export(job, run_id, stages)

        say("history")
        before = history.tables
        history = wr.append_week(job, history, read, stages)
        parquet = hist.history_root(job.home) / (hist.history_root(job.home) / "CURRENT").read_text().strip()
        previous = wr.previous_scores(engine, job.previous)
        # On the driver, from the store and the history: warnings (staged), holds, shock plan.
        inputs = before_scoring(job, run_id, history.tables)

        say("score")  # on the executors: frame, scores, rules, watch list and explanations
        spark = spark_session(master, partitions)
        n_parts = partitions or max(8, 2 * spark.sparkContext.defaultParallelism)
        schemas = _arrow_schemas(parquet)
        wide = _tagged_rows(spark, parquet, cutoff, schemas).repartition(n_parts, PART)
        given = spark.sparkContext.broadcast(scoring_given(previous, inputs))
        fn = _partition_function(schemas, cutoff, champion.model, policy, config, given)
        scored = wide.mapInArrow(fn, OUT_SCHEMA).persist()
        scored.count()  # computed here (and kept): the stages after it read the persisted rows

        say("rank")
        ranked, runs = county_rank(scored.where(f"kind = '{SCORE}'"), n_parts)
        ranks = ranked.toPandas()

        say("collect")
        blobs = (row["blob"] for row in scored.where(f"kind = '{BLOB}'").select("blob").toLocalIterator())
        frame, week_scores, explained = collect_week(blobs, ranks)
        stages["households"] = wr.reconciled(read, frame)
        stages["partitions"] = n_parts
        stages["explanations_reused"] = 0  # the executors explain the whole list afresh

        def explanations(listed_frame: pd.DataFrame, _rules: pd.DataFrame):
            return (explained[h] for h in listed_frame["household_id"] if h in explained)

        run = ScoredRun(frame, week_scores, previous, explanations, history, before, read, inputs)
        del before, read
        result = finish_week(job, run_id, clock, stages, run)
    except BaseException as error:
        if not isinstance(error, (KeyboardInterrupt, SystemExit)):
            pub.fail_run(engine, run_id, f"{type(error).__name__}: {error}")
        raise
    finally:
        for kept in (runs, scored, given):
            if kept is not None:
                try:
                    kept.unpersist()
                except Exception:  # noqa: BLE001 - a dead JVM must not hide the run's own error
                    log.warning("could not release a cached Spark result", exc_info=True)
    result = after_week(job, result, run, clock, challenger=challenger, from_registry=from_registry)
    return {**result, "engine": "spark", "master": master}
