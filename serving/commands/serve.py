"""`fanpin serve`: the JSON API and web pages on one address."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="进程数 / worker processes")] = 1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """启动服务 / serve the API (/api/v1, /openapi.json) and the web pages."""
    import uvicorn

    from serving.output import stderr

    stderr.print(f"fanpin: http://{host}:{port}/  (API /api/v1, docs /docs)", highlight=False)
    if workers > 1:
        uvicorn.run("serving.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info")
    else:
        from serving.app import create_app

        uvicorn.run(create_app(), host=host, port=port, log_level="info")
