"""Integration fixtures: a champion registered the way `fanpin train` registers it."""

from __future__ import annotations

import os

import pytest

# The shared kill-and-rerun check lives outside a test module: let pytest explain its asserts.
pytest.register_assert_rewrite("tests.integration.weekly_kill")

# Fast but real: no tuning, a smaller forest (the default config is for production counties).
# One shuffle of at most 2,000 rows per feature: the feature-value report in seconds, not tens.
FAST_CONFIG = ("tuning:\n  trials: 0\nworkers: 1\nmodel:\n  lgbm:\n    n_estimators: 120\n    num_leaves: 15\n"
               "    learning_rate: 0.05\n    min_child_samples: 100\n    reg_lambda: 1.0\n"
               "feature_value:\n  repeats: 1\n  max_rows: 2000\n")


@pytest.fixture(scope="session")
def registered_champion(small_county, tmp_path_factory):
    """Train on the small county and register ``fanpin-risk@champion`` in a private MLflow store.

    Returns the train result plus ``tracking_uri`` (pass it to subprocesses as MLFLOW_TRACKING_URI)
    and ``train_stderr`` (what the run wrote to its stderr, a pipe).
    """
    from tests.integration.weekly_cli import cli_env, run

    tmp = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    config = tmp / "fast.yaml"
    config.write_text(FAST_CONFIG)
    env = cli_env(tmp / "home", None, MLFLOW_TRACKING_URI=uri)
    logs: list[str] = []
    result = run(["train", "--data", str(small_county), "--config", str(config)], env, logs, timeout=1800)
    if result["alias"] != "champion":
        # The gates may keep a first small model a challenger; the weekly tests need a champion.
        run(["promote", "--version", str(result["model_version"]), "--reason", "integration tests"], env)
    return {**result, "tracking_uri": uri, "train_stderr": logs[1]}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A fresh SQLite MLflow tracking store for one test module (and the CLI it runs)."""
    import mlflow

    home = tmp_path_factory.mktemp("mlflow-module")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    saved = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    yield home
    if saved is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = saved
        mlflow.set_tracking_uri(saved)


@pytest.fixture
def weekly_env(request, tmp_path, small_county, registered_champion):
    """A fresh store of the test module's ``DATABASE`` with the small county's history imported."""
    from tests.integration.weekly_kill import weekly_store

    with weekly_store(request.module.DATABASE, tmp_path, small_county, registered_champion) as env:
        yield env
