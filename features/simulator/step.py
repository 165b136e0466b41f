"""The weekly step: everything that happens to the county in one week, in order."""

from __future__ import annotations

import numpy as np

from features.simulator import dynamics as D
from features.simulator import formation, income, monitoring
from features.simulator import state as S
from features.simulator.calendar import Week
from features.simulator.parameters import Parameters


def advance(c: S.County, week: Week, rng: np.random.Generator, p: Parameters, rec=None) -> np.ndarray:
    """Simulate one week in place; returns the indices of households entering monitoring."""
    if rec is not None:
        rec.begin_week(week)
    if week.year_start:
        D.year_start(c, week, rng, p)
    age = D.ages(c, week)
    oop = D.health(c, week, age, rng, p, rec)
    oop += D.disability_and_accidents(c, week, age, rng, p, rec)
    c.h["shock_amount"] += oop
    D.deaths(c, week, age, rng, p, rec)
    D.births(c, week, age, rng, p, rec)
    formation.form(c, week, age, rng, p, rec)
    if week.school_start:
        D.schooling(c, week, age, rng, p, rec)
    age = D.ages(c, week)
    D.derive(c, age)
    D.migrant_work(c, week, age, rng, p, rec)
    D.disasters(c, week, rng, p, rec)
    D.industry(c, week, rng, p, rec)
    income.accrue(c, income.week_money(c, week, age, p), oop)
    if rec is not None:
        income.survey(c, week, rec)
    entered = monitoring.step(c, week, age, rng, p, rec)
    D.derive_jobs(c)
    if rec is not None:
        rec.end_week(c)
    return entered


def prepare(c: S.County, week: Week, rng: np.random.Generator, p: Parameters) -> None:
    """Bring a freshly drawn county to a consistent first state: derived fields, migrant work
    already under way, running income at its expected level."""
    age = D.ages(c, week)
    D.derive(c, age)
    m = c.m
    able = m["alive"] & (age >= 16) & (age < 58) & S.among(m["skill"], (0, 1))
    share = np.clip(0.62 + 0.15 * m["ethic"], 0.05, 0.95) * np.where(age > 45, 0.6, 1.0)
    mig = able & (rng.random(len(age)) < share) & ~((m["sex"] == 1) & (rng.random(len(age)) < 0.3))
    m["migrant"] = mig
    m["place"] = np.where(mig, rng.choice([1, 2, 3], len(age), p=[0.22, 0.33, 0.45]), 0).astype(np.int8)
    months = np.where(mig, rng.integers(6, 13, len(age)), np.where(able & (rng.random(len(age)) < 0.15), rng.integers(1, 6, len(age)), 0))
    m["mig_months_rep"] = months.astype(np.int8)
    m["place_rep"] = np.where(months > 0, np.where(mig, m["place"], rng.choice([1, 2, 3], len(age))), 0).astype(np.int8)
    # some exited households already hold a public-welfare job
    h = c.h
    cand = np.flatnonzero(m["alive"] & (age >= 30) & (age < 65) & ~mig & S.among(m["skill"], (0, 1, 2))
                          & (h["category"][m["hh"]] == 0))
    if len(cand):
        _, first = np.unique(m["hh"][cand], return_index=True)
        pick = cand[first]
        m["pwj"][pick[rng.random(len(pick)) < 0.1]] = True
    D.derive(c, age)
    income.initialise(c, week, age, p)
    # the campaign years left few households under the line without 低保 (seeds 004: everyone
    # expected under 4400 is put on 低保); a few slipped through
    pc = h["inc_ema"] / np.maximum(h["size"], 1)
    covered = (h["social"] == 0) & (pc < p.dibao_line(week.year)) & (rng.random(c.n_households) < 0.5)
    h["social"][covered] = 1
    income.initialise(c, week, age, p)
