"""The random audit: each quarter a small random sample of households on no list gets a home
check, so the county learns how much hardship nobody reported (statisticians' way of measuring
what the registry cannot see).

Pure functions: drawing the sample (stratified by township, reproducible from its seed and the
quarter), and estimating the hidden-hardship share with an interval from the findings.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

AUDIT_OUTCOME = "audit"  # how `fanpin feedback export` marks a finding from the audit sample


def quarter_of(cutoff: pd.Timestamp) -> str:
    """The quarter a week's cutoff falls in, e.g. ``2025Q4`` (the sample is drawn once per quarter)."""
    return str(pd.Timestamp(cutoff).to_period("Q"))


def _stream(seed: int, quarter: str) -> np.random.Generator:
    # The quarter's label enters the seed through a stable digest (Python's hash() is salted).
    digest = int.from_bytes(hashlib.sha256(quarter.encode()).digest()[:8], "little")
    return np.random.default_rng([int(seed), digest])


def draw_sample(households: pd.DataFrame, share: float, seed: int, quarter: str) -> pd.DataFrame:
    """A stratified random sample of the households on no list.

    Args:
        households: one row per household eligible for the audit (on no watch list, not under
            monitoring) with ``household_id`` and ``township``.
        share: the share drawn in each township (rounded; at least one per township that has any).
        seed: the county's audit seed.
        quarter: the quarter's label (``quarter_of``): another quarter draws another sample.

    Returns:
        household_id, township, stratum (households eligible in the township), drawn (in the
        township) and ``weight`` (stratum / drawn: how many eligible households each one stands
        for), ordered by township and household id. The same inputs give the same sample.
    """
    if not 0 < share < 1:
        raise ValueError(f"audit share must be between 0 and 1, got {share}")
    rng = _stream(seed, quarter)
    base = households[["household_id", "township"]].drop_duplicates("household_id")
    base = base.sort_values(["township", "household_id"], kind="stable").reset_index(drop=True)
    parts = []
    for _, part in base.groupby("township", sort=True):
        n = min(len(part), max(1, int(round(share * len(part)))))
        pick = np.sort(rng.choice(len(part), size=n, replace=False))
        chosen = part.iloc[pick].assign(stratum=len(part), drawn=n)
        parts.append(chosen)
    if not parts:
        return pd.DataFrame(columns=["household_id", "township", "stratum", "drawn", "weight"])
    out = pd.concat(parts, ignore_index=True)
    out["weight"] = out["stratum"] / out["drawn"]
    return out


def hidden_share(findings: pd.DataFrame, level: float = 0.95) -> dict:
    """The share of unlisted households found in hardship, with an interval.

    Args:
        findings: one row per checked household of the sample with ``township``, ``weight`` (from
            ``draw_sample``) and ``hardship`` (bool: the home check found hardship).

    The estimate weights each finding by the households it stands for (stratified estimator);
    the interval is Wilson's on the sample's effective size (Kish), which stays inside [0, 1] and
    is not empty when no hardship was found.

    Returns:
        share, low, high, checked, found (None figures when nothing was checked).
    """
    checked = int(len(findings))
    found = int(findings["hardship"].astype(bool).sum()) if checked else 0
    if not checked:
        return {"share": None, "low": None, "high": None, "checked": 0, "found": 0}
    w = findings["weight"].astype("float64").to_numpy()
    y = findings["hardship"].astype(bool).to_numpy()
    share = float((w * y).sum() / w.sum())
    effective = float(w.sum() ** 2 / (w**2).sum())
    low, high = proportion_confint(share * effective, effective, alpha=1 - level, method="wilson")
    return {"share": round(share, 4), "low": round(float(low), 4), "high": round(float(high), 4),
            "checked": checked, "found": found, "effective_size": round(effective, 1)}


def inclusion_probability(sample: pd.DataFrame) -> pd.Series:
    """Each sampled household's chance of being drawn (drawn / stratum), by household id: the
    training weight of an audit label is its inverse."""
    return pd.Series((sample["drawn"] / sample["stratum"]).to_numpy(), index=sample["household_id"].to_numpy())


def is_quarter_start(cutoff: pd.Timestamp, previous_cutoff: pd.Timestamp | None) -> bool:
    """True when this week opens a quarter's audit: the first published week of its quarter."""
    return previous_cutoff is None or quarter_of(previous_cutoff) != quarter_of(cutoff)
