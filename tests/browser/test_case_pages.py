"""A case from the first lead to elimination through the web pages, in real Chromium on a
phone-sized viewport, with a form sent twice recorded once, and the village notice downloads."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LiveSite, shoot, sign_in

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "accept_downloads": True}


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context
    context.close()


# The household link of listed rows without an open case.
FREE = "table tbody tr:not(:has(td.status a[href^='/cases/'])) td:nth-child(2) a"


def _step(page, date: str, *, answer: str | None = None, checks: tuple[str, ...] = (), button: str = "#save-step"):
    if answer:
        page.check(f"input[name=answer][value={answer}]")
    for name in checks:
        page.check(f"input[name={name}]")
    page.fill("#on", date)
    page.click(button)
    page.wait_for_selector("#saved")


def _fits_the_phone(page) -> None:
    html = page.content()
    assert "<script" not in html  # no scripts: a weak signal loads the page and its one stylesheet
    assert len(html.encode()) < 30_000
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_case_from_lead_to_elimination_on_a_phone(phone, live_site: LiveSite, screens):
    leader = phone.new_page()
    sign_in(leader, live_site, "township_leader")
    leader.goto(live_site.base_url + "/watchlist")
    # A household without an open case (the site's simulated officers opened some).
    leader.goto(live_site.base_url + leader.locator(FREE).first.get_attribute("href"))
    household_id = re.search(r"/households/([^/?]+)", leader.url)[1]
    leader.click("#open-case-link")
    leader.fill("#on", "2025-01-06")
    leader.click("#open-case")
    leader.wait_for_url(re.compile(r"/cases/\d+$"))
    case_url = leader.url
    _fits_the_phone(leader)
    shoot(leader, screens, "case-phone-lead")

    _step(leader, "2025-01-07", answer="yes")
    assert "待村级评议公示" in leader.inner_text("#stage")

    # The notice form sent twice (the connection dropped after the first): one step recorded.
    form = {f: leader.get_attribute(f"#step-form input[name={f}]", "value")
            for f in ("csrf_token", "request_key", "action")}
    form["on"] = "2025-01-08"
    for _ in range(2):
        response = leader.request.post(case_url + "/steps", form=form)
        assert response.ok
    leader.goto(case_url)
    steps = leader.inner_text("#steps")
    assert steps.count("村级评议并公示") == 1
    # The notice runs from the day its step is recorded (issue 30): as if recorded on the 8th.
    import sqlite3

    with sqlite3.connect(live_site.home / "fanpin.db") as db:
        db.execute("UPDATE cases SET notice_start = '2025-01-08' WHERE id = ?", (int(case_url.rsplit("/", 1)[1]),))

    # The township review cannot come before the notice has run 5 days.
    leader.fill("#on", "2025-01-12")
    leader.click("#save-step")
    assert "公示不少于5天，最早2025-01-13审核" in leader.inner_text("main")
    leader.goto(case_url)
    assert "待乡镇审核" in leader.inner_text("#stage")  # refused: still waiting for the review
    assert "乡镇审核" not in leader.inner_text("#steps")
    _step(leader, "2025-01-13")
    assert "待县级审定" in leader.inner_text("#stage")
    assert "等待县级审定" in leader.inner_text("main")  # the county decides, not the township

    officer = phone.browser.new_context(**PHONE).new_page()
    sign_in(officer, live_site, "county_officer")
    officer.goto(case_url)
    _step(officer, "2025-01-15", answer="yes")
    assert "待落实帮扶措施" in officer.inner_text("#stage")
    _step(officer, "2025-01-20")
    # Six months after the decision, with the three checks: the risk is eliminated (or, with no
    # working-age member, the household moves to social-security support).
    _step(officer, "2025-07-15", checks=("income_stable", "spending_resolved", "guarantees_secure"))
    stage = officer.inner_text("#stage")
    assert "已结案" in stage and ("风险已消除" in stage or "纳入常态化兜底保障" in stage)
    assert [line for line in officer.inner_text("#steps").splitlines() if line.strip()].__len__() == 7
    _fits_the_phone(officer)
    shoot(officer, screens, "case-phone-closed")

    # The leader's list and the household page know the case; the ledger downloads.
    leader.goto(live_site.base_url + "/cases?show=all")
    assert household_id in leader.inner_text("ul.cases")
    _fits_the_phone(leader)
    with leader.expect_download() as download:
        leader.click("a[href='/cases-export/ledger.xlsx']")
    assert download.value.suggested_filename.endswith(".xlsx")
    with leader.expect_download() as download:
        leader.click("a[href='/cases-export/notice.pdf']")
    assert download.value.suggested_filename == "notice.pdf"
    officer.context.close()


def test_an_overdue_lead_shows_on_the_list_first(phone, live_site: LiveSite):
    leader = phone.new_page()
    sign_in(leader, live_site, "township_leader")
    leader.goto(live_site.base_url + "/watchlist")
    # The second household's page, by its link's own address: on a 390 px screen the wide list
    # scrolls sideways and a tap at the link's centre can land on a neighbouring cell.
    link = leader.locator(FREE).nth(1)
    leader.goto(live_site.base_url + link.get_attribute("href"))
    leader.click("#open-case-link")
    leader.fill("#on", "2025-02-03")  # long past: more than 15 days without a county decision
    leader.click("#open-case")
    leader.wait_for_url(re.compile(r"/cases/\d+$"))
    assert "已超期" in leader.inner_text("#stage")
    leader.goto(live_site.base_url + "/cases")
    first = leader.locator("ul.cases li").first
    assert "已超期" in first.inner_text()
    assert int(leader.inner_text("#overdue-count")) >= 1
    leader.goto(live_site.base_url + "/watchlist")
    assert "已超期" in leader.inner_text("table")


def test_an_objection_and_an_appeal_that_overturns_on_a_phone(phone, live_site: LiveSite, screens):
    """The notice's objection, the household's appeal and the county's answer through their own
    forms (zh first, en second), dated within the appeal's window of today."""
    import sqlite3
    from datetime import date, timedelta

    day = lambda n: str(date.today() - timedelta(days=n))  # noqa: E731
    leader = phone.new_page()
    sign_in(leader, live_site, "township_leader")
    leader.goto(live_site.base_url + "/watchlist")
    leader.goto(live_site.base_url + leader.locator(FREE).nth(2).get_attribute("href"))
    leader.click("#open-case-link")
    leader.fill("#on", day(20))
    leader.click("#open-case")
    leader.wait_for_url(re.compile(r"/cases/\d+$"))
    case_url = leader.url
    _step(leader, day(19), answer="yes")
    _step(leader, day(18))
    with sqlite3.connect(live_site.home / "fanpin.db") as db:  # as if the notice step was recorded then
        db.execute("UPDATE cases SET notice_start = ? WHERE id = ?", (day(18), int(case_url.rsplit("/", 1)[1])))
    leader.goto(case_url)
    # An objection while the notice runs: its form refuses to go without the note (required).
    leader.check("#objection-form input[name=answer][value=no]")
    leader.fill("#objection-on", day(17))
    leader.click("#save-objection")
    assert "/steps" not in leader.url and leader.locator("#saved").count() == 0  # the browser kept the form
    leader.fill("#objection-note", "村民反映其家有车，核实为亲戚车辆")
    leader.click("#save-objection")
    leader.wait_for_selector("#saved")
    assert "公示期异议" in leader.inner_text("#steps") and "异议不成立" in leader.inner_text("#steps")
    _fits_the_phone(leader)
    _step(leader, day(12))

    officer = phone.browser.new_context(**PHONE).new_page()
    sign_in(officer, live_site, "county_officer")
    officer.goto(case_url)
    _step(officer, day(10), answer="no")
    assert "县级审定未认定" in officer.inner_text("#stage")
    # The household appeals (the township records it): its grounds, within 30 days.
    leader.goto(case_url)
    assert "30天内申诉一次" in leader.inner_text("#appeal-form")
    _fits_the_phone(leader)
    leader.fill("#appeal-note", "大病自付费用未计入支出")
    leader.fill("#appeal-on", day(8))
    leader.click("#save-appeal")
    leader.wait_for_selector("#saved")
    assert "待县级复核申诉" in leader.inner_text("#stage") and "农户于" in leader.inner_text("#appeal-status")
    assert "等待县级审定" in leader.inner_text("main") and leader.locator("#appeal-form").count() == 0
    _fits_the_phone(leader)
    shoot(leader, screens, "case-phone-appeal")

    # The county's answer overturns the refusal: identified, support measures due.
    officer.goto(case_url)
    _fits_the_phone(officer)
    officer.check("#step-form input[name=answer][value=yes]")
    officer.fill("#decision-note", "复核属实，予以认定")
    _step(officer, day(2))
    assert "待落实帮扶措施" in officer.inner_text("#stage")
    assert "改变了原结论" in officer.inner_text("#appeal-status")
    assert "已改变结论" in officer.inner_text("#steps")
    _fits_the_phone(officer)
    # English second: the same page in English.
    officer.goto(f"{live_site.base_url}/lang/en?next=/cases/{case_url.rsplit('/', 1)[1]}")
    assert "overturned its decision" in officer.inner_text("#appeal-status")
    assert "decision on the appeal" in officer.inner_text("#steps")
    _fits_the_phone(officer)
    shoot(officer, screens, "case-phone-appeal-en")
    officer.context.close()
