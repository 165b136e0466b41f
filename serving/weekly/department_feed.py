"""The weekly job's department warnings: evaluate the county's rules on the history at the cutoff
and stage them with the run (published with the week, apart from the model's reasons)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from features.department_warnings import department_warnings, load_warning_rules, warning_counts
from features.household_frame import valid_at


def _number(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def stage_department_warnings(engine, run_id: int, tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp,
                              policy, settings) -> tuple[dict[str, int], set[str]]:
    """Stage the week's warnings under ``run_id``; returns rule -> count (every rule listed) and the
    households warned (this week's new work, ``serving.core.new_work``)."""
    from serving.store import models as m
    from serving.store import publishing as pub

    rules = load_warning_rules(getattr(settings, "department_warnings_path", None))
    found = department_warnings(tables, cutoff, policy, rules)
    households = valid_at(tables["households"], cutoff).drop_duplicates("household_id", keep="last")
    township = dict(zip(households["household_id"], households["township"], strict=True))
    pub.stage_rows(engine, m.DepartmentWarning, (
        {"household_id": row.household_id, "township": str(township.get(row.household_id, "")),
         "rule": row.rule, "department": row.department, "record": str(row.record),
         "record_date": None if pd.isna(row.record_date) else pd.Timestamp(row.record_date).date(),
         "value": _number(row.value), "threshold": _number(row.threshold)}
        for row in found.itertuples(index=False)
    ), run_id)
    return warning_counts(found, rules), set(found["household_id"].astype(str))
