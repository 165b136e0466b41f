"""The champion's local cache (issue 32): made from the registry's one MLflow model, used only
while it is a copy of the version holding the alias, with private modes; real MLflow (SQLite)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture()
def registry(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment(experiment_name="cache", )
    return tmp_path


def register(c: float, alias: str = "champion") -> str:
    """Log a small model as a run (with the evaluation metrics file) and give it ``alias``."""
    import mlflow
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    model = LogisticRegression(C=c).fit(x, (x[:, 0] + rng.normal(size=200) > 0).astype(int))
    import pandas as pd

    with mlflow.start_run():
        mlflow.log_dict({"metrics": {"auc": 0.7}}, "evaluation/metrics.json")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "reference_sample.parquet"
            pd.DataFrame({"x": x[:, 0], "prediction": model.predict_proba(x)[:, 1]}).to_parquet(path)
            mlflow.log_artifact(str(path), "reference")
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name="fanpin-risk")
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias("fanpin-risk", alias, version)
    return version


X = np.random.default_rng(1).normal(size=(50, 3))


def entries(cache):
    return sorted(p for p in (cache / "fanpin-risk").iterdir() if not p.name.startswith("."))


def test_cache_is_made_once_used_while_it_holds_and_made_again_when_not(registry):
    from models.registry import load_champion

    cache = registry / "home" / "model-cache"
    v1 = register(1.0)
    fresh = load_champion(load_reference=False)  # the MLflow load, no cache
    first = load_champion(cache=cache)
    (entry,) = entries(cache)
    assert first.version == v1 and first.metrics["auc"] == 0.7 and len(first.reference) == 200
    assert np.array_equal(first.model.predict_proba(X), fresh.model.predict_proba(X))
    for path in (cache, entry, *entry.iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path  # private
    with_reference = load_champion(cache=cache)  # the reference sample from the cache too
    assert with_reference.reference.equals(first.reference)
    made = (entry / "entry.json").stat().st_mtime_ns

    again = load_champion(load_reference=False, cache=cache)  # from the cache: the entry is not made again
    assert (entry / "entry.json").stat().st_mtime_ns == made
    assert np.array_equal(again.model.predict_proba(X), fresh.model.predict_proba(X))

    # A pickle changed behind the cache's back (another model) is never loaded: the entry is made again.
    import pickle

    other = pickle.loads((entry / "model.pkl").read_bytes())
    other.coef_ = -other.coef_
    (entry / "model.pkl").write_bytes(pickle.dumps(other))
    assert np.array_equal(load_champion(load_reference=False, cache=cache).model.predict_proba(X),
                          fresh.model.predict_proba(X))
    assert (entry / "entry.json").stat().st_mtime_ns != made
    made = (entry / "entry.json").stat().st_mtime_ns

    # A readable-by-others entry is not trusted either.
    os.chmod(entry / "model.pkl", 0o644)
    load_champion(load_reference=False, cache=cache)
    assert (entry / "entry.json").stat().st_mtime_ns != made

    # The champion changes: the new version is loaded and cached, whatever the old entry holds.
    v2 = register(0.001)
    second = load_champion(load_reference=False, cache=cache)
    assert second.version == v2 != v1
    assert not np.array_equal(second.model.predict_proba(X), fresh.model.predict_proba(X))
    assert len(entries(cache)) == 2 and any(p.name.startswith(f"{v2}-") for p in entries(cache))


def test_an_artifact_changed_in_the_store_is_not_served_from_the_cache(registry):
    from mlflow.tracking import MlflowClient

    from models.champion_cache import local_folder
    from models.registry import load_champion

    cache = registry / "home" / "model-cache"
    version = register(1.0)
    load_champion(load_reference=False, cache=cache)
    (entry,) = entries(cache)
    made = (entry / "entry.json").stat().st_mtime_ns
    folder = local_folder(MlflowClient().get_model_version_download_uri("fanpin-risk", version))
    assert folder is not None
    with open(folder / "MLmodel", "a", encoding="utf-8") as fh:
        fh.write("# changed\n")
    load_champion(load_reference=False, cache=cache)
    assert (entry / "entry.json").stat().st_mtime_ns != made


def test_the_challenger_is_loaded_only_when_it_is_another_version(registry, monkeypatch):
    from types import SimpleNamespace

    from serving.jobs.shadow import load_challenger
    from serving.settings import Settings

    monkeypatch.setenv("FANPIN_HOME", str(registry / "home"))
    settings = Settings()
    v1 = register(1.0)
    assert load_challenger(settings, SimpleNamespace(version=v1)) is None  # no challenger alias
    v2 = register(0.001, alias="challenger")
    cache = settings.home / "model-cache"
    # The challenger is the champion itself: not loaded at all (no copy of it is made).
    assert load_challenger(settings, SimpleNamespace(version=v2)) is None
    assert not cache.exists() or not any(p.name.startswith(f"{v2}-") for p in entries(cache))
    found = load_challenger(settings, SimpleNamespace(version=v1))
    assert found.version == v2 and found.alias == "challenger" and found.reference is None
    assert any(p.name.startswith(f"{v2}-") for p in entries(cache))
