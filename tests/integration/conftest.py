"""Integration fixtures: a champion registered the way `fanpin train` registers it."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def registered_champion(small_county, isolated_home):
    """Train on the small county and register ``fanpin-risk@champion`` in the session's MLflow
    store (MLFLOW_TRACKING_URI, inherited by subprocesses). Returns the train command's result."""
    from tests.integration.weekly_cli import cli_env, run

    env = cli_env(isolated_home, None, MLFLOW_TRACKING_URI=os.environ["MLFLOW_TRACKING_URI"])
    result = run(["train", "--data", str(small_county)], env, timeout=900)
    # Another test may have registered a champion first; either way one must be loadable now.
    import mlflow

    from models.registry import load_champion

    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    champion = load_champion()
    return {**result, "champion_version": str(champion.version)}
