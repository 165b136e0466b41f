"""Shadow scoring and the officers' verdict on one real weekly run of the small county.

The champion is the session's ``fitted_champion``; the challenger is the session's
``explain_model`` (a RiskPipeline fitted on another county: a genuinely different ranking). One
week is published into a fresh SQLite store; visit records are then entered as officers would.
"""

from __future__ import annotations

from types import SimpleNamespace

import mlflow
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from statsmodels.stats.proportion import proportion_confint

from serving.settings import Settings
from serving.store import models as m
from tests.store.champion import FittedChampion

WEEK = "2025-W47"


@pytest.fixture(scope="module")
def shadow_run(small_county, fitted_champion, explain_model, tmp_path_factory):
    from features.weeks import week_cutoff
    from serving.jobs.weekly import run_week
    from serving.weekly.history import import_history

    tmp = tmp_path_factory.mktemp("field-evidence")
    settings = Settings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'store.db'}")
    import_history(small_county, settings.ensure_home(), until=week_cutoff(WEEK) - pd.Timedelta(days=7))
    challenger = FittedChampion(model=explain_model, version="test-2", run_id="explain-model")
    result = run_week(small_county, WEEK, settings, champion=fitted_champion, challenger=challenger,
                      started_by="tests")
    from serving.store.database import get_engine, session_factory

    return settings, result, session_factory(get_engine(settings))


def test_challenger_is_compared_but_never_reaches_the_list(shadow_run):
    settings, result, sessions = shadow_run
    shadow = result["field"]["shadow"]
    assert result["field"]["errors"] == []
    assert shadow["model_version"] == "test-2" and shadow["households"] == result["households_scored"]
    assert -1 < shadow["spearman"] < 1 and -1 < shadow["kendall"] < 1  # a different model, not a copy
    assert 0 <= shadow["overlap"] < 1 and shadow["champion_listed"] == shadow["challenger_listed"]
    with sessions() as db:
        run_id = db.scalar(select(m.Week.published_run_id).where(m.Week.week == WEEK))
        rows = db.execute(select(m.ShadowScore.household_id, m.ShadowScore.champion_probability,
                                 m.ShadowScore.challenger_listed, m.ShadowScore.champion_listed)
                          .where(m.ShadowScore.run_id == run_id)).all()
        scores = {s.household_id: s for s in db.scalars(select(m.Score).where(m.Score.run_id == run_id))}
    assert len(rows) == shadow["champion_listed"] + shadow["challenger_listed"] - shadow["both"]
    for household, champion_p, challenger_listed, champion_listed in rows:
        published = scores[household]
        assert published.probability == pytest.approx(champion_p)  # the list shows the champion's score
        if champion_listed:
            assert published.on_watchlist
        elif challenger_listed and not published.flag_rule:
            assert not published.on_watchlist  # only the challenger wanted it: not on the list


def test_realised_recall_of_a_shadow_week_follows_the_outcomes(shadow_run):
    from serving.jobs.shadow import comparison, promotion_evidence, update_realised
    from serving.store.database import get_engine

    settings, _, sessions = shadow_run
    with sessions() as db:
        run_id = db.scalar(select(m.Week.published_run_id).where(m.Week.week == WEEK))
        cutoff = pd.Timestamp(db.scalar(select(m.Week.cutoff).where(m.Week.week == WEEK)))
        lists = db.execute(select(m.ShadowScore.household_id, m.ShadowScore.champion_listed,
                                  m.ShadowScore.challenger_listed).where(m.ShadowScore.run_id == run_id)).all()
    only_champion = next(h for h, a, b in lists if a and not b)
    only_challenger = next(h for h, a, b in lists if b and not a)
    both = [h for h, a, b in lists if a and b][:2]
    entries = [only_champion, only_challenger, *both]
    outcomes = pd.DataFrame({"household_id": entries + ["NOT-SCORED"],
                             "entry_date": [cutoff + pd.Timedelta(weeks=10)] * (len(entries) + 1)})
    assert update_realised(get_engine(settings), outcomes, cutoff + pd.Timedelta(weeks=20)) == 1
    with sessions() as db:
        week = comparison(db)["weeks"][0]
    realised = week["realised"]
    assert realised["entrants"] == len(entries) and realised["weeks_observed"] == 20 and not realised["matured"]
    assert realised["champion_recall"] == pytest.approx((1 + len(both)) / len(entries))
    assert realised["challenger_recall"] == pytest.approx((1 + len(both)) / len(entries))
    with sessions() as db:  # `fanpin performance` recomputes it from a county folder's outcomes
        assert comparison(db, outcomes=outcomes, data_end=cutoff + pd.Timedelta(weeks=20))["weeks"][0][
            "realised"] == realised
    # once the 52 weeks have passed the figure is final: later runs leave it alone
    assert update_realised(get_engine(settings), outcomes, cutoff + pd.Timedelta(weeks=60)) == 1
    assert update_realised(get_engine(settings), outcomes.iloc[0:0], cutoff + pd.Timedelta(weeks=70)) == 0
    with sessions() as db:
        final = comparison(db)["weeks"][0]["realised"]
    assert final["matured"] and final["entrants"] == len(entries)
    evidence = promotion_evidence(settings, "test-2")
    assert evidence["summary"]["weeks"] == 1 and evidence["summary"]["matured_weeks"] == 1
    assert evidence["summary"]["champion_recall"] == pytest.approx(realised["champion_recall"])
    assert promotion_evidence(settings, "99")["summary"]["weeks"] == 0


def test_officers_verdict_counts_and_interval(shadow_run):
    from serving.store.publishing import utcnow
    from serving.store.verdicts import officers_verdict

    settings, _, sessions = shadow_run
    with sessions() as db:
        run_id = db.scalar(select(m.Week.published_run_id).where(m.Week.week == WEEK))
        entries = db.execute(select(m.WatchlistEntry.household_id, m.WatchlistEntry.township,
                                    m.WatchlistEntry.reasons).where(m.WatchlistEntry.run_id == run_id)).all()
        model = [(h, t) for h, t, r in entries if {"capacity", "rising"} & set(r)]
        rules = [(h, t) for h, t, r in entries if set(r) == {"criterion"}]
        assert len(model) >= 4 and rules, "the week lists households for both reasons"
        visits = [(model[0], "not_at_risk"), (model[0], "confirmed_at_risk"), (model[1], "already_assisted"),
                  (model[2], "not_at_risk"), (model[3], "unreachable"), (rules[0], "confirmed_at_risk")]
        for (household, township), outcome in visits:
            db.add(m.Feedback(household_id=household, week=WEEK, township=township, outcome=outcome, risk_types=[],
                              note="", username="officer1", created_at=utcnow()))
        db.commit()
        table = officers_verdict(db)
        scoped = officers_verdict(db, township=model[0][1])
    county = table.loc[table["week"].eq(WEEK) & table["township"].isna()].set_index("group")
    assert county.loc["model", "listed"] == len(model) and county.loc["rules_only", "listed"] == len(rules)
    assert county.loc["model", "with_verdict"] == 3 and county.loc["model", "confirmed"] == 2
    assert county.loc["model", "share"] == pytest.approx(2 / 3)
    low, high = proportion_confint(2, 3, alpha=0.05, method="wilson")
    assert (county.loc["model", "low"], county.loc["model", "high"]) == pytest.approx((low, high))
    assert county.loc["rules_only", "share"] == 1.0
    # beside it, the model's mean predicted risk of the same three households (the offline figure)
    with sessions() as db:
        p = dict(db.execute(select(m.Score.household_id, m.Score.probability).where(
            m.Score.run_id == run_id, m.Score.household_id.in_([h for h, _ in model[:3]]))).all())
    assert county.loc["model", "mean_predicted"] == pytest.approx(sum(p.values()) / 3)
    assert set(scoped["township"].dropna()) == {model[0][1]}


def test_monitoring_run_logs_the_verdict_and_the_shadow(shadow_run):
    from monitoring.verdicts import headline
    from serving.jobs.field_evidence import EXPERIMENT, log_monitoring
    from serving.store.verdicts import officers_verdict

    settings, result, sessions = shadow_run
    with sessions() as db:
        table = officers_verdict(db)
    job = SimpleNamespace(settings=settings, week=WEEK, champion=FittedChampion(model=None))
    evidence = {"verdict": headline(table), "shadow": result["field"]["shadow"]}
    run_id = log_monitoring(job, result["run_id"], evidence, table)
    run = mlflow.get_run(run_id)
    assert run.data.tags["week"] == WEEK and run.data.tags["challenger_version"] == "test-2"
    assert mlflow.get_experiment(run.info.experiment_id).name == EXPERIMENT
    assert run.data.metrics["verdict.model.with_verdict"] >= 3 and "verdict.model.mean_predicted" in run.data.metrics
    assert run.data.metrics["shadow.spearman"] == pytest.approx(result["field"]["shadow"]["spearman"])


def test_data_page_shows_the_challenger_to_researchers_only(shadow_run):
    from serving.access.auth import create_user
    from serving.app import create_app
    from tests.store.test_web_roles import PASSWORD, sign_in

    settings, _, sessions = shadow_run
    with sessions() as db:
        towns = sorted(set(db.scalars(select(m.Feedback.township))))
        create_user(db, "research9", PASSWORD, "researcher", None)
        create_user(db, "officer9", PASSWORD, "county_officer", None)
        create_user(db, "leader9", PASSWORD, "township_leader", towns[0])
        db.commit()
    app = create_app(settings, champion=FittedChampion(model=None))
    pages = {}
    for user in ("research9", "officer9", "leader9"):
        with TestClient(app) as client:
            sign_in(client, user)
            pages[user] = client.get("/data").text
    assert 'id="challenger"' in pages["research9"] and "vtest-2" in pages["research9"]
    assert 'id="challenger"' not in pages["officer9"] and "test-2" not in pages["officer9"]
    assert 'id="verdict"' in pages["officer9"]
    assert "按乡镇" in pages["officer9"] and all(t in pages["officer9"] for t in towns)
    # a township leader reads their own township's verdict, no other township's
    assert 'id="verdict"' in pages["leader9"] and "按乡镇" not in pages["leader9"]
    assert 'id="challenger"' not in pages["leader9"]


def test_performance_and_promote_print_the_shadow_weeks(shadow_run, capsys):
    from serving.commands.performance import print_challenger
    from serving.jobs.shadow import promotion_evidence

    settings, _, _ = shadow_run
    print_challenger(promotion_evidence(settings, "test-2"))
    print_challenger(promotion_evidence(settings, "99"))
    err = capsys.readouterr().err
    assert f"{WEEK}  challenger vtest-2 vs champion vtest-1" in err and "1 shadow weeks" in err
    assert "no shadow week of a challenger yet" in err


def test_performance_recomputes_shadow_recall_from_the_county_folder(shadow_run):
    from serving.jobs.performance import shadow_comparison

    settings, _, sessions = shadow_run
    with sessions() as db:
        run_id = db.scalar(select(m.Week.published_run_id).where(m.Week.week == WEEK))
        cutoff = pd.Timestamp(db.scalar(select(m.Week.cutoff).where(m.Week.week == WEEK)))
        listed = list(db.scalars(select(m.ShadowScore.household_id).where(m.ShadowScore.run_id == run_id,
                                                                          m.ShadowScore.challenger_listed)))
    end = cutoff + pd.Timedelta(weeks=8)
    tables = {"households": pd.DataFrame({"valid_from": [end]}), "events": pd.DataFrame({"event_date": []}),
              "income_surveys": pd.DataFrame({"survey_date": []}),
              "outcomes": pd.DataFrame({"household_id": listed[:2], "entry_date": [cutoff + pd.Timedelta(weeks=3)] * 2})}
    found = shadow_comparison(settings, tables)
    realised = found["weeks"][0]["realised"]
    assert realised["weeks_observed"] == 8 and realised["entrants"] == 2 and realised["challenger_recall"] == 1.0
    assert found["summary"]["weeks"] == 1


def test_nothing_after_publishing_can_fail_the_week():
    """With a store that cannot be reached, every step is recorded as an error, none raised."""
    from serving.jobs.field_evidence import after_publish

    job = SimpleNamespace(engine=None, week=WEEK, champion=FittedChampion(model=None), config=None, settings=None)
    broken = FittedChampion(model=None, version="broken")
    history = {"outcomes": pd.DataFrame({"household_id": [], "entry_date": []})}
    out = after_publish(job, 1, pd.DataFrame(), None, history, broken)
    assert out["shadow"] is None and out["verdict"] == {} and "mlflow_run_id" not in out
    assert [e.split(":")[0] for e in out["errors"]] == ["shadow scoring", "realised shadow recall",
                                                          "officers' verdict"]
