"""Department warnings: each rule names its department and threshold, fires once on its record in
the week it arrives, and counts are reported per rule (also on the simulated county)."""

from __future__ import annotations

import pandas as pd
import pytest

from features.department_warnings import (
    department_warnings,
    load_warning_rules,
    parse_warning_rules,
    warning_counts,
)
from features.policy import load_policy
from tests.tables import _typed, household, member, tiny_tables

WEEK_END = pd.Timestamp("2024-06-09")  # a Sunday


def _event(eid, hid, mid, day, kind, amount=None):
    return dict(event_id=eid, household_id=hid, member_id=mid, event_date=day, event_type=kind, amount=amount,
                source="")


@pytest.fixture(scope="module")
def tables():
    t = tiny_tables()
    extra_members = [
        member("H1", "M5", "2012-03-01", relation="child", schooling_status="dropout", labour_skill="none",
               name="张六", id_number="370481201203011111"),
        member("H1", "M6", "1990-01-01", relation="child", disability_type="physical", disability_grade=2,
               name="张七", id_number="370481199001011111"),
    ]
    events = [
        # M1 (exited household): 100,000 yuan of hospital bills, ~12,000 out of pocket > 50% x 23,119.
        _event("E10", "H1", "M1", "2024-06-05", "hospitalisation", 100000.0),
        _event("E11", "H1", "M5", "2024-06-04", "school_dropout"),
        _event("E12", "H1", "M6", "2024-06-06", "disability_certified"),
        _event("E13", "H1", None, "2024-06-07", "disaster_damage", 5000.0),
        _event("E14", "H2", None, "2024-06-07", "disaster_damage", 4999.0),  # under the threshold
        _event("E15", "H1", "M2", "2024-06-08", "death"),  # born 1972: working age
        _event("E16", "H2", "M4", "2024-06-08", "death"),  # born 1950: not working age
        _event("E17", "H1", "M1", "2024-06-10", "disaster_damage", 90000.0),  # the next week
    ]
    t["members"] = pd.concat([t["members"], _typed("members", extra_members)], ignore_index=True)
    t["events"] = pd.concat([t["events"], _typed("events", events)], ignore_index=True)
    h3 = [household("H3", social_assistance="none"), household("H3", social_assistance="tekun",
                                                                 valid_from="2024-06-05")]
    h3[0]["valid_to"] = "2024-06-05"
    t["households"] = pd.concat([t["households"], _typed("households", h3)], ignore_index=True)
    t["members"] = pd.concat([t["members"], _typed("members", [member("H3", "M9", "1960-01-01")])],
                             ignore_index=True)
    return t


def test_each_rule_fires_on_its_record_with_department_and_threshold(tables):
    rules = load_warning_rules()
    found = department_warnings(tables, WEEK_END, load_policy(), rules)
    fired = {(r.rule, r.household_id, r.record) for r in found.itertuples()}
    assert fired == {
        ("medical_out_of_pocket", "H1", "member:M1"),
        ("school_dropout", "H1", "event:E11"),
        ("severe_disability", "H1", "event:E12"),
        ("disaster_damage", "H1", "event:E13"),
        ("working_age_death", "H1", "event:E15"),
        ("new_social_assistance", "H3", "household:tekun"),
    }
    departments = dict(zip(found["rule"], found["department"], strict=True))
    assert departments["medical_out_of_pocket"] == "医保局" and departments["school_dropout"] == "教育局"
    medical = found.loc[found["rule"] == "medical_out_of_pocket"].iloc[0]
    assert medical["threshold"] == pytest.approx(0.5 * 23119)
    assert warning_counts(found, rules) == {name: 1 for name in rules}


def test_a_warning_fires_once_in_the_week_its_record_arrives(tables):
    rules = load_warning_rules()
    nxt = department_warnings(tables, WEEK_END + pd.Timedelta(days=7), load_policy(), rules)
    assert set(nxt["record"]) == {"event:E17"}  # the yearly medical sum already crossed last week


def test_a_county_edits_a_threshold():
    rules = load_warning_rules()
    raw = {"rules": {n: {"department": r.department, **r.params} for n, r in rules.items()}}
    raw["rules"]["disaster_damage"]["min_loss_yuan"] = 4000
    edited = parse_warning_rules(raw)
    assert edited["disaster_damage"].params["min_loss_yuan"] == 4000
    with pytest.raises(ValueError, match="department"):
        parse_warning_rules({"rules": {"disaster_damage": {"min_loss_yuan": 1}}})
    with pytest.raises(ValueError, match="unknown rule"):
        parse_warning_rules({"rules": {"astrology": {"department": "x"}}})


def test_warnings_on_the_simulated_county_are_counted_per_rule(small_county):
    """Two years of weekly cutoffs on the shared 1,500-household county (simulated, not field
    data): every rule is reported, and the rules the simulator has records for fire. (One year
    is not enough: a small county can go a year without a flood large enough to push.)"""
    names = ("households", "members", "events")
    tables = {n: pd.read_parquet(small_county / "history" / f"{n}.parquet") for n in names}
    rules, policy = load_warning_rules(), load_policy()
    totals = dict.fromkeys(rules, 0)
    for cutoff in pd.date_range("2024-01-07", "2025-12-28", freq="7D"):
        for rule, count in warning_counts(department_warnings(tables, cutoff, policy, rules), rules).items():
            totals[rule] += count
    print("department warnings, simulated county 2024-2025:", totals)
    assert set(totals) == set(rules)
    for rule in ("medical_out_of_pocket", "new_social_assistance", "disaster_damage", "working_age_death"):
        assert totals[rule] > 0, rule


def test_a_stay_of_a_member_the_registry_does_not_list_yet_warns_its_recorded_household(tables):
    """A hospital stay whose member has no registry row by the cutoff (entered later) still warns,
    under the household the stay was recorded for, never under an empty household."""
    t = dict(tables)
    t["events"] = pd.concat([t["events"], _typed("events", [
        _event("E30", "H2", "M99", "2024-06-05", "hospitalisation", 120000.0)])], ignore_index=True)
    found = department_warnings(t, WEEK_END, load_policy(), load_warning_rules())
    medical = found.loc[found["rule"] == "medical_out_of_pocket"]
    assert set(zip(medical["household_id"], medical["record"], strict=True)) == {("H1", "member:M1"), ("H2", "member:M99")}
    assert found["household_id"].notna().all()
