"""Who may see what: passwords, tokens, roles, township scope, masking and the audit log.

Shared by the JSON API (bearer tokens) and the web pages (session cookies): both resolve a
``Principal`` and then ask the same questions here, so the role matrix is defined once.

Roles:
- ``admin``: everything, all townships (manages users).
- ``county_officer``: all townships of the county.
- ``township_leader``: their own township only; another township's household answers exactly like
  an unknown one (404), so existence elsewhere never leaks.
- ``researcher``: scores, explanations and drift without direct identifiers (no names, ID numbers
  or phones); cannot record feedback.
ID numbers are never shown whole to anyone (first 6 and last 4 digits), names and phones only to
the roles that visit households.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import TTLCache
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from features.contract import sensitive_columns
from features.identifiers import mask_id_numbers, mask_personal
from features.text_masking import clean_name, mask_free_text
from serving.access.usernames import normalise_username
from serving.store import models as m
from serving.store.publishing import utcnow

ROLES = {
    "admin": ("管理员", "administrator"),
    "county_officer": ("县级监测员", "county officer"),
    "township_leader": ("乡镇领导", "township leader"),
    "researcher": ("研究人员", "researcher"),
}
ALL_TOWNSHIP_ROLES = ("admin", "county_officer", "researcher")

# Action -> roles allowed. Township scope is checked separately (``in_scope``).
PERMISSIONS: dict[str, frozenset[str]] = {
    "weeks:read": frozenset(ROLES),
    "watchlist:read": frozenset(ROLES),
    "household:read": frozenset(ROLES),
    "feedback:write": frozenset({"admin", "county_officer", "township_leader"}),
    "export:write": frozenset(ROLES),
    "model:read": frozenset(ROLES),
    "drift:read": frozenset({"admin", "county_officer", "researcher"}),
    "quarantine:read": frozenset({"admin", "county_officer", "researcher"}),
    "users:manage": frozenset({"admin"}),
    "capacity:manage": frozenset({"admin"}),
    # How warnings turned into help: the county's officers all townships, leaders their own.
    "follow_through:read": frozenset({"admin", "county_officer", "township_leader"}),
    # Cases (the 台账): everyone reads within their scope; those who visit record steps; the county
    # decides; the village notice carries names, so it is not for researchers.
    "case:read": frozenset(ROLES),
    "case:write": frozenset({"admin", "county_officer", "township_leader"}),
    "case:decide": frozenset({"admin", "county_officer"}),
    "notice:export": frozenset({"admin", "county_officer", "township_leader"}),
    # Bringing in a week's export from the import page (导入本周数据): the county's job.
    "import:write": frozenset({"admin", "county_officer"}),
}

_hasher = PasswordHasher()


class AuthError(Exception):
    """Sign-in refused (bad credentials); the message is safe to show."""


class Throttled(AuthError):
    """Too many failed sign-ins for this username."""


@dataclass(frozen=True)
class Principal:
    """The signed-in person as the rest of the code sees them."""

    user_id: int
    username: str
    role: str
    township: str | None

    @property
    def sees_identifiers(self) -> bool:
        return self.role != "researcher"


# --------------------------------------------------------------------------- passwords and users


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session: Session, username: str, password: str, role: str, township: str | None = None, *,
                reset: bool = False) -> m.User:
    """Add a user; with ``reset``, an existing one's password, role and township are reset instead.

    The name is normalised (``normalise_username``); a name that differs from an existing user's
    only by case is refused as a look-alike. Without ``reset`` an existing name is refused: a
    typo in ``fanpin users add`` must not silently reset somebody.
    """
    username = normalise_username(username)
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "township_leader" and not township:
        raise ValueError("a township leader needs --township / 乡镇领导必须指定乡镇")
    if len(password) < 8:
        raise ValueError("password too short (at least 8 characters) / 密码至少8位")
    township = township if role == "township_leader" else None
    user = session.scalar(select(m.User).where(m.User.username == username))
    if user is None:
        twin = session.scalar(select(m.User.username).where(func.lower(m.User.username) == username.lower()))
        if twin is not None:
            raise ValueError(f"user name {username!r} looks like the existing {twin!r} / 与已有用户名相似")
        user = m.User(username=username, created_at=utcnow())
        session.add(user)
    elif not reset:
        raise ValueError(f"user {username!r} exists; pass --reset to reset their password, role and township "
                         f"/ 用户已存在，如需重置请加 --reset")
    else:  # a reset password (or role) must not leave the old bearer tokens and web sessions working
        revoke_user_tokens(session, user.id)
    user.password_hash = hash_password(password)
    user.role = role
    user.township = township
    user.active = True
    session.flush()
    return user


def principal(user: m.User) -> Principal:
    return Principal(user.id, user.username, user.role, user.township)


def authenticate(session: Session, username: str, password: str, address: str | None = None) -> Principal:
    """Check a username and password, throttling attempts per user and per client address.

    The attempt is counted (atomically, ``serving.access.throttle``) before the password is checked, so
    a burst of concurrent guesses cannot get more than the limit checked.

    Raises:
        Throttled: too many attempts for this username or from this address.
        AuthError: wrong username or password, or a disabled user (one message for all).
    """
    from serving.access import throttle

    with contextlib.suppress(ValueError):  # a name nobody can have: counted and refused like an unknown one
        username = normalise_username(username)
    if not throttle.reserve_all(session, username, address):
        raise Throttled("too many failed sign-ins, try again later / 登录失败次数过多，请稍后再试")
    user = session.scalar(select(m.User).where(m.User.username == username))
    # Hash even for unknown users so timing does not reveal which names exist.
    ok = verify_password(user.password_hash if user else _DUMMY_HASH(), password) and user is not None
    if ok and user.active:
        throttle.succeeded(session, username, address)
        session.commit()
        return principal(user)
    raise AuthError("wrong username or password / 用户名或密码错误")


_dummy: list[str] = []


def _DUMMY_HASH() -> str:  # noqa: N802 - a lazily computed constant
    if not _dummy:
        _dummy.append(hash_password(secrets.token_hex(8)))
    return _dummy[0]


# --------------------------------------------------------------------------- tokens


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user_id: int, minutes: int) -> str:
    """A new bearer token for a user; only its hash is stored. Expired tokens are cleaned up."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(m.Token).where(m.Token.expires_at < now))
    session.execute(
        insert(m.Token).values(
            token_hash=_digest(token), user_id=user_id, created_at=now, expires_at=now + timedelta(minutes=minutes)
        )
    )
    session.commit()
    return token


@lru_cache(maxsize=1)
def _token_statement():
    # Built once: every API request runs it.
    u, t = m.User.__table__, m.Token.__table__
    return (
        select(u.c.id, u.c.username, u.c.role, u.c.township, u.c.active, t.c.expires_at)
        .join(t, t.c.user_id == u.c.id)
        .where(t.c.token_hash == bindparam("digest"), t.c.expires_at > bindparam("now"), t.c.revoked.is_(False))
    )


# Every API request presents its token. A valid token's principal is kept for a few seconds so
# most requests skip the store: expiry is still checked on every hit against the token's own
# expires_at, a revocation in this process evicts at once, and a revocation or role change made
# by another process (another worker, the CLI) takes effect within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 5.0
_token_cache: TTLCache = TTLCache(maxsize=10_000, ttl=TOKEN_CACHE_SECONDS)
_token_cache_lock = threading.Lock()


def _token_key(session: Session, token: str) -> tuple[str, str]:
    return str(session.get_bind().url), _digest(token)  # token hashes are only unique per store


def cached_principal(session: Session, token: str) -> Principal | None:
    """The principal of a recently verified, still unexpired token (None: ask the store)."""
    key = _token_key(session, token)
    with _token_cache_lock:
        hit = _token_cache.get(key)
    if hit is None:
        return None
    who, expires_at = hit
    if expires_at <= utcnow():
        with _token_cache_lock:
            _token_cache.pop(key, None)
        return None
    return who


def principal_for_token(session: Session, token: str) -> Principal | None:
    """The active user a valid, unexpired, unrevoked token belongs to (None otherwise)."""
    who = cached_principal(session, token)
    if who is not None:
        return who
    row = session.execute(_token_statement(), {"digest": _digest(token), "now": utcnow()}).first()
    if row is None or not row.active:
        return None
    who = Principal(row.id, row.username, row.role, row.township)
    with _token_cache_lock:
        _token_cache[_token_key(session, token)] = (who, row.expires_at)
    return who


def revoke_token(session: Session, token: str) -> None:
    session.execute(update(m.Token).where(m.Token.token_hash == _digest(token)).values(revoked=True))
    session.commit()
    with _token_cache_lock:
        _token_cache.pop(_token_key(session, token), None)


def revoke_user_tokens(session: Session, user_id: int) -> int:
    """Revoke every bearer token and web session of a user (the caller commits). Returns how many.

    This process forgets them at once; other processes within ``TOKEN_CACHE_SECONDS``.
    """
    result = session.execute(
        update(m.Token).where(m.Token.user_id == user_id, m.Token.revoked.is_(False)).values(revoked=True)
    )
    with _token_cache_lock:
        for key in [k for k, (who, _) in _token_cache.items() if who.user_id == user_id]:
            _token_cache.pop(key, None)
    return int(result.rowcount or 0)


def user_named(session: Session, username: str) -> m.User:
    """The user with this name; LookupError (one line) when there is none."""
    try:
        username = normalise_username(username)
    except ValueError:
        raise LookupError(f"no such user / 无此用户: {username}") from None
    user = session.scalar(select(m.User).where(m.User.username == username))
    if user is None:
        raise LookupError(f"no such user / 无此用户: {username}")
    return user


def set_active(session: Session, username: str, active: bool) -> m.User:
    """Enable or disable a user; disabling also revokes all their tokens and sessions (caller commits).

    Raises:
        LookupError: no such user.
    """
    user = user_named(session, username)
    user.active = active
    if not active:
        revoke_user_tokens(session, user.id)
    session.flush()
    return user


# --------------------------------------------------------------------------- scope


def allowed(who: Principal, action: str) -> bool:
    """Whether the role may perform the action at all."""
    return who.role in PERMISSIONS[action]


def township_scope(who: Principal) -> str | None:
    """The only township the person may see (None: all townships)."""
    return who.township if who.role == "township_leader" else None


def in_scope(who: Principal, township: str | None) -> bool:
    """Whether the person may see households of ``township``."""
    scope = township_scope(who)
    return scope is None or township == scope


# --------------------------------------------------------------------------- masking

IDENTIFIERS = sensitive_columns()  # head_name, head_id_number, phone, name, id_number
_ID_NUMBERS = {"head_id_number", "id_number"}
_NAMES = {"head_name", "name"}


def mask_id_number(value: str | None) -> str | None:
    """Keep the region (first 6) and the last 4 characters: enough to tell people apart on a visit."""
    if not value:
        return value
    text = str(value)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_record(record: dict[str, Any], who: Principal) -> dict[str, Any]:
    """A copy of one row with its direct identifiers masked for the role.

    Researchers get None for every identifier; others see names and phones, and ID numbers
    masked in the middle. A name is shown as a name only (``features.text_masking.clean_name``): an ID
    number, a phone or a health word a clerk typed into the name field is cut for every role.
    """
    out = dict(record)
    for key in IDENTIFIERS & out.keys():
        if not who.sees_identifiers:
            out[key] = None
        elif key in _ID_NUMBERS:
            out[key] = mask_id_number(out[key])
        elif key in _NAMES and out[key] is not None:
            out[key] = clean_name(out[key])[0]
    return out


def free_text(text: str | None, who: Principal) -> str | None:
    """A free-text field (a case note, a lead's source detail, a feedback note) as the role may
    read it: researchers get none at all; everyone else gets it with ID numbers cut to their first
    6 and last 4 characters and phones starred out (``features.text_masking``)."""
    if not who.sees_identifiers:
        return None
    return mask_free_text(text)


def mask_text(text: str | None, who: Principal) -> str | None:
    """Free text (a quarantined value, a message) with identifier look-alikes masked for the role:
    ID numbers never whole, and for researchers no ID number or phone at all."""
    if not text:
        return text
    return mask_id_numbers(text) if who.sees_identifiers else mask_personal(text)


# --------------------------------------------------------------------------- audit


def audit_entry(who: Principal, action: str, target: str | None = None,
                detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """One audit-log row (who, when, what), stamped now."""
    return {"at": utcnow(), "username": who.username, "role": who.role, "action": action, "target": target,
            "detail": detail}


def audit(session: Session, who: Principal, action: str, target: str | None = None,
          detail: dict[str, Any] | None = None) -> None:
    """Write who did what to the audit log (commit is the caller's, with its own work)."""
    session.execute(audit_statement(), audit_entry(who, action, target, detail))


@lru_cache(maxsize=1)
def audit_statement():
    """The insert of audit-log rows (built once)."""
    return insert(m.AuditEntry.__table__)
