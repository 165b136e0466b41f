"""Weeks published a year back, whose outcomes have matured (as `fanpin demo` publishes them): the
model / officers / both table shows recall and precision with intervals, warns when the model
that scored the weeks learned their outcomes, and a township leader sees only their township.

Its own SQLite store: 2024-W48 and 2024-W49 published from exports rebuilt from the history, the
full history imported afterwards (outcomes known to 2025-12-31), the weeks worked by the
simulated officers."""

from __future__ import annotations

import filecmp
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from tests.store.api_client import PASSWORD

WEEKS = ("2024-W48", "2024-W49")
FITTED_THROUGH = "2024-12-29"  # what the second week's model says it learned


@pytest.fixture(scope="module")
def year_back(small_county, fitted_champion, tmp_path_factory):
    from features.simulator.export import write_earlier_exports
    from features.weeks import week_monday
    from serving.access.auth import create_user
    from serving.jobs.simulated_officers import simulate_officers
    from serving.jobs.weekly import run_week
    from serving.settings import Settings
    from serving.store.database import get_engine, session_factory
    from serving.weekly.history import import_history

    tmp = tmp_path_factory.mktemp("year-back")
    settings = Settings(home=tmp / "home", database_url=f"sqlite:///{tmp}/store.db")
    import_history(small_county, settings.ensure_home(), until=pd.Timestamp(week_monday(WEEKS[0])) - pd.Timedelta(days=1))
    folders = write_earlier_exports(small_county, list(WEEKS), tmp / "earlier")
    # The first week's model records no fitted window (the tests' champion was fitted on cutoffs
    # to 2024-09); the second week's says it learned outcomes to the end of 2024.
    learned = replace(fitted_champion, metrics={**fitted_champion.metrics, "served": {"served_calibrate_last": FITTED_THROUGH}})
    for folder, week, champion in zip(folders, WEEKS, (fitted_champion, learned), strict=True):
        run_week(folder, week, settings, champion=champion, started_by="tests")
    import_history(small_county, settings.home)  # the registry a year later: the outcomes are known
    engine = get_engine(settings)
    worked = simulate_officers(engine, small_county, seed=5)
    with session_factory(engine)() as session:
        from serving.store import models as m

        run_id = session.scalar(select(m.Week.published_run_id).where(m.Week.week == WEEKS[-1]))
        townships = sorted(set(session.scalars(select(m.Score.township).where(m.Score.run_id == run_id)).all()))
        create_user(session, "officer-yb", PASSWORD, "county_officer", None)
        create_user(session, "leader-yb", PASSWORD, "township_leader", townships[0])
        session.commit()
    return settings, folders, worked, townships, fitted_champion


def test_earlier_exports_are_the_exports_the_registry_sent(small_county, tmp_path):
    """Rebuilt from the history, an export week's files are byte-equal to the export itself."""
    from features.simulator.export import write_earlier_exports

    weeks = sorted(p.name for p in (small_county / "exports").iterdir())
    (folder,) = write_earlier_exports(small_county, [weeks[0]], tmp_path)
    for original in (small_county / "exports" / weeks[0]).iterdir():
        assert filecmp.cmp(original, folder / original.name, shallow=False), original.name


def test_matured_weeks_show_recall_and_precision_with_intervals(year_back):
    from serving.store.database import get_engine, session_factory
    from serving.store.follow_through import figures

    settings, _, worked, townships, _ = year_back
    assert worked["weeks"] == 2 and worked["visits"] > 0
    with session_factory(get_engine(settings))() as db:
        result = figures(db, settings.home, WEEKS[-1])
    judged = result["judgement"]
    assert result["weeks"] == list(WEEKS) and judged["matured"] is True
    table = pd.DataFrame(judged["table"])
    assert set(table["way"]) == {"model", "officers", "final"}
    assert set(table["township"].dropna()) == set(townships)
    county = table.loc[table["township"].isna()].set_index("way")
    assert (county["positives"] > 0).all() and county.loc["model", "flagged"] > 0
    for _, r in table.dropna(subset=["recall"]).iterrows():
        assert r["recall_low"] <= r["recall"] <= r["recall_high"]
        assert r["hits"] <= min(r["positives"], r["flagged"])
    # The second week's model learned these weeks' outcomes: its recall is in-sample, and said so.
    assert judged["in_sample"] is True and judged["model_fitted_through"] == FITTED_THROUGH


def test_a_period_holds_only_its_own_calendar_weeks(year_back):
    """The period is the 13 calendar weeks ending with the week asked for; the previous week a
    week compares with is at most 8 weeks back."""
    from features.weeks import Week
    from serving.store.database import get_engine, session_factory
    from serving.store.follow_through import _published, figures
    from serving.store.publishing import previous_published

    settings, *_ = year_back
    engine = get_engine(settings)
    with session_factory(engine)() as db:
        assert [w for w, _, _ in _published(db, Week("2025-W08"), 13)] == list(WEEKS)  # 2024 has 52 weeks
        assert [w for w, _, _ in _published(db, Week("2025-W09"), 13)] == ["2024-W49"]
        assert _published(db, Week("2025-W10"), 13) == []
        first = figures(db, settings.home, WEEKS[0])
        # Outcomes known only to 2025-12-01: the period W48-W49 has not matured (W49 + 52 weeks is
        # 2025-12-07), and the page points to W48 (cutoff 2024-12-01), whose outcomes have.
        early = figures(db, settings.home, WEEKS[-1], data_end=date(2025, 12, 1))["judgement"]
        assert early["matured"] is False and early["matured_week"] == WEEKS[0]
        assert figures(db, settings.home, WEEKS[-1])["judgement"]["matured_week"] is None
    # Only the first week, scored by a model that recorded no fitted window: nothing in-sample.
    assert first["weeks"] == [WEEKS[0]] and first["judgement"]["in_sample"] is False
    assert previous_published(engine, Week(WEEKS[1]))[0] == WEEKS[0]
    assert previous_published(engine, Week("2025-W05"))[0] == WEEKS[1]
    assert previous_published(engine, Week("2025-W06")) is None


def test_a_township_leader_sees_only_their_townships_judgement(year_back):
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from tests.store.api_client import bearer, token

    settings, _, _, townships, champion = year_back
    with TestClient(create_app(settings, champion=champion)) as client:
        leader = client.get(f"/api/v1/follow-through?week={WEEKS[-1]}",
                            headers=bearer(token(client, "leader-yb", PASSWORD)))
        county = client.get(f"/api/v1/follow-through?week={WEEKS[-1]}",
                            headers=bearer(token(client, "officer-yb", PASSWORD)))
    assert leader.status_code == 200 and county.status_code == 200
    own = {r["township"] for r in leader.json()["judgement"]["table"]}
    assert own == {townships[0], None}
    assert len({r["township"] for r in county.json()["judgement"]["table"]}) == len(townships) + 1
