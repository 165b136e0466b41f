"""What building the household frame costs, per stage and per reason concept.

``build_household_frame`` reports the end of each of its stages (registry rows, members, context,
income, household, events, monitoring, village) with the columns the stage made. A stage's
seconds are measured; a concept's seconds are *apportioned*: each stage's time is shared among
the concepts of the columns it made, by their number of columns (a stage makes several concepts'
columns in one vectorised pass, so no finer measurement exists). The registry rows' stage makes
no column: it is reported as ``shared``; the context columns (township, category, lines...) feed
no concept and are reported as ``context columns``.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pandas as pd

from features.household_frame import FRAME_COLUMNS, build_household_frame
from features.policy import Policy

SHARED, CONTEXT = "shared", "context columns"


def frame_cost(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, policy: Policy) -> dict[str, Any]:
    """Build the frame once at ``cutoff`` and time it.

    Returns:
        ``households``, ``seconds`` (the whole build), ``stages`` (name -> seconds, columns) and
        ``concepts`` (concept -> apportioned seconds, largest first).
    """
    marks: list[tuple[str, float, list[str]]] = []
    started = time.perf_counter()
    frame = build_household_frame(tables, cutoff, policy,
                                  on_stage=lambda stage, made: marks.append((stage, time.perf_counter(), made)))
    total = time.perf_counter() - started
    stages, concepts = {}, Counter()
    previous = started
    for stage, at, made in marks:
        seconds = at - previous
        previous = at
        stages[stage] = {"seconds": round(seconds, 4), "columns": len(made)}
        kinds = Counter(FRAME_COLUMNS[c].concept if c in FRAME_COLUMNS else CONTEXT for c in made) or Counter([SHARED])
        for concept, n in kinds.items():
            concepts[concept] += seconds * n / sum(kinds.values())
    return {"households": len(frame), "cutoff": str(pd.Timestamp(cutoff).date()), "seconds": round(total, 4),
            "stages": stages, "concepts": {k: round(v, 4) for k, v in concepts.most_common()}}
