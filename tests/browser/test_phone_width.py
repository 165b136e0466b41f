"""No page is wider than a 390 px phone screen, for every role, in both languages: the watch list
becomes cards, wide tables scroll inside their own box (``serving/static/fanpin.css``)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WEEKS, LiveSite, set_language, shoot, sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
ROLE_PAGES = {
    "admin": ("/capacities",),
    "county_officer": ("/follow-through",),
    "township_leader": ("/follow-through",),
    "researcher": (),
}


def _pages(page, site: LiveSite, role: str) -> list[str]:
    week = WEEKS[-1]
    paths = [f"/watchlist?week={week}", f"/watchlist?week={week}&work=new", f"/township?week={week}",
             "/cases", "/cases?show=all", f"/data?week={week}", *ROLE_PAGES[role]]
    page.goto(f"{site.base_url}/watchlist?week={week}")
    household = page.locator("table.watch tbody a").first.get_attribute("href")
    paths += [household, household.replace("?", "/sheet?")]
    page.goto(f"{site.base_url}/cases?show=all")
    cases = page.locator("ul.cases a")
    if cases.count():
        paths.append(cases.first.get_attribute("href"))
    # A case at the notice (its objection form) and one waiting for the answer to an appeal.
    for stage in ("待乡镇审核", "township review due", "待县级复核申诉", "appeal decision due"):
        found = page.locator("ul.cases li", has_text=stage).locator("a")
        if found.count():
            paths.append(found.first.get_attribute("href"))
    if role != "researcher":
        paths.append(f"/cases/new?household_id={household.split('/')[2].split('?')[0]}")
    return paths


@pytest.mark.parametrize("role", ["admin", "county_officer", "township_leader", "researcher"])
def test_every_page_fits_a_390px_screen(browser, live_site: LiveSite, screens, role):
    context = browser.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    try:
        too_wide = {}
        for language in ("zh_CN", "en"):
            page.context.clear_cookies()
            set_language(page, live_site, language, "/login")
            assert page.evaluate("document.documentElement.scrollWidth") == 390
            sign_in(page, live_site, role)
            for path in _pages(page, live_site, role):
                response = page.goto(live_site.base_url + path)
                assert response.status < 500, path
                width = page.evaluate("document.documentElement.scrollWidth")
                if width != 390:
                    too_wide[f"{language} {path}"] = width
            if language == "zh_CN":
                page.goto(f"{live_site.base_url}/watchlist?week={WEEKS[-1]}")
                shoot(page, screens, f"phone-{role}-watchlist")
                # The list is cards: name, village, risk, the first reason, flags; no header row.
                assert not page.locator("table.watch thead").is_visible()
                first = page.locator("table.watch tbody tr").first
                assert first.locator("td.reason").is_visible() and first.locator("a").first.is_visible()
        assert not too_wide, too_wide
    finally:
        context.close()
