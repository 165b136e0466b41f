"""`fanpin demo`: the demo job (``serving.jobs.demo.run_demo``: simulate, train, publish the
weeks, demo users), then the app served with the MLflow UI on the same tracking store on loopback
beside it (the data page links to it)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from serving.commands.mlflow_ui import DEFAULT_PORT, free_port, start_ui, stop_ui
from serving.output import emit, stderr


def demo(
    households: Annotated[int, typer.Option("--households", help="户数 / households")] = 20000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 / seed")] = 1,
    weeks: Annotated[int, typer.Option("--weeks", help="发布周数 / weeks to publish")] = 8,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    serve_app: Annotated[bool, typer.Option("--serve/--no-serve", help="准备好后启动网页 / serve when ready")] = True,
    mlflow_port: Annotated[int, typer.Option(
        "--mlflow-port", help="MLflow 界面端口（0：不启动）/ MLflow UI port on loopback (0: none)")] = DEFAULT_PORT,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """演示：模拟、训练、每周任务、用户，然后启动网页 / the whole demo, then serve the web app."""
    from serving.jobs.demo import run_demo

    result = run_demo(households, seed, weeks)
    stderr.rule("[bold]5/5 演示账号（一次性密码）/ demo accounts (one-time passwords)")
    for u in result["users"]:
        scope = f" · {u['township']}" if u["township"] else ""
        stderr.print(f"  {u['username']:<11} {u['password']:<14} {u['role']}{scope}", highlight=False)
    stderr.print(f"准备用时 / ready in {result['seconds']['total']} s: {result['seconds']}", highlight=False)
    ui = _start_mlflow_ui(mlflow_port) if serve_app and mlflow_port else None
    mlflow_url = ui[1] if ui else None
    emit({k: v for k, v in result.items() if k != "users"} | {"url": f"http://{host}:{port}/", "mlflow_url": mlflow_url},
         as_json, summary=f"打开 / open http://{host}:{port}/" + (f"  ·  MLflow {mlflow_url}/" if mlflow_url else ""))
    if serve_app:
        from serving.commands.serve import serve

        try:
            serve(host=host, port=port)
        finally:
            if ui:
                stop_ui(ui[0])


def _start_mlflow_ui(preferred_port: int):
    """The MLflow UI on the demo's store, on loopback (it has no sign-in), beside the app; the data
    page links to it through FANPIN_MLFLOW_UI_URL. None when a UI is configured already."""
    from serving.settings import get_settings

    settings = get_settings()
    if settings.mlflow_ui:
        return None
    log_path = settings.home / "mlflow-ui.log"
    with log_path.open("ab") as out:  # the child keeps its own descriptor
        process, url = start_ui(settings.tracking_uri, "127.0.0.1", free_port("127.0.0.1", preferred_port), out)
    os.environ["FANPIN_MLFLOW_UI_URL"] = url
    stderr.print(f"MLflow 界面 / UI: {url}/  (log {log_path})", highlight=False)
    return process, url

