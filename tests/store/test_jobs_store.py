"""The scoring core against what the weekly job published, and the drift evidence the performance
job reads from the store (not from report files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select


def test_the_scoring_core_reproduces_the_published_week(published_store):
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from features.weeks import Week, week_cutoff
    from serving.core.scoring import score_week
    from serving.core.watchlist import load_watchlist_config
    from serving.jobs.week_run import previous_scores
    from serving.store import models as m
    from serving.store.database import get_engine
    from serving.store.publishing import previous_published
    from serving.weekly.history import load_history

    p = published_store
    week = p.weeks[-1]
    engine = get_engine(p.settings)
    policy = load_policy()
    frame = build_household_frame(load_history(p.settings.home).tables, week_cutoff(week), policy)
    scored = score_week(frame, p.champion.model, policy, load_watchlist_config(), previous_scores(engine, previous_published(engine, Week(week)))).scored
    with engine.connect() as conn:
        run_id = conn.execute(select(m.Week.published_run_id).where(m.Week.week == week)).scalar()
        stored = pd.read_sql(select(m.Score.household_id, m.Score.probability, m.Score.level, m.Score.rank,
                                    m.Score.township_rank, m.Score.on_watchlist, m.Score.flag_new)
                             .where(m.Score.run_id == run_id), conn)
    both = scored.merge(stored, on="household_id", suffixes=("", "_stored"))
    assert len(both) == len(stored) == len(scored) > 0
    np.testing.assert_allclose(both["probability"], both["probability_stored"], rtol=0, atol=1e-12)
    for column in ("rank", "township_rank"):
        assert (both[column].astype("int64") == both[f"{column}_stored"].astype("int64")).all(), column
    for column in ("level", "on_watchlist", "flag_new"):
        assert (both[column].astype(str) == both[f"{column}_stored"].astype(str)).all(), column


def test_performance_reads_the_newest_drift_check_from_the_store(store_url, tmp_path):
    """Two published weeks, the newer one's drift check not run: the evidence is the older check."""
    from serving.jobs.performance import latest_drift_summary
    from serving.settings import Settings
    from serving.store import models as m
    from serving.store import publishing as pub
    from serving.store.database import get_engine, upgrade
    from serving.store.rows import alert_row

    settings = Settings(home=tmp_path / "home", database_url=store_url)
    assert latest_drift_summary(settings) is None  # nothing published yet
    engine = get_engine(settings)
    upgrade(engine)
    checks = {
        "2025-W10": ("ok", {"week": "2025-W10", "share_drifted": 0.4},
                     [{"severity": "medium", "kind": "local_shock", "township": "甲镇", "feature": "disaster_events_13w",
                       "message_zh": "甲镇受灾", "message_en": "flood", "psi": 0.5}]),
        "2025-W11": ("not run", {"reason": "the champion has no reference sample"}, []),
    }
    for week, (status, summary, alerts) in checks.items():
        run_id = pub.start_run(engine, week, started_by="test")
        pub.stage_rows(engine, m.DriftResult, [{"status": status, "summary": summary, "feature_results": None,
                                                "report_html": None, "report_samples": None}], run_id)
        pub.stage_rows(engine, m.DriftAlert, [alert_row(a) for a in alerts], run_id)
        pub.publish(engine, run_id, week, _sunday(week), {})
    found = latest_drift_summary(settings)
    assert found["week"] == "2025-W10" and found["share_drifted"] == 0.4
    assert [(a["severity"], a["kind"], a["township"]) for a in found["alerts"]] == [("medium", "local_shock", "甲镇")]


def _sunday(week: str):
    from features.weeks import week_cutoff

    return week_cutoff(week).date()


def test_the_matured_list_is_read_as_it_was_published(store_url, tmp_path, small_county, fitted_champion):
    """Issue 22: 52 weeks after a published week, model health reads that week's stored scores
    (``method: published``) and sets them against who entered monitoring; the champion's backtest of
    the same cutoff, scoring the same households with the same model, gives the same figures."""
    from types import SimpleNamespace

    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from features.reading import read_folder
    from features.weeks import week_cutoff
    from monitoring.performance import realised_performance
    from serving.core.scoring import score_week
    from serving.core.watchlist import load_watchlist_config
    from serving.jobs.model_health import matured_table
    from serving.settings import Settings
    from serving.store import models as m
    from serving.store import publishing as pub
    from serving.store import rows
    from serving.store.database import get_engine, upgrade

    tables = read_folder(small_county / "history").tables
    policy = load_policy()
    cutoff = week_cutoff("2024-W45")
    frame = build_household_frame(tables, cutoff, policy)
    scored = score_week(frame, fitted_champion.model, policy, load_watchlist_config()).scored
    engine = get_engine(Settings(home=tmp_path / "home", database_url=store_url))
    upgrade(engine)
    run_id = pub.start_run(engine, "2024-W45", started_by="test")
    pub.stage_rows(engine, m.Score, rows.score_rows(scored, {}), run_id)
    pub.publish(engine, run_id, "2024-W45", cutoff.date(), {})

    job = SimpleNamespace(cutoff=cutoff + pd.Timedelta(weeks=52), engine=engine, policy=policy,
                          champion=fitted_champion)
    table, method = matured_table(job, tables)
    assert method == "published"
    backtest = realised_performance(tables, policy, fitted_champion.model, [cutoff], capacity=0.05)
    published, replayed = (t[t["township"].isna()].iloc[0] for t in (table, backtest))
    assert published["cutoff"] == cutoff and published["entrants"] == replayed["entrants"] > 0
    for figure in ("auc", "recall_at_capacity", "precision_at_capacity", "estimated_recall_at_capacity"):
        assert published[figure] == pytest.approx(replayed[figure], abs=1e-9), figure
    # A week with nothing published a year before falls back to the backtest.
    assert matured_table(SimpleNamespace(**{**vars(job), "cutoff": job.cutoff + pd.Timedelta(weeks=1)}), tables)[1] \
        == "backtest"


def test_a_failed_runs_error_is_masked_before_it_is_cut(store_url, tmp_path):
    """An error quoting an ID number across the 500-character cut, and a phone: neither is stored."""
    from serving.settings import Settings
    from serving.store import models as m
    from serving.store import publishing as pub
    from serving.store.database import get_engine, upgrade

    engine = get_engine(Settings(home=tmp_path / "home", database_url=store_url))
    upgrade(engine)
    run_id = pub.start_run(engine, "2024-W45", started_by="test")
    error = "电话13912345678 " + "x" * 470 + " 431128196306195294 in column 收入"
    pub.fail_run(engine, run_id, error)
    with engine.connect() as conn:
        stored = conn.execute(select(m.Run.stages).where(m.Run.id == run_id)).scalar_one()["error"]
    assert "13912345678" not in stored and "1963061952" not in stored and "4311281963" not in stored, stored
    assert stored.startswith("电话***********") and len(stored) <= 501
