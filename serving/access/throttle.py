"""Sign-in throttling that holds under concurrency: an atomic attempt counter per user and per address.

The old throttle read a row, compared and wrote it back: forty sign-ins fired at once for one user
all read "4 failures", so the right password got through after 22-26 wrong ones, and a third of
them collided on the row's primary key (HTTP 500). Here every attempt first *reserves* its place
with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (atomic on SQLite and PostgreSQL),
before the password is checked. An attempt whose number is past the limit is refused without
looking at the password, so however many arrive together at most ``USER_LIMIT`` of them are
checked. A successful sign-in clears the user's counter and gives its address back its place.

Two counters: ``user:<name>`` (guessing one person's password) and ``addr:<ip>`` (trying many
names from one machine; a higher limit, since an office may share an address).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, case, delete, literal, null, update
from sqlalchemy.orm import Session

from serving.store import models as m
from serving.store.publishing import utcnow

USER_LIMIT = 5  # attempts per user name within the window (the five-failure lock)
ADDRESS_LIMIT = 30  # attempts per client address within the window
WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: list[str]) -> str | None:
    """The address an attempt counts against: the peer, or behind a trusted reverse proxy the
    address that proxy saw (the last hop of X-Forwarded-For). Behind an untrusted proxy every user
    would share the proxy's address, so configure ``FANPIN_TRUSTED_PROXIES`` when there is one."""
    if peer in trusted_proxies and forwarded_for:
        return forwarded_for.split(",")[-1].strip() or peer
    return peer


def request_address(request, settings) -> str | None:
    """``client_address`` of a Starlette request (the API's and the login page's)."""
    return client_address(request.client.host if request.client else None, request.headers.get("x-forwarded-for"),
                          getattr(settings, "trusted_proxies", []))


def keys(username: str, address: str | None) -> list[tuple[str, int]]:
    """The counters an attempt counts against, with their limits."""
    out = [(f"user:{username[:150]}", USER_LIMIT)]
    if address:
        out.append((f"addr:{address[:150]}", ADDRESS_LIMIT))
    return out


def _upsert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def reserve(session: Session, key: str, limit: int, now: datetime | None = None) -> bool:
    """Count one attempt against ``key`` atomically; False when it is past the limit (or locked).

    A window that ended (and is not locked) starts again at this attempt. Crossing the limit
    locks the key for ``LOCK_TIME``. Commits at once so concurrent requests see the count.
    """
    now = now or utcnow()
    t = m.SigninAttempts.__table__
    insert = _upsert(session.get_bind().dialect.name)
    stale = (t.c.window_start < now - WINDOW) & (t.c.locked_until.is_(None) | (t.c.locked_until < now))
    statement = insert(t).values(key=key, attempts=1, window_start=now, locked_until=None)
    statement = statement.on_conflict_do_update(
        index_elements=[t.c.key],
        set_={
            "attempts": case((stale, literal(1)), else_=t.c.attempts + 1),
            "window_start": case((stale, literal(now)), else_=t.c.window_start),
            "locked_until": case((stale, null()), else_=t.c.locked_until),
        },
    ).returning(t.c.attempts, t.c.locked_until)
    attempts, locked_until = session.execute(statement).one()
    allowed = attempts <= limit and (locked_until is None or locked_until <= now)
    if not allowed and (locked_until is None or locked_until <= now):
        session.execute(update(t).where(t.c.key == key).values(locked_until=now + LOCK_TIME))
    session.commit()
    return allowed


def reserve_all(session: Session, username: str, address: str | None) -> bool:
    """Reserve the attempt on every counter (all are counted even when one already refuses)."""
    results = [reserve(session, key, limit) for key, limit in keys(username, address)]
    return all(results)


def succeeded(session: Session, username: str, address: str | None) -> None:
    """A correct sign-in: the user's counter is cleared and the address gets its attempt back."""
    t = m.SigninAttempts.__table__
    session.execute(delete(t).where(t.c.key == f"user:{username[:150]}"))
    if address:
        session.execute(
            update(t).where(t.c.key == f"addr:{address[:150]}", t.c.attempts > 0).values(attempts=t.c.attempts - 1)
        )


def clear(engine: Engine, username: str | None = None) -> None:
    """Forget the counters (of one user, or all): an administrator unlocking after a lock."""
    t = m.SigninAttempts.__table__
    with engine.begin() as conn:
        statement = delete(t) if username is None else delete(t).where(t.c.key == f"user:{username[:150]}")
        conn.execute(statement)
