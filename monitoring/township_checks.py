"""Per township: PSI and medians against that township's reference rows, whether a change is
confined to a few townships, and the patterns behind it (a 万元 unit error, a local shock, an
elderly subgroup moving alone).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from monitoring.columns import as_numbers, finite_mean, finite_median, is_categorical
from monitoring.drift_settings import DISASTER_FEATURES, INCOME_FEATURES, PREDICTION, Thresholds
from monitoring.psi import psi, psi_band, psi_categorical, psi_numeric


def township_table(ref: pd.DataFrame, cur: pd.DataFrame, features: list[str],
                    pred_ref: np.ndarray | None, pred_cur: np.ndarray | None,
                    th: Thresholds) -> pd.DataFrame:
    """PSI and medians per township against that township's reference rows (all rows, no sample).

    Each column is converted once for the whole county (numbers to float arrays, categories to
    text) and sliced per township: the ~440 township x feature figures of a county then cost a
    quantile and a histogram each, not four conversions of a fresh sub-frame. The figures are
    those ``psi``/``finite_median`` give on the township's rows (same values, same arithmetic).
    """
    rows = []
    ref_town = ref["township"].astype(str) if "township" in ref.columns else pd.Series("", index=ref.index)
    cur_town = cur["township"].astype(str)
    ref_groups = {t: idx for t, idx in ref.groupby(ref_town.to_numpy()).indices.items()}
    columns = {name: _column(name, ref[name], cur[name]) for name in features}
    everything = np.arange(len(ref))
    for town, idx in cur.groupby(cur_town.to_numpy()).indices.items():
        r_idx = ref_groups.get(town)
        in_reference = r_idx is not None and len(r_idx) >= th.min_township_rows
        r_rows = r_idx if in_reference else everything
        base = {"township": town, "n_current": len(idx), "n_reference": len(r_rows),
                "own_reference": in_reference}
        for name in features:
            kind, r_all, c_all = columns[name]
            r, c = r_all[r_rows], c_all[idx]
            value = psi_categorical(r, c) if kind == CATEGORY else psi_numeric(r, c)
            row = {**base, "feature": name, "psi": value, "psi_band": psi_band(value)}
            if kind == NUMBER:
                mc, mr = finite_median(c), finite_median(r)
                row.update(median_current=mc, median_reference=mr,
                           mean_current=finite_mean(c), mean_reference=finite_mean(r),
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


CATEGORY, CODE, NUMBER = "category", "code", "number"


def _column(name: str, ref: pd.Series, cur: pd.Series) -> tuple[str, np.ndarray, np.ndarray]:
    """(kind, reference values, current values), converted once as ``psi`` and ``as_numbers`` do.

    CATEGORY: PSI by category (a bool or text column), text arrays; CODE: numbers the drift
    settings call categorical (PSI on quantile bins, no medians); NUMBER: PSI on quantile bins and
    medians and means."""
    if pd.api.types.is_bool_dtype(ref) or not pd.api.types.is_numeric_dtype(ref):
        text = [pd.Series(x, dtype="object").fillna("<NA>").astype(str).to_numpy(dtype=object) for x in (ref, cur)]
        return CATEGORY, text[0], text[1]
    return (CODE if is_categorical(name, ref) else NUMBER), as_numbers(ref), as_numbers(cur)


def localisation(town: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    """Per feature: townships at 'act', and whether the change is confined to a few of them."""
    if town.empty:
        return pd.DataFrame(columns=["feature", "townships_act", "n_townships", "local"])
    out = []
    for name, part in town[town["own_reference"]].groupby("feature"):
        act = part.loc[part["psi"] > th.psi_act, "township"].tolist()
        n = len(part)
        others = part.loc[~part["township"].isin(act), "psi"]
        local = 0 < len(act) <= max(1, n // 3) and (others.median() if len(others) else 0) < th.psi_watch
        out.append({"feature": name, "townships_act": act, "n_townships": n, "local": bool(local)})
    return pd.DataFrame(out)


def unit_checks(town: pd.DataFrame, raw: pd.DataFrame | None, th: Thresholds) -> list[dict[str, Any]]:
    """Townships whose income medians sit ~1/10,000 of the reference: a 万元 unit error."""
    found = []
    if town.empty:
        return found
    money = town[town["feature"].isin(INCOME_FEATURES) & town["own_reference"]]
    for township, part in money.groupby("township"):
        ratios = part.set_index("feature")["median_ratio"].dropna()
        hit = ratios[(ratios > th.unit_ratio_low) & (ratios < th.unit_ratio_high)]
        if hit.empty:
            continue
        row = part.set_index("feature").loc[hit.index[0]]
        entry = {"township": township, "feature": hit.index[0], "ratio": float(hit.iloc[0]),
                 "median_current": float(row["median_current"]), "median_reference": float(row["median_reference"]),
                 "psi": float(row["psi"]), "features": list(hit.index)}
        if raw is not None and township in raw.index:
            entry["raw_ratio"] = float(raw.loc[township, "pc_income_ratio"])
        found.append(entry)
    # The weekly job holds rows the reader suspects of a 万元 slip out of the features, so their
    # township looks normal in the frame: the raw export still shows the slip, and it is reported
    # as held (the scores use the last confirmed income) rather than as untrustworthy scores.
    if raw is not None and "pc_income_ratio" in raw.columns:
        seen = {e["township"] for e in found}
        ratio = raw["pc_income_ratio"].dropna()
        for township, value in ratio[(ratio > th.unit_ratio_low) & (ratio < th.unit_ratio_high)].items():
            if township in seen:
                continue
            found.append({"township": township, "feature": "pc_net_income", "ratio": float(value),
                          "median_current": float(raw.loc[township, "pc_income_median"]),
                          "median_reference": float(raw.loc[township, "pc_income_median_reference"]),
                          "psi": None, "features": ["pc_net_income"], "raw_ratio": float(value), "held": True})
    return found


def shock_checks(ref: pd.DataFrame, cur: pd.DataFrame, town: pd.DataFrame, th: Thresholds) -> list[dict]:
    """Townships where far more households than usual were hit by a disaster in 13 weeks."""
    if "disaster_events_13w" not in cur.columns or "township" not in ref.columns:
        return []
    hit_cur = (as_numbers(cur["disaster_events_13w"]) > 0)
    hit_ref = (as_numbers(ref["disaster_events_13w"]) > 0)
    cur_share = pd.Series(hit_cur).groupby(cur["township"].astype(str).to_numpy()).mean()
    ref_share = pd.Series(hit_ref).groupby(ref["township"].astype(str).to_numpy()).mean()
    found = []
    for township, share in cur_share.items():
        before = float(ref_share.get(township, np.mean(hit_ref)))
        if share < th.shock_hit_share or share - before < th.shock_hit_rise:
            continue
        part = town[(town["township"] == township)].set_index("feature")
        drifted = [f for f in DISASTER_FEATURES if f in part.index and part.loc[f, "psi"] > th.psi_act]
        income = [f for f in ("business_share", *INCOME_FEATURES)
                  if f in part.index and part.loc[f, "psi"] > th.psi_watch]
        entry = {"township": township, "hit_share": float(share), "hit_share_reference": before,
                 "features": drifted, "income_features": income,
                 "psi": float(max((part.loc[f, "psi"] for f in drifted), default=float("nan")))}
        if PREDICTION in part.index:
            entry["risk_mean"] = float(part.loc[PREDICTION, "mean_current"])
            entry["risk_mean_reference"] = float(part.loc[PREDICTION, "mean_reference"])
        found.append(entry)
    # Most townships hit at once is a county-wide event, not a local one.
    if len(found) > max(1, len(cur_share) // 3):
        for entry in found:
            entry["county_wide"] = True
    return found


def subgroup_checks(ref: pd.DataFrame, cur: pd.DataFrame, th: Thresholds,
                     pred_ref: np.ndarray | None, pred_cur: np.ndarray | None,
                     revisions: dict[str, Any] | None = None) -> list[dict]:
    """Elderly households' transfer income moving while other households' does not."""
    need = {"n_elderly_60", "transfer_share"}
    if not need <= set(ref.columns) or not need <= set(cur.columns):
        return []
    old_r = as_numbers(ref["n_elderly_60"]) > 0
    old_c = as_numbers(cur["n_elderly_60"]) > 0
    tr, tc = as_numbers(ref["transfer_share"]), as_numbers(cur["transfer_share"])
    shift_old = finite_median(tc[old_c]) - finite_median(tr[old_r])
    shift_rest = finite_median(tc[~old_c]) - finite_median(tr[~old_r])
    value = psi(tr[old_r], tc[old_c])
    entry = {"group": "elderly_households", "feature": "transfer_share",
             "median_current": finite_median(tc[old_c]), "median_reference": finite_median(tr[old_r]),
             "shift": shift_old, "shift_other_households": shift_rest, "psi": value,
             "psi_other_households": psi(tr[~old_r], tc[~old_c]), "n_current": int(old_c.sum())}
    against_reference = (abs(shift_old) >= th.subgroup_shift
                         and abs(shift_old) >= th.subgroup_contrast * abs(shift_rest))
    # Week over week: elderly households' transfer income rewritten while others' is not.
    revised = False
    if revisions is not None:
        g = revisions["groups"]
        old_t = g.get("elderly_households", {}).get("transfer_income", {})
        rest_t = g.get("other_households", {}).get("transfer_income", {"share_changed": 0.0})
        entry["revised_share"] = old_t.get("share_changed")
        entry["revised_median_change"] = old_t.get("median_change")
        entry["revised_share_other_households"] = rest_t.get("share_changed")
        revised = bool(old_t and old_t["share_changed"] >= th.revision_share
                       and old_t["share_changed"] >= th.subgroup_contrast * rest_t["share_changed"])
    # Against an old reference the elderly share drifts a little every year (pensions grow), so
    # the reference alone must show a clear jump; a week-over-week rewrite is direct evidence.
    # The reference alone is reported (info) but not trusted to call a population change: an
    # old reference differs from today in many slow ways.
    against_reference = against_reference and value > th.psi_act
    entry["changed"] = bool(revised)
    entry["evidence"] = [e for e, hit in (("reference", against_reference), ("week_over_week", revised)) if hit]
    if pred_ref is not None and pred_cur is not None:
        entry["risk_mean"] = float(np.mean(pred_cur[old_c]))
        entry["risk_mean_reference"] = float(np.mean(pred_ref[old_r]))
    return [entry]
