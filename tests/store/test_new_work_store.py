"""The week's new work on the test county: within capacity, a "no risk" household held back the
next week and back when its risk rises past the margin; a top-tenth "no risk" needs a reason.

Its own SQLite store (officers' records are written into it; the shared published store stays
as it is): 2025-W45 published, a visit recorded, 2025-W46 published."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

WEEKS = ("2025-W45", "2025-W46")


@pytest.fixture(scope="module")
def two_weeks(small_county, fitted_champion, tmp_path_factory):
    from features.weeks import week_cutoff
    from serving.jobs.weekly import run_week
    from serving.store import models as m
    from serving.store.database import get_engine, session_factory
    from tests.store.published import publish_weeks

    tmp = tmp_path_factory.mktemp("new-work")
    p = publish_weeks(small_county, fitted_champion, tmp / "home", f"sqlite:///{tmp}/store.db", WEEKS[:1])
    engine = get_engine(p.settings)
    with session_factory(engine)() as db:
        run_id = db.scalar(select(m.Week.published_run_id).where(m.Week.week == WEEKS[0]))
        picks = db.execute(select(m.WatchlistEntry.household_id, m.WatchlistEntry.township, m.WatchlistEntry.reasons)
                           .join(m.Score, (m.Score.run_id == m.WatchlistEntry.run_id)
                                 & (m.Score.household_id == m.WatchlistEntry.household_id))
                           .where(m.WatchlistEntry.run_id == run_id).order_by(m.Score.rank)).all()
        household, township, _ = next(r for r in picks if r[2] == ["capacity"])
        db.add(m.Feedback(household_id=household, week=WEEKS[0], township=township, outcome="not_at_risk",
                          risk_types=[], note="外出务工收入稳定", username="officer1",
                          created_at=week_cutoff(WEEKS[0]).to_pydatetime() + timedelta(days=2)))
        db.commit()
    result = run_week(small_county, WEEKS[1], p.settings, champion=fitted_champion, started_by="tests")
    return p, household, result


def _work(p, week):
    import pandas as pd

    from serving.store import models as m
    from serving.store.database import get_engine

    engine = get_engine(p.settings)
    with engine.connect() as conn:
        run_id = conn.execute(select(m.Week.published_run_id).where(m.Week.week == week)).scalar()
        work = pd.read_sql(select(m.WeekWork).where(m.WeekWork.run_id == run_id), conn)
        warned = pd.read_sql(select(m.DepartmentWarning.household_id, m.DepartmentWarning.township)
                             .where(m.DepartmentWarning.run_id == run_id), conn)
        listed = pd.read_sql(select(m.Score.household_id, m.Score.on_watchlist).where(m.Score.run_id == run_id), conn)
    return work, warned, listed


def test_new_work_stays_within_capacity_plus_warnings_and_new_criteria(two_weeks):
    from serving.core.watchlist import load_watchlist_config

    p, _, result = two_weeks
    config = load_watchlist_config()
    work, warned, _ = _work(p, WEEKS[1])
    assert len(work) > 0 and result["stages"]["work"]["new"] == int((work["work"] == "new").sum())
    for township, part in work.groupby("township"):
        new = part.loc[part["work"] == "new"]
        mandatory = warned.loc[warned["township"] == township, "household_id"].nunique() + \
            int((new["why"] == "new_criterion").sum())
        assert len(new) <= config.capacity(township) + mandatory, township
    # The criteria households listed week after week are mostly known, not new work.
    assert (work["work"] == "known").sum() > 0


def test_a_no_risk_household_is_held_back_and_comes_back_when_its_risk_rises(two_weeks):
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from features.weeks import Week, week_cutoff
    from serving.core.scoring import score_week
    from serving.core.watchlist import load_watchlist_config
    from serving.jobs.week_run import previous_scores
    from serving.store.database import get_engine
    from serving.store.followup import read_followup
    from serving.store.publishing import previous_published
    from serving.weekly.history import load_history

    p, household, result = two_weeks
    work, _, listed = _work(p, WEEKS[1])
    row = work.set_index("household_id").loc[household]
    assert (row["work"], row["why"]) == ("held", "no_risk")
    assert not listed.set_index("household_id").loc[household, "on_watchlist"]
    assert result["stages"]["work"]["held_back"]["no_risk"] >= 1
    # Its risk rising past the margin since the verdict brings it back as new work.
    engine = get_engine(p.settings)
    config = load_watchlist_config()
    policy = load_policy()
    cutoff = week_cutoff(WEEKS[1])
    followup = read_followup(engine, WEEKS[1], cutoff.date(), config)
    assert household in followup.judged
    frame = build_household_frame(load_history(p.settings.home).tables, cutoff, policy)
    last = previous_scores(engine, previous_published(engine, Week(WEEKS[1])))
    now = score_week(frame, p.champion.model, policy, config, last, followup=followup)
    risk = float(now.scored.set_index("household_id").loc[household, "probability"])
    risen = replace(followup, judged={**followup.judged, household: risk - config.hold_margin - 1e-6})
    again = score_week(frame, p.champion.model, policy, config, last, followup=risen)
    back = again.work.set_index("household_id").loc[household]
    assert (back["work"], back["why"]) == ("new", "risen_since_judged")
    assert again.scored.set_index("household_id").loc[household, "on_watchlist"]


def test_no_risk_on_a_top_tenth_household_needs_a_reason(two_weeks):
    from serving.store import models as m
    from serving.store.database import get_engine
    from tests.store.api_client import bearer, signed_in_api

    p, _, _ = two_weeks
    with get_engine(p.settings).connect() as conn:
        run_id = conn.execute(select(m.Week.published_run_id).where(m.Week.week == WEEKS[1])).scalar()
        top = conn.execute(select(m.Score.household_id).where(m.Score.run_id == run_id, m.Score.rank == 1)).scalar()
        low = conn.execute(select(m.Score.household_id).where(m.Score.run_id == run_id)
                           .order_by(m.Score.rank.desc())).scalars().first()
    with signed_in_api(p) as (client, tokens):
        auth = bearer(tokens["county_officer"])
        url = f"/api/v1/households/{top}/feedback"
        refused = client.post(url, json={"week": WEEKS[1], "outcome": "not_at_risk", "note": " "}, headers=auth)
        assert refused.status_code == 422 and "reason" in refused.text
        assert client.post(url, json={"week": WEEKS[1], "outcome": "not_at_risk", "note": "已稳定就业"},
                           headers=auth).status_code == 201
        assert client.post(f"/api/v1/households/{low}/feedback", json={"week": WEEKS[1], "outcome": "not_at_risk"},
                           headers=auth).status_code == 201


def test_the_list_page_separates_new_work_and_says_what_was_held_back(two_weeks):
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from tests.store.test_web_roles import sign_in

    p, household, result = two_weeks
    app = create_app(p.settings, champion=p.champion)
    with TestClient(app) as client:
        sign_in(client, p.users["county_officer"])
        page = client.get(f"/watchlist?week={WEEKS[1]}")
        assert page.status_code == 200
        assert f'id="work-new">{result["stages"]["work"]["new"]}<' in page.text
        assert "近期判定无风险 1" in page.text or "judged no risk recently 1" in page.text
        new_only = client.get(f"/watchlist?week={WEEKS[1]}&work=new")
        assert household not in new_only.text
        assert 'id="match-count" data-total="{}"'.format(
            result["stages"]["work"]["new"] - _unlisted_new(p)) in new_only.text


def _unlisted_new(p) -> int:
    work, _, listed = _work(p, WEEKS[1])
    on = set(listed.loc[listed["on_watchlist"], "household_id"])
    return int(((work["work"] == "new") & ~work["household_id"].isin(on)).sum())


def test_an_admin_sets_a_capacity_with_its_history_and_the_next_run_uses_it(two_weeks, small_county):
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.jobs.week_run import as_week, prepare_job
    from tests.store.test_web_roles import sign_in

    p, _, _ = two_weeks
    app = create_app(p.settings, champion=p.champion)
    with TestClient(app) as admin, TestClient(app) as officer:
        token = sign_in(admin, p.users["admin"])
        sign_in(officer, p.users["county_officer"])
        assert officer.get("/capacities").status_code == 403
        assert admin.get("/capacities").status_code == 200
        for capacity, note in ((7, "农忙"), (9, "增派驻村干部")):
            done = admin.post("/capacities", data={"csrf_token": token, "township": p.own_township,
                                                   "capacity": str(capacity), "note": note}, follow_redirects=False)
            assert done.status_code == 303
        assert admin.post("/capacities", data={"csrf_token": token, "township": p.own_township, "capacity": "-3"},
                          follow_redirects=False).status_code == 400
        assert admin.post("/capacities", data={"csrf_token": token, "township": "无此乡镇", "capacity": "3"},
                          follow_redirects=False).status_code == 404
        history = admin.get("/capacities").text
        assert "农忙" in history and "增派驻村干部" in history
    config = prepare_job(small_county, as_week(WEEKS[1]), p.settings, champion=p.champion).config
    assert config.capacity(p.own_township) == 9


def test_follow_through_figures_in_the_weekly_result_the_api_and_the_page(two_weeks):
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from tests.store.api_client import bearer, token
    from tests.store.test_web_roles import sign_in

    p, household, result = two_weeks
    # The weekly JSON carries the week's headline: the funnel counts the visit recorded in W45.
    assert {"follow_through", "missed_share", "alerts_per_officer_week"} <= set(result)
    funnel = result["follow_through"]
    assert funnel["listed"] > 0 and funnel["visited"] >= 1 and funnel["visited_in_time"] >= 1
    assert result["alerts_per_officer_week"] is not None  # one officer recorded a verdict
    app = create_app(p.settings, champion=p.champion)
    with TestClient(app) as client:
        county = client.get("/api/v1/follow-through", headers=bearer(token(client, p.users["county_officer"])))
        assert county.status_code == 200
        body = county.json()
        # The weekly JSON's funnel carries the period's casework beside it (the API: its own key).
        assert body["funnel"] == {k: v for k, v in funnel.items() if k != "casework"} and body["week"] == WEEKS[1]
        assert body["casework"] == funnel["casework"] and "appeal_overdue" in funnel
        assert body["judgement"]["matured"] is False and body["judgement"]["table"] == []
        assert len({r["township"] for r in body["by_township"]}) > 1
        leader = bearer(token(client, p.users["township_leader"]))
        own = client.get("/api/v1/follow-through", headers=leader).json()
        assert {r["township"] for r in own["by_township"]} == {p.own_township}
        assert client.get(f"/api/v1/follow-through?township={p.other_township}", headers=leader).status_code == 404
        assert client.get("/api/v1/follow-through",
                          headers=bearer(token(client, p.users["researcher"]))).status_code == 403
    with TestClient(app) as browser:
        sign_in(browser, p.users["township_leader"])
        page = browser.get("/follow-through")
        assert page.status_code == 200 and p.own_township in page.text and p.other_township not in page.text
        assert 'id="not-matured"' in page.text
        sheet = browser.get("/follow-through/export.xlsx")
        assert sheet.status_code == 200 and sheet.content[:2] == b"PK"


def test_follow_through_figures_are_cached_until_the_ledger_changes(two_weeks):
    """A leader opening the page again reads three counts, not the ledger; a visit recorded since
    (or another township) computes afresh; a caller adding keys does not change the cache."""
    from serving.store import follow_through as ft
    from serving.store import models as m
    from serving.store.database import get_engine, session_factory

    p, household, _ = two_weeks
    with session_factory(get_engine(p.settings))() as db:
        first = ft.figures(db, p.settings.home, WEEKS[1], p.own_township)
        first["townships"] = ["changed by a caller"]
        hits, misses = ft.STATS["hits"], ft.STATS["misses"]
        again = ft.figures(db, p.settings.home, WEEKS[1], p.own_township)
        assert (ft.STATS["hits"], ft.STATS["misses"]) == (hits + 1, misses)
        assert "townships" not in again and again["funnel"] == first["funnel"]
        ft.figures(db, p.settings.home, WEEKS[1], p.other_township)
        assert ft.STATS["misses"] == misses + 1
        listed = next(r for r in again["by_village"] if r["listed"] > r["visited"])
        visited = again["funnel"]["visited"]
        unvisited = db.scalars(select(m.Score.household_id).where(
            m.Score.township == p.own_township, m.Score.village == listed["village"], m.Score.on_watchlist.is_(True),
            m.Score.household_id.not_in(select(m.Feedback.household_id)))).first()
        db.add(m.Feedback(household_id=unvisited, week=WEEKS[1], township=p.own_township, outcome="confirmed_at_risk",
                          risk_types=[], note="", username="officer2",
                          created_at=datetime.combine(date.fromisoformat(again["as_of"]), time(9))))
        db.commit()
        fresh = ft.figures(db, p.settings.home, WEEKS[1], p.own_township)
        assert ft.STATS["misses"] == misses + 2 and fresh["funnel"]["visited"] == visited + 1


def test_simulated_officers_make_the_county_work_and_say_so(two_weeks, small_county):
    """Last in this file: it writes simulated visits and cases into the module's store."""
    import pandas as pd

    from serving.jobs.simulated_officers import simulate_officers
    from serving.store import models as m
    from serving.store.database import get_engine, session_factory
    from serving.store.follow_through import figures

    p, household, _ = two_weeks
    engine = get_engine(p.settings)

    def people() -> set[str]:
        with session_factory(engine)() as db:
            return set(db.scalars(select(m.Feedback.username)).all()) | set(db.scalars(select(m.CaseStep.username)).all())

    before = people()  # the real visits this module's other tests recorded
    written = simulate_officers(engine, small_county, seed=3)
    assert written["weeks"] == 2 and written["visits"] > 10 and written["cases"] > 0 and written["decisions"] > 0
    assert simulate_officers(engine, small_county, seed=3)["visits"] == 0  # a worked week is not worked again
    with session_factory(engine)() as db:
        # Every record the simulation wrote is signed by a simulated officer; the real ones are untouched.
        added = people() - before
        assert added and all(u.startswith("sim-") for u in added), added
        assert "officer1" in before
        steps = db.execute(select(m.CaseStep.case_id, m.CaseStep.action, m.CaseStep.step_date)
                           .order_by(m.CaseStep.case_id, m.CaseStep.id)).all()
        result = figures(db, p.settings.home, WEEKS[1])
    by_case: dict[int, list] = {}
    for case_id, action, day in steps:
        by_case.setdefault(case_id, []).append((action, day))
    for sequence in by_case.values():  # the lifecycle's order and its 5-day notice
        days = [d for _, d in sequence]
        assert days == sorted(days)
        actions = dict(sequence)
        if "township_review" in actions:
            assert (actions["township_review"] - actions["village_notice"]).days >= 5
    assert result["simulated"] is True
    assert result["funnel"]["case_opened"] > 0 and result["funnel"]["visited"] > 1
    # The earlier months were worked too: eliminations (six months after identification), and
    # notices objected to and decisions appealed, with an appeal that overturned.
    assert written["earlier_cases"] > 5 and written["eliminated"] > 0
    assert written["objections"] > 0 and written["appeals"] > 0 and written["overturned"] > 0
    work = result["casework"]
    assert work["decisions"] > 0
    # Every funnel figure has a value (elimination: see the casework), the days to a measure when a
    # measure fell in the period (3-21 days after a decision: two weeks may end before the first).
    funnel = result["funnel"]
    empty = [k for k, v in funnel.items() if v is None and k != "days_to_elimination"
             and not (k == "days_to_measure" and not funnel["measures"])]
    assert not empty, empty
    assert written["measures"] > 0
    assert result["missed_share"]["share"] is not None and result["alerts_per_officer_week"] > 0
    with session_factory(engine)() as db:
        # Every simulated case is what the case pages' rules leave after its steps.
        from serving.cases import lifecycle as lc

        for case in db.scalars(select(m.Case)):
            rows = [s for s in steps if s[0] == case.id and s[1] != "lead"]
            assert case.stage in lc.STAGES and case.outcome in lc.OUTCOMES
            if any(a == "appeal_decision" for _, a, _ in rows) and case.outcome == "identified":
                assert case.decided_on == max(d for _, a, d in rows if a == "appeal_decision")
        # Eliminations on the registry's date (never before six months of listing); the casework
        # counts those recorded in the period.
        truth = pd.read_parquet(small_county / "history" / "outcomes.parquet")
        eliminated = {h: pd.Timestamp(d).date() for h, d in zip(truth["household_id"], truth["elimination_date"],
                                                                  strict=True) if pd.notna(d)}
        done = db.scalars(select(m.Case).where(m.Case.outcome == "eliminated")).all()
        assert done and all(c.closed_on >= lc.add_months(c.decided_on, 6) for c in done)
        assert all(c.closed_on == max(eliminated[c.household_id], lc.add_months(c.decided_on, 6)) for c in done)
        start, end = date.fromisoformat(result["as_of"]) - timedelta(days=13), date.fromisoformat(result["as_of"])
        assert work["eliminated"] == sum(start <= c.closed_on <= end for c in done)
    assert len([r for r in result["by_officer"] if r["officer"] and r["officer"].startswith("sim-")]) > 1
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from tests.store.test_web_roles import sign_in

    with TestClient(create_app(p.settings, champion=p.champion)) as client:
        sign_in(client, p.users["county_officer"])
        for language in ("zh_CN", "en"):
            client.get(f"/lang/{language}?next=/login")
            page = client.get(f"/follow-through?week={WEEKS[1]}")
            assert page.status_code == 200 and 'id="simulated"' in page.text, page.text[-3000:]
