"""Cell normalisation: every spelling a registry export uses, and what must stay invalid."""

import pandas as pd
import pytest

from features import normalising as norm
from features import vocabulary as voc


def _s(*values):
    return pd.Series(list(values), dtype=object)


@pytest.mark.parametrize(
    "raw",
    ["2024-03-01", "2024/3/1", "2024.3.1", "20240301", "2024年3月1日", " 2024-3-1 ",
     "２０２４－０３－０１", "2024-03-01 00:00:00", "2024-03-01T08:30:00"],
)
def test_date_spellings(raw):
    values, bad = norm.dates(_s(raw))
    assert values.iloc[0] == pd.Timestamp("2024-03-01")
    assert not bad.iloc[0]


def test_invalid_dates_are_marked_and_empty_ones_are_missing():
    values, bad = norm.dates(_s("2024-02-30", "yesterday", "", None, "NULL", "1500-01-01"))
    assert bad.tolist() == [True, True, False, False, False, True]
    assert values.isna().all()
    assert str(values.dtype) == "datetime64[ns]"


def test_excel_serials_only_where_allowed():
    assert norm.dates(_s("45352"), excel_serials=True)[0].iloc[0] == pd.Timestamp("2024-03-01")
    assert norm.dates(_s("45352"))[1].iloc[0]


def test_numbers():
    values, bad = norm.floats(_s("8,400", "８，４００", " 12.5 ", "1.2万", "300元", "abc", "1,2",
                                 "inf", ""), unit="元")
    assert values.iloc[:5].tolist() == [8400.0, 8400.0, 12.5, 12000.0, 300.0]
    assert bad.tolist() == [False] * 5 + [True, True, True, False]


def test_whole_numbers_reject_fractions():
    values, bad = norm.integers(_s("6", "６", "6.0", "6.5", "x"))
    assert values.iloc[:3].tolist() == [6, 6, 6]
    assert bad.tolist() == [False, False, False, True, True]
    assert str(values.dtype) == "Int64"


def test_booleans():
    values, bad = norm.booleans(_s("是", "否", "1", "0", "TRUE", "n", "√", "×", "有", "也许", ""))
    assert values.iloc[:9].tolist() == [True, False, True, False, True, False, True, False, True]
    assert bad.tolist() == [False] * 9 + [True, False]


def test_codes_from_labels_codes_and_variants():
    out = norm.codes(_s("脱贫户", "exited", "EXITED", " 一般农户\u3000", "贫困户", None),
                     voc.HOUSEHOLD_CATEGORY)
    assert out.iloc[:4].tolist() == ["exited", "exited", "exited", "general"]
    assert out.iloc[4] == "贫困户"  # unknown values stay as written, for the schema to report
    assert pd.isna(out.iloc[5])
    grades = norm.codes(_s("A级（安全）", "A级(安全)", "C级", "d"), voc.HOUSING_GRADE)
    assert grades.tolist() == ["A", "A", "C", "D"]


def test_text_strips_full_width_and_non_breaking_spaces():
    out = norm.text(_s("\u3000张三\u00a0", "Ｈ０００１", "", "null", None))
    assert out.iloc[:2].tolist() == ["张三", "H0001"]
    assert out.iloc[2:].isna().all()
    assert str(out.dtype) == "str"
