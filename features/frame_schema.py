"""The household frame's schema: every column, its type and its labels, in one place.

``features.household_frame.build_household_frame`` makes the frame (one row per household at a
cutoff); its labels live in ``FRAME_COLUMNS`` there, its types here. Whoever stores, rebuilds,
samples or serves frame rows reads this module instead of keeping its own column lists: the
weekly job's stored "facts" and their rebuild for an on-demand explanation, the drift reference's
context columns, and the API's facts payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pandera

from features import contract
from features.household_frame import FRAME_COLUMNS, ID_COLUMNS

# Column kinds and the dtype build_household_frame gives each (the frame's contract).
TEXT, DATE, YEAR, FLAG, COUNT, NUMBER = "text", "date", "year", "flag", "count", "number"
DTYPES = {TEXT: str, DATE: "datetime64[us]", YEAR: "Int64", FLAG: bool, COUNT: "int64", NUMBER: "float64"}

_KINDS: dict[str, str] = {
    "household_id": TEXT, "township": TEXT, "village": TEXT, "category": TEXT, "policy_status": TEXT,
    "social_assistance": TEXT, "housing_grade": TEXT,
    "cutoff": DATE,
    "exit_year": YEAR,
    "minority_township": FLAG, "critical_living_alone_elderly": FLAG, "critical_disabled": FLAG,
    "critical_major_illness": FLAG, "critical_housing_rebuilt": FLAG, "under_monitoring": FLAG,
    "elderly_only": FLAG, "safe_water": FLAG, "relocated": FLAG, "micro_credit": FLAG, "industry_project": FLAG,
    "public_welfare_job": FLAG, "new_dibao": FLAG, "ever_monitored": FLAG,
    "household_size": COUNT, "n_children_0_5": COUNT, "n_children_6_15": COUNT, "n_working_age": COUNT,
    "n_elderly_60": COUNT, "n_elderly_80": COUNT, "able_labour": COUNT, "weak_labour": COUNT, "n_chronic": COUNT,
    "n_major_illness": COUNT, "n_disabled": COUNT, "n_severe_disabled": COUNT, "n_compulsory_students": COUNT,
    "n_noncompulsory_students": COUNT, "n_dropouts": COUNT, "n_migrant_workers": COUNT, "migrant_months": COUNT,
    "n_out_province": COUNT, "n_uninsured": COUNT, "n_critical_kinds": COUNT,
}

# The context columns kept beside the model inputs in a reference sample (training's and the drift
# check's): enough to compare per township and category, no identifier of anyone.
REFERENCE_CONTEXT = ["cutoff", "township", "category", "minority_township", "housing_grade", "exit_year"]

# Labels of the context columns the registry tables do not carry (the rest come from the contract).
_DERIVED_LABELS = {
    "cutoff": ("截止日期", "cutoff"),
    "minority_township": ("少数民族聚居乡镇", "minority township"),
    "monitoring_line": ("监测线", "monitoring line"),
    "dibao_line": ("低保线", "minimum-allowance line"),
    "under_monitoring": ("监测对象", "under monitoring"),
}


def columns() -> list[str]:
    """Every column of the frame, in the frame's order (context columns, then features)."""
    return ID_COLUMNS + list(FRAME_COLUMNS)


def kind(column: str) -> str:
    """The column's kind (text, date, year, flag, count or number)."""
    return _KINDS.get(column, NUMBER)


def columns_of(*kinds: str) -> list[str]:
    """The frame's columns of these kinds, in the frame's order."""
    return [c for c in columns() if kind(c) in kinds]


def label(column: str) -> tuple[str, str]:
    """(Chinese, English) label of a frame column."""
    if column in FRAME_COLUMNS:
        return FRAME_COLUMNS[column].zh, FRAME_COLUMNS[column].en
    if column in _DERIVED_LABELS:
        return _DERIVED_LABELS[column]
    for table in ("households", "members"):
        for f in contract.fields(table):
            if f.name == column:
                return f.zh, f.en
    return column, column


@cache
def household_frame_schema() -> pandera.DataFrameSchema:
    """The pandera schema ``build_household_frame``'s output satisfies (other columns allowed)."""
    return pandera.DataFrameSchema(
        {c: pandera.Column(DTYPES[kind(c)], nullable=kind(c) in (YEAR, NUMBER), title=label(c)[0],
                           description=label(c)[1]) for c in columns()},
        name="household_frame", title="户级特征表 / household frame",
    )


def frame_from_facts(facts: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Rebuild household-frame rows from their JSON form (the weekly job's stored facts).

    Counts come back as float64 (JSON numbers): the model reads them the same way."""
    frame = pd.DataFrame(list(facts), columns=columns())
    for col in frame.columns:
        k = kind(col)
        if k == DATE:
            frame[col] = pd.to_datetime(frame[col])
        elif k == YEAR:
            frame[col] = pd.array(frame[col], dtype="Int64")
        elif k == FLAG:
            frame[col] = frame[col].fillna(False).astype(bool)
        elif k == TEXT:
            frame[col] = frame[col].astype(str)
        else:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame
