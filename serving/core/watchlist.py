"""Choosing the week's watch list: official criteria, each township's visit capacity, sharp rises.

A household is listed when
- it meets an official criterion (``features.rules.CRITERIA``), or
- it is among the highest risks of its township, up to the township's weekly visit capacity, or
- its risk rose by at least ``rising_delta`` since the last published week;
except households already under monitoring or assistance, which stay off unless their risk keeps
rising (they are being looked after; the list is for those who are not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml


@dataclass(frozen=True)
class WatchlistConfig:
    default_capacity: int = 25
    townships: dict[str, int] = field(default_factory=dict)
    rising_delta: float = 0.05
    # A household judged "no risk" is not new work again for this many weeks, unless its risk has
    # risen by ``hold_margin`` since (``serving.core.new_work``).
    hold_weeks: int = 13
    hold_margin: float = 0.10

    def capacity(self, township: str) -> int:
        return int(self.townships.get(township, self.default_capacity))


def load_watchlist_config(path: str | Path | None = None) -> WatchlistConfig:
    """Read the watch-list settings (default: ``serving/watchlist.yaml``)."""
    if path is None:
        text = resources.files("serving").joinpath("watchlist.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return WatchlistConfig(
        default_capacity=int(data.get("default_capacity", 25)),
        townships={str(k): int(v) for k, v in (data.get("townships") or {}).items()},
        rising_delta=float(data.get("rising_delta", 0.05)),
        hold_weeks=int(data.get("hold_weeks", 13)),
        hold_margin=float(data.get("hold_margin", 0.10)),
    )


def capacity_list(scored: pd.DataFrame, config: WatchlistConfig, eligible: np.ndarray) -> np.ndarray:
    """Boolean mask: each township's highest ``probability`` among ``eligible`` rows, up to its
    capacity (ties by household id). The watch list's capacity part, and what shadow scoring
    compares between champion and challenger."""
    order = scored.loc[eligible].sort_values(
        ["township", "probability", "household_id"], ascending=[True, False, True]
    )
    position = order.groupby("township").cumcount()
    caps = order["township"].map(config.capacity)
    top = pd.Series(False, index=scored.index)
    top.loc[order.index[(position < caps).to_numpy()]] = True
    return top.to_numpy()


def select_watchlist(scored: pd.DataFrame, config: WatchlistConfig,
                     previously_listed: set[str] | None, held: set[str] | None = None) -> pd.DataFrame:
    """Mark the watch list and its flags.

    Args:
        scored: one row per household with household_id, township, probability, change (NaN when
            not scored last week), rules_triggered, under_monitoring.
        config: capacities and the rising threshold.
        previously_listed: households on last week's list (None: no earlier week published).
        held: households an officer judged "no risk" recently whose risk has not risen past the
            margin (``serving.core.new_work``): neither capacity nor a rise lists them (their
            place goes to the next household); a criterion still does.

    Returns:
        ``scored`` with on_watchlist, flag_new, flag_rising, flag_rule and ``reasons`` (list of
        criterion / capacity / rising per household).
    """
    out = scored.copy()
    change = out["change"].astype("float64")
    rising = (change >= config.rising_delta).fillna(False).to_numpy()
    criterion = out["rules_triggered"].astype(bool).to_numpy()
    eligible = ~out["under_monitoring"].astype(bool).to_numpy() | rising
    kept = ~out["household_id"].isin(held or set()).to_numpy()

    capacity = capacity_list(out, config, eligible & kept)
    rising = rising & kept

    listed = eligible & (criterion | capacity | rising)
    out["on_watchlist"] = listed
    out["flag_rising"] = rising
    out["flag_rule"] = criterion
    if previously_listed is None:
        out["flag_new"] = listed
    else:
        out["flag_new"] = listed & ~out["household_id"].isin(previously_listed).to_numpy()
    reasons = np.empty(len(out), dtype=object)
    for i in range(len(out)):
        reasons[i] = [name for name, hit in (("criterion", criterion[i]), ("capacity", capacity[i]),
                                             ("rising", rising[i])) if hit and listed[i]]
    out["reasons"] = reasons
    return out
