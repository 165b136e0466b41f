"""`fanpin serve`: the JSON API and web pages on one address."""

from __future__ import annotations

import os
from typing import Annotated

import typer


def default_workers() -> int:
    """One worker process per core: a request is CPU-bound Python, so threads share one core."""
    return max(1, os.cpu_count() or 1)


def proxy_options(trusted_proxies: list[str]) -> dict[str, object]:
    """uvicorn's proxy-header options from FANPIN_TRUSTED_PROXIES only.

    uvicorn's defaults (``proxy_headers=True``, ``forwarded_allow_ips="127.0.0.1"``) replace the
    client address with X-Forwarded-For for any request from loopback, before the app's own
    ``trusted_proxies`` is consulted: a same-host proxy that forwards the client's header let every
    password guess count against a new address. With no trusted proxy the header is ignored.
    """
    if not trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(trusted_proxies)}


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="进程数，默认每核一个 / worker processes (default: one per core)")] = None,
    access_log: Annotated[bool, typer.Option(
        "--access-log/--no-access-log",
        help="逐请求访问日志（户详情读取总是写入审计日志）/ one log line per request "
             "(household reads are always in the audit log)")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """启动服务 / serve the API (/api/v1, /openapi.json) and the web pages."""
    import uvicorn

    from serving.output import stderr
    from serving.settings import get_settings
    from serving.store.database import get_engine, upgrade

    workers = workers or default_workers()
    proxies = proxy_options(get_settings().trusted_proxies)
    # Migrate once here, before the workers start: their lifespans then find the schema at head
    # instead of racing each other to create it on an empty store.
    upgrade(get_engine(get_settings()))
    stderr.print(f"fanpin: http://{host}:{port}/  (API /api/v1, docs /docs), {workers} worker(s)", highlight=False)
    if workers > 1:
        uvicorn.run("serving.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=access_log, **proxies)
    else:
        from serving.app import create_app

        uvicorn.run(create_app(), host=host, port=port, log_level="info", access_log=access_log, **proxies)
