"""The drift monitor on the simulator's scenarios (issue 8), on a 3,000-household county.

The county is simulated once; each scenario folder differs from the baseline only in its exports
from 2025-W49 on (``tests.drift_county``). The 20,000-household timing is in
``benchmarks/drift_bench.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.drift_county import SCENARIO_WEEK, check

pytestmark = pytest.mark.slow  # a simulated county and Evidently reports: minutes, not seconds

BASELINE_WEEKS = [f"2025-W{w}" for w in range(41, 49)]  # eight consecutive weeks


def _truth(county, scenario: str) -> dict:
    record = json.loads((county.folders[scenario] / "truth" / "simulation.json").read_text(encoding="utf-8"))
    return record["scenario"]


@pytest.fixture(scope="module")
def checked(drift_county, drift_champion, tmp_path_factory):
    """Each scenario's first affected week, checked once (reports saved for the PII scan)."""
    out = tmp_path_factory.mktemp("drift-reports")
    results = {}
    for scenario in ("unit-error", "flood", "pension-rise", "new-township"):
        results[scenario] = check(drift_county, scenario, SCENARIO_WEEK, drift_champion,
                                  report_path=out / f"{scenario}.html")
    return results


def _above_info(result) -> list[dict]:
    return [a for a in result.alerts if a["severity"] != "info"]


def test_baseline_eight_clean_weeks_raise_nothing_above_info(drift_county, drift_champion):
    for week in BASELINE_WEEKS:
        result, _, _ = check(drift_county, "baseline", week, drift_champion)
        assert _above_info(result) == [], (week, _above_info(result))
        # Evidently's verdicts and PSI are still reported for every feature.
        fr = result.feature_results
        assert fr["method"].notna().all() and fr["psi"].notna().all()
        assert result.summary["prediction_drift"] is not None


def test_unit_error_is_high_and_names_township_and_unit(drift_county, checked):
    truth = _truth(drift_county, "unit-error")
    result = checked["unit-error"][0]
    high = [a for a in result.alerts if a["severity"] == "high"]
    assert high, result.alerts
    alert = high[0]
    assert alert["kind"] == "unit_error"
    assert alert["township"] == truth["township"]
    assert alert["feature"] in ("pc_net_income", "net_income")
    assert truth["township"] in alert["message_zh"] and "万元" in alert["message_zh"]
    assert "万分之一" in alert["message_zh"]
    assert "10,000" in alert["message_en"]
    assert 1e-5 < alert["ratio"] < 1e-3
    # Only the affected township is accused.
    assert {a["township"] for a in high} == {truth["township"]}
    # The raw export says the same: per-capita income of that township about 1/10,000.
    raw = {r["township"]: r for r in result.checks["raw"]}
    assert raw[truth["township"]]["pc_income_ratio"] < 1e-3
    others = [r["pc_income_ratio"] for t, r in raw.items() if t != truth["township"]]
    assert min(others) > 0.5


def test_flood_is_a_local_shock_with_rising_risk(drift_county, drift_champion, checked):
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from monitoring.current import overlay_export, week_cutoff

    truth = _truth(drift_county, "flood")
    result, frame, _ = checked["flood"]
    shocks = [a for a in result.alerts if a["kind"] == "local_shock"]
    assert [a["township"] for a in shocks] == [truth["township"]]
    alert = shocks[0]
    assert alert["severity"] == "medium"
    assert "局部冲击" in alert["message_zh"] and "local shock" in alert["message_en"]
    assert alert["feature"] in ("disaster_events_13w", "disaster_loss_13w", "disaster_loss_52w")
    # Disaster and income features of the hit township drift against its reference rows.
    town = result.township_results
    hit = town[town["township"] == truth["township"]].set_index("feature")
    assert hit.loc["disaster_events_13w", "psi"] > 0.25
    # Its households' risk rose against the same week without the flood.
    from features import reading

    base = reading.read_folder(drift_county.folders["baseline"] / "exports" / SCENARIO_WEEK,
                               history=drift_county.history)
    cutoff = week_cutoff(SCENARIO_WEEK)
    base_frame = build_household_frame(overlay_export(drift_county.history, base.tables, cutoff), cutoff,
                                       load_policy())
    in_town = frame["township"] == truth["township"]
    flood_risk = drift_champion.model.predict_proba(frame[in_town])[:, 1].mean()
    base_risk = drift_champion.model.predict_proba(base_frame[base_frame["township"] == truth["township"]])[:, 1].mean()
    assert flood_risk > base_risk * 1.1
    assert alert["risk_mean"] == pytest.approx(flood_risk, rel=1e-6)


def test_pension_rise_is_a_population_change_with_the_prediction_figure(checked):
    result = checked["pension-rise"][0]
    changes = [a for a in result.alerts if a["kind"] == "population_change"]
    assert len(changes) == 1, result.alerts
    alert = changes[0]
    assert alert["severity"] == "medium" and alert["township"] is None
    assert alert["feature"] == "transfer_share"
    assert "60岁以上老人" in alert["message_zh"] and "人群整体变化" in alert["message_zh"]
    figure = result.summary["prediction_drift"]
    assert f"PSI {figure['psi']:.2f}" in alert["message_zh"]
    assert "predicted-risk distribution" in alert["message_en"]
    assert not [a for a in result.alerts if a["severity"] == "high"]


def test_new_township_is_reported_as_new_category_values(drift_county, checked):
    truth = _truth(drift_county, "new-township")
    result = checked["new-township"][0]
    new = [a for a in result.alerts if a["kind"] == "new_category" and a["feature"] == "township"]
    assert [a["township"] for a in new] == [truth["township"]]
    assert new[0]["severity"] == "medium"
    assert "新类别值" in new[0]["message_zh"] and "new category value" in new[0]["message_en"]
    assert result.checks["new_townships"][0]["households"] == truth["affected_households"]


def test_reports_hold_no_identifier(checked):
    for scenario, (result, frame, export) in checked.items():
        html = Path(result.report_html).read_text(encoding="utf-8")
        blob = json.dumps(result.to_dict(), ensure_ascii=False, default=str)
        h, m = export.tables["households"], export.tables["members"]
        texts = set(h["head_name"].dropna()) | set(m["name"].dropna())
        numbers = (set(h["head_id_number"].dropna()) | set(m["id_number"].dropna())
                   | set(h["phone"].dropna().astype(str)) | set(frame["household_id"].astype(str)))
        assert len(texts) > 100 and len(numbers) > 1000
        for doc in (html, blob):
            # Every 2-4 character piece of every run of Chinese characters in the document: a
            # name anywhere in it is one of these pieces (a set lookup, not 10,000 scans of 6 MB).
            pieces = {run[i:i + n] for run in re.findall(r"[\u3400-\u9fff]{2,}", doc)
                      for n in (2, 3, 4) for i in range(len(run) - n + 1)}
            leaked_names = sorted(t for t in texts if len(t) >= 2 and t in pieces)
            assert not leaked_names, (scenario, leaked_names[:5])
            digits = set(re.findall(r"(?<![\d.])\d{11,18}X?(?![\d])", doc))
            assert not (digits & numbers), (scenario, sorted(digits & numbers)[:5])


def test_psi_sits_beside_evidently_verdicts(checked):
    result = checked["unit-error"][0]
    fr = result.feature_results.set_index("feature")
    assert {"method", "score", "threshold", "drifted", "psi", "psi_band"} <= set(fr.columns)
    assert set(fr["method"]) <= {"wasserstein", "jensenshannon"}
    assert fr.loc["category", "method"] == "jensenshannon"
    assert fr.loc["pc_net_income", "method"] == "wasserstein"
    s = result.summary
    assert 0 <= s["share_drifted"] <= 1 and s["n_drifted"] == len(s["drifted_features"])


def test_weekly_job_holds_a_unit_error_out_of_the_watch_list(drift_county, drift_champion, tmp_path):
    """A township typing income in 万元 must not flood the watch list: the reader's flagged rows
    are held out of the features and rules, and the drift monitor still names the township."""
    from sqlalchemy import select

    from features.weeks import week_cutoff
    from serving.jobs.weekly import run_week
    from serving.settings import Settings
    from serving.store import models as m
    from serving.store.database import get_engine
    from serving.weekly.history import import_history

    truth = _truth(drift_county, "unit-error")
    seed_until = week_cutoff(SCENARIO_WEEK) - pd.Timedelta(days=7)
    results = {}
    for scenario in ("baseline", "unit-error"):
        home = tmp_path / scenario
        import_history(drift_county.folders[scenario] / "history", home, until=seed_until)
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'fanpin.db'}")
        results[scenario] = run_week(drift_county.folders[scenario], SCENARIO_WEEK, settings,
                                     champion=drift_champion)
    base, unit = results["baseline"], results["unit-error"]
    # Model health ran with the week (issue 22): the old champion is flagged as stale, the held
    # rows keep the list's estimated quality where it was, and last year's list was checked.
    for result in (base, unit):
        health = result["stages"]["model_health"]
        assert health["status"] == "ok" and [a["kind"] for a in health["alerts"]] == ["model_stale"], health
        assert health["matured"]["checked"] and health["matured"]["method"] == "backtest"
    # Every slipped household's survey rows are held (a household may carry two survey years).
    affected = truth["affected_households"]
    assert affected > 0 and base["stages"]["rows_held"] == 0
    assert affected <= unit["stages"]["rows_held"] <= 1.01 * affected + 1
    # Same list as a week without the slip (a few households may differ by this week's events).
    assert abs(unit["watchlist_size"] - base["watchlist_size"]) <= max(3, 0.02 * base["watchlist_size"])

    home = tmp_path / "unit-error"
    engine = get_engine(Settings(home=home, database_url=f"sqlite:///{home / 'fanpin.db'}"))
    with engine.connect() as conn:
        alerts = conn.execute(select(m.DriftAlert.severity, m.DriftAlert.township, m.DriftAlert.message_zh)
                              .where(m.DriftAlert.run_id == unit["run_id"])).all()
    high = [a for a in alerts if a.severity == "high"]
    assert [a.township for a in high] == [truth["township"]]
    assert "暂停用于评分" in high[0].message_zh and "万元" in high[0].message_zh


# -- model health (issue 22): the same scenarios, the champion's age and its estimated list quality --
def _scored(county, scenario: str, week: str, champion):
    """(frame, probability) of one scenario week, read as `fanpin drift` reads it (no drift check)."""
    from features import reading
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from monitoring.current import overlay_export, week_cutoff

    export = reading.read_folder(county.folders[scenario] / "exports" / week, history=county.history)
    cutoff = week_cutoff(week)
    frame = build_household_frame(overlay_export(county.history, export.tables, cutoff), cutoff, load_policy())
    return frame, champion.model.predict_proba(frame)[:, 1]


def _week_health(scored, last_week, metrics, week: str) -> dict:
    from monitoring import model_health as mh
    from monitoring.current import week_cutoff

    frame, p = scored
    eligible = ~frame["under_monitoring"].to_numpy(dtype=bool)
    before = dict(zip(last_week[0]["household_id"], last_week[1], strict=True))
    previous = frame.loc[eligible, "household_id"].map(before).to_numpy(dtype="float64")
    return mh.assess(staleness=mh.staleness(week_cutoff(week), metrics, None, week=week),
                     estimate=mh.estimate(p, eligible, metrics, previous=previous, week=week))


def test_model_health_is_silent_on_a_clean_week_and_speaks_in_the_drift_scenarios(drift_county, drift_champion):
    last = _scored(drift_county, "baseline", "2025-W48", drift_champion)
    # A champion whose data ended the week before the exports start, with a measured limit.
    fresh = {**drift_champion.metrics, "served": {"data_end": "2025-10-05"},
             "staleness": {"measured": True, "limit_weeks_after_data_end": 26.0}}
    clean = _week_health(_scored(drift_county, "baseline", SCENARIO_WEEK, drift_champion), last, fresh, SCENARIO_WEEK)
    assert clean["alerts"] == [], clean["alerts"]
    assert not clean["staleness"]["stale"] and clean["staleness"]["limit_source"] == "measured"
    shift = clean["estimate"]
    assert abs(shift["estimated_precision_at_capacity"] / shift["previous_estimated_precision_at_capacity"] - 1) < 0.1
    for scenario in ("flood", "unit-error"):
        health = _week_health(_scored(drift_county, scenario, SCENARIO_WEEK, drift_champion), last, fresh,
                              SCENARIO_WEEK)
        assert [a["kind"] for a in health["alerts"]] == ["estimate_shift"], (scenario, health["alerts"])
        assert "check the drift alerts" in health["alerts"][0]["message_en"]


def _auc_two_se(auc: float, positives: int, negatives: int) -> float:
    """Two standard errors of an AUC from ``positives`` and ``negatives`` (Hanley & McNeil, 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (positives * negatives)
    return 2 * var**0.5


def test_a_stale_champion_is_flagged_and_its_matured_list_is_set_beside_its_estimate(drift_county, drift_champion):
    from monitoring import model_health as mh
    from monitoring.current import week_cutoff
    from monitoring.performance import backtest_cutoffs, realised_performance

    # The drift champion's trees learned from labels ending 2023-01-29: almost three years old.
    stale = mh.staleness(week_cutoff(SCENARIO_WEEK), drift_champion.metrics, drift_champion.trained_until,
                         week=SCENARIO_WEEK)
    assert stale["stale"] and stale["limit_source"] == "default" and stale["weeks_since_data_end"] > 52
    assert [a["kind"] for a in stale["alerts"]] == ["model_stale"] and "2023-01-29" in stale["alerts"][0]["message_zh"]

    from features.policy import load_policy

    cutoff = backtest_cutoffs(drift_county.history, weeks=1)
    table = realised_performance(drift_county.history, load_policy(), drift_champion.model, cutoff)
    matured = mh.matured(table, drift_champion.metrics, method="backtest")
    county = matured["county"]
    assert matured["checked"] and matured["alerts"] == [], matured["alerts"]  # no drop on a clean county
    for figure in ("recall_at_capacity", "precision_at_capacity", "auc"):
        assert 0 < county[figure] < 1 and 0 < county[f"estimated_{figure}"] < 1
    # The estimate lands near what happened: never below the realised AUC by more than two standard
    # errors of an AUC on this list's few entrants (0.07 for 58), and above it by at most twice
    # that: a model three years stale claims more separation than is left (0.86 against 0.78).
    margin = _auc_two_se(county["auc"], county["entrants"], county["households"] - county["entrants"])
    assert county["auc"] - margin < county["estimated_auc"] < county["auc"] + 2 * margin, (county, margin)
    assert abs(county["estimated_recall_at_capacity"] - county["recall_at_capacity"]) < 0.2


def test_the_matured_backtest_is_kept_for_the_champion_cutoff_and_policy(drift_county, drift_champion, tmp_path):
    """Issue 32: a rerun of the week (or any week with the same matured cutoff) reads the champion's
    scores of the year-old frame from the home instead of building and scoring it again; the table
    is exactly what realised_performance gives; another champion version scores again."""
    from types import SimpleNamespace

    from features.policy import load_policy
    from monitoring.performance import backtest_cutoffs, realised_performance
    from serving.jobs.model_health import backtest

    (cutoff,) = backtest_cutoffs(drift_county.history, weeks=1)
    policy = load_policy()
    champion = SimpleNamespace(model=drift_champion.model, version="3", run_id="r3", name="fanpin-risk",
                               uri="models:/fanpin-risk/3")
    job = SimpleNamespace(champion=champion, home=tmp_path, policy=policy)
    expected = realised_performance(drift_county.history, policy, drift_champion.model, [cutoff], capacity=0.05)
    first = backtest(job, drift_county.history, cutoff)
    (kept,) = (tmp_path / "backtests").glob("*.parquet")
    pd.testing.assert_frame_equal(first, expected, check_exact=True)
    made = kept.stat().st_mtime_ns
    assert kept.stat().st_mode & 0o077 == 0  # private, like the rest of the home
    # The kept scores are what is read: changing them changes the table (so they are not recomputed).
    scores = pd.read_parquet(kept)
    scores.assign(probability=scores["probability"].to_numpy()[::-1]).to_parquet(kept, index=False)
    changed = kept.stat().st_mtime_ns
    again = backtest(job, drift_county.history, cutoff)
    assert made != changed == kept.stat().st_mtime_ns and not again.equals(expected)
    scores.to_parquet(kept, index=False)
    pd.testing.assert_frame_equal(backtest(job, drift_county.history, cutoff), expected, check_exact=True)
    # Another champion version: scored again, the earlier version's file let go.
    job.champion = SimpleNamespace(**{**vars(champion), "version": "4", "run_id": "r4"})
    pd.testing.assert_frame_equal(backtest(job, drift_county.history, cutoff), expected, check_exact=True)
    assert [p.name for p in (tmp_path / "backtests").glob("*.parquet")] != [kept.name]
