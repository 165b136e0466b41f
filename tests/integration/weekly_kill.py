"""A killed weekly run leaves the published state intact; a re-run replaces a week atomically and
keeps the run history. Real `fanpin weekly` subprocesses, SIGKILL at known stages. The check is
shared by one test module per database, so the two runs go to different test workers."""

from __future__ import annotations

import contextlib

import pandas as pd
from sqlalchemy import func, select

from serving.store import models as m
from serving.store.database import make_engine
from tests.databases import fresh_database_url
from tests.integration.weekly_cli import cli_env, run, run_and_kill_at

W1, W2 = "2025-W45", "2025-W46"


@contextlib.contextmanager
def weekly_store(kind: str, tmp_path, small_county, registered_champion):
    """A fresh store of ``kind`` with the small county's history imported up to W1."""
    with fresh_database_url(kind, tmp_path) as url:
        env = cli_env(tmp_path / "home", url, MLFLOW_TRACKING_URI=registered_champion["tracking_uri"])
        run(["history", "import", "--data", str(small_county), "--until", "2025-11-02"], env)
        engine = make_engine(url)
        try:
            yield env, engine, small_county
        finally:
            engine.dispose()


def published(engine) -> dict:
    """Each week's published run and a fingerprint of its visible rows."""
    out = {}
    with engine.connect() as conn:
        for week, run_id in conn.execute(select(m.Week.week, m.Week.published_run_id)).all():
            scores = pd.DataFrame(conn.execute(
                select(m.Score.household_id, m.Score.probability, m.Score.on_watchlist)
                .where(m.Score.run_id == run_id).order_by(m.Score.household_id)).all())
            counts = {t.__tablename__: conn.execute(select(func.count()).select_from(t)
                                                   .where(t.run_id == run_id)).scalar_one()
                      for t in (m.Score, m.WatchlistEntry, m.WeekDocument, m.WeekInput)}
            # Every score row still finds the registry version it showed (purges keep shared ones).
            v = m.RegistryVersion
            orphans = conn.execute(select(func.count()).select_from(m.Score).where(
                m.Score.run_id == run_id, ~select(v.household_id).where(
                    v.household_id == m.Score.household_id, v.since_run_id == m.Score.registry_run).exists())
            ).scalar_one()
            assert orphans == 0, f"{week}: {orphans} score rows lost their registry version"
            out[week] = {"run_id": run_id, "counts": counts,
                         "scores": pd.util.hash_pandas_object(scores, index=False).sum()}
    return out


def runs(engine, week):
    with engine.connect() as conn:
        return conn.execute(select(m.Run.id, m.Run.status, m.Run.started_by, m.Run.model_version,
                                   m.Run.data_fingerprint, m.Run.households_scored)
                            .where(m.Run.week == week).order_by(m.Run.id)).all()


def check_kill_and_rerun(env, engine, county) -> None:
    """Kill new and re-run weeks at several stages; the published state never changes until a
    complete run replaces it, and the run history keeps every attempt."""
    first = run(["weekly", "--data", str(county), "--week", W1], env)
    assert first["week"] == W1 and first["households_scored"] > 1000 and first["watchlist_size"] > 0
    before = published(engine)
    assert list(before) == [W1] and before[W1]["counts"]["scores"] == first["households_scored"]

    # A new week killed after its scores were staged, and inside the publishing transaction.
    for stage in ("stage-scores", "publish"):
        run_and_kill_at(["weekly", "--data", str(county), "--week", W2], env, stage)
        assert published(engine) == before, f"killed at {stage}: the published state changed"

    # Re-running the published week, killed at several points: W1 still shows its first run.
    for stage in ("explain", "stage-scores", "publish"):
        run_and_kill_at(["weekly", "--data", str(county), "--week", W1], env, stage)
        assert published(engine) == before, f"re-run killed at {stage}: the published state changed"

    # A complete re-run replaces the week at once; same data and model give the same scores.
    again = run(["weekly", "--data", str(county), "--week", W1], env)
    after = published(engine)
    assert after[W1]["run_id"] != before[W1]["run_id"]
    assert after[W1]["scores"] == before[W1]["scores"] and after[W1]["counts"] == before[W1]["counts"]
    assert again["households_scored"] == first["households_scored"]

    history = runs(engine, W1)
    statuses = [r.status for r in history]
    assert statuses[0] == "superseded" and statuses[-1] == "published"
    assert statuses.count("failed") == 3  # the three killed re-runs, abandoned by the next run
    assert all(r.model_version == first["model_version"] and r.started_by for r in history)
    assert len({r.data_fingerprint for r in history if r.data_fingerprint}) == 1

    # Rows of superseded and abandoned runs are gone; their run records stay.
    with engine.connect() as conn:
        live = set(conn.execute(select(m.Week.published_run_id)).scalars())
        staged = set(conn.execute(select(m.Score.run_id).distinct()).scalars())
    running_w2 = {r.id for r in runs(engine, W2) if r.status == "running"}
    assert staged <= live | running_w2

    second = run(["weekly", "--data", str(county), "--week", W2], env)
    final = published(engine)
    assert set(final) == {W1, W2} and final[W1] == after[W1]
    assert final[W2]["counts"]["scores"] == second["households_scored"]
