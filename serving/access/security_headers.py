"""Response headers every answer carries: no caching of personal data, a Content-Security-Policy on pages.

A pure ASGI middleware (no per-request task or body copy, unlike Starlette's BaseHTTPMiddleware),
so the API's throughput is unchanged. Headers a route set itself win, except that an API answer
is always ``no-store``: JSON from ``/api/`` carries names, phones and scores, and must not stay in
a shared proxy or a browser cache after the officer signs out.
"""

from __future__ import annotations

from typing import Any

# Pages run no script but two inline handlers, allowed by their hashes only (CSP3
# 'unsafe-hashes'): the visit sheet's print button and the week selector's submit-on-change
# (templates/visit_sheet.html, templates/_macros.html). A new handler must be added here.
# Inline style attributes remain (small layout tweaks); images are our PNG charts or inline SVG.
# Forms post only to us; nothing may frame a page.
HANDLERS = ("window.print()", "this.form.submit()")


def page_policy() -> str:
    import base64
    import hashlib

    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(h.encode()).digest()).decode()}'" for h in HANDLERS)
    return (f"default-src 'self'; script-src 'unsafe-hashes' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


PAGE_POLICY = page_policy()
_API_PREFIX = "/api/"
_UNCACHED = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Adds ``Cache-Control: no-store`` to API answers and a CSP (plus nosniff) to HTML pages."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        api = path.startswith(_API_PREFIX)
        static = path.startswith("/static/")

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_headers(list(message.get("headers", [])), api=api, static=static)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_headers(headers: list[tuple[bytes, bytes]], *, api: bool, static: bool = False) -> list[tuple[bytes, bytes]]:
    """The response's raw headers with ours added (see the module docstring). Every answer but the
    static assets is ``no-store``: downloads (ledger, notice, visit sheets, lists) carry names."""
    names = {k.lower() for k, _ in headers}
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if api:
        headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"] + [_UNCACHED]
    if b"x-content-type-options" not in names:
        headers.append((b"x-content-type-options", b"nosniff"))
    if content_type.startswith(b"text/html"):
        if b"content-security-policy" not in names:
            headers.append((b"content-security-policy", PAGE_POLICY.encode()))
        if b"cache-control" not in names:
            headers.append(_UNCACHED)
    elif not api and not static and b"cache-control" not in names:
        headers.append(_UNCACHED)
    return headers
