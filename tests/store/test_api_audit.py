"""Household reads are audited in batches: every read reaches the audit log, also when the server
is stopped (a real `fanpin serve` with two worker processes, stopped with SIGTERM)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time

import httpx
from sqlalchemy import func, select

from serving.access.auth import create_user
from serving.store import models as m
from serving.store.database import get_engine, session_factory
from tests.integration.live_server import free_port
from tests.integration.weekly_cli import FANPIN
from tests.store.published import PASSWORD


def _reads_by(engine, username: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(m.AuditEntry).where(
            m.AuditEntry.username == username, m.AuditEntry.action == "household.read"))


def _wait_up(base: str, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited early:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"server did not start:\n{log.read_text()[-3000:]}")


def test_every_read_is_audited_when_the_server_stops(published_store, tmp_path):
    p = published_store
    engine = get_engine(p.settings)
    username = f"auditor-{secrets.token_hex(3)}"
    with session_factory(engine)() as session:
        create_user(session, username, PASSWORD, "county_officer")
        session.commit()
    env = {**os.environ, "FANPIN_HOME": str(p.settings.home), "FANPIN_DATABASE_URL": p.settings.resolved_database_url,
           # An hour between writes: every entry below can only reach the store at shutdown.
           "FANPIN_AUDIT_FLUSH_SECONDS": "3600"}
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([FANPIN, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, proc, log)
        token = httpx.post(base + "/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        reads = 0
        # A fresh connection per request lets both worker processes take some of them.
        for i in range(40):
            household = (p.own_household, p.other_household)[i % 2]
            response = httpx.get(f"{base}/api/v1/households/{household}", params={"week": p.weeks[-1]},
                                 headers=headers)
            assert response.status_code == 200, response.text
            reads += 1
        assert _reads_by(engine, username) == 0  # still queued in the workers
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _reads_by(engine, username) == reads == 40
    with session_factory(engine)() as session:
        entries = session.scalars(select(m.AuditEntry).where(m.AuditEntry.username == username)).all()
    assert {e.target for e in entries if e.action == "household.read"} == {p.own_household, p.other_household}
    assert all(e.detail == {"week": p.weeks[-1]} and e.role == "county_officer" for e in entries
               if e.action == "household.read")
