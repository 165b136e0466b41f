"""Every household-frame column against a value worked out by hand.

Three hand-built households (tables typed by the contract, nothing simulated), the frame at one
cutoff, and for each of the frame's columns (``features.frame_schema.columns()``) the value a
person computes from the registry rows below. A column added to the frame without a value here
fails ``test_every_frame_column_has_a_hand_worked_value``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from features.frame_schema import columns
from features.household_frame import build_household_frame
from features.policy import load_policy
from tests.tables import _typed, household, member, survey

CUTOFF = pd.Timestamp("2024-06-30")  # a Sunday; 13 weeks back = 2024-03-31, 52 weeks = 2023-07-02
HEAD_AGE = (CUTOFF - pd.Timestamp("1950-01-01")).days / 365.25


def _event(eid: str, day: str, kind: str, amount: float | None = None, hid: str = "H1") -> dict:
    return dict(event_id=eid, household_id=hid, member_id=None, event_date=day, event_type=kind, amount=amount,
                source="民政局")


def _tables() -> dict[str, pd.DataFrame]:
    """H1: a large household with every kind of hardship; H2: a neighbour under monitoring; H3: a
    household of a township where most people are Miao."""
    h1 = dict(category="exited", exit_year=2018, policy_status="continuing", relocated=True, critical_disabled=True,
              land_mu=6.0, housing_grade="C", safe_water=False, micro_credit=True, industry_project=False,
              public_welfare_job=True)
    households = [
        household("H1", **h1, valid_to="2024-01-01"),
        # fell onto the minimum allowance in January 2024: a new version of the row
        household("H1", **h1, social_assistance="dibao", valid_from="2024-01-01"),
        household("H2", category="marginal", exit_year=None, policy_status="not_applicable"),
        household("H3", township="民族乡", village="苗寨村", critical_living_alone_elderly=True,
                  critical_major_illness=True, critical_housing_rebuilt=True, social_assistance="tekun"),
    ]
    members = [
        member("H1", "M1", "1950-01-01", ethnicity="miao", health="chronic", labour_skill="weak"),  # head, 74
        member("H1", "M2", "1940-03-01", relation="spouse", sex="female", health="major", disability_type="physical",
               disability_grade=2, labour_skill="lost", medical_insurance=False),  # 84, severely disabled
        member("H1", "M3", "1990-05-01", relation="child", migrant_months=8, migrant_place="out_province"),
        member("H1", "M4", "1992-01-01", relation="child_in_law", labour_skill="skilled", migrant_months=3,
               migrant_place="in_province", disability_type="hearing", disability_grade=4),
        member("H1", "M5", "2020-01-01", relation="grandchild", education="preschool", schooling_status="preschool",
               labour_skill="none"),  # 4
        member("H1", "M6", "2012-01-01", relation="grandchild", education="primary", schooling_status="compulsory",
               labour_skill="none"),  # 12
        member("H1", "M7", "2010-01-01", relation="grandchild", schooling_status="dropout", labour_skill="none"),  # 14
        member("H1", "M8", "2006-01-01", relation="grandchild", schooling_status="senior_high",
               labour_skill="none"),  # 18: working age, still at school
        member("H2", "M9", "1980-01-01"),
        member("H3", "M10", "1940-01-01", ethnicity="miao", labour_skill="weak"),
    ]
    surveys = [
        # 2022: gross 30000 + 10000 + 1000 + 5000 = 46000, net 44000
        survey("H1", 2022, wage_income=30000.0, business_income=10000.0, property_income=1000.0,
               transfer_income=5000.0, business_costs=2000.0),
        # 2023 (surveyed 2024-01-15): gross 20000 + 4000 + 1000 + 15000 = 40000, net 36000
        survey("H1", 2023, wage_income=20000.0, business_income=4000.0, property_income=1000.0,
               transfer_income=15000.0, business_costs=4000.0, medical_out_of_pocket=6000.0, schooling_spending=2000.0),
        # surveyed after the cutoff: unknown at it
        survey("H1", 2024, survey_date="2024-07-15", wage_income=0.0),
        survey("H2", 2023), survey("H3", 2023),
    ]
    events = [
        _event("E1", "2024-05-01", "hospitalisation", 20000.0),
        _event("E2", "2023-10-01", "hospitalisation", 8000.0),
        _event("E3", "2023-05-01", "hospitalisation", 50000.0),  # more than 52 weeks back
        _event("E4", "2024-04-15", "major_illness_diagnosis"),
        _event("E5", "2023-09-01", "chronic_diagnosis"),
        _event("E6", "2023-12-01", "disability_certified"),
        _event("E7", "2024-06-05", "disaster_damage", 3000.0),
        _event("E8", "2023-08-01", "disaster_damage", 5000.0),
        _event("E9", "2024-05-20", "accident", 1500.0),
        _event("E10", "2024-06-10", "job_loss"),
        _event("E11", "2023-11-01", "job_loss"),
        _event("E12", "2024-02-01", "job_start"),
        _event("E13", "2024-01-10", "business_failure"),
        _event("E14", "2024-03-01", "death"),
        _event("E15", "2023-08-15", "birth"),
        _event("E16", "2024-03-10", "school_dropout"),
        _event("E17", "2024-02-20", "housing_downgrade"),
        _event("E18", "2024-04-01", "assistance_granted"),
        _event("E19", "2024-06-20", "assistance_granted"),
        _event("E20", "2024-07-05", "hospitalisation", 90000.0),  # after the cutoff
    ]
    outcomes = [
        dict(household_id="H1", entry_date="2022-03-01", monitoring_category="unstable_exited", risk_type_1="illness",
             risk_type_2=None, risk_type_3=None, risk_type_4=None, risk_type_5=None, elimination_date="2023-03-01"),
        dict(household_id="H2", entry_date="2024-02-01", monitoring_category="marginal", risk_type_1="disaster",
             risk_type_2=None, risk_type_3=None, risk_type_4=None, risk_type_5=None, elimination_date=None),
    ]
    return {"households": _typed("households", households), "members": _typed("members", members),
            "income_surveys": _typed("income_surveys", surveys), "events": _typed("events", events),
            "outcomes": _typed("outcomes", outcomes)}


# H1's row at the cutoff, every column worked out by hand from the rows above.
H1 = {
    # context
    "household_id": "H1", "township": "古邵镇", "village": "古邵村", "cutoff": CUTOFF, "category": "exited",
    "policy_status": "continuing", "social_assistance": "dibao", "housing_grade": "C", "exit_year": 2018,
    "minority_township": False,  # 1 Miao of 9 members in 古邵镇
    "critical_living_alone_elderly": False, "critical_disabled": True, "critical_major_illness": False,
    "critical_housing_rebuilt": False,
    "monitoring_line": 7500.0, "dibao_line": 5800.0,  # policy.yaml, 2024
    "under_monitoring": False,  # eliminated 2023-03-01
    # income: the 2023 survey, compared with 2022
    "pc_net_income": 36000 / 8, "income_to_line": 36000 / 8 / 7500, "net_income": 36000.0,
    "income_change": 36000 / 44000 - 1, "wage_share": 20000 / 40000, "business_share": 4000 / 40000,
    "transfer_share": 15000 / 40000, "property_share": 1000 / 40000, "medical_oop": 6000.0,
    "schooling_spending": 2000.0, "spending_to_income": (6000 + 2000) / 36000,
    "survey_age_weeks": 167 / 7,  # 2024-01-15 to 2024-06-30
    # members
    "household_size": 8, "n_children_0_5": 1, "n_children_6_15": 2, "n_working_age": 3, "n_elderly_60": 2,
    "n_elderly_80": 1, "elderly_only": False, "dependency_ratio": (1 + 2 + 2) / 3, "head_age": HEAD_AGE,
    "able_labour": 2,  # M3 and M4 (grade-4 hearing: not severe); M8 has no labour skill
    "weak_labour": 1, "labour_share": 2 / 8, "n_chronic": 1, "n_major_illness": 1, "n_disabled": 2,
    "n_severe_disabled": 1, "n_compulsory_students": 1, "n_noncompulsory_students": 1, "n_dropouts": 1,
    "n_migrant_workers": 2, "migrant_months": 11, "n_out_province": 1, "n_uninsured": 1,
    # household
    "land_per_capita": 6 / 8, "housing_grade_rank": 2.0, "safe_water": False, "relocated": True,
    "micro_credit": True, "industry_project": False, "public_welfare_job": True,
    "n_critical_kinds": 3,  # critical_disabled + relocated + 低保
    "new_dibao": True, "years_since_exit": 6.0, "ever_monitored": True,
    # events (13 weeks: after 2024-03-31; 52 weeks: after 2023-07-02; 4 weeks: after 2024-06-02)
    "hospitalisations_13w": 1, "hospitalisations_52w": 2, "hospital_cost_52w": 28000.0,
    "illness_diagnoses_52w": 2, "major_diagnosis_13w": 1, "disability_certified_52w": 1,
    "disaster_events_13w": 1, "disaster_loss_13w": 3000.0, "disaster_loss_52w": 8000.0, "accidents_52w": 1,
    "accident_loss_13w": 1500.0, "job_loss_13w": 1, "job_loss_52w": 2, "job_start_52w": 1,
    "business_failure_52w": 1, "deaths_52w": 1, "births_52w": 1, "dropout_events_52w": 1,
    "housing_downgrade_52w": 1, "assistance_52w": 2,
    "events_4w": 3,  # disaster 06-05, job loss 06-10, assistance 06-20
    # village context: H1 and H2 share 古邵村; only H1 was hit, only H2 is monitored
    "village_disaster_share_13w": 0.5, "village_monitored_share": 0.5,
}

# The columns where another household shows what H1 cannot (the other side of a flag).
OTHERS = {
    "H2": {"category": "marginal", "exit_year": pd.NA, "years_since_exit": None, "under_monitoring": True,
           "ever_monitored": True, "new_dibao": False, "elderly_only": False, "income_change": None,
           "hospitalisations_52w": 0, "events_4w": 0, "village_monitored_share": 0.5},
    "H3": {"minority_township": True, "critical_living_alone_elderly": True, "critical_major_illness": True,
           "critical_housing_rebuilt": True, "elderly_only": True, "n_critical_kinds": 4, "head_age": 84.5,
           "dependency_ratio": 1.0, "ever_monitored": False, "village_disaster_share_13w": 0.0},
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return build_household_frame(_tables(), CUTOFF, load_policy()).set_index("household_id", drop=False)


def test_every_frame_column_has_a_hand_worked_value():
    assert set(H1) == set(columns()), sorted(set(columns()) ^ set(H1))


@pytest.mark.parametrize("column", columns())
def test_frame_column_value(frame, column):
    got, want = frame.loc["H1", column], H1[column]
    if isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-9), column
    else:
        assert got == want, column


@pytest.mark.parametrize("hid,column", [(h, c) for h, cols in OTHERS.items() for c in cols])
def test_other_households(frame, hid, column):
    got, want = frame.loc[hid, column], OTHERS[hid][column]
    if want is None:
        assert pd.isna(got), column
    elif want is pd.NA:
        assert got is pd.NA, column
    elif isinstance(want, float):
        assert got == pytest.approx(want, abs=0.01 if column == "head_age" else 1e-9), column
    else:
        assert got == want, column


def test_frame_has_only_households_with_members_and_nothing_after_the_cutoff(frame):
    assert list(frame.index) == ["H1", "H2", "H3"]
    # the survey and the hospital stay dated after the cutoff are not in H1's row
    assert frame.loc["H1", "net_income"] == 36000 and frame.loc["H1", "hospital_cost_52w"] == 28000
