"""The versions of the libraries a model was trained with, and of the ones installed now.

Training records them (``training.tracking``: run params ``library.<name>``, and the model's pinned
``requirements.txt``); the weekly job reads them back here and ``monitoring.versions`` compares.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata

# The libraries that decide what the model computes, and what explains it.
MODEL_LIBRARIES = ("lightgbm", "scikit-learn", "numpy", "pandas", "shap", "mlflow")


def installed_versions(packages: Iterable[str] = MODEL_LIBRARIES) -> dict[str, str | None]:
    """The installed version of each package (None when it is not installed)."""
    out: dict[str, str | None] = {}
    for package in packages:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def parse_requirements(lines: Iterable[str]) -> dict[str, str]:
    """``name==version`` pins of a requirements file (other lines ignored), names lower-cased."""
    out = {}
    for line in lines:
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            out[match.group(1).lower().replace("_", "-")] = match.group(2)
    return out


def trained_versions(run_id: str, model_uri: str) -> dict[str, str]:
    """The model libraries' versions at training: the run's ``library.*`` params, completed by the
    model's pinned requirements (older runs logged only those). Empty when neither can be read."""
    import mlflow
    from mlflow.tracking import MlflowClient

    found: dict[str, str] = {}
    try:
        requirements = mlflow.pyfunc.get_model_dependencies(model_uri)
        with open(requirements, encoding="utf-8") as fh:
            found.update(parse_requirements(fh))
    except Exception:  # noqa: BLE001 - a model logged without requirements: the params may still say
        pass
    try:
        params = MlflowClient().get_run(run_id).data.params
        found.update({k.removeprefix("library."): v for k, v in params.items() if k.startswith("library.")})
    except Exception:  # noqa: BLE001 - the run was deleted or the store moved: nothing to compare
        pass
    return {name: found[name] for name in MODEL_LIBRARIES if name in found}
