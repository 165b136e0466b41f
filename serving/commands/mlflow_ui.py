"""`fanpin mlflow-ui`: the MLflow UI on fanpin's own tracking store, on loopback.

Researchers live in MLflow; fanpin's store is a SQLite file under FANPIN_HOME unless
MLFLOW_TRACKING_URI names another, so a bare `mlflow ui` (which reads ./mlflow.db) would show an
empty store. This starts `mlflow server` on the store the settings name. `fanpin demo` starts the
same beside the app and points the data page's link at it (FANPIN_MLFLOW_UI_URL).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import IO, Annotated

import typer

from serving.output import emit, fail, stderr

DEFAULT_PORT = 5000


def ui_command(tracking_uri: str, host: str, port: int) -> list[str]:
    """The command line serving ``tracking_uri``'s runs and models read-only (run it with
    ``ui_env``): MLflow's server app behind ``serving.commands.mlflow_readonly.ReadOnly``."""
    from serving.commands.mlflow_readonly import command

    return command(host, port)


def ui_env(tracking_uri: str, settings=None) -> dict[str, str]:
    """The UI's environment: the store, and artifacts under FANPIN_HOME (``serving.tracking``)."""
    from serving.commands.mlflow_readonly import server_env
    from serving.settings import get_settings
    from serving.tracking import artifact_root

    return server_env(tracking_uri, artifact_root(settings or get_settings()))


def free_port(host: str, preferred: int) -> int:
    """``preferred`` when nothing listens there, else a port the system picks."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError(f"no free port on {host}")


def wait_until_answers(health_url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    """Block until a server started as ``process`` answers 200 at ``health_url`` (MLflow's server,
    like fanpin's, takes seconds to start); raise if it exits or stays silent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0] if process.args else 'server'} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"no answer at {health_url} within {seconds:.0f} s")


def start_ui(tracking_uri: str, host: str, port: int, log: IO[bytes] | int | None = None) -> tuple[subprocess.Popen, str]:
    """Start the MLflow UI in the background and wait until it answers; returns (process, url).

    The server runs in a session of its own: it starts uvicorn and a job runner as children, and
    ``stop_ui`` ends the whole group.
    """
    process = subprocess.Popen(ui_command(tracking_uri, host, port), stdout=log, env=ui_env(tracking_uri),
                               stderr=subprocess.STDOUT if log is not None else None, start_new_session=True)
    url = f"http://{host}:{port}"
    try:
        wait_until_answers(url + "/health", process)
    except BaseException:
        stop_ui(process)
        raise
    return process, url


def stop_ui(process: subprocess.Popen) -> None:
    """Stop a UI started by ``start_ui`` and its children (politely, then firmly)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


def mlflow_ui(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = DEFAULT_PORT,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """MLflow 界面（fanpin 的跟踪库）/ the MLflow UI on fanpin's tracking store."""
    from serving.settings import get_settings

    settings = get_settings()
    uri = settings.tracking_uri
    if uri.startswith(("http://", "https://")):
        emit({"url": uri}, as_json, summary=f"跟踪库就是 MLflow 服务器 / the store is an MLflow server: open {uri}")
        return
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        fail(f"{uri}: no tracking store yet (train a model first) / 尚无跟踪库，请先训练模型")
        return
    stderr.print(f"MLflow: http://{host}:{port}/  ({uri}); FANPIN_MLFLOW_UI_URL=http://{host}:{port} "
                 "links the data page to it / 数据页的链接", highlight=False, soft_wrap=True)
    # In the foreground: Ctrl-C stops it, like `fanpin serve`.
    raise typer.Exit(subprocess.call(ui_command(uri, host, port), env=ui_env(uri, settings)))
