"""The realism summary of a simulated county (what `fanpin simulate --json` prints)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.simulator import oracle as O
from features.simulator.calendar import from_day


def current_rows(table: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """Rows of a slowly changing table valid on ``day``."""
    ok = (table["valid_from"] <= day) & (table["valid_to"].isna() | (table["valid_to"] > day))
    return table[ok]


def summarise(run) -> dict:
    """Realism figures of a :class:`~features.simulator.county.CountyRun`, from its tables."""
    t = run.tables
    end = pd.Timestamp(from_day(run.weeks[-1].sunday))
    hh = current_rows(t["households"], end)
    mem = current_rows(t["members"], end)
    age = (end - mem["birth_date"]).dt.days / 365.25
    size = mem.groupby("household_id").size()
    ill = mem[mem["health"].isin(["chronic", "major"])]["household_id"].unique()
    dis = mem[mem["disability_type"] != "none"]["household_id"].unique()

    # annual entry rate: entries in a year / households not under monitoring at its start
    out = t["outcomes"]
    years = sorted({w.year for w in run.weeks})
    full_years = [y for y in years if sum(w.year == y for w in run.weeks) >= 50]
    rates = []
    stock = {}  # share of households under monitoring at the end of each full year
    for y in full_years:
        y1 = pd.Timestamp(f"{y}-12-31")
        open_end = out[(out["entry_date"] <= y1) & (out["elimination_date"].isna() | (out["elimination_date"] > y1))]
        stock[int(y)] = round(open_end["household_id"].nunique() / max(len(current_rows(t["households"], y1)), 1), 4)
        y0 = pd.Timestamp(f"{y}-01-01")
        present = current_rows(t["households"], y0)["household_id"]
        open_ = out[(out["entry_date"] < y0) & (out["elimination_date"].isna() | (out["elimination_date"] >= y0))]
        base = len(set(present) - set(open_["household_id"]))
        n = (out["entry_date"].dt.year == y).sum()
        if base:
            rates.append(n / base)
    risk = pd.concat([out[f"risk_type_{i}"] for i in range(1, 6)]).dropna()
    risk_counts = risk.value_counts()

    surveys = t["income_surveys"]
    last_year = int(surveys["survey_year"].max()) if len(surveys) else None
    last = surveys[surveys["survey_year"] == last_year].merge(
        size.rename("size"), left_on="household_id", right_index=True)
    net = (last["wage_income"] + last["business_income"] + last["property_income"]
           + last["transfer_income"] - last["business_costs"]) / last["size"]

    orc = run.oracle
    auc = O.auc(orc["true_risk"], orc["entered_within_52_weeks"]) if len(orc) else float("nan")
    futures = int(run.parameters.get("oracle_replicas", 0))
    # binomial standard error of each household's true risk from its futures
    se = np.sqrt(orc["true_risk"] * (1 - orc["true_risk"]) / max(futures, 1)) if len(orc) else pd.Series([], dtype=float)
    start = max(pd.Timestamp(from_day(run.weeks[0].monday)), pd.Timestamp(run.parameters.get("start", "1970-01-01")))
    n_start = len(current_rows(t["households"], start))
    return {
        "households": int(len(hh)),
        "members": int(len(mem)),
        "mean_household_size": round(float(size.mean()), 3),
        "share_members_60plus": round(float((age >= 60).mean()), 4),
        "share_households_illness": round(len(ill) / max(len(hh), 1), 4),
        "share_households_disabled": round(len(dis) / max(len(hh), 1), 4),
        "annual_monitoring_entry_rate": round(float(np.mean(rates)), 4) if rates else None,
        "monitoring_entry_rate_by_year": {int(y): round(float(r), 4) for y, r in zip(full_years, rates, strict=False)},
        "monitored_now": int(out[out["elimination_date"].isna()]["household_id"].nunique()),
        "monitored_share_by_year": stock,
        "top_risk_type": str(risk_counts.index[0]) if len(risk_counts) else None,
        "risk_type_counts": {str(k): int(v) for k, v in risk_counts.items()},
        "median_per_capita_income_last_year": round(float(net.median()), 1) if len(net) else None,
        "income_year": last_year,
        # weeks between first meeting a criterion and entry (discovery + identification)
        "median_weeks_criteria_to_entry": float(np.median(run.entry_lead_weeks)) if len(run.entry_lead_weeks) else None,
        "share_entries_after_4_weeks_or_more": round(float((run.entry_lead_weeks >= 4).mean()), 4)
        if len(run.entry_lead_weeks) else None,
        "oracle_auc": round(auc, 4) if auc == auc else None,
        "oracle_rows": int(len(orc)),
        "oracle_mean_true_risk": round(float(orc["true_risk"].mean()), 4) if len(orc) else None,
        "oracle_realised_rate": round(float(orc["entered_within_52_weeks"].mean()), 4) if len(orc) else None,
        "share_monitored_now": round(out[out["elimination_date"].isna()]["household_id"].nunique() / max(len(hh), 1), 4),
        "share_exited_households": round(float((hh["category"] == "exited").mean()), 4),
        "share_households_dibao": round(float((hh["social_assistance"] == "dibao").mean()), 4),
        "deaths_per_1000_per_year": deaths_per_1000(run),
        "household_count_change": round(len(hh) / max(n_start, 1) - 1, 4),
        "risk_type_shares": {str(k): round(int(v) / max(int(risk_counts.sum()), 1), 4) for k, v in risk_counts.items()},
        **run.recording,
        "oracle_futures": futures,
        "oracle_mean_standard_error": round(float(se.mean()), 4) if len(orc) else None,
        "oracle_max_standard_error": round(float(se.max()), 4) if len(orc) else None,
    }


def deaths_per_1000(run) -> float:
    """Deaths a year per 1,000 people, from the county's true state (the registry loses some
    death records; members who moved away are not deaths)."""
    m = run.county.m
    first, last = run.weeks[0].monday, run.weeks[-1].sunday
    died = m["used"] & ~m["moved"] & (m["died"] >= first) & (m["died"] <= last)
    alive_at = lambda day: m["used"] & (m["born"] <= day) & ((m["died"] < -10**8) | (m["died"] > day))  # noqa: E731
    person_years = (alive_at(first).sum() + alive_at(last).sum()) / 2 * (last - first + 1) / 365.25
    return round(float(died.sum()) / max(person_years, 1) * 1000, 2)
