"""Households form: adult children marry and set up their own household (分户), daughters marry
out of the county, spouses marry in.

Without this the county only loses households (the last member of an elderly household dies)
and shrinks by ~10% in seven years. A new household takes a free household slot (kept spare by
``population.build_county``); in the oracle's replicated futures there are none, so the movers
simply leave the household they came from, which is what matters for its risk.
"""

from __future__ import annotations

import numpy as np

from features.simulator import state as S
from features.simulator.calendar import Week
from features.simulator.dynamics import weekly
from features.simulator.parameters import Parameters

# household fields a new household starts with afresh (everything else is copied from the
# household it split from: village, category, exit year, latent disadvantage)
_FRESH_NEVER = ("pending", "eligible_since", "entry_week", "rebuild_week", "last_hosp", "last_major",
                "last_disability", "last_disaster", "last_accident", "last_jobloss",
                "last_business_fail", "last_dropout", "last_death", "last_assist", "water_fix_week",
                "checked_until")
_FRESH_ZERO = ("monitored", "ever_monitored", "secured", "trigger", "stable_weeks", "med_aid",
               "school_aid", "shock_amount", "spend_ema", "social", "housing", "credit", "industry",
               "pwj", "crit_alone", "crit_dis", "crit_major", "crit_rebuilt", "enterprise")


def form(c: S.County, week: Week, age: np.ndarray, rng: np.random.Generator, p: Parameters, rec) -> None:
    """One week of marriages and household splits."""
    m, h = c.m, c.h
    size = h["size"][m["hh"]]
    cand = (m["alive"] & (m["rel"] == 2) & (age >= 22) & (age < 40) & (m["school"] == 0) & (size >= 3))
    go = np.flatnonzero(cand & (rng.random(len(age)) < weekly(p.household_split)))
    if len(go) == 0:
        return
    _, first = np.unique(m["hh"][go], return_index=True)  # one move per household and week
    go = go[first]
    day = rec.day_of(m["hh"][go]) if rec is not None else np.full(len(go), week.monday)
    out_marriage = (m["sex"][go] == 1) & (rng.random(len(go)) < p.marry_out)
    for k in np.flatnonzero(~out_marriage):
        if not _new_household(c, go[k], int(day[k]), rng):
            out_marriage[k] = True  # no free slot (oracle futures): they just leave
    _leave(c, go[out_marriage], day[out_marriage])


def _leave(c: S.County, members: np.ndarray, day: np.ndarray) -> None:
    m = c.m
    m["alive"][members] = False
    m["moved"][members] = True
    m["migrant"][members] = False
    m["pwj"][members] = False
    m["died"][members] = day  # the member's registry row closes on the day they leave


def _new_household(c: S.County, member: int, day: int, rng: np.random.Generator) -> bool:
    m, h = c.m, c.h
    free_h = np.flatnonzero(~h["used"])
    parent = int(m["hh"][member])
    same = np.flatnonzero(m["alive"] & (m["hh"] == parent))
    # a married son in a three-generation household takes his wife and children along
    family = same[np.isin(m["rel"][same], (3, 4))] if m["rel"][member] == 2 and (m["rel"][same] == 3).any() else same[:0]
    spouse = len(family) == 0 and rng.random() < 0.7
    free_m = np.flatnonzero(~m["used"])
    need = 1 + len(family) + int(spouse)
    if len(free_h) == 0 or len(free_m) < need or len(family) + 1 >= len(same):
        return False
    new = int(free_h[0])
    for a in h.values():
        a[new] = a[parent]
    for key in _FRESH_NEVER:
        h[key][new] = S.NEVER
    for key in _FRESH_ZERO:
        h[key][new] = 0
    share = need / max(len(same), 1)
    for key in ("inc_ema", "ytd_wage", "ytd_business", "ytd_property", "ytd_transfer", "ytd_costs"):
        h[key][new] = h[key][parent] * share
    h["land"][new] = round(float(h["land"][parent]) * 0.3, 1)
    h["land"][parent] = round(float(h["land"][parent]) * 0.7, 1)
    h["water"][new] = True
    h["used"][new] = True
    h["phone"][new] = rng.integers(0, 10**12)
    h["luck"][new] = rng.normal(0, 1)
    movers = np.r_[member, family].astype(np.int64)
    slots = free_m[: len(movers)]
    for a in m.values():
        a[slots] = a[movers]
    m["hh"][slots] = new
    m["rel"][slots] = np.where(movers == member, 0, np.where(m["rel"][movers] == 3, 1, 2))
    m["serial"][slots] = np.arange(1, len(slots) + 1)
    h["head"][new] = slots[0]
    _leave(c, movers, np.full(len(movers), day))
    m["alive"][slots] = True
    m["moved"][slots] = False
    m["died"][slots] = -(10**9)
    if spouse:
        s = int(free_m[len(movers)])
        for a in m.values():
            a[s] = 0
        m["hh"][s], m["used"][s], m["alive"][s], m["rel"][s] = new, True, True, 1
        m["sex"][s] = 1 - m["sex"][member]
        m["born"][s] = m["born"][member] + int(rng.normal(0, 3) * 365)
        m["died"][s] = -(10**9)
        m["eth"][s] = m["eth"][member]
        m["edu"][s] = rng.choice([3, 4, 5], p=[0.6, 0.2, 0.2])
        m["frailty"][s] = np.exp(rng.normal(0, 0.45))
        m["ethic"][s] = rng.normal(0, 1)
        m["ability"][s] = np.exp(rng.normal(0, 0.22))
        m["skilled"][s] = rng.random() < 0.2
        m["ins_med"][s] = m["ins_pen"][s] = True
        m["serial"][s] = len(slots) + 1
        m["surname"][s] = rng.integers(0, 10**6)
        m["given_a"][s] = rng.integers(0, 10**6)
        m["given_b"][s] = rng.integers(0, 10**6) if rng.random() < 0.75 else -1
        m["person"][s] = s
    h["seq_next"][new] = 2 + len(slots) if spouse else 1 + len(slots)
    return True
