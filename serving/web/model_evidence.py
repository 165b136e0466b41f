"""The evidence behind the model in use, for the data page: the window the served model learned
from, the backtest figures with their 95% intervals against both rules baselines, the weekly lists'
coverage against a random list of the same coverage, observed/expected where visits are decided,
and recall per group with its interval. Everything is read from the champion's logged
``evaluation/metrics.json`` (``Champion.metrics``); nothing is recomputed here.
"""

from __future__ import annotations

from typing import Any

from serving.web.i18n import gettext
from serving.web.labels import N_
from training.evaluate import SLICE_LABELS

# Backtest figures shown with their interval, in the order a reviewer reads them.
FIGURES = ("auc", "pr_auc", "recall_at_5pct", "recall_at_10pct")
SCORERS = (("model", N_("The model")), ("rules", N_("Rules (hand-set weights)")),
           ("rules_fitted", N_("Rules (fitted weights)")))
WHERE = {"overall": N_("All test rows"), "cutoff": N_("Test cutoff"), "top 5%": N_("Top 5% of each list"),
         "top 10%": N_("Top 10% of each list")}


def _pair(value: Any) -> list[float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return [float(value[0]), float(value[1])]
    return None


def slice_name(slice_: str, value: str, language: str) -> str:
    """'乡镇: 古邵镇' / 'township: 古邵镇'; yes/no slices by their name alone."""
    zh, _, en = SLICE_LABELS.get(slice_, slice_).partition(" / ")
    name = zh if language.startswith("zh") or not en else en
    return name if value == "true" else f"{name}: {value}"


def model_evidence(metrics: dict[str, Any], language: str) -> dict[str, Any] | None:
    """What the data page shows about the champion's evaluation, or None for a run logged before
    intervals existed."""
    intervals = metrics.get("intervals")
    if not isinstance(intervals, dict) or "model" not in intervals:
        return None
    rows = []
    for figure in FIGURES:
        cells = []
        for scorer, _ in SCORERS:
            key = figure if scorer == "model" else f"{scorer}_{figure}"
            value = metrics.get(key)
            cells.append({"value": value if isinstance(value, (int, float)) else None,
                          "ci": _pair(intervals.get(scorer, {}).get(figure))})
        rows.append({"figure": figure, "cells": cells})
    calibration = [{**r, "where": gettext(language, WHERE.get(r.get("where"), r.get("where")))}
                   for r in metrics.get("calibration") or [] if isinstance(r, dict)]
    slices = []
    for key, s in sorted((metrics.get("slices_summary") or {}).items()):
        slice_, _, value = key.partition("=")
        slices.append({"name": slice_name(slice_, value, language), **s, "ci": _pair(s.get("ci"))})
    return {
        "served": metrics.get("served") or {},
        "scorers": [gettext(language, label) for _, label in SCORERS],
        "rows": rows,
        "ratio": metrics.get("recall_ratio_vs_best_rules"),
        "ratio_ci": _pair(intervals.get("recall_ratio_ci")),
        "coverage": metrics.get("list_coverage_52w"),
        "warned": metrics.get("share_warned"),
        "random_warned": metrics.get("random_list_lead_share"),
        "calibration": calibration,
        "slices": slices,
        "replicates": intervals.get("replicates"),
    }
