"""The web app in real Chromium against a live `fanpin serve` (see conftest.py for the county)."""

from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest
from openpyxl import load_workbook

from tests.browser.conftest import WEEKS, LiveSite, set_language, shoot, sign_in

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")


def identifiers(site: LiveSite) -> dict[str, set[str]]:
    """Names, ID numbers and phones of everyone in the county's history (what must never leak)."""
    households = pd.read_parquet(site.county / "history" / "households.parquet")
    members = pd.read_parquet(site.county / "history" / "members.parquet")
    places = set(households["village"]) | set(households["township"])
    names = set(households["head_name"].dropna()) | set(members["name"].dropna())
    # A two-character name can also be part of a place name (高溪 in 高溪村); those prove nothing.
    names = {n for n in names if len(n) >= 2 and not any(n in p for p in places)}
    return {
        "names": names,
        "id_numbers": set(households["head_id_number"].dropna()) | set(members["id_number"].dropna()),
        "phones": {p for p in households["phone"].dropna() if len(str(p)) >= 7},
    }


def saved(download, folder, name: str):
    """Keep a download under the test's tmp folder with its real name's extension."""
    path = folder / name
    download.value.save_as(str(path))
    return path


def test_bad_password_is_refused(page, live_site: LiveSite):
    page.goto(live_site.base_url + "/login")
    page.fill("#username", live_site.users["county_officer"])
    page.fill("#password", "not-the-password")
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as answer:
        page.click("form[action='/login'] button[type=submit]")
    assert answer.value.status == 401
    assert "用户名或密码错误" in page.locator("[role=alert]").inner_text()
    assert not any(c["name"] == "fanpin_session" for c in page.context.cookies())
    page.goto(live_site.base_url + "/watchlist")
    assert "/login" in page.url


def test_form_post_without_csrf_token_is_rejected(page, live_site: LiveSite):
    # Before signing in: the login form itself.
    page.goto(live_site.base_url + "/login")
    refused = page.request.post(
        live_site.base_url + "/login",
        form={"username": live_site.users["county_officer"], "password": live_site.password},
        max_redirects=0,
    )
    assert refused.status == 403
    # Signed in: a feedback form posted without (or with a wrong) token changes nothing.
    sign_in(page, live_site, "county_officer")
    page.goto(f"{live_site.base_url}/watchlist?week={WEEKS[-1]}")
    href = page.locator("table.watch tbody a").first.get_attribute("href")
    household = href.split("/")[2].split("?")[0]
    for token in (None, "forged"):
        form = {"week": WEEKS[-1], "outcome": "visited", "note": "没有令牌的提交"}
        if token:
            form["csrf_token"] = token
        answer = page.request.post(f"{live_site.base_url}/households/{household}/feedback", form=form, max_redirects=0)
        assert answer.status == 403
    page.goto(live_site.base_url + href)
    assert "没有令牌的提交" not in page.content()
    # Signing out is a form too.
    assert page.request.post(live_site.base_url + "/logout", form={}, max_redirects=0).status == 403


def test_township_leader_sees_only_their_township(page, live_site: LiveSite, screens, pdf_tools, tmp_path):
    site = live_site
    sign_in(page, site, "township_leader")
    assert page.url.rstrip("/").endswith("/township")
    assert site.own_township in page.locator("h1").inner_text()
    shoot(page, screens, "leader-township-zh")

    # The watch list offers and shows only the leader's township.
    page.goto(f"{site.base_url}/watchlist?week={WEEKS[-1]}&township={site.other_township}")
    options = page.locator("#township option").all_inner_texts()
    assert options == [site.own_township]
    assert site.other_township not in page.locator("table.watch").inner_text()
    shoot(page, screens, "leader-watchlist-zh")
    total = int(page.locator("#match-count").get_attribute("data-total"))

    # Guessing another township's household in the URL gets the same answer as an unknown one.
    answer = page.goto(f"{site.base_url}/households/{site.other_household}?week={WEEKS[-1]}")
    assert answer.status == 404
    other_text = page.locator("main").inner_text()
    unknown = page.goto(f"{site.base_url}/households/NO-SUCH-HOUSEHOLD?week={WEEKS[-1]}")
    assert unknown.status == 404
    assert page.locator("main").inner_text() == other_text
    assert page.request.post(f"{site.base_url}/households/{site.other_household}/feedback",
                             form={"week": WEEKS[-1], "outcome": "visited"}, max_redirects=0).status == 403

    # Excel: exactly the filtered rows, all of the leader's township.
    page.goto(f"{site.base_url}/watchlist?week={WEEKS[-1]}")
    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(saved(download, tmp_path, "list.xlsx")).active
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["排名", "户编号", "户主", "乡镇", "行政村"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == total > 0
    assert {r[3] for r in rows} == {site.own_township}

    # The visit sheets of the whole township as one PDF with Chinese text in an embedded CJK font.
    page.goto(f"{site.base_url}/township?week={WEEKS[-1]}")
    # WeasyPrint lays out one A4 page per household: allow for a slow, busy machine.
    with page.expect_download(timeout=240_000) as download:
        page.click("#sheets-pdf", timeout=240_000)
    pdf = saved(download, tmp_path, "sheets.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert site.own_township in text and site.other_township not in text
    assert str(rows[0][1]) in text  # the first household on the list has its sheet
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"CJK|WenQuanYi|Hei|Song|Noto Sans SC|Source Han", fonts), fonts


def test_household_reasons_and_feedback_round_trip(page, live_site: LiveSite, screens):
    site = live_site
    sign_in(page, site, "township_leader")
    page.goto(f"{site.base_url}/township?week={WEEKS[-1]}")
    page.locator("table tbody a").first.click()
    page.wait_for_url("**/households/**")
    page.locator("ul.reasons li").first.wait_for()
    reasons = page.locator("ul.reasons").first.locator("li").all_inner_texts()
    assert reasons, "a listed household has reasons"
    assert all(CJK.search(r) for r in reasons)
    assert page.locator("svg.trend circle").count() >= 1
    chart = page.locator("p.chart img")
    chart.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete", arg=chart.element_handle())
    assert chart.evaluate("img => img.naturalWidth") > 300  # the contribution chart PNG loaded
    # The housing fact shows the grade letter, labelled as a grade (not the model's 0-3 rank).
    facts = page.locator("table.facts").all_inner_texts()
    assert any(re.search(r"住房安全等级\s+[ABCD]级", t) for t in facts) and not any("0=A" in t for t in facts)
    shoot(page, screens, "leader-household-zh")

    note = "测试走访：家中老人住院，已联系村医"
    page.check("input[name=outcome][value=confirmed_at_risk]")
    page.check("input[name=risk_types][value=illness]")
    page.fill("#note", note)
    page.click("form.feedback-form button[type=submit]")
    page.wait_for_url("**saved=1**")
    assert "走访记录已保存" in page.locator("[role=status]").inner_text()
    history = page.locator("#history table").inner_text()
    assert note in history and "确认存在风险" in history and "因病" in history
    assert site.users["township_leader"] in history

    # The leader's visit list shows the new follow-up status.
    page.goto(f"{site.base_url}/township?week={WEEKS[-1]}")
    assert "确认存在风险" in page.locator("table").inner_text()

    # The print view (visit sheet).
    page.goto(f"{site.base_url}/township?week={WEEKS[-1]}")
    page.locator("table tbody td a", has_text="走访单").first.click()
    page.wait_for_url("**/sheet?**")
    assert "走访单" in page.locator("h1").first.inner_text()
    shoot(page, screens, "leader-visit-sheet-zh")


def test_researcher_sees_no_names_or_id_numbers(page, live_site: LiveSite, screens, tmp_path):
    site = live_site
    secret = identifiers(site)
    sign_in(page, site, "researcher")
    pages = {}
    page.goto(f"{site.base_url}/watchlist?week={WEEKS[-1]}")
    pages["watchlist"] = page.content()
    hrefs = page.locator("table.watch tbody a").evaluate_all("els => els.slice(0, 5).map(e => e.getAttribute('href'))")
    for i, href in enumerate(hrefs):
        page.goto(site.base_url + href)
        pages[f"household{i}"] = page.content()
    shoot(page, screens, "researcher-household-zh")
    page.goto(f"{site.base_url}/township?week={WEEKS[-1]}")
    pages["township"] = page.content()
    page.goto(f"{site.base_url}/data?week={WEEKS[-1]}")
    pages["data"] = page.content()
    with page.expect_download() as download:
        page.goto(f"{site.base_url}/watchlist?week={WEEKS[-1]}")
        page.click("#export")
    cells = " ".join(str(v) for row in load_workbook(saved(download, tmp_path, "research.xlsx")).active.iter_rows(values_only=True)
                     for v in row if v is not None)
    pages["excel"] = cells
    assert len(pages["household0"]) > 2000
    for name, html in pages.items():
        for kind, values in secret.items():
            leaked = [v for v in values if v and str(v) in html]
            assert not leaked, f"{kind} leaked on the researcher's {name}: {leaked[:3]}"
    # Officers do see names (so the check above is not vacuous).
    page.goto(site.base_url + "/login")
    page.context.clear_cookies()
    sign_in(page, site, "county_officer")
    page.goto(site.base_url + hrefs[0])
    assert any(n in page.content() for n in secret["names"])


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_main_page_reads_in_both_languages(page, live_site: LiveSite, screens, language):
    site = live_site
    suffix = "zh" if language == "zh_CN" else "en"
    set_language(page, site, language, "/login")
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh_CN" else "en")
    shoot(page, screens, f"login-{suffix}")
    sign_in(page, site, "county_officer")
    expected = {"zh_CN": ("监测名单", "数据与模型", "退出"), "en": ("Watch list", "Data and model", "Sign out")}[language]
    page.goto(f"{site.base_url}/watchlist?week={WEEKS[-1]}")
    header = page.locator("header").inner_text()
    assert all(word in header for word in expected)
    shoot(page, screens, f"officer-watchlist-{suffix}")

    # Sorting by risk and filtering by a flag are links and forms that work without scripts.
    page.click("th a:has-text('%s')" % ("风险" if language == "zh_CN" else "Risk"))
    page.wait_for_url("**sort=probability**")
    values = [float(v.rstrip("%")) for v in page.locator("table.watch tbody td.num:nth-child(5)").all_inner_texts()]
    assert values == sorted(values, reverse=True)

    href = page.locator("table.watch tbody a").first.get_attribute("href")
    page.goto(site.base_url + href)
    body = page.locator("main").inner_text()
    assert ("预警原因" if language == "zh_CN" else "Why this household is flagged") in body
    shoot(page, screens, f"officer-household-{suffix}")
    page.goto(site.base_url + href.replace("?", "/sheet?"))
    shoot(page, screens, f"officer-visit-sheet-{suffix}")
    page.goto(f"{site.base_url}/township?week={WEEKS[-1]}")
    shoot(page, screens, f"officer-township-{suffix}")
    page.goto(f"{site.base_url}/data?week={WEEKS[-1]}")
    assert ("当前使用的模型" if language == "zh_CN" else "The model in use") in page.locator("main").inner_text()
    # The evidence behind the model: intervals against both rules baselines, list coverage
    # against a random list of the same coverage, and the calibration and slice tables.
    evidence = page.locator("#model-evidence").inner_text()
    words = {"zh_CN": ("模型在回测中的表现", "规则（拟合权重）", "随机名单", "95%区间"),
             "en": ("backtest", "Rules (fitted weights)", "random list", "95 in 100")}[language]
    assert all(w in evidence for w in words), evidence[:500]
    assert page.locator("#model-evidence td .muted").count() >= 12  # an interval for every figure and scorer
    shoot(page, screens, f"officer-data-{suffix}")
    # The weekly job kept the drift samples; the Evidently report is rendered on first view.
    # Rendering Evidently's plots takes seconds on a busy machine (later views read the kept copy).
    report = page.request.get(f"{site.base_url}/data/drift-report?week={WEEKS[-1]}", timeout=240_000)
    assert report.status == 200 and len(report.text()) > 100_000
    assert "root_metric" in report.text() and "pc_net_income" in report.text()  # Evidently's widgets, per feature
    if language == "en":
        assert not CJK.search(page.locator("header nav").inner_text())


def test_researcher_follows_the_mlflow_link_to_the_served_model_run(page, live_site: LiveSite, screens):
    site = live_site
    sign_in(page, site, "researcher")
    page.goto(f"{site.base_url}/data?week={WEEKS[-1]}")
    link = page.locator("a.mlflow")
    assert re.fullmatch(rf"{re.escape(site.mlflow_url)}/#/experiments/\d+/runs/{site.run_id}", link.get_attribute("href"))
    link.click()
    page.wait_for_url(f"{site.mlflow_url}/**")
    # MLflow's own page (a React app served by `mlflow server` on the same store) shows the run.
    page.get_by_text(site.run_id).first.wait_for(timeout=90_000)
    page.get_by_text("fanpin-risk").first.wait_for(timeout=30_000)  # the registered model it logged
    shoot(page, screens, "researcher-mlflow-run")

    # Officers get no link to the tracking store.
    page.context.clear_cookies()
    sign_in(page, site, "county_officer")
    page.goto(f"{site.base_url}/data?week={WEEKS[-1]}")
    assert page.locator("a.mlflow").count() == 0
