"""Reading published weeks: every query follows ``weeks.published_run_id`` (never staged rows).

Functions return plain dicts with identifiers unmasked; callers mask them per role
(``serving.access.auth.mask_record``) before anything leaves the process.

A published run never changes (a re-run of its week is a new run with a new id), so what the
list pages read of a run (counts, townships, a filter's order of households, a page's rows) is
cached in process, keyed by the database URL and the run id: a re-publish is a new key, nothing
needs invalidating. (A store deleted and re-created under a running server would reuse run ids:
restart the server after that.) Cached rows are shared: callers copy before changing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, cast, func, select
from sqlalchemy.orm import Session

from features.weeks import Week
from serving.store import models as m
from serving.store import versions, week_documents, week_inputs
from serving.store.run_cache import per_run

SORTABLE = {
    "rank": m.Score.rank,
    "probability": m.Score.probability,
    "change": m.Score.change,
    "township": m.Score.township,
    "village": m.Score.village,
    "household_id": m.Score.household_id,
    "township_rank": m.Score.township_rank,
}
FLAGS = ("new", "rising", "rule_triggered")
_FLAG_COLUMNS = {"new": m.Score.flag_new, "rising": m.Score.flag_rising, "rule_triggered": m.Score.flag_rule}


# The household page is the API's hot path: its statements are built once, with bind parameters,
# so a request only binds values (building SQLAlchemy expressions costs more than running them).
@cache
def _statements() -> dict[str, Any]:
    s, e, w = (t.__table__ for t in (m.Score, m.Explanation, m.WatchlistEntry))
    wk, fb, run = m.Week.__table__, m.Feedback.__table__, m.Run.__table__

    def on(t):
        return and_(t.c.run_id == s.c.run_id, t.c.household_id == s.c.household_id)

    return {
        "published_run": select(wk.c.published_run_id).where(wk.c.week == bindparam("week")),
        # Every page reads the published weeks (the week picker): plain columns, no ORM objects.
        "weeks": (
            select(wk.c.week, wk.c.cutoff, wk.c.published_at, run.c.id.label("run_id"), run.c.model_version,
                   run.c.households_in, run.c.households_scored, run.c.rows_quarantined, run.c.watchlist_size,
                   run.c.drift_alerts, run.c.counts)
            .join(run, run.c.id == wk.c.published_run_id)
            .order_by(wk.c.week.desc())
        ),
        # The registry version each score row shows; versions are decoded through
        # ``serving.store.versions`` (a bounded LRU: they never change).
        "identities": (
            select(s.c.household_id, s.c.registry_run)
            .where(s.c.run_id == bindparam("run_id"), s.c.household_id.in_(bindparam("household_ids", expanding=True)))
        ),
        "bundle": (
            select(s, e.c.payload.label("on_demand_explanation"), w.c.reasons.label("watchlist_reasons"))
            .select_from(s.outerjoin(e, on(e)).outerjoin(w, on(w)))
            .where(s.c.run_id == bindparam("run_id"), s.c.household_id == bindparam("household_id"))
        ),
        "version": (
            select(s.c.township, s.c.registry_run)
            .where(s.c.run_id == bindparam("run_id"), s.c.household_id == bindparam("household_id"))
        ),
        "trend": (
            select(wk.c.week, s.c.probability, s.c.level, s.c.rank, s.c.on_watchlist)
            .join(s, and_(s.c.run_id == wk.c.published_run_id, s.c.household_id == bindparam("household_id")))
            .where(wk.c.week <= bindparam("week"))
            .order_by(wk.c.week)
        ),
        "feedback": (
            select(fb.c.id, fb.c.week, fb.c.outcome, fb.c.risk_types, fb.c.note, fb.c.username, fb.c.created_at)
            .where(fb.c.household_id == bindparam("household_id"))
            .order_by(fb.c.created_at.desc(), fb.c.id.desc())
        ),
    }


def published_run(session: Session, week: Week) -> int | None:
    return session.execute(_statements()["published_run"], {"week": week}).scalar()


def weeks(session: Session) -> list[dict[str, Any]]:
    """Published weeks, newest first, with their run's counts."""
    rows = session.execute(_statements()["weeks"]).mappings()
    return [{**row, "counts": row["counts"] or {}} for row in rows]


def runs(session: Session, week: Week | None = None) -> list[dict[str, Any]]:
    """Run history (who, when, model, fingerprint, counts), newest first."""
    q = select(m.Run).order_by(m.Run.id.desc())
    if week:
        q = q.where(m.Run.week == week)
    return [
        {c.name: getattr(r, c.name) for c in m.Run.__table__.columns}
        for r in session.scalars(q)
    ]


def _score_dict(s: Any) -> dict[str, Any]:
    """A score as a dict, from a ``Score`` or a row of its table."""
    return {
        "household_id": s.household_id,
        "township": s.township,
        "village": s.village,
        "probability": s.probability,
        "level": s.level,
        "rank": s.rank,
        "township_rank": s.township_rank,
        "change": s.change,
        "on_watchlist": s.on_watchlist,
        "flags": [f for f, v in (("new", s.flag_new), ("rising", s.flag_rising), ("rule_triggered", s.flag_rule)) if v],
        "under_monitoring": s.under_monitoring,
        "criteria_met": [c for c in s.criteria_met.split("|") if c],
        "top_reason_zh": s.top_reason_zh,
        "top_reason_en": s.top_reason_en,
    }


def watchlist_query(run_id: int, *, township: str | None, village: str | None, level: str | None,
                    flags: list[str] | None, only_watchlist: bool = True) -> Select:
    """Scores of a run's watch list (or of every household) matching the filters, unordered."""
    q = select(m.Score).where(m.Score.run_id == run_id)
    if only_watchlist:
        q = q.where(m.Score.on_watchlist.is_(True))
    if township:
        q = q.where(m.Score.township == township)
    if village:
        q = q.where(m.Score.village == village)
    if level:
        q = q.where(m.Score.level == level)
    for flag in flags or []:
        q = q.where(_FLAG_COLUMNS[flag].is_(True))
    return q


def watchlist(session: Session, run_id: int, *, township: str | None = None, village: str | None = None,
              level: str | None = None, flags: list[str] | None = None, sort: str = "rank",
              descending: bool = False, offset: int = 0, limit: int | None = 50,
              with_identity: bool = False) -> tuple[int, list[dict[str, Any]]]:
    """One page of a week's watch list and the total matching the filters."""
    if limit is None:  # the whole filtered list (exports): one ordered query
        column = SORTABLE[sort]
        q = watchlist_query(run_id, township=township, village=village, level=level, flags=flags)
        q = q.order_by(column.desc() if descending else column.asc(), m.Score.household_id)
        rows = [_score_dict(s) for s in session.scalars(q).all()]
        if with_identity:
            _add_contacts(session, run_id, rows)
        return len(rows), rows
    # A page: slice the run's cached order (an SQL OFFSET reads every skipped row, ~9 ms deep in a
    # 20,000-household list); the page's rows are cached too (they never change either).
    order = _watchlist_order(session, run_id, township, village, level, tuple(flags or ()), sort, descending)
    rows = _page_rows(session, run_id, order[offset:offset + limit], with_identity)
    return len(order), [dict(r) for r in rows]


def identities(session: Session, run_id: int, household_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Raw (unmasked) identity blocks of some households of a run."""
    if not household_ids:
        return {}
    shown: list[tuple[str, int | None]] = []
    ids = list(household_ids)
    for start in range(0, len(ids), 10_000):  # an export's ids in chunks (SQLite binds at most 32,766)
        shown += session.execute(_statements()["identities"], {"run_id": run_id,
                                                               "household_ids": ids[start:start + 10_000]}).all()
    return identities_of(session, shown)


def identities_of(session: Session, shown: list[tuple[str, int | None]]) -> dict[str, dict[str, Any]]:
    """Raw identity blocks (copies) of (household id, registry run) pairs, the version each
    household's score row names; households with no stored version are absent."""
    decoded = versions.versions(session, shown)
    return {h: dict(decoded[(h, int(r))][0] or {}) for h, r in shown if r is not None and (h, int(r)) in decoded}


def _add_contacts(session: Session, run_id: int, rows: list[dict[str, Any]]) -> None:
    """Add each row's head of household name and phone (unmasked) from the run's snapshot."""
    found = identities(session, run_id, [r["household_id"] for r in rows])
    for r in rows:
        record = found.get(r["household_id"], {})
        r.update({k: record.get(k) for k in ("head_name", "phone")})


# Bounded by the number of household ids held (~70 bytes each), not by entries: a filter of a
# large province's list holds tens of thousands.
@per_run(500_000, getsizeof=len)
def _watchlist_order(session: Session, run_id: int, township: str | None, village: str | None, level: str | None,
                     flags: tuple[str, ...], sort: str, descending: bool) -> tuple[str, ...]:
    """Household ids of a run's filtered watch list in display order (ties by household id)."""
    column = SORTABLE[sort]
    q = watchlist_query(run_id, township=township, village=village, level=level, flags=list(flags))
    q = q.with_only_columns(m.Score.household_id).order_by(column.desc() if descending else column.asc(),
                                                           m.Score.household_id)
    return tuple(session.scalars(q))


# Bounded by rows (~2 KB each): 10,000 rows are 200 pages of 50, ~20 MB per process.
@per_run(10_000, getsizeof=len)
def _page_rows(session: Session, run_id: int, household_ids: tuple[str, ...],
               with_identity: bool) -> tuple[dict[str, Any], ...]:
    """Score dicts of some households of a run, in the order given (with contacts if asked)."""
    if not household_ids:
        return ()
    found = session.execute(
        select(m.Score.__table__).where(m.Score.run_id == run_id, m.Score.household_id.in_(household_ids))
    ).all()
    by_id = {r.household_id: _score_dict(r) for r in found}  # rows have the model's attribute names
    rows = [by_id[h] for h in household_ids if h in by_id]
    if with_identity:
        _add_contacts(session, run_id, rows)
    return tuple(rows)


def week_counts(session: Session, run_id: int, township: str | None = None) -> dict[str, int]:
    """Counts of a run (scored, listed, new, rising, rule-triggered), optionally for one township."""
    return dict(_week_counts(session, run_id, township))


@per_run(1024)
def _week_counts(session: Session, run_id: int, township: str | None) -> dict[str, int]:
    q = select(
        func.count(),
        func.sum(cast(m.Score.on_watchlist, Integer)),
        func.sum(cast(and_(m.Score.on_watchlist, m.Score.flag_new), Integer)),
        func.sum(cast(and_(m.Score.on_watchlist, m.Score.flag_rising), Integer)),
        func.sum(cast(and_(m.Score.on_watchlist, m.Score.flag_rule), Integer)),
    ).where(m.Score.run_id == run_id)
    if township:
        q = q.where(m.Score.township == township)
    n, listed, new, rising, rule = session.execute(q).one()
    return {"scored": n or 0, "watchlist": listed or 0, "new": new or 0, "rising": rising or 0,
            "rule_triggered": rule or 0}


def townships(session: Session, run_id: int) -> list[str]:
    return list(_townships(session, run_id))


@per_run(256)
def _townships(session: Session, run_id: int) -> tuple[str, ...]:
    return tuple(session.scalars(select(m.Score.township).where(m.Score.run_id == run_id).distinct()
                                .order_by(m.Score.township)))


def villages(session: Session, run_id: int, township: str | None = None) -> list[str]:
    """The villages of a run's scored households (of one township, if given), sorted."""
    return list(_villages(session, run_id, township))


@per_run(1024)
def _villages(session: Session, run_id: int, township: str | None) -> tuple[str, ...]:
    q = select(m.Score.village).where(m.Score.run_id == run_id)
    if township:
        q = q.where(m.Score.township == township)
    return tuple(session.scalars(q.distinct().order_by(m.Score.village)))


def score(session: Session, run_id: int, household_id: str) -> dict[str, Any] | None:
    s = session.get(m.Score, (run_id, household_id))
    return _score_dict(s) if s else None


@dataclass(frozen=True)
class Snapshot:
    """What a page shows about a household that week: registry row, model input, members."""

    identity: dict[str, Any]
    facts: dict[str, Any]
    members: list[Any]


def snapshot(session: Session, run_id: int, household_id: str) -> Snapshot | None:
    """The household's registry version and model input as published in that run (None when
    it was not scored)."""
    row = session.execute(_statements()["version"], {"run_id": run_id, "household_id": household_id}).first()
    if row is None:
        return None
    township, registry_run = row
    identity, members = versions.version(session, household_id, registry_run) or (None, None)
    return Snapshot(dict(identity or {}), week_inputs.facts(session, run_id, township, household_id) or {},
                    list(members or []))


def watchlist_reasons(session: Session, run_id: int, household_id: str) -> list[str]:
    w = session.get(m.WatchlistEntry, (run_id, household_id))
    return list(w.reasons) if w else []


def trend(session: Session, household_id: str, up_to_week: Week | None = None) -> list[dict[str, Any]]:
    """The household's published score in every week (oldest first)."""
    rows = session.execute(_statements()["trend"], {"household_id": household_id, "week": up_to_week or "9999-W99"})
    return [
        {"week": w, "probability": p, "level": lv, "rank": r, "on_watchlist": ow}
        for w, p, lv, r, ow in rows.all()
    ]


def feedback(session: Session, household_id: str) -> list[dict[str, Any]]:
    rows = session.execute(_statements()["feedback"], {"household_id": household_id}).mappings().all()
    return [dict(r) for r in rows]


def all_feedback(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(m.Feedback).order_by(m.Feedback.id))
    return [
        {"household_id": f.household_id, "township": f.township, "week": f.week, "outcome": f.outcome,
         "risk_types": "|".join(f.risk_types or []), "note": f.note, "username": f.username,
         "created_at": f.created_at}
        for f in rows
    ]


def drift(session: Session, run_id: int) -> dict[str, Any]:
    result = session.get(m.DriftResult, run_id)
    alerts = session.scalars(select(m.DriftAlert).where(m.DriftAlert.run_id == run_id).order_by(m.DriftAlert.id))
    return {
        "status": result.status if result else "not run",
        "summary": result.summary if result else {},
        "feature_results": result.feature_results if result else None,
        "has_report": bool(result and (result.report_html or result.report_samples)),
        "alerts": [
            {"severity": a.severity, "township": a.township, "feature": a.feature, "message_zh": a.message_zh,
             "message_en": a.message_en, "psi": a.psi}
            for a in alerts
        ],
    }


def latest_drift_summary(session: Session) -> dict[str, Any] | None:
    """The newest published week's drift check that ran: ``week``, ``share_drifted`` and its
    alerts (with ``kind``), the evidence ``monitoring.performance`` weighs; None when none ran."""
    for week in weeks(session):
        result = session.get(m.DriftResult, week["run_id"])
        if result is None or result.status != "ok":
            continue
        alerts = session.scalars(select(m.DriftAlert.payload).where(m.DriftAlert.run_id == week["run_id"])
                                 .order_by(m.DriftAlert.id))
        return {"week": week["week"], "share_drifted": (result.summary or {}).get("share_drifted"),
                "alerts": [dict(a or {}) for a in alerts]}
    return None


def quarantine(session: Session, run_id: int, kind: str = "quarantine", limit: int = 1000) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(m.QuarantineRow).where(m.QuarantineRow.run_id == run_id, m.QuarantineRow.kind == kind)
        .order_by(m.QuarantineRow.id).limit(limit)
    )
    return [{"file": q.file, "row": q.row, "column": q.column, "value": q.value, "reason": q.reason} for q in rows]


def household_bundle(session: Session, run_id: int, household_id: str) -> dict[str, Any] | None:
    """Everything a household page needs from one run, in one query (the API's hot path):
    ``score``, ``explanation``, ``rule_triggers``, ``watchlist_reasons``, ``identity``, ``facts``,
    ``members`` (None when the household was not scored that week)."""
    row = session.execute(_statements()["bundle"], {"run_id": run_id, "household_id": household_id}).mappings().first()
    if row is None:
        return None
    score = {
        "household_id": row["household_id"], "township": row["township"], "village": row["village"],
        "probability": row["probability"], "level": row["level"], "rank": row["rank"],
        "township_rank": row["township_rank"], "change": row["change"], "on_watchlist": row["on_watchlist"],
        "flags": [f for f, c in (("new", "flag_new"), ("rising", "flag_rising"), ("rule_triggered", "flag_rule"))
                  if row[c]],
        "under_monitoring": row["under_monitoring"],
        "criteria_met": [c for c in (row["criteria_met"] or "").split("|") if c],
        "top_reason_zh": row["top_reason_zh"], "top_reason_en": row["top_reason_en"],
    }
    township = row["township"]
    identity, members = versions.version(session, household_id, row["registry_run"]) or (None, None)
    explained = week_documents.document(session, run_id, township, week_documents.EXPLANATION, household_id)
    return {
        "score": score,
        "explanation": explained if explained is not None else row["on_demand_explanation"],
        "rule_triggers": week_documents.document(session, run_id, township, week_documents.RULE_TRIGGERS,
                                                 household_id),
        "watchlist_reasons": list(row["watchlist_reasons"] or []),
        "identity": identity,
        "facts": week_inputs.facts(session, run_id, row["township"], household_id),
        "members": members,
    }
