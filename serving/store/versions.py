"""Decoded registry versions, kept in a bounded in-process LRU.

A registry version (``RegistryVersion``: a household's registry row and members from one run on)
is immutable once stored: its key names the run that stored it (``since_run_id``), a re-run of a
week stores new versions under its own run id, and a purge only deletes versions nothing points
at. So a decoded version is cached keyed by the database, the household and that run id, and a
corrected week never reads a stale one (its score rows point at the new run's versions). Decoding
(zstd + JSON) was most of the watch-list page's identity reads and a fifth of a household read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from cachetools import LRUCache
from sqlalchemy import LargeBinary, select, type_coerce
from sqlalchemy.orm import Session

from serving.store import models as m
from serving.store.run_cache import database

Version = tuple[dict[str, Any], list[Any]]  # (identity, members)
# Bounded by the decoded JSON's length (~1.5 KB a household): 64 MB per process.
_CACHE: LRUCache = LRUCache(64 * 2**20, getsizeof=lambda entry: entry[1])
_LOCK = threading.Lock()
_CHUNK = 5_000  # households per query (SQLite binds at most 32,766 values)


def _decode(blob: bytes | None) -> tuple[Any, int]:
    import orjson

    from serving.store.compressed import decompress

    if blob is None:
        return None, 0
    text = decompress(blob)
    return orjson.loads(text), len(text)


def versions(session: Session, wanted: Iterable[tuple[str, int | None]]) -> dict[tuple[str, int], Version]:
    """(household id, run) -> (identity, members) of the stored versions asked for; ``None`` runs
    (a score row naming no version) and versions not stored are absent. Only versions not yet
    cached are read, in one query per 5,000."""
    db = database(session)
    found: dict[tuple[str, int], Version] = {}
    missing: list[tuple[str, int]] = []
    with _LOCK:
        for household_id, run in wanted:
            if run is None:
                continue
            entry = _CACHE.get((db, household_id, int(run)))
            if entry is None:
                missing.append((household_id, int(run)))
            else:
                found[(household_id, int(run))] = entry[0]
    v = m.RegistryVersion
    for start in range(0, len(missing), _CHUNK):
        part = missing[start:start + _CHUNK]
        asked = set(part)
        rows = session.execute(select(v.household_id, v.since_run_id, type_coerce(v.identity, LargeBinary),
                                      type_coerce(v.members, LargeBinary))
                               .where(v.household_id.in_(sorted({h for h, _ in part})),
                                      v.since_run_id.in_(sorted({r for _, r in part}))))
        for household_id, run, identity_blob, members_blob in rows:
            if (household_id, run) not in asked:
                continue
            (identity, a), (members, b) = _decode(identity_blob), _decode(members_blob)
            found[(household_id, run)] = (identity, members)
            with _LOCK:
                _CACHE[(db, household_id, run)] = ((identity, members), 64 + a + b)
    return found


def version(session: Session, household_id: str, run: int | None) -> Version | None:
    """(identity, members) of one stored version (shared: callers copy before changing them)."""
    return versions(session, [(household_id, run)]).get((household_id, int(run))) if run is not None else None


def clear() -> None:
    """Forget every decoded version (tests)."""
    with _LOCK:
        _CACHE.clear()
