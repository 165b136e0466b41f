"""The ledger (台账) and the village notice (公示) as Excel and printable PDF.

The notice is posted in the village: it names the household head and the matter, and carries no
ID number and no health or disability detail (not even the risk types, which name illnesses and
disabilities): only what the rules ask a notice to show. The head's name is printed as a name only
(``features.text_masking.clean_name``): an ID number, a phone or a health word a clerk typed into the
registry's 户主姓名 is cut, and the ledger flags that case for a clerk to correct the registry. The
ledger is the office's own record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from datetime import timedelta
from importlib import resources
from typing import Any

from features.text_masking import clean_name
from serving.cases import lifecycle as lc
from serving.documents.workbook import xlsx  # the one .xlsx builder: bold frozen header, cells defused

LEDGER_HEADERS = ["案件编号", "户编号", "户主姓名", "乡镇", "行政村", "线索来源", "当前阶段", "办理结果", "线索日期",
                  "公示开始", "县级审定日期", "结案日期", "已用天数", "是否超期", "帮扶措施数", "可核查风险消除",
                  "户主姓名待更正", "公示异议（成立）", "申诉日期", "申诉答复日期", "申诉结果", "申诉是否超期"]
NOTICE_HEADERS = ["序号", "行政村", "户主姓名", "家庭人口", "公示事项", "公示期"]
NOTICE_MATTER = "拟认定为防止返贫致贫对象"
# What a notice row may hold, and nothing else: the test checks the export against this.
NOTICE_FIELDS = ("village", "head_name", "household_size", "matter", "period")


def ledger_workbook(rows: Sequence[dict[str, Any]], names: dict[str, str | None],
                    to_fix: frozenset[str] | set[str] = frozenset()) -> bytes:
    """One row per case, as ``service.list_cases`` gives them; ``names``: household -> head's name
    (already masked for the reader); ``to_fix``: households whose registry name field holds more
    than a name (``names_to_fix``)."""
    body = [[r["id"], r["household_id"], names.get(r["household_id"]) or "", r["township"], r["village"],
             lc.SOURCES[r["source"]][0], lc.STAGES[r["stage"]][0], lc.OUTCOMES[r["outcome"]][0], r["lead_date"],
             r["notice_start"], r["decided_on"], r["closed_on"], r["days_open"], "是" if r["overdue"] else "否",
             r["measures"], "是" if r["eligible_for_elimination"] else "否",
             "是" if r["household_id"] in to_fix else "", _objections(r), r.get("appeal_lodged"),
             r.get("appeal_answered"), _appeal_result(r), "是" if r.get("appeal_overdue") else ""] for r in rows]
    return xlsx("台账", LEDGER_HEADERS, body,
                [8, 18, 10, 10, 12, 14, 22, 22, 12, 12, 12, 12, 8, 8, 10, 12, 12, 12, 12, 12, 12, 10])


def _objections(row: dict[str, Any]) -> str:
    return f"{row['objections']}（{row['objections_upheld']}）" if row.get("objections") else ""


def _appeal_result(row: dict[str, Any]) -> str:
    if row.get("appeal_overturned") is None:
        return "待答复" if row.get("appeal_lodged") else ""
    return "改变原结论" if row["appeal_overturned"] else "维持原结论"


def names_to_fix(identities: dict[str, dict[str, Any]]) -> set[str]:
    """Households whose registry 户主姓名 holds more than a name (an ID number, a phone, a health
    word): the notice prints the name only, and a clerk should correct the registry."""
    return {h for h, v in identities.items() if clean_name((v or {}).get("head_name"))[1]}


def notice_rows(rows: Sequence[dict[str, Any]], identities: dict[str, dict[str, Any]],
                sizes: dict[str, Any]) -> list[dict[str, Any]]:
    """The households on public notice (notice started, not yet decided), in ``NOTICE_FIELDS`` only."""
    out = []
    for r in rows:
        if r["notice_start"] is None or r["decided_on"] is not None or r["stage"] == "closed":
            continue
        end = r["notice_start"] + timedelta(days=lc.NOTICE_DAYS)
        size = sizes.get(r["household_id"])
        out.append({
            "village": r["village"],
            "head_name": clean_name((identities.get(r["household_id"]) or {}).get("head_name"))[0],
            "household_size": "" if size is None else int(size),
            "matter": NOTICE_MATTER,
            "period": f"{r['notice_start']:%Y-%m-%d} 至 {end:%Y-%m-%d}",
        })
    return sorted(out, key=lambda n: (n["village"], n["head_name"]))


def notice_workbook(notices: Sequence[dict[str, Any]]) -> bytes:
    body = [[i, *(n[f] for f in NOTICE_FIELDS)] for i, n in enumerate(notices, start=1)]
    return xlsx("公示", NOTICE_HEADERS, body, [6, 14, 12, 10, 26, 26])


def notice_html(notices: Sequence[dict[str, Any]], *, township: str, font_family: str) -> str:
    import jinja2

    folder = resources.files("serving").joinpath("templates")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True)
    return env.get_template("case_notice_pdf.html").render(
        notices=notices, township=township, headers=NOTICE_HEADERS, fields=NOTICE_FIELDS,
        font_family=font_family, generated=dt.date.today().isoformat(), days=lc.NOTICE_DAYS)


def notice_pdf(notices: Sequence[dict[str, Any]], *, township: str) -> bytes:
    """The notice as an A4 PDF to post in the village (CJK font embedded)."""
    from weasyprint import HTML

    from serving.documents.visit_sheets import font_family

    return HTML(string=notice_html(notices, township=township, font_family=font_family())).write_pdf()
