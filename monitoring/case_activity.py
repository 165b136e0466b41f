"""What the county's casework did in a period, whatever week its leads came in: decisions, measures,
risk eliminations, the notices' objections and the appeals.

Pure (``monitoring.ledger`` tables in). The funnel (``monitoring.follow_through``) follows the leads
of the period to their end, so a risk eliminated - at least six months after the decision - never
shows among the leads of the last weeks; this table counts what was recorded in the period: an
elimination of a household identified last spring counts in the quarter it was recorded.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from features.policy import DEFAULT_CASES
from monitoring.ledger import Ledger, plain

ELIMINATED = ("eliminated", "social_security")
COLUMNS = ["township", "decisions", "identified", "measures", "eliminated", "days_to_elimination", "objections",
           "objections_upheld", "appeals", "appeals_answered", "appeals_overturned", "appeal_overdue"]


def _in(days: pd.Series, start: date, end: date) -> pd.Series:
    return days.map(lambda d: d is not None and not pd.isna(d) and start <= d <= end)


def activity(ledger: Ledger, start: date, end: date,
             appeal_days: float = DEFAULT_CASES["appeal_answer_days"]) -> pd.DataFrame:
    """Per township, then the county (township None): county decisions (and how many identified),
    support measures, eliminations (risk eliminated or moved to social-security support) with the
    median days from the identification to them, objections (upheld), appeals lodged, answered and
    overturned - each recorded from ``start`` to ``end`` - and the appeals waiting longer than
    ``appeal_days`` for an answer on ``end``."""
    steps = ledger.steps.merge(ledger.cases[["case_id", "township"]], on="case_id")
    cases = ledger.cases
    answered = set(steps.loc[(steps["action"] == "appeal_decision") & (steps["step_date"] <= end), "case_id"])
    rows = []
    for township in [*sorted(cases["township"].dropna().unique()), None]:
        s = steps if township is None else steps.loc[steps["township"] == township]
        c = cases if township is None else cases.loc[cases["township"] == township]
        period = s.loc[_in(s["step_date"], start, end)]
        details = period["detail"].map(lambda d: d or {})
        act = period["action"]
        done = c.loc[c["outcome"].isin(ELIMINATED) & _in(c["closed_on"], start, end)]
        waited = [(b - a).days for a, b in zip(done["decided_on"], done["closed_on"], strict=True) if a is not None]
        lodged = s.loc[(s["action"] == "appeal") & (s["step_date"] <= end) & ~s["case_id"].isin(answered)]
        rows.append({
            "township": township,
            "decisions": int((act == "county_decision").sum()),
            "identified": int(((act == "county_decision") & details.map(lambda d: bool(d.get("identified")))).sum()),
            "measures": int((act == "measure").sum()),
            "eliminated": len(done),
            "days_to_elimination": float(np.median(waited)) if waited else None,
            "objections": int((act == "objection").sum()),
            "objections_upheld": int(((act == "objection") & details.map(lambda d: bool(d.get("upheld")))).sum()),
            "appeals": int((act == "appeal").sum()),
            "appeals_answered": int((act == "appeal_decision").sum()),
            "appeals_overturned": int(((act == "appeal_decision")
                                       & details.map(lambda d: bool(d.get("overturned")))).sum()),
            "appeal_overdue": int(lodged["step_date"].map(lambda d: (end - d).days > appeal_days).sum()),
        })
    return plain(pd.DataFrame(rows, columns=COLUMNS))
