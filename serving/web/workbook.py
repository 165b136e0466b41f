"""The Excel (WPS-compatible .xlsx) export of exactly the watch-list rows a filter selects."""

from __future__ import annotations

from typing import Any

from features.weeks import Week
from serving.documents.workbook import xlsx
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


def page_rows_sheet(rows: list[dict[str, Any]], week: Week, language: str) -> bytes:
    """The page's rows for the one workbook builder (``serving.documents.workbook.xlsx``): a header row in the reader's language, then one row
    per listed household."""
    zh = language == "zh_CN"

    def line(row: dict[str, Any]) -> list[Any]:
        s = row["score"]
        flags = [
            labels.label(labels.FLAGS, f, language)
            for f, on in (("new", s.flag_new), ("rising", s.flag_rising), ("rule_triggered", s.flag_rule))
            if on
        ]
        return [
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

    return xlsx(week, [gettext(language, h) for h in HEADERS], (line(r) for r in rows),
                [6, 14, 10, 10, 12, 10, 8, 10, 16, 50, 24, 14], percent_column=6)
