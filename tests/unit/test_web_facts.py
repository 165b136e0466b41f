"""The household page's facts: each label says what its value shows."""

from __future__ import annotations

import re

import pytest

from features.household_frame import FRAME_COLUMNS
from serving.web.facts import GROUPS, fact_groups


def _rows(facts, language):
    return {r["label"]: r["value"] for g in fact_groups(facts, language) for r in g["rows"]}


@pytest.mark.parametrize(("rank", "zh", "en"), [(0, "A级（安全）", "A"), (1, "B级（基本安全）", "B"), (3, "D级（整体危房）", "D")])
def test_housing_shows_the_grade_letter_under_a_grade_label(rank, zh, en):
    assert _rows({"housing_grade_rank": float(rank)}, "zh_CN") == {"住房安全等级": zh}
    assert _rows({"housing_grade_rank": float(rank)}, "en") == {"housing safety grade": en}


def test_no_fact_label_describes_a_code_the_page_does_not_show():
    # A label like "（0=A,3=D）" explains the model's encoding; the page shows words, letters,
    # money and percentages, so such a label would describe something the reader never sees.
    shown = [name for _, names in GROUPS for name in names]
    facts = {name: 1.0 for name in shown}
    for language in ("zh_CN", "en"):
        labels = _rows(facts, language)
        assert len(labels) == len(shown)
        assert not [label for label in labels if re.search(r"\d\s*=|=\s*\d", label)], labels
    assert "0=A" in FRAME_COLUMNS["housing_grade_rank"].zh  # the model's own description keeps the code
