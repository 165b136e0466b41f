"""Issue 30, items 4 and 6: X-Forwarded-For from loopback does not dodge the sign-in throttle when no
proxy is trusted (a real uvicorn server with `fanpin serve`'s options), and JSON bodies are capped
like forms (413 with one line). An empty store of its own (the store's part is the throttle's
counter, proven on both databases in test_access_attacks)."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from serving.settings import Settings


@pytest.fixture
def settings(tmp_path):
    return Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'store.db'}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings):
    import uvicorn

    from serving.app import create_app
    from serving.commands.serve import proxy_options

    port = _free_port()
    config = uvicorn.Config(create_app(settings, load_model=False, web=False), host="127.0.0.1", port=port,
                            log_level="warning", **proxy_options(settings.trusted_proxies))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def _guesses(base: str, n: int) -> list[int]:
    with httpx.Client(base_url=base, timeout=30) as client:
        return [client.post("/api/v1/auth/token", data={"username": f"nobody{i}", "password": "wrong-password"},
                            headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(n)]


def test_forwarded_for_from_loopback_is_ignored_unless_the_proxy_is_trusted(settings, monkeypatch):
    from serving.access import throttle

    monkeypatch.setattr(throttle, "ADDRESS_LIMIT", 4)  # the server runs in this process: fewer hashes

    server, thread, base = _serve(settings)
    try:
        codes = _guesses(base, throttle.ADDRESS_LIMIT + 5)
    finally:
        server.should_exit = True
        thread.join(30)
    # Every guess counts against 127.0.0.1: past the address limit they are refused.
    assert codes[:throttle.ADDRESS_LIMIT] == [401] * throttle.ADDRESS_LIMIT and set(codes[-5:]) == {429}, codes

    # Listed as a trusted proxy, loopback's X-Forwarded-For is believed (each guess its own address).
    trusted = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"], "home": settings.home.parent / "h2",
                                          "database_url": f"sqlite:///{settings.home.parent / 'store2.db'}"})
    server, thread, base = _serve(trusted)
    try:
        assert set(_guesses(base, throttle.ADDRESS_LIMIT + 5)) == {401}
    finally:
        server.should_exit = True
        thread.join(30)


def test_json_bodies_over_the_limit_get_413_with_one_line(settings):
    from serving.app import create_app

    with TestClient(create_app(settings, load_model=False, web=False)) as client:
        big = {"username": "x", "padding": "a" * (settings.max_body_bytes + 10)}
        answer = client.post("/api/v1/cases", json=big)
        assert answer.status_code == 413 and "\n" not in answer.json()["detail"]
        assert f"{settings.max_body_bytes:,} bytes" in answer.json()["detail"]

        def chunks():  # no Content-Length: the cap holds while the body streams in
            for _ in range(40):
                yield b"a" * 65536

        streamed = client.post("/api/v1/cases", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413, streamed.text
        small = client.post("/api/v1/cases", json={"padding": "a" * 1000})
        assert small.status_code == 401  # under the limit: the usual answer (not signed in)
