"""The Excel (WPS-compatible .xlsx) export of exactly the watch-list rows a filter selects."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from serving.formulas import append_row
from serving.web import labels
from serving.web.i18n import gettext
from serving.web.labels import N_

HEADERS = [
    N_("Rank"),
    N_("Household ID"),
    N_("Head of household"),
    N_("Township"),
    N_("Village"),
    N_("Risk probability"),
    N_("Risk level"),
    N_("Change since last week (points)"),
    N_("Flags"),
    N_("Top reason"),
    N_("Official criteria met"),
    N_("Follow-up status"),
]


def watchlist_workbook(rows: list[dict[str, Any]], week: str, language: str) -> bytes:
    """One sheet: a header row in the reader's language, then one row per listed household."""
    wb = Workbook()
    ws = wb.active
    ws.title = week
    ws.append([gettext(language, h) for h in HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    zh = language == "zh_CN"
    for row in rows:
        s = row["score"]
        flags = [
            labels.label(labels.FLAGS, f, language)
            for f, on in (("new", s.flag_new), ("rising", s.flag_rising), ("rule_triggered", s.flag_rule))
            if on
        ]
        append_row(
            ws,
            [
                s.rank,
                s.household_id,
                row["identity"].get("head_name") or "",
                s.township,
                s.village,
                round(float(s.probability), 4),
                labels.label(labels.LEVELS, s.level, language),
                None if s.change is None else round(float(s.change) * 100, 1),
                "、".join(flags) if zh else ", ".join(flags),
                (s.top_reason_zh if zh else s.top_reason_en) or "",
                ("；" if zh else "; ").join(labels.criteria_labels(s.criteria_met, language)),
                labels.label(labels.OUTCOMES, row["outcome"], language),
            ]
        )
    for i in range(2, ws.max_row + 1):
        ws.cell(i, 6).number_format = "0.0%"
    for i, width in enumerate([6, 14, 10, 10, 12, 10, 8, 10, 16, 50, 24, 14], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
