"""The per-township drift table, converted once per column (issue 32), gives the figures the
township-by-township calculation gave, exactly (the earlier code is kept here as the reference)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from features.model_features import CATEGORICAL_FEATURES
from monitoring.columns import as_numbers, finite_mean, finite_median, is_categorical
from monitoring.drift_settings import PREDICTION, Thresholds
from monitoring.psi import psi, psi_band
from monitoring.township_checks import township_table


def earlier_township_table(ref, cur, features, pred_ref, pred_cur, th):
    """monitoring.township_checks.township_table before issue 32, verbatim."""
    rows = []
    ref_town = ref["township"].astype(str) if "township" in ref.columns else pd.Series("", index=ref.index)
    cur_town = cur["township"].astype(str)
    ref_groups = {t: idx for t, idx in ref.groupby(ref_town.to_numpy()).indices.items()}
    for town, idx in cur.groupby(cur_town.to_numpy()).indices.items():
        r_idx = ref_groups.get(town)
        in_reference = r_idx is not None and len(r_idx) >= th.min_township_rows
        r_part = ref.iloc[r_idx] if in_reference else ref
        c_part = cur.iloc[idx]
        base = {"township": town, "n_current": len(idx), "n_reference": len(r_part),
                "own_reference": in_reference}
        for name in features:
            value = psi(r_part[name], c_part[name])
            row = {**base, "feature": name, "psi": value, "psi_band": psi_band(value)}
            if not is_categorical(name, r_part[name]):
                mc, mr = finite_median(as_numbers(c_part[name])), finite_median(as_numbers(r_part[name]))
                row.update(median_current=mc, median_reference=mr,
                           mean_current=finite_mean(as_numbers(c_part[name])),
                           mean_reference=finite_mean(as_numbers(r_part[name])),
                           median_ratio=mc / mr if mr and np.isfinite(mr) and mr > 0 else math.nan)
            rows.append(row)
        if pred_ref is not None and pred_cur is not None:
            pr = pred_ref[r_idx] if in_reference else pred_ref
            pc = pred_cur[idx]
            value = psi(pr, pc)
            rows.append({**base, "feature": PREDICTION, "psi": value, "psi_band": psi_band(value),
                         "mean_current": float(np.mean(pc)), "mean_reference": float(np.mean(pr)),
                         "median_current": float(np.median(pc)), "median_reference": float(np.median(pr)),
                         "median_ratio": float(np.median(pc) / np.median(pr)) if np.median(pr) > 0 else math.nan})
    return pd.DataFrame(rows)


def frame(rng, n: int, towns: list[str], shift: float) -> pd.DataFrame:
    income = rng.lognormal(9 + shift, 0.6, n)
    income[rng.random(n) < 0.05] = np.nan
    income[rng.random(n) < 0.01] = np.inf
    members = pd.array(rng.integers(1, 7, n), dtype="Int64")
    members[rng.random(n) < 0.05] = pd.NA
    return pd.DataFrame({
        "township": rng.choice(towns, n),
        "pc_net_income": income,
        "household_size": members,
        "disaster_events_13w": np.where(rng.random(n) < 0.9, 0, rng.integers(1, 3, n)).astype("int64"),
        "dibao": rng.random(n) < 0.2 + shift / 5,
        "risk_type": pd.Series(rng.choice(["因病", "因学", None], n), dtype="object"),
        next(iter(CATEGORICAL_FEATURES)): rng.integers(0, 4, n).astype("float64"),
    })


def test_township_table_is_the_earlier_calculation_exactly():
    rng = np.random.default_rng(5)
    ref = frame(rng, 3000, ["城关镇", "河口乡", "石门镇", "小镇"], 0.0)
    ref = ref[~((ref["township"] == "小镇") & (np.arange(len(ref)) % 20 != 0))]  # too few of its own rows
    cur = frame(rng, 2500, ["城关镇", "河口乡", "石门镇", "小镇", "新设乡"], 0.2)  # one township is new
    features = [c for c in ref.columns if c != "township"]
    pred_ref, pred_cur = rng.random(len(ref)), rng.random(len(cur))
    th = Thresholds()
    for preds in ((pred_ref, pred_cur), (None, None)):
        new = township_table(ref, cur, features, *preds, th)
        old = earlier_township_table(ref, cur, features, *preds, th)
        assert set(new["own_reference"]) == {True, False}
        pd.testing.assert_frame_equal(new, old, check_exact=True)
