"""`fanpin drift` end to end, and the outcome-maturity path on simulated history."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.drift_county import SCENARIO_WEEK

pytestmark = pytest.mark.slow  # a simulated county and Evidently reports: minutes, not seconds


def test_fanpin_drift_json_without_a_champion(drift_county, tmp_path, monkeypatch):
    from serving.cli import app

    # An empty model registry: the reference is built from the history.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty-mlflow.db'}")
    monkeypatch.setenv("FANPIN_HOME", str(tmp_path / "home"))
    folder = drift_county.folders["unit-error"]
    truth = json.loads((folder / "truth" / "simulation.json").read_text(encoding="utf-8"))["scenario"]
    result = CliRunner().invoke(app, ["drift", "--data", str(folder), "--week", SCENARIO_WEEK, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"week", "drifted_features", "share_drifted", "prediction_drift", "alerts", "report_path"} <= set(out)
    assert out["week"] == SCENARIO_WEEK and out["reference"] == "history"
    assert out["prediction_drift"] is None  # no model, no predictions
    assert set(out["alerts"][0]) == {"severity", "township", "feature", "message_zh", "message_en", "psi"}
    high = [a for a in out["alerts"] if a["severity"] == "high"]
    assert high and high[0]["township"] == truth["township"] and "万元" in high[0]["message_zh"]
    report = tmp_path / "home" / "reports" / f"drift-{SCENARIO_WEEK}.html"
    assert out["report_path"] == str(report) and report.stat().st_size > 100_000
    assert not (report.with_suffix(".json")).exists()  # nothing written that nothing reads


def test_fanpin_drift_refuses_a_missing_week(drift_county):
    from serving.cli import app

    result = CliRunner().invoke(app, ["drift", "--data", str(drift_county.folders["baseline"]),
                                      "--week", "2024-W01", "--json"])
    assert result.exit_code == 2
    assert "2024-W01" in result.output


def test_matured_weeks_backtest_and_retraining_advice(drift_county, drift_champion):
    from features.policy import load_policy
    from monitoring.outcomes import data_end
    from monitoring.performance import backtest_cutoffs, performance_report

    history = drift_county.history
    cutoffs = backtest_cutoffs(history, weeks=3, step_weeks=8)
    assert len(cutoffs) == 3
    assert all(c + pd.Timedelta(weeks=52) <= data_end(history) for c in cutoffs)
    honest = performance_report(history, load_policy(), drift_champion.model, drift_champion.metrics,
                                cutoffs=cutoffs, trained_until=drift_champion.trained_until)
    assert honest["method"] == "backtest" and len(honest["weeks"]) == 3
    for week in honest["weeks"]:
        assert 0.6 < week["auc"] <= 1 and 0 <= week["recall_at_capacity"] <= 1
        assert week["entrants"] > 0 and 0 < week["mean_predicted"] < 1
        # Beside each realised figure, what the calibrated probabilities estimated (issue 22).
        assert 0 < week["estimated_recall_at_capacity"] < 1 and 0 < week["estimated_precision_at_capacity"] < 1
        assert abs(week["estimated_auc"] - week["auc"]) < 0.1
    townships = {w["township"] for w in honest["townships"]}
    assert len(townships) >= 4
    # The champion learned from data years before the history's end: stale, and it says so.
    evidence = {e["kind"]: e for e in honest["recommendation"]["evidence"]}
    assert honest["staleness_weeks"] > 52 and "staleness" in evidence
    assert honest["recommendation"]["retrain"] is True
    assert "建议重新训练" in honest["recommendation"]["message_zh"]

    # Against a training evaluation the lists cannot meet, every matured week alerts.
    promised = {"auc": 0.99, "recall_at_5pct": 0.95}
    strict = performance_report(history, load_policy(), drift_champion.model, promised, cutoffs=cutoffs,
                                trained_until=data_end(history))
    county = [a for a in strict["alerts"] if a["township"] is None]
    assert {a["kind"] for a in county} >= {"performance_auc", "performance_recall"}
    assert sum(a["kind"] == "performance_auc" for a in county) == 3
    kinds = {e["kind"] for e in strict["recommendation"]["evidence"]}
    assert kinds == {"degradation"}
