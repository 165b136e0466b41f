"""Issue 30, item 7 (part): MLflow artifacts of fanpin's local tracking store land under FANPIN_HOME
(owner-only), not in the working folder's ./mlruns. Real MLflow on a SQLite store."""

from __future__ import annotations

import os
import stat

from serving.settings import Settings


def test_artifacts_go_under_fanpin_home_not_the_working_folder(tmp_path, monkeypatch):
    import mlflow

    from serving.tracking import use_experiment

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    settings = Settings(home=tmp_path / "home")
    use_experiment(settings, "fanpin-test")
    with mlflow.start_run() as run:
        mlflow.log_text("hello", "note.txt")
    where = mlflow.get_run(run.info.run_id).info.artifact_uri
    assert where.startswith((tmp_path / "home" / "mlartifacts").as_uri()), where
    assert not (work / "mlruns").exists()
    root = tmp_path / "home" / "mlartifacts"
    assert stat.S_IMODE(os.stat(root).st_mode) & 0o077 == 0
    assert list(root.rglob("note.txt"))
    use_experiment(settings, "fanpin-test")  # the second time it exists: no error
