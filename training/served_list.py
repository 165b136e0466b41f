"""Evaluate what serves: the weekly list rule, not only a county-wide top 5%.

The weekly list (serving/watchlist.py) names every household meeting an official criterion plus,
in each township, the highest risks up to the township's weekly visit capacity. Here the same rule
is applied to the pooled normal backtest rows of each cutoff, with the capacities of the training
config's ``served_list`` block (keep them in step with serving/watchlist.yaml), for the model and
for the hand-set rules score in the capacity part. Recall is also given without the entrants who
enter within ``skip_weeks`` of the cutoff: they are often already being identified, and a list
that finds them adds little.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models import metrics as mt
from training.dataset import ENTRY, LABEL


def rule_list(frame: pd.DataFrame, score: np.ndarray, criterion: np.ndarray, capacity: dict[str, int],
              default_capacity: int) -> np.ndarray:
    """Listed rows: an official criterion, or among the township's ``capacity`` highest scores at
    the row's cutoff (ties by household id, as the weekly job breaks them)."""
    order = pd.DataFrame({"cutoff": frame["cutoff"].to_numpy(), "township": frame["township"].astype(str).to_numpy(),
                          "household_id": frame["household_id"].astype(str).to_numpy(), "score": score})
    order = order.sort_values(["cutoff", "township", "score", "household_id"], ascending=[True, True, False, True])
    position = order.groupby(["cutoff", "township"]).cumcount().to_numpy()
    caps = order["township"].map(lambda t: capacity.get(t, default_capacity)).to_numpy()
    top = np.zeros(len(frame), dtype=bool)
    top[order.index.to_numpy()[position < caps]] = True
    return top | np.asarray(criterion, dtype=bool)


def served_list_figures(frame: pd.DataFrame, scores: dict[str, np.ndarray], config: dict[str, Any],
                        capacity_share: float = 0.05) -> dict[str, Any]:
    """Recall, precision and observed/expected of the weekly list rule and of the county-wide top
    ``capacity_share`` for each scorer on the pooled normal rows; recall also without early entrants."""
    cfg = config.get("served_list", {})
    skip = int(cfg.get("entrants_skip_weeks", 4))
    normal = frame["normal"].to_numpy(dtype=bool)
    y = frame[LABEL].to_numpy().astype(bool)
    early = (pd.to_datetime(frame[ENTRY]) - pd.to_datetime(frame["cutoff"])).dt.days.to_numpy() <= 7 * skip
    early = y & np.nan_to_num(early, nan=False).astype(bool)
    criterion = frame["criterion"].to_numpy(dtype=bool)
    out: dict[str, Any] = {"skip_weeks": skip, "entrants": int(y[normal].sum()),
                           "early_entrants": int(early[normal].sum()),
                           "listed_per_cutoff": None}
    for name, score in scores.items():
        listed = rule_list(frame, score, criterion, {str(k): int(v) for k, v in (cfg.get("townships") or {}).items()},
                           int(cfg.get("default_capacity", 25)))
        top = mt.top_share(score, frame["cutoff"].to_numpy(), capacity_share)
        later = normal & ~early
        row = {}
        for what, mask in (("list", listed), ("top5", top)):
            recall, precision = mt.recall_precision(y[normal], mask[normal])
            row[f"{what}_recall"], row[f"{what}_precision"] = recall, precision
            row[f"{what}_recall_after_{skip}w"] = mt.recall_precision(y[later], mask[later])[0]
            if name == "model":
                row[f"{what}_observed_expected"] = mt.observed_expected(y[normal & mask], score[normal & mask])
        out[name] = row
        if name == "model":
            out["listed_per_cutoff"] = float(listed[normal].sum() / max(frame.loc[normal, "cutoff"].nunique(), 1))
    return out
