"""Population Stability Index: how far a distribution has moved from the reference, in one number.

Credit-scoring practice reads it as: under 0.1 stable, 0.1-0.25 watch, over 0.25 act. Bins are the
reference's quantiles, so every bin holds about the same share of the reference; a current value
outside the reference's range falls into the first or last bin. Missing values are a bin of their
own, so a column that suddenly goes missing moves the index too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STABLE = 0.1
ACT = 0.25
# An empty bin would make log(0); a small floor keeps the index finite and still large.
_FLOOR = 1e-4


def psi_band(value: float | None) -> str:
    """'stable' (< 0.1), 'watch' (0.1-0.25) or 'act' (> 0.25); 'unknown' when not computable."""
    if value is None or not np.isfinite(value):
        return "unknown"
    if value < STABLE:
        return "stable"
    if value <= ACT:
        return "watch"
    return "act"


def _index(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    ref = np.clip(ref_share, _FLOOR, None)
    cur = np.clip(cur_share, _FLOOR, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def quantile_edges(reference: np.ndarray, bins: int = 10) -> np.ndarray:
    """Inner bin edges at the reference's quantiles, duplicates dropped (zero-inflated columns
    such as event counts have many equal quantiles and so fewer bins)."""
    values = reference[np.isfinite(reference)]
    if len(values) == 0:
        return np.array([])
    qs = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(qs)


def psi_numeric(reference, current, bins: int = 10) -> float:
    """PSI of a numeric column, quantile bins from the reference.

    Args:
        reference: reference values (NaN allowed: counted in a missing bin).
        current: current values.
        bins: number of quantile bins (fewer when quantiles coincide).

    Returns:
        The index (0 when identical); NaN when either side is empty.
    """
    ref = np.asarray(pd.to_numeric(pd.Series(reference), errors="coerce"), dtype="float64")
    cur = np.asarray(pd.to_numeric(pd.Series(current), errors="coerce"), dtype="float64")
    if len(ref) == 0 or len(cur) == 0:
        return float("nan")
    edges = quantile_edges(ref, bins)

    def shares(x: np.ndarray) -> np.ndarray:
        finite = np.isfinite(x)
        # side="left": a value equal to an edge joins the bin below it, so a point mass at a
        # quantile (zero for event counts) stays in one bin instead of being split.
        idx = np.searchsorted(edges, x[finite], side="left")
        counts = np.bincount(idx, minlength=len(edges) + 1).astype("float64")
        counts = np.append(counts, (~finite).sum())
        return counts / len(x)

    return _index(shares(ref), shares(cur))


def psi_categorical(reference, current) -> float:
    """PSI of a categorical column over the union of categories (missing is a category)."""
    ref = pd.Series(reference, dtype="object").fillna("<NA>").astype(str)
    cur = pd.Series(current, dtype="object").fillna("<NA>").astype(str)
    if len(ref) == 0 or len(cur) == 0:
        return float("nan")
    cats = sorted(set(ref.unique()) | set(cur.unique()))
    r = ref.value_counts(normalize=True).reindex(cats, fill_value=0).to_numpy()
    c = cur.value_counts(normalize=True).reindex(cats, fill_value=0).to_numpy()
    return _index(r, c)


def psi(reference, current, bins: int = 10) -> float:
    """PSI choosing numeric or categorical handling from the reference's dtype."""
    ref = pd.Series(reference)
    if pd.api.types.is_bool_dtype(ref) or not pd.api.types.is_numeric_dtype(ref):
        return psi_categorical(ref, current)
    return psi_numeric(ref, current, bins)
