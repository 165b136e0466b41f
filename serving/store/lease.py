"""One run per week at a time: a lease row in the store, taken at start, checked at publish.

Two overlapping runs of one week used to publish an empty week: the second marked the first
failed and purged its rows, and the first published anyway. Now a run must hold the week's
lease (``week_leases``, one row per week) from start to publish:

- ``take``: insert the row, or take it over when its holder is gone: the lease expired (not
  renewed for ``TTL``) or its process no longer exists on this host (a ``kill -9`` releases the
  lease at once). A live holder means refusal (``LeaseHeld``, one line naming the run).
- a heartbeat thread renews the lease every ``HEARTBEAT`` while the run is going, so a long
  stage never loses it, and a killed or frozen run stops renewing it.
- ``hold``: the first statement of the publish transaction; an UPDATE that matches only if this
  run still holds the lease, so the row stays locked until the commit (``LeaseLost`` otherwise).
- ``release``: delete the row when the run publishes or fails.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from features.weeks import Week
from serving.store import models as m

TTL = timedelta(minutes=5)
HEARTBEAT_SECONDS = 60.0


def utcnow() -> datetime:
    """Naive UTC, as the store keeps it (``serving.store.publishing`` imports this module)."""
    return datetime.now(UTC).replace(tzinfo=None)


class LeaseHeld(RuntimeError):
    """Another live run holds the week."""


class LeaseLost(RuntimeError):
    """This run no longer holds the week (taken over after it stopped renewing)."""


_beats: dict[int, threading.Event] = {}
_beats_lock = threading.Lock()


def _alive_here(host: str, pid: int) -> bool:
    """Whether the holder may still be running: another host, or a live process on this one."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def take(engine: Engine, week: Week, run_id: int) -> None:
    """Take the week's lease for ``run_id`` (see the module docstring) and start renewing it.

    Raises:
        LeaseHeld: a live run holds it.
    """
    now = utcnow()
    mine = {"run_id": run_id, "host": socket.gethostname()[:255], "pid": os.getpid(), "taken_at": now,
            "expires_at": now + TTL}
    t = m.WeekLease.__table__
    for _ in range(3):  # an insert race with another starter is settled on the next pass
        try:
            with engine.begin() as conn:
                conn.execute(insert(t).values(week=week, **mine))
            _start_heartbeat(engine, week, run_id)
            return
        except IntegrityError:
            pass
        with engine.begin() as conn:
            held = conn.execute(select(t).where(t.c.week == week)).first()
            if held is None:
                continue
            if held.expires_at > now and _alive_here(held.host, held.pid):
                raise LeaseHeld(
                    f"week {week} is being run by run {held.run_id} (pid {held.pid} on {held.host}, since "
                    f"{held.taken_at:%Y-%m-%d %H:%M:%S} UTC); wait for it to finish / 该周正在由另一次运行处理，请稍后再试"
                )
            # Compare-and-swap: only if the dead holder still holds it (another starter may be quicker).
            taken = conn.execute(update(t).where(t.c.week == week, t.c.run_id == held.run_id).values(**mine))
            if taken.rowcount == 1:
                _start_heartbeat(engine, week, run_id)
                return
    raise LeaseHeld(f"week {week}: another run took the lease first / 该周已被另一次运行占用")


def renew(engine: Engine, week: Week, run_id: int) -> bool:
    """Push the lease's expiry out; False when this run no longer holds it."""
    t = m.WeekLease.__table__
    with engine.begin() as conn:
        result = conn.execute(update(t).where(t.c.week == week, t.c.run_id == run_id)
                              .values(expires_at=utcnow() + TTL))
    return result.rowcount == 1


def hold(conn: Connection, week: Week, run_id: int) -> None:
    """Inside the publish transaction: lock the lease row if this run still holds it.

    Raises:
        LeaseLost: it does not; nothing of this transaction may be committed.
    """
    t = m.WeekLease.__table__
    result = conn.execute(update(t).where(t.c.week == week, t.c.run_id == run_id).values(expires_at=utcnow() + TTL))
    if result.rowcount != 1:
        raise LeaseLost(f"run {run_id} of {week} lost its lease to another run; nothing published / 本次运行已失效，未发布")


def release(engine: Engine, week: Week, run_id: int) -> None:
    """Stop renewing and give the week back (only if this run still holds it)."""
    with _beats_lock:
        stop = _beats.pop(run_id, None)
    if stop is not None:
        stop.set()
    t = m.WeekLease.__table__
    with engine.begin() as conn:
        conn.execute(delete(t).where(t.c.week == week, t.c.run_id == run_id))


def holder(engine: Engine, week: Week) -> int | None:
    """The run holding the week's lease (None: free)."""
    t = m.WeekLease.__table__
    with engine.connect() as conn:
        return conn.execute(select(t.c.run_id).where(t.c.week == week)).scalar_one_or_none()


def _start_heartbeat(engine: Engine, week: Week, run_id: int) -> None:
    stop = threading.Event()
    with _beats_lock:
        _beats[run_id] = stop

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                if not renew(engine, week, run_id):
                    return  # lost: the publish transaction will refuse
            except Exception:  # a store hiccup: try again at the next beat, before the lease expires
                continue

    threading.Thread(target=beat, name=f"lease-{week}-{run_id}", daemon=True).start()
