"""The quarantine and flag tables: one line per (file, row, column) problem, with a reason.

A *quarantined* row failed the contract and is left out of the tables; a *flagged* row is valid but
implausible and is still used. Both tables have the same columns so a person can open them side by
side in Excel. Every value is masked here, once, by ``features.masking.shown`` (by column and by
content), so that no report can leak a name, an ID number or a phone.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from features import masking

COLUMNS = ("file", "row", "column", "value", "reason")
MASK = masking.MASK

# Reasons: short English first for machines and logs, Chinese second for the people who fix them.
NOT_A_NUMBER = "not a number / 不是数字"
NOT_A_WHOLE_NUMBER = "not a whole number / 不是整数"
NOT_A_DATE = "not a date / 不是有效日期"
NOT_A_BOOLEAN = "not a yes/no value / 不是“是/否”"
MISSING = "missing value / 缺少必填值"
UNKNOWN_VALUE = "unknown value / 未知取值"
BELOW_MINIMUM = "below the minimum {limit} / 低于最小值 {limit}"
ABOVE_MAXIMUM = "above the maximum {limit} / 高于最大值 {limit}"
DUPLICATE_KEY = "duplicate key, first row kept / 重复记录（保留第一条）"
UNKNOWN_HOUSEHOLD = "household not in the households table / 户编号不在农户信息中"
ENDS_BEFORE_START = "valid_to before valid_from / 失效日期早于生效日期"
ELIMINATED_BEFORE_ENTRY = "risk eliminated before entry / 风险消除日期早于纳入监测日期"
BIRTH_IN_FUTURE = "birth date after the export date / 出生日期晚于导出日期"
AGE_OVER_120 = "age over 120 / 年龄超过120岁"

# Flags (valid but implausible; the row is still used).
AGE_OVER_110 = "age over 110, please check / 年龄超过110岁，请核实"
TOO_MANY_MEMBERS = "more than 15 current members, please check / 现有成员超过15人，请核实"
MIGRANT_WITHOUT_PLACE = "migrant-work months but no place of work / 有务工时间但务工区域为“未务工”"
INCOME_FAR_BELOW_HISTORY = (
    "income about 10,000x below the household's history, entered in 万元? Held out of scoring until corrected "
    "/ 收入比该户历史低约一万倍，是否按“万元”填报？更正前暂不用于评分"
)
INCOME_TINY_WITH_LABOUR = (
    "income under 50 yuan with able labour, entered in 万元? Held out of scoring until corrected "
    "/ 有劳动力但年收入不足50元，是否按“万元”填报？更正前暂不用于评分"
)
# Flags whose row is held out of the features and rules (kept in the export's tables for the
# drift monitor and the data page): a 万元 slip makes a household look 10,000x poorer, so using
# it would put a whole township on the watch list for a typing error.
HELD_REASONS = (INCOME_FAR_BELOW_HISTORY, INCOME_TINY_WITH_LABOUR)

QUARANTINE_REASONS = (
    NOT_A_NUMBER, NOT_A_WHOLE_NUMBER, NOT_A_DATE, NOT_A_BOOLEAN, MISSING, UNKNOWN_VALUE,
    BELOW_MINIMUM, ABOVE_MAXIMUM, DUPLICATE_KEY, UNKNOWN_HOUSEHOLD, ENDS_BEFORE_START,
    ELIMINATED_BEFORE_ENTRY, BIRTH_IN_FUTURE, AGE_OVER_120,
)
FLAG_REASONS = (
    AGE_OVER_110, TOO_MANY_MEMBERS, MIGRANT_WITHOUT_PLACE, INCOME_FAR_BELOW_HISTORY,
    INCOME_TINY_WITH_LABOUR,
)


def empty() -> pd.DataFrame:
    """A quarantine (or flag) table with no lines."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "str") for c in COLUMNS})


def lines(
    file: str,
    rows: Iterable[int] | pd.Index,
    column: str,
    values: pd.Series | Iterable[object],
    reason: str,
    *,
    limit: int | None = None,
) -> pd.DataFrame:
    """Quarantine lines for one column and one reason.

    Args:
        file: the file name as the person has it.
        rows: row numbers as Excel shows them (header is row 1).
        column: contract column name.
        values: the raw values as written in the file.
        reason: one of the reason texts of this module.
        limit: show at most this many characters of each (masked) value, then "…".
    """
    rows = np.asarray(list(rows) if not isinstance(rows, pd.Index) else rows, dtype="int64")
    shown = pd.Series(list(values) if not isinstance(values, pd.Series) else values.to_numpy())
    shown = shown.map(_as_text, na_action=None).astype("str") if len(shown) else shown.astype("str")
    if len(shown):
        # By column (names, ID numbers, phones) and by content (an ID number or a phone typed
        # into any column): the one decision of ``features.masking``.
        shown = shown.map(lambda text: masking.shown(text, column, limit))
    return pd.DataFrame(
        {
            "file": pd.Series([file] * len(rows), dtype="str"),
            "row": rows,
            "column": pd.Series([column] * len(rows), dtype="str"),
            "value": shown.to_numpy(),
            "reason": pd.Series([reason] * len(rows), dtype="str"),
        }
    )


def combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack line tables; one line per (file, row, column), the first reason wins."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty()
    out = pd.concat(parts, ignore_index=True)
    out = out.drop_duplicates(subset=["file", "row", "column"], keep="first")
    return out.sort_values(["file", "row"], kind="stable").reset_index(drop=True)


def _as_text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
