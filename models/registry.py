"""Loading registered risk models from MLflow (the training side writes, everyone reads).

The weekly job, drift monitoring and the API call :func:`load_champion`; the tracking URI is set
by the caller (``serving.tracking``, from ``serving.settings``) before the first call. Nothing
happens at import time.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


class NoChampion(LookupError):
    """No registered model version holds the requested alias."""


@dataclass
class Champion:
    """A registered model version, ready to score.

    Attributes:
        model: the fitted ``models.pipeline.RiskPipeline`` (native object: ``raw_score``,
            ``calibrate``, ``booster_`` are available to the explainer).
        version: the registry version number (string).
        run_id: the MLflow run that logged it.
        metrics: ``evaluation/metrics.json`` of that run (the ``metrics`` block flattened in,
            plus everything else under its own key); falls back to the run's metrics.
        reference: the PII-free reference sample (training frame rows + ``prediction``), or None.
        name: registered model name; alias: the alias it was loaded by (None for a version).
    """

    model: Any
    version: str
    run_id: str
    metrics: dict[str, Any]
    reference: pd.DataFrame | None
    name: str = "fanpin-risk"
    alias: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def _metrics_and_reference(client, run_id: str, load_reference: bool) -> tuple[dict[str, Any], pd.DataFrame | None]:
    metrics: dict[str, Any] = {}
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, "evaluation/metrics.json", tmp)
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
            metrics = {**doc.get("metrics", {}), **{k: v for k, v in doc.items() if k != "metrics"}}
        except Exception:  # noqa: BLE001 - older runs without the file: use the run's metrics
            metrics = dict(client.get_run(run_id).data.metrics)
        if load_reference:
            try:
                path = client.download_artifacts(run_id, "reference/reference_sample.parquet", tmp)
                reference = pd.read_parquet(path)
            except Exception:  # noqa: BLE001 - a run without a reference sample
                reference = None
    return metrics, reference


def _load(name: str, version_info, alias: str | None, load_reference: bool, cache: Path | None = None) -> Champion:
    import mlflow
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    version = str(version_info.version)
    run_id = version_info.run_id
    tags = dict(version_info.tags or {})
    if cache is None:
        model = mlflow.sklearn.load_model(f"models:/{name}/{version}")
        metrics, reference = _metrics_and_reference(client, run_id, load_reference)
        return Champion(model=model, version=version, run_id=run_id, metrics=metrics, reference=reference,
                        name=name, alias=alias, tags=tags)
    from models import champion_cache

    facts = champion_cache.version_facts(name, version_info)
    artifact_uri = client.get_model_version_download_uri(name, version)
    found = champion_cache.read(cache, facts, artifact_uri, load_reference)
    if found is None:
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(artifact_uri=artifact_uri, dst_path=tmp)
            digest = champion_cache.folder_digest(Path(local))
            model = mlflow.sklearn.load_model(local)
        metrics, reference = _metrics_and_reference(client, run_id, True)
        with contextlib.suppress(OSError):  # a full or read-only home: loaded all the same, uncached
            champion_cache.write(cache, facts, digest, model, metrics, reference)
        found = {"model": model, "metrics": metrics, "reference": reference if load_reference else None}
    return Champion(model=found["model"], version=version, run_id=run_id, metrics=found["metrics"],
                    reference=found["reference"], name=name, alias=alias, tags=tags)


def load_champion(name: str = "fanpin-risk", alias: str = "champion", *, load_reference: bool = True,
                  cache: Path | None = None) -> Champion:
    """The model version holding ``alias`` (default: the champion).

    With ``cache`` (a private folder under FANPIN_HOME), the version is loaded from its local copy
    when that copy is of this very version and artifact (``models.champion_cache``), and the copy
    is made on first use; the registry is asked which version holds the alias every time.

    Raises:
        NoChampion: no version of ``name`` holds the alias (or the model is not registered).
    """
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        info = MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException as error:
        raise NoChampion(f"no version of {name!r} holds the alias {alias!r} / 尚无{alias}模型") from error
    return _load(name, info, alias, load_reference, cache)


def version_holding(name: str, alias: str) -> str | None:
    """The version number holding ``alias`` (None when none does), without loading the model."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        return str(MlflowClient().get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def load_version(name: str, version: str | int, *, load_reference: bool = True) -> Champion:
    """A specific registered version (for comparison or rollback checks)."""
    from mlflow.tracking import MlflowClient

    info = MlflowClient().get_model_version(name, str(version))
    return _load(name, info, None, load_reference)
