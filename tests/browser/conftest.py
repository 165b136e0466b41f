"""A live fanpin for the browser tests: a small simulated county trained (the session's registered
champion), imported, published for three weeks and served by ``fanpin serve`` on loopback, all with
the real commands in subprocesses; and Debian's Chromium driven by Playwright (never a downloaded
browser).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from serving.commands.mlflow_ui import start_ui, stop_ui, wait_until_answers

WEEKS = ("2025-W45", "2025-W46", "2025-W47")
YEAR_BACK = "2024-W45"  # published first, from an export rebuilt from the history
PASSWORD = "browser-test-password"
ROLES = {"admin": "admin_b", "county_officer": "officer_b", "township_leader": "leader_b", "researcher": "research_b"}
SCREENS_COPY = Path("/tmp/fanpin-screens")
# Flags that work in this sandbox: without the background-networking ones Chromium keeps trying to
# reach Google's hosts through a closed network.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass
class LiveSite:
    """The served county and what the tests need to know about it."""

    base_url: str
    home: Path
    county: Path
    own_township: str
    other_township: str
    other_household: str
    users: dict[str, str] = field(default_factory=dict)  # role -> username
    password: str = PASSWORD
    mlflow_url: str = ""  # the MLflow UI on the site's tracking store
    run_id: str = ""  # the MLflow run of the served model
    mlflow_url: str = ""  # the MLflow UI on the site's tracking store
    run_id: str = ""  # the MLflow run of the served model


def fanpin(*args: str, env: dict[str, str], stdin: str | None = None, timeout: int = 900) -> dict:
    """Run a real `fanpin` command and return its JSON result (the last line of stdout)."""
    exe = Path(sys.executable).with_name("fanpin")
    done = subprocess.run(
        [str(exe), *args, "--json"], input=stdin, capture_output=True, text=True, env=env, timeout=timeout
    )
    assert done.returncode == 0, f"fanpin {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 300) -> None:
    wait_until_answers(url + "/healthz", process, seconds)


@pytest.fixture(scope="session")
def live_site(small_county: Path, registered_champion: dict, tmp_path_factory: pytest.TempPathFactory):
    """Import the history, publish three weeks, add one user per role and serve, all with the real
    commands, in a home of its own; the champion is the session's `fanpin train` run
    (``registered_champion``, whose MLflow store the weekly CLI tests read too: nothing here
    writes to it)."""
    import sqlite3

    home = tmp_path_factory.mktemp("browser-home")
    env = {**os.environ, "FANPIN_HOME": str(home), "MLFLOW_TRACKING_URI": registered_champion["tracking_uri"]}
    env.pop("FANPIN_DATABASE_URL", None)
    trained = registered_champion
    # A week a year back first (as `fanpin demo` publishes them): its outcomes have matured, so the
    # follow-through page shows the model / officers / both table for it.
    from features.simulator.export import write_earlier_exports

    (earlier,) = write_earlier_exports(small_county, [YEAR_BACK], home / "earlier-exports")
    fanpin("history", "import", "--data", str(small_county), "--until", "2024-11-03", env=env)
    fanpin("weekly", "--data", str(earlier), "--week", YEAR_BACK, env=env)
    fanpin("history", "import", "--data", str(small_county), "--until", "2025-11-02", env=env)
    for week in WEEKS:
        fanpin("weekly", "--data", str(small_county), "--week", week, env=env)
    # A county at work (simulated, as `fanpin demo` does): the follow-through pages are not empty.
    fanpin("simulate-officers", "--data", str(small_county), "--seed", "1", env=env)

    with sqlite3.connect(home / "fanpin.db") as db:
        run_id = db.execute("SELECT published_run_id FROM weeks WHERE week = ?", (WEEKS[-1],)).fetchone()[0]
        listed = db.execute(
            "SELECT township, household_id FROM scores WHERE run_id = ? AND on_watchlist = 1 ORDER BY rank", (run_id,)
        ).fetchall()
    townships = sorted({t for t, _ in listed})
    own, other = townships[0], townships[1]
    for role, username in ROLES.items():
        extra = ["--township", own] if role == "township_leader" else []
        fanpin("users", "add", "--username", username, "--role", role, *extra, "--password-stdin",
               env=env, stdin=PASSWORD + "\n")

    # The MLflow UI on the same store, as `fanpin demo` serves it; the data page links to it.
    ui_port = free_port()
    env["FANPIN_MLFLOW_UI_URL"] = f"http://127.0.0.1:{ui_port}"
    ui = None
    port = free_port()
    log = (home / "serve.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("fanpin")), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with (home / "mlflow-ui.log").open("wb") as ui_log:  # both start at once: each takes seconds
            ui, ui_url = start_ui(env["MLFLOW_TRACKING_URI"], "127.0.0.1", ui_port, ui_log)
        wait_until_up(base, server)
        yield LiveSite(
            base_url=base, home=home, county=small_county, own_township=own, other_township=other,
            other_household=next(h for t, h in listed if t == other), users=dict(ROLES),
            mlflow_url=ui_url, run_id=trained["run_id"],
        )
    finally:
        if ui is not None:
            stop_ui(ui)
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    """Headless Debian Chromium through Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page for each test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go (the session's tmp folder; copied to /tmp/fanpin-screens for people)."""
    return tmp_path_factory.mktemp("screens")


def shoot(page, screens: Path, name: str) -> Path:
    """A full-page screenshot, kept under the test's tmp folder and copied for people to look at."""
    path = screens / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    try:
        SCREENS_COPY.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENS_COPY / path.name)
    except OSError:
        pass
    return path


def sign_in(page, site: LiveSite, role: str) -> None:
    """Sign in through the login form as the site's user of ``role``."""
    page.goto(site.base_url + "/login")
    page.fill("#username", site.users[role])
    page.fill("#password", site.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def set_language(page, site: LiveSite, code: str, next_path: str = "/") -> None:
    page.goto(f"{site.base_url}/lang/{code}?next={next_path}")


