"""Checks on the raw export behind the features: income records rewritten since last week (by
elderly and other households) and, per township, raw per-capita income, age and illness shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from monitoring.drift_settings import INCOME_PARTS


def revision_checks(raw_tables: dict[str, pd.DataFrame] | None, previous: dict[str, pd.DataFrame] | None,
                     cur: pd.DataFrame) -> dict[str, Any] | None:
    """Income records the export changed against the registry's previous values (same household
    and income year), split by elderly and other households: how a pension rise or a unit slip
    lands in a registry between two weeks."""
    if not raw_tables or not previous:
        return None
    new, old = raw_tables.get("income_surveys"), previous.get("income_surveys")
    if new is None or old is None or new.empty or old.empty:
        return None
    money = [c for c in (*INCOME_PARTS, "business_costs") if c in new.columns and c in old.columns]
    pairs = new.merge(old.drop_duplicates(["household_id", "survey_year"], keep="last"),
                      on=["household_id", "survey_year"], suffixes=("", "_before"))
    if pairs.empty:
        return None
    if "n_elderly_60" in cur.columns:
        elderly = cur.set_index("household_id")["n_elderly_60"].gt(0)
        group = pairs["household_id"].map(elderly).map({True: "elderly_households", False: "other_households"})
    else:
        group = pd.Series("other_households", index=pairs.index)
    out: dict[str, Any] = {"records_compared": len(pairs), "groups": {}}
    for name, part in pairs.groupby(group.fillna("other_households").to_numpy()):
        entry: dict[str, Any] = {"records": len(part)}
        for col in money:
            delta = (part[col] - part[f"{col}_before"]).astype("float64")
            changed = delta.abs() > np.maximum(1.0, 0.01 * part[f"{col}_before"].abs())
            entry[col] = {"share_changed": float(changed.mean()),
                          "median_change": float(delta[changed].median()) if changed.any() else 0.0}
        out["groups"][name] = entry
    return out


def raw_checks(raw_tables: dict[str, pd.DataFrame] | None, ref: pd.DataFrame,
                cutoff: pd.Timestamp | None) -> pd.DataFrame | None:
    """Per township, the raw per-capita income and the age and illness shares of the export."""
    if not raw_tables or "households" not in raw_tables or "township" not in ref.columns:
        return None
    households = raw_tables["households"]
    members = raw_tables.get("members")
    surveys = raw_tables.get("income_surveys")
    if households is None or households.empty:
        return None
    if "valid_to" in households.columns:
        households = households[households["valid_to"].isna()]
    town_of = households.drop_duplicates("household_id", keep="last").set_index("household_id")["township"]
    out = pd.DataFrame(index=pd.Index(sorted(town_of.astype(str).unique()), name="township"))
    ref_town = ref["township"].astype(str)
    if members is not None and not members.empty:
        m = members[members["valid_to"].isna()] if "valid_to" in members.columns else members
        size = m.groupby("household_id").size()
        mt = m["household_id"].map(town_of).astype(str)
        if cutoff is not None and "birth_date" in m.columns:
            age = (cutoff - m["birth_date"]).dt.days / 365.25
            out["elderly_share"] = (age >= 60).groupby(mt).mean()
            ref_old = ref["n_elderly_60"].groupby(ref_town).sum() / ref["household_size"].groupby(ref_town).sum()
            out["elderly_share_reference"] = ref_old
        if "health" in m.columns:
            for level, col in (("chronic", "n_chronic"), ("major", "n_major_illness")):
                out[f"{level}_share"] = (m["health"] == level).groupby(mt).mean()
                out[f"{level}_share_reference"] = (ref[col].groupby(ref_town).sum()
                                                   / ref["household_size"].groupby(ref_town).sum())
        if surveys is not None and not surveys.empty:
            s = surveys.sort_values(["household_id", "survey_year"]).drop_duplicates("household_id", keep="last")
            net = s[list(INCOME_PARTS)].sum(axis=1) - s["business_costs"]
            pc = (net / s["household_id"].map(size)).astype("float64")
            st = s["household_id"].map(town_of).astype(str)
            out["pc_income_median"] = pc.groupby(st.to_numpy()).median()
            ref_pc = ref["pc_net_income"].groupby(ref_town).median()
            out["pc_income_median_reference"] = ref_pc
            out["pc_income_ratio"] = out["pc_income_median"] / out["pc_income_median_reference"]
            money = list(INCOME_PARTS) + ["business_costs", "medical_out_of_pocket", "schooling_spending"]
            money = [c for c in money if c in s.columns]
            out["income_missing_share"] = s[money].isna().any(axis=1).groupby(st.to_numpy()).mean()
    return out
