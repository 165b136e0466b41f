"""Excel export of a watch list (Chinese headers, openpyxl), exactly the rows a filter selects."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from features import vocabulary as voc
from features.contract import zh_labels
from features.rules import CRITERIA
from features.weeks import Week
from serving.documents.formulas import append_row

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
        return voc.RISK_LEVEL.get(value, value)
    if key == "flags":
        return "、".join(voc.WATCHLIST_FLAG.get(f, f) for f in value or [])
    if key == "criteria_met":
        return "；".join(CRITERIA[c].zh if c in CRITERIA else c for c in value or [])
    if key in ("probability", "change") and value is not None:
        return round(float(value), 4)
    return value


def xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[float], *,
         percent_column: int | None = None) -> bytes:
    """The one .xlsx builder (WPS-compatible, openpyxl): a bold, frozen header row, then the rows;
    ``percent_column`` (1-based) is shown as a percentage."""
    return xlsx_sheets([(title, header, rows, widths, percent_column)])


def xlsx_sheets(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]], Sequence[float], int | None]]
                ) -> bytes:
    """:func:`xlsx` with several sheets: ``(title, header, rows, widths, percent_column)`` each."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    for index, (title, header, rows, widths, percent_column) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = title[:31]  # Excel's limit
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            append_row(sheet, list(row))  # text defused against formula injection
        if percent_column is not None:
            for i in range(2, sheet.max_row + 1):
                sheet.cell(i, percent_column).number_format = "0.0%"
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def watchlist_workbook(rows: Sequence[dict[str, Any]], week: Week, *, identifiers: bool) -> bytes:
    """The API's export: the rows (already masked per role) under Chinese headers; without
    identifiers their columns are left out."""
    columns = [(k, h) for k, h in COLUMNS if identifiers or k not in ("head_name", "phone")]
    return xlsx(f"监测名单{week}", [h for _, h in columns], ([_cell(k, row) for k, _ in columns] for row in rows),
                (6, 8, 14, 10, 14, 10, 10, 10, 8, 10, 16, 30, 50)[:len(columns)])


RISK_TYPES = voc.RISK_TYPE
