"""Issue 30, items 1 and 3: nothing private on a village wall, and free text masked for every role.

A clerk's 户主姓名 cells hold an ID number, a phone, a disability or an illness ("余国超431128196306195294",
"冯娜 13912345678", "陈志福（重度残疾）", "杨梅友(尿毒症透析)"). The week is published from that export
(real weekly job, SQLite and PostgreSQL), cases are opened and put on notice through the API, and
the village notice (PDF through pdftotext, and Excel), the ledger, the list's Excel and the household
API must show none of it; case free text is masked for officers and absent for researchers.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import threading
import uuid

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.settings import Settings
from serving.store.database import get_engine, session_factory
from tests.databases import database_params, fresh_database_url
from tests.store.api_client import bearer, token
from tests.store.published import PASSWORD

pytestmark = pytest.mark.slow  # a real weekly run per database

W1 = "2025-W45"
ID = "431128196306195294"
ID_WIDE = "４３１１２８１９６３０６１９５２９５"
PHONE = "13912345678"
HEALTH = ("残疾", "尿毒症", "透析", "癌")
DIRTY = (lambda n: f"{n}{ID}", lambda n: f"{n} {PHONE}", lambda n: f"{n}（重度残疾）", lambda n: f"{n}(尿毒症透析)",
         lambda n: f"{n}{ID_WIDE}", lambda n: f"{n} 肺癌")
# Any part of the ID number (its birth date, its wide form), of the phone, or a health word.
LEAK = re.compile(rf"{ID}|19630619|{ID_WIDE}|１９６３|{PHONE}|1391234|5678\b|" + "|".join(HEALTH))


def _dirty(households: pd.DataFrame) -> pd.DataFrame:
    out = households.copy()
    out["户主姓名"] = [DIRTY[i % len(DIRTY)](name) for i, name in enumerate(out["户主姓名"])]
    return out


@pytest.fixture(scope="module", params=database_params())
def dirty(request, tmp_path_factory, small_county, fitted_champion):
    """(client, settings, users): one week published from an export whose head names are dirty."""
    from features.weeks import week_cutoff
    from serving.access.auth import create_user
    from serving.jobs.weekly import run_week
    from serving.weekly.history import import_history

    tmp = tmp_path_factory.mktemp(f"dirty-{request.param}")
    folder = tmp / "county" / "exports" / W1
    shutil.copytree(small_county / "exports" / W1, folder)
    path = folder / "households.csv"
    households = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    _dirty(households).to_csv(path, index=False, encoding="utf-8-sig")
    with fresh_database_url(request.param, tmp) as url:
        settings = Settings(home=tmp / "home", database_url=url)
        import_history(small_county, settings.ensure_home(), until=week_cutoff(W1) - pd.Timedelta(days=7))
        run_week(tmp / "county", W1, settings, champion=fitted_champion, started_by="tests")
        users = {"admin": "admin1", "county_officer": "officer1", "researcher": "research1"}
        with session_factory(get_engine(settings))() as session:
            for role, name in users.items():
                create_user(session, name, PASSWORD, role)
            session.commit()
        from serving.app import create_app

        with TestClient(create_app(settings, champion=fitted_champion)) as client:
            yield client, settings, {role: bearer(token(client, name)) for role, name in users.items()}
        get_engine(settings).dispose()


def _watchlist(client, officer) -> list[dict]:
    return client.get(f"/api/v1/weeks/{W1}/watchlist?limit=50", headers=officer).json()["items"]


def _key() -> str:
    return uuid.uuid4().hex


def _on_notice(client, officer, household_id: str, note: str) -> int:
    opened = client.post("/api/v1/cases", headers=officer, json={
        "household_id": household_id, "source": "model", "source_detail": note, "request_key": _key()})
    assert opened.status_code == 201, opened.text
    case = opened.json()["id"]
    for action, detail in (("home_check", {"at_risk": True, "note": note}), ("village_notice", {})):
        step = client.post(f"/api/v1/cases/{case}/steps", headers=officer,
                           json={"action": action, "detail": detail, "request_key": _key()})
        assert step.status_code == 201, step.text
    return case


def _xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c)


def test_names_and_free_text_carry_no_id_phone_or_health_detail_anywhere(dirty, pdf_tools, tmp_path):
    client, settings, users = dirty
    officer, researcher = users["county_officer"], users["researcher"]
    rows = _watchlist(client, officer)
    assert len(rows) >= 6
    note = f"户主说身份证{ID}，电话{PHONE}"
    cases = [_on_notice(client, officer, r["household_id"], note) for r in rows[:6]]

    # The village notice: PDF (as pdftotext reads it) and Excel; names kept, the rest cut.
    pdf = client.get("/api/v1/cases/notice.pdf", headers=officer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (tmp_path / "notice.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "notice.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "防止返贫致贫对象认定公示" in text
    assert not LEAK.search(text), LEAK.search(text)
    notice = _xlsx_text(client.get("/api/v1/cases/notice.xlsx", headers=officer).content)
    assert not LEAK.search(notice), LEAK.search(notice)
    names = [r["head_name"] for r in rows[:6]]
    assert all(n and n in notice for n in names), names  # the names themselves are still there

    # The ledger: names cut, and every case flagged for a clerk to fix the registry.
    ledger = client.get("/api/v1/cases/export.xlsx", headers=officer)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(ledger.content), read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    assert not LEAK.search(_xlsx_text(ledger.content))
    flag = table[0].index("户主姓名待更正")
    assert sum(1 for r in table[1:] if r[flag] == "是") == len(cases)

    # The list's Excel and the household API (officer sees the name, never the rest).
    listed = _xlsx_text(client.get(f"/api/v1/weeks/{W1}/export.xlsx", headers=officer).content)
    assert not LEAK.search(listed), LEAK.search(listed)
    for r in rows[:6]:
        body = client.get(f"/api/v1/households/{r['household_id']}?week={W1}", headers=officer).json()
        head = body["household"]["head_name"]
        assert head and not LEAK.search(head) and not re.search(r"\d", head), head
        assert not LEAK.search(str(body["household"])) and not LEAK.search(str(body["members"]))

    # Case free text: officers read it with the ID cut and the phone masked; researchers get none.
    seen = client.get(f"/api/v1/cases/{cases[0]}", headers=officer).json()
    assert ID not in str(seen) and PHONE not in str(seen) and f"{ID[:6]}********{ID[-4:]}" in seen["source_detail"]
    as_researcher = client.get(f"/api/v1/cases/{cases[0]}", headers=researcher).json()
    assert as_researcher["source_detail"] is None
    assert all(s["detail"].get("note") is None and s["detail"].get("source_detail") is None
               for s in as_researcher["steps"])
    listing = client.get("/api/v1/cases", headers=researcher).json()
    assert all(c["source_detail"] is None for c in listing["cases"])


def test_a_replayed_key_with_another_body_is_refused_and_parallel_steps_serialise(dirty):
    """Item 3: a request key binds its request; ten parallel notice steps store one."""
    client, settings, users = dirty
    officer = users["county_officer"]
    rows = _watchlist(client, officer)[10:13]
    key = _key()
    first = client.post("/api/v1/cases", headers=officer, json={
        "household_id": rows[0]["household_id"], "source": "model", "request_key": key})
    assert first.status_code == 201
    same = client.post("/api/v1/cases", headers=officer, json={
        "household_id": rows[0]["household_id"], "source": "model", "request_key": key})
    assert same.status_code == 201 and same.json()["id"] == first.json()["id"]  # an honest retry
    other = client.post("/api/v1/cases", headers=officer, json={
        "household_id": rows[1]["household_id"], "source": "model", "request_key": key})
    assert other.status_code == 409, other.text
    assert "request_key" in other.json()["detail"] and "\n" not in other.json()["detail"]
    case = first.json()["id"]
    step_key = _key()
    yes = {"action": "home_check", "detail": {"at_risk": True}, "request_key": step_key}
    assert client.post(f"/api/v1/cases/{case}/steps", headers=officer, json=yes).status_code == 201
    no = {**yes, "detail": {"at_risk": False}}
    assert client.post(f"/api/v1/cases/{case}/steps", headers=officer, json=no).status_code == 409
    assert client.post(f"/api/v1/cases/{case}/steps", headers=officer, json=yes).status_code == 201

    codes: list[int] = []

    def notice() -> None:
        codes.append(client.post(f"/api/v1/cases/{case}/steps", headers=officer, json={
            "action": "village_notice", "detail": {}, "request_key": _key()}).status_code)

    threads = [threading.Thread(target=notice) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert codes.count(201) == 1 and 500 not in codes, codes
    steps = client.get(f"/api/v1/cases/{case}", headers=officer).json()["steps"]
    assert [s["action"] for s in steps].count("village_notice") == 1


def test_case_dates_lie_between_the_first_registry_record_and_today_and_the_notice_runs_from_its_recording(dirty):
    """Item 9: a lead dated 1900-01-01 or tomorrow is refused; a back-dated notice still runs 5 days
    from the day it was recorded, so a case opened today cannot be decided today."""
    import datetime as dt

    client, settings, users = dirty
    officer = users["county_officer"]
    household = _watchlist(client, officer)[20]["household_id"]
    today = dt.date.today()
    for day in ("1900-01-01", "2012-12-31", str(today + dt.timedelta(days=1))):
        answer = client.post("/api/v1/cases", headers=officer, json={
            "household_id": household, "source": "model", "lead_date": day, "request_key": _key()})
        assert answer.status_code == 422 and "\n" not in answer.json()["detail"], (day, answer.text)
    case = client.post("/api/v1/cases", headers=officer, json={
        "household_id": household, "source": "model", "request_key": _key()}).json()["id"]
    early = client.post(f"/api/v1/cases/{case}/steps", headers=officer, json={
        "action": "home_check", "on": "1900-01-01", "detail": {"at_risk": True}, "request_key": _key()})
    assert early.status_code == 422
    for action in ("home_check", "village_notice"):
        step = client.post(f"/api/v1/cases/{case}/steps", headers=officer, json={
            "action": action, "on": str(today), "detail": {"at_risk": True} if action == "home_check" else {},
            "request_key": _key()})
        assert step.status_code == 201, step.text
    assert client.get(f"/api/v1/cases/{case}", headers=officer).json()["notice_start"] == str(today)
    review = client.post(f"/api/v1/cases/{case}/steps", headers=officer, json={
        "action": "township_review", "on": str(today), "detail": {"agree": True}, "request_key": _key()})
    assert review.status_code == 422 and "5" in review.json()["detail"]


def test_a_back_dated_notice_does_not_shorten_the_notice(dirty):
    """Item 9: the notice typed as ten days ago (recorded today) still starts today."""
    import datetime as dt

    client, settings, users = dirty
    officer = users["county_officer"]
    household = _watchlist(client, officer)[21]["household_id"]
    today = dt.date.today()
    lead = str(today - dt.timedelta(days=12))
    case = client.post("/api/v1/cases", headers=officer, json={
        "household_id": household, "source": "model", "lead_date": lead, "request_key": _key()}).json()["id"]
    for action, days in (("home_check", 11), ("village_notice", 10)):
        step = client.post(f"/api/v1/cases/{case}/steps", headers=officer, json={
            "action": action, "on": str(today - dt.timedelta(days=days)),
            "detail": {"at_risk": True} if action == "home_check" else {}, "request_key": _key()})
        assert step.status_code == 201, step.text
    review = client.post(f"/api/v1/cases/{case}/steps", headers=officer, json={
        "action": "township_review", "on": str(today), "detail": {"agree": True}, "request_key": _key()})
    assert review.status_code == 422, review.text
