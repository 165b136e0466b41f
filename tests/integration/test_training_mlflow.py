"""Training against a real MLflow SQLite store: the champion loads by alias and scores exactly like
the in-memory model, a worse retrain stays challenger with its reason, promote records who and why,
and no logged artifact holds a name, ID number or phone from the input data."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
import yaml
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from features.contract import sensitive_columns
from serving.cli import app
from tests.conftest import FAST_TRAINING
from training.tracking import log_training

MODEL = "fanpin-risk"


@pytest.fixture(scope="module")
def first_version(store, trained_small):
    tables, policy, result = trained_small
    logged = log_training(result, experiment="tests", model_name=MODEL, policy=policy,
                          data_fingerprint="test-fingerprint", data_source="small county", user="tester")
    return logged


def test_first_version_is_champion_and_loads_by_alias(first_version, trained_small):
    _, _, result = trained_small
    assert first_version["alias"] == "champion" and first_version["version"] == "1"
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
    assert {"auc", "rules_recall_at_5pct", "logistic_auc", "ece"} <= set(run.data.metrics)


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
                "share_lead_12w", "train_rows", "test_rows", "seconds"):
        assert key in result, key
    assert result["model_version"] == "2" and result["alias"] == "challenger"
    assert "AUC" in result["alias_reason"] and "champion" in result["alias_reason"]
    # the simulated county carries 入库时间: the frames used the recording dates
    assert result["point_in_time_basis"].startswith("recording dates")
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
    assert json.loads(out.stdout.strip().splitlines()[-1])["previous"] == "1"
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
