"""The case's clock and rules at their boundaries: day 15, the 5-day notice, six months listed,
at least one measure, and no working-age member -> social-security support."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from serving.cases import lifecycle as lc

LEAD = date(2025, 1, 6)
CHECKS = {"income_stable": True, "spending_resolved": True, "guarantees_secure": True}


@pytest.mark.parametrize(("days", "overdue"), [(0, False), (14, False), (15, False), (16, True), (40, True)])
def test_a_lead_without_a_county_decision_is_overdue_after_day_15(days, overdue):
    assert lc.is_overdue(LEAD, None, None, LEAD + timedelta(days=days)) is overdue


def test_a_decided_or_closed_case_is_never_overdue():
    late = LEAD + timedelta(days=60)
    assert not lc.is_overdue(LEAD, LEAD + timedelta(days=20), None, late)
    assert not lc.is_overdue(LEAD, None, LEAD + timedelta(days=3), late)


def _step(action, on, **kw):
    args = dict(stage=lc.ACTION_STAGE[action], action=action, on=on, last_step=LEAD, notice_start=None,
                decided_on=None, measures=0, detail={}, has_working_age=True, outcome="open")
    args.update(kw)
    return lc.apply_step(**args)


def test_the_notice_runs_at_least_five_days_before_the_township_review():
    start = date(2025, 1, 10)
    # The notice's own refusal, naming the first allowed day (not the date-order message, which
    # also holds digits).
    with pytest.raises(lc.StepError, match="^公示不少于5天，最早2025-01-15审核 / the notice runs at least 5 days$"):
        _step("township_review", start + timedelta(days=4), notice_start=start, last_step=start)
    assert _step("township_review", start + timedelta(days=5), notice_start=start).stage == "county_decision"


def test_steps_follow_their_order_and_dates_never_go_back():
    with pytest.raises(lc.StepError):
        lc.apply_step(stage="home_check", action="county_decision", on=LEAD, last_step=LEAD, notice_start=None,
                      decided_on=None, measures=0, detail={"identified": True}, has_working_age=True, outcome="open")
    with pytest.raises(lc.StepError, match="before"):
        _step("home_check", LEAD - timedelta(days=1))
    assert _step("home_check", LEAD, detail={"at_risk": False}).outcome == "no_risk_found"
    decided = _step("county_decision", LEAD + timedelta(days=12), detail={"identified": True})
    assert (decided.stage, decided.outcome, decided.decided_on) == ("support", "identified", LEAD + timedelta(days=12))


DECIDED = date(2025, 1, 31)


@pytest.mark.parametrize(("on", "ok"), [(date(2025, 7, 30), False), (date(2025, 7, 31), True)])
def test_elimination_needs_six_months_listed(on, ok):
    kw = dict(decided_on=DECIDED, measures=1, detail=CHECKS, last_step=DECIDED)
    if ok:
        assert _step("elimination_check", on, **kw).outcome == "eliminated"
    else:
        with pytest.raises(lc.StepError, match="6"):
            _step("elimination_check", on, **kw)
    assert lc.eligible_for_elimination(stage="elimination_check", decided_on=DECIDED, measures=1, as_of=on) is ok


def test_elimination_needs_a_measure_and_every_check():
    on = date(2025, 9, 1)
    with pytest.raises(lc.StepError, match="measure"):
        _step("elimination_check", on, decided_on=DECIDED, measures=0, detail=CHECKS)
    with pytest.raises(lc.StepError, match="income"):
        _step("elimination_check", on, decided_on=DECIDED, measures=2, detail={**CHECKS, "income_stable": False})
    assert not lc.eligible_for_elimination(stage="elimination_check", decided_on=DECIDED, measures=0, as_of=on)


def test_a_household_without_working_age_members_moves_to_social_security_support():
    done = _step("elimination_check", date(2025, 9, 1), decided_on=DECIDED, measures=1, detail=CHECKS,
                 has_working_age=False)
    assert (done.stage, done.outcome) == ("closed", "social_security")


def test_a_step_keeps_only_what_it_records_and_refuses_the_rest():
    kinds, measures = ("illness", "disability"), ("medical_aid",)
    got = lc.clean_detail("home_check", {"at_risk": 1, "risk_types": ["illness"], "extra": "x"}, kinds, measures)
    assert got == {"at_risk": True, "risk_types": ["illness"]}
    for bad in ({"risk_types": "illness"}, {"risk_types": ["astrology"]}, {"note": "a\x00b"}, {"note": 5}):
        with pytest.raises(lc.StepError):
            lc.clean_detail("home_check", {"at_risk": True, **bad}, kinds, measures)
    with pytest.raises(lc.StepError, match="measure"):
        lc.clean_detail("measure", {"measure": "a gift"}, kinds, measures)
    assert lc.clean_detail("measure", {"measure": "medical_aid"}, kinds, measures) == {"measure": "medical_aid"}


@pytest.mark.parametrize(("day", "later"), [(date(2025, 1, 31), date(2025, 7, 31)), (date(2025, 8, 31), date(2026, 2, 28)),
                                            (date(2023, 8, 29), date(2024, 2, 29)), (date(2025, 12, 1), date(2026, 6, 1))])
def test_six_calendar_months_later(day, later):
    assert lc.add_months(day, 6) == later


# -- public notice and appeal (公示 / 申诉) -------------------------------------------------------
NOTICE = date(2025, 1, 10)


def test_an_objection_is_received_while_the_notice_runs_and_needs_a_note():
    kw = dict(notice_start=NOTICE, last_step=NOTICE)
    kept = _step("objection", NOTICE + timedelta(days=2), detail={"upheld": True, "note": "x"}, **kw)
    assert (kept.stage, kept.outcome) == ("township_review", "open")  # the review still waits
    with pytest.raises(lc.StepError, match="while the notice runs"):
        _step("objection", NOTICE - timedelta(days=1), notice_start=NOTICE, last_step=NOTICE - timedelta(days=3))
    with pytest.raises(lc.StepError, match="write a note"):
        lc.clean_detail("objection", {"upheld": False}, [], [])
    assert lc.clean_detail("objection", {"upheld": 1, "note": "已核实"}, [], []) == {"upheld": True, "note": "已核实"}
    with pytest.raises(lc.StepError, match="waits for"):  # not before the notice, nor after the review
        _step("objection", NOTICE, stage="county_decision")


def _appeal(on, **kw):
    args = dict(stage="closed", action="appeal", on=on, last_step=DECIDED, notice_start=None, decided_on=DECIDED,
                measures=0, detail={"note": "收入算错"}, has_working_age=True, outcome="not_identified")
    args.update(kw)
    return lc.apply_step(**args)


@pytest.mark.parametrize(("days", "ok"), [(0, True), (30, True), (31, False)])
def test_an_appeal_is_lodged_within_the_window_of_the_decision(days, ok):
    if ok:
        assert _appeal(DECIDED + timedelta(days=days)).stage == "appeal"
    else:
        with pytest.raises(lc.StepError, match="within 30 days"):
            _appeal(DECIDED + timedelta(days=days))
    # The county's own window (its policy file) replaces the default.
    assert _appeal(DECIDED + timedelta(days=31), clock={"appeal_window_days": 60, "appeal_answer_days": 15})


def test_only_a_county_decision_is_appealed_and_only_once():
    with pytest.raises(lc.StepError, match="county's decision"):
        _appeal(DECIDED, stage="closed", outcome="no_risk_found", decided_on=None)  # closed at the home check
    with pytest.raises(lc.StepError, match="county's decision"):
        _appeal(DECIDED, stage="county_decision", outcome="open", decided_on=None)
    with pytest.raises(lc.StepError, match="once already"):
        _appeal(DECIDED + timedelta(days=3), appeals=1)
    with pytest.raises(lc.StepError, match="closed"):  # no answer without a pending appeal
        _step("appeal_decision", DECIDED, stage="closed", outcome="not_identified")


def _answer(overturned: bool, outcome: str, measures: int = 0):
    on = DECIDED + timedelta(days=20)
    return lc.apply_step(stage="appeal", action="appeal_decision", on=on, last_step=DECIDED + timedelta(days=5),
                         notice_start=None, decided_on=DECIDED, measures=measures,
                         detail={"overturned": overturned, "note": "复核"}, has_working_age=True, outcome=outcome)


def test_an_answer_that_overturns_flips_the_decision_and_an_upheld_one_returns_the_case():
    on = DECIDED + timedelta(days=20)
    refused = _answer(True, "not_identified")
    # Identified from the answer: its six months of listing start on that day; the close is undone.
    assert (refused.stage, refused.outcome, refused.decided_on, refused.reopened) == ("support", "identified", on, True)
    admitted = _answer(True, "identified", measures=1)
    assert (admitted.stage, admitted.outcome, admitted.closed_on) == ("closed", "not_identified", on)
    assert (_answer(False, "not_identified").stage, _answer(False, "not_identified").outcome) == (
        "closed", "not_identified")
    assert _answer(False, "identified", measures=1).stage == "elimination_check"
    assert _answer(False, "identified").stage == "support"


@pytest.mark.parametrize(("days", "overdue"), [(15, False), (16, True)])
def test_an_unanswered_appeal_is_overdue_after_its_own_clock(days, overdue):
    lodged = date(2025, 3, 1)
    assert lc.appeal_overdue(lodged, None, lodged + timedelta(days=days)) is overdue
    assert not lc.appeal_overdue(lodged, lodged + timedelta(days=3), lodged + timedelta(days=days))
    assert lc.appeal_overdue(lodged, None, lodged + timedelta(days=days), answer_days=days) is False
