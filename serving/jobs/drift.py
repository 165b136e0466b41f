"""The drift job: check one week of a county folder against the champion's reference (or, with
no champion, a reference built from the history) and save the HTML report.

``fanpin drift`` calls :func:`drift_data`; the weekly job runs the same check and keeps the
result in the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from features.weeks import Week
from serving.output import stderr


def _champion(settings):
    """The champion (model + reference) or None when no model is registered yet."""
    from serving.tracking import load_champion_or_reason

    champion, reason = load_champion_or_reason(settings)
    if champion is None:
        stderr.print(f"[yellow]no champion ({reason.split(':')[0]}); reference built from the history / "
                     f"无冠军模型，参考数据取自历史[/]", highlight=False)
    return champion


def drift_data(data: Path, week: Week | str, report_dir: Path | None = None, settings=None) -> dict[str, Any]:
    """Build the week's frame, compare it with the reference and save the HTML report.

    Args:
        data: county folder (``history/`` and ``exports/YYYY-Www/``).
        week: the ISO week to check (a ``Week``, or text parsed once here).
        report_dir: where the HTML report goes (default ``FANPIN_HOME/reports``).
        settings: fanpin settings (default: from the environment).

    Returns:
        week, drifted_features, share_drifted, prediction_drift, alerts, report_path and details.
    """
    import numpy as np

    from features import reading
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from monitoring.current import overlay_export
    from monitoring.drift import check_week
    from monitoring.reference import reference_from_history
    from serving.settings import get_settings

    settings = settings or get_settings()
    week = Week.parse(week)
    cutoff = week.cutoff
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
    return out
