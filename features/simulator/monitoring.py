"""Identification, entry into monitoring, assistance and risk elimination.

A household *enters* monitoring when it meets an official criterion (per-capita net income under
the year's line, necessary spending pushing it under the line, a 三保障/water failure, or a sudden
severe loss) AND the county finds it: departments push warnings soon after a pushed event,
cadres visit, households apply, and there is a concentrated screening each autumn. After the
~15-day identification process the household is entered, assistance follows, and the risk is
eliminated once income has been stably above the line for six months.
"""

from __future__ import annotations

import numpy as np

from features.simulator import state as S
from features.simulator.calendar import Week
from features.simulator.dynamics import household_sum
from features.simulator.parameters import Parameters

SCREENING_WEEKS = range(40, 46)
RISK_PRIORITY = ("illness", "disability", "accident", "disaster", "business_failure",
                 "unstable_work", "schooling", "lack_labour", "housing", "water")
TRIGGER_INCOME, TRIGGER_SPENDING, TRIGGER_GUARANTEE, TRIGGER_SUDDEN = 1, 2, 3, 4


def criteria(c: S.County, week: Week, age: np.ndarray, p: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Which official criterion each household meets now (0 none, else the TRIGGER_* code)."""
    m, h = c.m, c.h
    size = np.maximum(h["size"], 1)
    line = p.line(week.year)
    pc = h["inc_ema"] / size
    # households moved to social-security support (兜底) re-enter only through a new hardship
    income = (pc < line) & ~h["secured"]
    # 支出型: necessary spending large against income pushes what is left under the line
    spending = ((h["inc_ema"] - h["spend_ema"]) / size < line) & (h["spend_ema"] > 0.5 * np.maximum(h["inc_ema"], 1))
    dropout = household_sum(c, (m["school"] == 6) & (age < 16)) > 0
    uninsured = household_sum(c, ~m["ins_med"]) > 0
    guarantee = dropout | uninsured | (h["housing"] >= 2) | ~h["water"]
    sudden = h["shock_amount"] > np.maximum(15000.0, 0.6 * np.maximum(h["inc_ema"], 0))
    trig = np.select([sudden, income, spending, guarantee],
                     [TRIGGER_SUDDEN, TRIGGER_INCOME, TRIGGER_SPENDING, TRIGGER_GUARANTEE], 0)
    trig = np.where(h["size"] > 0, trig, 0).astype(np.int8)
    return trig, guarantee


def risk_types(c: S.County, week: Week, age: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Up to five risk types (codes of state.RISK, -1 empty) for entering households."""
    m, h = c.m, c.h
    t = week.index
    recent = lambda key, weeks: (t - h[key][idx]) <= weeks  # noqa: E731
    major = household_sum(c, m["health"] == 2)[idx] > 0
    chronic = household_sum(c, m["health"] == 1)[idx] > 0
    severe_dis = household_sum(c, S.among(m["dis_grade"], (1, 2)))[idx] > 0
    any_dis = household_sum(c, m["dis_grade"] > 0)[idx] > 0
    students = household_sum(c, S.among(m["school"], (3, 4, 5)))[idx]
    dropout = household_sum(c, m["school"] == 6)[idx] > 0
    # 缺劳动力: nobody of working age who can work at all (weak labour still counts)
    labour = household_sum(c, S.among(m["skill"], (0, 1, 2)) & (age >= 16) & (age < 65))[idx]
    patchy = household_sum(c, m["alive"] & (m["mig_months_rep"] > 0) & (m["mig_months_rep"] < 8))[idx] > 0
    flags = {
        "illness": major | chronic,
        "disability": severe_dis | (any_dis & recent("last_disability", 52)),
        "accident": recent("last_accident", 26),
        "disaster": recent("last_disaster", 52),
        "business_failure": recent("last_business_fail", 52),
        # a job lost within the year, or migrant work of only a few months last year
        "unstable_work": recent("last_jobloss", 52) | patchy,
        "schooling": (students >= 1) & (h["ytd_school"][idx] > 0.1 * np.maximum(h["inc_ema"][idx], 1)) | dropout,
        "lack_labour": labour == 0,
        "housing": h["housing"][idx] >= 2,
        "water": ~h["water"][idx],
    }
    out = np.full((len(idx), 5), -1, np.int16)
    filled = np.zeros(len(idx), np.int64)
    for name in RISK_PRIORITY:
        f = flags[name] & (filled < 5)
        rows = np.flatnonzero(f)
        out[rows, filled[rows]] = S.RISK.index(name)
        filled[rows] += 1
    out[filled == 0, 0] = S.RISK.index("other")
    return out


def step(c: S.County, week: Week, age: np.ndarray, rng, p: Parameters, rec) -> np.ndarray:
    """Discovery, entry, assistance and elimination for one week; returns the households that
    entered monitoring this week."""
    h = c.h
    H = c.n_households
    t = week.index
    trig, guarantee = criteria(c, week, age, p)
    eligible = (trig > 0) & ~h["monitored"]
    # how long a household has met a criterion without being entered (the model's lead time)
    since = h["eligible_since"]
    h["eligible_since"] = np.where(eligible, np.where(since == S.NEVER, t, since), S.NEVER)
    u = rng.random((4, H))

    # entry of households whose identification finishes this week (if they still qualify)
    due = h["pending"] == t
    # the home check weighs the household's own ability to cope (2026 rules): a household with
    # able labour whose income is only a little under the line is often judged able to cope
    size = np.maximum(h["size"], 1)
    near = (trig == TRIGGER_INCOME) | (trig == TRIGGER_SPENDING)
    near &= h["inc_ema"] / size >= p.cope_share * p.line(week.year)
    copes = near & (household_sum(c, S.among(c.m["skill"], (0, 1)) & (age >= 16) & (age < 60)) > 0)
    judged = due & eligible & copes & (u[1] < p.cope_rejection)
    if rec is not None:
        # the true state (truth/hardship.parquet, never the features): meeting a criterion in a
        # way the home check would accept, whether or not anyone has found the household
        rec.hardship_week(np.flatnonzero((trig > 0) & ~copes))
    enter = due & eligible & ~judged
    h["checked_until"][judged] = t + 52  # the village does not propose them again for a year
    h["pending"][due] = S.NEVER
    entered = np.flatnonzero(enter)
    if len(entered):
        h["monitored"][entered] = True
        h["ever_monitored"][entered] = True
        h["entry_week"][entered] = t
        h["stable_weeks"][entered] = 0
        h["last_assist"][entered] = t + rng.integers(1, 7, len(entered))
        tr = h["trigger"][entered]
        cat = np.where(tr == TRIGGER_SUDDEN, 2, np.where(h["category"][entered] == 0, 0, 1))
        if rec is not None:
            rec.entry(entered, cat.astype(np.int8), risk_types(c, week, age, entered))
            rec.lead_weeks.append(t - h["eligible_since"][entered])

    # discovery: departments, cadres, the household itself, the autumn screening
    pushed = np.zeros(H, bool)
    for key in ("last_hosp", "last_major", "last_disability", "last_disaster", "last_accident",
                "last_dropout"):
        pushed |= (t - h[key]) <= 6
    pushed |= guarantee
    miss = 1 - found_probability(c, week, pushed, p)
    found = eligible & (h["pending"] == S.NEVER) & (u[0] > miss) & ((h["checked_until"] <= t) | (trig == TRIGGER_SUDDEN))
    h["pending"][found] = t + rng.integers(2, 5, found.sum())
    h["trigger"][found] = trig[found]

    _assist(c, week, age, rng, p, rec)
    _eliminate(c, week, age, trig, p, rec)
    _county_programmes(c, week, age, rng, p, rec)
    return entered


def found_probability(c: S.County, week: Week, pushed: np.ndarray, p: Parameters) -> np.ndarray:
    """Each household's chance this week of being found if it meets a criterion: department push
    after a pushed event, cadre visit, self-report, the autumn screening."""
    h = c.h
    # the village's lasting outreach (places.py): how hard its cadres look, and how readily its
    # people ask; department pushes reach every village alike
    outreach = c.v["outreach"][h["village"]]
    cadre = p.discovery_cadre * outreach * np.where(h["policy"] == 0, 2.0, 1.0) * np.where(h["category"] == 1, 1.5, 1.0)
    selfr = p.discovery_self * outreach * np.exp(0.4 * h["ethic_h"])
    screen = np.minimum(p.discovery_screening * outreach, 0.5) if week.iso_week in SCREENING_WEEKS else 0.0
    return 1 - (1 - p.discovery_department * pushed) * (1 - cadre) * (1 - selfr) * (1 - screen)


def _assist(c: S.County, week: Week, age, rng, p: Parameters, rec) -> None:
    """Measures after entry: 低保, a public-welfare job, medical aid, school aid, housing and water."""
    m, h = c.m, c.h
    t = week.index
    idx = np.flatnonzero(h["monitored"] & (h["last_assist"] == t))
    if len(idx) == 0:
        return
    size = np.maximum(h["size"][idx], 1)
    pc = h["inc_ema"][idx] / size
    sel = np.zeros(c.n_households, bool)
    sel[idx] = True
    labour = household_sum(c, S.among(m["skill"], (0, 1)) & (age >= 16) & (age < 60))[idx]
    dibao = (h["social"][idx] == 0) & ((pc < p.dibao_line(week.year)) | (labour == 0))
    # 特困 for people living alone without labour, 低保 for the others
    h["social"][idx[dibao]] = np.where((size[dibao] == 1) & (labour[dibao] == 0), 2, 1)
    # one public-welfare job per household with someone able to do it
    cand = np.flatnonzero(sel[m["hh"]] & m["alive"] & (age >= 18) & (age < 66) & ~m["migrant"]
                          & S.among(m["skill"], (0, 1, 2)) & ~S.among(m["school"], (1, 2, 3, 4, 5)))
    if len(cand):
        _, first = np.unique(m["hh"][cand], return_index=True)
        pick = cand[first]
        pick = pick[(h["inc_ema"][m["hh"][pick]] / np.maximum(h["size"][m["hh"][pick]], 1)
                     < p.line(week.year) * 1.4) & (rng.random(len(pick)) < 0.7)]
        m["pwj"][pick] = True
    sick = household_sum(c, m["health"] > 0)[idx] > 0
    h["med_aid"][idx[sick]] = True
    m["ins_med"][sel[m["hh"]] & m["alive"]] = True
    h["school_aid"][idx] = True
    back = sel[m["hh"]] & m["alive"] & (m["school"] == 6)
    m["school"][back] = 2
    bad_house = idx[h["housing"][idx] >= 2]
    h["rebuild_week"][bad_house] = t + rng.integers(8, 40, len(bad_house))
    dry = idx[~h["water"][idx]]
    h["water_fix_week"][dry] = np.minimum(h["water_fix_week"][dry], t + rng.integers(2, 12, len(dry)))
    if rec is not None:
        rec.event("assistance_granted", idx)
        b = np.flatnonzero(back)
        rec.event("school_enrolment", m["hh"][b], b)


def _eliminate(c: S.County, week: Week, age, trig, p: Parameters, rec) -> None:
    """Risk eliminated after six months stably above the line with no open failure; households
    without labour stay under tracking."""
    m, h = c.m, c.h
    mon = h["monitored"]
    stable = mon & (trig == 0)
    h["stable_weeks"] = np.where(stable, h["stable_weeks"] + 1, 0).astype(np.int16)
    labour = household_sum(c, S.among(m["skill"], (0, 1, 2)) & (age >= 16) & (age < 65)) > 0
    settled = mon & (h["stable_weeks"] >= p.stable_weeks_to_eliminate) & (week.index - h["entry_week"] >= 26)
    done = settled & labour
    # no working-age member: not marked cleared but moved to stable social-security support
    # (2024 county rules), which closes the monitoring record too
    secured = settled & ~labour & (h["social"] > 0)
    h["secured"][secured] = True
    gone = mon & (h["size"] == 0)
    idx = np.flatnonzero(done | secured | gone)
    if len(idx) == 0:
        return
    h["monitored"][idx] = False
    h["med_aid"][idx] = False
    h["school_aid"][idx] = False
    h["pending"][idx] = S.NEVER
    if rec is not None:
        rec.elimination(np.flatnonzero(done | secured))


def _county_programmes(c: S.County, week: Week, age, rng, p: Parameters, rec) -> None:
    """Housing rebuilt and water restored when their projects finish; the yearly 低保 review."""
    h = c.h
    t = week.index
    rebuilt = np.flatnonzero(h["rebuild_week"] == t)
    h["housing"][rebuilt] = 0
    h["crit_rebuilt"][rebuilt] = True
    fixed = h["water_fix_week"] == t
    h["water"][fixed] = True
    if rec is not None:
        rec.event("housing_rebuilt", rebuilt)
    if week.iso_week == 14:
        # yearly 低保 review by civil affairs (independent of the monitoring system)
        size = np.maximum(h["size"], 1)
        pc = h["inc_ema"] / size
        u = rng.random(c.n_households)
        without = pc - (h["social"] == 1) * p.dibao_month * 12 * p.dibao_line(week.year) / 4400
        leave = (h["social"] == 1) & (without > 1.2 * p.dibao_line(week.year)) & ~h["monitored"] & (u < 0.6)
        join = (h["social"] == 0) & (pc < p.dibao_line(week.year)) & (u < 0.25) & (h["size"] > 0)
        # households without labour under the monitoring line get social-security support
        # directly (one identification for 防返贫 and social assistance)
        m = c.m
        labour = household_sum(c, S.among(m["skill"], (0, 1, 2)) & (age >= 16) & (age < 65)) > 0
        floor = ((h["social"] == 0) & ~labour & (pc < p.line(week.year)) & (h["size"] > 0)
                 & ~h["monitored"] & (u > 1 - p.review_floor))
        h["social"][leave] = 0
        h["social"][join] = 1
        h["social"][floor] = np.where(h["size"][floor] == 1, 2, 1)
        h["secured"][floor] = True
