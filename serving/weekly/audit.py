"""The weekly job's random audit: the first published week of each quarter draws a small random
sample of the households on no list (stratified by township, ``features.audit``); the officers'
home checks of these households are recorded as visits (feedback) and become labels marked
"audit"; every week reports the quarter's sample and the hidden-hardship estimate from the
findings recorded so far.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from features.audit import AUDIT_OUTCOME, draw_sample, hidden_share, quarter_of
from features.vocabulary import FOLLOW_UP_LABEL
from features.weeks import Week


def previous_audit(engine, previous) -> dict[str, Any] | None:
    """The audit record the previous published week carried (None: none)."""
    from serving.store import models as m

    if previous is None:
        return None
    with engine.connect() as conn:
        stages = conn.execute(select(m.Run.stages).where(m.Run.id == previous[1])).scalar_one_or_none()
    return (stages or {}).get("audit")


def findings(engine, sample: dict[str, Any]) -> pd.DataFrame:
    """Home checks of the sample's households recorded from its draw week on: township, weight,
    hardship (an outcome that says at risk), one row per household (its latest finding)."""
    from serving.store import models as m

    ids = [h for h, _ in sample["households"]]
    with engine.connect() as conn:
        rows = conn.execute(select(m.Feedback.household_id, m.Feedback.outcome, m.Feedback.id)
                            .where(m.Feedback.week >= sample["week"], m.Feedback.household_id.in_(ids))
                            .order_by(m.Feedback.id)).all()
    frame = pd.DataFrame(rows, columns=["household_id", "outcome", "id"])
    frame["label"] = frame["outcome"].map(FOLLOW_UP_LABEL)
    frame = frame.dropna(subset=["label"]).drop_duplicates("household_id", keep="last")
    weights = {h: w for h, w in sample["households"]}
    towns = sample["townships_of"]
    return pd.DataFrame({"township": frame["household_id"].map(towns), "weight": frame["household_id"].map(weights),
                         "hardship": frame["label"].astype(int).astype(bool)})


def week_audit(engine, previous, week: Week, cutoff, scored: pd.DataFrame, settings) -> dict[str, Any]:
    """This week's audit record (kept with the run: the sample travels from week to week through
    it) with the hidden-hardship estimate from the findings recorded so far."""
    quarter = quarter_of(cutoff)
    carried = previous_audit(engine, previous)
    if carried and carried.get("quarter") == quarter:
        sample = {k: carried[k] for k in ("quarter", "week", "seed", "share", "households", "townships_of",
                                          "by_township")}
        drawn_now = False
    else:
        unlisted = scored.loc[~scored["on_watchlist"].astype(bool) & ~scored["under_monitoring"].astype(bool),
                              ["household_id", "township"]]
        drawn = draw_sample(unlisted, float(settings.audit_share), int(settings.audit_seed), quarter)
        sample = {"quarter": quarter, "week": str(week), "seed": int(settings.audit_seed),
                  "share": float(settings.audit_share),
                  "households": [[h, round(float(w), 3)] for h, w in zip(drawn["household_id"], drawn["weight"],
                                                                          strict=True)],
                  "townships_of": dict(zip(drawn["household_id"], drawn["township"], strict=True)),
                  "by_township": {str(t): {"eligible": int(g["stratum"].iloc[0]), "drawn": int(len(g))}
                                  for t, g in drawn.groupby("township")}}
        drawn_now = True
    estimate = hidden_share(findings(engine, sample))
    return {**sample, "drawn_this_week": drawn_now, "size": len(sample["households"]), "estimate": estimate}


def summary(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The `--json` view of the audit: quarter, draw week, size, per township, drawn this week."""
    if not record:
        return None
    return {k: record[k] for k in ("quarter", "week", "seed", "share", "size", "drawn_this_week", "by_township")}


def audit_households(session) -> dict[str, tuple[str, float]]:
    """Household -> (the week it was first drawn for an audit, its sampling weight), over every
    published run (what `fanpin feedback export` marks as "audit")."""
    from serving.store import models as m

    out: dict[str, tuple[str, float]] = {}
    for stages in session.scalars(select(m.Run.stages).where(m.Run.status == "published")):
        record = (stages or {}).get("audit")
        if record and record.get("drawn_this_week"):
            for h, weight in record["households"]:
                if h not in out or record["week"] < out[h][0]:
                    out[h] = (record["week"], float(weight))
    return out


def mark_audit(frame: pd.DataFrame, drawn: dict[str, tuple[str, float]]) -> pd.DataFrame:
    """``source`` ("audit" for a finding on a household of an audit sample, recorded from its draw
    week on; else "visit") and ``audit_weight`` (the households it stands for; empty for visits)."""
    week = frame["household_id"].map(lambda h: drawn.get(h, (None, None))[0])
    weight = frame["household_id"].map(lambda h: drawn.get(h, (None, None))[1])
    audit = week.notna() & (frame["week"].astype(str) >= week.fillna("~"))
    return frame.assign(source=pd.Series("visit", index=frame.index).where(~audit, AUDIT_OUTCOME),
                        audit_weight=weight.where(audit))
