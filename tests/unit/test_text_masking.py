"""features.text_masking: a name field shows the name only; free text loses whole ID numbers and
phones (issue 30). The clerks' own examples from the finding."""

from __future__ import annotations

import pytest

from features.text_masking import clean_name, mask_free_text


@pytest.mark.parametrize(("typed", "name"), [
    ("余国超431128196306195294", "余国超"),
    ("冯娜 13912345678", "冯娜"),
    ("陈志福（重度残疾）", "陈志福"),
    ("杨梅友(尿毒症透析)", "杨梅友"),
    ("余国超４３１１２８１９６３０６１９５２９４", "余国超"),
    ("李四 431128********5294", "李四"),
    ("赵六 肺癌", "赵六"),
])
def test_a_name_field_holding_more_than_a_name_is_cut_and_flagged(typed, name):
    assert clean_name(typed) == (name, True)


@pytest.mark.parametrize("name", ["张三", "阿依古丽·买买提", "Li Ming"])
def test_a_plain_name_is_kept_and_not_flagged(name):
    assert clean_name(name) == (name, False)
    assert clean_name(f" {name} ") == (name, False)  # spaces are not a fault


def test_free_text_keeps_the_id_numbers_ends_and_loses_phones():
    text = "户主余国超431128196306195294，电话13912345678，手机１３９１２３４５６７８"
    masked = mask_free_text(text)
    assert "431128********5294" in masked and "1963061952" not in masked
    assert "13912345678" not in masked and "１３９１２３４５６７８" not in masked and "5678" not in masked
    assert mask_free_text(None) is None and mask_free_text("") == ""


def test_free_text_stars_a_phone_typed_straight_before_an_id_number():
    # One 29-digit run: neither a phone nor an ID-number look-alike, so only the quarantine lines'
    # long-run rule (``features.masking.shown``) catches it; free text gets the same rule.
    masked = mask_free_text("联系13812345678４３１１２８１９６３０６１９５２９４核实")
    assert masked.startswith("联系") and masked.endswith("核实")
    assert not any(c.isdigit() for c in masked), masked
