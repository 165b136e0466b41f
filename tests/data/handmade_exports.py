"""Small export folders written by hand from Python dicts (no simulator involved).

Every row here is valid; tests break specific cells and check that exactly those rows are
quarantined.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features import contract


def household(i: int, **changes: object) -> dict[str, object]:
    row = {
        "household_id": f"H{i:04d}",
        "township": "城关镇",
        "village": "石门村",
        "category": "exited",
        "exit_year": "2018",
        "policy_status": "continuing",
        "relocated": "0",
        "critical_living_alone_elderly": "0",
        "critical_disabled": "0",
        "critical_major_illness": "0",
        "critical_housing_rebuilt": "0",
        "social_assistance": "none",
        "land_mu": "3.5",
        "housing_grade": "A",
        "safe_water": "1",
        "micro_credit": "0",
        "industry_project": "1",
        "public_welfare_job": "0",
        "head_name": f"户主{i}",
        "head_id_number": f"43312619700101{i:04d}",
        "phone": f"1380000{i:04d}",
        "valid_from": "2023-01-01",
        "valid_to": "",
    }
    row.update(changes)
    return row


def member(i: int, household_id: str, **changes: object) -> dict[str, object]:
    row = {
        "household_id": household_id,
        "member_id": f"M{i:05d}",
        "relation": "head",
        "sex": "male",
        "birth_date": "1975-06-15",
        "ethnicity": "han",
        "education": "junior",
        "schooling_status": "not_in_school",
        "health": "healthy",
        "disability_type": "none",
        "disability_grade": "",
        "labour_skill": "ordinary",
        "migrant_months": "6",
        "migrant_place": "out_province",
        "medical_insurance": "1",
        "pension_insurance": "1",
        "name": f"成员{i}",
        "id_number": f"43312619750615{i:04d}",
        "valid_from": "2023-01-01",
        "valid_to": "",
    }
    row.update(changes)
    return row


def survey(household_id: str, year: int = 2023, **changes: object) -> dict[str, object]:
    row = {
        "household_id": household_id,
        "survey_year": str(year),
        "survey_date": f"{year + 1}-01-15",
        "wage_income": "18000",
        "business_income": "4000",
        "property_income": "200",
        "transfer_income": "3100",
        "business_costs": "1500",
        "medical_out_of_pocket": "800",
        "schooling_spending": "1200",
    }
    row.update(changes)
    return row


def event(i: int, household_id: str, **changes: object) -> dict[str, object]:
    row = {
        "event_id": f"E{i:05d}",
        "household_id": household_id,
        "member_id": "",
        "event_date": "2024-03-05",
        "event_type": "hospitalisation",
        "amount": "12000",
        "source": "医保局",
    }
    row.update(changes)
    return row


def outcome(household_id: str, **changes: object) -> dict[str, object]:
    row = {
        "household_id": household_id,
        "entry_date": "2024-02-01",
        "monitoring_category": "unstable_exited",
        "risk_type_1": "illness",
        "risk_type_2": "",
        "risk_type_3": "",
        "risk_type_4": "",
        "risk_type_5": "",
        "elimination_date": "",
    }
    row.update(changes)
    return row


def valid_tables(n_households: int = 6) -> dict[str, list[dict[str, object]]]:
    """A tiny registry: n households with two members each, one survey each, a few events."""
    households = [household(i) for i in range(1, n_households + 1)]
    members = []
    for i, h in enumerate(households, start=1):
        members.append(member(2 * i - 1, h["household_id"]))
        members.append(
            member(2 * i, h["household_id"], relation="spouse", sex="female",
                   birth_date="1978-02-01", migrant_months="0", migrant_place="none")
        )
    return {
        "households": households,
        "members": members,
        "income_surveys": [survey(h["household_id"]) for h in households],
        "events": [event(1, "H0001"), event(2, "H0002", event_type="disaster_damage")],
        "outcomes": [outcome("H0001")],
    }


def to_chinese(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    """The same rows as the county system writes them: Chinese headers and category labels."""
    frame = pd.DataFrame(rows)
    for f in contract.fields(table):
        if f.allowed:
            frame[f.name] = frame[f.name].map(lambda v, a=f.allowed: a.get(v, v))
        if f.kind == "bool":
            frame[f.name] = frame[f.name].map({"1": "是", "0": "否"}).fillna(frame[f.name])
    return frame.rename(columns=contract.zh_labels(table))


def write(folder: Path, table: str, rows: list[dict[str, object]] | pd.DataFrame, *,
          fmt: str = "csv", encoding: str = "utf-8", name: str | None = None) -> Path:
    """Write one table file; ``fmt`` csv/xlsx/parquet, ``encoding`` for CSV (e.g. gbk, utf-8-sig)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    path = folder / f"{name or table}.{fmt}"
    if fmt == "csv":
        path.write_bytes(frame.to_csv(index=False).encode(encoding))
    elif fmt == "xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def write_folder(folder: Path, tables: dict[str, list[dict[str, object]]]) -> Path:
    for table, rows in tables.items():
        write(folder, table, rows)
    return folder
