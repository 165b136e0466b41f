"""Explanations of the risk model for a batch of households (exact TreeSHAP).

LightGBM's own ``pred_contrib`` gives, for each household, a base value and one contribution per
model feature that add up exactly to the model's margin (log-odds before calibration); that is
what ``shap.TreeExplainer`` computes too, at the same cost. One call covers the whole batch.
Contributions are then grouped into the reason concepts of ``features.household_frame.CONCEPTS``
and turned into sentences from the household's own values (:mod:`models.reasons`); official
criteria and assistance measures are attached beside them, kept apart from the model's reasons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from features.household_frame import CONCEPTS, FRAME_COLUMNS
from features.json_safe import plain
from features.policy import Policy
from features.rules import CRITERIA, SCREENING, evaluate_rules
from features.vocabulary import RISK_LEVEL
from models import reasons as rs
from models.measures import Measures, load_measures

# The model's coded attributes belong to concepts too. category (exited / marginal / general)
# says how far the household is from its poverty history, so it joins time since leaving
# poverty; policy status and social assistance are support the household receives.
CATEGORICAL_CONCEPTS = {
    "category": "time_since_exit",
    "policy_status": "policy_support",
    "social_assistance": "policy_support",
}
ADDITIVITY_TOLERANCE = 1e-6
MAX_REASONS = 4
MAX_PROTECTIVE = 3
# Contributions smaller than this (log-odds) are noise to a reader and make no reason.
MIN_REASON_CONTRIBUTION = 0.02
# A fact joins a reason's sentence only if its feature carries a real part of the concept's
# push: at least this share of it (and MIN_REASON_CONTRIBUTION / 2 in absolute terms).
MIN_FEATURE_SHARE = 0.15


def feature_concept(feature: str) -> str:
    """The reason concept a model feature belongs to."""
    if feature in FRAME_COLUMNS:
        return FRAME_COLUMNS[feature].concept
    if feature in CATEGORICAL_CONCEPTS:
        return CATEGORICAL_CONCEPTS[feature]
    raise KeyError(f"feature {feature!r} has no reason concept")


def group_contributions(contributions: Mapping[str, float]) -> dict[str, float]:
    """Sum feature contributions by concept (``math.fsum``: exact, independent of order)."""
    members: dict[str, list[float]] = {}
    for feature, value in contributions.items():
        members.setdefault(feature_concept(feature), []).append(value)
    return {concept: math.fsum(values) for concept, values in members.items()}


@dataclass
class Explanation:
    """Why one household got its score, and what help fits."""

    household_id: str
    probability: float
    level: str
    level_zh: str
    change: float | None
    previous_probability: float | None
    raw_score: float
    base_value: float
    contributions: dict[str, float]
    concept_contributions: dict[str, float]
    reasons: list[dict[str, Any]]
    protective: list[dict[str, Any]]
    rule_triggers: list[dict[str, str]]
    screening_flags: list[dict[str, str]]
    measures: list[dict[str, Any]]
    additivity_error: float
    cutoff: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The explanation as JSON text (plain floats, NaN as None)."""
        import orjson

        return orjson.dumps(self, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS,
                            default=partial(plain, dates="iso")).decode()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (plain floats, NaN as None)."""
        import orjson

        # One pass through orjson's C encoder and decoder makes the plain copy (numpy scalars to
        # numbers, NaN and infinities to None, tuples to lists) ~10x faster than walking it in
        # Python, which was a large part of explaining a watch list.
        return orjson.loads(self.to_json())


def contributions_matrix(model: Any, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact TreeSHAP for a batch: (contributions n x p, base values n, margins n).

    One ``pred_contrib`` call for the whole batch; the margin comes from a separate
    ``raw_score`` call so that additivity is checked against the model, not against itself.
    """
    from models.pipeline import prediction_threads

    X = model.transform_features(frame)
    threads = prediction_threads()
    contrib = np.asarray(model.booster_.predict(X, pred_contrib=True, num_threads=threads), dtype="float64")
    margin = np.asarray(model.booster_.predict(X, raw_score=True, num_threads=threads), dtype="float64")
    return contrib[:, :-1], contrib[:, -1], margin


def _reason(concept: str, value: float, features: list[str], row: Mapping[str, Any]) -> dict[str, Any]:
    zh_name, en_name = CONCEPTS[concept]
    text_zh, text_en = rs.sentence(zh_name, en_name, features, row, raising=value > 0)
    return {
        "concept": concept,
        "concept_zh": zh_name,
        "concept_en": en_name,
        "text_zh": text_zh,
        "text_en": text_en,
        "contribution": value,
        "features": features,
    }


def household_reasons(
    contributions: Mapping[str, float], concept_sums: Mapping[str, float], row: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Reasons raising the risk (at most four) and lowering it (at most three), strongest first.

    A concept's sentence states the facts of its features that push the same way as the concept
    (strongest first): a concept that raises the risk is described by what raises it.
    """
    by_concept: dict[str, list[tuple[str, float]]] = {}
    for feature, value in contributions.items():
        by_concept.setdefault(feature_concept(feature), []).append((feature, value))

    def build(sign: float, limit: int) -> list[dict[str, Any]]:
        chosen = [(c, v) for c, v in concept_sums.items() if sign * v >= MIN_REASON_CONTRIBUTION]
        chosen.sort(key=lambda cv: -sign * cv[1])
        out = []
        for concept, value in chosen[:limit]:
            floor = max(MIN_REASON_CONTRIBUTION / 2, MIN_FEATURE_SHARE * abs(value))
            members = [(f, v) for f, v in by_concept[concept] if sign * v > 0]
            members.sort(key=lambda fv: -sign * fv[1])
            # The strongest feature always speaks; weaker ones only if they carry real weight.
            members = members[:1] + [(f, v) for f, v in members[1:] if sign * v >= floor]
            out.append(_reason(concept, value, [f for f, _ in members], row))
        return out

    return build(1.0, MAX_REASONS), build(-1.0, MAX_PROTECTIVE)


def _previous_lookup(previous: Mapping[str, float] | pd.Series | None) -> Mapping[str, float]:
    if previous is None:
        return {}
    if isinstance(previous, pd.Series):
        return previous.to_dict()
    return previous


def _rule_labels(rule_row: Mapping[str, Any], rules: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        {"name": name, "zh": rule.zh, "en": rule.en}
        for name, rule in rules.items()
        if bool(rule_row.get(f"rule_{name}", False))
    ]


def explain(
    model: Any,
    frame: pd.DataFrame,
    rules: pd.DataFrame | None,
    policy: Policy,
    measures: Measures | None = None,
    previous: Mapping[str, float] | pd.Series | None = None,
    contributions: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> list[Explanation]:
    """Explain every household of ``frame`` with one batch TreeSHAP call.

    Args:
        model: a fitted :class:`models.pipeline.RiskPipeline` (or anything with
            ``transform_features``, ``booster_`` and ``calibrate``).
        frame: household frame rows to explain.
        rules: ``features.rules.evaluate_rules(frame, policy)`` aligned with ``frame`` (computed
            here when None).
        policy: supplies the risk-level thresholds.
        measures: the assistance-measures file (default: the one shipped with fanpin).
        previous: household_id -> last week's probability, for the change since last week.
        contributions: (contributions, base values, margins) of these rows when already known
            (the weekly job reuses last week's TreeSHAP values where they cannot have changed);
            the additivity check below still holds them to the model's margins.

    Returns:
        One :class:`Explanation` per row of ``frame``, in the same order.

    Raises:
        ValueError: when base value plus contributions misses the model's margin by more than
            ``ADDITIVITY_TOLERANCE`` (the decomposition would not be the model's).
    """
    if len(frame) == 0:
        return []
    frame = frame.reset_index(drop=True)
    rules = evaluate_rules(frame, policy) if rules is None else rules.reset_index(drop=True)
    measures = measures or load_measures()
    previous_of = _previous_lookup(previous)

    contrib, base, margin = contributions if contributions is not None else contributions_matrix(model, frame)
    # fsum per row: the check should measure the model's decomposition, not summation noise.
    totals = np.array([math.fsum(r) for r in contrib]) + base
    errors = np.abs(totals - margin)
    worst = float(errors.max())
    if worst > ADDITIVITY_TOLERANCE:
        raise ValueError(f"TreeSHAP additivity error {worst:.3g} exceeds {ADDITIVITY_TOLERANCE}")
    probability = np.asarray(model.calibrate(margin), dtype="float64")
    names = list(model.feature_names_)

    records = frame.to_dict("records")
    rule_records = rules.to_dict("records")
    out = []
    for i, row in enumerate(records):
        hid = str(row["household_id"])
        contributions = dict(zip(names, contrib[i].tolist(), strict=True))
        concept_sums = group_contributions(contributions)
        raising, lowering = household_reasons(contributions, concept_sums, row)
        triggers = _rule_labels(rule_records[i], CRITERIA)
        p = float(probability[i])
        level = policy.level(p)
        before = previous_of.get(hid)
        before = None if before is None or not math.isfinite(float(before)) else float(before)
        out.append(
            Explanation(
                household_id=hid,
                probability=p,
                level=level,
                level_zh=RISK_LEVEL[level],
                change=None if before is None else p - before,
                previous_probability=before,
                raw_score=float(margin[i]),
                base_value=float(base[i]),
                contributions=contributions,
                concept_contributions=concept_sums,
                reasons=raising,
                protective=lowering,
                rule_triggers=triggers,
                screening_flags=_rule_labels(rule_records[i], SCREENING),
                measures=measures.suggest(
                    [r["concept"] for r in raising], [t["name"] for t in triggers], row
                ),
                additivity_error=float(errors[i]),
                cutoff=str(pd.Timestamp(row["cutoff"]).date()) if row.get("cutoff") is not None else None,
            )
        )
    return out
