"""The MLflow UI that `fanpin mlflow-ui` and `fanpin demo` serve, read-only.

`mlflow server` on loopback accepted an anonymous alias write on ``fanpin-risk``: the champion
moved without an audit entry. fanpin's champion moves only through `fanpin promote` (audited), so
the UI it serves is MLflow's own ASGI app wrapped in ``ReadOnly``: reads (GET, and the POSTs MLflow
uses for searches and its GraphQL queries) pass, every other write answers 403. Artifacts are served
from FANPIN_HOME (``serving.tracking.artifact_root``), not ./mlruns.
"""

from __future__ import annotations

import json
import os
import sys
import uuid

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# MLflow's UI posts these to read: run, model and trace searches, and GraphQL queries.
_READ_POSTS = ("/search", "/graphql", "/get-history-bulk-interval", "/traces/search")


def is_read(method: str, path: str) -> bool:
    """Whether an MLflow request only reads."""
    return method in _READS or (method == "POST" and path.rstrip("/").endswith(_READ_POSTS))


class ReadOnly:
    """Pure ASGI middleware: anything but a read gets 403 with one line."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or is_read(scope["method"], scope["path"]):
            return await self.app(scope, receive, send)
        body = json.dumps({"error_code": "PERMISSION_DENIED", "message": "fanpin serves the MLflow UI read-only; "
                           "move the champion with `fanpin promote` (audited) / 只读"}).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def readonly_app():
    """uvicorn factory: MLflow's server app (configured by the environment ``server_env`` sets),
    read-only."""
    from mlflow.server.fastapi_app import app

    return ReadOnly(app)


def server_env(tracking_uri: str, artifact_root: str) -> dict[str, str]:
    """The environment MLflow's server app reads its stores from (as `mlflow server` sets it)."""
    from mlflow.server.constants import ARTIFACT_ROOT_ENV_VAR, BACKEND_STORE_URI_ENV_VAR

    return {**os.environ, BACKEND_STORE_URI_ENV_VAR: tracking_uri, ARTIFACT_ROOT_ENV_VAR: artifact_root,
            "_MLFLOW_SERVER_BOOT_ID": uuid.uuid4().hex, "_MLFLOW_SGI_NAME": "uvicorn",
            "_MLFLOW_IN_JOB_EXECUTOR": "false"}


def command(host: str, port: int) -> list[str]:
    """The read-only server's command line (one uvicorn worker)."""
    return [sys.executable, "-m", "uvicorn", "--factory", "serving.commands.mlflow_readonly:readonly_app",
            "--host", host, "--port", str(port), "--workers", "1", "--no-proxy-headers", "--log-level", "warning"]
