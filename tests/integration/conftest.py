"""Integration fixtures: a module's own MLflow store, a fresh weekly store (the registered champion
they use is in tests/conftest.py, shared with the browser suite)."""

from __future__ import annotations

import os

import pytest

# The shared kill-and-rerun check lives outside a test module: let pytest explain its asserts.
pytest.register_assert_rewrite("tests.integration.weekly_kill")


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
