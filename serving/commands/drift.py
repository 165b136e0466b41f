"""`fanpin drift`: run the weekly drift check alone on one week of a county folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from serving.output import emit, fail, stderr


def _champion(settings):
    """The champion (model + reference) or None when no model is registered yet."""
    try:
        import mlflow

        from models.registry import load_champion

        mlflow.set_tracking_uri(settings.tracking_uri)
        return load_champion(name=settings.model_name, alias=settings.model_alias)
    except Exception as error:  # noqa: BLE001 - no registry, no model or no alias: same answer
        stderr.print(f"[yellow]no champion ({type(error).__name__}); reference built from the history / "
                     f"无冠军模型，参考数据取自历史[/]", highlight=False)
        return None


def drift_data(data: Path, week: str, report_dir: Path | None = None, settings=None) -> dict[str, Any]:
    """Build the week's frame, compare it with the reference and save the HTML report.

    Args:
        data: county folder (``history/`` and ``exports/YYYY-Www/``).
        week: the ISO week to check.
        report_dir: where the HTML report goes (default ``FANPIN_HOME/reports``).
        settings: fanpin settings (default: from the environment).

    Returns:
        week, drifted_features, share_drifted, prediction_drift, alerts, report_path and details.
    """
    import numpy as np

    from features import reading
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from monitoring.current import overlay_export, week_cutoff
    from monitoring.drift import check_week
    from monitoring.reference import reference_from_history
    from serving.settings import get_settings

    settings = settings or get_settings()
    cutoff = week_cutoff(week)
    export = data / "exports" / week
    if not export.is_dir():
        raise FileNotFoundError(f"{export}: no export for week {week} / 没有该周的导出")
    history_dir = data / "history"
    if not history_dir.is_dir():
        raise FileNotFoundError(f"{history_dir}: no history folder / 没有历史数据")
    stderr.print(f"reading {history_dir} and {export}", highlight=False)
    history = reading.read_folder(history_dir)
    current = reading.read_folder(export, history=history)
    policy = load_policy(getattr(settings, "policy_path", None))
    frame = build_household_frame(overlay_export(history.tables, current.tables, cutoff), cutoff, policy)

    champion = _champion(settings)
    predictions = None
    if champion is not None and getattr(champion, "reference", None) is not None:
        reference = champion.reference
        predictions = np.asarray(champion.model.predict_proba(frame)[:, 1], dtype="float64")
        reference_source = f"champion {settings.model_name} v{champion.version}"
    else:
        stderr.print("building the reference from the history (matured cutoffs)", highlight=False)
        reference = reference_from_history(history.tables, policy)
        reference_source = "history"

    folder = report_dir or (settings.ensure_home() / "reports")
    report_path = Path(folder) / f"drift-{week}.html"
    stderr.print(f"checking {len(frame)} households against {len(reference)} reference rows", highlight=False)
    result = check_week(frame, reference, week=week, predictions=predictions, raw_tables=current.tables,
                        previous_tables=history.tables, report_path=report_path)
    s = result.summary
    out = {
        "reference": reference_source,
        "n_current": s["n_current"],
        "n_reference": s["n_reference"],
        "alerts_by_severity": s["alerts_by_severity"],
        "quality": s["quality"],
        "week": week,
        "drifted_features": s["drifted_features"],
        "share_drifted": s["share_drifted"],
        "prediction_drift": s["prediction_drift"],
        "alerts": [{k: a[k] for k in ("severity", "township", "feature", "message_zh", "message_en", "psi")}
                   for a in result.alerts],
        "report_path": result.report_path,
    }
    # The summary beside the report (no household rows): `fanpin performance` reads the newest.
    summary_path = report_path.with_suffix(".json")
    summary_path.write_text(json.dumps({**out, "alerts": [
        {k: a.get(k) for k in ("severity", "kind", "township", "feature", "psi")} for a in result.alerts]},
        ensure_ascii=False, default=str), encoding="utf-8")
    return out


def _print(result: dict[str, Any]) -> None:
    colours = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
    stderr.print(f"{result['week']}: {len(result['drifted_features'])} drifted features "
                 f"({result['share_drifted']:.0%}); reference: {result['reference']}", highlight=False)
    for a in result["alerts"]:
        stderr.print(f"[{colours[a['severity']]}]{a['severity']:>6}[/] {a['message_zh']}", highlight=False)
    stderr.print(f"report: {result['report_path']}", highlight=False)


def drift(
    data: Annotated[Path, typer.Option("--data", help="县文件夹 / county folder")],
    week: Annotated[str, typer.Option("--week", help="ISO 周，如 2025-W49 / ISO week")],
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="报告目录 / where the HTML report goes")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """数据漂移检查 / check one week's data against the model's reference."""
    from features.reading import ContractError

    try:
        result = drift_data(data, week, report_dir)
    except (ContractError, FileNotFoundError, ValueError) as error:
        fail(str(error))
        return
    _print(result)
    emit(result, as_json, summary="")
