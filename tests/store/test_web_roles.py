"""The web pages under the API's role matrix: every role x every page x own/other township, on
SQLite and PostgreSQL (``published_store``), through the real login form and CSRF tokens."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from tests.store.published import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    form = client.get("/login")
    token = CSRF.search(form.text).group(1)
    done = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                       follow_redirects=False)
    assert done.status_code == 303, done.text[:500]
    return CSRF.search(client.get("/data").text).group(1)


@pytest.fixture(scope="module")
def site(published_store):
    app = create_app(published_store.settings, champion=published_store.champion)
    with TestClient(app) as anonymous:
        clients = {}
        for role, username in published_store.users.items():
            client = TestClient(app)
            clients[role] = (client, sign_in(client, username))
        yield anonymous, clients, published_store
        for client, _ in clients.values():
            client.close()


def _pages(p):
    week = p.weeks[-1]
    return {
        "watchlist": f"/watchlist?week={week}",
        "watchlist_sorted": f"/watchlist?week={week}&sort=change&dir=desc&flag=rising&status=none",
        "household_own": f"/households/{p.own_household}?week={week}",
        "household_other": f"/households/{p.other_household}?week={week}",
        "household_unknown": f"/households/NO-SUCH-HOUSEHOLD?week={week}",
        "sheet_own": f"/households/{p.own_household}/sheet?week={week}",
        "sheet_other": f"/households/{p.other_household}/sheet?week={week}",
        "chart_own": f"/households/{p.own_household}/chart.png?week={week}",
        "chart_other": f"/households/{p.other_household}/chart.png?week={week}",
        "export": f"/watchlist/export.xlsx?week={week}",
        "township": f"/township?week={week}",
        "data": f"/data?week={week}",
        "bad_week": "/watchlist?week=2025-48",
        "no_such_week": "/watchlist?week=2021-W53",  # the pattern lets it through; 2021 has 52 weeks
    }


ALL = ("admin", "county_officer", "township_leader", "researcher")


def expected(status_all: int, **per_role: int) -> dict[str, int]:
    return {role: per_role.get(role, status_all) for role in ALL}


EXPECTED = {
    "watchlist": expected(200),
    "watchlist_sorted": expected(200),
    "household_own": expected(200),
    "household_other": expected(200, township_leader=404),
    "household_unknown": expected(404),
    "sheet_own": expected(200),
    "sheet_other": expected(200, township_leader=404),
    "chart_own": expected(200),
    "chart_other": expected(200, township_leader=404),
    "export": expected(200),
    "township": expected(200),
    "data": expected(200),
    "bad_week": expected(400),
    "no_such_week": expected(404),
}


def test_page_role_matrix_is_exactly_the_expected_one(site):
    anonymous, clients, p = site
    seen = {}
    for name, url in _pages(p).items():
        seen[name] = {role: client.get(url).status_code for role, (client, _) in clients.items()}
        # Without a session every page sends the visitor to the login form.
        refused = anonymous.get(url, follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login"), name
    assert seen == EXPECTED


def test_feedback_form_follows_the_role_matrix_and_needs_the_csrf_token(site):
    _, clients, p = site
    week = p.weeks[-1]
    seen = {}
    for role, (client, csrf) in clients.items():
        for which, household in (("own", p.own_household), ("other", p.other_household)):
            url = f"/households/{household}/feedback"
            form = {"week": week, "outcome": "visited", "note": f"{role} {which}"}
            assert client.post(url, data=form, follow_redirects=False).status_code == 403
            assert client.post(url, data={**form, "csrf_token": "0" * 64}, follow_redirects=False).status_code == 403
            seen[(role, which)] = client.post(url, data={**form, "csrf_token": csrf}, follow_redirects=False).status_code
    assert seen == {
        ("admin", "own"): 303, ("admin", "other"): 303,
        ("county_officer", "own"): 303, ("county_officer", "other"): 303,
        ("township_leader", "own"): 303, ("township_leader", "other"): 404,
        ("researcher", "own"): 403, ("researcher", "other"): 403,
    }
    history = clients["admin"][0].get(f"/households/{p.own_household}?week={week}").text
    assert "township_leader own" in history and "admin own" in history
    assert "researcher own" not in history and "township_leader other" not in history


def test_a_leader_cannot_widen_their_scope_with_query_parameters(site):
    _, clients, p = site
    client, _ = clients["township_leader"]
    week = p.weeks[-1]
    for url in (f"/watchlist?week={week}&township={p.other_township}", f"/township?week={week}&township={p.other_township}"):
        page = client.get(url).text
        assert p.own_township in page
        assert f">{p.other_township}<" not in page
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get(f"/watchlist/export.xlsx?week={week}&township={p.other_township}").content))
    rows = list(book.active.iter_rows(min_row=2, values_only=True))
    assert rows and {r[3] for r in rows} == {p.own_township}


def test_pages_mask_identifiers_per_role(site):
    _, clients, p = site
    week = p.weeks[-1]
    for role, (client, _) in clients.items():
        for url in (f"/watchlist?week={week}", f"/households/{p.own_household}?week={week}",
                    f"/households/{p.own_household}/sheet?week={week}", f"/township?week={week}"):
            text = client.get(url).text
            leaked = {i for i in p.id_numbers if i in text}
            assert not leaked, f"whole ID numbers on {url} for {role}"
    officer = clients["county_officer"][0].get(f"/households/{p.own_household}?week={week}").text
    researcher = clients["researcher"][0].get(f"/households/{p.own_household}?week={week}").text
    assert "********" in officer and "********" not in researcher


def test_logout_ends_the_session(site):
    _, clients, p = site
    from serving.access.auth import create_user
    from serving.store.database import get_engine, session_factory

    with session_factory(get_engine(p.settings))() as session:
        create_user(session, "leaving_officer", PASSWORD, "county_officer")
        session.commit()
    client = TestClient(clients["admin"][0].app)
    csrf = sign_in(client, "leaving_officer")
    cookie = client.cookies.get("fanpin_session")
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    # The old cookie no longer opens a page: its token was revoked, not only forgotten.
    replay = TestClient(client.app)
    replay.cookies.set("fanpin_session", cookie)
    assert replay.get("/data", follow_redirects=False).status_code == 303


def _last_run(p):
    from sqlalchemy import select

    from serving.store import models as m
    from serving.store.database import get_engine, session_factory

    sessions = session_factory(get_engine(p.settings))
    with sessions() as session:
        return sessions, session.scalar(select(m.Week.published_run_id).where(m.Week.week == p.weeks[-1]))


def test_drift_report_only_for_roles_that_read_drift(site):
    from serving.store import models as m

    _, clients, p = site
    url = f"/data/drift-report?week={p.weeks[-1]}"
    sessions, run_id = _last_run(p)
    # The store's champion has no drift reference, so no week holds a report: give the last week
    # one (restored after), so that the roles allowed to read it get 200 and the others 403.
    marker = "<html><body>evidently-report-i35</body></html>"
    with sessions() as session:
        result = session.get(m.DriftResult, run_id)
        assert result is not None and not result.report_html and not result.report_samples
        result.report_html = marker
        session.commit()
    try:
        seen = {role: client.get(url) for role, (client, _) in clients.items()}
    finally:
        with sessions() as session:
            session.get(m.DriftResult, run_id).report_html = None
            session.commit()
    assert {role: r.status_code for role, r in seen.items()} == expected(200, township_leader=403)
    assert all(seen[r].text == marker for r in ("admin", "county_officer", "researcher"))
    assert marker not in seen["township_leader"].text
    # Without a report it is 404 for the roles that may read one, still 403 for the others.
    after = {role: client.get(url).status_code for role, (client, _) in clients.items()}
    assert after == expected(404, township_leader=403)


def test_data_page_blocks_follow_the_roles(site):
    _, clients, p = site
    leader_page = clients["township_leader"][0].get(f"/data?week={p.weeks[-1]}").text
    assert "drift-report" not in leader_page and 'id="quarantine"' not in leader_page
    assert 'id="model-health"' not in leader_page
    # The model-health block (issue 22) shows this week's estimate beside last year's realised list.
    officer_page = clients["county_officer"][0].get(f"/data?week={p.weeks[-1]}").text
    health = p.results[-1]["stages"]["model_health"]
    assert health["status"] == "ok" and 'id="model-health"' in officer_page
    assert "本周（估计）" in officer_page and f"{health['matured']['cutoff']}名单（实际）" in officer_page
    assert f"{health['estimate']['estimated_precision_at_capacity'] * 100:.1f}%" in officer_page


def test_quarantined_identifiers_reach_no_csv_and_no_page(site, tmp_path):
    """Over-long name and phone cells of a households and a members file, read by the real
    reader, written to the quarantine CSV (``fanpin validate``'s writer) and into the store as the
    weekly job stores them, then shown on the data page to every role that reads quarantine."""
    from features.reading import read_folder
    from serving.jobs.validation import validate_data
    from serving.store import models as m
    from serving.store.rows import quarantine_rows
    from tests.data.handmade_exports import valid_tables, write_folder
    from tests.data.leaks import FULL_WIDTH_ID, ID_NUMBER, NAME, PAD, PHONE, leaks

    _, clients, p = site
    tables = valid_tables(4)
    tables["households"][0].update(head_name=NAME + PHONE + PAD, phone=PHONE + PAD)
    tables["households"][1].update(village="冯娜" * 16 + PHONE + FULL_WIDTH_ID + PAD, head_id_number=ID_NUMBER + PAD)
    tables["members"][0].update(name=NAME + ID_NUMBER + PAD)
    tables["members"][3].update(id_number=FULL_WIDTH_ID + PAD)
    folder = write_folder(tmp_path / "export", tables)
    planted = {("households.csv", 2, "head_name"), ("households.csv", 2, "phone"), ("households.csv", 3, "village"),
               ("households.csv", 3, "head_id_number"), ("members.csv", 2, "name"), ("members.csv", 5, "id_number")}

    report = validate_data(folder, tmp_path / "out" / "quarantine.csv", home=tmp_path / "home")
    csv_text = (tmp_path / "out" / "quarantine.csv").read_text(encoding="utf-8-sig")
    assert report["rows_quarantined"] >= 4 and all(f"{f},{r},{c}," in csv_text for f, r, c in planted)
    assert not leaks(csv_text)

    read = read_folder(folder)
    sessions, run_id = _last_run(p)
    with sessions() as session:
        stored = [m.QuarantineRow(run_id=run_id, **row) for row in quarantine_rows(read)]
        session.add_all(stored)
        session.commit()
        ids = [row.id for row in stored]
    try:
        with sessions() as session:
            values = [session.get(m.QuarantineRow, i).value for i in ids]
        pages = {role: clients[role][0].get(f"/data?week={p.weeks[-1]}").text
                 for role in ("admin", "county_officer", "researcher")}
    finally:
        with sessions() as session:
            for i in ids:
                session.delete(session.get(m.QuarantineRow, i))
            session.commit()
    assert len(values) == len(read.quarantine) and not leaks("\n".join(v or "" for v in values))
    for role, page in pages.items():
        card = page[page.index('id="quarantine"'):]
        card = card[:card.index("</table>")]
        assert "households.csv" in card and "members.csv" in card and "200" in card, role
        assert card.count("<td>***</td>") >= 5, role  # head_name, phone, head_id_number, name, id_number
        assert not leaks(card), role
        assert not leaks(page, (NAME, PHONE, ID_NUMBER, FULL_WIDTH_ID)), role
