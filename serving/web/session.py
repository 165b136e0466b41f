"""The browser session: a signed, HttpOnly cookie carrying the session token, and CSRF tokens.

The cookie holds the opaque token issued at login (the same hashed, expiring tokens the API uses),
signed with the server's secret so tampering is caught before the database is asked. The CSRF
token of a form is an HMAC of the session token (or, before login, of a random pre-session
cookie), so it is per session, needs no storage, and a page from another site cannot know it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "fanpin_session"
PRE_SESSION_COOKIE = "fanpin_pre"
LANGUAGE_COOKIE = "fanpin_lang"
CSRF_FIELD = "csrf_token"


def load_secret(settings) -> str:
    """The signing secret: FANPIN_SECRET_KEY, else a random key kept (0600) under FANPIN_HOME."""
    if getattr(settings, "secret_key", None):
        return settings.secret_key
    path = Path(settings.ensure_home()) / "web_secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class CookieSigner:
    """Signs and checks the session cookie value."""

    def __init__(self, secret: str, max_age_seconds: int):
        self._serializer = URLSafeTimedSerializer(secret, salt="fanpin-web-session")
        self._secret = secret.encode()
        self.max_age_seconds = max_age_seconds

    def sign(self, token: str) -> str:
        return self._serializer.dumps(token)

    def unsign(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return self._serializer.loads(value, max_age=self.max_age_seconds)
        except BadSignature:
            return None

    def csrf_for(self, seed: str) -> str:
        """The CSRF token bound to a session token or pre-session value."""
        return hmac.new(self._secret, b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()

    def csrf_valid(self, seed: str | None, submitted: str | None) -> bool:
        if not seed or not submitted:
            return False
        return hmac.compare_digest(self.csrf_for(seed), submitted)


def is_https(request: Request) -> bool:
    """Served over HTTPS (directly or behind a proxy that says so)."""
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    """Every cookie of ours: HttpOnly, SameSite=Lax, Secure over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def new_pre_session() -> str:
    """A random value that binds the login form's CSRF token before anyone is logged in."""
    return secrets.token_urlsafe(24)
