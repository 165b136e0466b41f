"""Evidence from the field, gathered after a week is published: the challenger's shadow scores,
the realised recall of earlier shadow weeks, and the officers' verdict on recent lists; logged as
one MLflow run per weekly run in the ``fanpin-monitoring`` experiment.

None of it may stop a week: officers already have their list when this runs, so a failure is
recorded in the result (``errors``) and the log, never raised.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger("serving.weekly")
EXPERIMENT = "fanpin-monitoring"


def after_publish(job, run_id: int, frame: pd.DataFrame, probability, history_tables: dict[str, pd.DataFrame],
                  challenger: Any | None, *, from_registry: bool = False) -> dict[str, Any]:
    """Shadow-score the week, update earlier shadow weeks, read the officers' verdict, log them.

    ``challenger`` is scored when given; otherwise, when ``from_registry`` (the champion came
    from the registry too), the registry's challenger is loaded."""
    from monitoring.outcomes import data_end
    from monitoring.verdicts import headline
    from serving.jobs import shadow
    from serving.store.database import session_factory
    from serving.store.verdicts import officers_verdict

    out: dict[str, Any] = {"errors": []}

    def attempt(what: str, step) -> Any:
        try:
            return step()
        except Exception as error:  # noqa: BLE001 - recorded; the published week stands
            log.warning("%s failed: %s: %s", what, type(error).__name__, error)
            out["errors"].append(f"{what}: {type(error).__name__}: {str(error)[:200]}")
            return None

    if challenger is None and from_registry:
        challenger = attempt("loading the challenger", lambda: shadow.load_challenger(job.settings, job.champion))
    if challenger is not None:
        out["shadow"] = attempt("shadow scoring", lambda: shadow.score_shadow(
            job.engine, run_id, job.week, frame, probability, str(job.champion.version), challenger, job.config))
    out["shadow_weeks_updated"] = attempt("realised shadow recall", lambda: shadow.update_realised(
        job.engine, history_tables["outcomes"], data_end(history_tables)))

    def verdicts() -> pd.DataFrame:
        with session_factory(job.engine)() as session:
            return officers_verdict(session)

    table = attempt("officers' verdict", verdicts)
    out["verdict"] = (attempt("officers' verdict", lambda: headline(table)) if table is not None and len(table)
                      else None) or {}
    if out.get("shadow") or any(v["with_verdict"] for v in out["verdict"].values()):
        out["mlflow_run_id"] = attempt("monitoring run", lambda: log_monitoring(job, run_id, out, table))
    return out


def log_monitoring(job, run_id: int, evidence: dict[str, Any], verdicts: pd.DataFrame | None) -> str:
    """One MLflow run for the week: the verdict per group (pooled over the recent weeks, and per
    week as steps), the shadow comparison, and the verdict table as an artifact."""
    import mlflow

    from serving.tracking import use_experiment

    use_experiment(job.settings, EXPERIMENT)  # artifacts under FANPIN_HOME, not ./mlruns
    with mlflow.start_run(run_name=f"weekly {job.week}") as run:
        mlflow.set_tags({"week": job.week, "store_run_id": str(run_id), "champion_version": str(job.champion.version)})
        for group, row in evidence["verdict"].items():
            mlflow.log_metrics({f"verdict.{group}.{k}": float(v) for k, v in row.items() if v is not None})
        if verdicts is not None and len(verdicts):
            county = verdicts.loc[verdicts["township"].isna() & verdicts["week"].notna()]
            for row in county.to_dict(orient="records"):
                if row["share"] is not None:
                    step = int(row["week"].replace("-W", ""))  # 2025-W47 -> 202547: weeks in order
                    mlflow.log_metric(f"verdict.{row['group']}.weekly_share", float(row["share"]), step=step)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "officers_verdict.csv"
                verdicts.to_csv(path, index=False, encoding="utf-8")
                mlflow.log_artifact(str(path), "monitoring")
        shadow = evidence.get("shadow") or {}
        if shadow:
            mlflow.set_tag("challenger_version", shadow["model_version"])
            mlflow.log_metrics({f"shadow.{k}": float(shadow[k]) for k in ("spearman", "kendall", "overlap")
                                if shadow.get(k) is not None})
        return run.info.run_id
