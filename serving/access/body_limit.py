"""A cap on request bodies (JSON like forms), as a pure ASGI middleware.

Three 100 MB JSON bodies took 6-7 s to be refused with 422 and cost each worker 290-480 MB: the
body was read whole before validation looked at it. Here a body larger than
``Settings.max_body_bytes`` (1 MB by default, what Starlette allows a form part) is refused with
413 and one line: at once when Content-Length says so, and as soon as a chunked body passes the
limit otherwise (the rest is never read).
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _is_upload(scope) -> bool:
    """The import page's file uploads (multipart to /import): they have limits of their own, each
    file's size (FANPIN_MAX_FILE_MB), their number and a zip's expansion
    (``serving.weekly.uploads``); Starlette spools the files to disk, not to memory."""
    path = scope.get("path", "")
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    return (path == "/import" or path.startswith("/import/")) and content_type.startswith(b"multipart/form-data")


def too_large_line(limit: int) -> str:
    return f"request body over the limit of {limit:,} bytes / 请求内容超过 {limit:,} 字节上限"


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS or _is_upload(scope):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._refuse(send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # An HTTPException reaches the app's handler (FastAPI re-raises it as is while
                    # reading a body), so the answer is the same 413 line.
                    raise HTTPException(413, too_large_line(self.max_bytes))
            return message

        return await self.app(scope, limited, send)

    async def _refuse(self, send) -> None:
        body = json.dumps({"detail": too_large_line(self.max_bytes)}, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
