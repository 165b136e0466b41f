"""Reason sentences state only the household's own values; measures cover every reason and rule."""

from __future__ import annotations

import math
import re

import pytest

from features.household_frame import CONCEPTS, FRAME_COLUMNS
from features.policy import load_policy
from features.rules import CRITERIA
from models import reasons as rs
from models.explanation import explain
from models.measures import load_measures, parse_measures

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def _allowed_numbers(row: dict) -> set[float]:
    """Every way a sentence may state one of this row's values (and the one ratio it derives)."""
    allowed: set[float] = set()
    values = [row[c] for c in FRAME_COLUMNS] + [row["monitoring_line"]]
    oop, net = row.get("medical_oop"), row.get("net_income")
    if oop is not None and net is not None and not math.isnan(oop) and not math.isnan(net) and net > 0:
        values.append(oop / net)
    for v in values:
        try:
            v = float(v)
        except (TypeError, ValueError):
            continue
        if math.isnan(v):
            continue
        allowed |= {float(round(v)), float(round(v * 100)), float(round(-v * 100)), round(v, 1)}
    return allowed


@pytest.fixture(scope="module")
def explained(explain_county, explain_model):
    _, frame, _ = explain_county
    return frame, explain(explain_model, frame, None, load_policy())


def test_every_number_in_a_reason_is_one_of_the_households_own_values(explained):
    frame, explanations = explained
    rows = frame.to_dict("records")
    checked = 0
    for row, e in zip(rows, explanations, strict=True):
        allowed = _allowed_numbers(row)
        for r in e.reasons + e.protective:
            for text in (r["text_zh"], r["text_en"]):
                for token in NUMBER.findall(text):
                    number = float(token.replace(",", ""))
                    assert number in allowed, f"{e.household_id}: {token} in {text!r} is not its own value"
                    checked += 1
    assert checked > 1000


def test_another_households_numbers_are_caught(explained):
    # The check above can fail: a sentence built from another household's row is refused.
    frame, explanations = explained
    rows = frame.to_dict("records")
    caught = 0
    for i in range(200):
        mine, other = rows[i], rows[(i + 1) % len(rows)]
        zh, _ = rs.clause("medical_oop", other) or ("", "")
        tokens = [float(t.replace(",", "")) for t in NUMBER.findall(zh)]
        caught += any(t not in _allowed_numbers(mine) for t in tokens)
    assert caught > 100


def test_sentences_read_as_the_issue_asks():
    row = {"n_chronic": 2, "medical_oop": 8400.0, "net_income": 27096.0, "able_labour": 1}
    zh, en = rs.sentence("疾病", "illness", ["n_chronic", "medical_oop"], row)
    assert zh == "家中2人患长期慢性病，上年合规自付医疗费用8,400元，占家庭纯收入的31%"
    assert en == "2 members have a chronic illness; out-of-pocket medical costs last year were 8,400 yuan, 31% of net income"
    assert rs.clause("able_labour", row) == ("家中有1名有劳动能力的成员", "1 able worker in the household")


def test_a_missing_value_drops_its_clause_instead_of_inventing_one():
    row = {"n_chronic": 2, "medical_oop": 8400.0, "net_income": float("nan")}
    zh, en = rs.sentence("疾病", "illness", ["n_chronic", "medical_oop", "hospital_cost_52w"], row)
    assert zh == "家中2人患长期慢性病，上年合规自付医疗费用8,400元"
    assert "%" not in en
    assert rs.clause("n_disabled", {"n_disabled": None}) is None
    assert rs.clause("pc_net_income", {"pc_net_income": float("nan")}) == ("尚无收入调查记录", "no income survey on record")
    # Nothing at all to say: the concept is named, with no number.
    zh, en = rs.sentence("残疾", "disability", ["n_disabled"], {"n_disabled": float("nan")})
    assert not NUMBER.findall(zh + en)


def test_every_model_feature_has_a_sentence_template(explain_model):
    assert set(explain_model.feature_names_) <= set(rs.CLAUSES)


def _strings(value) -> list[str]:
    """Every text inside nested lists and dicts (numbers are the model's, not a person's)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def test_reasons_never_name_a_person_or_an_identifier(explain_county, explain_model):
    """Every sentence of an explanation (reasons, protective facts, rules, measures) states values,
    never who: not the household ID, the head's name, an ID number or a phone, even when the frame
    handed to ``explain`` carries them (a join that kept the registry's identifier columns)."""
    from tests.data.leaks import WHOLE

    _, frame, _ = explain_county
    rows = frame.head(300).reset_index(drop=True)
    surnames = "王李张刘陈杨黄赵吴周"
    people = {
        "head_name": [f"{surnames[i % 10]}{'国建秀明'[i % 4]}{'华英强芳'[i // 4 % 4]}" for i in range(len(rows))],
        "head_id_number": [f"4311281963{i:04d}529X" for i in range(len(rows))],
        "phone": [f"1391234{i:04d}" for i in range(len(rows))],
        "name": [f"{surnames[i % 10]}小{'梅兰竹菊'[i % 4]}" for i in range(len(rows))],
        "id_number": [f"43112820080101{i:04d}" for i in range(len(rows))],
    }
    with_people = rows.assign(**people)
    explanations = explain(explain_model, with_people, None, load_policy())
    assert len(explanations) == len(rows)
    stated = 0
    for i, e in enumerate(explanations):
        assert e.household_id == rows.loc[i, "household_id"]
        texts = "\n".join(_strings([e.reasons, e.protective, e.rule_triggers, e.screening_flags, e.measures,
                                     e.level_zh]))
        stated += len(e.reasons) + len(e.protective)
        secrets = [e.household_id, *(people[c][i] for c in people)]
        assert not [x for x in secrets if x in texts], (e.household_id, texts[:300])
        assert not WHOLE.findall(texts)
        assert not any(h in texts for h in rows["household_id"].head(50))  # nor another household's
    assert stated > 300


def test_measures_file_loads_and_covers_every_concept_and_criterion():
    m = load_measures()
    assert set(CONCEPTS) <= set(m.concepts)
    assert set(CRITERIA) <= set(m.criteria)
    for name in list(CONCEPTS):
        assert m.concepts[name], f"no measure for concept {name}"
    for measure in m.measures.values():
        assert measure.zh and measure.en and measure.programme_zh and measure.description_zh and measure.description_en
    names = {x.zh for x in m.measures.values()}
    # The seeds' own terms.
    for term in ("大病专项救治", "家庭医生签约服务", "医疗救助", "公益岗位", "扶贫车间就近就业", "技能培训", "农村低保",
                 "特困人员救助供养", "临时救助", "危房改造", "教育资助", "雨露计划", "产业帮扶", "扶贫小额信贷", "孝善养老"):
        assert term in names


def test_measures_follow_reason_strength_without_duplicates_and_respect_requirements():
    m = load_measures()
    row = {"n_major_illness": 1, "n_chronic": 0, "n_uninsured": 0, "able_labour": 0, "household_size": 2,
           "housing_grade_rank": 3.0, "medical_oop": 9000.0}
    out = m.suggest(["illness", "medical_spending", "lack_labour"], ["housing_failure", "sudden_hardship"], row)
    ids = [x["id"] for x in out]
    assert len(ids) == len(set(ids))
    assert ids[0] == "major_illness_treatment"
    assert "family_doctor" not in ids  # nobody with a chronic illness
    assert "public_welfare_post" not in ids and "dibao" in ids  # no able worker: the floor, not a job
    assert "tekun" not in ids  # two members
    assert ids.index("medical_aid") < ids.index("dangerous_house_renovation")
    major = next(x for x in out if x["id"] == "major_illness_treatment")
    assert {"kind": "criterion", "name": "sudden_hardship"} in major["because"]
    assert major["programme_zh"] == "健康帮扶"


def test_a_county_can_edit_the_measures_file(tmp_path):
    text = """
programmes: {health: {zh: 健康帮扶, en: health}}
measures:
  clinic: {programme: health, zh: 村卫生室巡诊, en: village clinic rounds, description_zh: 每月巡诊, description_en: monthly}
concepts: {illness: [clinic]}
criteria: {}
"""
    path = tmp_path / "measures.yaml"
    path.write_text(text, encoding="utf-8")
    m = load_measures(path)
    assert [x["zh"] for x in m.suggest(["illness"], [], {})] == ["村卫生室巡诊"]
    with pytest.raises(ValueError, match="unknown measure"):
        parse_measures({"programmes": {}, "measures": {}, "concepts": {"illness": ["nothing"]}})


def test_explanations_carry_measures_for_their_reasons(explained):
    _, explanations = explained
    with_measures = [e for e in explanations if e.reasons]
    assert all(e.measures for e in with_measures)
    for e in with_measures[:300]:
        sources = {b["name"] for x in e.measures for b in x["because"]}
        assert sources <= {r["concept"] for r in e.reasons} | {t["name"] for t in e.rule_triggers}
