"""The one place fanpin points MLflow at its tracking store and loads the champion.

The tracking URI comes from the settings (``MLFLOW_TRACKING_URI`` wins, else a SQLite store under
``FANPIN_HOME``); every command, job and the app call :func:`configure_tracking` or
:func:`load_champion` here rather than setting MLflow's global URI themselves.
"""

from __future__ import annotations

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
