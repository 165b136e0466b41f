"""The training job: point MLflow at fanpin's tracking store, then train, evaluate and register a
model on a county folder or any household table (``training``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def train_model(
    data: Path | None,
    table: Path | None,
    target: str | None,
    config_path: Path | None,
    experiment: str,
    name: str | None,
    id_column: str | None,
    time_column: str | None,
    mapping: Path | None,
    user: str | None,
) -> dict[str, Any]:
    """Set the tracking URI from the settings, then train on a county folder or a table (the
    training logs how far each step is through ``features.progress``; the CLI shows it)."""
    from serving.settings import get_settings
    from serving.tracking import use_experiment
    from training.config import load_config

    settings = get_settings()
    use_experiment(settings, experiment)  # created with its artifacts under FANPIN_HOME (not ./mlruns)
    config = load_config(config_path)
    if data is not None:
        from training.train import train_county

        return train_county(data, config=config, experiment=experiment, model_name=name or settings.model_name,
                            user=user)
    from training.table import train_table

    return train_table(table, target=target, model_name=name or "table-risk", config=config,
                       experiment=experiment, id_column=id_column, time_column=time_column,
                       mapping_path=mapping, user=user)
