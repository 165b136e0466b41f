"""The household answer (``GET /households/{id}``) built once per published run and kept.

What the answer holds besides the visit records belongs to one published run (score, reasons,
explanation, rule triggers, facts, registry version) or to the runs the weeks up to it show (the
trend): none of it changes once published, and a re-run of a week is a new run id. So the answer
is validated and serialised once, without its visit records, and kept in a bounded LRU keyed by
the database, the run, the household, whether the reader sees identifiers and the runs of the
trend; a warm read is then one query (``serving.store.request_reads``: which run each week shows,
and the household's visit records), the scope check, the audit entry and the records spliced in.
An answer whose explanation was computed on demand is not kept (the next read finds it stored).
"""

from __future__ import annotations

import threading
from typing import Any

from cachetools import LRUCache
from pydantic import TypeAdapter

from serving.access import auth
from serving.api.schemas import FeedbackOut, HouseholdOut

TAIL = b'"feedback":[]}'  # HouseholdOut's last field, serialised empty
# Bounded by the serialised answers' bytes (~12 KB each): 64 MB per worker process.
_ANSWERS: LRUCache = LRUCache(64 * 2**20, getsizeof=lambda entry: len(entry[1]))
_LOCK = threading.Lock()
_VISITS = TypeAdapter(list[FeedbackOut])


def key(database: str, run_id: int, household_id: str, who: auth.Principal,
        published: list[tuple[str, int]], week: str) -> tuple:
    """The cache key of one answer: the runs of its trend (the weeks up to ``week``) are part of it,
    so a re-published earlier week makes a new key."""
    trend = tuple(run for w, run in sorted(published) if w <= week)
    return database, run_id, household_id, who.sees_identifiers, trend


def get(answer_key: tuple) -> tuple[str, bytes] | None:
    """(the household's township, the answer without visit records) when kept."""
    with _LOCK:
        return _ANSWERS.get(answer_key)


def without_visits(read: Any, household_id: str, who: auth.Principal) -> bytes:
    """The answer of a ``serving.reads.household.HouseholdRead``, validated once, its visit records
    left empty (``with_visits`` adds them)."""
    bundle, explanation = read.bundle, read.explanation
    record = auth.mask_record(bundle["identity"], who) if bundle["identity"] else {"household_id": household_id}
    members = [auth.mask_record(x, who) for x in (bundle["members"] or [])]
    body = HouseholdOut(
        household_id=household_id,
        week=read.week,
        score=bundle["score"],
        watchlist_reasons=bundle["watchlist_reasons"],
        trend=read.trend,
        explanation=explanation,
        explanation_status=read.explanation_status,
        rule_triggers=bundle["rule_triggers"],
        measures=(explanation or {}).get("measures", []),
        household=record,
        facts=bundle["facts"] or {},
        members=members,
        feedback=[],
    ).model_dump_json().encode()
    if not body.endswith(TAIL):
        raise AssertionError("HouseholdOut no longer ends with its visit records")
    return body


def keep(answer_key: tuple, township: str, body: bytes) -> None:
    with _LOCK:
        _ANSWERS[answer_key] = (township, body)


def with_visits(body: bytes, visits: list[dict[str, Any]], who: auth.Principal) -> bytes:
    """The kept answer with the household's visit records (notes masked for the reader), byte for
    byte what serialising the whole answer gives."""
    shown = _VISITS.dump_json(_VISITS.validate_python(
        [{**v, "note": auth.free_text(v.get("note"), who)} for v in visits]))
    return body[:-len(TAIL)] + b'"feedback":' + shown + b"}"


def clear() -> None:
    """Forget every kept answer (tests)."""
    with _LOCK:
        _ANSWERS.clear()
