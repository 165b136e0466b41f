"""The weekly job's shock response and random audit on a simulated flood (issue 33): the week
before the flood says nothing, the flood week names the township, adjusts its households' risk and
proposes capacity; the quarter's audit sample is drawn once, carried, and its findings become
"audit" labels and the hidden-hardship estimate."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def flood_weeks(sim_run, fitted_champion, tmp_path_factory):
    from features.simulator import write_county
    from features.weeks import week_cutoff
    from serving.jobs.weekly import run_week
    from serving.settings import Settings
    from serving.weekly.history import import_history

    tmp = tmp_path_factory.mktemp("flood-week")
    county = tmp / "county"
    scenario = write_county(sim_run, county, {}, scenario="flood")
    weeks = sorted(p.name for p in (county / "exports").iterdir())
    before, flood = weeks[weeks.index(scenario["first_week"]) - 1], scenario["first_week"]
    settings = Settings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'store.db'}", audit_seed=3,
                        audit_share=0.02)
    import_history(county, settings.ensure_home(), until=week_cutoff(before) - pd.Timedelta(days=7))
    first = run_week(county, before, settings, champion=fitted_champion, started_by="tests")
    return county, scenario, settings, first, before, flood, run_week


def test_no_shock_before_the_flood_and_the_audit_drawn(flood_weeks):
    _, _, settings, first, _, _, _ = flood_weeks
    assert first["shock"]["areas"] == [] and first["shock"]["proposals"] == []
    sample = first["audit_sample"]
    assert sample["drawn_this_week"] and sample["seed"] == 3
    # stratified: every township of the county has its share of the unlisted households
    assert sample["by_township"] and all(v["drawn"] >= 1 for v in sample["by_township"].values())
    assert sample["size"] == sum(v["drawn"] for v in sample["by_township"].values())
    assert first["hidden_hardship_share"]["checked"] == 0


def test_flood_week_names_the_township_adjusts_and_proposes(flood_weeks, fitted_champion):
    from sqlalchemy import create_engine, select

    from features.household_frame import build_household_frame
    from serving.store import models as m
    from serving.store.database import session_factory
    from serving.weekly.audit import audit_households
    from serving.weekly.history import load_history

    county, scenario, settings, first, before, flood, run_week = flood_weeks
    engine = create_engine(settings.resolved_database_url)
    # an officer records the home check of two audited households before the flood week runs
    drawn = [h for h, _ in json.loads(json.dumps(
        engine.connect().execute(select(m.Run.stages).where(m.Run.id == first["run_id"])).scalar_one()["audit"]
    ))["households"]][:2]
    with session_factory(engine)() as session:
        for h, outcome in zip(drawn, ("confirmed_at_risk", "not_at_risk"), strict=True):
            session.add(m.Feedback(household_id=h, week=flood, township="-", outcome=outcome, risk_types=[],
                                   note="", username="officer", created_at=pd.Timestamp.now().to_pydatetime()))
        session.add(m.Feedback(household_id="not-audited", week=flood, township="-", outcome="not_at_risk",
                               risk_types=[], note="", username="officer",
                               created_at=pd.Timestamp.now().to_pydatetime()))
        session.commit()
        assert set(audit_households(session)) >= set(drawn)

    second = run_week(county, flood, settings, champion=fitted_champion, started_by="tests")
    areas = second["shock"]["areas"]
    assert [a["area"] for a in areas] == [scenario["township"]]
    assert "受灾户比例" in areas[0]["statement_zh"] and "households hit" in areas[0]["statement_en"]
    proposal = second["shock"]["proposals"][0]
    assert proposal["township"] == scenario["township"] and proposal["status"] == "proposed"
    assert proposal["extra_per_week"] >= 1 and proposal["weeks"] == settings.shock_capacity_weeks
    # the hit township's stored risk is the model's plus the learned offset; others unchanged
    frame = build_household_frame(load_history(settings.home).tables, pd.Timestamp(flood_cutoff(flood)),
                                  settings_policy())
    model = pd.Series(fitted_champion.model.predict_proba(frame)[:, 1], index=frame["household_id"])
    with engine.connect() as conn:
        stored = pd.DataFrame(conn.execute(select(m.Score.household_id, m.Score.township, m.Score.probability)
                                           .where(m.Score.run_id == second["run_id"])).all(),
                              columns=["household_id", "township", "probability"]).set_index("household_id")
    hit = stored["township"] == scenario["township"]
    offset = second["shock"]["adjustment"]
    odds = lambda p: p / (1 - p)  # noqa: E731
    ratio = odds(stored["probability"]) / odds(model.reindex(stored.index))
    assert (ratio[hit] - math.exp(offset)).abs().max() < 1e-6
    assert (ratio[~hit] - 1).abs().max() < 1e-6
    # the quarter's sample is carried, and its findings are the hidden-hardship estimate
    assert not second["audit_sample"]["drawn_this_week"]
    assert second["audit_sample"]["by_township"] == first["audit_sample"]["by_township"]
    est = second["hidden_hardship_share"]
    assert est["checked"] == 2 and est["found"] == 1 and est["low"] < est["share"] < est["high"]

    out = county.parent / "labels.csv"
    env = {**os.environ, "FANPIN_HOME": str(settings.home), "FANPIN_DATABASE_URL": settings.resolved_database_url}
    done = subprocess.run([str(Path(sys.executable).with_name("fanpin")), "feedback", "export", "--out", str(out), "--json"],
                          env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1])["audit"] == 2
    labels = pd.read_csv(out, dtype=str)
    assert set(labels.loc[labels["source"] == "audit", "household_id"]) == set(drawn)
    assert labels.loc[labels["household_id"] == "not-audited", "source"].tolist() == ["visit"]


def flood_cutoff(week: str):
    from features.weeks import week_cutoff

    return week_cutoff(week)


def settings_policy():
    from features.policy import load_policy

    return load_policy(None)


def test_pages_show_the_shock_and_the_audit(flood_weeks, fitted_champion):
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, select

    from serving.access.auth import create_user
    from serving.app import create_app
    from serving.store import models as m
    from serving.store.database import session_factory
    from tests.store.test_web_roles import PASSWORD, sign_in

    county, scenario, settings, _, _, flood, _ = flood_weeks
    engine = create_engine(settings.resolved_database_url)
    with session_factory(engine)() as db:
        create_user(db, "officer33", PASSWORD, "county_officer", None)
        db.commit()
        run_id = db.scalar(select(m.Week.published_run_id).where(m.Week.week == flood))
        hit, other = (db.scalars(select(m.Score.household_id).where(
            m.Score.run_id == run_id, m.Score.township == scenario["township"], m.Score.on_watchlist)).first(),
            db.scalars(select(m.Score.household_id).where(
                m.Score.run_id == run_id, m.Score.township != scenario["township"], m.Score.on_watchlist)).first())
    app = create_app(settings, champion=fitted_champion)
    with TestClient(app) as client:
        sign_in(client, "officer33")
        data = client.get(f"/data?week={flood}").text
        page = client.get(f"/households/{hit}?week={flood}").text
        elsewhere = client.get(f"/households/{other}?week={flood}").text
    assert 'id="shock"' in data and scenario["township"] in data and "待县级确认" in data
    assert 'id="audit"' in data and 'id="hidden-hardship"' in data and "50.0%" in data
    # the adjustment and its origin beside the household's own reasons, only in the hit township
    assert 'id="shock-note"' in page and "受灾户比例" in page and "近4周" in page
    assert page.index("预警原因") < page.index('id="shock-note"')  # own reasons first, kept
    assert 'id="shock-note"' not in elsewhere


def test_demo_simulates_the_audit_checks_from_the_truth(flood_weeks):
    from sqlalchemy import create_engine, select

    from features.hardship import hardship_at
    from features.weeks import week_cutoff
    from serving.jobs.demo import _simulated_audit
    from serving.store import models as m

    county, _, settings, first, before, _, _ = flood_weeks
    assert _simulated_audit(settings, county, first) == first["audit_sample"]["size"]
    truth = hardship_at(pd.read_parquet(county / "truth" / "hardship.parquet"), week_cutoff(before))
    with create_engine(settings.resolved_database_url).connect() as conn:
        rows = conn.execute(select(m.Feedback.household_id, m.Feedback.outcome)
                            .where(m.Feedback.username == "demo-audit")).all()
    assert len(rows) == first["audit_sample"]["size"]
    assert all((outcome == "confirmed_at_risk") == (h in truth) for h, outcome in rows)
    # a week that drew nothing records nothing
    assert _simulated_audit(settings, county, {"stages": {"audit": {"drawn_this_week": False}}}) == 0


def test_the_county_confirms_the_capacity_move_and_the_next_weeks_read_it(flood_weeks, fitted_champion):
    """`fanpin capacity-move`: a decision on a proposal that exists, recorded once with who/when;
    a confirmed move raises the hit township's capacity for the proposal's weeks, from the next week."""
    from sqlalchemy import create_engine, select

    from features.weeks import Week
    from serving.core.watchlist import load_watchlist_config
    from serving.store import models as m
    from serving.store.database import session_factory
    from serving.store.followup import with_stored_capacities

    county, scenario, settings, _, _, flood, run_week = flood_weeks
    engine = create_engine(settings.resolved_database_url)
    town = scenario["township"]
    with session_factory(engine)() as db:
        stages = db.scalar(select(m.Run.stages).where(
            m.Run.id == db.scalar(select(m.Week.published_run_id).where(m.Week.week == flood))))
    proposal = next(p for p in stages["shock"]["proposals"] if p["township"] == town)
    env = {**os.environ, "FANPIN_HOME": str(settings.home), "FANPIN_DATABASE_URL": settings.resolved_database_url}
    fanpin = str(Path(sys.executable).with_name("fanpin"))

    def move(*args):
        return subprocess.run([fanpin, "capacity-move", "--week", flood, *args, "--json"], env=env,
                              capture_output=True, text=True)

    other = next(t for t in proposal["taken_from"]) if proposal["taken_from"] else "无此镇"
    refused = move("--township", other, "--user", "li.county", "--confirm")
    assert refused.returncode != 0 and "proposed no capacity move" in refused.stderr + refused.stdout
    done = move("--township", town, "--user", "li.county", "--confirm", "--reason", "受灾")
    assert done.returncode == 0, done.stderr
    decided = json.loads(done.stdout.strip().splitlines()[-1])
    assert decided["decision"] == "confirmed" and decided["by"] == "li.county"
    again = move("--township", town, "--user", "zhao.county", "--decline")
    assert again.returncode != 0 and "already confirmed by li.county" in again.stderr + again.stdout
    with session_factory(engine)() as db:
        rows = db.execute(select(m.AuditEntry.username, m.AuditEntry.at, m.AuditEntry.detail).where(
            m.AuditEntry.action == "capacity_move")).all()
    assert len(rows) == 1 and rows[0][0] == "li.county" and rows[0][1] is not None

    base = load_watchlist_config(settings.watchlist_path)
    flood_w = Week(flood)
    at = lambda k: Week.of(flood_w.monday + pd.Timedelta(weeks=k))  # noqa: E731
    assert with_stored_capacities(engine, base, flood_w).capacity(town) == base.capacity(town)  # not this week
    for k in (1, proposal["weeks"]):
        cfg = with_stored_capacities(engine, base, at(k))
        assert cfg.capacity(town) == base.capacity(town) + proposal["extra_per_week"]
        for t, taken in proposal["taken_from"].items():
            assert cfg.capacity(t) == base.capacity(t) - taken
    assert with_stored_capacities(engine, base, at(proposal["weeks"] + 1)).capacity(town) == base.capacity(town)
    # the next week's run reads it
    weeks = sorted(p.name for p in (county / "exports").iterdir())
    nxt = weeks[weeks.index(flood) + 1]
    third = run_week(county, nxt, settings, champion=fitted_champion, started_by="tests")
    used = third["shock"]["capacity_moves_in_force"]
    assert used[town] == {"change": proposal["extra_per_week"],
                          "capacity": base.capacity(town) + proposal["extra_per_week"]}
