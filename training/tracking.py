"""MLflow I/O for training: one run per training, its artifacts, the model, registration, aliases.

The tracking URI is set by the caller (the CLI edge, from ``serving.settings``); nothing here runs
at import time. No artifact may hold a direct identifier: the reference sample and the input
example are checked against the contract's ``sensitive`` columns before they are written.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.contract import sensitive_columns
from features.household_frame import FRAME_COLUMNS
from features.json_safe import plain
from features.model_features import CATEGORICAL_FEATURES, MODEL_FEATURES
from features.policy import Policy
from models import metrics as mt
from models.libraries import installed_versions
from training import evaluate as ev
from training.config import flat_params
from training.gates import decide
from training.run_metrics import _finite, log_backtest, log_feature_value, log_staleness, metric_key

REQUIREMENT_PACKAGES = ("mlflow", "scikit-learn", "lightgbm", "pandas", "numpy", "pyarrow", "skops", "scipy")
# Columns that identify a household or a person; never written into an artifact.
IDENTIFYING = {"household_id", "member_id", "village"} | sensitive_columns()


def current_user(explicit: str | None = None) -> str:
    """Who is acting: --user, then FANPIN_USER, then the login name."""
    if explicit:
        return explicit
    if os.environ.get("FANPIN_USER"):
        return os.environ["FANPIN_USER"]
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


def code_version() -> str:
    """The git commit of the code (with '-dirty' when files differ), or 'unknown'."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except Exception:  # noqa: BLE001 - not a git checkout (an installed wheel)
        return "unknown"


def pip_requirements() -> list[str]:
    """Pinned requirements of the logged model (the inferred list drags in test tools)."""
    out = []
    for package in REQUIREMENT_PACKAGES:
        try:
            out.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return out


def assert_no_identifiers(frame: pd.DataFrame, what: str) -> None:
    """Refuse to log a table holding an identifying column."""
    found = IDENTIFYING & set(frame.columns)
    if found:
        raise ValueError(f"{what} would hold identifying columns {sorted(found)}")


def signature_frame(frame: pd.DataFrame, features: list[str] | None = None) -> pd.DataFrame:
    """The model's input columns typed for an MLflow signature, as the frame builder types them
    (int64 counts stay long: MLflow refuses int64 -> double), coded attributes as plain strings
    (pandas categories break at pyfunc time, DEPENDENCIES.md)."""
    features = list(features or MODEL_FEATURES)
    out = {}
    for name in features:
        col = frame[name]
        if name in CATEGORICAL_FEATURES or col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            out[name] = col.astype(object).where(col.notna(), None).astype(object)
        elif col.dtype == bool or pd.api.types.is_integer_dtype(col.dtype) and col.notna().all():
            out[name] = col.to_numpy()
        else:
            out[name] = col.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    return pd.DataFrame(out, index=frame.index)


def model_signature(example: pd.DataFrame, prediction: np.ndarray):
    """Signature with every input column required (present), whatever the example's missing values:
    a five-row example must not decide which features may be absent."""
    import warnings

    from mlflow.models import infer_signature
    from mlflow.types.schema import ColSpec, Schema

    with warnings.catch_warnings():
        # The frame builder's counts are always integers (every household has members): the
        # "integers cannot be missing" hint does not apply.
        warnings.filterwarnings("ignore", message=".*integer column", category=UserWarning)
        inferred = infer_signature(example, prediction)
    inputs = Schema([ColSpec(c.type, c.name, required=True) for c in inferred.inputs.inputs])
    inferred.inputs = inputs
    return inferred


def skops_trusted(model: Any) -> list[str]:
    """Types skops does not trust by default in this model (our own classes and LightGBM's);
    listed explicitly so the sklearn flavour can save and load the model."""
    import skops.io as sio

    return sorted(sio.get_untrusted_types(data=sio.dumps(model)))


def features_table(names: list[str]) -> pd.DataFrame:
    """name, zh, en, concept for each model feature."""
    from features import vocabulary as voc  # noqa: F401 - categories carry contract labels

    rows = []
    for name in names:
        if name in FRAME_COLUMNS:
            c = FRAME_COLUMNS[name]
            rows.append({"name": name, "zh": c.zh, "en": c.en, "concept": c.concept, "unit": c.unit or ""})
        else:
            from features.contract import zh_labels

            rows.append({"name": name, "zh": zh_labels("households").get(name, name), "en": name.replace("_", " "),
                         "concept": "policy_support", "unit": ""})
    return pd.DataFrame(rows)


def champion_metrics_on(model_name: str, frame: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> dict | None:
    """The current champion's metrics on the candidate's test rows, or None without a champion."""
    from models.registry import NoChampion, load_champion

    try:
        champion = load_champion(model_name, load_reference=False)
    except NoChampion:
        return None
    p = champion.model.predict_proba(frame)[:, 1]
    return {**ev.score_metrics(y, p, groups, probability=True), "version": champion.version}


def champion_comparison(model_name: str, result) -> tuple[dict | None, dict | None, str | None]:
    """(champion's metrics, candidate's metrics, stale note) on the rows *neither* saw: the
    candidate's held-out quarter after the champion's newest learned cutoff. A candidate whose
    held-out quarter ends before the champion's data does has no such rows: the note refuses it.
    A table (no held-out quarter) compares on the candidate's test rows, as before."""
    from models.registry import NoChampion, load_champion

    try:
        champion = load_champion(model_name, load_reference=False)
    except NoChampion:
        return None, None, None
    holdout = result.holdout_frame
    champion_last = (champion.metrics.get("served") or {}).get("served_train_last")
    if holdout is None or holdout.empty or not champion_last:
        test = result.test_frame
        groups = test["cutoff"].to_numpy() if "cutoff" in test else np.zeros(len(test))
        p = champion.model.predict_proba(test)[:, 1]
        return {**ev.score_metrics(test["label"].to_numpy(), p, groups, probability=True),
                "version": champion.version}, None, None
    rows = holdout.loc[pd.to_datetime(holdout["cutoff"]) > pd.Timestamp(champion_last)].reset_index(drop=True)
    if rows.empty or rows["label"].sum() == 0:
        return ({"version": champion.version, "served_train_last": champion_last}, None,
                f"no rows neither model saw: the candidate's newest unseen cutoff is "
                f"{pd.to_datetime(holdout['cutoff']).max().date()}, the champion (version {champion.version}) learned "
                f"up to {champion_last}; a candidate with older data than the champion is stale")
    y, groups = rows["label"].to_numpy(), rows["cutoff"].to_numpy()
    theirs = ev.score_metrics(y, champion.model.predict_proba(rows)[:, 1], groups, probability=True)
    ours = ev.score_metrics(y, result.model.predict_proba(rows)[:, 1], groups, probability=True)
    return ({**theirs, "version": champion.version, "rows": len(rows), "served_train_last": champion_last},
            {**ours, "rows": len(rows)}, None)


def gate_decision(result, champion: dict | None = None, candidate_on_unseen: dict | None = None,
                  stale: str | None = None):
    """The gates' decision for a training result: a county's pooled normal backtest years, its
    slices and its served model's held-out quarter (a table's test part), against the champion's
    figures on rows neither saw when there is one."""
    backtest = getattr(result, "backtest", None)
    pooled = backtest.pooled if backtest is not None else {}
    return decide(result.metrics, pooled.get("rules", result.scorers.get("rules")), result.slices, champion,
                  result.config.get("gates"), logistic=result.scorers.get("logistic"),
                  fitted_rules=pooled.get("rules_fitted", result.scorers.get("rules_fitted")),
                  served=getattr(result, "holdout", None) or None, candidate_on_unseen=candidate_on_unseen,
                  unseen_note=stale)


def log_training(
    result,
    *,
    experiment: str,
    model_name: str,
    policy: Policy,
    data_fingerprint: str,
    data_source: str,
    user: str | None = None,
    started: float | None = None,
    extra_tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Log a ``TrainingResult`` as one MLflow run, register the model and set its alias.

    Returns:
        run_id, version, alias, reason, champion_metrics.
    """
    import mlflow
    from mlflow.tracking import MlflowClient

    from training import model_card, report

    started = started or time.perf_counter()
    user = current_user(user)
    mlflow.set_experiment(experiment)
    champion, candidate_on_unseen, stale = champion_comparison(model_name, result)
    backtest = getattr(result, "backtest", None)
    decision = gate_decision(result, champion, candidate_on_unseen, stale)

    assert_no_identifiers(result.reference, "the reference sample")
    example = signature_frame(result.reference.head(5), result.input_columns)
    assert_no_identifiers(example, "the input example")
    prediction = result.model.predict_proba(example)
    signature = model_signature(example, prediction)

    with mlflow.start_run(run_name=f"train {time.strftime('%Y-%m-%d %H:%M')}") as run:
        run_id = run.info.run_id
        params = {**flat_params(result.config), **{f"best.{k}": v for k, v in result.best_params.items()},
                  **result.split.as_params(), **result.counts}
        # MLflow params are strings of at most 6000 characters; long lists become their repr.
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        # What the weekly job compares the installed libraries with (monitoring.versions).
        mlflow.log_params({f"library.{k}": v for k, v in installed_versions().items() if v})
        mlflow.set_tags({
            "data_fingerprint": data_fingerprint,
            "data_source": data_source,
            "code_version": code_version(),
            "mlflow.source.git.commit": code_version().replace("-dirty", ""),
            "user": user,
            "model_name": model_name,
            "candidate_alias": decision.alias,
            "alias_reason": decision.reason[:4900],
            **(extra_tags or {}),
        })
        mlflow.log_metrics(_finite(result.metrics))
        for scorer, values in result.scorers.items():
            mlflow.log_metrics({f"{scorer}.{k}": v for k, v in _finite(values).items()})
        mlflow.log_metrics({f"seconds.{k}": v for k, v in result.seconds.items()})
        if result.served:
            mlflow.set_tags({k: str(v) for k, v in result.served.items()})
        for row in result.calibration.to_dict(orient="records"):
            name = metric_key("calibration.oe." + row["where"] + (f".{row['value']}" if row["value"] else ""))
            mlflow.log_metrics(_finite({name: row["observed_expected"]}))
        for row in result.slices.to_dict(orient="records"):
            base = metric_key(f"slice.{row['slice']}.{row['value']}")
            mlflow.log_metrics(_finite({f"{base}.{k}": row.get(k) for k in (
                "model_recall_at_5pct", "model_recall_at_5pct_low", "model_recall_at_5pct_high", "entrants")
                if k in row}))
        log_feature_value(result.feature_value)
        log_backtest(backtest, getattr(result, "holdout", None) or {})
        log_staleness(result.staleness)
        for record in result.tuning:
            with mlflow.start_run(run_name=f"tuning trial {record['trial']}", nested=True):
                mlflow.log_params({k: v for k, v in record.items() if k != "validation_auc"})
                mlflow.log_metric("validation_auc", record["validation_auc"])

        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "evaluation").mkdir()
            (tmp / "reference").mkdir()
            metrics_doc = {
                "metrics": result.metrics, "scorers": result.scorers, "lead_time": result.lead,
                "oracle": result.oracle, "split": result.split.as_params(), "served": result.served,
                "intervals": result.intervals, "calibration": result.calibration.to_dict(orient="records"),
                "staleness": result.staleness,
                "backtest": backtest.summary() if backtest is not None else None,
                "served_gate": getattr(result, "holdout", None) or None,
                "slices_summary": ev.slice_summary(result.slices) if len(result.slices) else {},
                "counts": result.counts,
                "seconds": result.seconds, "best_params": result.best_params, "decision": {
                    "alias": decision.alias, "reasons": decision.reasons, "checks": decision.checks,
                    "champion_on_same_rows": champion},
                "definitions": {"ece": f"{mt.ECE_BINS} equal-frequency bins (models.metrics)",
                                "capacity": "top ceil(share x n) eligible households per cutoff",
                                "intervals": "household-clustered bootstrap, 95% percentile",
                                "lead_time": "weekly watch lists; median over warned entrants; random list = "
                                             "the same listings with household identities shuffled"},
                "notes": result.notes,
            }
            (tmp / "evaluation" / "metrics.json").write_text(
                json.dumps(plain(metrics_doc), ensure_ascii=False, indent=2), encoding="utf-8")
            result.slices.to_csv(tmp / "evaluation" / "slices.csv", index=False, encoding="utf-8")
            result.calibration.to_csv(tmp / "evaluation" / "calibration.csv", index=False, encoding="utf-8")
            pd.DataFrame(result.staleness.get("curve", [])).to_csv(tmp / "evaluation" / "staleness.csv", index=False)
            pd.DataFrame(result.tuning).to_csv(tmp / "evaluation" / "tuning.csv", index=False)
            result.importance.to_csv(tmp / "evaluation" / "shap_importance.csv", index=False, encoding="utf-8")
            (tmp / "evaluation" / "report.html").write_text(report.render(result), encoding="utf-8")
            features_table(result.model.feature_names_).to_csv(tmp / "features.csv", index=False, encoding="utf-8")
            (tmp / "model_card.md").write_text(
                model_card.render(result, model_name=model_name, decision=decision, data_fingerprint=data_fingerprint,
                                  target=result.target_description),
                encoding="utf-8")
            result.reference.to_parquet(tmp / "reference" / "reference_sample.parquet", index=False)
            mlflow.log_artifacts(str(tmp))

        info = mlflow.sklearn.log_model(
            result.model,
            name="model",
            signature=signature,
            input_example=example,
            pyfunc_predict_fn="predict_proba",
            pip_requirements=pip_requirements(),
            skops_trusted_types=skops_trusted(result.model),
            registered_model_name=model_name,
        )
        version = str(info.registered_model_version)
        mlflow.log_metric("seconds.total_with_logging", time.perf_counter() - started)

    client = MlflowClient()
    client.set_registered_model_alias(model_name, decision.alias, version)
    client.set_model_version_tag(model_name, version, "alias_reason", decision.reason[:4900])
    client.set_model_version_tag(model_name, version, "trained_by", user)
    client.set_model_version_tag(model_name, version, "data_fingerprint", data_fingerprint)
    for key in ("auc", "recall_at_5pct", "ece"):
        client.set_model_version_tag(model_name, version, key, f"{result.metrics[key]:.4f}")
    return {"run_id": run_id, "version": version, "alias": decision.alias, "reason": decision.reason,
            "champion_metrics": champion}


def promote(model_name: str, version: str | int, *, reason: str, user: str | None = None,
            alias: str = "champion") -> dict[str, Any]:
    """Point ``alias`` at ``version`` (promotion or rollback), recording who and why as tags.

    The previous holder of the alias becomes ``challenger`` unless it is the same version.
    """
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    version = str(version)
    user = current_user(user)
    client.get_model_version(model_name, version)  # raises when the version does not exist
    try:
        previous = str(client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException:
        previous = None
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    client.set_registered_model_alias(model_name, alias, version)
    client.set_model_version_tag(model_name, version, f"{alias}_set_by", user)
    client.set_model_version_tag(model_name, version, f"{alias}_set_reason", reason)
    client.set_model_version_tag(model_name, version, f"{alias}_set_at", stamp)
    if previous is not None and previous != version:
        client.set_model_version_tag(model_name, previous, f"{alias}_removed_by", user)
        client.set_model_version_tag(model_name, previous, f"{alias}_removed_reason", reason)
        client.set_model_version_tag(model_name, previous, f"{alias}_removed_at", stamp)
        if alias == "champion":
            client.set_registered_model_alias(model_name, "challenger", previous)
    elif alias == "champion":
        try:
            if str(client.get_model_version_by_alias(model_name, "challenger").version) == version:
                client.delete_registered_model_alias(model_name, "challenger")
        except MlflowException:
            pass
    return {"model_name": model_name, "version": version, "alias": alias, "previous": previous,
            "user": user, "reason": reason, "at": stamp}


