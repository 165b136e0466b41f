"""Department data warnings (部门大数据预警): county-editable rules over the registry's records.

Each rule names its department and threshold (``features/department_warnings.yaml``); each
warning says which rule fired and on which record. They are facts pushed by departments, not the
model's reasons: they are computed from the contract tables alone and kept in their own table.

A warning fires once, in the week its record arrives: events dated in the week that ends at the
cutoff; a yearly out-of-pocket sum in the week it first crosses its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from features.household_frame import valid_at
from features.policy import Policy

WEEK = pd.Timedelta(days=7)
YEAR = pd.Timedelta(days=365)
WARNING_COLUMNS = ["household_id", "rule", "department", "record", "record_date", "value", "threshold"]


@dataclass(frozen=True)
class WarningRule:
    """One department rule: its labels, department and parameters."""

    name: str
    zh: str
    en: str
    department: str
    params: dict[str, float]


def parse_warning_rules(data: dict[str, Any]) -> dict[str, WarningRule]:
    """Rules from the YAML structure; every rule must name its department and be a known kind."""
    rules = {}
    for name, raw in (data.get("rules") or {}).items():
        if name not in _EVALUATORS:
            raise ValueError(f"department warnings: unknown rule {name!r}; one of {', '.join(_EVALUATORS)}")
        if not raw.get("department"):
            raise ValueError(f"department warnings: rule {name} names no department")
        params = {k: float(v) for k, v in raw.items() if k not in ("zh", "en", "department")}
        rules[name] = WarningRule(name, str(raw.get("zh", name)), str(raw.get("en", name)), str(raw["department"]),
                                  params)
    return rules


def load_warning_rules(path: str | Path | None = None) -> dict[str, WarningRule]:
    """Read the rules; without a path, the defaults shipped with fanpin."""
    if path is None:
        text = resources.files("features").joinpath("department_warnings.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_warning_rules(yaml.safe_load(text))


def _age(birth: pd.Series, on: pd.Series | pd.Timestamp) -> pd.Series:
    return (pd.to_datetime(on) - pd.to_datetime(birth)).dt.days / 365.25


def _latest_members(members: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Each member's latest version on or before the cutoff (dead members keep their last row)."""
    known = members.loc[members["valid_from"] <= cutoff]
    return known.sort_values(["member_id", "valid_from"]).drop_duplicates("member_id", keep="last")


def _week_events(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, event_type: str) -> pd.DataFrame:
    e = tables["events"]
    return e.loc[(e["event_type"] == event_type) & (e["event_date"] > cutoff - WEEK) & (e["event_date"] <= cutoff)]


def _rows(household: Any, record: Any, when: Any, value: Any, threshold: Any) -> pd.DataFrame:
    return pd.DataFrame({"household_id": household, "record": record, "record_date": when, "value": value,
                         "threshold": threshold})


def _medical(tables, cutoff, policy, p) -> pd.DataFrame:
    events = tables["events"]
    stays = events.loc[(events["event_type"] == "hospitalisation") & events["member_id"].notna()]
    members = _latest_members(tables["members"], cutoff).set_index("member_id")
    households = valid_at(tables["households"], cutoff).drop_duplicates("household_id", keep="last")
    former_poor = set(households.loc[households["category"] == "exited", "household_id"])
    insured = members["medical_insurance"].fillna(False).astype(bool)
    income = policy.line_at(cutoff, "rural_disposable_income")

    def yearly(end: pd.Timestamp) -> pd.Series:
        s = stays.loc[(stays["event_date"] > end - YEAR) & (stays["event_date"] <= end)]
        share = np.where(s["member_id"].map(insured).fillna(False).astype(bool),
                         p["out_of_pocket_share_insured"], p["out_of_pocket_share_uninsured"])
        return (s["amount"].fillna(0) * share).groupby(s["member_id"]).sum()

    now, before = yearly(cutoff), yearly(cutoff - WEEK)
    # The member's household at the cutoff; a member the registry does not list yet (a row
    # entered after the stay, as happens at a province's scale) falls back to the household the
    # hospital stay was recorded under, so no warning goes without a household.
    on_stay = stays.drop_duplicates("member_id", keep="last").set_index("member_id")["household_id"]
    household = pd.Index(now.index.to_series().map(members["household_id"])
                         .fillna(now.index.to_series().map(on_stay)).to_numpy(dtype=object))
    threshold = np.where(household.isin(list(former_poor)), p["share_former_poor"], p["share_others"]) * income
    before = before.reindex(now.index, fill_value=0.0).to_numpy()
    crossed = (now.to_numpy() > threshold) & (before <= threshold)
    return _rows(household[crossed], "member:" + now.index[crossed].astype(str), cutoff,
                 now.to_numpy()[crossed].round(0), threshold[crossed])


def _severe_disability(tables, cutoff, policy, p) -> pd.DataFrame:
    e = _week_events(tables, cutoff, "disability_certified")
    grade = e["member_id"].map(_latest_members(tables["members"], cutoff).set_index("member_id")["disability_grade"])
    hit = grade.notna() & (grade <= p["max_grade"])
    e = e.loc[hit]
    return _rows(e["household_id"], "event:" + e["event_id"].astype(str), e["event_date"], grade[hit], p["max_grade"])


def _new_assistance(tables, cutoff, policy, p) -> pd.DataFrame:
    hh = tables["households"]
    now = valid_at(hh, cutoff).drop_duplicates("household_id", keep="last").set_index("household_id")
    then = valid_at(hh, cutoff - WEEK).drop_duplicates("household_id", keep="last").set_index("household_id")
    was = then["social_assistance"].reindex(now.index).fillna("none")
    new = now["social_assistance"].isin(["dibao", "tekun"]) & (now["social_assistance"] != was)
    rows = now.loc[new]
    return _rows(rows.index.to_series(), "household:" + rows["social_assistance"].astype(str),
                 rows["valid_from"], np.nan, np.nan)


def _aged_event(tables, cutoff, event_type, p, min_key="min_age", max_key="max_age") -> pd.DataFrame:
    e = _week_events(tables, cutoff, event_type)
    births = _latest_members(tables["members"], cutoff).set_index("member_id")["birth_date"]
    age = _age(e["member_id"].map(births), e["event_date"])
    hit = age.notna() & (age >= p[min_key]) & (age < p[max_key] + 1)
    e = e.loc[hit]
    return _rows(e["household_id"], "event:" + e["event_id"].astype(str), e["event_date"], age[hit].round(1),
                 p[max_key])


def _dropout(tables, cutoff, policy, p) -> pd.DataFrame:
    return _aged_event(tables, cutoff, "school_dropout", p)


def _death(tables, cutoff, policy, p) -> pd.DataFrame:
    return _aged_event(tables, cutoff, "death", p)


def _disaster(tables, cutoff, policy, p) -> pd.DataFrame:
    e = _week_events(tables, cutoff, "disaster_damage")
    e = e.loc[e["amount"].fillna(0) >= p["min_loss_yuan"]]
    return _rows(e["household_id"], "event:" + e["event_id"].astype(str), e["event_date"], e["amount"],
                 p["min_loss_yuan"])


_EVALUATORS = {
    "medical_out_of_pocket": _medical,
    "severe_disability": _severe_disability,
    "new_social_assistance": _new_assistance,
    "school_dropout": _dropout,
    "disaster_damage": _disaster,
    "working_age_death": _death,
}


def department_warnings(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp | str, policy: Policy,
                        rules: dict[str, WarningRule]) -> pd.DataFrame:
    """The warnings that fire in the week ending at ``cutoff``.

    Args:
        tables: contract tables (households, members, events), typed, history up to the cutoff.
        cutoff: the Sunday that ends the week.
        policy: supplies the rural per-capita disposable income in force at the cutoff.
        rules: the department rules (``load_warning_rules``).

    Returns:
        One row per warning with ``WARNING_COLUMNS``: the household, the rule that fired, its
        department, the record it fired on (``event:ID``, ``member:ID`` or ``household:<kind>``),
        the record's date, the value compared and the threshold.
    """
    cutoff = pd.Timestamp(cutoff)
    parts = []
    for name, rule in rules.items():
        found = _EVALUATORS[name](tables, cutoff, policy, rule.params)
        found = found.assign(rule=name, department=rule.department)
        parts.append(found.reset_index(drop=True))
    if not parts:
        return pd.DataFrame(columns=WARNING_COLUMNS)
    out = pd.concat(parts, ignore_index=True)[WARNING_COLUMNS]
    out["household_id"] = out["household_id"].astype(str)
    return out.sort_values(["household_id", "rule", "record"], kind="stable").reset_index(drop=True)


def warning_counts(warnings: pd.DataFrame, rules: dict[str, WarningRule]) -> dict[str, int]:
    """Rule -> number of warnings, every rule listed (a rule that did not fire counts 0)."""
    counts = warnings["rule"].value_counts() if len(warnings) else pd.Series(dtype="int64")
    return {name: int(counts.get(name, 0)) for name in rules}
