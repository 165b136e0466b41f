"""A week computed on Spark is the week the single machine computes, as people are shown it: the
API's week list, the watch list (every page), household details, the counts, department warnings,
drift verdicts, model health, the week's new work and the shock response, on SQLite and PostgreSQL
(local mode, the small county, one Spark session per module).

Week N is scored with an officer's "no risk" judgement of a listed household on record (held back:
the holds reach every partition) and a shock rule every township but the quietest crosses (the
offsets reach every partition)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import needs
from tests.databases import database_params, fresh_database_url
from tests.store.api_client import bearer, token
from tests.store.published import PASSWORD

pytestmark = pytest.mark.spark

WINDOW_WARNING = "No Partition Defined for Window operation"
# What differs between two runs of the same week by construction: ids, clocks and the engine.
RUN_FACTS = ("run_id", "published_at")


def _weeks(county: Path) -> list[str]:
    return sorted(p.name for p in (county / "exports").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def spark_log(tmp_path_factory):
    """One local Spark session for the module, its JVM's log (stderr) written to a file."""
    needs("pyspark", importlib.util.find_spec("pyspark") is not None)
    needs("Java (default-jre-headless)", shutil.which("java") is not None)
    from serving.jobs.spark_weekly import spark_session

    log = tmp_path_factory.mktemp("spark-log") / "spark.log"
    saved = os.dup(2)
    with open(log, "wb") as out:
        os.dup2(out.fileno(), 2)  # the JVM inherits fd 2 when it starts: its log goes to the file
        try:
            spark = spark_session("local[2]", 4)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    yield log
    spark.stop()


@pytest.fixture(scope="module")
def champion(small_county, fitted_champion):
    """The session's fitted champion with a drift reference (frames of a matured past cutoff with
    the model's predictions), so both engines' drift checks run."""
    import dataclasses

    import pandas as pd

    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from features.reading import read_folder
    from monitoring.reference import as_reference

    tables = read_folder(small_county / "history").tables
    frame = build_household_frame(tables, pd.Timestamp("2024-06-30"), load_policy())
    reference = as_reference(frame, fitted_champion.model.predict_proba(frame)[:, 1])
    return dataclasses.replace(fitted_champion, reference=reference)


def _shock_line(county: Path, week: str) -> dict:
    """A shock rule (weeks, events per 100 households) that the small county's two busiest
    townships cross at ``week`` and the others do not (its history has disaster events over a
    year, not in the last weeks)."""
    from features.reading import read_folder
    from features.shocks import ShockRule, recent_shock
    from features.weeks import week_cutoff

    tables = read_folder(county / "history").tables
    per_100 = sorted(recent_shock(tables, week_cutoff(week), ShockRule(weeks=52, per_100=1e9))["per_100"],
                     reverse=True)
    assert per_100[1] > per_100[2], f"no two townships had more disaster events than the rest: {per_100}"
    return {"shock_weeks": 52, "shock_per_100": (per_100[1] + per_100[2]) / 2}


def _judge_no_risk(settings, week: str) -> str:
    """An officer judges week ``week``'s first capacity pick "no risk" (the next week holds it back)."""
    from datetime import timedelta

    from features.weeks import week_cutoff
    from serving.store import models as m
    from serving.store.database import get_engine, session_factory

    with session_factory(get_engine(settings))() as db:
        run_id = db.scalar(select(m.Week.published_run_id).where(m.Week.week == week))
        picks = db.execute(select(m.WatchlistEntry.household_id, m.WatchlistEntry.township, m.WatchlistEntry.reasons)
                           .join(m.Score, (m.Score.run_id == m.WatchlistEntry.run_id)
                                 & (m.Score.household_id == m.WatchlistEntry.household_id))
                           .where(m.WatchlistEntry.run_id == run_id).order_by(m.Score.rank)).all()
        household, township, _ = next(r for r in picks if r[2] == ["capacity"])
        db.add(m.Feedback(household_id=household, week=week, township=township, outcome="not_at_risk",
                          risk_types=[], note="外出务工收入稳定", username="officer1",
                          created_at=week_cutoff(week).to_pydatetime() + timedelta(days=2)))
        db.commit()
    return household


@pytest.fixture(scope="module", params=database_params())
def both_engines(request, spark_log, small_county, champion, tmp_path_factory):
    """Week N-1 by the single engine in two stores, an officer's "no risk" judgement in each, then
    week N by each engine into its store."""
    from serving.access.auth import create_user
    from serving.jobs.spark_weekly import run_week_spark
    from serving.jobs.weekly import run_week
    from serving.settings import Settings
    from serving.store.database import get_engine, session_factory

    before, week = _weeks(small_county)[-2:]
    shock = _shock_line(small_county, week)
    tmp = tmp_path_factory.mktemp(f"spark-engine-{request.param}")
    with fresh_database_url(request.param, tmp / "local") as local_url, \
            fresh_database_url(request.param, tmp / "spark") as spark_url:
        local = Settings(home=tmp / "local", database_url=local_url, **shock)
        spark = Settings(home=tmp / "spark", database_url=spark_url, **shock)
        judged = set()
        for settings in (local, spark):
            settings.ensure_home()
            run_week(small_county, before, settings, champion=champion)
            judged.add(_judge_no_risk(settings, before))
        single = run_week(small_county, week, local, champion=champion)
        distributed = run_week_spark(small_county, week, spark, champion=champion, master="local[2]",
                                     partitions=4)
        for settings in (local, spark):
            with session_factory(get_engine(settings))() as session:
                create_user(session, "officer1", PASSWORD, "county_officer", None)
                create_user(session, "admin1", PASSWORD, "admin", None)
                session.commit()
        yield {"week": week, "local": (local, single), "spark": (spark, distributed), "judged": judged.pop()}


@contextmanager
def _api(settings, champion):
    from fastapi.testclient import TestClient

    from serving.app import create_app

    with TestClient(create_app(settings, web=False, champion=champion)) as client:
        yield client, bearer(token(client, "admin1"))


def _shown(settings, champion, week: str) -> dict:
    """Everything the API shows of the week: the week list, every watch-list page, three households'
    details (first, middle and last of the list), and the drift verdicts."""
    with _api(settings, champion) as (client, auth):
        weeks = client.get("/api/v1/weeks", headers=auth).json()
        pages, offset = [], 0
        while True:
            page = client.get(f"/api/v1/weeks/{week}/watchlist", headers=auth,
                              params={"offset": offset, "limit": 100}).json()
            pages.append(page)
            offset += 100
            if offset >= page["total"]:
                break
        listed = [row["household_id"] for page in pages for row in page["items"]]
        details = {h: client.get(f"/api/v1/households/{h}", headers=auth, params={"week": week}).json()
                   for h in (listed[0], listed[len(listed) // 2], listed[-1])}
        drift = client.get(f"/api/v1/weeks/{week}/drift", headers=auth).json()
    for w in weeks:
        for fact in RUN_FACTS:
            w.pop(fact)
    return {"weeks": weeks, "pages": pages, "listed": listed, "details": details, "drift": drift}


def _warnings(settings) -> list[tuple]:
    from serving.store import models as m
    from serving.store.database import get_engine

    t = m.DepartmentWarning
    with get_engine(settings).connect() as conn:
        run = conn.execute(select(m.Week.published_run_id).order_by(m.Week.week.desc()).limit(1)).scalar_one()
        rows = conn.execute(select(t.household_id, t.township, t.rule, t.department, t.record, t.value)
                            .where(t.run_id == run)).all()
    return sorted(tuple(r) for r in rows)


def _without_seconds(value):
    """Model health as stored, less the stage timings (wall clock)."""
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def test_spark_week_shows_what_the_local_week_shows(both_engines, champion):
    week = both_engines["week"]
    (local, single), (spark, distributed) = both_engines["local"], both_engines["spark"]
    want, got = _shown(local, champion, week), _shown(spark, champion, week)
    assert got["weeks"] == want["weeks"] and len(got["weeks"]) == 2
    # Every page of the list, in order, with the counts each page carries.
    assert len(want["listed"]) == single["watchlist_size"] > 0
    assert got["pages"][0]["total"] == distributed["watchlist_size"] == single["watchlist_size"]
    assert got["listed"] == want["listed"]
    assert got["pages"] == want["pages"]
    assert got["pages"][0]["counts"] == want["pages"][0]["counts"] and sum(got["pages"][0]["counts"].values())
    # Three households' pages: score, rank, trend, explanation, rule triggers, registry row, facts.
    for household, detail in want["details"].items():
        assert detail["explanation"] is not None and detail["facts"], household
        assert got["details"][household] == detail, household
    assert got["drift"] == want["drift"]
    assert got["drift"]["status"] == "ok" and got["drift"]["feature_results"]


def test_spark_week_has_the_same_checks(both_engines):
    (local, single), (spark, distributed) = both_engines["local"], both_engines["spark"]
    for key in ("week", "households_in", "households_scored", "rows_quarantined", "watchlist_size",
                "model_version", "drift_alerts"):
        assert distributed[key] == single[key], key
    assert distributed["department_warnings"] == single["department_warnings"]
    assert sum(single["department_warnings"].values()) > 0
    assert _warnings(spark) == _warnings(local)
    assert distributed["stages"]["model_health"]["status"] == "ok"
    assert _without_seconds(distributed["stages"]["model_health"]) == _without_seconds(single["stages"]["model_health"])
    assert distributed["stages"]["drift"] == single["stages"]["drift"] == "ok"
    assert distributed["stages"]["households"] == single["stages"]["households"]
    assert distributed["stages"]["registry_versions"] == single["stages"]["registry_versions"]
    assert distributed["engine"] == "spark" and distributed["master"] == "local[2]"
    # `fanpin weekly --json` builds its line from these: the same keys from either engine.
    assert set(distributed) - {"engine", "master"} == set(single)
    assert set(distributed["stages"]) - {"engine", "master", "partitions"} == set(single["stages"])


def _week_facts(settings, week: str) -> dict:
    """The week's new work per household and its counts (the list page's line) and the findings
    (shock response, audit sample) as the store serves them."""
    from serving.reads.week_findings import week_findings
    from serving.store import models as m
    from serving.store.database import get_engine, session_factory
    from serving.store.followup import week_work, work_summary

    with session_factory(get_engine(settings))() as db:
        run_id = db.scalar(select(m.Week.published_run_id).where(m.Week.week == week))
        return {"work": week_work(db, run_id), "counts": work_summary(db, run_id),
                "findings": week_findings(db, run_id)}


def test_spark_week_has_the_same_new_work_and_shock_response(both_engines):
    week, judged = both_engines["week"], both_engines["judged"]
    (local, single), (spark, distributed) = both_engines["local"], both_engines["spark"]
    want, got = _week_facts(local, week), _week_facts(spark, week)
    # The officer's "no risk" is held back by both engines (the holds reached the partitions).
    assert want["work"][judged] == ("held", "no_risk")
    assert want["counts"]["new"] > 0 and want["counts"]["known"] > 0
    assert got == want
    assert distributed["stages"]["work"] == single["stages"]["work"]
    # Townships over the shock line are named and adjusted (the offsets reached the partitions).
    shock = single["shock"]
    assert len(shock["areas"]) >= 2 and shock["adjustment"] > 0, shock
    assert distributed["shock"] == shock
    for key in ("audit_sample", "hidden_hardship_share", "follow_through", "missed_share",
                "alerts_per_officer_week"):
        assert distributed[key] == single[key], key


def test_weekly_json_has_the_same_keys_from_either_engine(both_engines):
    """`fanpin weekly --json` prints ``summary_of(result)``: the same keys and, but for the clocks,
    the same values from either engine."""
    from serving.commands.weekly import summary_of

    single, distributed = both_engines["local"][1], both_engines["spark"][1]
    want, got = summary_of(single), summary_of(distributed)
    assert set(got) == set(want)
    clocks = {"seconds", "stage_seconds", "model_health"}
    assert {k: v for k, v in got.items() if k not in clocks} == {k: v for k, v in want.items() if k not in clocks}
    assert _without_seconds(got["model_health"]) == _without_seconds(want["model_health"])
    assert set(got["stage_seconds"]) >= {"start-up", "read", "history", "explain", "drift", "stage", "publish",
                                         "field evidence"}


def test_spark_logs_no_single_partition_window(both_engines, spark_log):
    text = spark_log.read_text(errors="replace")
    assert both_engines["spark"][1]["households_scored"] > 1000
    assert WINDOW_WARNING not in text


def test_county_rank_from_sorted_runs(spark_log):
    """Ties in probability go by household id; ranks are 1..n with no gap across partitions."""
    from pyspark.sql import SparkSession

    from serving.jobs.spark_weekly import county_rank

    spark = SparkSession.getActiveSession()
    logged = spark_log.stat().st_size
    rows = [(f"H{i:04d}", round((i * 37 % 101) / 101, 2)) for i in range(500)]
    ranked, runs = county_rank(spark.createDataFrame(rows, "household_id string, probability double"), 7)
    got = dict(ranked.toPandas().itertuples(index=False, name=None))
    runs.unpersist()
    want = {h: r + 1 for r, (h, _) in enumerate(sorted(rows, key=lambda x: (-x[1], x[0])))}
    assert got == want
    with open(spark_log, "rb") as log:
        log.seek(logged)
        assert WINDOW_WARNING not in log.read().decode(errors="replace")


def test_a_week_whose_rows_did_not_all_land_is_not_published(small_county, champion, tmp_path, monkeypatch):
    """The shared publishing step counts the staged rows before the publish transaction: a score
    row lost on the way (here: the last one dropped) fails the run and leaves the week unpublished."""
    from serving.jobs.weekly import run_week
    from serving.settings import Settings
    from serving.store import publishing as pub
    from serving.store import rows
    from serving.store.database import get_engine

    week = _weeks(small_county)[-1]
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'store.db'}")
    real = rows.score_rows
    monkeypatch.setattr(rows, "score_rows", lambda *a, **k: list(real(*a, **k))[:-1])
    with pytest.raises(RuntimeError, match="nothing published"):
        run_week(small_county, week, settings, champion=champion)
    engine = get_engine(settings)
    assert pub.published_run_id(engine, week) is None
