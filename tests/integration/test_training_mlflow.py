"""Training against a real MLflow SQLite store: the champion loads by alias and scores exactly like
the in-memory model, the gates apply to the first version too, a worse retrain stays challenger with
its reason, promote records who and why, the run carries the intervals, both rules baselines, the
list coverage and the calibration table, and no logged artifact holds a name, ID number or phone
from the input data."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from features.contract import sensitive_columns
from serving.cli import app
from tests.conftest import FAST_TRAINING
from training.tracking import log_training, promote

MODEL = "fanpin-risk"


@pytest.fixture(scope="module")
def first_version(store, trained_small):
    tables, policy, result = trained_small
    logged = log_training(result, experiment="tests", model_name=MODEL, policy=policy,
                          data_fingerprint="test-fingerprint", data_source="small county", user="tester")
    if logged["alias"] != "champion":
        # The small county's fast model may not pass every gate (its slices are small, its
        # calibration noisy); the reason is recorded, and a researcher chooses it explicitly.
        assert logged["reason"] and MlflowClient().get_model_version(MODEL, "1").tags["alias_reason"]
        promote(MODEL, logged["version"], reason="tests: small county", user="tester")
    return logged


def test_gates_apply_to_the_first_version(store, trained_small):
    tables, policy, result = trained_small
    strict = dataclasses.replace(result, config={**result.config, "gates": {
        **result.config["gates"], "ece_relative_max": 0.0, "top5_oe_low": 5.0, "calibration_min_entrants": 0}})
    logged = log_training(strict, experiment="tests", model_name="strict-risk", policy=policy,
                          data_fingerprint="test-fingerprint", data_source="small county", user="tester")
    assert logged["alias"] == "challenger"
    assert "of the base rate" in logged["reason"] and "top-5% observed/expected" in logged["reason"]


def test_first_version_loads_by_alias(first_version, trained_small):
    _, _, result = trained_small
    assert first_version["version"] == "1"
    rows = result.test_frame.head(300)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    np.testing.assert_allclose(np.asarray(pyfunc.predict(rows)), result.model.predict_proba(rows), rtol=0, atol=1e-12)

    from models.registry import load_champion

    champion = load_champion(MODEL)
    assert champion.version == "1" and champion.run_id == first_version["run_id"]
    assert champion.metrics["auc"] == pytest.approx(result.metrics["auc"])
    assert "prediction" in champion.reference and len(champion.reference) == len(result.reference)
    assert not ({"household_id", "village"} | sensitive_columns()) & set(champion.reference.columns)
    np.testing.assert_allclose(champion.model.predict_proba(rows), result.model.predict_proba(rows))

    run = MlflowClient().get_run(first_version["run_id"])
    assert run.data.tags["data_fingerprint"] == "test-fingerprint"
    assert run.data.tags["code_version"]
    assert "split_train_last" in run.data.params and "best.num_leaves" in run.data.params
    assert {"auc", "rules_recall_at_5pct", "logistic_auc", "ece", "ece_relative", "auc_low", "auc_high",
            "recall_at_5pct_low", "recall_ratio_low", "rules_fitted_auc", "rules_fitted_recall_at_5pct",
            "recall_ratio_vs_best_rules", "list_coverage_52w", "random_list_lead_share", "top5_observed_expected",
            "calibration.oe.overall", "calibration.oe.top_5pct"} <= set(run.data.metrics)
    assert any(k.startswith("slice.no_criterion.true.model_recall_at_5pct_low") for k in run.data.metrics)
    # The served model learns from every matured cutoff but the newest quarter, on which the gates check it.
    assert run.data.tags["served_holdout_last"] == str(max(result.split.test).date())
    assert run.data.tags["served_train_last"] < run.data.tags["served_holdout_first"]
    # The served model is the refit: it learned from cutoffs the evaluated model never saw.
    assert run.data.tags["served_fit_last"] > str(max(result.split.train).date())
    assert champion.metrics["intervals"]["model"]["auc"][0] <= result.metrics["test_part_auc"]
    assert champion.metrics["served"]["served_train_first"] == str(min(result.split.train).date())

    # The data page reads the same logged evaluation.
    from serving.web.model_evidence import model_evidence

    evidence = model_evidence(champion.metrics, "zh_CN")
    assert [r["figure"] for r in evidence["rows"]] == ["auc", "pr_auc", "recall_at_5pct", "recall_at_10pct"]
    assert all(c["ci"] and c["ci"][0] <= c["ci"][1] and c["value"] is not None for r in evidence["rows"] for c in r["cells"])
    assert any(s["name"] == "尚未符合任何纳入标准" and s["ci"] for s in evidence["slices"])
    assert [c["where"] for c in evidence["calibration"]][0] == "全部测试样本"
    assert evidence["coverage"] == pytest.approx(result.metrics["list_coverage_52w"])


def _identifiers(tables) -> set[str]:
    values: set[str] = set()
    for name, table in tables.items():
        for col in sensitive_columns(name) & set(table.columns):
            values |= {str(v) for v in table[col].dropna().unique() if str(v).strip()}
    return values


def test_no_identifier_in_any_artifact(first_version, trained_small, tmp_path):
    tables, _, _ = trained_small
    secrets = _identifiers(tables)
    assert len(secrets) > 1000  # names, ID numbers and phones of the small county
    run_dir = Path(mlflow.artifacts.download_artifacts(run_id=first_version["run_id"], dst_path=str(tmp_path / "run")))
    model_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{MODEL}/1",
                                                         dst_path=str(tmp_path / "model")))
    files = [p for d in (run_dir, model_dir) for p in d.rglob("*") if p.is_file()]
    names = {p.relative_to(tmp_path).as_posix() for p in files}
    assert any(n.endswith("evaluation/report.html") for n in names)
    assert any(n.endswith("reference/reference_sample.parquet") for n in names)
    assert any(n.endswith("model_card.md") for n in names) and any(n.endswith("features.csv") for n in names)
    assert any(n.endswith("evaluation/metrics.json") for n in names)
    blob = b"\n".join(p.read_bytes() for p in files)
    # Parquet stores strings as UTF-8 too, so one byte search covers text, tables and the model.
    found = sorted(s for s in secrets if s.encode("utf-8") in blob)
    assert not found, found[:10]
    features = (run_dir / "features.csv").read_text(encoding="utf-8")
    assert "家庭年人均纯收入" in features  # the Chinese labels travel with the model


def test_worse_retrain_stays_challenger_with_its_reason(first_version, small_county, tmp_path):
    worse = {**FAST_TRAINING, "tuning": {"trials": 0},
             "model": {"lgbm": {"n_estimators": 3, "num_leaves": 2, "learning_rate": 0.02}}}
    config = tmp_path / "worse.yaml"
    config.write_text(yaml.safe_dump(worse, allow_unicode=True), encoding="utf-8")
    out = CliRunner().invoke(app, ["train", "--data", str(small_county), "--config", str(config),
                                   "--experiment", "tests", "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for key in ("run_id", "model_version", "alias", "auc", "pr_auc", "brier", "ece", "recall_at_5pct",
                "rules_recall_at_5pct", "logistic_auc", "oracle_auc", "headroom_share", "median_lead_weeks",
                "share_lead_12w", "train_rows", "test_rows", "seconds",
                "served_train_first", "served_train_last", "auc_ci", "pr_auc_ci", "recall_at_5pct_ci",
                "rules_fitted_auc", "rules_fitted_recall_at_5pct", "recall_ratio_vs_best_rules", "recall_ratio_ci",
                "recall_headroom_share", "list_coverage_52w", "random_list_lead_share", "top5_observed_expected",
                "ece_relative", "slices"):
        assert key in result, key
    assert result["auc_ci"][0] <= result["auc"] <= result["auc_ci"][1]
    assert {"entrants", "recall_at_5pct", "ci"} <= set(result["slices"]["no_criterion=true"])
    assert result["served_train_last"] > result["split"]["split_train_last"]
    assert result["model_version"] == "2" and result["alias"] == "challenger"
    assert "AUC" in result["alias_reason"] and "champion" in result["alias_reason"]
    # the simulated county carries 入库时间: the frames used the recording dates
    assert result["point_in_time_basis"].startswith("recording dates")
    # issue 33: the shock backtests, in the JSON and logged on the run
    assert isinstance(result["shock_backtests"], list)
    assert result["shock_backtests_summary"]["judged"] + result["shock_backtests_summary"]["skipped"] == len(
        result["shock_backtests"])
    assert "shock_backtests.json" in {a.path for a in MlflowClient().list_artifacts(result["run_id"])}
    client = MlflowClient()
    assert client.get_run(result["run_id"]).data.tags["point_in_time_basis"] == result["point_in_time_basis"]
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    assert str(client.get_model_version_by_alias(MODEL, "challenger").version) == "2"
    assert "AUC" in client.get_model_version(MODEL, "2").tags["alias_reason"]


def test_promote_and_roll_back_record_who_and_why(first_version):
    runner = CliRunner()
    out = runner.invoke(app, ["promote", "--version", "2", "--reason", "试运行 / trial week", "--user", "li.officer",
                              "--json"])
    assert out.exit_code == 0, out.output
    promoted = json.loads(out.stdout.strip().splitlines()[-1])
    assert promoted["previous"] == "1"
    assert promoted["shadow"]["weeks"] == 0  # never scored beside the champion: said, not refused
    client = MlflowClient()
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "2"
    tags = client.get_model_version(MODEL, "2").tags
    assert tags["champion_set_by"] == "li.officer" and tags["champion_set_reason"] == "试运行 / trial week"

    out = runner.invoke(app, ["promote", "--version", "1", "--reason", "rollback", "--user", "wang.lead", "--json"])
    assert out.exit_code == 0, out.output
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    assert client.get_model_version(MODEL, "2").tags["champion_removed_by"] == "wang.lead"
    assert str(client.get_model_version_by_alias(MODEL, "challenger").version) == "2"

    out = runner.invoke(app, ["promote", "--version", "99", "--reason", "no such version", "--json"])
    assert out.exit_code != 0


def test_weekly_job_finds_the_registry_challenger(first_version):
    """After the rollback above, version 2 holds the challenger alias: the weekly job shadow-scores
    it beside champion 1, and never a challenger that is the champion itself."""
    from types import SimpleNamespace

    from serving.jobs.shadow import load_challenger
    from serving.settings import Settings

    found = load_challenger(Settings(), SimpleNamespace(version="1"))
    assert found.version == "2" and found.alias == "challenger" and found.reference is None
    assert load_challenger(Settings(), SimpleNamespace(version="2")) is None


def test_run_logs_feature_value_and_frame_cost(first_version):
    client = MlflowClient()
    metrics = client.get_run(first_version["run_id"]).data.metrics
    assert "features.no_contribution" in metrics and metrics["frame_seconds.income_level"] > 0
    path = mlflow.artifacts.download_artifacts(run_id=first_version["run_id"],
                                               artifact_path="evaluation/feature_value.json")
    value = json.loads(Path(path).read_text(encoding="utf-8"))
    assert len(value["no_contribution"]) == metrics["features.no_contribution"]
    assert len(value["concepts_without_contribution"]) == metrics["features.idle_concepts"]


def test_run_logs_the_staleness_curve_and_the_library_versions(first_version, trained_small):
    """Issue 22: quality per matured cutoff against the trees' age, the limit it implies, and the
    versions the weekly job compares with what is installed."""
    import pandas as pd

    from models.libraries import installed_versions, trained_versions
    from models.registry import load_champion
    from monitoring import model_health as mh
    from monitoring.versions import compare_versions

    _, _, result = trained_small
    stale = result.staleness
    assert stale["measured"], stale
    ages = [p["age_weeks"] for p in stale["curve"]]
    assert ages == sorted(ages) and ages[0] >= 0 and len(ages) >= 4
    for point in stale["curve"]:
        assert point["auc_low"] <= point["auc"] <= point["auc_high"]
        assert point["recall_at_5pct_low"] <= point["recall_at_5pct"] <= point["recall_at_5pct_high"]
    # The test cutoffs are on the curve, at the trees' age the served model starts serving at.
    assert {str(c.date()) for c in result.split.test} <= {p["cutoff"] for p in stale["curve"]}
    start, cap = stale["served_age_at_data_end"], stale["oldest_age_measured"] + stale["max_extrapolation_weeks"]
    assert start <= stale["limit_age_weeks"] <= cap
    low, high = stale["limit_weeks_after_data_end_ci"]
    assert low <= stale["limit_weeks_after_data_end"] <= high

    client = MlflowClient()
    history = client.get_metric_history(first_version["run_id"], "staleness.auc")
    assert sorted(m.step for m in history) == [int(a) for a in ages]
    run = client.get_run(first_version["run_id"])
    assert run.data.metrics["staleness.limit_weeks_after_data_end"] == pytest.approx(
        stale["limit_weeks_after_data_end"])

    champion = load_champion(MODEL)
    trained = trained_versions(champion.run_id, champion.uri)
    installed = installed_versions()
    assert set(trained) == {k for k, v in installed.items() if v} and trained["lightgbm"] == installed["lightgbm"]
    assert compare_versions(trained, installed)["alerts"] == []
    upgraded = compare_versions(trained, {**installed, "scikit-learn": "9.9.9"}, week="2026-W01")
    assert [d["package"] for d in upgraded["differ"]] == ["scikit-learn"] and upgraded["alerts"]

    # The weekly job's staleness check reads the limit from the champion's logged evaluation.
    end = pd.Timestamp(champion.metrics["served"]["data_end"])
    limit = champion.metrics["staleness"]["limit_weeks_after_data_end"]
    at_limit = mh.staleness(end + pd.Timedelta(weeks=int(limit)), champion.metrics, None)
    past = mh.staleness(end + pd.Timedelta(weeks=int(limit) + 1), champion.metrics, None)
    assert at_limit["limit_source"] == "measured" and not at_limit["alerts"]
    assert [a["kind"] for a in past["alerts"]] == ["model_stale"]


def history_until(tables: dict, day: str) -> dict:
    """The registry as it stood on ``day``: rows that started later are gone, end dates after it
    are still open, events recorded later are unknown."""
    day = pd.Timestamp(day)
    out = {}
    for name, frame in tables.items():
        f = frame.copy()
        for start in ("valid_from", "survey_date", "event_date", "entry_date", "recorded_at"):
            if start in f:
                f = f.loc[f[start].isna() | (f[start] <= day)] if start == "recorded_at" else f.loc[f[start] <= day]
        for end in ("valid_to", "elimination_date"):
            if end in f:
                f[end] = f[end].where(f[end] <= day)
        out[name] = f.reset_index(drop=True)
    return out


def test_a_candidate_trained_two_years_stale_is_refused(store, trained_small):
    """A version whose data ended two years before the champion's has no rows neither model saw:
    it cannot be compared fairly and is refused as stale, in one line."""
    from training.config import load_config
    from training.train import fit_and_evaluate

    tables, policy, result = trained_small
    name = "stale-risk"
    current = log_training(result, experiment="tests", model_name=name, policy=policy, data_fingerprint="now",
                           data_source="small county", user="tester")
    promote(name, current["version"], reason="tests: the current champion", user="tester")
    config = load_config(overrides={**FAST_TRAINING, "backtest": {"years": 1}, "lead_time": {"step_weeks": 8},
                                    "bootstrap": {"replicates": 20}})
    stale = fit_and_evaluate(history_until(tables, "2023-12-31"), policy, config)
    # its newest matured cutoff is the last Sunday of 2022 or the first of 2023 (where its data end)
    assert stale.served["served_holdout_last"] <= "2023-01-01"
    logged = log_training(stale, experiment="tests", model_name=name, policy=policy,
                          data_fingerprint="stale", data_source="small county two years earlier", user="tester")
    assert logged["alias"] == "challenger"
    stale_lines = [line for line in logged["reason"].split("; ") if "stale" in line]
    assert len(stale_lines) == 1 and "\n" not in stale_lines[0], logged["reason"]
    assert str(MlflowClient().get_model_version_by_alias(name, "champion").version) == current["version"]
