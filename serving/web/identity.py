"""The web pages' bridge to ``serving.access.auth``: sign-in, session tokens, masking, audit.

Nothing here re-implements authentication: password checks, throttling, tokens, the role
matrix, masking of direct identifiers and the audit log are the API's own functions, so the
pages and the API cannot disagree about who may see what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from serving.access import auth
from serving.web.user import WebUser


@dataclass
class SignIn:
    """The result of a sign-in attempt."""

    user: Any | None
    throttled: bool = False


def _web_user(who: auth.Principal, token: str) -> WebUser:
    return WebUser(id=who.user_id, username=who.username, role=who.role, township=who.township, token=token)


def sign_in(state, username: str, password: str, address: str | None = None) -> SignIn:
    """Check the password (throttled like the API, per user and per address) and open a session
    backed by an API token."""
    with state.sessions() as db:
        try:
            who = auth.authenticate(db, username, password, address)
        except auth.Throttled:
            return SignIn(None, throttled=True)
        except auth.AuthError:
            return SignIn(None)
        token = auth.issue_token(db, who.user_id, minutes=max(1, state.signer.max_age_seconds // 60))
        auth.audit(db, who, "login", detail={"via": "web"})
        db.commit()
        return SignIn(_web_user(who, token))


def user_for_token(state, token: str | None):
    """The active user behind a session token (None when expired, revoked or unknown)."""
    if not token:
        return None
    with state.sessions() as db:
        who = auth.principal_for_token(db, token)
        return _web_user(who, token) if who is not None else None


def sign_out(state, user) -> None:
    """Revoke the session's token so a copied cookie stops working."""
    with state.sessions() as db:
        auth.revoke_token(db, user.token)


def mask(user, record: dict[str, Any] | None) -> dict[str, Any]:
    """One record (identity block or member) with direct identifiers masked for the user's role."""
    return auth.mask_record(record or {}, user.principal)


def mask_values(user, rows: list[dict[str, Any]], key: str = "value") -> list[dict[str, Any]]:
    """Rows whose free-text ``key`` has ID-number and phone look-alikes masked for the user's role."""
    return [{**row, key: auth.mask_text(row.get(key), user.principal)} for row in rows]


def allowed(user, action: str) -> bool:
    """The API's role matrix, asked for a page."""
    return auth.allowed(user.principal, action)


def audit(state, user, action: str, target: str | None, detail: dict[str, Any] | None = None) -> None:
    """One audit-log entry (who, when, what) for a read of a household or an export."""
    with state.sessions() as db:
        auth.audit(db, user.principal, action, target, detail)
        db.commit()
