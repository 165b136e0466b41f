"""Issue 30, item 7: the MLflow UI fanpin serves refuses writes (an anonymous alias write moved the
champion without an audit entry) and still answers reads. A real MLflow server app on a real
SQLite store, started as `fanpin mlflow-ui` starts it."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow  # starts an MLflow server (seconds)


def test_the_served_mlflow_ui_is_read_only(tmp_path, monkeypatch):
    import mlflow

    from serving.commands.mlflow_ui import free_port, start_ui, stop_ui

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment("fanpin", artifact_location=str(tmp_path / "artifacts"))
    client.create_run(experiment)
    client.create_registered_model("fanpin-risk")
    monkeypatch.setenv("FANPIN_HOME", str(tmp_path / "home"))
    process, url = start_ui(uri, "127.0.0.1", free_port("127.0.0.1", 0))
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            found = http.post("/ajax-api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment]})
            assert found.status_code == 200 and len(found.json()["runs"]) == 1  # reads pass
            assert http.get("/ajax-api/2.0/mlflow/registered-models/get", params={"name": "fanpin-risk"}).status_code == 200
            for path, body in (("/ajax-api/2.0/mlflow/registered-models/alias",
                                {"name": "fanpin-risk", "alias": "champion", "version": "1"}),
                               ("/api/2.0/mlflow/experiments/create", {"name": "intruder"}),
                               ("/api/2.0/mlflow/registered-models/delete", {"name": "fanpin-risk"})):
                refused = http.post(path, json=body)
                assert refused.status_code == 403 and "read-only" in refused.json()["message"], path
            assert http.delete("/ajax-api/2.0/mlflow/registered-models/alias",
                               params={"name": "fanpin-risk", "alias": "champion"}).status_code == 403
    finally:
        stop_ui(process)
    assert client.get_experiment_by_name("intruder") is None
    assert client.get_registered_model("fanpin-risk").name == "fanpin-risk"
