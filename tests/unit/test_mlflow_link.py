"""Where the data page sends researchers: the served run in a configured MLflow UI, or nowhere."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from serving.cli import app
from serving.commands.mlflow_ui import ui_command
from serving.settings import Settings
from serving.web.pages.data_model import mlflow_link


def test_no_ui_configured_means_no_link(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("FANPIN_MLFLOW_UI_URL", raising=False)
    settings = Settings(home=tmp_path)
    assert settings.mlflow_ui is None
    assert mlflow_link(settings, "0123456789abcdef") is None


def test_a_tracking_server_is_its_own_ui(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.county.example:5000/")
    monkeypatch.delenv("FANPIN_MLFLOW_UI_URL", raising=False)
    assert Settings().mlflow_ui == "http://mlflow.county.example:5000"
    out = CliRunner().invoke(app, ["mlflow-ui", "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout.splitlines()[-1]) == {"url": "http://mlflow.county.example:5000/"}


def test_the_link_opens_the_served_run_in_its_experiment(tmp_path, monkeypatch, isolated_home):
    import mlflow

    uri = f"sqlite:///{isolated_home / 'mlflow.db'}"  # the session's store: made once, not per test
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment(f"fanpin-link-{tmp_path.name}", artifact_location=str(tmp_path / "artifacts"))
    run = client.create_run(experiment)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("FANPIN_MLFLOW_UI_URL", "http://127.0.0.1:9999/")
    settings = Settings(home=tmp_path)
    assert mlflow_link(settings, run.info.run_id) == f"http://127.0.0.1:9999/#/experiments/{experiment}/runs/{run.info.run_id}"
    assert mlflow_link(settings, None) == "http://127.0.0.1:9999/"
    command = " ".join(ui_command(uri, "127.0.0.1", 9999))
    assert "serving.commands.mlflow_readonly:readonly_app --host 127.0.0.1 --port 9999" in command
    from serving.commands.mlflow_ui import ui_env

    assert ui_env(uri, settings)["_MLFLOW_SERVER_FILE_STORE"] == uri  # the store the UI serves


def test_mlflow_ui_refuses_a_store_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'none' / 'mlflow.db'}")
    out = CliRunner().invoke(app, ["mlflow-ui"])
    assert out.exit_code == 2 and "no tracking store yet" in out.stderr
