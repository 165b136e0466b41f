"""Attacks on the weekly job: overlapping runs, a lost lease, a killed holder, a cut or empty
households file, a corrected re-run, a full-width week label. Real job, real store, on SQLite and
PostgreSQL; the shared small county and fitted champion (no simulation or training here)."""

from __future__ import annotations

import shutil
import subprocess
import threading

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from serving.settings import Settings
from serving.store import models as m
from serving.store.database import get_engine
from tests.databases import database_params, fresh_database_url

pytestmark = pytest.mark.slow  # real weekly runs and an app on the shared published store

W1, W2 = "2025-W45", "2025-W46"


@pytest.fixture(params=database_params())
def job(request, tmp_path, small_county, fitted_champion):
    """(settings, run) on a fresh store whose history is imported up to the week before W1;
    ``run(week, data=None, **kw)`` runs the real weekly job."""
    from features.weeks import week_cutoff
    from serving.jobs.weekly import run_week
    from serving.weekly.history import import_history

    with fresh_database_url(request.param, tmp_path) as url:
        settings = Settings(home=tmp_path / "home", database_url=url)
        import_history(small_county, settings.ensure_home(), until=week_cutoff(W1) - pd.Timedelta(days=7))

        def run(week, data=None, **kw):
            return run_week(data or small_county, week, settings, champion=fitted_champion, started_by="tests", **kw)

        yield settings, run
        get_engine(settings).dispose()


def export_copy(county, week, tmp_path, change=None):
    """A copy of the week's export folder (``change(households) -> households`` edits it)."""
    folder = tmp_path / "exports" / week
    shutil.copytree(county / "exports" / week, folder)
    if change is not None:
        path = folder / "households.csv"
        households = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        change(households).to_csv(path, index=False, encoding="utf-8-sig")
    return tmp_path


def published(settings, week):
    engine = get_engine(settings)
    with engine.connect() as conn:
        run_id = conn.execute(select(m.Week.published_run_id).where(m.Week.week == week)).scalar_one_or_none()
        if run_id is None:
            return None
        scores = conn.execute(select(func.count()).select_from(m.Score).where(m.Score.run_id == run_id)).scalar_one()
        run = conn.execute(select(m.Run).where(m.Run.id == run_id)).first()
    return {"run_id": run_id, "scores": scores, "run": run}


def test_overlapping_runs_one_is_refused_and_the_other_publishes_whole(job):
    from serving.store.lease import LeaseHeld

    settings, run = job
    at_explain, go_on = threading.Event(), threading.Event()
    outcome = {}

    def slow(stage):
        if stage == "explain":
            at_explain.set()
            assert go_on.wait(300)

    def first():
        try:
            outcome["first"] = run(W1, progress=slow)
        except BaseException as error:  # reported below
            outcome["first"] = error

    thread = threading.Thread(target=first)
    thread.start()
    assert at_explain.wait(300)
    with pytest.raises(LeaseHeld, match=rf"week {W1} is being run by run \d+"):
        run(W1)
    go_on.set()
    thread.join(300)
    result = outcome["first"]
    assert isinstance(result, dict), result
    week = published(settings, W1)
    assert week["run_id"] == result["run_id"] and week["scores"] == result["households_scored"] > 1000
    with get_engine(settings).connect() as conn:
        statuses = dict(conn.execute(select(m.Run.id, m.Run.status).where(m.Run.week == W1)).all())
        leases = conn.execute(select(func.count()).select_from(m.WeekLease)).scalar_one()
    assert sorted(statuses.values()) == ["failed", "published"] and leases == 0


def test_a_run_that_lost_its_lease_publishes_nothing(job):
    from serving.store.lease import LeaseLost

    settings, run = job
    engine = get_engine(settings)

    def taken_over(stage):
        if stage == "publish":  # as if another run took the week after this one stopped renewing
            with engine.begin() as conn:
                conn.execute(update(m.WeekLease).where(m.WeekLease.week == W1).values(run_id=-1))

    with pytest.raises(LeaseLost):
        run(W1, progress=taken_over)
    assert published(settings, W1) is None
    with engine.connect() as conn:
        assert conn.execute(select(m.Run.status).where(m.Run.week == W1)).scalars().all() == ["failed"]
        assert conn.execute(select(func.count()).select_from(m.Score)).scalar_one() == 0


def test_a_killed_holder_releases_the_week(job):
    from serving.store.publishing import utcnow

    settings, run = job
    dead = subprocess.Popen(["true"])
    dead.wait()
    import socket

    engine = get_engine(settings)
    from serving.store.database import upgrade

    upgrade(engine)
    now = utcnow()
    with engine.begin() as conn:
        stale = conn.execute(m.Run.__table__.insert().values(week=W1, status="running", started_by="killed",
                                                             started_at=now)).inserted_primary_key[0]
        conn.execute(m.WeekLease.__table__.insert().values(
            week=W1, run_id=stale, host=socket.gethostname(), pid=dead.pid, taken_at=now,
            expires_at=now + pd.Timedelta(minutes=5)))
    result = run(W1)
    assert published(settings, W1)["run_id"] == result["run_id"]
    with engine.connect() as conn:
        assert conn.execute(select(m.Run.status).where(m.Run.id == stale)).scalar_one() == "failed"


def _two_townships_cut(households):
    townships = sorted(households["乡镇"].unique())
    return households.loc[~households["乡镇"].isin(townships[:2])]


def test_a_cut_file_is_refused_then_accepted_with_an_audit_then_replaced_by_the_correct_one(job, small_county,
                                                                                          tmp_path):
    from serving.jobs.week_run import WeeklyError

    settings, run = job
    full = run(W1)
    cut = export_copy(small_county, W2, tmp_path / "cut", _two_townships_cut)
    with pytest.raises(WeeklyError) as refused:
        run(W2, data=cut)
    line = str(refused.value)
    assert "\n" not in line and "households.csv" in line and "missing" in line and "nothing published" in line
    with get_engine(settings).connect() as conn:  # valid households: a quarantined row is not a household lost
        before = conn.execute(select(m.Run.counts).where(m.Run.id == full["run_id"])).scalar_one()["completeness"]
    assert f"last published {W1}: {before['households']:,}" in line
    assert published(settings, W2) is None

    accepted = run(W2, data=cut, accept_incomplete="two townships moved to the new district")
    assert accepted["households_scored"] < full["households_scored"]
    with get_engine(settings).connect() as conn:
        audit = conn.execute(select(m.AuditEntry).where(m.AuditEntry.action == "weekly.accept_incomplete")).first()
    assert audit.target == W2 and audit.detail["reason"] == "two townships moved to the new district"

    corrected = run(W2)  # the correct export: the week's history is replaced, not skipped
    assert corrected["stages"]["history"] == "replaced"
    assert corrected["households_scored"] > accepted["households_scored"]
    assert corrected["stages"]["households"]["stale"] == 0
    week = published(settings, W2)
    assert week["run_id"] == corrected["run_id"] and week["scores"] == corrected["households_scored"]


def test_a_header_only_households_file_is_refused(job, small_county, tmp_path):
    from serving.jobs.week_run import WeeklyError

    settings, run = job
    empty = export_copy(small_county, W1, tmp_path / "empty", lambda h: h.iloc[0:0])
    with pytest.raises(WeeklyError, match=r"households.csv: no valid households rows"):
        run(W1, data=empty)
    assert published(settings, W1) is None


def test_every_published_week_reconciles_and_a_full_width_week_is_the_same_week(job):
    settings, run = job
    result = run("２０２５－Ｗ４５")
    assert result["week"] == W1
    counts = result["stages"]["households"]
    assert counts["in"] == counts["scored"] + counts["quarantined"] + counts["held"] + counts["not_scored"]
    assert counts["scored"] == result["households_scored"] and counts["stale"] == 0
    again = run(" 2025-w45 ")
    assert again["week"] == W1
    with get_engine(settings).connect() as conn:
        weeks = conn.execute(select(m.Week.week, m.Week.cutoff)).all()
    assert [w for w, _ in weeks] == [W1]


def test_a_model_that_scores_nan_publishes_nothing_and_names_the_households(job, small_county, fitted_champion):
    """Issue 22: a corrupted model artifact (its calibrator's intercept lost) scores NaN; the week is
    refused in one line, nothing becomes a silent null in the store."""
    import copy

    import numpy as np

    from models.sanity import ScoreSanityError
    from serving.jobs.weekly import run_week

    settings, _ = job
    broken = copy.deepcopy(fitted_champion)
    broken.model.calibrator_.intercept_ = np.array([np.nan])
    with pytest.raises(ScoreSanityError, match=r"households got a risk that is not a number in \[0, 1\]") as caught:
        run_week(small_county, W1, settings, champion=broken, started_by="tests")
    message = str(caught.value)
    assert "\n" not in message and "nothing published" in message and "model artifact itself is at fault" in message
    assert caught.value.households[0] in message
    assert published(settings, W1) is None


def _one_township_cut(households):
    """A file at over 80% of its rows: the largest township under 18% of the county cut to 5%."""
    shares = households["乡镇"].value_counts(normalize=True)
    big = shares.index[shares < 0.18][0]
    rows = households.index[households["乡镇"] == big]
    return households.drop(index=rows[max(1, len(rows) // 20):]), big


def test_a_township_cut_or_relabelled_is_refused_though_the_county_looks_complete(job, small_county, tmp_path):
    """Issue 30, item 2: each township against its own last week; relabelled households capped."""
    from serving.jobs.week_run import WeeklyError

    settings, run = job
    full = run(W1)
    seen = {}

    def cut(households):
        out, seen["big"] = _one_township_cut(households)
        seen["share"] = len(out) / len(households)
        return out

    data = export_copy(small_county, W2, tmp_path / "cut", cut)
    assert seen["share"] >= 0.8  # the county's ratio alone passes it
    with pytest.raises(WeeklyError) as refused:
        run(W2, data=data)
    line = str(refused.value)
    assert "\n" not in line and f"households.csv: {seen['big']} " in line and "nothing published" in line
    assert f"last published {W1}" in line and "-9" in line
    assert published(settings, W2) is None

    def relabel(households):
        counts = households["乡镇"].value_counts()
        source, target = counts.index[0], counts.index[1]
        rows = households.index[households["乡镇"] == source][:21]
        out = households.copy()
        out.loc[rows, "乡镇"] = target
        seen["pair"] = (source, target)
        return out

    moved = export_copy(small_county, W2, tmp_path / "moved", relabel)
    with pytest.raises(WeeklyError) as refused:
        run(W2, data=moved)
    line = str(refused.value)
    source, target = seen["pair"]
    assert "\n" not in line and f"21 households changed township since {W1} ({source} -> {target}: 21)" in line
    assert published(settings, W2) is None
    assert run(W2)["households_scored"] >= full["households_scored"] * 0.9  # the real export still publishes
