"""Explain one household on demand from a county folder (``fanpin explain``).

Reads the county's registry history (and the week's export when the history lacks it), builds the
household frame at the week's cutoff exactly as the weekly job does, and explains the household
with the champion model (or a model given by URI or path).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from features.weeks import Week


def latest_week(data_dir: Path) -> str | None:
    """The newest export week under DIR/exports, or None."""
    exports = Path(data_dir) / "exports"
    weeks = sorted(p.name for p in exports.iterdir() if p.is_dir()) if exports.is_dir() else []
    return weeks[-1] if weeks else None


def _tables(data_dir: Path, week: Week, cutoff: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Registry tables as they stood at the cutoff: the history, plus the week's export only when
    the history ends before it (merged by the weekly job's own rules, so no row is doubled)."""
    from features.reading import read_folder
    from serving.weekly.history import DATED, History, append_export

    data_dir = Path(data_dir)
    history = data_dir / "history"
    export = data_dir / "exports" / week
    if history.is_dir():
        tables = read_folder(history).tables
        dates = [tables[name][column].max() for name, column in DATED.items() if len(tables[name])]
        dates.append(tables["households"]["valid_from"].max())
        as_of = max(pd.Timestamp(d) for d in dates if pd.notna(d))
        if export.is_dir() and cutoff > as_of:
            new = read_folder(export, history=tables).tables
            tables = append_export(History(tables, as_of), new, week, cutoff)[0].tables
        return tables
    if export.is_dir():
        return read_folder(export).tables
    return read_folder(data_dir).tables


def _model(model_uri: str | None, settings: Any) -> tuple[Any, str]:
    import mlflow

    from serving.tracking import configure_tracking, load_champion

    configure_tracking(settings)
    if model_uri:
        uri = model_uri if "://" in model_uri or model_uri.startswith("models:") else str(Path(model_uri).resolve())
        return mlflow.sklearn.load_model(uri), model_uri
    champion = load_champion(settings, load_reference=False)
    return champion.model, f"models:/{settings.model_name}/{champion.version}"


def explain_household(data_dir: str | Path, household_id: str, settings: Any, *, week: Week | str | None = None,
                      model_uri: str | None = None) -> dict[str, Any]:
    """Explanation dict of one household at a week's cutoff.

    Args:
        data_dir: county folder (``history/`` and ``exports/YYYY-Www/``) or one export folder.
        household_id: the household to explain.
        settings: fanpin settings (tracking URI, model name, policy path).
        week: ISO week (default: the newest export under ``DIR/exports``, else today's week).
        model_uri: an MLflow model URI or a saved model folder (default: the champion).

    Returns:
        ``Explanation.to_dict()`` plus ``week`` and ``model``.

    Raises:
        LookupError: the household is not in the registry at the cutoff.
    """
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from features.rules import evaluate_rules
    from models.explanation import explain
    from models.measures import load_measures
    from serving.jobs.week_run import as_week

    data_dir = Path(data_dir)
    week = as_week(week or latest_week(data_dir) or Week.of(dt.date.today()))
    cutoff = week.cutoff
    policy = load_policy(getattr(settings, "policy_path", None))
    tables = _tables(data_dir, week, cutoff)
    frame = build_household_frame(tables, cutoff, policy)
    # Village context features need the whole village, so the frame is built for all, then cut.
    row = frame.loc[frame["household_id"].astype(str) == str(household_id)].reset_index(drop=True)
    if row.empty:
        raise LookupError(f"household {household_id} is not in the registry at {cutoff.date()} / 该户不在册")
    model, used = _model(model_uri, settings)
    rules = evaluate_rules(row, policy)
    result = explain(model, row, rules, policy, load_measures())[0].to_dict()
    return {**result, "week": week, "model": used}
