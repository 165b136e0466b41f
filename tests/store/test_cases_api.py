"""Cases through the JSON API: the role x township matrix, a case from lead to elimination, retries
that record once, the clock at day 15, the village notice without ID numbers or health detail,
the audit, and `fanpin cases --json`. Runs on SQLite and PostgreSQL (``published_store``)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from features import vocabulary as voc
from features.json_safe import records
from serving.store import models as m
from serving.store import week_inputs
from serving.store.database import get_engine, session_factory
from tests.store.api_client import bearer, signed_in_api

CHECKS = {"income_stable": True, "spending_resolved": True, "guarantees_secure": True}
# Words a notice must never carry: health states, disability kinds, illness-related risk types.
HEALTH_WORDS = {*voc.HEALTH.values(), *(v for k, v in voc.DISABILITY_TYPE.items() if k != "none"), "因病", "因残",
                "残疾", "大病", "慢性病"} - {"健康"}


@pytest.fixture(scope="module")
def api(published_store):
    with signed_in_api(published_store) as (client, tokens):
        yield client, tokens, published_store


def key() -> str:
    return uuid.uuid4().hex


def _households(p, township: str, working_age: bool, n: int = 1) -> list[str]:
    """Households of the latest week in ``township`` with (or without) working-age members and no
    case yet (the store is shared by the tests of the session)."""
    with session_factory(get_engine(p.settings))() as s:
        taken = set(s.scalars(select(m.Case.household_id)))
        run_id = s.scalar(select(m.Week.published_run_id).where(m.Week.week == p.weeks[-1]))
        ids = s.scalars(select(m.Score.household_id).where(m.Score.run_id == run_id, m.Score.township == township)
                        .order_by(m.Score.household_id)).all()
        frame = week_inputs.frame_rows(s, run_id, township, list(ids))
        rows = [(f["household_id"], f) for f in records(frame)]
    found = [h for h, facts in rows
             if (float(facts.get("n_working_age") or 0) > 0) == working_age and h not in taken]
    assert len(found) >= n
    return found[-n:]


def _open(client, tok, household_id, lead=date(2025, 1, 6), source="model", k=None):
    body = {"household_id": household_id, "source": source, "lead_date": str(lead), "request_key": k or key()}
    return client.post("/api/v1/cases", json=body, headers=bearer(tok))


def _step(client, tok, case_id, action, on, detail=None, k=None):
    body = {"action": action, "on": str(on), "detail": detail or {}, "request_key": k or key()}
    return client.post(f"/api/v1/cases/{case_id}/steps", json=body, headers=bearer(tok))


def notice_recorded_on(p, case_id: int, day: date) -> None:
    """As if the notice step had been recorded on ``day``: the notice runs from the day its step is
    recorded (issue 30), and these cases are recorded today with dates of the past."""
    from sqlalchemy import update

    with get_engine(p.settings).begin() as conn:
        conn.execute(update(m.Case).where(m.Case.id == case_id).values(notice_start=day))


def _to_decision(client, tok, household, lead: date, *, identified: bool, p=None) -> int:
    """Open a case and take it through the home check, notice and review to the county decision."""
    case_id = _open(client, tok, household, lead).json()["id"]
    for action, days, detail in [("home_check", 1, {"at_risk": True}), ("village_notice", 2, {}),
                                 ("township_review", 7, {}), ("county_decision", 12, {"identified": identified})]:
        assert _step(client, tok, case_id, action, lead + timedelta(days=days), detail).status_code == 201, action
        if action == "village_notice":
            notice_recorded_on(p, case_id, lead + timedelta(days=days))
    return case_id


def test_role_by_township_matrix_for_cases(api):
    client, tokens, p = api
    own = _households(p, p.own_township, True)[0]
    other = _households(p, p.other_township, True)[0]
    admin = tokens["admin"]
    own_case = _open(client, admin, own).json()["id"]
    other_case = _open(client, admin, other).json()["id"]
    _step(client, admin, own_case, "home_check", date(2025, 1, 7), {"at_risk": True})
    _step(client, admin, other_case, "home_check", date(2025, 1, 7), {"at_risk": True})
    requests = {
        "list": ("GET", "/api/v1/cases", None),
        "list_other": ("GET", f"/api/v1/cases?township={p.other_township}", None),
        "open_own": ("POST", "/api/v1/cases", {"household_id": own, "source": "self_report"}),
        "open_other": ("POST", "/api/v1/cases", {"household_id": other, "source": "self_report"}),
        "read_own": ("GET", f"/api/v1/cases/{own_case}", None),
        "read_other": ("GET", f"/api/v1/cases/{other_case}", None),
        "read_unknown": ("GET", "/api/v1/cases/999999", None),
        "notice_own": ("GET", f"/api/v1/cases/notice.xlsx?township={p.own_township}", None),
        "notice_other": ("GET", f"/api/v1/cases/notice.xlsx?township={p.other_township}", None),
        "ledger": ("GET", "/api/v1/cases/export.xlsx", None),
        "ledger_other": ("GET", f"/api/v1/cases/export.xlsx?township={p.other_township}", None),
        # A step the stage does not wait for: refused (422) after the role and scope checks.
        "step_own": ("POST", f"/api/v1/cases/{own_case}/steps", {"action": "measure", "detail": {}}),
        "step_other": ("POST", f"/api/v1/cases/{other_case}/steps", {"action": "measure", "detail": {}}),
        "decide_own": ("POST", f"/api/v1/cases/{own_case}/steps",
                       {"action": "county_decision", "detail": {"identified": True}}),
    }
    expected = {
        "list": dict(admin=200, county_officer=200, township_leader=200, researcher=200),
        "list_other": dict(admin=200, county_officer=200, township_leader=404, researcher=200),
        "open_own": dict(admin=201, county_officer=201, township_leader=201, researcher=403),
        "open_other": dict(admin=201, county_officer=201, township_leader=404, researcher=403),
        "read_own": dict(admin=200, county_officer=200, township_leader=200, researcher=200),
        "read_other": dict(admin=200, county_officer=200, township_leader=404, researcher=200),
        "read_unknown": dict(admin=404, county_officer=404, township_leader=404, researcher=404),
        "notice_own": dict(admin=200, county_officer=200, township_leader=200, researcher=403),
        "notice_other": dict(admin=200, county_officer=200, township_leader=404, researcher=403),
        "ledger": dict(admin=200, county_officer=200, township_leader=200, researcher=200),
        "ledger_other": dict(admin=200, county_officer=200, township_leader=404, researcher=200),
        "step_own": dict(admin=422, county_officer=422, township_leader=422, researcher=403),
        "step_other": dict(admin=422, county_officer=422, township_leader=404, researcher=403),
        "decide_own": dict(admin=422, county_officer=422, township_leader=403, researcher=403),
    }
    seen = {}
    for name, (method, url, body) in requests.items():
        seen[name] = {}
        for role, tok in tokens.items():
            payload = None if body is None else {**body, "request_key": key()}
            seen[name][role] = client.request(method, url, json=payload, headers=bearer(tok)).status_code
        assert client.request(method, url, json=body).status_code == 401, name
    assert seen == expected
    # A township leader's list holds only their township's cases.
    listed = client.get("/api/v1/cases", headers=bearer(tokens["township_leader"])).json()["cases"]
    assert listed and {c["township"] for c in listed} == {p.own_township}


def test_a_case_from_lead_to_elimination_and_a_retry_records_once(api):
    client, tokens, p = api
    officer, leader = tokens["county_officer"], tokens["township_leader"]
    household = _households(p, p.own_township, True)[0]
    lead = date(2025, 1, 6)
    retry = key()
    first = _open(client, leader, household, lead, "department", k=retry)
    assert first.status_code == 201
    again = _open(client, leader, household, lead, "department", k=retry)
    assert again.json()["id"] == first.json()["id"]
    case_id = first.json()["id"]
    steps = [
        (leader, "home_check", lead + timedelta(days=1), {"at_risk": True, "risk_types": ["illness"]}),
        (leader, "village_notice", lead + timedelta(days=3), {}),
        (leader, "township_review", lead + timedelta(days=8), {"agree": True}),
        (officer, "county_decision", lead + timedelta(days=12), {"identified": True}),
        (leader, "measure", lead + timedelta(days=14), {"measure": "medical_aid"}),
    ]
    for tok, action, on, detail in steps:
        k = key()
        response = _step(client, tok, case_id, action, on, detail, k)
        assert response.status_code == 201, (action, response.text)
        # The same form sent again (a weak signal): recorded once.
        assert _step(client, tok, case_id, action, on, detail, k).status_code == 201
        if action == "village_notice":
            notice_recorded_on(p, case_id, on)
    body = client.get(f"/api/v1/cases/{case_id}", headers=bearer(leader)).json()
    assert [s["action"] for s in body["steps"]] == ["lead", "home_check", "village_notice", "township_review",
                                                    "county_decision", "measure"]
    assert body["stage"] == "elimination_check" and body["outcome"] == "identified"
    early = _step(client, officer, case_id, "elimination_check", lead + timedelta(days=100), CHECKS)
    assert early.status_code == 422 and "6" in early.json()["detail"]
    done = _step(client, officer, case_id, "elimination_check", date(2025, 7, 18), CHECKS)
    assert done.status_code == 201, done.text
    assert (done.json()["stage"], done.json()["outcome"]) == ("closed", "eliminated")


def test_no_working_age_members_move_to_social_security_support(api):
    client, tokens, p = api
    officer = tokens["county_officer"]
    household = _households(p, p.own_township, False)[0]
    case_id = _to_decision(client, officer, household, date(2024, 1, 8), identified=True, p=p)
    for action, on, detail in [("measure", date(2024, 2, 1), {"measure": "dibao"}),
                               ("elimination_check", date(2024, 8, 1), CHECKS)]:
        assert _step(client, officer, case_id, action, on, detail).status_code == 201, action
    body = client.get(f"/api/v1/cases/{case_id}", headers=bearer(officer)).json()
    assert body["outcome"] == "social_security"


def test_the_clock_says_overdue_after_day_15(api):
    client, tokens, p = api
    officer = tokens["county_officer"]
    household = _households(p, p.other_township, True)[0]
    lead = date(2025, 3, 3)
    case_id = _open(client, officer, household, lead, "village_check").json()["id"]

    def row(as_of):
        cases = client.get(f"/api/v1/cases?as_of={as_of}", headers=bearer(officer)).json()["cases"]
        return next(c for c in cases if c["id"] == case_id)

    assert not row(lead + timedelta(days=15))["overdue"]
    late = client.get(f"/api/v1/cases?as_of={lead + timedelta(days=16)}", headers=bearer(officer)).json()
    assert next(c for c in late["cases"] if c["id"] == case_id)["overdue"]
    assert late["summary"]["overdue"] >= 1
    # Overdue cases come first.
    flags = [c["overdue"] for c in late["cases"] if c["stage"] != "closed"]
    assert flags == sorted(flags, reverse=True)


def test_the_village_notice_shows_no_id_number_and_no_health_detail(api, pdf_tools, tmp_path):
    from openpyxl import load_workbook

    client, tokens, p = api
    officer = tokens["county_officer"]
    households = _households(p, p.own_township, True, 2)
    for household in households:
        case_id = _open(client, officer, household, date(2025, 2, 3)).json()["id"]
        _step(client, officer, case_id, "home_check", date(2025, 2, 4), {"at_risk": True, "risk_types": ["illness"]})
        assert _step(client, officer, case_id, "village_notice", date(2025, 2, 5)).status_code == 201
    xlsx = client.get(f"/api/v1/cases/notice.xlsx?township={p.own_township}", headers=bearer(officer))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    text = "\n".join(" ".join(str(c) for c in row if c is not None) for row in sheet.iter_rows(values_only=True))
    pdf = client.get(f"/api/v1/cases/notice.pdf?township={p.own_township}", headers=bearer(officer))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (tmp_path / "notice.pdf").write_bytes(pdf.content)
    pdf_text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "notice.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
    for content in (text, pdf_text):
        assert "拟认定为防止返贫致贫对象" in content
        assert sheet.max_row >= 3
        flat = content.replace(" ", "")
        assert not {i for i in p.id_numbers if i in flat}
        assert not any(i[:6] + "*" in flat for i in p.id_numbers)  # not even a masked one
        assert not {w for w in HEALTH_WORDS if w in content}
    assert [c.value for c in sheet[1]] == ["序号", "行政村", "户主姓名", "家庭人口", "公示事项", "公示期"]


def test_case_reads_and_steps_are_audited(api):
    client, tokens, p = api
    leader = tokens["township_leader"]
    cases = client.get("/api/v1/cases", headers=bearer(leader)).json()["cases"]
    case_id = cases[0]["id"]
    client.get(f"/api/v1/cases/{case_id}", headers=bearer(leader))
    client.app.state.audit_log.flush()  # reads are audited in batches (serving.api.audit_log)
    with session_factory(get_engine(p.settings))() as s:
        actions = set(s.scalars(select(m.AuditEntry.action).where(
            m.AuditEntry.username == p.users["township_leader"])))
    assert {"case.read", "case.open", "case.step"} <= actions


def test_cases_cli_reports_stages_overdue_and_department_warnings(api):
    _, _, p = api
    env = {**os.environ, "FANPIN_HOME": str(p.settings.home), "FANPIN_DATABASE_URL": p.settings.resolved_database_url}
    exe = Path(sys.executable).with_name("fanpin")
    done = subprocess.run([str(exe), "cases", "--week", p.weeks[-1], "--json"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(out) >= {"open", "by_stage", "overdue", "eligible_for_elimination", "department_warnings"}
    assert out["open"] == sum(out["by_stage"].values()) >= 1
    assert set(out["department_warnings"]) == {"medical_out_of_pocket", "severe_disability", "new_social_assistance",
                                              "school_dropout", "disaster_damage", "working_age_death"}
    # The weekly job reported the same counts when it published the week.
    weekly = p.results[-1]["department_warnings"]
    assert out["department_warnings"] == weekly
    scoped = subprocess.run([str(exe), "cases", "--week", p.weeks[-1], "--township", p.own_township, "--json"],
                            capture_output=True, text=True, env=env, timeout=300)
    inner = json.loads(scoped.stdout.strip().splitlines()[-1])
    assert inner["open"] <= out["open"]
    assert all(inner["department_warnings"][k] <= v for k, v in out["department_warnings"].items())


def test_county_decisions_feed_the_retraining_labels(api, tmp_path):
    """Builds the cases it reads (one not identified, one identified and then eliminated), so it
    holds alone or after any other test of the module."""
    import pandas as pd

    client, tokens, p = api
    officer = tokens["county_officer"]
    not_identified, eliminated = _households(p, p.other_township, True, n=2)
    _to_decision(client, officer, not_identified, date(2025, 4, 7), identified=False, p=p)
    case_id = _to_decision(client, officer, eliminated, date(2025, 4, 7), identified=True, p=p)
    assert _step(client, officer, case_id, "measure", date(2025, 4, 21), {"measure": "medical_aid"}).status_code == 201
    done = _step(client, officer, case_id, "elimination_check", date(2025, 10, 21), CHECKS)
    assert done.status_code == 201 and done.json()["outcome"] == "eliminated", done.text
    env = {**os.environ, "FANPIN_HOME": str(p.settings.home), "FANPIN_DATABASE_URL": p.settings.resolved_database_url}
    exe = Path(sys.executable).with_name("fanpin")
    out = tmp_path / "labels.csv"
    done = subprocess.run([str(exe), "feedback", "export", "--out", str(out), "--json"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    labels = pd.read_csv(out, dtype={"household_id": str})
    cases = labels.loc[labels["outcome"].str.startswith("case_")]
    mine = cases.loc[cases["household_id"].isin([not_identified, eliminated])]
    assert sorted(mine[["household_id", "outcome", "label"]].values.tolist()) == sorted([
        [not_identified, "case_not_identified", 0], [eliminated, "case_eliminated", 1]])
    # Whatever other tests of the session decided: confirmed risks are 1, refusals 0.
    assert (cases.loc[cases["outcome"].isin(["case_eliminated", "case_identified", "case_social_security"]),
                      "label"] == 1).all()
    assert (cases.loc[cases["outcome"].isin(["case_not_identified", "case_no_risk_found"]), "label"] == 0).all()


def _rows(client, tok, as_of):
    return client.get(f"/api/v1/cases?as_of={as_of}", headers=bearer(tok)).json()


def test_objections_and_an_appeal_with_its_own_clock_through_the_api(api):
    """The notice's objection, the household's appeal (once, within 30 days of the decision), its
    15-day clock, the county's answer (the county's alone) overturning a refusal."""
    client, tokens, p = api
    officer, leader = tokens["county_officer"], tokens["township_leader"]
    household = _households(p, p.own_township, True)[0]
    lead = date(2025, 5, 5)
    case_id = _open(client, leader, household, lead).json()["id"]
    assert _step(client, leader, case_id, "home_check", lead + timedelta(days=1), {"at_risk": True}).status_code == 201
    assert _step(client, leader, case_id, "village_notice", lead + timedelta(days=2)).status_code == 201
    notice_recorded_on(p, case_id, lead + timedelta(days=2))
    # An objection needs its note (what was objected to and how it was checked).
    assert _step(client, leader, case_id, "objection", lead + timedelta(days=3), {"upheld": False}).status_code == 422
    done = _step(client, leader, case_id, "objection", lead + timedelta(days=3), {"upheld": False, "note": "邻居称有车，核实无车"})
    assert done.status_code == 201 and done.json()["objections"] == 1 and done.json()["objections_upheld"] == 0
    assert done.json()["stage"] == "township_review"
    # The same step through its own endpoint: a second objection, upheld.
    body = {"on": str(lead + timedelta(days=4)), "upheld": True, "note": "收入漏报属实，已补充核实", "request_key": key()}
    again = client.post(f"/api/v1/cases/{case_id}/objections", json=body, headers=bearer(leader))
    assert again.status_code == 201 and (again.json()["objections"], again.json()["objections_upheld"]) == (2, 1)
    assert client.post(f"/api/v1/cases/{case_id}/objections", json={**body, "note": ""},
                       headers=bearer(leader)).status_code == 422
    assert _step(client, leader, case_id, "township_review", lead + timedelta(days=7)).status_code == 201
    decided = lead + timedelta(days=12)
    refused = _step(client, officer, case_id, "county_decision", decided, {"identified": False})
    assert refused.json()["outcome"] == "not_identified" and refused.json()["stage"] == "closed"
    # The appeal: with its grounds, within 30 days of the decision, once.
    assert _step(client, leader, case_id, "appeal", decided + timedelta(days=2)).status_code == 422
    late = _step(client, leader, case_id, "appeal", decided + timedelta(days=31), {"note": "医疗自付未计入"})
    assert late.status_code == 422 and "30" in late.json()["detail"]
    lodged = decided + timedelta(days=3)
    appealed = _step(client, leader, case_id, "appeal", lodged, {"note": "医疗自付未计入"})
    assert appealed.status_code == 201, appealed.text
    assert (appealed.json()["stage"], appealed.json()["appeal_lodged"]) == ("appeal", str(lodged))
    assert _step(client, leader, case_id, "appeal", lodged, {"note": "再次申诉"}).status_code == 422
    # Its own clock: unanswered after 15 days it is overdue, and counted.
    mine = lambda body: next(c for c in body["cases"] if c["id"] == case_id)  # noqa: E731
    assert not mine(_rows(client, officer, lodged + timedelta(days=15)))["appeal_overdue"]
    later = _rows(client, officer, lodged + timedelta(days=16))
    assert mine(later)["appeal_overdue"] and later["summary"]["appeal_overdue"] >= 1
    assert later["summary"]["appeals_open"] >= 1 and later["summary"]["by_stage"]["appeal"] >= 1
    # The county answers, not the township; the answer needs its reason.
    answer = lodged + timedelta(days=10)
    assert _step(client, leader, case_id, "appeal_decision", answer,
                 {"overturned": True, "note": "复核属实"}).status_code == 403
    assert _step(client, officer, case_id, "appeal_decision", answer, {"overturned": True}).status_code == 422
    done = _step(client, officer, case_id, "appeal_decision", answer, {"overturned": True, "note": "复核属实"})
    body = done.json()
    assert done.status_code == 201 and (body["stage"], body["outcome"]) == ("support", "identified")
    # Identified from the answer (its six months of listing start then), no longer closed.
    assert (body["decided_on"], body["closed_on"], body["appeal_overturned"]) == (str(answer), None, True)
    assert not mine(_rows(client, officer, lodged + timedelta(days=40)))["appeal_overdue"]
    steps = [s["action"] for s in body["steps"]]
    assert steps == ["lead", "home_check", "village_notice", "objection", "objection", "township_review",
                     "county_decision", "appeal", "appeal_decision"]
    # The ledger (Excel) carries the objections and the appeal's course.
    from openpyxl import load_workbook

    ledger = client.get("/api/v1/cases/export.xlsx", headers=bearer(officer))
    table = list(load_workbook(io.BytesIO(ledger.content), read_only=True).active.iter_rows(values_only=True))
    row = dict(zip(table[0], next(r for r in table[1:] if r[0] == case_id), strict=True))
    assert (row["公示异议（成立）"], row["申诉结果"], row["申诉是否超期"] or "") == ("2（1）", "改变原结论", "")
    assert str(row["申诉日期"])[:10] == str(lodged)


def test_appeals_that_overturn_become_appeal_labels(api, tmp_path):
    """A household wrongly refused (overturned on appeal) is a positive label from the appeal, one
    wrongly admitted a negative; a decision the appeal upheld keeps its case label."""
    import pandas as pd

    client, tokens, p = api
    officer = tokens["county_officer"]
    refused, admitted, upheld = _households(p, p.other_township, True, n=3)
    lead = date(2025, 6, 2)
    answers = {refused: (False, True), admitted: (True, True), upheld: (False, False)}
    for household, (identified, overturned) in answers.items():
        case_id = _to_decision(client, officer, household, lead, identified=identified, p=p)
        decided = lead + timedelta(days=12)
        if household == upheld:  # through the appeal's own endpoints (the county's alone answers)
            lodged = client.post(f"/api/v1/cases/{case_id}/appeal", headers=bearer(officer), json={
                "on": str(decided + timedelta(days=5)), "grounds": "申诉", "request_key": key()})
            assert lodged.status_code == 201 and lodged.json()["stage"] == "appeal", lodged.text
            answer = {"on": str(decided + timedelta(days=9)), "overturned": False, "reason": "复核维持",
                      "request_key": key()}
            assert client.post(f"/api/v1/cases/{case_id}/appeal/decision", json=answer,
                               headers=bearer(tokens["township_leader"])).status_code in (403, 404)
            done = client.post(f"/api/v1/cases/{case_id}/appeal/decision", json=answer, headers=bearer(officer))
            assert done.status_code == 201 and done.json()["appeal_overturned"] is False, done.text
            continue
        assert _step(client, officer, case_id, "appeal", decided + timedelta(days=5), {"note": "申诉"}).status_code == 201
        done = _step(client, officer, case_id, "appeal_decision", decided + timedelta(days=9),
                     {"overturned": overturned, "note": "复核"})
        assert done.status_code == 201, done.text
    env = {**os.environ, "FANPIN_HOME": str(p.settings.home), "FANPIN_DATABASE_URL": p.settings.resolved_database_url}
    out = tmp_path / "labels.csv"
    done = subprocess.run([str(Path(sys.executable).with_name("fanpin")), "feedback", "export", "--out", str(out),
                           "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["appeal"] >= 2
    labels = pd.read_csv(out, dtype={"household_id": str})
    mine = labels.loc[labels["household_id"].isin(answers)].set_index("household_id")
    assert mine.loc[refused, ["outcome", "label", "source"]].tolist() == ["case_identified", 1, "appeal"]
    assert mine.loc[admitted, ["outcome", "label", "source"]].tolist() == ["case_not_identified", 0, "appeal"]
    assert mine.loc[upheld, ["outcome", "label", "source"]].tolist() == ["case_not_identified", 0, "case"]
    assert (labels.loc[labels["source"] == "appeal", "note"].str.contains("appeal overturned")).all()


def test_an_appeal_counts_in_the_follow_through_figures_at_once(api):
    """The follow-through API (cached per ledger state) counts a decision and an appeal recorded in
    its period as soon as they are recorded."""
    client, tokens, p = api
    officer = tokens["county_officer"]
    url = f"/api/v1/follow-through?township={p.other_township}"
    before = client.get(url, headers=bearer(officer)).json()
    assert client.get(url, headers=bearer(officer)).json() == before  # the same figures again (cached)
    household = _households(p, p.other_township, True)[0]
    lead = date.fromisoformat(before["as_of"]) - timedelta(days=16)
    case_id = _open(client, officer, household, lead, "village_check").json()["id"]
    for action, days, detail in [("home_check", 1, {"at_risk": True}), ("village_notice", 2, {}),
                                 ("township_review", 7, {}), ("county_decision", 8, {"identified": False}),
                                 ("appeal", 9, {"note": "申诉"})]:
        assert _step(client, officer, case_id, action, lead + timedelta(days=days), detail).status_code == 201, action
        if action == "village_notice":
            notice_recorded_on(p, case_id, lead + timedelta(days=2))
    after = client.get(url, headers=bearer(officer)).json()
    for figure in ("decisions", "appeals"):
        assert after["casework"][figure] == before["casework"][figure] + 1, figure
    assert after["funnel"]["appealed"] == before["funnel"]["appealed"] + 1
    assert after["funnel"]["appeal_overdue"] == before["funnel"]["appeal_overdue"]  # 7 days: not yet
