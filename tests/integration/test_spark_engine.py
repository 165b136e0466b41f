"""The Spark engine gives the single-machine engine's results (local mode, small county)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import needs

pytestmark = pytest.mark.spark


def _weeks(county: Path) -> list[str]:
    return sorted(p.name for p in (county / "exports").iterdir() if p.is_dir())


def _single_scores(settings, run_id: int) -> pd.DataFrame:
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(text(
                "SELECT household_id, probability, level, rank, township_rank, change, on_watchlist, flag_new, "
                "flag_rising, flag_rule, top_reason_zh FROM scores WHERE run_id = :r"), conn, params={"r": run_id})
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def both_engines(small_county, fitted_champion, tmp_path_factory):
    """Week N-1 by the single engine in two stores, then week N by each engine."""
    needs("pyspark", importlib.util.find_spec("pyspark") is not None)
    needs("Java (default-jre-headless)", shutil.which("java") is not None)
    from serving.jobs.spark_weekly import run_week_spark
    from serving.jobs.weekly import run_week
    from serving.settings import Settings

    before, week = _weeks(small_county)[-2:]
    tmp = tmp_path_factory.mktemp("spark-engine")
    local = Settings(home=tmp / "local", database_url=f"sqlite:///{tmp / 'local.db'}")
    spark = Settings(home=tmp / "spark", database_url=f"sqlite:///{tmp / 'spark.db'}")
    for settings in (local, spark):
        run_week(small_county, before, settings, champion=fitted_champion)
    single = run_week(small_county, week, local, champion=fitted_champion)
    distributed = run_week_spark(small_county, week, spark, champion=fitted_champion, master="local[2]",
                                 partitions=4, out=tmp / "out")
    return single, _single_scores(local, single["run_id"]), distributed


def test_spark_scores_equal_single_machine(both_engines):
    single, expected, distributed = both_engines
    got = pd.read_parquet(distributed["outputs"]["scores"])
    expected = expected.sort_values("household_id").reset_index(drop=True)
    got = got.sort_values("household_id").reset_index(drop=True)
    assert len(got) == single["households_scored"] == distributed["households_scored"] > 1000
    assert got["household_id"].tolist() == expected["household_id"].tolist()
    np.testing.assert_allclose(got["probability"].to_numpy(), expected["probability"].to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["change"].to_numpy(dtype="float64"), expected["change"].to_numpy(dtype="float64"),
                               rtol=0, atol=1e-9)
    assert got["level"].tolist() == expected["level"].tolist()
    assert got["rank"].tolist() == expected["rank"].astype(int).tolist()
    assert got["township_rank"].tolist() == expected["township_rank"].astype(int).tolist()


def test_spark_watchlist_equals_single_machine(both_engines):
    single, expected, distributed = both_engines
    listed = pd.read_parquet(distributed["outputs"]["watchlist"])
    want = set(expected.loc[expected["on_watchlist"].astype(bool), "household_id"])
    assert set(listed["household_id"]) == want
    assert distributed["watchlist_size"] == single["watchlist_size"] == len(want) > 0
    got = pd.read_parquet(distributed["outputs"]["scores"]).set_index("household_id")
    exp = expected.set_index("household_id").loc[got.index]
    for flag in ("flag_new", "flag_rising", "flag_rule"):
        assert got[flag].tolist() == exp[flag].astype(bool).tolist(), flag
    # The same batch TreeSHAP explanation gives the same first reason.
    assert got["top_reason_zh"].fillna("").tolist() == exp["top_reason_zh"].fillna("").tolist()
    explanations = pd.read_parquet(distributed["outputs"]["explanations"])
    assert set(explanations["household_id"]) == want


def test_spark_run_is_published(both_engines):
    _, _, distributed = both_engines
    assert distributed["engine"] == "spark" and distributed["master"] == "local[2]"
    assert distributed["run_id"] >= 1 and distributed["stages"]["history"] in ("appended", "already covered")
