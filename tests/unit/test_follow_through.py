"""The follow-through figures on a hand-built ledger, each answer worked out by hand.

Township A (villages a1, a2) and B (b1); published weeks 2025-W01..W03 (cutoffs 5, 12, 19 Jan),
ten households scored each week (h2 ranked 1st, the only top-tenth household).
- h1: listed W01 and W02 (one lead), visited by li on day 3 (at risk), case opened 8 Jan, county
  decision on day 12, a measure 1 Feb, risk eliminated 10 Aug; entered monitoring 20 Jan.
- h2: listed W01, judged "no risk" by li on day 5 (reason given); entered monitoring 15 Apr: a miss
  by override within 6 months.
- h3: department warning 12 Jan; home check on day 10 (at risk, zhao); an objection to the notice
  (dismissed); the county decided "not identified" on day 24 (late); the household appealed on
  10 Feb and the county's answer overturned the decision on 25 Feb; entered monitoring 26 Feb.
- h4: listed W03, never visited. h7: listed W01, never visited, never entered.
- h5: found by a village check on 14 Jan (home check next day, wang), no county decision yet;
  entered monitoring 1 Mar: missed by the lists.
- h6: on no list at all; entered monitoring 10 Feb: missed.

The cases are taken through their steps by ``serving.cases.lifecycle`` (the rules the store applies):
the case rows are what those steps leave, not typed in.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from monitoring.follow_through import burden, funnel, trace
from monitoring.judgement import judgement, overrides
from monitoring.ledger import Ledger, LedgerError, check, episodes, final_decisions
from monitoring.missed import missed_households, missed_share
from serving.cases import lifecycle as lc

D = date
CUTOFFS = {"2025-W01": D(2025, 1, 5), "2025-W02": D(2025, 1, 12), "2025-W03": D(2025, 1, 19)}
RANKS = {"h2": 1, "h1": 2, "h7": 3, "h6": 4, "h3": 5, "h4": 6, "h5": 7, "h8": 8, "h9": 9, "h10": 10}
TOWNSHIP = {"h1": "A", "h2": "A", "h3": "A", "h7": "A"}
ON_LIST = {"2025-W01": {"h1", "h2", "h7"}, "2025-W02": {"h1"}, "2025-W03": {"h4"}}


CASES = [  # case, household, township, village, source, lead; then its steps: action, day, user, detail
    (1, "h1", "A", "a1", "model", D(2025, 1, 8), [
        ("home_check", D(2025, 1, 8), "li", {"at_risk": True}),
        ("village_notice", D(2025, 1, 9), "li", {}),
        ("township_review", D(2025, 1, 15), "li", {"agree": True}),
        ("county_decision", D(2025, 1, 20), "county", {"identified": True}),
        ("measure", D(2025, 2, 1), "li", {"measure": "job"}),
        ("measure", D(2025, 3, 1), "li", {"measure": "loan"}),
        ("elimination_check", D(2025, 8, 10), "county",
         {"income_stable": True, "spending_resolved": True, "guarantees_secure": True})]),
    (2, "h3", "A", "a2", "department", D(2025, 1, 12), [
        ("home_check", D(2025, 1, 22), "zhao", {"at_risk": True}),
        ("village_notice", D(2025, 1, 23), "zhao", {}),
        ("objection", D(2025, 1, 25), "zhao", {"upheld": False, "note": "邻居称其有车"}),
        ("township_review", D(2025, 1, 28), "zhao", {"agree": True}),
        ("county_decision", D(2025, 2, 5), "county", {"identified": False}),
        ("appeal", D(2025, 2, 10), "zhao", {"note": "医疗自付未计入"}),
        ("appeal_decision", D(2025, 2, 25), "county", {"overturned": True, "note": "复核属实"})]),
    (3, "h5", "B", "b1", "village_check", D(2025, 1, 14), [
        ("home_check", D(2025, 1, 15), "wang", {"at_risk": True})]),
]


def run_case(lead: date, steps: list) -> tuple[dict, list]:
    """A case taken through ``steps`` by the lifecycle's rules: its row's dates and outcome, and
    its step rows (each step as the store records it)."""
    case = {"stage": "home_check", "outcome": "open", "notice_start": None, "decided_on": None, "closed_on": None}
    last, measures, appeals, rows = lead, 0, 0, []
    for action, day, user, detail in steps:
        kept = lc.clean_detail(action, detail, ["illness"], ["job", "loan"])
        change = lc.apply_step(stage=case["stage"], action=action, on=day, last_step=last,
                               notice_start=case["notice_start"], decided_on=case["decided_on"], measures=measures,
                               detail=kept, has_working_age=True, outcome=case["outcome"], today=day,
                               appeals=appeals)
        case.update(stage=change.stage, outcome=change.outcome)
        for name in ("notice_start", "decided_on", "closed_on"):
            if getattr(change, name) is not None:
                case[name] = getattr(change, name)
        if change.reopened:
            case["closed_on"] = None
        measures += action == "measure"
        appeals += action == "appeal"
        last = day
        rows.append((action, day, user, kept))
    return case, rows


def casework() -> tuple[pd.DataFrame, pd.DataFrame]:
    cases, steps = [], []
    for case_id, household, township, village, source, lead, todo in CASES:
        case, rows = run_case(lead, todo)
        cases.append((case_id, household, township, village, source, lead, case["decided_on"], case["closed_on"],
                      case["outcome"]))
        steps += [(case_id, *row) for row in rows]
    return (pd.DataFrame(cases, columns=["case_id", "household_id", "township", "village", "source", "lead_date",
                                         "decided_on", "closed_on", "outcome"]),
            pd.DataFrame(steps, columns=["case_id", "action", "step_date", "username", "detail"]))


def ledger() -> Ledger:
    scores = pd.DataFrame([
        {"week": w, "cutoff": c, "household_id": h, "township": TOWNSHIP.get(h, "B"), "rank": r,
         "probability": 1 - r / 20, "eligible": True, "on_list": h in ON_LIST[w]}
        for w, c in CUTOFFS.items() for h, r in RANKS.items()])
    leads = pd.DataFrame([
        ("h1", "A", "a1", D(2025, 1, 5), "model"), ("h1", "A", "a1", D(2025, 1, 12), "model"),
        ("h2", "A", "a1", D(2025, 1, 5), "model"), ("h7", "A", "a2", D(2025, 1, 5), "model"),
        ("h4", "B", "b1", D(2025, 1, 19), "model"), ("h3", "A", "a2", D(2025, 1, 12), "department"),
    ], columns=["household_id", "township", "village", "lead_date", "source"])
    verdicts = pd.DataFrame([
        ("h1", D(2025, 1, 8), "confirmed_at_risk", "li", ""),
        ("h2", D(2025, 1, 10), "not_at_risk", "li", "外出务工收入稳定"),
        ("h4", D(2025, 1, 20), "unreachable", "wang", ""),  # no finding: not a verdict
    ], columns=["household_id", "verdict_date", "outcome", "username", "note"])
    cases, steps = casework()
    entries = pd.DataFrame([
        ("h1", "A", D(2025, 1, 20), "illness"), ("h2", "A", D(2025, 4, 15), "income"),
        ("h3", "A", D(2025, 2, 26), "disability"), ("h5", "B", D(2025, 3, 1), "income"),
        ("h6", "B", D(2025, 2, 10), "income"),
    ], columns=["household_id", "township", "entry_date", "risk_type"])
    return check(Ledger(leads=leads, verdicts=verdicts, cases=cases, steps=steps, entries=entries, scores=scores))


AS_OF = D(2025, 9, 1)


def test_episodes_join_weekly_listings_and_cases():
    eps = episodes(ledger()).set_index("household_id")
    assert len(eps) == 6  # h1's two weeks are one lead; h3's warning and its case are one
    assert eps.loc["h1", "start"] == D(2025, 1, 5) and eps.loc["h1", "week"] == "2025-W01"
    assert eps.loc["h3", "source"] == "department" and eps.loc["h5", "source"] == "village_check"
    assert not eps.loc["h5", "listed"] and eps.loc["h3", "listed"]


def test_county_funnel_by_hand():
    row = funnel(trace(ledger(), AS_OF), []).iloc[0].to_dict()
    assert {k: row[k] for k in ("listed", "visited", "visited_in_time", "case_opened", "decided", "decided_in_time",
                                "measures", "eliminated", "visit_overdue", "decision_overdue")} == {
        "listed": 6, "visited": 4, "visited_in_time": 3, "case_opened": 3, "decided": 2, "decided_in_time": 1,
        "measures": 1, "eliminated": 1, "visit_overdue": 2, "decision_overdue": 1}
    # visits on days 3, 5, 10, 1; cases 3, 0, 0 days after the lead; decisions on days 12 and 24;
    # the first measure 12 days after the decision; eliminated 202 days after it.
    assert (row["days_to_visit"], row["days_to_case"], row["days_to_decision"]) == (4.0, 0.0, 18.0)
    assert (row["days_to_measure"], row["days_to_elimination"]) == (12.0, 202.0)


def test_funnel_per_week_and_officer():
    traced = trace(ledger(), AS_OF)
    weeks = funnel(traced, ["week"]).set_index("week")
    assert weeks["listed"].to_dict() == {"2025-W01": 3, "2025-W02": 1, "2025-W03": 2}
    assert weeks["visit_overdue"].to_dict() == {"2025-W01": 1, "2025-W02": 0, "2025-W03": 1}
    officers = funnel(traced, ["officer"])
    by = {r["officer"]: r for r in officers.to_dict(orient="records")}
    assert by["li"]["listed"] == 2 and by["li"]["case_opened"] == 1
    assert by["zhao"]["visited_in_time"] == 0  # the home check came on day 10
    assert by[None]["listed"] == 2 and by[None]["visit_overdue"] == 2  # h4 (unreachable is no verdict), h7
    with pytest.raises(ValueError):
        funnel(traced, ["county"])


def test_funnel_as_of_an_earlier_day():
    row = funnel(trace(ledger(), D(2025, 1, 21)), []).iloc[0].to_dict()
    # By 21 Jan: h1, h2 and h5 were visited; h3's home check (22 Jan) is not there yet; h1 was
    # decided on the 20th.
    assert (row["listed"], row["visited"], row["decided"], row["eliminated"]) == (6, 3, 1, 0)
    assert row["visit_overdue"] == 2  # h3 (9 days), h7 (16); h4 only 2 days: not yet
    assert row["decision_overdue"] == 0  # h3's case is 9 days old, h5's 7


def test_burden_by_hand():
    out = burden(trace(ledger(), AS_OF), weeks=3, officers={"A": 2, "B": 1}).set_index(
        pd.Index(["A", "B", "county"]))
    assert out.loc["A", "per_officer_week"] == pytest.approx(4 / 6)
    assert out.loc["B", "per_officer_week"] == pytest.approx(2 / 3)
    assert out.loc["county", "per_officer_week"] == pytest.approx(6 / 9)
    assert out.loc["A", "per_village_week"] == pytest.approx(4 / 6)  # villages a1, a2
    assert (out.loc["A", "with_verdict"], out.loc["A", "no_risk"]) == (3, 1)
    assert out.loc["A", "no_risk_share"] == pytest.approx(1 / 3)
    assert out.loc["county", "no_risk_share"] == pytest.approx(1 / 4)
    # Without a roster, the officers are those who recorded a verdict: li and zhao in A.
    assert burden(trace(ledger(), AS_OF), weeks=3).iloc[0]["officers"] == 2


def test_missed_households_by_hand():
    table, summary = missed_households(ledger(), D(2025, 1, 1), D(2025, 12, 31))
    rows = table.set_index("household_id")
    assert sorted(rows.index) == ["h5", "h6"]
    assert rows.loc["h5", "found_by"] == "village_check" and rows.loc["h6", "found_by"] is None
    assert (rows.loc["h6", "last_week"], rows.loc["h6", "rank"], rows.loc["h6", "scored"]) == ("2025-W03", 4, 10)
    assert not rows.loc["h5", "top_decile"]
    headline = missed_share(summary)
    low, high = proportion_confint(2, 5, alpha=0.05, method="wilson")
    assert headline == {"entered": 5, "missed": 2, "share": 0.4, "low": pytest.approx(low), "high": pytest.approx(high)}
    by = summary.loc[summary["risk_type"].isna() & summary["township"].notna()].set_index("township")
    assert by["missed"].to_dict() == {"A": 0, "B": 2}


def test_judgement_refuses_before_outcomes_mature():
    out = judgement(ledger(), D(2025, 1, 5), D(2025, 1, 19), data_end=AS_OF)
    assert out["matured"] is False and out["table"].empty
    assert out["matures_on"] == D(2026, 1, 18)


def test_model_officers_and_both_by_hand():
    table = judgement(ledger(), D(2025, 1, 5), D(2025, 1, 19), data_end=D(2026, 2, 1))["table"]
    county = table.loc[table["township"].isna()].set_index("way")
    # Positives: h1, h2, h3, h5, h6. Model: h1, h2, h4, h7. Officers: h1, h3, h5 (h5 they added).
    # Final: h1, and h3 (its "not identified" was overturned on appeal).
    assert county.loc["model", ["positives", "flagged", "hits"]].tolist() == [5, 4, 2]
    assert county.loc["officers", ["flagged", "hits"]].tolist() == [3, 3]
    assert county.loc["final", ["flagged", "hits"]].tolist() == [2, 2]
    assert county.loc["model", "recall"] == pytest.approx(0.4) and county.loc["model", "precision"] == pytest.approx(0.5)
    assert county.loc["officers", "recall"] == pytest.approx(0.6)
    low, high = proportion_confint(3, 5, alpha=0.05, method="wilson")
    assert county.loc["officers", "recall_low"] == pytest.approx(low)
    assert county.loc["officers", "recall_high"] == pytest.approx(high)
    b = table.loc[table["township"] == "B"].set_index("way")
    assert b.loc["final", "precision"] is None and b.loc["final", "recall"] == 0


def test_an_overturning_appeal_flips_the_decision():
    cases = ledger().cases.set_index("household_id")
    # The steps leave h3's case identified from the answer (25 Feb), reopened; h1's eliminated.
    assert (cases.loc["h3", "outcome"], cases.loc["h3", "decided_on"], cases.loc["h3", "closed_on"]) == (
        "identified", D(2025, 2, 25), None)
    assert (cases.loc["h1", "outcome"], cases.loc["h1", "closed_on"]) == ("eliminated", D(2025, 8, 10))
    final = final_decisions(ledger()).set_index("household_id")
    assert bool(final.loc["h3", "identified"]) and final.loc["h3", "decided_on"] == D(2025, 2, 25)
    assert bool(final.loc["h1", "identified"]) and final.loc["h1", "decided_on"] == D(2025, 1, 20)


def test_the_notice_and_the_appeal_in_the_funnel_by_hand():
    row = funnel(trace(ledger(), AS_OF), []).iloc[0].to_dict()
    # h3: one objection (dismissed), an appeal, overturned; the clock still judges the first
    # decision (day 24: decided, late).
    assert {k: row[k] for k in ("objected", "objection_upheld", "appealed", "appeal_overturned", "appeal_overdue")} \
        == {"objected": 1, "objection_upheld": 0, "appealed": 1, "appeal_overturned": 1, "appeal_overdue": 0}
    # On 26 Feb the appeal (10 Feb) had been answered; on 24 Feb it was waiting 14 days: not yet
    # overdue; had the answer not come, on 26 Feb it would be (16 days > 15).
    assert funnel(trace(ledger(), D(2025, 2, 24)), []).iloc[0]["appeal_overdue"] == 0
    unanswered = ledger()
    unanswered = Ledger(**{**unanswered.__dict__,
                           "steps": unanswered.steps.loc[unanswered.steps["action"] != "appeal_decision"]})
    assert funnel(trace(unanswered, D(2025, 2, 25)), []).iloc[0]["appeal_overdue"] == 0
    assert funnel(trace(unanswered, D(2025, 2, 26)), []).iloc[0]["appeal_overdue"] == 1
    assert funnel(trace(unanswered, D(2025, 2, 26), appeal_days=30), []).iloc[0]["appeal_overdue"] == 0


def test_misses_by_override_by_hand():
    summary, detail = overrides(ledger(), D(2025, 1, 1), D(2025, 12, 31), data_end=AS_OF)
    row = detail.iloc[0]
    assert (row["household_id"], row["group"], row["note"]) == ("h2", "top_decile", "外出务工收入稳定")
    assert row["entered_6"] is True and row["entered_12"] is None  # 12 months not passed by 1 Sep
    county = summary.loc[summary["township"].isna()].iloc[0]
    assert (county["no_risk"], county["matured_6"], county["entered_6"], county["share_6"]) == (1, 1, 1, 1.0)
    assert county["matured_12"] == 0 and county["share_12"] is None
    later, _ = overrides(ledger(), D(2025, 1, 1), D(2025, 12, 31), data_end=D(2026, 2, 1))
    assert later.loc[later["township"].isna()].iloc[0]["entered_12"] == 1


def test_a_bad_ledger_names_table_row_and_column():
    bad = ledger()
    leads = bad.leads.copy()
    leads.loc[2, "lead_date"] = "2025-01-05"
    with pytest.raises(LedgerError, match=r"leads: row 2, column lead_date"):
        check(Ledger(leads=leads))
    leads = bad.leads.copy()
    leads.loc[1, "source"] = "rumour"
    with pytest.raises(LedgerError, match=r"leads: row 1, column source"):
        check(Ledger(leads=leads))


def test_casework_recorded_in_a_period_by_hand():
    from monitoring.case_activity import activity

    # February: h3's decision (not identified), its appeal lodged and overturned, h1's first measure.
    feb = activity(ledger(), D(2025, 2, 1), D(2025, 2, 28)).set_index(pd.Index(["A", "B", "county"]))
    assert feb.loc["county", ["decisions", "identified", "measures", "appeals", "appeals_answered",
                              "appeals_overturned", "eliminated", "objections"]].tolist() == [1, 0, 1, 1, 1, 1, 0, 0]
    assert feb.loc["B"].drop("township").fillna(0).sum() == 0
    # August: h1's risk eliminated, 202 days after its identification (20 Jan).
    aug = activity(ledger(), D(2025, 8, 1), D(2025, 8, 31)).set_index(pd.Index(["A", "B", "county"]))
    assert (aug.loc["A", "eliminated"], aug.loc["A", "days_to_elimination"]) == (1, 202.0)
    # January: the objection to h3's notice (dismissed), h1's decision (identified).
    jan = activity(ledger(), D(2025, 1, 1), D(2025, 1, 31)).set_index(pd.Index(["A", "B", "county"]))
    assert jan.loc["A", ["objections", "objections_upheld", "decisions", "identified"]].tolist() == [1, 0, 1, 1]
    # Unanswered, the appeal of 10 Feb is overdue on 26 Feb (16 days), not on 25 Feb.
    base = ledger()
    unanswered = Ledger(**{**base.__dict__, "steps": base.steps.loc[base.steps["action"] != "appeal_decision"]})
    assert activity(unanswered, D(2025, 2, 1), D(2025, 2, 25)).iloc[-1]["appeal_overdue"] == 0
    assert activity(unanswered, D(2025, 2, 1), D(2025, 2, 26)).iloc[-1]["appeal_overdue"] == 1
