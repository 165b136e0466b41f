"""A household's facts and members as a page shows them: grouped, labelled, formatted.

Labels come from the household frame's column descriptions and the data contract, so the page
says exactly what the model was given, in the reader's language.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from features.household_frame import FRAME_COLUMNS
from serving.web.i18n import gettext
from serving.web.labels import N_, column_label, value_label

GROUPS: list[tuple[str, list[str]]] = [
    (N_("Income and spending"), ["pc_net_income", "income_to_line", "net_income", "income_change", "wage_share",
                                 "business_share", "property_share", "transfer_share", "medical_oop",
                                 "schooling_spending", "spending_to_income"]),
    (N_("Family and labour"), ["household_size", "head_age", "n_children_0_5", "n_children_6_15", "n_working_age",
                               "n_elderly_60", "n_elderly_80", "able_labour", "weak_labour", "n_migrant_workers",
                               "migrant_months", "n_out_province", "job_loss_52w"]),
    (N_("Health and disability"), ["n_chronic", "n_major_illness", "hospitalisations_52w", "hospital_cost_52w",
                                   "n_disabled", "n_severe_disabled", "n_uninsured"]),
    (N_("Schooling"), ["n_compulsory_students", "n_noncompulsory_students", "n_dropouts"]),
    (N_("Housing, water and support"), ["housing_grade_rank", "safe_water", "land_per_capita", "relocated",
                                        "micro_credit", "industry_project", "public_welfare_job", "new_dibao",
                                        "years_since_exit", "ever_monitored", "disaster_loss_52w"]),
]
SHARES = {"wage_share", "business_share", "property_share", "transfer_share", "income_change", "spending_to_income",
          "income_to_line", "labour_share"}
EN_UNITS = {"周": " weeks", "年": " years", "月": " months", "亩": " mu"}
# Model inputs the page shows as the registry value they encode (the grade letter, not the model's
# 0-3 rank): labelled as that registry column, so the label says what the value shows.
SHOWN_AS = {"housing_grade_rank": ("households", "housing_grade")}
INCOME_COMPONENTS = ["wage_income", "business_income", "property_income", "transfer_income", "business_costs"]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money_text(value: Any, language: str) -> str:
    """Yuan with thousands separators: 6,962元 / 6,962 yuan."""
    yuan = gettext(language, "yuan")
    return f"{float(value):,.0f}{yuan}" if language == "zh_CN" else f"{float(value):,.0f} {yuan}"


def format_fact(name: str, value: Any, language: str) -> str:
    """One frame value in words: money in yuan, shares in percent, yes/no, grade letters."""
    if _missing(value):
        return "–"
    column = FRAME_COLUMNS.get(name)
    unit = (column.unit if column else None) or ""
    if name == "head_age":
        value = int(float(value))
    if name == "housing_grade_rank":
        if not 0 <= int(value) <= 3:
            return str(value)
        letter = "ABCD"[int(value)]
        return value_label("households", "housing_grade", letter, language) if language == "zh_CN" else letter
    if isinstance(value, bool) or name in ("safe_water", "relocated", "micro_credit", "industry_project",
                                          "public_welfare_job", "new_dibao", "ever_monitored", "elderly_only"):
        return gettext(language, "yes") if bool(value) else gettext(language, "no")
    if name in SHARES:
        if name == "income_to_line":
            return f"{float(value):.2f}"
        return f"{float(value) * 100:+.0f}%" if name == "income_change" else f"{float(value) * 100:.0f}%"
    if unit == "元":
        return money_text(value, language)
    number = float(value)
    text = f"{number:.0f}" if number == int(number) else f"{number:.1f}"
    if language == "zh_CN":
        return text + unit
    return text + EN_UNITS.get(unit, "")


def fact_groups(facts: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """The household's frame values in labelled groups (only values the frame holds)."""
    out = []
    for title, names in GROUPS:
        rows = []
        for name in names:
            if name not in facts:
                continue
            column = FRAME_COLUMNS[name]
            label = column_label(*SHOWN_AS[name], language) if name in SHOWN_AS else (
                column.zh if language == "zh_CN" else column.en)
            rows.append({"label": label, "value": format_fact(name, facts[name], language)})
        if title == N_("Income and spending"):
            for comp in INCOME_COMPONENTS:
                if comp in facts and not _missing(facts[comp]):
                    rows.append({"label": column_label("income_surveys", comp, language),
                                 "value": money_text(facts[comp], language)})
        if rows:
            out.append({"title": gettext(language, title), "rows": rows})
    return out


def _age(birth: Any, cutoff: Any) -> int | None:
    try:
        born = date.fromisoformat(str(birth)[:10])
        at = date.fromisoformat(str(cutoff)[:10]) if cutoff else date.today()
    except ValueError:
        return None
    return at.year - born.year - ((at.month, at.day) < (born.month, born.day))


def migrant_text(member: dict[str, Any], language: str) -> str:
    """Where and how long a member works away: 省外 · 10个月 / out province · 10 months."""
    place = value_label("members", "migrant_place", member.get("migrant_place"), language)
    months = member.get("migrant_months")
    if months in (None, "", 0) or _missing(months):
        return place
    unit = gettext(language, "months")
    return f"{place} · {int(float(months))}{unit}" if language == "zh_CN" else f"{place} · {int(float(months))} {unit}"


def member_rows(members: list[dict[str, Any]], facts: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """Members with coded values in words and their age at the week's cutoff (identifiers untouched:
    the caller masks them)."""
    out = []
    for m in members:
        disability = value_label("members", "disability_type", m.get("disability_type"), language)
        if m.get("disability_grade") not in (None, "") and m.get("disability_type") not in (None, "none"):
            grade = gettext(language, "grade")
            number = int(float(m["disability_grade"]))
            disability += f"（{number}{grade}）" if language == "zh_CN" else f" (grade {number})"
        out.append(
            {
                **m,
                "age": _age(m.get("birth_date"), facts.get("cutoff")),
                "relation_text": value_label("members", "relation", m.get("relation"), language),
                "sex_text": value_label("members", "sex", m.get("sex"), language),
                "health_text": value_label("members", "health", m.get("health"), language),
                "disability_text": disability,
                "labour_text": value_label("members", "labour_skill", m.get("labour_skill"), language),
                "schooling_text": value_label("members", "schooling_status", m.get("schooling_status"), language),
                "education_text": value_label("members", "education", m.get("education"), language),
                "migrant_text": migrant_text(m, language),
                "insured": value_label("members", "medical_insurance", m.get("medical_insurance"), language),
            }
        )
    return out
