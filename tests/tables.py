"""Small hand-written registry tables for unit tests (typed as the contract says)."""

from __future__ import annotations

import pandas as pd

from features.contract import TABLES

NA = pd.NaT


def _typed(name: str, rows: list[dict]) -> pd.DataFrame:
    schema = TABLES[name]
    frame = pd.DataFrame(rows, columns=list(schema.columns))
    for col, spec in schema.columns.items():
        kind = spec.metadata["kind"]
        if kind == "date":
            frame[col] = pd.to_datetime(frame[col])
        elif kind == "int":
            frame[col] = frame[col].astype("Int64")
        elif kind == "float":
            frame[col] = frame[col].astype("float64")
        elif kind == "bool":
            frame[col] = frame[col].astype("boolean")
        else:
            frame[col] = frame[col].astype(object)
    return schema.validate(frame)


def household(hid: str, **overrides) -> dict:
    row = dict(
        household_id=hid, township="古邵镇", village="古邵村", category="exited", exit_year=2018,
        policy_status="continuing", relocated=False, critical_living_alone_elderly=False,
        critical_disabled=False, critical_major_illness=False, critical_housing_rebuilt=False,
        social_assistance="none", land_mu=4.0, housing_grade="A", safe_water=True,
        micro_credit=False, industry_project=True, public_welfare_job=False,
        head_name="张三", head_id_number="370481195501011234", phone="13800000000",
        valid_from="2019-01-01", valid_to=None,
    )
    row.update(overrides)
    return row


def member(hid: str, mid: str, birth: str, **overrides) -> dict:
    row = dict(
        household_id=hid, member_id=mid, relation="head", sex="male", birth_date=birth,
        ethnicity="han", education="junior", schooling_status="not_in_school", health="healthy",
        disability_type="none", disability_grade=None, labour_skill="ordinary", migrant_months=0,
        migrant_place="none", medical_insurance=True, pension_insurance=True, name="张三",
        id_number="370481195501011234", valid_from="2019-01-01", valid_to=None,
    )
    row.update(overrides)
    return row


def survey(hid: str, year: int, **overrides) -> dict:
    row = dict(
        household_id=hid, survey_year=year, survey_date=f"{year + 1}-01-15", wage_income=20000.0,
        business_income=5000.0, property_income=0.0, transfer_income=2000.0, business_costs=1000.0,
        medical_out_of_pocket=500.0, schooling_spending=0.0,
    )
    row.update(overrides)
    return row


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Two households: a steady one, and one hit by illness in 2024."""
    households = [
        household("H1"),
        household("H2", village="西岗村", category="marginal", exit_year=None, policy_status="not_applicable"),
        # H2 falls onto the minimum allowance in mid-2024: a new version of the row.
        household("H2", village="西岗村", category="marginal", exit_year=None, policy_status="not_applicable",
                  social_assistance="dibao", valid_from="2024-07-01"),
    ]
    households[1]["valid_to"] = "2024-07-01"
    members = [
        member("H1", "M1", "1970-05-01"),
        member("H1", "M2", "1972-03-01", relation="spouse", sex="female", name="李四", id_number="370481197203011220"),
        member("H1", "M3", "2008-09-01", relation="child", schooling_status="senior_high", labour_skill="none", name="张五", id_number="370481200809011210"),
        member("H2", "M4", "1950-01-01", migrant_place="none", labour_skill="weak", name="王六", id_number="370481195001011230",
               valid_to="2024-03-01"),
        member("H2", "M4", "1950-01-01", health="major", labour_skill="lost", name="王六", id_number="370481195001011230",
               valid_from="2024-03-01"),
    ]
    surveys = [survey("H1", 2022), survey("H1", 2023), survey("H2", 2022, wage_income=3000.0, business_income=2000.0),
               survey("H2", 2023, wage_income=0.0, business_income=1500.0, medical_out_of_pocket=9000.0)]
    events = [
        dict(event_id="E1", household_id="H2", member_id="M4", event_date="2024-02-20", event_type="major_illness_diagnosis", amount=None, source="医保局"),
        dict(event_id="E2", household_id="H2", member_id="M4", event_date="2024-03-05", event_type="hospitalisation", amount=30000.0, source="医保局"),
        dict(event_id="E3", household_id="H1", member_id=None, event_date="2023-06-01", event_type="disaster_damage", amount=2000.0, source="应急管理局"),
    ]
    outcomes = [
        dict(household_id="H2", entry_date="2024-04-10", monitoring_category="sudden_hardship", risk_type_1="illness",
             risk_type_2=None, risk_type_3=None, risk_type_4=None, risk_type_5=None, elimination_date="2025-06-01"),
    ]
    return {
        "households": _typed("households", households),
        "members": _typed("members", members),
        "income_surveys": _typed("income_surveys", surveys),
        "events": _typed("events", events),
        "outcomes": _typed("outcomes", outcomes),
    }
