"""The follow-through page in Chromium on the live site (its officers simulated, and saying so):
non-empty figures in both languages, a township leader seeing only their township."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WEEKS, LiveSite, set_language, shoot, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_follow_through_shows_a_county_at_work(page, live_site: LiveSite, screens, language):
    site = live_site
    set_language(page, site, language, "/login")
    sign_in(page, site, "county_officer")
    page.goto(f"{site.base_url}/follow-through?week={WEEKS[-1]}")
    main = page.locator("main").inner_text()
    assert page.locator("#simulated").is_visible()  # simulated activity is never shown as field data
    counts = [int(t) for t in page.locator("#funnel ul.funnel b.num").all_inner_texts()]
    assert counts[0] > 0 and counts[1] > 0 and counts[3] > 0  # listed, visited, case opened
    assert site.own_township in main and site.other_township in main
    assert page.locator("#missed-share").inner_text().endswith("%")
    assert page.locator("#per-officer").inner_text() not in ("", "–")
    assert page.locator("#not-matured").is_visible()  # recall refused: outcomes not matured
    # The period's casework: decisions recorded, and the simulated earlier months' objections and
    # appeals are counted (eliminations depend on the registry's dates falling in these 3 weeks).
    assert page.locator("#casework").is_visible()
    assert int(page.locator("#casework-decisions").inner_text()) > 0
    for figure in ("#casework-eliminated", "#casework-objections", "#casework-appeals", "#casework-appeal-overdue"):
        assert page.locator(figure).inner_text().isdigit(), figure
    shoot(page, screens, f"follow-through-{'zh' if language == 'zh_CN' else 'en'}")
    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename == f"fanpin-follow-through-{WEEKS[-1]}.xlsx"


def test_a_township_leader_sees_only_their_township(browser, live_site: LiveSite, screens):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, live_site, "township_leader")
        page.goto(f"{live_site.base_url}/follow-through")
        main = page.locator("main").inner_text()
        assert live_site.own_township in main and live_site.other_township not in main
        assert page.evaluate("document.documentElement.scrollWidth") == 390
        shoot(page, screens, "follow-through-leader-phone")
        page.goto(f"{live_site.base_url}/follow-through?township={live_site.other_township}")
        assert live_site.other_township not in page.locator("main").inner_text()
    finally:
        context.close()
