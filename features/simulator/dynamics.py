"""One week of county life: ageing, illness, disability, death, birth, schooling, migrant work,
disasters and village industries. Vectorised over every member slot and household.

``rec`` is the history recorder of the main run, ``None`` in the oracle's re-simulated futures;
the dynamics are the same either way.
"""

from __future__ import annotations

import numpy as np

from features.simulator import state as S
from features.simulator.calendar import Week
from features.simulator.parameters import Parameters
from features.simulator.places import township_flood_rate
from features.simulator.planned_floods import flooded_villages

SPRING_FESTIVAL_WEEKS = (3, 4, 5, 6)  # migrants are home, earning nothing


def weekly(rate) -> np.ndarray:
    """Per-year rate -> probability within one week (rate/52: the rates are small, and this
    avoids an exp over every member every week)."""
    return np.minimum(np.asarray(rate) * (1 / 52.0), 0.9)


def ages(c: S.County, week: Week) -> np.ndarray:
    return (week.monday + 3 - c.m["born"]) / 365.25


def household_sum(c: S.County, weights) -> np.ndarray:
    """Sum a member-level quantity over each household's living members."""
    # Dead and unused slots are pointed at a dummy household H, set by derive().
    key = c.meta.get("hh_alive")
    if key is None or len(key) != len(c.m["hh"]):
        key = _alive_key(c)
    return np.bincount(key, weights=weights, minlength=c.n_households + 1)[: c.n_households]


def _alive_key(c: S.County) -> np.ndarray:
    key = np.where(c.m["alive"], c.m["hh"], c.n_households)
    c.meta["hh_alive"] = key
    return key


def derive(c: S.County, age: np.ndarray) -> None:
    """Fields that follow from others: labour skill, household size and critical flags."""
    m, h = c.m, c.h
    student = S.among(m["school"], (1, 2, 3, 4, 5))
    skill = np.where(m["skilled"], 1, 0)
    skill = np.where((m["health"] == 1) | S.among(m["dis_grade"], (3, 4)) | (age >= 62), 2, skill)
    skill = np.where((m["health"] == 2) | S.among(m["dis_grade"], (1, 2)), 3, skill)
    skill = np.where((age < 16) | student | (age >= 75), 4, skill)
    m["skill"] = np.where(m["used"], skill, m["skill"]).astype(np.int8)
    _alive_key(c)
    h["size"] = household_sum(c, m["alive"]).astype(np.int64)
    old = household_sum(c, age >= 60)
    h["crit_alone"] = (h["size"] == 1) & (old == 1)
    h["crit_dis"] = household_sum(c, m["dis_grade"] > 0) > 0
    h["crit_major"] = household_sum(c, m["health"] == 2) > 0
    h["pwj"] = household_sum(c, m["pwj"]) > 0


def derive_jobs(c: S.County) -> None:
    """After assistance: which households hold a public-welfare job (the rest is unchanged)."""
    c.h["pwj"] = household_sum(c, c.m["pwj"]) > 0


def health(c: S.County, week: Week, age, rng, p: Parameters, rec) -> np.ndarray:
    """Chronic and major illness, hospitalisations and their costs; returns each household's
    out-of-pocket medical spending of the week."""
    m, h = c.m, c.h
    alive = m["alive"]
    n = len(alive)
    fr = m["frailty"]
    a30 = np.maximum(age - 30, 0)
    u = rng.random((4, n))
    chronic_on = alive & (m["health"] == 0) & (u[0] < weekly((p.chronic_base + p.chronic_per_year_over_30 * a30) * fr))
    major_on = alive & (m["health"] < 2) & (u[1] < weekly(
        (p.major_base + p.major_per_year_over_30 * a30) * fr * np.where(m["health"] == 1, 2.0, 1.0)))
    recover = alive & (m["health"] == 1) & (u[2] < weekly(p.chronic_recovery))
    m["health"][recover] = 0
    m["health"][chronic_on] = 1
    m["health"][major_on] = 2
    m["major_left"][major_on] = rng.geometric(1 / p.major_weeks_mean, major_on.sum())
    ending = alive & (m["health"] == 2) & ~major_on
    m["major_left"][ending] -= 1
    done = ending & (m["major_left"] <= 0)
    m["health"][done] = np.where(u[3][done] < 0.65, 1, 0)
    # hospitalisations: rate by health, first one forced at a major diagnosis
    rate = np.asarray(p.hospital_rate)[m["health"]] * (1 + np.maximum(age - 40, 0) / 40)
    hosp = alive & ((u[3] < weekly(rate)) | major_on)
    hi = np.flatnonzero(hosp)
    mean = np.asarray(p.hospital_cost)[m["health"][hi]]
    cost = rng.lognormal(np.log(mean) - 0.245, 0.7)
    hh = m["hh"][hi]
    share = np.where(m["ins_med"][hi], p.oop_insured * rng.uniform(0.6, 1.4, len(hi)), p.oop_uninsured)
    share = share * np.where(h["med_aid"][hh], 0.5, 1.0)
    oop = np.bincount(hh, weights=cost * share, minlength=c.n_households).astype(np.float64)
    h["last_hosp"][hh] = week.index
    h["last_major"][m["hh"][major_on]] = week.index
    if rec is not None:
        for code, mask in (("chronic_diagnosis", chronic_on), ("major_illness_diagnosis", major_on)):
            idx = np.flatnonzero(mask)
            rec.event(code, m["hh"][idx], idx)
        rec.event("hospitalisation", hh, hi, cost.round(0))
    return oop


def disability_and_accidents(c: S.County, week: Week, age, rng, p: Parameters, rec) -> np.ndarray:
    """New disabilities (certified by the disability federation) and accidents; returns each
    household's out-of-pocket accident costs of the week."""
    m, h = c.m, c.h
    alive = m["alive"]
    n = len(alive)
    u = rng.random((3, n))
    rate = (p.disability_base + p.disability_per_year_over_40 * np.maximum(age - 40, 0)) * np.sqrt(
        m["frailty"]) * np.where(m["health"] == 2, 3.0, 1.0)
    acc = alive & (age >= 14) & (age < 75) & (u[1] < weekly(p.accident_rate))
    new_dis = alive & (m["dis_grade"] == 0) & ((u[0] < weekly(rate)) | (acc & (u[2] < 0.12)))
    k = int(new_dis.sum())
    m["dis_type"][new_dis] = rng.choice(np.arange(1, 8), k, p=[0.40, 0.14, 0.17, 0.03, 0.08, 0.10, 0.08])
    m["dis_grade"][new_dis] = rng.choice([1, 2, 3, 4], k, p=[0.10, 0.20, 0.30, 0.40])
    h["last_disability"][m["hh"][new_dis]] = week.index
    ai = np.flatnonzero(acc)
    cost = rng.lognormal(np.log(p.accident_cost) - 0.32, 0.8, len(ai))
    ins = m["ins_med"][ai]
    oop = np.bincount(m["hh"][ai], weights=cost * np.where(ins, 0.35, 0.8),
                      minlength=c.n_households).astype(np.float64)
    h["last_accident"][m["hh"][ai]] = week.index
    if rec is not None:
        rec.event("accident", m["hh"][ai], ai, cost.round(0))
        di = np.flatnonzero(new_dis)
        rec.event("disability_certified", m["hh"][di], di)
    return oop


def deaths(c: S.County, week: Week, age, rng, p: Parameters, rec) -> None:
    """Deaths by age and health; a new head when the head dies."""
    m, h = c.m, c.h
    alive = m["alive"]
    mult = (1 + 0.8 * (m["health"] == 1) + 6.0 * (m["health"] == 2)
            + 1.0 * S.among(m["dis_grade"], (1, 2))) * np.sqrt(m["frailty"])
    rate = p.mortality_a * np.exp(p.mortality_b * (age - 20)) * mult
    rate = np.where(age < 1, 0.006, rate)
    dead = alive & (rng.random(len(alive)) < weekly(np.minimum(rate, 5.0)))
    if not dead.any():
        return
    di = np.flatnonzero(dead)
    m["alive"][di] = False
    m["migrant"][di] = False
    m["pwj"][di] = False
    hh = m["hh"][di]
    day = rec.day_of(hh) if rec is not None else np.full(len(di), week.monday)
    m["died"][di] = day
    h["last_death"][hh] = week.index
    if rec is not None:
        rec.event("death", hh, di, None)
    # households whose head died: the spouse, else the oldest member, takes over
    orphan = np.flatnonzero(~m["alive"][h["head"]] & (np.bincount(m["hh"], weights=m["alive"], minlength=c.n_households) > 0))
    if len(orphan) == 0:
        return
    cand = np.flatnonzero(m["alive"] & np.isin(m["hh"], orphan))
    score = (m["rel"][cand] == 1) * 1000.0 + age[cand]
    order = np.lexsort((-score, m["hh"][cand]))
    cand = cand[order]
    first = np.r_[True, m["hh"][cand][1:] != m["hh"][cand][:-1]]
    new_head = cand[first]
    hh_new = m["hh"][new_head]
    was_child = m["rel"][new_head] == 2
    h["head"][hh_new] = new_head
    m["rel"][new_head] = 0
    # the next generation took over: everyone's relation shifts one step
    shift_h = np.zeros(c.n_households, bool)
    shift_h[hh_new[was_child]] = True
    sel = m["alive"] & shift_h[m["hh"]] & (m["rel"] != 0)
    old = m["rel"][sel]
    new = np.select([old == 1, old == 3, old == 4, old == 2, old == 5], [5, 1, 2, 6, 5], 7)
    m["rel"][sel] = new.astype(np.int8)


def births(c: S.County, week: Week, age, rng, p: Parameters, rec) -> None:
    """Births to women 20-41 living with a partner; newborns join the mother's household."""
    m, h = c.m, c.h
    young_kids = np.bincount(m["hh"], weights=m["alive"] & (age < 12), minlength=c.n_households)
    mothers = m["alive"] & (m["sex"] == 1) & (age >= 20) & (age < 42) & S.among(m["rel"], (0, 1, 3))
    rate = p.fertility * np.where((age >= 22) & (age < 33), 2.0, 0.6) * np.where(
        young_kids[m["hh"]] >= 2, 0.25, 1.0)
    born = np.flatnonzero(mothers & (rng.random(len(age)) < weekly(rate)))
    if len(born) == 0:
        return
    _, first = np.unique(m["hh"][born], return_index=True)
    born = born[first]
    free = np.flatnonzero(~m["used"])[: len(born)]
    born = born[: len(free)]
    k = len(free)
    if k == 0:
        return
    hh = m["hh"][born]
    day = rec.day_of(hh) if rec is not None else np.full(k, week.monday)
    for key in m:
        m[key][free] = 0
    m["hh"][free] = hh
    m["used"][free] = True
    m["alive"][free] = True
    m["born"][free] = day
    m["died"][free] = -(10**9)
    m["person"][free] = free
    m["sex"][free] = (rng.random(k) < 0.47).astype(np.int8)
    m["eth"][free] = m["eth"][born]
    m["rel"][free] = np.where(S.among(m["rel"][born], (0, 1)), 2, 4).astype(np.int8)
    m["frailty"][free] = (m["frailty"][born] ** 0.5 * rng.lognormal(0, 0.4, k)).astype(np.float32)
    m["ethic"][free] = (h["ethic_h"][hh] + rng.normal(0, 0.6, k)).astype(np.float32)
    m["ability"][free] = (m["ability"][born] ** 0.5 * rng.lognormal(0, 0.2, k)).astype(np.float32)
    m["skilled"][free] = rng.random(k) < 0.2
    m["ins_med"][free] = True
    m["serial"][free] = h["seq_next"][hh]
    h["seq_next"][hh] += 1
    m["surname"][free] = m["surname"][h["head"][hh]]
    m["given_a"][free] = rng.integers(0, 10**6, k)
    m["given_b"][free] = np.where(rng.random(k) < 0.8, rng.integers(0, 10**6, k), -1)
    m["skill"][free] = 4
    if rec is not None:
        rec.event("birth", hh, free, None)


def schooling(c: S.County, week: Week, age, rng, p: Parameters, rec) -> None:
    """The school year: enrolment, progression, graduation and dropouts (each September)."""
    m, h = c.m, c.h
    alive = m["alive"]
    n = len(alive)
    u = rng.random((3, n))
    z = np.clip(h["z"][m["hh"]], -2, 3)
    s = m["school"]
    enrol = np.zeros(n, bool)
    drop = np.zeros(n, bool)
    pre = alive & (age >= 3) & (age < 6) & (s == 0) & (u[0] < 0.85)
    s[pre] = 1
    start = alive & (age >= 6) & (age < 7.5) & S.among(s, (0, 1))
    s[start] = 2
    m["edu"][start] = 2
    enrol |= start
    m["edu"][alive & (s == 2) & (age >= 12) & (m["edu"] < 3)] = 2
    # compulsory school ends at 15: senior high, vocational school or work
    fin = alive & (s == 2) & (age >= 15.5)
    m["edu"][fin] = 3
    go_senior = fin & (u[1] < 0.55 - 0.08 * z)
    go_voc = fin & ~go_senior & (u[1] < 0.83 - 0.05 * z)
    s[fin] = 0
    s[go_senior] = 3
    s[go_voc] = 4
    m["years_left"][go_senior | go_voc] = 3
    enrol |= go_senior | go_voc
    # dropouts: compulsory-age children of struggling households, older students more often
    cdrop = alive & (s == 2) & (age >= 12) & (u[2] < 0.004 * np.exp(0.6 * z))
    odrop = alive & S.among(s, (3, 4)) & ~(go_senior | go_voc) & (u[2] < 0.025 * np.exp(0.4 * z))
    s[cdrop] = 6
    s[odrop] = 0
    drop |= cdrop | odrop
    s[alive & (s == 6) & (age >= 16)] = 0
    # progression in senior / vocational / higher education
    cont = alive & S.among(s, (3, 4, 5)) & ~(go_senior | go_voc) & ~odrop
    m["years_left"][cont] -= 1
    grad = cont & (m["years_left"] <= 0)
    sen = grad & (s == 3)
    voc = grad & (s == 4)
    hig = grad & (s == 5)
    m["edu"][sen] = 4
    m["edu"][voc] = 5
    m["edu"][hig] = 6
    to_higher = (sen & (u[0] < 0.62 - 0.08 * z)) | (voc & (u[0] < 0.2))
    s[grad] = 0
    s[to_higher] = 5
    m["years_left"][to_higher] = np.where(u[1][to_higher] < 0.5, 3, 4)
    enrol |= to_higher
    m["ins_pen"][alive & (age >= 16) & (s == 0) & ~m["ins_pen"] & (u[2] < 0.5)] = True
    m["school"] = s
    if rec is not None:
        idx = np.flatnonzero(enrol)
        rec.event("school_enrolment", m["hh"][idx], idx)
        idx = np.flatnonzero(drop)
        rec.event("school_dropout", m["hh"][idx], idx)
    h["last_dropout"][m["hh"][drop]] = week.index


def migrant_work(c: S.County, week: Week, age, rng, p: Parameters, rec) -> None:
    """Finding and losing migrant work: seasonal, with the early-2020 and 2022 shocks."""
    m, h = c.m, c.h
    alive = m["alive"]
    n = len(alive)
    u = rng.random((3, n))
    able = alive & (age >= 16) & (age < 58) & S.among(m["skill"], (0, 1)) & ~m["pwj"]
    mig = m["migrant"]
    quit_ = mig & ~able
    shock = 0.0
    if week.year == 2020 and 5 <= week.iso_week <= 12:
        shock = 1 - (1 - p.job_loss_share_2020) ** (1 / 8)
    elif week.year == 2022 and 14 <= week.iso_week <= 22:
        shock = 1 - (1 - 0.10) ** (1 / 9)
    # a village's migrant network finds jobs and keeps them (places.py)
    village = h["village"][m["hh"]]
    network = c.v["network"][village]
    stop_p = weekly(p.migrant_stop * c.v["network_loss"][village] * np.exp(-0.25 * m["ethic"] - 0.2 * h["luck"][m["hh"]])) + shock
    lost = mig & able & (u[0] < stop_p)
    season = 3.0 if 7 <= week.iso_week <= 10 else (0.3 if week.iso_week in SPRING_FESTIVAL_WEEKS else 1.0)
    if week.year == 2020 and 4 <= week.iso_week <= 15:
        season *= 0.15
    infant = np.bincount(m["hh"], weights=alive & (age < 3), minlength=c.n_households)[m["hh"]] > 0
    start_rate = p.migrant_start * network * np.exp(0.45 * m["ethic"]) * season * np.where(
        (m["sex"] == 1) & infant, 0.15, 1.0) * np.where(age > 45, 0.5, 1.0)
    start = able & ~mig & (u[1] < weekly(start_rate))
    m["migrant"][quit_ | lost] = False
    m["migrant"][start] = True
    m["place"][start] = rng.choice([1, 2, 3], int(start.sum()), p=[0.22, 0.33, 0.45])
    h["last_jobloss"][m["hh"][lost]] = week.index
    working = m["migrant"] & (week.iso_week not in SPRING_FESTIVAL_WEEKS)
    m["mig_weeks"] += working.astype(np.int16)
    if rec is not None:
        idx = np.flatnonzero(lost)
        rec.event("job_loss", m["hh"][idx], idx)
        idx = np.flatnonzero(start)
        rec.event("job_start", m["hh"][idx], idx)


def year_start(c: S.County, week: Week, rng, p: Parameters) -> None:
    """New year: report last year's migrant months, renew insurance, review policy support."""
    m, h = c.m, c.h
    months = np.clip(np.round(m["mig_weeks"] / 4.33), 0, 12).astype(np.int8)
    m["mig_months_rep"] = np.where(m["alive"], months, m["mig_months_rep"]).astype(np.int8)
    m["place_rep"] = np.where(m["alive"], np.where(months > 0, m["place"], 0), m["place_rep"]).astype(np.int8)
    m["mig_weeks"][:] = 0
    n = len(m["alive"])
    u = rng.random((2, n))
    exited = h["category"][m["hh"]] == 0
    lapse = m["alive"] & m["ins_med"] & ~exited & (u[0] < 0.0005)
    renew = m["alive"] & ~m["ins_med"] & (u[1] < 0.7)
    m["ins_med"][lapse] = False
    m["ins_med"][renew] = True
    H = c.n_households
    uh = rng.random(H)
    if week.year >= 2021:
        end = (h["policy"] == 0) & (uh < 0.05) & ~h["monitored"]
        h["policy"][end] = 1
    for key in ("ytd_wage", "ytd_business", "ytd_property", "ytd_transfer", "ytd_costs",
                "ytd_medical", "ytd_school", "farm_shock", "business_loss"):
        h[key][:] = 0.0
    h["weeks_in_year"][:] = 0


def disasters(c: S.County, week: Week, rng, p: Parameters, rec) -> None:
    """Floods and droughts hit villages (sometimes a whole township) and many households at once."""
    h, v = c.h, c.v
    n_v = len(v["township"])
    H = c.n_households
    flood_season = 20 <= week.iso_week <= 36
    drought_season = 26 <= week.iso_week <= 40
    planned = flooded_villages(v["township"], c.township_names, week.monday, p.planned_floods)
    if not (flood_season or drought_season or planned is not None):
        return
    u = rng.random((3, n_v))
    flood = np.zeros(n_v, bool)
    drought = np.zeros(n_v, bool)
    if flood_season:
        flood = u[0] < weekly(p.flood_rate * v["flood_risk"] * 52 / 17)
        exposure = township_flood_rate(v, c.n_townships)
        big = rng.random(c.n_townships) < weekly(p.township_flood_rate * exposure * 52 / 17)
        flood |= big[v["township"]]
    if planned is not None:
        flood |= planned
    if drought_season:
        drought = u[1] < weekly(p.drought_rate * v["drought_risk"] * 52 / 15)
    if not (flood.any() or drought.any()):
        return
    share = np.where(flood, rng.uniform(0.25, 0.8, n_v), np.where(drought, rng.uniform(0.4, 0.9, n_v), 0))
    uh = rng.random((5, H))
    alive = h["size"] > 0
    hit = alive & (uh[0] < share[h["village"]])
    fl = hit & flood[h["village"]]
    dr = hit & drought[h["village"]] & ~fl
    loss = np.zeros(H)
    loss[fl] = h["land"][fl] * rng.uniform(300, 900, fl.sum()) + np.where(
        uh[1][fl] < 0.3, rng.lognormal(np.log(7000), 0.8, fl.sum()), 0)
    loss[dr] = h["land"][dr] * rng.uniform(200, 600, dr.sum())
    h["farm_shock"][fl] = np.maximum(h["farm_shock"][fl], rng.uniform(0.3, 0.8, fl.sum()))
    h["farm_shock"][dr] = np.maximum(h["farm_shock"][dr], rng.uniform(0.2, 0.6, dr.sum()))
    down = fl & (uh[2] < 0.03 * np.exp(-0.2 * h["luck"]))
    old_housing = h["housing"].copy()
    h["housing"][down] = np.maximum(h["housing"][down], np.where(uh[3][down] < 0.7, 2, 3)).astype(np.int8)
    water_fail = dr & (uh[4] < 0.05) & h["water"]
    h["water"][water_fail] = False
    h["water_fix_week"][water_fail] = week.index + rng.integers(6, 30, water_fail.sum())
    h["last_disaster"][hit] = week.index
    h["shock_amount"][hit] += loss[hit]
    if rec is not None:
        idx = np.flatnonzero(hit)
        rec.event("disaster_damage", idx, None, loss[idx].round(0))
        idx = np.flatnonzero(down & (h["housing"] != old_housing))
        rec.event("housing_downgrade", idx)


def industry(c: S.County, week: Week, rng, p: Parameters, rec) -> None:
    """Village industry projects fail or start; household side businesses fail; houses age."""
    h, v = c.h, c.v
    H = c.n_households
    n_v = len(v["township"])
    uv = rng.random(n_v)
    fail = v["industry"] & (uv < weekly(p.industry_failure * np.exp(-0.7 * v["industry_quality"])))
    new = ~v["industry"] & (uv < weekly(0.12))
    v["industry"][fail] = False
    v["industry"][new] = True
    uh = rng.random((4, H))
    alive = h["size"] > 0
    hit = alive & h["industry"] & fail[h["village"]]
    loss = np.zeros(H)
    loss[hit] = rng.uniform(1500, 9000, hit.sum())
    h["industry"][hit] = False
    join = alive & ~h["industry"] & new[h["village"]] & (uh[0] < np.where(h["category"] == 0, 0.5, 0.12))
    h["industry"][join] = True
    own = alive & (h["enterprise"] > 0) & (uh[1] < weekly(0.05 * np.exp(-0.4 * h["luck"])))
    loss[own] += h["enterprise"][own] * rng.uniform(0.3, 1.0, own.sum())
    h["business_loss"][own] = np.maximum(h["business_loss"][own], 0.7)
    h["enterprise"][own] *= rng.uniform(0.0, 0.6, own.sum())
    failed = hit | own
    h["last_business_fail"][failed] = week.index
    h["shock_amount"][failed] += loss[failed]
    # houses age: B->C and C->D downgrades
    old = h["housing"].copy()
    h["housing"][alive & (old == 0) & (uh[2] < weekly(0.01))] = 1
    h["housing"][alive & (old == 1) & (uh[2] < weekly(0.0006 * np.exp(0.3 * h["z"])))] = 2
    h["housing"][alive & (old == 2) & (uh[3] < weekly(0.05))] = 3
    if rec is not None:
        idx = np.flatnonzero(failed)
        rec.event("business_failure", idx, None, loss[idx].round(0))
        idx = np.flatnonzero(alive & (h["housing"] >= 2) & (h["housing"] != old))
        rec.event("housing_downgrade", idx)
