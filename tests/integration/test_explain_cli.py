"""`fanpin explain --json` on a county folder with a saved model: one JSON object, last line."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from features.policy import load_policy
from models.explanation import explain

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_fanpin_explain_json_matches_the_library(explain_county, explain_model, tmp_path):
    mlflow = pytest.importorskip("mlflow")
    tables, frame, _ = explain_county
    history = tmp_path / "county" / "history"
    history.mkdir(parents=True)
    for name, table in tables.items():
        table.to_parquet(history / f"{name}.parquet", index=False)
    model_dir = tmp_path / "model"
    mlflow.sklearn.save_model(explain_model, str(model_dir), serialization_format="cloudpickle")

    # The highest-risk household (one batch prediction: row by row took a minute).
    i = int(explain_model.predict_proba(frame)[:, 1].argmax())
    hid = frame["household_id"].iloc[i]
    env = {**os.environ, "FANPIN_HOME": str(tmp_path / "home"), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}"}
    cmd = [str(Path(sys.executable).parent / "fanpin"), "explain", "--data", str(tmp_path / "county"),
           "--household", hid, "--week", "2025-W26", "--model-uri", str(model_dir), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("household_id", "probability", "level", "base_value", "contributions", "additivity_error",
                "reasons", "protective", "rule_triggers", "measures"):
        assert key in out
    assert out["household_id"] == hid
    assert out["additivity_error"] <= 1e-6
    assert abs(out["base_value"] + math.fsum(out["contributions"].values()) - explain_model.raw_score(frame.iloc[[i]])[0]) <= 1e-6
    # The frame the command rebuilt from the folder gives the library's explanation (2025-W26 ends 2025-06-29).
    expected = explain(explain_model, frame.iloc[[i]], None, load_policy())[0]
    assert out["probability"] == pytest.approx(expected.probability, abs=1e-9)
    assert [r["text_zh"] for r in out["reasons"]] == [r["text_zh"] for r in expected.reasons]

    missing = subprocess.run(cmd[:5] + ["NOPE"] + cmd[6:], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert missing.returncode != 0 and "NOPE" in missing.stderr
