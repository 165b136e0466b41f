"""Excel export of a watch list (Chinese headers, openpyxl), exactly the rows a filter selects."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from features import vocabulary as voc
from features.contract import zh_labels
from features.rules import CRITERIA
from serving.formulas import append_row

LEVEL_ZH = {"high": "高", "medium": "中", "low": "低"}
FLAG_ZH = {"new": "新增", "rising": "风险上升", "rule_triggered": "触发监测标准"}
_HOUSEHOLD = zh_labels("households")

# (key, Chinese header); identifier columns come from the contract's labels.
COLUMNS: list[tuple[str, str]] = [
    ("rank", "排名"),
    ("township_rank", "乡镇内排名"),
    ("household_id", _HOUSEHOLD["household_id"]),
    ("head_name", _HOUSEHOLD["head_name"]),
    ("phone", _HOUSEHOLD["phone"]),
    ("township", _HOUSEHOLD["township"]),
    ("village", _HOUSEHOLD["village"]),
    ("probability", "返贫风险概率"),
    ("level", "风险等级"),
    ("change", "较上周变化"),
    ("flags", "标记"),
    ("criteria_met", "符合的监测标准"),
    ("top_reason_zh", "主要原因"),
]


def _cell(key: str, row: dict[str, Any]) -> Any:
    value = row.get(key)
    if key == "level":
        return LEVEL_ZH.get(value, value)
    if key == "flags":
        return "、".join(FLAG_ZH.get(f, f) for f in value or [])
    if key == "criteria_met":
        return "；".join(CRITERIA[c].zh if c in CRITERIA else c for c in value or [])
    if key in ("probability", "change") and value is not None:
        return round(float(value), 4)
    return value


def watchlist_workbook(rows: Sequence[dict[str, Any]], week: str, *, identifiers: bool) -> bytes:
    """An .xlsx of the rows (already masked per role); without identifiers their columns are left out."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    columns = [(k, h) for k, h in COLUMNS if identifiers or k not in ("head_name", "phone")]
    book = Workbook()
    sheet = book.active
    sheet.title = f"监测名单{week}"
    sheet.append([h for _, h in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_row(sheet, [_cell(k, row) for k, _ in columns])
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJKLM", (6, 8, 14, 10, 14, 10, 10, 10, 8, 10, 16, 30, 50), strict=False):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


RISK_TYPES = voc.RISK_TYPE
