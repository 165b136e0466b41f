"""The role matrix: every role x every endpoint x own/other township, exact allowed set; masking;
audit; errors. Runs on SQLite and PostgreSQL (``published_store`` is parametrised)."""

from __future__ import annotations

import io

import pytest

from tests.store.api_client import bearer, signed_in_api, token


def leaked_ids(text: str, p) -> set[str]:
    """Whole ID numbers of the county's registry that appear in ``text``."""
    return {i for i in p.id_numbers if i in text}


@pytest.fixture(scope="module")
def api(published_store):
    with signed_in_api(published_store) as (client, tokens):
        yield client, tokens, published_store


def _requests(p):
    week = p.weeks[-1]
    fb = {"week": week, "outcome": "visited", "note": "走访正常"}
    return {
        "weeks": ("GET", "/api/v1/weeks", None),
        "watchlist": ("GET", f"/api/v1/weeks/{week}/watchlist", None),
        "watchlist_own": ("GET", f"/api/v1/weeks/{week}/watchlist?township={p.own_township}", None),
        "watchlist_other": ("GET", f"/api/v1/weeks/{week}/watchlist?township={p.other_township}", None),
        "household_own": ("GET", f"/api/v1/households/{p.own_household}?week={week}", None),
        "household_other": ("GET", f"/api/v1/households/{p.other_household}?week={week}", None),
        "household_unknown": ("GET", f"/api/v1/households/NO-SUCH-HOUSEHOLD?week={week}", None),
        "feedback_own": ("POST", f"/api/v1/households/{p.own_household}/feedback", fb),
        "feedback_other": ("POST", f"/api/v1/households/{p.other_household}/feedback", fb),
        "export": ("GET", f"/api/v1/weeks/{week}/export.xlsx", None),
        "export_other": ("GET", f"/api/v1/weeks/{week}/export.xlsx?township={p.other_township}", None),
        "model": ("GET", "/api/v1/model", None),
        "drift": ("GET", f"/api/v1/weeks/{week}/drift", None),
    }


# The exact expected status of every (endpoint, role). 404 for another township's household is
# deliberate: the same answer as an unknown household, so nothing leaks about it.
EXPECTED = {
    "weeks": {"admin": 200, "county_officer": 200, "township_leader": 200, "researcher": 200},
    "watchlist": {"admin": 200, "county_officer": 200, "township_leader": 200, "researcher": 200},
    "watchlist_own": {"admin": 200, "county_officer": 200, "township_leader": 200, "researcher": 200},
    "watchlist_other": {"admin": 200, "county_officer": 200, "township_leader": 404, "researcher": 200},
    "household_own": {"admin": 200, "county_officer": 200, "township_leader": 200, "researcher": 200},
    "household_other": {"admin": 200, "county_officer": 200, "township_leader": 404, "researcher": 200},
    "household_unknown": {"admin": 404, "county_officer": 404, "township_leader": 404, "researcher": 404},
    "feedback_own": {"admin": 201, "county_officer": 201, "township_leader": 201, "researcher": 403},
    "feedback_other": {"admin": 201, "county_officer": 201, "township_leader": 404, "researcher": 403},
    "export": {"admin": 200, "county_officer": 200, "township_leader": 200, "researcher": 200},
    "export_other": {"admin": 200, "county_officer": 200, "township_leader": 404, "researcher": 200},
    "model": {"admin": 200, "county_officer": 200, "township_leader": 200, "researcher": 200},
    "drift": {"admin": 200, "county_officer": 200, "township_leader": 403, "researcher": 200},
}


def test_role_matrix_is_exactly_the_expected_one(api):
    client, tokens, p = api
    seen = {}
    for name, (method, url, body) in _requests(p).items():
        seen[name] = {}
        for role, value in tokens.items():
            response = client.request(method, url, json=body, headers=bearer(value))
            seen[name][role] = response.status_code
            assert response.headers["content-type"].split(";")[0] in (
                "application/json", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        # Without a token every endpoint refuses.
        assert client.request(method, url, json=body).status_code == 401, name
    assert seen == EXPECTED


def test_township_leader_sees_only_their_township(api):
    client, tokens, p = api
    page = client.get(f"/api/v1/weeks/{p.weeks[-1]}/watchlist?limit=500", headers=bearer(tokens["township_leader"]))
    items = page.json()["items"]
    assert items and {i["township"] for i in items} == {p.own_township}
    everyone = client.get(f"/api/v1/weeks/{p.weeks[-1]}/watchlist?limit=500", headers=bearer(tokens["admin"]))
    assert len({i["township"] for i in everyone.json()["items"]}) > 1
    # The error for another township's household is byte-identical to an unknown one's.
    other = client.get(f"/api/v1/households/{p.other_household}", headers=bearer(tokens["township_leader"]))
    unknown = client.get("/api/v1/households/NO-SUCH", headers=bearer(tokens["township_leader"]))
    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json()


def test_identifiers_masked_per_role(api):
    client, tokens, p = api
    url = f"/api/v1/households/{p.own_household}?week={p.weeks[-1]}"
    officer = client.get(url, headers=bearer(tokens["county_officer"])).json()
    researcher = client.get(url, headers=bearer(tokens["researcher"])).json()
    assert officer["household"]["head_name"] and officer["members"][0]["name"]
    assert "*" in officer["household"]["head_id_number"]
    for response in (officer, researcher):
        assert not leaked_ids(str(response), p), "a whole ID number left the API"
    assert researcher["household"]["head_name"] is None and researcher["household"]["phone"] is None
    assert researcher["household"]["head_id_number"] is None
    assert all(m["name"] is None and m["id_number"] is None for m in researcher["members"])
    listing = client.get(f"/api/v1/weeks/{p.weeks[-1]}/watchlist", headers=bearer(tokens["researcher"])).json()
    assert all(i["head_name"] is None and i["phone"] is None for i in listing["items"])


def test_household_detail_has_scores_trend_explanation_rules_and_members(api):
    client, tokens, p = api
    body = client.get(f"/api/v1/households/{p.own_household}?week={p.weeks[-1]}",
                      headers=bearer(tokens["admin"])).json()
    assert body["score"]["on_watchlist"] and body["explanation_status"] == "stored"
    assert [t["week"] for t in body["trend"]] == list(p.weeks)
    assert body["explanation"]["reasons"] or body["explanation"]["protective"]
    assert abs(body["explanation"]["probability"] - body["score"]["probability"]) < 1e-9
    assert body["members"] and body["household"]["household_id"] == p.own_household


def test_explanation_on_demand_matches_batch_and_is_cached(api):
    client, tokens, p = api
    from features.frame_schema import frame_from_facts
    from serving.weekly.explaining import explain_rows

    week = p.weeks[-1]
    listing = client.get(f"/api/v1/weeks/{week}/watchlist?limit=1", headers=bearer(tokens["admin"])).json()
    assert listing["total"] > 0
    # A household not on the list: its explanation is computed on the first read, stored after.
    from sqlalchemy import select

    from serving.store import models as m
    from serving.store.database import get_engine, session_factory

    with session_factory(get_engine(p.settings))() as session:
        run_id = session.scalar(select(m.Week.published_run_id).where(m.Week.week == week))
        off_list = session.scalar(select(m.Score.household_id).where(m.Score.run_id == run_id,
                                                                      m.Score.on_watchlist.is_(False)).limit(1))
        from serving.store.queries import snapshot

        facts = snapshot(session, run_id, off_list).facts
    first = client.get(f"/api/v1/households/{off_list}?week={week}", headers=bearer(tokens["admin"])).json()
    second = client.get(f"/api/v1/households/{off_list}?week={week}", headers=bearer(tokens["admin"])).json()
    assert first["explanation_status"] == "computed on demand"
    assert second["explanation_status"] == "stored"
    assert first["explanation"]["contributions"] == second["explanation"]["contributions"]
    assert abs(first["explanation"]["probability"] - first["score"]["probability"]) < 1e-9
    from features.policy import load_policy

    again = explain_rows(p.champion.model, frame_from_facts([facts]), load_policy())[0]
    assert again["contributions"] == pytest.approx(first["explanation"]["contributions"], abs=1e-9)


def test_watchlist_filters_paging_sorting(api):
    client, tokens, p = api
    h = bearer(tokens["admin"])
    week = p.weeks[-1]
    full = client.get(f"/api/v1/weeks/{week}/watchlist?limit=500", headers=h).json()
    assert full["total"] == len(full["items"]) == full["counts"]["watchlist"]
    ranks = [i["rank"] for i in full["items"]]
    assert ranks == sorted(ranks)
    page2 = client.get(f"/api/v1/weeks/{week}/watchlist?limit=10&offset=10", headers=h).json()
    assert [i["household_id"] for i in page2["items"]] == [i["household_id"] for i in full["items"][10:20]]
    by_prob = client.get(f"/api/v1/weeks/{week}/watchlist?limit=500&sort=probability&descending=true",
                         headers=h).json()["items"]
    assert [i["probability"] for i in by_prob] == sorted((i["probability"] for i in by_prob), reverse=True)
    rule = client.get(f"/api/v1/weeks/{week}/watchlist?limit=500&flag=rule_triggered", headers=h).json()
    assert rule["items"] and all("rule_triggered" in i["flags"] for i in rule["items"])
    high = client.get(f"/api/v1/weeks/{week}/watchlist?limit=500&level=high", headers=h).json()
    assert all(i["level"] == "high" for i in high["items"])
    village = full["items"][0]["village"]
    in_village = client.get(f"/api/v1/weeks/{week}/watchlist?limit=500&village={village}", headers=h).json()
    assert in_village["items"] and {i["village"] for i in in_village["items"]} == {village}


def test_export_has_chinese_headers_and_exactly_the_filtered_rows(api):
    from openpyxl import load_workbook

    client, tokens, p = api
    week = p.weeks[-1]
    for role in ("county_officer", "researcher"):
        h = bearer(tokens[role])
        url = f"/api/v1/weeks/{week}/watchlist?limit=500&township={p.other_township}"
        listed = client.get(url, headers=h).json()["items"]
        response = client.get(f"/api/v1/weeks/{week}/export.xlsx?township={p.other_township}", headers=h)
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[0]
        assert header[:3] == ("排名", "乡镇内排名", "户编号")
        assert ("户主姓名" in header) == (role != "researcher")
        hid = header.index("户编号")
        assert [r[hid] for r in rows[1:]] == [i["household_id"] for i in listed]
        assert not leaked_ids(str(rows), p)


def test_feedback_is_recorded_and_shown_in_history(api):
    client, tokens, p = api
    h = bearer(tokens["township_leader"])
    body = {"week": p.weeks[-1], "outcome": "confirmed_at_risk", "risk_types": ["illness"], "note": "长期慢性病"}
    created = client.post(f"/api/v1/households/{p.own_household}/feedback", json=body, headers=h)
    assert created.status_code == 201, created.text
    detail = client.get(f"/api/v1/households/{p.own_household}", headers=h).json()
    assert detail["feedback"][0]["outcome"] == "confirmed_at_risk"
    assert detail["feedback"][0]["risk_types"] == ["illness"]
    assert detail["feedback"][0]["username"] == "leader1"
    bad = client.post(f"/api/v1/households/{p.own_household}/feedback",
                      json={**body, "risk_types": ["bogus"]}, headers=h)
    assert bad.status_code == 422 and "bogus" in bad.json()["detail"]


def test_errors_are_json_with_a_clear_message(api):
    client, tokens, p = api
    h = bearer(tokens["admin"])
    bad_week = client.get("/api/v1/weeks/2025-48/watchlist", headers=h)
    assert bad_week.status_code == 422 and "2025-W48" in bad_week.json()["detail"]
    assert client.get("/api/v1/households/x?week=week9", headers=h).status_code == 422
    missing = client.get("/api/v1/weeks/2019-W01/watchlist", headers=h)
    assert missing.status_code == 404 and "not published" in missing.json()["detail"]
    assert client.get("/api/v1/households/NOPE", headers=h).json()["detail"].startswith("household not found")
    # A week its year does not have passes the path's pattern: not found, never a server error
    # (schemathesis found /weeks/1054-W53/drift answering 500).
    for path in ("/api/v1/weeks/2021-W53/drift", "/api/v1/weeks/1054-W53/watchlist", "/api/v1/weeks/2021-W53/export.xlsx",
                 "/api/v1/households/NOPE?week=2021-W53"):
        answer = client.get(path, headers=h)
        assert answer.status_code == 404 and "not published" in answer.json()["detail"], (path, answer.status_code)


def test_reads_and_exports_are_audited(api):
    from sqlalchemy import select

    from serving.store import models as m
    from serving.store.database import get_engine, session_factory

    client, tokens, p = api
    client.get(f"/api/v1/households/{p.own_household}", headers=bearer(tokens["researcher"]))
    client.get(f"/api/v1/weeks/{p.weeks[-1]}/export.xlsx", headers=bearer(tokens["researcher"]))
    client.app.state.audit_log.flush()  # household reads reach the store in batches (serving.api.audit_log)
    with session_factory(get_engine(p.settings))() as session:
        entries = session.scalars(select(m.AuditEntry).where(m.AuditEntry.username == "research1")).all()
    actions = {(e.action, e.target) for e in entries}
    assert ("household.read", p.own_household) in actions
    assert ("export.xlsx", p.weeks[-1]) in actions


def test_bad_password_and_throttling(api):
    client, _, p = api
    from sqlalchemy import delete

    from serving.store import models as m
    from serving.store.database import get_engine

    url = "/api/v1/auth/token"
    for _ in range(5):
        assert client.post(url, data={"username": "officer1", "password": "wrong"}).status_code == 401
    # Locked now, even with the right password.
    from tests.store.published import PASSWORD

    locked = client.post(url, data={"username": "officer1", "password": PASSWORD})
    assert locked.status_code == 429
    with get_engine(p.settings).begin() as conn:
        conn.execute(delete(m.SigninAttempts))
    assert client.post(url, data={"username": "officer1", "password": PASSWORD}).status_code == 200


def test_tokens_are_stored_hashed_and_expire(api):
    from datetime import timedelta

    from sqlalchemy import select, update

    from serving.store import models as m
    from serving.store.database import get_engine

    client, _, p = api
    value = token(client, "admin1")
    engine = get_engine(p.settings)
    with engine.connect() as conn:
        hashes = conn.execute(select(m.Token.token_hash)).scalars().all()
    assert value not in hashes and all(len(x) == 64 for x in hashes)
    assert client.get("/api/v1/weeks", headers=bearer(value)).status_code == 200
    import hashlib
    import time

    from serving.access import auth

    digest = hashlib.sha256(value.encode()).hexdigest()
    with engine.begin() as conn:
        conn.execute(update(m.Token).where(m.Token.token_hash == digest)
                     .values(expires_at=m.Token.created_at - timedelta(minutes=1)))
    # The API keeps a verified token for a few seconds (serving.access.auth.TOKEN_CACHE_SECONDS); an
    # expiry written to the store behind its back counts once that entry lapses.
    auth._token_cache.expire(time.monotonic() + auth.TOKEN_CACHE_SECONDS + 1)
    assert client.get("/api/v1/weeks", headers=bearer(value)).status_code == 401


def test_a_cached_token_still_expires_on_time(api, monkeypatch):
    from datetime import timedelta

    from serving.access import auth

    client, _, p = api
    value = token(client, "officer1")
    assert client.get("/api/v1/weeks", headers=bearer(value)).status_code == 200  # now cached
    assert client.get("/api/v1/weeks", headers=bearer(value)).status_code == 200  # from the cache
    real_now = auth.utcnow
    later = timedelta(minutes=p.settings.token_minutes + 1)
    monkeypatch.setattr(auth, "utcnow", lambda: real_now() + later)
    assert client.get("/api/v1/weeks", headers=bearer(value)).status_code == 401
