"""Printable visit sheets: one A4 page per watch-list household of a township, in Chinese.

A township leader takes these on a visit: the household's facts, members, risk and its trend,
the model's reasons, the official criteria met, the help that fits, and blank fields for the
visit record. Rendering takes plain data (what the store holds per household), so it is testable
without a database; :func:`township_visit_sheets` reads the store. HTML goes to PDF through
WeasyPrint with an installed CJK font named in the CSS (fontconfig finds it and embeds a subset).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from features import vocabulary as voc
from features.weeks import Week

# Fonts tried in order; the first installed one is named first in the CSS.
CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC")
MAX_MEASURES = 6  # what fits on the page beside everything else
# Tighter settings tried in turn until a household's sheet fits one A4 page.
DENSITIES = ("", "dense", "denser")


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _yuan(value: Any) -> str:
    v = _num(value)
    return "—" if v is None else f"{round(v):,} 元"


def _age(birth: Any, cutoff: dt.date) -> str:
    try:
        born = dt.date.fromisoformat(str(birth)[:10])
    except ValueError:
        return "—"
    years = cutoff.year - born.year - ((cutoff.month, cutoff.day) < (born.month, born.day))
    return str(years)


def _cutoff(sheet: Mapping[str, Any]) -> dt.date:
    text = sheet.get("facts", {}).get("cutoff") or sheet.get("explanation", {}).get("cutoff")
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return dt.date.today()


def _member_row(m: Mapping[str, Any], cutoff: dt.date) -> dict[str, str]:
    grade = _num(m.get("disability_grade"))
    disability = voc.DISABILITY_TYPE.get(m.get("disability_type") or "none", "无")
    if disability != "无" and grade is not None:
        disability += f"（{int(grade)}级）"
    months = _num(m.get("migrant_months")) or 0
    place = voc.MIGRANT_PLACE.get(m.get("migrant_place") or "none", "")
    insured = m.get("medical_insurance")
    return {
        "relation": voc.RELATION.get(m.get("relation"), m.get("relation") or "—"),
        "sex": voc.SEX.get(m.get("sex"), "—"),
        "age": _age(m.get("birth_date"), cutoff),
        "health": voc.HEALTH.get(m.get("health"), "—"),
        "disability": disability,
        "labour": voc.LABOUR_SKILL.get(m.get("labour_skill"), "—"),
        "schooling": voc.SCHOOLING_STATUS.get(m.get("schooling_status"), "—"),
        "migrant": f"{place}{int(months)}个月" if months > 0 else "—",
        "insured": "—" if insured is None else ("已参保" if insured else "未参保"),
    }


def _change(explanation: Mapping[str, Any], score: Mapping[str, Any]) -> str:
    change = _num(score.get("change", explanation.get("change")))
    if change is None:
        return "上周无评分，无法比较"
    points = change * 100
    if abs(points) < 0.05:
        return "与上周持平"
    return f"较上周{'上升' if points > 0 else '下降'} {abs(points):.1f} 个百分点"


def sheet_context(sheet: Mapping[str, Any]) -> dict[str, Any]:
    """Display strings for one household's sheet.

    Args:
        sheet: ``household_id``, ``identity`` (registry row), ``facts`` (household-frame row),
            ``members`` (member rows), ``explanation`` (``Explanation.to_dict()``), and
            optionally ``score`` (rank, change) and ``trend`` (list of {week, probability}).

    Returns:
        The values the template prints, all already formatted.
    """
    facts = sheet.get("facts", {})
    identity = sheet.get("identity", {})
    ex = sheet.get("explanation", {})
    score = sheet.get("score") or {}
    cutoff = _cutoff(sheet)
    probability = _num(ex.get("probability", score.get("probability")))
    grade = facts.get("housing_grade") or identity.get("housing_grade")
    water = facts.get("safe_water", identity.get("safe_water"))
    trend = [t for t in sheet.get("trend") or [] if _num(t.get("probability")) is not None][-6:]
    return {
        "household_id": sheet["household_id"],
        "township": facts.get("township") or identity.get("township") or score.get("township", ""),
        "village": facts.get("village") or identity.get("village") or score.get("village", ""),
        "cutoff": cutoff.isoformat(),
        "rank": score.get("rank"),
        "head_name": identity.get("head_name"),
        "phone": identity.get("phone"),
        "category": voc.HOUSEHOLD_CATEGORY.get(facts.get("category"), "—"),
        "policy_status": voc.POLICY_STATUS.get(facts.get("policy_status"), "—"),
        "social_assistance": voc.SOCIAL_ASSISTANCE.get(facts.get("social_assistance"), "—"),
        "household_size": f"{int(_num(facts.get('household_size')) or len(sheet.get('members', [])))} 人",
        "income": _yuan(facts.get("pc_net_income")) if _num(facts.get("pc_net_income")) is not None else "尚无收入调查",
        "line": _yuan(facts.get("monitoring_line")),
        "housing": voc.HOUSING_GRADE.get(grade, "—"),
        "water": "—" if water is None else ("有保障" if water else "无保障"),
        "level": ex.get("level", "low"),
        "level_zh": ex.get("level_zh", "—"),
        "probability": "—" if probability is None else f"{probability * 100:.1f}%",
        "change": _change(ex, score),
        "trend": " → ".join(f"{t['week']} {float(t['probability']) * 100:.0f}%" for t in trend) if len(trend) > 1 else "",
        "reasons": ex.get("reasons", []),
        "protective": ex.get("protective", []),
        "rule_triggers": ex.get("rule_triggers", []),
        "screening": "、".join(f["zh"] for f in ex.get("screening_flags", [])),
        "measures": ex.get("measures", [])[:MAX_MEASURES],
        "members": [_member_row(m, cutoff) for m in sheet.get("members", [])],
    }


def font_family() -> str:
    """CSS font-family naming the installed CJK fonts first (fontconfig resolves the names)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = [name for name in CJK_FAMILIES if name in installed]
    if not found:
        raise RuntimeError("no CJK font installed (install fonts-noto-cjk or fonts-wqy-microhei) / 未安装中文字体")
    return ", ".join(f'"{name}"' for name in found) + ", sans-serif"


def render_html(sheets: Sequence[Mapping[str, Any]], *, week: Week, township: str,
                generated: str | None = None, density: str = "") -> str:
    """The sheets as one HTML document (one ``section.sheet`` per household).

    ``density`` ("", "dense", "denser") tightens type and spacing for a crowded sheet.
    """
    import jinja2

    folder = resources.files("serving").joinpath("templates")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True)
    template = env.get_template("visit_sheet_pdf.html")
    return template.render(
        sheets=[sheet_context(s) for s in sheets],
        week=week,
        township=township,
        font_family=font_family(),
        generated=generated or dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        density=density,
        footer=" · ".join([township, week] + ([f"户编号 {sheets[0]['household_id']}"] if len(sheets) == 1 else [])),
    )


def render_pdf(sheets: Sequence[Mapping[str, Any]], *, week: Week, township: str,
               generated: str | None = None) -> bytes:
    """The sheets as a PDF: one A4 page per household (WeasyPrint, CJK font embedded).

    Each household is laid out on its own and set tighter until it fits one page (a household
    of more than about ten members may still take two); the pages are then joined.
    """
    from weasyprint import HTML

    if not sheets:
        raise ValueError("no visit sheets to render / 没有可生成的走访表")
    generated = generated or dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    documents = []
    for sheet in sheets:
        for density in DENSITIES:
            html = render_html([sheet], week=week, township=township, generated=generated, density=density)
            document = HTML(string=html).render(presentational_hints=True)
            if len(document.pages) == 1:
                break
        documents.append(document)
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()


def store_sheets(session: Any, run_id: int, township: str) -> list[dict[str, Any]]:
    """Plain sheet data for a township's watch list in one published run, in rank order.

    A watch-list household without a stored explanation gets none here; the weekly job
    explains the whole watch list, so that only happens for a run that failed half-way.
    """
    from serving.store import queries as q
    from serving.store import week_documents

    _, rows = q.watchlist(session, run_id, township=township, limit=None)
    out = []
    for row in rows:
        hid = row["household_id"]
        snap = q.snapshot(session, run_id, hid)
        out.append({
            "household_id": hid,
            "identity": dict(snap.identity) if snap else {},
            "facts": dict(snap.facts) if snap else {},
            "members": list(snap.members) if snap else [],
            "explanation": week_documents.explanation(session, run_id, hid, row.get("township")) or {},
            "score": row,
            "trend": q.trend(session, hid, up_to_week=None),
        })
    return out


def township_visit_sheets(settings: Any, week: Week, township: str) -> tuple[bytes, int]:
    """Read a published week from the store and render its township's visit sheets.

    Returns:
        (PDF bytes, number of households).

    Raises:
        LookupError: the week is not published, or the township has nobody on the watch list.
    """
    from serving.store import queries as q
    from serving.store.database import get_engine, session_factory

    engine = get_engine(settings)
    with session_factory(engine)() as session:
        run_id = q.published_run(session, week)
        if run_id is None:
            raise LookupError(f"week {week} is not published / 该周尚未发布")
        sheets = store_sheets(session, run_id, township)
        for s in sheets:
            s["trend"] = [t for t in s["trend"] if t["week"] <= week]
    if not sheets:
        raise LookupError(f"nobody from {township} is on the {week} watch list / 该乡镇本周名单为空")
    return render_pdf(sheets, week=week, township=township), len(sheets)
