"""Household reads written to the audit log in batches, off the request path.

Every read of a household's detail is audited (who, when, what). Inserting and committing one row
per read made every API worker take SQLite's write lock on every request, and the waits for it
(and for the WAL checkpoints it triggers) were the slowest part of a read under load. A read now
appends its entry here, stamped with the time of the read; one thread per process writes what has
gathered in one transaction every ``interval`` seconds, and ``close()`` (the app's shutdown,
which uvicorn runs after the last request on SIGTERM or Ctrl+C) writes the rest. A batch that
fails to insert is kept and retried. Writes that change data (feedback, exports) still audit
inside their own transaction.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

from serving.access import auth

log = logging.getLogger("fanpin.audit")


class AuditLog:
    """A process's queue of audit entries and the thread that writes them.

    Args:
        engine: the store.
        interval: seconds between writes (entries wait at most about this long).
    """

    def __init__(self, engine: Engine, interval: float = 0.2):
        self._engine = engine
        self._interval = interval
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fanpin-audit-log", daemon=True)

    def start(self) -> AuditLog:
        self._thread.start()
        return self

    def record(self, who: auth.Principal, action: str, target: str | None = None,
               detail: dict[str, Any] | None = None) -> None:
        """Queue one entry (timestamped now); it reaches the store within ``interval`` seconds."""
        entry = auth.audit_entry(who, action, target, detail)
        with self._lock:
            self._pending.append(entry)

    def flush(self) -> int:
        """Write every queued entry now, in one transaction; returns how many were written."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            with self._engine.begin() as connection:
                connection.execute(auth.audit_statement(), batch)
        except Exception:
            with self._lock:  # keep them, in order, for the next attempt
                self._pending[:0] = batch
            raise
        return len(batch)

    def close(self) -> None:
        """Stop the writer thread and write what is left."""
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._closing.wait(self._interval):
            try:
                self.flush()
            except Exception:  # the store is busy or away: the entries wait for the next round
                log.exception("audit log write failed; retrying")
