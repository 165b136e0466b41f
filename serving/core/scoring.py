"""One week's scoring: household frame -> risk, level, rule triggers, watch list and ranks.

Pure: the model, the policy, the watch-list settings and last week's scores come in as arguments,
so the single-machine job and each Spark partition compute exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.model_features import MODEL_FEATURES
from features.policy import Policy
from features.rules import evaluate_rules
from features.shocks import adjusted
from models.sanity import check_probabilities
from serving.core.new_work import Followup, held, split_work
from serving.core.watchlist import WatchlistConfig, select_watchlist


@dataclass(frozen=True)
class Previous:
    """The latest week published before this one: probabilities by household and its watch list
    (``listed`` is None when no week was published before, so every listed household is new)."""

    probability: dict[str, float] = field(default_factory=dict)
    listed: set[str] | None = None


@dataclass
class ScoredWeek:
    """What :func:`score_week` returns.

    Attributes:
        probability: calibrated risk per frame row (float64, the frame's order).
        rules: ``features.rules.evaluate_rules`` per frame row.
        scored: one row per household: ids, probability, level, change, rule summary, watch-list
            flags and reasons (``serving.core.watchlist``), ``rank`` (county) and ``township_rank``.
        work: the week's new work apart from the known and the held back
            (``serving.core.new_work.split_work``).
    """

    probability: np.ndarray
    rules: pd.DataFrame
    scored: pd.DataFrame
    work: pd.DataFrame | None = None

    @property
    def listed(self) -> np.ndarray:
        """Boolean mask of the watch list, in the frame's order."""
        return self.scored["on_watchlist"].to_numpy()


def _ranks(scored: pd.DataFrame) -> pd.DataFrame:
    """County rank and township rank: probability descending, ties by household id."""
    order = scored.sort_values(["probability", "household_id"], ascending=[False, True])
    scored.loc[order.index, "rank"] = np.arange(1, len(order) + 1)
    scored["township_rank"] = order.groupby("township").cumcount() + 1
    return scored


def score_week(frame: pd.DataFrame, model: Any, policy: Policy, config: WatchlistConfig,
               previous: Previous | None = None, *, stage: Callable[[str], None] | None = None,
               followup: Followup | None = None, offset: np.ndarray | None = None) -> ScoredWeek:
    """Score a household frame and choose its watch list.

    Args:
        frame: ``features.household_frame.build_household_frame`` rows (whole townships: the
            watch list's capacity and the township rank are per township).
        model: anything with ``predict_proba`` (the champion's ``RiskPipeline``).
        policy: risk-level thresholds and the official rules' lines.
        config: the watch list's capacities and rising threshold.
        previous: last published week's scores (default: none).
        stage: called with "score", "rules" and "watchlist" as each step starts (the weekly job's
            stage clock and test pause points; the core itself does no I/O).
        followup: what officers already know (default: nothing - no household held back, and
            every criterion met counts as new).
        offset: log odds added to each row's risk before levels and the list (the shock
            adjustment, ``serving.weekly.shock``; default none). ``probability`` stays the
            model's own, ``scored.probability`` is the adjusted risk the list ranks.

    Returns:
        The scored week (see :class:`ScoredWeek`).
    """
    previous = previous or Previous()
    stage = stage or (lambda name: None)
    stage("score")
    probability = np.asarray(model.predict_proba(frame)[:, 1], dtype="float64")
    # Refused before anything is ranked or stored: a NaN must never become a silent null.
    check_probabilities(probability, frame, columns=MODEL_FEATURES, where="the week's scores")
    stage("rules")
    rules = evaluate_rules(frame, policy)
    stage("watchlist")
    risk = probability if offset is None else adjusted(probability, offset)
    scored = pd.DataFrame({
        "household_id": frame["household_id"].to_numpy(),
        "township": frame["township"].to_numpy(),
        "village": frame["village"].to_numpy(),
        "probability": risk,
        "level": policy.levels(risk),
        "under_monitoring": frame["under_monitoring"].astype(bool).to_numpy(),
        "rules_triggered": rules["rules_triggered"].to_numpy(),
        "criteria_met": rules["criteria_met"].to_numpy(),
    })
    scored["change"] = scored["probability"] - scored["household_id"].map(previous.probability).astype("float64")
    followup = followup or Followup()
    scored = select_watchlist(scored, config, previous.listed, held(scored, config, followup))
    return ScoredWeek(probability=probability, rules=rules, scored=_ranks(scored),
                      work=split_work(scored, config, followup))
