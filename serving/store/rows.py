"""How a scored week becomes store rows: scores, rule triggers, quarantine rows and drift alerts,
as plain Python values (staged by ``serving.store.publishing``; registry versions and the week's
model inputs: ``serving.store.registry`` and ``serving.store.week_inputs``)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from features.json_safe import plain, records


def score_rows(scored: pd.DataFrame, top: dict[str, Any],
               registry_run: dict[str, int] | None = None) -> Iterator[dict[str, Any]]:
    """The scores table's rows (plain Python values), one household at a time, each naming the
    registry version it shows (``registry_run``: household id -> run)."""
    names = ("household_id", "township", "village", "probability", "level", "rank", "township_rank", "change",
             "on_watchlist", "flag_new", "flag_rising", "flag_rule", "under_monitoring", "criteria_met")
    kinds = {"probability": float, "rank": int, "township_rank": int, "on_watchlist": bool, "flag_new": bool,
             "flag_rising": bool, "flag_rule": bool, "under_monitoring": bool, "level": str, "criteria_met": str}
    # Whole columns to Python values at once (``tolist``), not a NumPy scalar per cell.
    columns = []
    for name in names:
        values = scored[name]
        if name == "change":
            values = values.astype("float64").astype(object).where(values.notna(), None)
        elif name in kinds:
            values = values.astype(kinds[name])
        columns.append(values.tolist())
    for row in zip(*columns, strict=True):
        record = dict(zip(names, row, strict=True))
        reason = top.get(record["household_id"])
        record["top_reason_zh"] = reason["text_zh"] if reason else None
        record["top_reason_en"] = reason["text_en"] if reason else None
        record["registry_run"] = registry_run.get(record["household_id"]) if registry_run is not None else None
        yield record


def rule_triggers(rules: pd.DataFrame, townships: np.ndarray) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(township, household id, rule triggers) of every household with a criterion met or a
    screening flag (``townships``: aligned with ``rules``), as ``week_documents`` stores them."""
    from features.rules import CRITERIA, SCREENING

    crit = rules[[f"rule_{n}" for n in CRITERIA]].to_numpy()
    scr = rules[[f"rule_{n}" for n in SCREENING]].to_numpy()
    any_flag = crit.any(axis=1) | scr.any(axis=1)
    # Plain arrays once, not a DataFrame column lookup per row (a third of the week's publishing).
    ids = rules["household_id"].to_numpy()
    types = rules["rule_risk_types"].to_numpy()
    priority = rules["rules_priority_score"].to_numpy()
    for i in np.flatnonzero(any_flag):
        yield str(townships[i]), str(ids[i]), {
            "criteria": [{"name": n, "zh": c.zh, "en": c.en}
                         for (n, c), hit in zip(CRITERIA.items(), crit[i], strict=True) if hit],
            "screening": [{"name": n, "zh": c.zh, "en": c.en}
                          for (n, c), hit in zip(SCREENING.items(), scr[i], strict=True) if hit],
            "risk_types": [t for t in str(types[i]).split("|") if t],
            "priority_score": float(priority[i]),
        }


def quarantine_rows(read):
    for kind, table in (("quarantine", read.quarantine), ("flag", read.flags)):
        for r in records(table):
            yield {"kind": kind, "file": str(r.get("file")), "row": r.get("row"), "column": r.get("column"),
                   "value": None if r.get("value") is None else str(r.get("value")), "reason": str(r.get("reason"))}


def alert_row(alert: dict[str, Any]) -> dict[str, Any]:
    psi = alert.get("psi")
    return {
        "severity": str(alert.get("severity", "info")),
        "township": alert.get("township"),
        "feature": alert.get("feature"),
        "message_zh": str(alert.get("message_zh", "")),
        "message_en": str(alert.get("message_en", "")),
        "psi": None if psi is None or (isinstance(psi, float) and not math.isfinite(psi)) else float(psi),
        "payload": {k: plain(v) for k, v in alert.items()},
    }
