"""The masking functions on hand-made text (``features.identifiers``, ``features.masking`` and the
quarantine lines that use them): exact outputs, so that a changed pattern, bound or cut shows. Fast
on purpose: `make mutate` runs them against every mutant of these modules."""

from __future__ import annotations

import pandas as pd
import pytest

from features import identifiers as ids
from features import masking, quarantine

ID18 = "431128196306195294"
ID18_X = "43112819630619529X"
ID15 = "431128630619529"
MOBILE = "13812345678"
FULL_WIDTH_ID = "４３１１２８１９６３０６１９５２９４"


@pytest.mark.parametrize("text, masked", [
    (ID18, "431128********5294"),
    (ID18_X, "431128********529X"),
    (ID18_X.lower(), "431128********529x"),
    (ID15, "431128*****9529"),  # the old 15-digit form keeps 6 and 4 too
    (f"余国超{ID18}", "余国超431128********5294"),
    (f"{ID18}号", "431128********5294号"),
    (f"a {ID18} b {ID18_X} c", "a 431128********5294 b 431128********529X c"),
    (FULL_WIDTH_ID, "431128********5294"),
    ("ﬁ" + ID18, "ﬁ431128********5294"),  # a character NFKC spreads over two stays, positions hold
    ("1" + ID18, "1" + ID18),  # 19 digits: not an ID number
    (ID18[:-1], ID18[:-1]),  # 17 digits
    (ID18[:16], ID18[:16]),  # 16 digits
    ("A" + ID18, "A" + ID18),  # part of a longer code
    (ID18 + "B", ID18 + "B"),
    ("x" + ID15 + "y", "x" + ID15 + "y"),
    ("", ""),
    ("石门村", "石门村"),
])
def test_id_numbers_keep_their_first_six_and_last_four(text, masked):
    assert ids.mask_id_numbers(text) == masked


@pytest.mark.parametrize("text, masked", [
    (MOBILE, "*" * 11),
    (f"冯娜{MOBILE}", "冯娜" + "*" * 11),
    ("138 1234 5678", "*" * 13),
    ("138-1234-5678", "*" * 13),
    ("+86 13812345678", "*" * 15),
    ("+8613812345678", "*" * 14),
    ("0086-13812345678", "*" * 16),
    ("0731-1234567", "*" * 12),
    ("0731 12345678", "*" * 13),
    ("010-12345678", "*" * 12),
    ("１３８１２３４５６７８", "*" * 11),  # full-width
    (f"电话{MOBILE}，身份证{ID18}", f"电话{'*' * 11}，身份证431128********5294"),
    ("12812345678", "12812345678"),  # 12x is no mobile
    ("1" + MOBILE, "1" + MOBILE),  # 12 digits
    (MOBILE + "9", MOBILE + "9"),
    ("0731-123456", "0731-123456"),  # 6 digits after the area code
    ("3500.5", "3500.5"),
    ("2024-03-05", "2024-03-05"),
])
def test_identifiers_star_phones_and_cut_id_numbers(text, masked):
    assert ids.mask_identifiers(text) == masked


def test_an_id_number_and_a_phone_at_the_same_place_are_one_id_number():
    # 0086 + a mobile is also 15 digits: one match, never the text twice.
    assert ids.mask_identifiers("0086" + MOBILE) == "008613*****5678"
    assert ids.mask_personal("0086" + MOBILE) == "*" * 15


@pytest.mark.parametrize("text, masked", [
    (ID18, "*" * 18),
    ("431128********5294", "*" * 18),  # already cut: still an identifier for a researcher
    ("431128*****529", "431128*****529"),  # too short to be a cut ID number
    ("431128*********5294", "431128*********5294"),  # nine stars: no cut this module makes
    ("431128*****5294", "*" * 15),
    (f"收入写成了 {ID18}，电话 {MOBILE}", f"收入写成了 {'*' * 18}，电话 {'*' * 11}"),
    ("3500.5", "3500.5"),
    ("", ""),
])
def test_personal_masking_stars_everything(text, masked):
    assert ids.mask_personal(text) == masked


@pytest.mark.parametrize("text, found", [
    (ID18, True), (FULL_WIDTH_ID, True), ("431128********5294", True), (MOBILE, True), ("0731-1234567", True),
    ("3500.5", False), ("", False), ("石门村", False), (ID18[:16], False),
])
def test_has_personal(text, found):
    assert ids.has_personal(text) is found


def test_sensitive_columns_are_the_contracts_identifiers():
    assert masking.sensitive_columns() == {"head_name", "head_id_number", "phone", "name", "id_number"}


@pytest.mark.parametrize("column", ["head_name", "head_id_number", "phone", "name", "id_number"])
def test_a_sensitive_column_shows_only_the_mask(column):
    assert masking.shown("张三丰", column) == masking.MASK == "***"
    assert masking.shown("王" * 500, column, limit=40) == "***"
    assert masking.shown("", column) == ""


@pytest.mark.parametrize("text, limit, out", [
    ("石门村", None, "石门村"),
    (f"石门村{MOBILE}", None, f"石门村{'*' * 11}"),
    ("村" * 40, 40, "村" * 40),  # exactly at the limit: not cut
    ("村" * 41, 40, "村" * 40 + "…"),
    ("村" * 41, None, "村" * 41),
    # An ID number straddling the cut is masked before the cut: only its first 6 digits remain.
    ("村" * 35 + ID18 + "村" * 300, 40, "村" * 35 + "43112" + "…"),
    ("村" * 30 + FULL_WIDTH_ID + "村" * 300, 40, "村" * 30 + "431128****" + "…"),
    # A phone starting just before the cut, and one ending 30 characters after it: both masked.
    ("村" * 39 + MOBILE + "村" * 300, 40, "村" * 39 + "*" + "…"),
    ("村" * 10 + "x" * 20 + "村" * 9 + MOBILE + "村" * 300, 40, "村" * 10 + "x" * 20 + "村" * 9 + "*…"),
])
def test_other_columns_are_masked_by_content_then_cut(text, limit, out):
    assert masking.shown(text, "village", limit) == out
    assert masking.shown(text, None, limit) == out


def test_the_window_is_wide_enough_for_any_identifier_starting_before_the_cut():
    # "+86 138 1234 5678" (17 characters) starting at the last kept character.
    phone = "+86 138 1234 5678"
    text = "村" * 39 + phone + "村" * 100
    assert masking.shown(text, "village", 40) == "村" * 39 + "*" + "…"
    text = "村" * 39 + ID18 + "村" * 100
    assert masking.shown(text, "village", 40) == "村" * 39 + "4" + "…"
    assert masking.shown("村" * 39 + "0086-" + MOBILE + "村" * 100, "village", 40).endswith("村*…")


def test_quarantine_lines_mask_every_value_by_column_and_content():
    lines = quarantine.lines("households.csv", [2, 3, 4], "phone", [MOBILE, "", None], quarantine.MISSING)
    assert lines.to_dict("records") == [
        {"file": "households.csv", "row": 2, "column": "phone", "value": "***", "reason": quarantine.MISSING},
        {"file": "households.csv", "row": 3, "column": "phone", "value": "", "reason": quarantine.MISSING},
        {"file": "households.csv", "row": 4, "column": "phone", "value": "", "reason": quarantine.MISSING},
    ]
    other = quarantine.lines("x.csv", pd.Index([7]), "land_mu", pd.Series([f"{ID18} {MOBILE}"]),
                             quarantine.NOT_A_NUMBER)
    assert other["value"].tolist() == [f"431128********5294 {'*' * 11}"]
    cut = quarantine.lines("x.csv", [5], "village", ["村" * 35 + ID18 + "村" * 300], "too long", limit=40)
    assert cut["value"].tolist() == ["村" * 35 + "43112…"]
    assert quarantine.lines("x.csv", [], "village", [], "r").empty
