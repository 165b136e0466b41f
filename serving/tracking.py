"""The one place fanpin points MLflow at its tracking store and loads the champion.

The tracking URI comes from the settings (``MLFLOW_TRACKING_URI`` wins, else a SQLite store under
``FANPIN_HOME``); every command, job and the app call :func:`configure_tracking` or
:func:`load_champion` here rather than setting MLflow's global URI themselves.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from serving.settings import Settings


def configure_tracking(settings: Settings) -> str:
    """Point MLflow at the settings' tracking store (creating FANPIN_HOME for the default SQLite
    store) and return the URI."""
    import mlflow

    if "MLFLOW_TRACKING_URI" not in os.environ:
        settings.ensure_home()  # the default SQLite store lives under FANPIN_HOME
    mlflow.set_tracking_uri(settings.tracking_uri)
    return settings.tracking_uri


def artifact_root(settings: Settings) -> str:
    """Where a local (SQLite) tracking store's artifacts go: FANPIN_HOME/mlartifacts, owner-only.
    MLflow's own default is ``./mlruns`` in whatever folder the command ran from (0755/0644)."""
    from serving.private_files import private_dir

    return private_dir(settings.ensure_home() / "mlartifacts").as_uri()


def use_experiment(settings: Settings, name: str) -> str:
    """Point MLflow at the store and make ``name`` the active experiment, creating it with its
    artifacts under ``artifact_root`` when the store is local (a tracking server keeps its own)."""
    import mlflow

    uri = configure_tracking(settings)
    if uri.startswith("sqlite:") and mlflow.get_experiment_by_name(name) is None:
        with contextlib.suppress(mlflow.exceptions.MlflowException):  # created meanwhile by another process
            mlflow.create_experiment(name, artifact_location=f"{artifact_root(settings)}/{name}")
    mlflow.set_experiment(name)
    return uri


def load_champion(settings: Settings, *, load_reference: bool = True) -> Any:
    """The registry's champion (``models.registry.load_champion``) under the settings' name and
    alias; raises whatever the registry raises (``models.registry.NoChampion`` when none)."""
    from models.registry import load_champion as load

    configure_tracking(settings)
    # The champion's local copy (models.champion_cache) lives under the home: derived from the
    # registry's one MLflow model, checked against it on every load.
    return load(name=settings.model_name, alias=settings.model_alias, load_reference=load_reference,
                cache=settings.ensure_home() / "model-cache")


def load_champion_or_reason(settings: Settings, *, load_reference: bool = True) -> tuple[Any, str | None]:
    """(champion, None), or (None, why) when there is no registry, no champion or no tracking server."""
    try:
        return load_champion(settings, load_reference=load_reference), None
    except Exception as error:  # noqa: BLE001 - no registry, no champion, unreachable server: same answer
        return None, f"{type(error).__name__}: {str(error)[:200]}"
