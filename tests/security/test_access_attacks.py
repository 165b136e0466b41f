"""Attacks on access: a concurrent sign-in burst, revocation (password reset, disable, revoke; CLI
and admin API; bearer tokens and web sessions), response headers, visit-sheet PDFs under load.
On the shared published store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from serving.access import auth, throttle
from serving.app import create_app
from serving.store import models as m
from serving.store.database import get_engine, session_factory
from tests.store.api_client import bearer, token
from tests.store.published import PASSWORD
from tests.store.test_web_roles import sign_in

pytestmark = pytest.mark.slow  # real weekly runs and an app on the shared published store


@pytest.fixture(scope="module")
def app(published_store):
    application = create_app(published_store.settings, champion=published_store.champion)
    with TestClient(application) as client:
        yield client, published_store


def _user(p, name: str, role: str = "county_officer") -> None:
    with session_factory(get_engine(p.settings))() as session:
        auth.create_user(session, name, PASSWORD, role, reset=True)
        session.commit()


def _after_token_cache() -> None:
    """This process's token cache as it is ``TOKEN_CACHE_SECONDS`` later (every entry verified
    before now has expired), without sleeping that long."""
    auth._token_cache.expire(time.monotonic() + auth.TOKEN_CACHE_SECONDS + 1)


def _forget(p, *keys: str) -> None:
    with get_engine(p.settings).begin() as conn:
        conn.execute(delete(m.SigninAttempts).where(m.SigninAttempts.key.in_(keys)))


def test_a_concurrent_burst_of_guesses_checks_at_most_five_and_never_errors(app):
    _, p = app
    _user(p, "burst1")
    sessions = session_factory(get_engine(p.settings))

    def guess(i: int) -> str:
        with sessions() as session:
            try:
                auth.authenticate(session, "burst1", f"wrong-{i}", address=f"10.9.0.{i}")
                return "ok"
            except auth.Throttled:
                return "throttled"
            except auth.AuthError:
                return "checked"

    with ThreadPoolExecutor(40) as pool:
        outcomes = list(pool.map(guess, range(40)))
    assert outcomes.count("checked") <= throttle.USER_LIMIT and outcomes.count("throttled") >= 35
    assert set(outcomes) <= {"checked", "throttled"}
    with sessions() as session, pytest.raises(auth.Throttled):
        auth.authenticate(session, "burst1", PASSWORD, address="10.9.1.1")  # the right one, too late
    throttle.clear(get_engine(p.settings), "burst1")
    with sessions() as session:
        assert auth.authenticate(session, "burst1", PASSWORD, address="10.9.1.1").username == "burst1"
    _forget(p, *(f"addr:10.9.0.{i}" for i in range(40)), "addr:10.9.1.1")


def test_a_burst_over_http_gets_only_401_and_429(app):
    client, p = app
    _user(p, "burst2")
    url = "/api/v1/auth/token"
    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda i: client.post(url, data={"username": "burst2", "password": f"w{i}"}).status_code,
                              range(20)))
    assert set(codes) <= {401, 429} and codes.count(401) <= throttle.USER_LIMIT and 500 not in codes
    assert client.post(url, data={"username": "burst2", "password": PASSWORD}).status_code == 429
    _forget(p, "user:burst2", "addr:testclient")


def _cli(p, *args: str) -> dict:
    env = {"FANPIN_HOME": str(p.settings.home), "FANPIN_DATABASE_URL": p.settings.resolved_database_url,
           "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([str(Path(sys.executable).parent / "fanpin"), *args, "--json"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_password_reset_disable_and_revoke_end_every_token_and_session(app):
    client, p = app
    _user(p, "leaver")
    old = token(client, "leaver")
    web = TestClient(client.app)
    sign_in(web, "leaver")
    assert web.get("/data", follow_redirects=False).status_code == 200
    # A password reset (``fanpin users add`` on an existing user) revokes the old tokens.
    _user(p, "leaver")
    _after_token_cache()  # another process's change reaches this one's cache by then
    assert client.get("/api/v1/weeks", headers=bearer(old)).status_code == 401
    assert web.get("/data", follow_redirects=False).status_code == 303  # back to the login page

    # The CLI revokes without disabling; the admin API disables (and revokes), then enables.
    fresh = token(client, "leaver")
    assert _cli(p, "users", "revoke", "--username", "leaver")["action"] == "revoke"
    _after_token_cache()
    assert client.get("/api/v1/weeks", headers=bearer(fresh)).status_code == 401
    fresh = token(client, "leaver")
    admin = bearer(token(client, p.users["admin"]))
    officer = bearer(token(client, p.users["county_officer"]))
    assert client.post("/api/v1/users/leaver/disable", headers=officer).status_code == 403
    assert client.post("/api/v1/users/leaver/disable", headers=admin).status_code == 200
    assert client.get("/api/v1/weeks", headers=bearer(fresh)).status_code == 401
    refused = client.post("/api/v1/auth/token", data={"username": "leaver", "password": PASSWORD})
    assert refused.status_code == 401
    assert client.post("/api/v1/users/nobody-here/disable", headers=admin).status_code == 404
    assert client.post(f"/api/v1/users/{p.users['admin']}/disable", headers=admin).status_code == 400
    assert client.post("/api/v1/users/leaver/enable", headers=admin).status_code == 200
    assert client.get("/api/v1/weeks", headers=bearer(token(client, "leaver"))).status_code == 200
    assert _cli(p, "users", "disable", "--username", "leaver")["revoked"] == "all"
    web.close()
    _forget(p, "addr:testclient")


def sqlite_only(p) -> None:
    """Checks where the store plays no part run once, on SQLite (they cost a render or a page each)."""
    if not p.settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("the store plays no part here; checked on SQLite")


def test_headers_no_store_on_the_api_and_a_csp_on_pages(app):
    client, p = app
    sqlite_only(p)
    officer = bearer(token(client, p.users["county_officer"]))
    week = p.weeks[-1]
    for url in ("/api/v1/weeks", f"/api/v1/weeks/{week}/watchlist", f"/api/v1/households/{p.own_household}?week={week}",
                f"/api/v1/weeks/{week}/export.xlsx"):
        response = client.get(url, headers=officer)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store", url
    page = client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    script = next(d for d in policy.split(";") if d.strip().startswith("script-src")).split()
    assert "'self'" not in script and "'unsafe-inline'" not in script and len(script) == 4  # 2 handler hashes
    # Every inline handler of the templates is one the policy allows (else a button silently dies).
    import re

    from serving.access.security_headers import HANDLERS

    templates = Path(__file__).resolve().parents[2] / "serving" / "templates"
    used = {m for t in templates.glob("*.html") for m in re.findall(r'\bon[a-z]+="([^"]*)"', t.read_text())}
    assert used <= set(HANDLERS), used - set(HANDLERS)
    assert page.headers["cache-control"] == "no-store" and page.headers["x-content-type-options"] == "nosniff"


def test_store_and_history_files_are_owner_only(app):
    _, p = app
    home = Path(p.settings.home)
    assert home.stat().st_mode & 0o077 == 0
    for path in (home / "history").rglob("*.parquet"):
        assert path.stat().st_mode & 0o077 == 0, path
    url = p.settings.resolved_database_url
    if url.startswith("sqlite"):
        assert Path(url.split("///", 1)[1]).stat().st_mode & 0o077 == 0


def test_visit_sheet_pdfs_render_once_off_the_request_threads_with_a_per_user_limit(app, pdf_tools):
    client, p = app
    sqlite_only(p)
    week = p.weeks[-1]
    leader = TestClient(client.app)
    sign_in(leader, p.users["county_officer"])
    townships = [p.own_township, p.other_township]
    url = "/township/visit-sheets.pdf?week={}&township={}"
    results: dict[str, object] = {}

    def download(key: str, township: str) -> None:
        results[key] = leader.get(url.format(week, township))

    first = threading.Thread(target=download, args=("first", townships[0]))
    first.start()
    queue = client.app.state.pdf_queue
    deadline = time.monotonic() + 60
    while not queue._by_user and time.monotonic() < deadline:
        time.sleep(0.05)
    # While it renders: the same person's second township is refused, the API answers at once.
    assert leader.get(url.format(week, townships[1])).status_code == 429
    officer = bearer(token(client, p.users["admin"]))
    started = time.monotonic()
    assert client.get("/api/v1/weeks", headers=officer).status_code == 200
    assert time.monotonic() - started < 2.0
    first.join(600)
    response = results["first"]
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    cached = queue.path(week, int(_run_id(p, week)), townships[0], "full")
    assert cached.exists() and cached.stat().st_mode & 0o077 == 0
    started = time.monotonic()
    again = leader.get(url.format(week, townships[0]))
    assert again.status_code == 200 and again.content == response.content
    assert time.monotonic() - started < 2.0  # served from the week's rendered file
    leader.close()


def _run_id(p, week: str) -> int:
    from serving.store.publishing import published_run_id

    return published_run_id(get_engine(p.settings), week)


def test_the_address_behind_a_trusted_proxy_is_the_forwarded_one():
    assert throttle.client_address("10.0.0.1", "203.0.113.9, 10.0.0.7", ["10.0.0.1"]) == "10.0.0.7"
    assert throttle.client_address("198.51.100.4", "1.2.3.4", ["10.0.0.1"]) == "198.51.100.4"  # spoofed header
    assert throttle.client_address("10.0.0.1", None, ["10.0.0.1"]) == "10.0.0.1"


def _cli_add(p, username: str, *extra: str) -> subprocess.CompletedProcess:
    env = {"FANPIN_HOME": str(p.settings.home), "FANPIN_DATABASE_URL": p.settings.resolved_database_url,
           "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([str(Path(sys.executable).parent / "fanpin"), "users", "add", "--username", username,
                           "--role", "admin", "--password-stdin", *extra], input=PASSWORD + "\n", env=env,
                          capture_output=True, text=True, timeout=300)


def test_user_names_are_normalised_look_alikes_refused_and_add_never_resets_silently(app):
    """Issue 30, item 8: Cyrillic "аdmin1" is not a second admin; "admin1 " is not a silent reset."""
    client, p = app
    admin = p.users["admin"]
    old = token(client, admin)
    cyrillic = _cli_add(p, "\u0430dmin1")
    assert cyrillic.returncode != 0 and "look-alike" in cyrillic.stderr and "\n" not in cyrillic.stderr.strip()
    upper = _cli_add(p, admin.upper())
    assert upper.returncode != 0 and "looks like the existing" in upper.stderr
    again = _cli_add(p, f"{admin}  ")  # trailing spaces: the same user, not reset without --reset
    assert again.returncode != 0 and "--reset" in again.stderr
    _after_token_cache()
    assert client.get("/api/v1/weeks", headers=bearer(old)).status_code == 200  # nothing was reset
    with session_factory(get_engine(p.settings))() as session:
        names = set(session.scalars(select(m.User.username)))
    assert "\u0430dmin1" not in names and f"{admin}  " not in names and admin.upper() not in names
    # Full-width letters sign in as the same user.
    wide = "".join(chr(ord(c) + 0xFEE0) for c in admin)
    assert client.post("/api/v1/auth/token", data={"username": wide, "password": PASSWORD}).status_code == 200
    assert _cli_add(p, admin, "--reset").returncode == 0
    _after_token_cache()
    assert client.get("/api/v1/weeks", headers=bearer(old)).status_code == 401  # reset when asked: revoked
    _forget(p, "addr:testclient")


def test_api_documentation_needs_a_signed_in_admin_or_researcher(app):
    """Issue 30, item 11: anonymous /openapi.json and /docs listed every endpoint, user admin included."""
    client, p = app
    sqlite_only(p)
    for url in ("/openapi.json", "/docs"):
        assert client.get(url).status_code == 401, url
    for role, code in (("county_officer", 403), ("township_leader", 403), ("admin", 200), ("researcher", 200)):
        answer = client.get("/openapi.json", headers=bearer(token(client, p.users[role])))
        assert answer.status_code == code, role
    assert "/api/v1/users/{username}/disable" in answer.json()["paths"]
    web = TestClient(client.app)
    sign_in(web, p.users["admin"])
    assert web.get("/docs").status_code == 200 and web.get("/openapi.json").status_code == 200
    web.close()
    _forget(p, "addr:testclient")


def test_the_case_notice_pdf_renders_in_the_queue_and_every_download_is_no_store(app, pdf_tools):
    """Issue 30, item 5: the notice PDF rendered in the request thread (16 downloads pushed
    /api/v1/weeks to 18.6 s); the case downloads carried no Cache-Control."""
    import uuid

    client, p = app
    sqlite_only(p)
    officer = bearer(token(client, p.users["county_officer"]))
    with session_factory(get_engine(p.settings))() as session:
        taken = set(session.scalars(select(m.Case.household_id)))
        run_id = _run_id(p, p.weeks[-1])
        household = next(h for h in session.scalars(select(m.Score.household_id).where(
            m.Score.run_id == run_id, m.Score.township == p.own_township).order_by(m.Score.household_id))
            if h not in taken)
    case = client.post("/api/v1/cases", headers=officer, json={"household_id": household, "source": "model",
                                                               "request_key": uuid.uuid4().hex}).json()["id"]
    for action, detail in (("home_check", {"at_risk": True}), ("village_notice", {})):
        assert client.post(f"/api/v1/cases/{case}/steps", headers=officer, json={
            "action": action, "detail": detail, "request_key": uuid.uuid4().hex}).status_code == 201
    queue = client.app.state.pdf_queue
    results: dict[str, object] = {}
    first = threading.Thread(target=lambda: results.setdefault("pdf", client.get("/api/v1/cases/notice.pdf",
                                                                                  headers=officer)))
    first.start()
    deadline = time.monotonic() + 60
    while not queue._by_user and time.monotonic() < deadline:
        time.sleep(0.02)
    assert p.users["county_officer"] in queue._by_user  # rendering in the queue's worker process
    assert client.get("/api/v1/cases/notice.pdf", headers=officer).status_code == 429
    started = time.monotonic()
    assert client.get("/api/v1/weeks", headers=officer).status_code == 200
    assert time.monotonic() - started < 2.0
    first.join(600)
    pdf = results["pdf"]
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["cache-control"] == "no-store"
    web = TestClient(client.app)
    sign_in(web, p.users["county_officer"])
    for url in ("/cases-export/ledger.xlsx", "/cases-export/notice.xlsx", "/cases-export/notice.pdf"):
        answer = web.get(url)
        assert answer.status_code == 200 and answer.headers.get("cache-control") == "no-store", url
    web.close()
    _forget(p, "addr:testclient")
