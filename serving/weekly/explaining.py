"""Explanations for the weekly job (one batch for the watch list) and on demand for any other
household of a published week (rebuilt from the stored model-input row, then cached).

The stored ``facts`` are the household-frame row the model scored (``features.frame_schema``
rebuilds it), so an on-demand explanation is the same computation the batch would have made.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from features import frame_schema
from features.json_safe import records
from features.policy import Policy


def facts_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe model-input rows (NaN -> None, timestamps -> ISO dates)."""
    return records(frame[frame_schema.columns()])


def explained(model: Any, frame: pd.DataFrame, policy: Policy, rules: pd.DataFrame,
              previous: Mapping[str, float] | None = None, chunk: int = 5_000,
              known: Mapping[str, Any] | None = None) -> Iterator[tuple[str, str, dict[str, str] | None]]:
    """A watch list's explanations as (household id, JSON text, first reason or None), the reason
    as ``text_zh``/``text_en`` for the household's score row.

    Explained ``chunk`` rows at a time (one batched TreeSHAP call each) and encoded at once, so
    a province's week never holds tens of thousands of explanation objects or dicts together:
    the caller streams them into the store. ``known``: TreeSHAP values that still hold from last
    week (``serving.core.explanation_reuse``), used instead of computing them again."""
    from models.explanation import explain
    from models.measures import load_measures
    from serving.core.explanation_reuse import contributions

    measures = load_measures()
    for start in range(0, len(frame), chunk):
        rows = slice(start, start + chunk)
        batch, batch_rules = frame.iloc[rows].reset_index(drop=True), rules.iloc[rows].reset_index(drop=True)
        try:
            part = explain(model, batch, batch_rules, policy, measures, previous=previous,
                           contributions=contributions(model, batch, known) if known else None)
        except ValueError:  # a reused row missed the model's margin: compute the batch afresh
            if not known:
                raise
            part = explain(model, batch, batch_rules, policy, measures, previous=previous)
        for e in part:
            top = e.reasons[0] if e.reasons else None
            yield e.household_id, e.to_json(), ({"text_zh": top["text_zh"], "text_en": top["text_en"]}
                                                if top else None)


def explain_rows(model: Any, frame: pd.DataFrame, policy: Policy, rules: pd.DataFrame | None = None,
                 previous: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """``models.explanation.explain`` for these rows, as JSON-safe dicts."""
    from models.explanation import explain
    from models.measures import load_measures

    if len(frame) == 0:
        return []
    explanations = explain(model, frame, rules, policy, load_measures(), previous=previous)
    return [e.to_dict() for e in explanations]
