"""The import page (导入本周数据) in real Chromium at phone width: a county officer uploads a
week as office workbooks, reviews how it was read, publishes it (the weekly job in the background)
and sees the week; a second upload for the published week asks before replacing it and is scored
again as a corrected run; a township leader and a researcher are refused.

A site of its own (history, one published week), so publishing here changes no other test's site.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.browser.conftest import PASSWORD, ROLES, LiveSite, fanpin, free_port, shoot, sign_in, wait_until_up
from tests.data import office_workbooks as ow

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
WEEK = "2025-W46"


@pytest.fixture(scope="module")
def import_site(small_county: Path, registered_champion: dict, tmp_path_factory):
    home = tmp_path_factory.mktemp("import-home")
    county = home / "county"
    env = {**os.environ, "FANPIN_HOME": str(home), "MLFLOW_TRACKING_URI": registered_champion["tracking_uri"],
           "FANPIN_COUNTY_DIR": str(county)}
    env.pop("FANPIN_DATABASE_URL", None)
    fanpin("history", "import", "--data", str(small_county), "--until", "2025-11-09", env=env)
    fanpin("weekly", "--data", str(small_county), "--week", "2025-W45", env=env)
    for role, username in ROLES.items():
        extra = ["--township", "x"] if role == "township_leader" else []
        fanpin("users", "add", "--username", username, "--role", role, *extra, "--password-stdin",
               env=env, stdin=PASSWORD + "\n")
    files = tmp_path_factory.mktemp("import-files")
    source = small_county / "exports" / WEEK
    person_level = ow.write_xlsx(ow.person_level(source), files / "人员明细及其他.xlsx")
    per_table = ow.write_xls(ow.per_table(source), files / "本周导出.xls")
    port = free_port()
    log = (home / "serve.log").open("w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("fanpin")), "serve", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        yield LiveSite(base_url=base, home=home, county=county, own_township="", other_township="",
                       other_household="", users=dict(ROLES)), {"person_level": person_level, "per_table": per_table,
                                                               "csv": source}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") == 390


def _upload(page, site, path: Path) -> None:
    page.goto(site.base_url + "/import")
    _fits(page)
    page.fill("#week", WEEK)
    page.set_input_files("#files", str(path))
    page.click("#upload", timeout=300_000)  # the upload is read and checked before the review shows
    page.wait_for_url(lambda url: "/import/" in url, timeout=300_000)


def _published(page) -> None:
    page.wait_for_selector("#run-status[data-state=done], #run-status[data-state=failed]", timeout=300_000)
    assert page.get_attribute("#run-status", "data-state") == "done", page.inner_text("#run-status")


def _runs(site) -> list[tuple[int, str]]:
    with sqlite3.connect(site.home / "fanpin.db") as db:
        published = db.execute("SELECT published_run_id FROM weeks WHERE week = ?", (WEEK,)).fetchone()
        return published, db.execute("SELECT id, status FROM runs WHERE week = ?", (WEEK,)).fetchall()


def test_upload_review_publish_and_see_the_week_on_a_phone(phone, import_site, screens):
    site, files = import_site
    page = phone
    sign_in(page, site, "county_officer")
    _upload(page, site, files["person_level"])
    households = pd.read_csv(files["csv"] / "households.csv", dtype=str)
    alone = ow.households_without_members(files["csv"])  # registered before their members: quarantined
    assert page.inner_text("#counts tr[data-table=households] td.valid") == str(len(households) - alone)
    non_data = page.inner_text("#non-data")
    assert "合计" in non_data and "制表人" in non_data
    assert "2025-W45" in page.inner_text("#completeness")
    _fits(page)
    shoot(page, screens, "import-review-390")
    page.click("#publish", timeout=120_000)
    _published(page)
    _fits(page)
    page.click("#see-week")
    page.wait_for_url(lambda url: "/watchlist" in url)
    assert WEEK in page.content()
    stored = list((site.county / "exports" / WEEK).iterdir())
    assert [p.name for p in stored] == ["人员明细及其他.xlsx"]
    assert stored[0].read_bytes() == files["person_level"].read_bytes()  # kept exactly as received
    first_run, _ = _runs(site)

    # A second upload for the published week asks before replacing it, then reruns the week.
    _upload(page, site, files["per_table"])
    assert page.is_visible("#existing-week")
    page.click("#publish", timeout=120_000)
    page.wait_for_selector("#confirm-replace")
    assert (site.county / "exports" / WEEK / "人员明细及其他.xlsx").exists()  # nothing replaced yet
    _fits(page)
    page.click("#replace", timeout=120_000)
    _published(page)
    second_run, runs = _runs(site)
    assert second_run != first_run and len(runs) == 2
    assert [p.name for p in (site.county / "exports" / WEEK).iterdir()] == ["本周导出.xls"]
    replaced = list((site.county / "replaced").iterdir())
    assert any((p / "人员明细及其他.xlsx").exists() for p in replaced if p.is_dir())
    with sqlite3.connect(site.home / "fanpin.db") as db:
        actions = {a for (a,) in db.execute("SELECT action FROM audit_log WHERE action LIKE 'import.%'")}
    assert actions >= {"import.upload", "import.publish"}


@pytest.mark.parametrize("role", ["township_leader", "researcher"])
def test_township_leader_and_researcher_are_refused(phone, import_site, role):
    site, _ = import_site
    sign_in(phone, site, role)
    response = phone.goto(site.base_url + "/import")
    assert response.status == 403
    assert phone.locator("a[href='/import']").count() == 0


def test_a_form_without_the_csrf_token_is_refused(phone, import_site):
    site, files = import_site
    sign_in(phone, site, "admin")
    response = phone.request.post(site.base_url + "/import", multipart={
        "week": WEEK, "files": {"name": "a.csv", "mimeType": "text/csv", "buffer": b"x"}})
    assert response.status == 403
