"""Shadow scoring: the registered challenger scores each live week beside the champion.

The challenger is the registry's ``challenger`` alias (a version that failed a gate, or the
champion a promotion replaced; ``training.gates``, ``training.tracking.promote``). Its scores
never reach the watch list, the officers' pages or an export: they are kept apart in
``shadow_runs`` / ``shadow_scores`` (the households on either model's capacity list), compared
with the champion's (``monitoring.challenger``), and read by the data page's challenger block,
`fanpin performance` and `fanpin promote`. Each weekly run also brings the realised recall of
every earlier shadow week up to date from the outcomes known by then.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from features.weeks import Week
from monitoring import challenger as cmp
from monitoring.outcomes import entrants
from serving.core.watchlist import WatchlistConfig, capacity_list
from serving.store import models as m

CHALLENGER_ALIAS = "challenger"


def load_challenger(settings, champion) -> Any | None:
    """The registry's challenger (without its reference sample), or None when there is none or it
    is the champion's own version."""
    from models.registry import NoChampion, load_champion, version_holding
    from serving.tracking import configure_tracking

    configure_tracking(settings)
    # Asked first, loaded only when it is another version than the champion (the usual case of a
    # registry whose challenger is the champion a promotion kept, or none).
    if version_holding(settings.model_name, CHALLENGER_ALIAS) in (None, str(champion.version)):
        return None
    try:
        found = load_champion(settings.model_name, CHALLENGER_ALIAS, load_reference=False,
                              cache=settings.ensure_home() / "model-cache")
    except NoChampion:
        return None
    return None if str(found.version) == str(champion.version) else found


def score_shadow(engine: Engine, run_id: int, week: Week, frame: pd.DataFrame, champion_probability: np.ndarray,
                 champion_version: str, challenger: Any, config: WatchlistConfig) -> dict[str, Any]:
    """Score the week with the challenger and store its comparison with the champion."""
    from serving.store.publishing import stage_rows, utcnow

    p = np.asarray(challenger.model.predict_proba(frame)[:, 1], dtype="float64")
    eligible = ~frame["under_monitoring"].to_numpy(dtype=bool)
    base = pd.DataFrame({"household_id": frame["household_id"].to_numpy(), "township": frame["township"].to_numpy(),
                         "probability": champion_probability})
    mine = capacity_list(base, config, eligible)
    theirs = capacity_list(base.assign(probability=p), config, eligible)
    summary = {"households": len(frame), **cmp.rank_agreement(champion_probability, p),
               **cmp.list_overlap(mine, theirs), "realised": None}
    either = mine | theirs
    stage_rows(engine, m.ShadowScore, (
        {"household_id": h, "township": t, "champion_probability": float(a), "challenger_probability": float(b),
         "champion_listed": bool(x), "challenger_listed": bool(y)}
        for h, t, a, b, x, y in zip(base["household_id"][either], base["township"][either],
                                    champion_probability[either], p[either], mine[either], theirs[either],
                                    strict=True)
    ), run_id)
    stage_rows(engine, m.ShadowRun, [{
        "week": week, "model_name": getattr(challenger, "name", "fanpin-risk"),
        "model_version": str(challenger.version), "model_run_id": str(getattr(challenger, "run_id", "") or ""),
        "champion_version": str(champion_version), "summary": summary, "created_at": utcnow(),
    }], run_id)
    return {"model_version": str(challenger.version), **summary}


def _published_shadow_runs(session: Session, version: str | None = None):
    query = (select(m.ShadowRun, m.Week.cutoff).join(m.Week, m.Week.published_run_id == m.ShadowRun.run_id)
             .order_by(m.ShadowRun.week))
    if version is not None:
        query = query.where(m.ShadowRun.model_version == str(version))
    return session.execute(query).all()


def _realised(session: Session, shadow: m.ShadowRun, cutoff, outcomes: pd.DataFrame,
              data_end: pd.Timestamp) -> dict[str, Any]:
    known = outcomes.loc[outcomes["entry_date"] <= data_end]
    entered = {str(h) for h in entrants(known, pd.Timestamp(cutoff))}
    eligible: set[str] = set()
    ids = sorted(entered)
    for i in range(0, len(ids), 5000):  # only the entrants are looked up, not the whole week
        eligible |= set(session.scalars(select(m.Score.household_id).where(
            m.Score.run_id == shadow.run_id, m.Score.household_id.in_(ids[i:i + 5000]),
            m.Score.under_monitoring.is_(False))))
    lists = session.execute(select(m.ShadowScore.household_id, m.ShadowScore.champion_listed,
                                   m.ShadowScore.challenger_listed).where(m.ShadowScore.run_id == shadow.run_id)).all()
    return cmp.realised_recall(eligible, {h for h, a, _ in lists if a}, {h for h, _, b in lists if b},
                               cutoff=pd.Timestamp(cutoff), data_end=data_end)


def update_realised(engine: Engine, outcomes: pd.DataFrame, data_end: pd.Timestamp) -> int:
    """Bring the realised recall of every published shadow week not yet matured up to the outcomes
    known by ``data_end`` (the weekly job's history); returns the number of weeks updated."""
    from serving.store.database import session_factory

    with session_factory(engine)() as session:
        found = [(s.run_id, {**s.summary, "realised": _realised(session, s, cutoff, outcomes, data_end)})
                 for s, cutoff in _published_shadow_runs(session)
                 if not (s.summary.get("realised") or {}).get("matured")]  # a matured figure is final
    with engine.begin() as conn:
        for run_id, summary in found:
            conn.execute(update(m.ShadowRun).where(m.ShadowRun.run_id == run_id).values(summary=summary))
    return len(found)


def comparison(session: Session, version: str | None = None, *, outcomes: pd.DataFrame | None = None,
               data_end: pd.Timestamp | None = None) -> dict[str, Any]:
    """The published shadow weeks (of one challenger version, or all) with their figures, and the
    summary over them. With ``outcomes`` the realised recall is recomputed from them (`fanpin
    performance` on a county folder); without, the weekly job's latest figures are read."""
    weeks = []
    for shadow, cutoff in _published_shadow_runs(session, version):
        realised = (_realised(session, shadow, cutoff, outcomes, data_end) if outcomes is not None
                    else shadow.summary.get("realised"))
        weeks.append({"week": shadow.week, "challenger_version": shadow.model_version,
                      "champion_version": shadow.champion_version,
                      **{k: v for k, v in shadow.summary.items() if k != "realised"}, "realised": realised})
    return {"weeks": weeks, "summary": cmp.summarise(weeks)}


def promotion_evidence(settings, version: str | int) -> dict[str, Any]:
    """What shadow scoring says about ``version`` before it is promoted (no store: no weeks)."""
    from serving.store.database import get_engine, session_factory, upgrade

    engine = get_engine(settings)
    upgrade(engine)
    with session_factory(engine)() as session:
        return comparison(session, str(version))
