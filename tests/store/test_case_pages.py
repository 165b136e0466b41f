"""The case pages under the role matrix: every role x own/other township case, the exports, and a
step form sent twice, through the real login form and CSRF tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from serving.access.auth import Principal
from serving.app import create_app
from serving.cases import service
from serving.store import models as m
from serving.store.database import get_engine, session_factory
from tests.store.test_web_roles import sign_in


def _without_case(db, p, township: str) -> str:
    run_id = db.scalar(select(m.Week.published_run_id).where(m.Week.week == p.weeks[-1]))
    taken = set(db.scalars(select(m.Case.household_id)))
    ranked = db.scalars(select(m.Score.household_id).where(m.Score.run_id == run_id, m.Score.township == township)
                        .order_by(m.Score.rank))
    return next(h for h in ranked if h not in taken)


@pytest.fixture(scope="module")
def site(published_store):
    p = published_store
    admin = Principal(0, "tests", "admin", None)
    with session_factory(get_engine(p.settings))() as db:
        # A household of each township without a case yet (the store is shared by the session).
        own_id, other_id = (_without_case(db, p, township) for township in (p.own_township, p.other_township))
        own = service.open_case(db, admin, household_id=own_id, source="model", lead_date=date(2025, 3, 3),
                                request_key=uuid.uuid4().hex)
        other = service.open_case(db, admin, household_id=other_id, source="model",
                                  lead_date=date(2025, 3, 3), request_key=uuid.uuid4().hex)
    app = create_app(p.settings, champion=p.champion)
    clients = {}
    for role, username in p.users.items():
        client = TestClient(app)
        clients[role] = (client, sign_in(client, username))
    yield clients, own.id, other.id, p
    for client, _ in clients.values():
        client.close()


EXPECTED = {
    "list": dict(admin=200, county_officer=200, township_leader=200, researcher=200),
    "own": dict(admin=200, county_officer=200, township_leader=200, researcher=200),
    "other": dict(admin=200, county_officer=200, township_leader=404, researcher=200),
    "new_own": dict(admin=200, county_officer=200, township_leader=200, researcher=403),
    "ledger": dict(admin=200, county_officer=200, township_leader=200, researcher=200),
    "notice": dict(admin=200, county_officer=200, township_leader=200, researcher=403),
}


def test_case_pages_follow_the_role_matrix(site):
    clients, own, other, p = site
    pages = {"list": "/cases?show=all", "own": f"/cases/{own}", "other": f"/cases/{other}",
             "new_own": "/cases/new?household_id=ANY", "ledger": "/cases-export/ledger.xlsx",
             "notice": "/cases-export/notice.xlsx"}
    seen = {name: {role: clients[role][0].get(url).status_code for role in clients} for name, url in pages.items()}
    assert seen == EXPECTED
    leader_list = clients["township_leader"][0].get("/cases?show=all").text
    assert f"/cases/{own}" in leader_list and f"/cases/{other}\"" not in leader_list


def test_a_step_form_sent_twice_records_once_and_a_researcher_cannot_step(site):
    clients, own, _, p = site
    client, csrf = clients["township_leader"]
    assert 'name="request_key"' in client.get(f"/cases/{own}").text
    form = {"csrf_token": csrf, "request_key": uuid.uuid4().hex, "action": "home_check", "answer": "yes",
            "on": "2025-03-04"}
    for _ in range(2):
        done = client.post(f"/cases/{own}/steps", data=form, follow_redirects=False)
        assert done.status_code == 303
    assert client.get(f"/cases/{own}").text.count("入户核实 ·") == 1
    researcher, rcsrf = clients["researcher"]
    refused = researcher.post(f"/cases/{own}/steps", data={**form, "csrf_token": rcsrf,
                                                           "request_key": uuid.uuid4().hex})
    assert refused.status_code == 403
    # Without the CSRF token the form is refused.
    assert client.post(f"/cases/{own}/steps", data={**form, "csrf_token": "x"}).status_code == 403
