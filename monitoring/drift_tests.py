"""The four drift tests the weekly check uses, as Evidently 0.7 computes them, without importing it.

Importing Evidently's stattests costs ~2.9 CPU seconds on top of everything else the weekly job
imports (more than reading a 20,000-household export), for four small SciPy calls. The weekly
drift step calls these; Evidently itself is imported only when its report is rendered
(``monitoring.evidently_report.render_report``), or when a configured method is not one of these
four (``verdict`` then asks Evidently). Each function mirrors the Evidently implementation named
in its docstring line for line, including the order in which it sums categories, and
``tests/unit/test_drift_tests.py`` holds them equal to Evidently's own on the same samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# method -> default threshold (Evidently's ``StatTest.default_threshold`` for each)
THRESHOLDS = {"wasserstein": 0.1, "jensenshannon": 0.1, "ks": 0.05, "chisquare": 0.05}


def _category_keys(reference: pd.Series, current: pd.Series) -> list:
    # Evidently's get_unique_not_nan_values_list_from_series: the order of a set, as it does.
    return list(set(reference.dropna().unique()) | set(current.dropna().unique()))


def wasserstein(reference: pd.Series, current: pd.Series, threshold: float) -> tuple[float, bool]:
    """evidently.legacy.calculations.stattests.wasserstein_distance_norm._wasserstein_distance_norm"""
    from scipy import stats

    norm = max(float(np.std(reference)), 0.001)
    value = stats.wasserstein_distance(reference, current) / norm
    return value, value >= threshold


def jensenshannon(reference: pd.Series, current: pd.Series, threshold: float) -> tuple[float, bool]:
    """evidently ... jensenshannon._jensenshannon for a categorical column (get_binned_data's
    category branch, no zero filling; base e)."""
    from scipy.spatial import distance

    keys = _category_keys(reference, current)
    ref_counts = {**dict.fromkeys(keys, 0), **dict(reference.value_counts())}
    cur_counts = {**dict.fromkeys(keys, 0), **dict(current.value_counts())}
    ref_share = np.array([ref_counts[k] / len(reference) for k in keys])
    cur_share = np.array([cur_counts[k] / len(current) for k in keys])
    value = distance.jensenshannon(ref_share, cur_share, None)
    return value, value >= threshold


def ks(reference: pd.Series, current: pd.Series, threshold: float) -> tuple[float, bool]:
    """evidently ... ks_stattest._ks_stat_test"""
    from scipy.stats import ks_2samp

    p_value = ks_2samp(reference, current)[1]
    return p_value, p_value <= threshold


def chisquare(reference: pd.Series, current: pd.Series, threshold: float) -> tuple[float, bool]:
    """evidently ... chisquare_stattest._chi_stat_test"""
    from scipy.stats import chisquare as chi

    keys = _category_keys(reference, current)
    ref_counts = {**dict.fromkeys(keys, 0), **dict(reference.value_counts())}
    cur_counts = {**dict.fromkeys(keys, 0), **dict(current.value_counts())}
    k_norm = current.shape[0] / reference.shape[0]
    p_value = chi([cur_counts[k] for k in keys], [ref_counts[k] * k_norm for k in keys])[1]
    return p_value, p_value < threshold


TESTS = {"wasserstein": wasserstein, "jensenshannon": jensenshannon, "ks": ks, "chisquare": chisquare}
NUMERIC = {"wasserstein", "ks", "jensenshannon"}
CATEGORICAL = {"jensenshannon", "chisquare"}


def verdict(reference: pd.Series, current: pd.Series, numeric: bool, method: str) -> dict:
    """{method, threshold, score, drifted} of one column (missing and infinite values already dropped)."""
    own = TESTS.get(method)
    if own is not None and method in (NUMERIC if numeric else CATEGORICAL) and not (numeric and method == "jensenshannon"):
        threshold = THRESHOLDS[method]
        score, drifted = own(reference, current, threshold)
    else:  # another method chosen in the thresholds: Evidently's own
        from evidently.legacy.calculations.stattests import get_stattest
        from evidently.legacy.core import ColumnType

        kind = ColumnType.Numerical if numeric else ColumnType.Categorical
        result = get_stattest(reference, current, kind, method)(reference, current, kind, None)
        threshold, score, drifted = result.actual_threshold, result.drift_score, result.drifted
    return {"method": method, "threshold": float(threshold), "score": float(score), "drifted": bool(drifted)}
