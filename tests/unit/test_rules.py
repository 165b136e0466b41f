import pandas as pd
import pytest

from features.household_frame import build_household_frame
from features.policy import load_policy, parse_policy
from features.rules import CRITERIA, SCREENING, evaluate_rules
from tests.tables import tiny_tables


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def test_seed_thresholds_2020_and_national_line_2021(policy):
    # Seeds (004): exited people under 5000 are watched; under 4400 all go onto 低保.
    assert policy.line(2020) == 5000 and policy.line(2020, "dibao_line") == 4400
    # National monitoring floor 2021: 6000 (1.5 x the campaign line).
    assert policy.line(2021) == 6000


def _frame_with_income(policy, cutoff: str, pc_income: float) -> pd.DataFrame:
    frame = build_household_frame(tiny_tables(), cutoff, policy)
    frame = frame.loc[frame["household_id"] == "H1"].copy()
    frame["pc_net_income"] = pc_income
    frame["net_income"] = pc_income * frame["household_size"]
    frame["income_to_line"] = pc_income / frame["monitoring_line"]
    return frame


@pytest.mark.parametrize(
    ("cutoff", "income", "below", "watch"),
    [
        ("2020-06-30", 4399, True, False),
        ("2020-06-30", 4999, True, False),
        ("2020-06-30", 5001, False, True),
        ("2021-06-30", 5999, True, False),
        ("2021-06-30", 6001, False, True),
        ("2021-06-30", 7600, False, False),
    ],
)
def test_income_criterion_and_watch_band_follow_the_line(policy, cutoff, income, below, watch):
    rules = evaluate_rules(_frame_with_income(policy, cutoff, income), policy).iloc[0]
    assert rules["rule_income_below_line"] == below
    assert rules["rule_watch_band"] == watch
    assert rules["rules_triggered"] == below


def test_each_criterion_implies_its_risk_types(policy):
    frame = build_household_frame(tiny_tables(), "2024-05-01", policy)
    rules = evaluate_rules(frame, policy).set_index("household_id")
    h2 = rules.loc["H2"]
    assert h2["rule_income_below_line"] and h2["rule_spending_exceeds_income"] and h2["rule_sudden_hardship"]
    assert set(h2["rule_risk_types"].split("|")) == {"illness", "lack_labour"}
    assert rules.loc["H1", "criteria_met"] == ""
    assert h2["rules_priority_score"] > rules.loc["H1", "rules_priority_score"]


def test_priority_weights_come_from_the_policy_file(policy):
    frame = build_household_frame(tiny_tables(), "2024-05-01", policy)
    raw = {
        "lines": {2024: {"monitoring_line": 7500, "dibao_line": 5800}},
        "screening": policy.screening,
        "priority_weights": {name: 0 for name in {**CRITERIA, **SCREENING}},
    }
    flat = evaluate_rules(frame, parse_policy(raw))
    assert (flat["rules_priority_score"] < 1).all()  # only the tie-break remains


def test_policy_file_needs_both_lines():
    with pytest.raises(ValueError, match="dibao_line"):
        parse_policy({"lines": {2024: {"monitoring_line": 1}}, "screening": {}, "priority_weights": {}})
