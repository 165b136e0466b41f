"""A one-week registry export of a freshly drawn county, fast enough for a million households.

No history is simulated: the county is drawn as it stands at the week, one weekly step is run so
the week has its events, and each household's latest income survey is its expected income of the
previous year with survey noise. Used by the benchmarks and by the new-township scenario.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from features.simulator import income
from features.simulator.calendar import day_number, to_datetime64, weeks_between
from features.simulator.dynamics import ages
from features.simulator.history import SURVEY_FIELDS, Recorder
from features.simulator.parameters import Parameters
from features.simulator.population import build_county
from features.simulator.step import advance, prepare
from features.simulator.views import week_view
from features.weeks import week_monday


def _already_monitored(c, week, age, rng, p: Parameters, rec) -> None:
    """Households meeting a criterion at the snapshot are under monitoring, entered during the
    past two years (the snapshot has no history to have entered them)."""
    from features.simulator import monitoring

    trig, _ = monitoring.criteria(c, week, age, p)
    idx = np.flatnonzero((trig > 0) & (rng.random(c.n_households) < 0.8))
    c.h["monitored"][idx] = True
    c.h["ever_monitored"][idx] = True
    cat = np.where(trig[idx] == monitoring.TRIGGER_SUDDEN, 2, np.where(c.h["category"][idx] == 0, 0, 1))
    back = rng.integers(7, 730, len(idx))
    rec.entries.append((idx, week.monday - back, cat.astype(np.int8),
                        monitoring.risk_types(c, week, age, idx)))


def parse_week(week: str) -> date:
    """'2025-W40' -> the Monday of that ISO week."""
    return week_monday(week)


def snapshot_county(n_households: int, rng: np.random.Generator, monday: date,
                    township_names: list[str] | None = None, minority: bool = True,
                    township_offset: int = 0, p: Parameters | None = None) -> dict[str, pd.DataFrame]:
    """Contract tables (English codes) of a county drawn at ``monday`` plus one simulated week."""
    from features.simulator.county import household_ids

    p = p or Parameters()
    weeks = weeks_between(monday, monday + timedelta(days=6))
    week = weeks[0]
    start = day_number(monday)
    c = build_county(n_households, start, rng, township_names=township_names, minority=minority)
    prepare(c, week, rng, p)
    ids = household_ids(c)
    if township_offset:
        ids = np.array([i[:6] + f"{int(i[6:9]) + township_offset:03d}" + i[9:] for i in ids], dtype=object)
    age = ages(c, week)
    money = income.week_money(c, week, age, p)
    h = c.h
    rec = Recorder(c, start, rng)
    _already_monitored(c, week, age, rng, p, rec)
    advance(c, week, rng, p, rec)
    tables = week_view(rec.tables(c, ids), pd.Timestamp(monday))
    # latest survey: last year's expected income with survey noise
    H = c.n_households
    noise = lambda: rng.lognormal(-0.02, 0.2, H)  # noqa: E731
    rate = np.asarray(p.hospital_rate)[c.m["health"]] * np.asarray(p.hospital_cost)[c.m["health"]]
    from features.simulator.dynamics import household_sum

    medical = household_sum(c, rate * p.oop_insured) * rng.lognormal(-0.5, 1.0, H)
    values = {
        "wage_income": 52 * money["wage"] * noise(), "business_income": 52 * money["business"] * noise(),
        "property_income": 52 * money["property"] * noise(), "transfer_income": 52 * money["transfer"] * noise(),
        "business_costs": 52 * money["costs"] * noise(), "medical_out_of_pocket": medical,
        "schooling_spending": 52 * money["school"],
    }
    survey_day = day_number(date(monday.year - 1, 12, 1)) + rng.integers(0, 28, H)
    alive = h["size"] > 0
    tables["income_surveys"] = pd.DataFrame({
        "household_id": ids[alive],
        "survey_year": pd.array(np.full(alive.sum(), monday.year - 1), dtype="Int64"),
        "survey_date": to_datetime64(survey_day[alive]),
        **{k: np.round(values[k][alive], 0) for k in SURVEY_FIELDS},
    })
    return tables


def simulate_snapshot(n_households: int, seed: int, week: str = "2025-W40") -> dict[str, pd.DataFrame]:
    """One week's export tables (English codes) for a county of ``n_households``.

    Args:
        n_households: households (up to ~1,000,000 within a minute).
        seed: random seed.
        week: ISO week label, e.g. '2025-W40'.
    """
    from features.simulator.county import streams

    return snapshot_county(n_households, streams(seed)["snapshot"], parse_week(week))
