"""The county's initial households and members, with their latent traits."""

from __future__ import annotations

import numpy as np

from features.simulator import state as S
from features.simulator.layout import build_layout
from features.simulator.places import draw_places, household_disadvantage

# Household types: elderly alone, elderly couple, couple with children, three generations,
# couple with adult child, single adult.
_TYPE_P = np.array([0.13, 0.19, 0.30, 0.24, 0.09, 0.05])
_CHILD_N = np.array([0.30, 0.50, 0.17, 0.03])  # 1..4 children in couple households
EXITED_SCORE, MARGINAL_SCORE = 0.85, 0.55  # thresholds of the latent category score


def _years(rng: np.random.Generator, lo, hi, n) -> np.ndarray:
    return rng.uniform(lo, hi, n)


def build_county(n_households: int, start_day: int, rng: np.random.Generator,
                 township_names: list[str] | None = None, minority: bool = True,
                 spare: float = 0.12, spare_households: float = 0.0) -> S.County:
    """Draw the county as it stands on ``start_day``.

    Args:
        n_households: number of households.
        start_day: day number of the first simulated day.
        rng: the population stream.
        township_names: override the township names (the new-township scenario).
        minority: include the ethnic-minority township.
        spare: share of extra member slots kept free for births.
        spare_households: share of extra household slots kept free for households that form.
    """
    lay = build_layout(n_households, rng, minority=minority, names=township_names)
    places = draw_places(lay, rng)
    n_v = len(lay["village_township"])
    H = n_households
    # Households are spread over villages unevenly (bigger villages near the township seat).
    vw = rng.lognormal(0, 0.35, n_v)
    village = np.sort(rng.choice(n_v, H, p=vw / vw.sum()))
    township = lay["village_township"][village]
    miao = township == lay["minority_township"]

    # Latent household traits: z = disadvantage (illness-prone, weak earning, little land), part
    # of it the village's and township's lasting disadvantage (places.py).
    z = household_disadvantage(places["place"], village, rng)
    htype = rng.choice(6, H, p=_TYPE_P)
    cat_score = z + rng.normal(0, 0.8, H)
    # ~25% exited (脱贫户), ~8% marginal: docs/simulator.md gives the sources
    category = np.where(cat_score > EXITED_SCORE, 0, np.where(cat_score > MARGINAL_SCORE, 1, 2)).astype(np.int8)
    ethic_h = rng.normal(0, 1, H) - 0.3 * z
    luck = rng.normal(0, 1, H)
    frail_h = 0.35 * z + rng.normal(0, 0.3, H)

    # ---- members: built slot by slot, vectorised over households ----
    cols: dict[str, list] = {k: [] for k in ("hh", "age", "sex", "rel")}

    def add(mask, age, sex, rel):
        idx = np.flatnonzero(mask)
        cols["hh"].append(idx)
        cols["age"].append(np.asarray(age)[idx] if np.ndim(age) else np.full(len(idx), age))
        cols["sex"].append(np.asarray(sex)[idx] if np.ndim(sex) else np.full(len(idx), sex))
        cols["rel"].append(np.full(len(idx), rel))

    head_age = np.select(
        [htype == 0, htype == 1, htype == 2, htype == 3, htype == 4, htype == 5],
        [_years(rng, 62, 92, H), _years(rng, 60, 86, H), _years(rng, 26, 52, H),
         _years(rng, 48, 72, H), _years(rng, 40, 62, H), _years(rng, 25, 62, H)],
    )
    head_sex = np.where(htype == 0, rng.random(H) < 0.55, rng.random(H) < 0.12).astype(np.int8)
    add(np.ones(H, bool), head_age, head_sex, 0)
    spouse = np.isin(htype, [1, 3, 4]) | ((htype == 2) & (rng.random(H) < 0.9))
    spouse &= ~((htype == 3) & (rng.random(H) < 0.15))  # widowed grandparent
    add(spouse, np.clip(head_age + rng.normal(-2, 3, H), 18, 99), 1 - head_sex, 1)
    # children of couple households
    n_child = np.where(htype == 2, rng.choice(4, H, p=_CHILD_N) + 1, 0)
    n_child += np.where(htype == 4, (rng.random(H) < 0.7).astype(int), 0)
    for k in range(4):
        gap = rng.uniform(21, 33, H) + 2.5 * k
        age = head_age - gap
        has = (n_child > k) & (age >= 0)
        if k == 0:
            age = np.where(htype == 4, np.maximum(age, rng.uniform(17, 28, H)), age)
        add(has, np.maximum(age, 0.05), (rng.random(H) < 0.48).astype(np.int8), 2)
    # three generations: married child, child-in-law, grandchildren
    three = htype == 3
    son_age = np.clip(head_age - rng.uniform(22, 32, H), 18, 60)
    add(three, son_age, np.zeros(H, np.int8), 2)
    cil = three & (rng.random(H) < 0.85)
    add(cil, np.clip(son_age + rng.normal(-2, 2, H), 18, 60), np.ones(H, np.int8), 3)
    n_grand = np.where(three, rng.choice(4, H, p=[0.12, 0.48, 0.33, 0.07]), 0)
    for k in range(3):
        age = son_age - rng.uniform(20, 30, H) - 2.0 * k
        add((n_grand > k) & (age > 0), np.maximum(age, 0.05), (rng.random(H) < 0.47).astype(np.int8), 4)
    # an old parent living with a couple household
    par = (htype == 2) & (head_age > 38) & (rng.random(H) < 0.18)
    add(par, np.clip(head_age + rng.uniform(24, 32, H), 60, 98), (rng.random(H) < 0.6).astype(np.int8), 5)

    hh = np.concatenate(cols["hh"])
    order = np.lexsort((np.concatenate([np.full(len(a), i) for i, a in enumerate(cols["hh"])]), hh))
    hh = hh[order]
    age = np.concatenate(cols["age"])[order]
    sex = np.concatenate(cols["sex"])[order].astype(np.int8)
    rel = np.concatenate(cols["rel"])[order].astype(np.int8)
    n = len(hh)

    born = (start_day - age * 365.25).astype(np.int64)
    eth = np.where(miao[hh] & (rng.random(n) < 0.82), 1, 0)
    other_min = (~miao[hh]) & (rng.random(n) < 0.04)
    eth = np.where(other_min, rng.choice([2, 3, 4, 8], n), eth).astype(np.int8)

    frailty = np.exp(frail_h[hh] + rng.normal(0, 0.45, n)).astype(np.float32)
    ethic = (ethic_h[hh] + rng.normal(0, 0.6, n)).astype(np.float32)
    ability = np.exp(-0.18 * z[hh] + rng.normal(0, 0.22, n)).astype(np.float32)

    # education by birth cohort (older rural cohorts had little schooling)
    by = 1970 + born / 365.25
    u = rng.random(n)
    edu = np.full(n, 3, np.int8)
    for lo, hi, c in ((-1e9, 1955, (0.35, 0.80, 0.97, 0.995, 1.0)),
                      (1955, 1970, (0.15, 0.58, 0.90, 0.97, 0.99)),
                      (1970, 1985, (0.05, 0.33, 0.80, 0.90, 0.97)),
                      (1985, 1e9, (0.01, 0.10, 0.58, 0.75, 0.88))):
        sel = (by >= lo) & (by < hi)
        e = np.searchsorted(np.array(c), u[sel] + 0.3 * np.clip(z[hh][sel], -1, 1) * 0.1)
        edu[sel] = np.array([1, 2, 3, 4, 5, 6], np.int8)[np.clip(e, 0, 5)]
    school = np.zeros(n, np.int8)
    years_left = np.zeros(n, np.int8)
    school[(age >= 3) & (age < 6)] = 1
    edu[age < 6] = 0
    cmp_ = (age >= 6) & (age < 15.7)
    school[cmp_] = 2
    edu[cmp_] = 2
    teen = (age >= 15.7) & (age < 18.7)
    r = rng.random(n)
    school[teen & (r < 0.52)] = 3
    school[teen & (r >= 0.52) & (r < 0.80)] = 4
    edu[teen] = 3
    years_left[teen] = np.clip(np.ceil(18.7 - age[teen]), 1, 3).astype(np.int8)
    young = (age >= 18.7) & (age < 22.5)
    hi_ed = young & (rng.random(n) < 0.33)
    school[hi_ed] = 5
    edu[hi_ed] = 4
    years_left[hi_ed] = np.clip(np.ceil(22.5 - age[hi_ed]), 1, 4).astype(np.int8)
    edu[young & ~hi_ed] = np.where(rng.random(n) < 0.5, 4, 5)[young & ~hi_ed]

    # initial health and disability (age- and frailty-dependent prevalence)
    a30 = np.maximum(age - 30, 0)
    p_chronic = np.clip((0.009 + 0.0040 * a30) * frailty, 0, 0.6)
    p_major = np.clip((0.002 + 0.00045 * a30) * frailty, 0, 0.2)
    r = rng.random(n)
    health = np.where(r < p_major, 2, np.where(r < p_major + p_chronic, 1, 0)).astype(np.int8)
    major_left = np.where(health == 2, rng.geometric(1 / 60, n), 0).astype(np.int32)
    p_dis = np.clip((0.008 + 0.0016 * a30) * np.sqrt(frailty), 0, 0.4)
    disabled = rng.random(n) < p_dis
    dis_type = np.where(disabled, rng.choice(np.arange(1, 8), n,
                                             p=[0.40, 0.14, 0.17, 0.03, 0.08, 0.10, 0.08]), 0)
    dis_grade = np.where(disabled, rng.choice([1, 2, 3, 4], n, p=[0.10, 0.20, 0.30, 0.40]), 0)
    skilled = rng.random(n) < (0.10 + 0.25 * (edu >= 4))
    ins_med = rng.random(n) < np.where(category[hh] == 0, 1.0, 0.997)
    ins_pen = (age >= 16) & (school == 0) & (rng.random(n) < 0.93)

    # family support (赡养费) received by elderly parents from children living elsewhere
    support = np.where(age >= 55, rng.lognormal(np.log(3600), 0.6, n) * (rng.random(n) < 0.8), 0)

    slots = int(n * (1 + spare)) + 16
    m = {
        "hh": hh, "used": np.ones(n, bool), "alive": np.ones(n, bool), "born": born,
        "died": np.full(n, -10**9, np.int64), "sex": sex, "eth": eth, "rel": rel, "edu": edu,
        "school": school, "years_left": years_left, "health": health,
        "dis_type": dis_type.astype(np.int8), "dis_grade": dis_grade.astype(np.int8),
        "skill": np.zeros(n, np.int8), "skilled": skilled, "ins_med": ins_med,
        "ins_pen": ins_pen, "frailty": frailty, "ethic": ethic, "ability": ability,
        "major_left": major_left, "migrant": np.zeros(n, bool), "place": np.zeros(n, np.int8),
        "mig_weeks": np.zeros(n, np.int16), "mig_months_rep": np.zeros(n, np.int8),
        "place_rep": np.zeros(n, np.int8), "pwj": np.zeros(n, bool),
        "support": support.astype(np.float32),
        "serial": np.zeros(n, np.int16), "given_a": rng.integers(0, 10**6, n),
        "given_b": np.where(rng.random(n) < 0.75, rng.integers(0, 10**6, n), -1),
        "surname": np.zeros(n, np.int64), "moved": np.zeros(n, bool),
        # the person a slot holds (a member who moves to a new household keeps ID number)
        "person": np.arange(n, dtype=np.int64),
    }
    # member serial within household, surname (children take the head's)
    first_of = np.searchsorted(hh, np.arange(H))
    m["serial"] = (np.arange(n) - first_of[hh] + 1).astype(np.int16)
    h_surname = rng.integers(0, 10**6, H)
    m["surname"] = np.where(np.isin(rel, [1, 3]), rng.integers(0, 10**6, n), h_surname[hh])
    for k, a in m.items():  # spare slots for births
        pad = np.zeros(slots - n, dtype=a.dtype)
        m[k] = np.concatenate([a, pad])
    m["used"][n:] = False
    m["alive"][n:] = False
    m["person"][n:] = np.arange(n, slots)

    exit_year = np.where(category == 0, rng.choice(np.arange(2014, 2021), H,
                         p=[0.06, 0.10, 0.15, 0.20, 0.22, 0.17, 0.10]), 0)
    h = {
        "township": township.astype(np.int64), "village": village.astype(np.int64),
        "category": category, "exit_year": exit_year.astype(np.int16),
        "policy": np.where(category == 0, np.where(rng.random(H) < 0.82, 0, 1), 2).astype(np.int8),
        "relocated": (category == 0) & (rng.random(H) < 0.12),
        "crit_alone": np.zeros(H, bool), "crit_dis": np.zeros(H, bool),
        "crit_major": np.zeros(H, bool),
        "crit_rebuilt": rng.random(H) < np.where(category == 0, 0.25, 0.03),
        "social": np.zeros(H, np.int8),
        "land": np.clip(rng.lognormal(np.log(3.2), 0.6, H) * np.exp(-0.15 * z), 0, 60).round(1),
        "housing": np.zeros(H, np.int8), "water": rng.random(H) > 0.004,
        "credit": rng.random(H) < np.where(category == 0, 0.15, 0.02),
        "industry": np.zeros(H, bool), "pwj": np.zeros(H, bool),
        "head": first_of.astype(np.int64), "phone": rng.integers(0, 10**12, H),
        "miao": miao, "luck": luck.astype(np.float32), "ethic_h": ethic_h.astype(np.float32),
        "z": z.astype(np.float32),
        "enterprise": (rng.random(H) < 0.22) * rng.lognormal(np.log(9000), 0.6, H),
        "seq_next": np.bincount(hh, minlength=H).astype(np.int16) + 1,
        "survey_week": rng.integers(46, 52, H).astype(np.int8),
    }
    h["land"] = np.where(h["relocated"], h["land"] * 0.4, h["land"]).round(1)
    u = rng.random(H)
    h["housing"] = np.where(u < 0.0015, 3, np.where(u < 0.005, 2, np.where(u < 0.45 - 0.1 * (category == 0), 1, 0))).astype(np.int8)
    village_industry = lay["industry"][village]
    h["industry"] = village_industry & (rng.random(H) < np.where(category == 0, 0.55, 0.12))
    size = np.bincount(hh, minlength=H)
    elderly_alone = (size == 1) & (head_age >= 60)
    severe = np.bincount(hh, weights=(dis_grade[:n] > 0) & (dis_grade[:n] <= 2), minlength=H) > 0
    r = rng.random(H)
    h["social"] = np.select(
        [elderly_alone & (category == 0) & (r < 0.22),
         (r < np.where(category == 0, 0.08, np.where(category == 1, 0.05, 0.006)) + 0.08 * severe)],
        [2, 1], 0,
    ).astype(np.int8)
    for key in ("monitored", "ever_monitored", "secured"):
        h[key] = np.zeros(H, bool)
    for key in ("pending", "eligible_since", "entry_week", "rebuild_week", "last_hosp",
                "last_major", "last_disability", "last_disaster", "last_accident",
                "last_jobloss", "last_business_fail", "last_dropout", "last_death", "last_assist",
                "water_fix_week", "checked_until"):
        h[key] = np.full(H, S.NEVER, np.int64)
    h["trigger"] = np.zeros(H, np.int8)
    h["stable_weeks"] = np.zeros(H, np.int16)
    h["med_aid"] = np.zeros(H, bool)
    h["school_aid"] = np.zeros(H, bool)
    h["shock_amount"] = np.zeros(H, np.float64)
    for key in ("inc_ema", "spend_ema", "ytd_wage", "ytd_business", "ytd_property",
                "ytd_transfer", "ytd_costs", "ytd_medical", "ytd_school", "farm_shock",
                "business_loss"):
        h[key] = np.zeros(H, np.float64)
    h["weeks_in_year"] = np.zeros(H, np.int16)

    h["used"] = np.ones(H, bool)
    pad = int(H * spare_households)
    if pad:
        never = {k for k, a in h.items() if a.dtype == np.int64 and (a == S.NEVER).all()}
        for k, a in h.items():
            fill = np.full(pad, S.NEVER if k in never else 0, dtype=a.dtype)
            h[k] = np.concatenate([a, fill])
        h["used"][H:] = False

    v = {
        "township": lay["village_township"].astype(np.int64), "industry": lay["industry"].copy(),
        "industry_quality": lay["industry_quality"], "flood_risk": lay["flood_risk"],
        "drought_risk": lay["drought_risk"], "remoteness": lay["remoteness"],
        **{k: places[k] for k in ("network", "network_loss", "land_yield", "township_flood", "outreach")},
    }
    county = S.County(h, m, v, len(lay["township_names"]), lay["township_names"],
                      lay["village_names"], {"minority_township": lay["minority_township"]})
    return county
