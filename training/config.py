"""Training configuration: the shipped defaults, deep-merged with a researcher's YAML file."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def default_config() -> dict[str, Any]:
    """The defaults shipped in ``training/default_config.yaml``."""
    text = resources.files("training").joinpath("default_config.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the file at ``path`` (if any), then ``overrides`` (if any)."""
    config = default_config()
    if path is not None:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a training config must be a YAML mapping")
        unknown = set(loaded) - set(config)
        if unknown:
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}")
        config = _merge(config, loaded)
    if overrides:
        config = _merge(config, overrides)
    if config["split"]["gap_weeks"] < config["horizon_weeks"]:
        raise ValueError("split.gap_weeks must be at least horizon_weeks")
    return config


def flat_params(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested keys with dots, for MLflow params (lists become strings)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_params(value, name + "."))
        else:
            out[name] = value if not isinstance(value, list) else str(value)
    return out
