"""In-process caching of what a published run holds: a published run never changes (a re-run of
its week is a new run with a new id), so anything read of it is cached keyed by the database URL
and the run id, and nothing needs invalidating. (A store deleted and re-created under a running
server would reuse run ids: restart the server after that.)"""

from __future__ import annotations

import threading

from cachetools import LRUCache, cached
from cachetools.keys import hashkey
from sqlalchemy.orm import Session


def database(session: Session) -> str:
    """Which database a session reads (run ids are only unique within one)."""
    return str(session.get_bind().url)


def per_run(maxsize: int, getsizeof=None):
    """Cache a ``f(session, run_id, ...)`` of a published run, keyed by database, run and arguments
    (``getsizeof`` bounds the cache by what the entries hold instead of their number)."""
    return cached(LRUCache(maxsize, getsizeof=getsizeof), lock=threading.Lock(),
                  key=lambda session, run_id, *args, **kwargs: hashkey(database(session), run_id, *args, **kwargs))
