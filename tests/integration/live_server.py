"""A real `fanpin serve` on a free loopback port, its log captured to a file."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.integration.weekly_cli import FANPIN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(env: dict[str, str], log_path: Path, timeout: float = 120, args: tuple[str, ...] = ()):
    """Yield the base URL of a running server (``args`` added to `fanpin serve`); stop it (by its
    own pid) afterwards."""
    port = free_port()
    log = open(log_path, "w")  # noqa: SIM115 - the server writes to it until the finally block
    proc = subprocess.Popen([FANPIN, "serve", "--host", "127.0.0.1", "--port", str(port), *args], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited early:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
