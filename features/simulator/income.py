"""Money: what each household earns and must spend every week, and the yearly income survey.

Income components follow the registry's survey (wage, business, property, transfer, business
costs); necessary spending is compliant out-of-pocket medical and schooling spending. Each
household also carries a *running* annual net income (an exponentially weighted sum of recent
weeks) that the official income criterion is checked against between surveys.
"""

from __future__ import annotations

import numpy as np

from features.simulator import state as S
from features.simulator.calendar import Week
from features.simulator.dynamics import household_sum
from features.simulator.parameters import Parameters

INCOME_WEIGHT = 1 / 52  # the running income: roughly the last 12 months (the rules weigh the 12 months before)
SPENDING_DECAY = 1 / 52
SCHOOL_COST = np.array([0, 1200, 300, 3500, 1800, 11000, 0], dtype=np.float64)  # per year


def week_money(c: S.County, week: Week, age: np.ndarray, p: Parameters) -> dict[str, np.ndarray]:
    """Each household's income components and necessary spending (schooling) of one week."""
    m, h = c.m, c.h
    alive = m["alive"]
    y = week.year - 2019
    growth = (1 + p.wage_growth) ** y
    place_wage = np.r_[0.0, p.migrant_wage_month]
    # wages are paid over the year: 11 months of work, the Spring Festival month at home
    away = m["migrant"] & alive
    mig_wage = np.where(away, place_wage[m["place"]] * m["ability"] * np.where(m["skilled"], 1.25, 1.0), 0)
    local = alive & ~m["migrant"] & (age >= 16) & (age < 72) & S.among(m["skill"], (0, 1, 2)) & ~m["pwj"]
    avail = np.clip(0.35 + 0.12 * m["ethic"], 0.05, 0.8) * np.where(m["skill"] == 2, 0.45, 1.0)
    remote = 1 - 0.35 * c.v["remoteness"][h["village"]][m["hh"]]
    local_wage = np.where(local, p.local_wage_week * avail * m["ability"] * remote, 0)
    pwj_wage = np.where(m["pwj"] & alive, p.public_job_month * 12 / 52, 0)
    wage = household_sum(c, mig_wage * 11 / 52 * growth + local_wage * growth + pwj_wage)

    farmers = household_sum(c, (age >= 16) & (age < 76) & S.among(m["skill"], (0, 1, 2)))
    farming = farmers > 0
    price = 1.03 ** y
    land_yield = c.v["land_yield"][h["village"]]
    gross_farm = np.where(farming, h["land"] * land_yield * p.farm_net_per_mu / (1 - p.farm_cost_share) * price, 0)
    gross_ent = h["enterprise"] * price
    business = (gross_farm * (1 - h["farm_shock"]) + gross_ent * (1 - h["business_loss"])) / 52
    costs = (gross_farm * p.farm_cost_share + gross_ent * 0.55) / 52
    prop = (np.where(farming, 0, h["land"] * 320.0) + h["industry"] * p.dividend_year) / 52

    old = household_sum(c, age >= 60)
    severe = household_sum(c, S.among(m["dis_grade"], (1, 2)))
    dibao_scale = p.dibao_line(week.year) / 4400
    transfer = (
        old * (p.pension_month + p.pension_growth * y) * 12
        + (h["social"] == 1) * h["size"] * p.dibao_month * 12 * dibao_scale
        + (h["social"] == 2) * p.tekun_month * 12 * dibao_scale
        + h["land"] * p.subsidy_per_mu
        + (h["policy"] == 0) * p.continuing_support_year
        + severe * 960.0
        + household_sum(c, m["support"]) * 1.08 ** y
    ) / 52
    school = household_sum(c, SCHOOL_COST[m["school"]]) / 52
    aid = np.minimum(household_sum(c, S.among(m["school"], (3, 4, 5))) * 3000 / 52, school)
    school = school - np.where(h["school_aid"], aid, 0)
    return {"wage": wage, "business": business, "property": prop, "transfer": transfer,
            "costs": costs, "school": school}


def accrue(c: S.County, money: dict[str, np.ndarray], medical: np.ndarray) -> None:
    """Add the week's money to the year-to-date totals and the running annual figures."""
    h = c.h
    for k in ("wage", "business", "property", "transfer", "costs"):
        h[f"ytd_{k}"] += money[k]
    h["ytd_medical"] += medical
    h["ytd_school"] += money["school"]
    h["weeks_in_year"] += 1
    net = money["wage"] + money["business"] + money["property"] + money["transfer"] - money["costs"]
    h["inc_ema"] = h["inc_ema"] * (1 - INCOME_WEIGHT) + INCOME_WEIGHT * 52 * net
    h["spend_ema"] = h["spend_ema"] * (1 - SPENDING_DECAY) + medical + money["school"]
    h["shock_amount"] *= 0.97  # a large loss weighs for a few months


def initialise(c: S.County, week: Week, age: np.ndarray, p: Parameters) -> None:
    """Start the running figures at each household's expected level (no empty first year)."""
    money = week_money(c, week, age, p)
    m, h = c.m, c.h
    net = money["wage"] + money["business"] + money["property"] + money["transfer"] - money["costs"]
    h["inc_ema"] = 52 * net * 0.95
    rate = np.asarray(p.hospital_rate)[m["health"]] * np.asarray(p.hospital_cost)[m["health"]]
    h["spend_ema"] = household_sum(c, rate * p.oop_insured) + 52 * money["school"]


def survey(c: S.County, week: Week, rec) -> None:
    """The yearly income survey of households whose survey falls in this week: the year so far,
    projected to the full year (medical spending as paid so far)."""
    h = c.h
    idx = np.flatnonzero((h["survey_week"] == week.iso_week) & (h["size"] > 0) & (h["weeks_in_year"] > 20))
    if len(idx) == 0:
        return
    f = 52.0 / h["weeks_in_year"][idx]
    rec.survey(idx, week.year, {
        "wage_income": h["ytd_wage"][idx] * f,
        "business_income": h["ytd_business"][idx] * f,
        "property_income": h["ytd_property"][idx] * f,
        "transfer_income": h["ytd_transfer"][idx] * f,
        "business_costs": h["ytd_costs"][idx] * f,
        "medical_out_of_pocket": h["ytd_medical"][idx],
        "schooling_spending": h["ytd_school"][idx] * f,
    })
