"""A small random county for explanation tests: contract tables -> household frame -> labels
drawn from a known risk function (so a test knows which way each driver should push).

Registry tables go through ``build_household_frame`` exactly as real exports do; only the
outcome is drawn here, from a logistic function of the frame whose directions are documented:
risk rises with illness, medical spending, lost work, dangerous housing and disaster losses, and
falls with income above the line and with able workers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.household_frame import build_household_frame
from features.policy import load_policy
from tests.tables import _typed, household, member, survey

CUTOFF = pd.Timestamp("2025-06-29")
TOWNSHIPS = ("古邵镇", "西集镇", "山亭镇")


def random_tables(n: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Contract tables for ``n`` households with varied health, work, income and shocks."""
    rng = np.random.default_rng(seed)
    hhs, mems, surveys, events, outcomes = [], [], [], [], []
    eid = 0
    for i in range(n):
        hid = f"H{i:05d}"
        town = TOWNSHIPS[i % len(TOWNSHIPS)]
        category = rng.choice(["exited", "marginal", "general"], p=[0.6, 0.25, 0.15])
        hhs.append(
            household(
                hid, township=town, village=f"{town[:2]}{i % 7}村", category=category,
                exit_year=int(rng.integers(2014, 2021)) if category == "exited" else None,
                policy_status=("continuing" if rng.random() < 0.7 else "ended") if category == "exited" else "not_applicable",
                social_assistance=rng.choice(["none", "dibao", "tekun"], p=[0.8, 0.15, 0.05]),
                housing_grade=rng.choice(["A", "B", "C", "D"], p=[0.55, 0.3, 0.1, 0.05]),
                safe_water=bool(rng.random() > 0.05), land_mu=float(rng.integers(0, 12)),
                micro_credit=bool(rng.random() < 0.2), industry_project=bool(rng.random() < 0.4),
                public_welfare_job=bool(rng.random() < 0.1),
            )
        )
        if rng.random() < 0.1:  # monitored once and cleared: ever_monitored without an open record
            outcomes.append(
                dict(household_id=hid, entry_date="2022-05-10", monitoring_category="unstable_exited",
                     risk_type_1="illness", risk_type_2=None, risk_type_3=None, risk_type_4=None,
                     risk_type_5=None, elimination_date="2023-06-01")
            )
        size = int(rng.integers(1, 7))
        n_workers = 0
        for j in range(size):
            if j == 0:
                birth_year, relation = int(rng.integers(1940, 1990)), "head"
            elif j == 1:
                birth_year, relation = int(rng.integers(1940, 1992)), "spouse"
            else:
                birth_year, relation = int(rng.integers(1995, 2022)), "child"
            age = 2025 - birth_year
            health = rng.choice(["healthy", "chronic", "major"], p=[0.75, 0.18, 0.07] if age > 40 else [0.93, 0.05, 0.02])
            disabled = rng.random() < 0.06
            if 16 <= age < 60:
                skill = rng.choice(["ordinary", "skilled", "weak", "lost"], p=[0.55, 0.2, 0.15, 0.1])
            else:
                skill = "none" if age < 16 else rng.choice(["weak", "lost", "none"])
            migrant = int(rng.integers(3, 13)) if skill in ("ordinary", "skilled") and rng.random() < 0.5 else 0
            n_workers += migrant > 0
            school = "not_in_school"
            if 6 <= age < 16:
                school = "compulsory" if rng.random() > 0.02 else "dropout"
            elif 16 <= age < 22 and rng.random() < 0.5:
                school = rng.choice(["senior_high", "vocational", "higher"])
            mems.append(
                member(
                    hid, f"{hid}M{j}", f"{birth_year}-0{int(rng.integers(1, 10))}-15", relation=relation,
                    sex="male" if rng.random() < 0.5 else "female", health=health,
                    disability_type="physical" if disabled else "none",
                    disability_grade=int(rng.integers(1, 5)) if disabled else None,
                    labour_skill=skill, migrant_months=migrant,
                    migrant_place=rng.choice(["in_county", "in_province", "out_province"]) if migrant else "none",
                    schooling_status=school, medical_insurance=bool(rng.random() > 0.03),
                )
            )
        base_wage = 9000.0 * n_workers * rng.lognormal(0, 0.4)
        for year in (2023, 2024):
            shock = rng.lognormal(0, 0.3) if year == 2024 else 1.0
            surveys.append(
                survey(
                    hid, year, wage_income=round(base_wage * shock, -1),
                    business_income=round(float(rng.gamma(2, 2500)), -1),
                    transfer_income=round(float(rng.gamma(2, 1000)), -1),
                    business_costs=round(float(rng.gamma(2, 400)), -1),
                    medical_out_of_pocket=round(float(rng.gamma(0.6, 4000)), -1),
                    schooling_spending=round(float(rng.gamma(0.5, 3000)), -1),
                )
            )
        for kind, p, amount in (
            ("hospitalisation", 0.15, lambda: round(float(rng.gamma(2, 8000)), -1)),
            ("job_loss", 0.1, lambda: None),
            ("disaster_damage", 0.08, lambda: round(float(rng.gamma(2, 4000)), -1)),
            ("major_illness_diagnosis", 0.03, lambda: None),
            ("accident", 0.03, lambda: round(float(rng.gamma(2, 5000)), -1)),
        ):
            for _ in range(int(rng.poisson(p * 2))):
                eid += 1
                day = CUTOFF - pd.Timedelta(days=int(rng.integers(0, 360)))
                events.append(
                    dict(event_id=f"E{eid}", household_id=hid, member_id=None, event_date=day.date().isoformat(),
                         event_type=kind, amount=amount(), source="test")
                )
    return {
        "households": _typed("households", hhs),
        "members": _typed("members", mems),
        "income_surveys": _typed("income_surveys", surveys),
        "events": _typed("events", events),
        "outcomes": _typed("outcomes", outcomes),
    }


def true_logit(frame: pd.DataFrame) -> np.ndarray:
    """The known risk function the labels are drawn from (directions documented above)."""
    f = frame
    return (
        -2.4
        - 1.3 * np.log(f["income_to_line"].fillna(1).clip(0.2, 5))
        + 0.9 * f["n_major_illness"]
        + 0.45 * f["n_chronic"]
        + 0.5 * np.log1p(f["medical_oop"].fillna(0) / 1000)
        + 0.35 * np.log1p(f["hospital_cost_52w"] / 5000)
        + 0.6 * f["job_loss_52w"].clip(upper=2)
        + 0.8 * (f["housing_grade_rank"] >= 2)
        + 0.4 * np.log1p(f["disaster_loss_52w"] / 5000)
        - 0.35 * f["able_labour"].clip(upper=3)
    ).to_numpy()


def county(n: int = 1500, seed: int = 0) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, np.ndarray]:
    """(tables, frame at CUTOFF, labels) for a random county."""
    tables = random_tables(n, seed)
    frame = build_household_frame(tables, CUTOFF, load_policy())
    rng = np.random.default_rng(seed + 1)
    y = (rng.random(len(frame)) < 1 / (1 + np.exp(-true_logit(frame)))).astype(int)
    return tables, frame, y
