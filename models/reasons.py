"""Reason sentences a township leader can read: one clause per model feature, built only from the
household's own frame values, Chinese first and English second.

Why clauses are per feature: a concept (say medical spending) raises the risk because of the
particular features whose SHAP contributions are positive, so the sentence states exactly those
facts and nothing else. A clause whose value is missing is left out rather than guessed, and the
fixed wording holds no digits (「近三个月」, not 「近13周」): every number in a sentence is a value of
this household's row (or a ratio of two of its values), which the tests check digit by digit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from features import vocabulary as voc

Clause = tuple[str, str]
ClauseFn = Callable[[float, Mapping[str, Any]], Clause | None]


def _num(value: Any) -> float | None:
    """A finite float, or None for missing (NaN, None, pd.NA)."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def yuan(value: float) -> str:
    """Whole yuan with thousands separators (8,400)."""
    return f"{round(value):,}"


def pct(share: float) -> str:
    """A share as a rounded percentage without the sign (31)."""
    return f"{round(share * 100)}"


def _n(value: float) -> int:
    return int(round(value))


def _people_en(n: int) -> str:
    return "1 member" if n == 1 else f"{n} members"


def _times_en(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _count(zh_some: str, zh_none: str, en_some: Callable[[int], str], en_none: str) -> ClauseFn:
    """A clause for a count: '{n}' in the Chinese template, a function for English plurals."""

    def clause(v: float, row: Mapping[str, Any]) -> Clause:
        n = _n(v)
        if n <= 0:
            return zh_none, en_none
        return zh_some.format(n=n), en_some(n)

    return clause


def _amount(zh_some: str, zh_none: str, en_some: str, en_none: str) -> ClauseFn:
    def clause(v: float, row: Mapping[str, Any]) -> Clause:
        if round(v) <= 0:
            return zh_none, en_none
        return zh_some.format(v=yuan(v)), en_some.format(v=yuan(v))

    return clause


def _share(zh: str, en: str) -> ClauseFn:
    def clause(v: float, row: Mapping[str, Any]) -> Clause:
        return zh.format(p=pct(v)), en.format(p=pct(v))

    return clause


def _flag(zh_true: str, zh_false: str, en_true: str, en_false: str) -> ClauseFn:
    def clause(v: float, row: Mapping[str, Any]) -> Clause:
        return (zh_true, en_true) if v >= 0.5 else (zh_false, en_false)

    return clause


# -- clauses that need more than one value ----------------------------------------------------
def _pc_income(v: float, row: Mapping[str, Any]) -> Clause:
    line = _num(row.get("monitoring_line"))
    zh, en = f"家庭年人均纯收入{yuan(v)}元", f"per-capita net income is {yuan(v)} yuan"
    if line is not None:
        relation_zh = "低于" if v < line else "高于"
        relation_en = "below" if v < line else "above"
        zh += f"，{relation_zh}监测线{yuan(line)}元"
        en += f", {relation_en} the monitoring line of {yuan(line)} yuan"
    return zh, en


def _income_to_line(v: float, row: Mapping[str, Any]) -> Clause | None:
    # Stated through the income itself: a person reads "5,200 yuan, below the line of 6,500"
    # more easily than a ratio.
    pc = _num(row.get("pc_net_income"))
    return _pc_income(pc, row) if pc is not None else None


def _income_change(v: float, row: Mapping[str, Any]) -> Clause:
    if round(v * 100) < 0:
        return f"家庭纯收入比上年下降{pct(-v)}%", f"net income fell {pct(-v)}% on the year before"
    if round(v * 100) > 0:
        return f"家庭纯收入比上年增长{pct(v)}%", f"net income rose {pct(v)}% on the year before"
    return "家庭纯收入与上年基本持平", "net income about the same as the year before"


def _medical_oop(v: float, row: Mapping[str, Any]) -> Clause:
    if round(v) <= 0:
        return "上年无合规自付医疗费用", "no out-of-pocket medical costs last year"
    zh, en = f"上年合规自付医疗费用{yuan(v)}元", f"out-of-pocket medical costs last year were {yuan(v)} yuan"
    net = _num(row.get("net_income"))
    if net is not None and net > 0:
        zh += f"，占家庭纯收入的{pct(v / net)}%"
        en += f", {pct(v / net)}% of net income"
    return zh, en


def _housing(v: float, row: Mapping[str, Any]) -> Clause | None:
    grade = row.get("housing_grade")
    if grade not in voc.HOUSING_GRADE:
        return None
    if grade in ("C", "D"):
        return f"住房为{grade}级危房", f"the house is graded {grade} (dangerous)"
    return f"住房安全等级为{grade}级", f"the house is graded {grade} (safe)"


def _policy_status(v: Any, row: Mapping[str, Any]) -> Clause | None:
    status = row.get("policy_status")
    return {
        "continuing": ("脱贫后继续享受帮扶政策", "still receives support after leaving poverty"),
        "ended": ("脱贫后不再享受帮扶政策", "no longer receives support after leaving poverty"),
    }.get(status)


def _social_assistance(v: Any, row: Mapping[str, Any]) -> Clause | None:
    return {
        "dibao": ("享受农村低保", "receives the rural minimum living allowance (dibao)"),
        "tekun": ("享受特困人员救助供养", "receives support for persons in extreme poverty (tekun)"),
        "none": ("未享受低保或特困供养", "receives neither dibao nor tekun support"),
    }.get(row.get("social_assistance"))


def _category(v: Any, row: Mapping[str, Any]) -> Clause | None:
    return {
        "exited": ("属于脱贫户", "registered as a household that left poverty"),
        "marginal": ("属于边缘易致贫户", "registered as a marginal household at risk of poverty"),
        "general": ("属于一般农户", "registered as an ordinary rural household"),
    }.get(row.get("category"))


def _years_since_exit(v: float, row: Mapping[str, Any]) -> Clause:
    n = _n(v)
    if n <= 0:
        return "当年脱贫", "left poverty this year"
    return f"脱贫已{n}年", f"left poverty {n} year{'s' if n != 1 else ''} ago"


def _labour(v: float, row: Mapping[str, Any]) -> Clause | None:
    # Able workers and their share of the household are one fact to a reader.
    able, share = _num(row.get("able_labour")), _num(row.get("labour_share"))
    if able is None:
        return None
    n = _n(able)
    if n <= 0:
        return "家中无有劳动能力的成员", "no able worker in the household"
    zh, en = f"家中有{n}名有劳动能力的成员", f"{n} able worker{'s' if n != 1 else ''} in the household"
    if share is not None:
        zh += f"，占家庭人口的{pct(share)}%"
        en += f", {pct(share)}% of its members"
    return zh, en


def _window_pair(short: str, long: str, zh_short: str, zh_long: str, en_short: Callable[[str], str],
                 en_long: Callable[[str], str], zh_none: str, en_none: str, money: bool) -> ClauseFn:
    """One clause for a count or amount seen over three months and over a year."""

    def fmt(v: float) -> str:
        return yuan(v) if money else str(_n(v))

    def clause(v: float, row: Mapping[str, Any]) -> Clause | None:
        a, b = _num(row.get(short)), _num(row.get(long))
        if a is None and b is None:
            return None
        a, b = a or 0.0, b or 0.0
        if round(b) <= 0 and round(a) <= 0:
            return zh_none, en_none
        if round(a) > 0:
            zh, en = zh_short.format(v=fmt(a)), en_short(fmt(a))
            if round(b) > round(a):
                zh += f"，近一年共{fmt(b)}{'元' if money else '次'}"
                en += f" ({fmt(b)}{' yuan' if money else ''} in the past year)"
            return zh, en
        return zh_long.format(v=fmt(b)), en_long(fmt(b))

    return clause


_hospital = _window_pair(
    "hospitalisations_13w", "hospitalisations_52w", "近三个月住院{v}次", "近一年住院{v}次",
    lambda v: f"in hospital {_times_en(int(v))} in the past three months",
    lambda v: f"in hospital {_times_en(int(v))} in the past year",
    "近一年无住院", "no hospital stay in the past year", money=False,
)
_disaster_loss = _window_pair(
    "disaster_loss_13w", "disaster_loss_52w", "近三个月灾害损失{v}元", "近一年灾害损失{v}元",
    lambda v: f"disaster losses of {v} yuan in the past three months",
    lambda v: f"disaster losses of {v} yuan in the past year",
    "近一年无灾害损失", "no disaster losses in the past year", money=True,
)


def _dependency(v: float, row: Mapping[str, Any]) -> Clause:
    return f"抚养比为{v:.1f}", f"dependency ratio is {v:.1f}"


def _land(v: float, row: Mapping[str, Any]) -> Clause:
    return f"人均耕地{v:.1f}亩", f"{v:.1f} mu of farmland per member"


CLAUSES: dict[str, ClauseFn] = {
    # income level
    "pc_net_income": _pc_income,
    "income_to_line": _income_to_line,
    "net_income": _amount("家庭纯收入{v}元", "家庭纯收入为零或负数", "net income is {v} yuan", "net income is zero or negative"),
    "business_share": _share("生产经营性收入占总收入的{p}%", "business income is {p}% of income"),
    "property_share": _share("财产性收入占总收入的{p}%", "property income is {p}% of income"),
    "survey_age_weeks": _count("距上次收入调查已{n}周", "本周刚做过收入调查", lambda n: f"{n} weeks since the last income survey", "income surveyed this week"),
    "land_per_capita": _land,
    # income drop
    "income_change": _income_change,
    "business_failure_52w": _count("近一年产业经营失败{n}次", "近一年无产业经营失败", lambda n: f"a business failed {_times_en(n)} in the past year", "no business failure in the past year"),
    # migrant work
    "wage_share": _share("工资性收入占总收入的{p}%", "wages are {p}% of income"),
    "n_migrant_workers": _count("家中{n}人外出务工", "家中无人外出务工", lambda n: f"{_people_en(n)} work away from home", "nobody works away from home"),
    "migrant_months": _count("全家外出务工合计{n}个月", "全家无外出务工", lambda n: f"{n} months of migrant work in the household", "no migrant work in the household"),
    "n_out_province": _count("{n}人在省外务工", "无人在省外务工", lambda n: f"{_people_en(n)} work outside the province", "nobody works outside the province"),
    "job_loss_13w": _count("近三个月务工中断{n}次", "近三个月务工未中断", lambda n: f"lost work {_times_en(n)} in the past three months", "no lost work in the past three months"),
    "job_loss_52w": _count("近一年务工中断{n}次", "近一年务工未中断", lambda n: f"lost work {_times_en(n)} in the past year", "no lost work in the past year"),
    "job_start_52w": _count("近一年新外出务工{n}人次", "近一年无新外出务工", lambda n: f"started migrant work {_times_en(n)} in the past year", "no new migrant job in the past year"),
    # illness
    "n_chronic": _count("家中{n}人患长期慢性病", "家中无人患长期慢性病", lambda n: f"{_people_en(n)} {'has' if n == 1 else 'have'} a chronic illness", "no member has a chronic illness"),
    "n_major_illness": _count("家中{n}人患大病", "家中无人患大病", lambda n: f"{_people_en(n)} {'has' if n == 1 else 'have'} a major illness", "no member has a major illness"),
    "hospitalisations_13w": _hospital,
    "hospitalisations_52w": _hospital,
    "illness_diagnoses_52w": _count("近一年新确诊疾病{n}例", "近一年无新确诊疾病", lambda n: f"{n} new diagnos{'is' if n == 1 else 'es'} in the past year", "no new diagnosis in the past year"),
    "major_diagnosis_13w": _count("近三个月新确诊大病{n}例", "近三个月无新确诊大病", lambda n: f"{n} new major-illness diagnos{'is' if n == 1 else 'es'} in the past three months", "no new major illness in the past three months"),
    # medical spending
    "medical_oop": _medical_oop,
    "spending_to_income": _share("医疗和教育刚性支出相当于家庭纯收入的{p}%", "necessary medical and school spending equals {p}% of net income"),
    "n_uninsured": _count("{n}人未参加基本医疗保险", "全家均参加基本医疗保险", lambda n: f"{_people_en(n)} without basic medical insurance", "everyone has basic medical insurance"),
    "hospital_cost_52w": _amount("近一年住院费用{v}元", "近一年无住院费用", "hospital costs in the past year were {v} yuan", "no hospital costs in the past year"),
    # disability
    "n_disabled": _count("家中{n}人残疾", "家中无残疾人", lambda n: f"{_people_en(n)} {'is' if n == 1 else 'are'} disabled", "no disabled member"),
    "n_severe_disabled": _count("家中{n}人为一二级重度残疾", "家中无重度残疾人", lambda n: f"{_people_en(n)} severely disabled (grade one or two)", "no severely disabled member"),
    "disability_certified_52w": _count("近一年新认定残疾{n}人次", "近一年无新认定残疾", lambda n: f"disability certified {_times_en(n)} in the past year", "no new disability in the past year"),
    # age structure and dependency
    "household_size": _count("家庭人口{n}人", "家庭无在册人口", lambda n: f"{n} people in the household", "nobody registered in the household"),
    "n_children_0_5": _count("学龄前儿童{n}人", "无学龄前儿童", lambda n: f"{n} preschool child{'ren' if n != 1 else ''}", "no preschool children"),
    "n_children_6_15": _count("义务教育年龄儿童{n}人", "无义务教育年龄儿童", lambda n: f"{n} child{'ren' if n != 1 else ''} of compulsory-school age", "no children of compulsory-school age"),
    "n_working_age": _count("劳动年龄人口{n}人", "无劳动年龄人口", lambda n: f"{n} member{'s' if n != 1 else ''} of working age", "nobody of working age"),
    "n_elderly_60": _count("六十岁以上老人{n}人", "无六十岁以上老人", lambda n: f"{n} member{'s' if n != 1 else ''} aged sixty or over", "nobody aged sixty or over"),
    "n_elderly_80": _count("八十岁以上老人{n}人", "无八十岁以上老人", lambda n: f"{n} member{'s' if n != 1 else ''} aged eighty or over", "nobody aged eighty or over"),
    "elderly_only": _flag("全家均为老年人", "家中有劳动年龄或未成年成员", "everyone in the household is elderly", "not an elderly-only household"),
    "dependency_ratio": _dependency,
    "head_age": _count("户主{n}岁", "户主年龄不详", lambda n: f"the head of household is {n}", "age of the head unknown"),
    "deaths_52w": _count("近一年家庭成员去世{n}人", "近一年无家庭成员去世", lambda n: f"{_people_en(n)} died in the past year", "no death in the past year"),
    "births_52w": _count("近一年新生儿{n}人", "近一年无新生儿", lambda n: f"{n} birth{'s' if n != 1 else ''} in the past year", "no birth in the past year"),
    # lack of labour
    "able_labour": _labour,
    "weak_labour": _count("{n}人为弱劳动力或半劳动力", "无弱劳动力或半劳动力", lambda n: f"{n} weak or half worker{'s' if n != 1 else ''}", "no weak or half workers"),
    "labour_share": _labour,
    # schooling
    "schooling_spending": _amount("上年教育支出{v}元", "上年无教育支出", "schooling cost {v} yuan last year", "no schooling costs last year"),
    "n_compulsory_students": _count("义务教育在校生{n}人", "无义务教育在校生", lambda n: f"{n} pupil{'s' if n != 1 else ''} in compulsory school", "no pupils in compulsory school"),
    "n_noncompulsory_students": _count("高中、中职或大学在校生{n}人", "无非义务教育阶段在校生", lambda n: f"{n} student{'s' if n != 1 else ''} in high school, vocational school or university", "no students beyond compulsory school"),
    "n_dropouts": _count("义务教育阶段辍学{n}人", "无义务教育阶段辍学", lambda n: f"{n} child{'ren' if n != 1 else ''} of compulsory age out of school", "no compulsory-age child out of school"),
    "dropout_events_52w": _count("近一年辍学{n}人次", "近一年无辍学", lambda n: f"{n} school dropout{'s' if n != 1 else ''} in the past year", "no dropout in the past year"),
    # housing, water
    "housing_grade_rank": _housing,
    "housing_downgrade_52w": _count("近一年房屋被鉴定为危房{n}次", "近一年房屋未被鉴定为危房", lambda n: f"the house was declared dangerous {_times_en(n)} in the past year", "the house was not declared dangerous in the past year"),
    "safe_water": _flag("饮水安全有保障", "饮水安全无保障", "drinking water is safe", "drinking water is not safe"),
    # disaster and accident
    "disaster_events_13w": _count("近三个月受灾{n}次", "近三个月未受灾", lambda n: f"hit by disaster {_times_en(n)} in the past three months", "no disaster damage in the past three months"),
    "disaster_loss_13w": _disaster_loss,
    "disaster_loss_52w": _disaster_loss,
    "accidents_52w": _count("近一年发生意外事故{n}次", "近一年无意外事故", lambda n: f"{n} accident{'s' if n != 1 else ''} in the past year", "no accident in the past year"),
    "accident_loss_13w": _amount("近三个月意外事故损失{v}元", "近三个月无意外事故损失", "accident losses of {v} yuan in the past three months", "no accident losses in the past three months"),
    "events_4w": _count("近四周部门推送事件{n}件", "近四周无部门推送事件", lambda n: f"{n} event{'s' if n != 1 else ''} reported by departments in the past four weeks", "no events reported in the past four weeks"),
    # policy support
    "transfer_share": _share("转移性收入占总收入的{p}%", "transfers are {p}% of income"),
    "relocated": _flag("属于易地扶贫搬迁户", "非易地扶贫搬迁户", "relocated for poverty alleviation", "not a relocated household"),
    "micro_credit": _flag("已获扶贫小额信贷", "未获扶贫小额信贷", "has a poverty-alleviation micro-credit", "no poverty-alleviation micro-credit"),
    "industry_project": _flag("参与产业帮扶项目", "未参与产业帮扶项目", "takes part in an industry project", "takes part in no industry project"),
    "public_welfare_job": _flag("有成员在公益岗位就业", "无成员在公益岗位就业", "a member holds a public-welfare job", "no public-welfare job"),
    "n_critical_kinds": _count("符合{n}类临界非贫困户情形", "不属于临界非贫困户", lambda n: f"falls under {n} kind{'s' if n != 1 else ''} of critical non-poor household", "not a critical non-poor household"),
    "new_dibao": _flag("近一年新纳入低保", "近一年未新纳入低保", "newly on the minimum allowance this year", "not newly on the minimum allowance"),
    "assistance_52w": _count("近一年落实帮扶措施{n}项次", "近一年未落实帮扶措施", lambda n: f"{n} assistance measure{'s' if n != 1 else ''} delivered in the past year", "no assistance measure delivered in the past year"),
    "policy_status": _policy_status,
    "social_assistance": _social_assistance,
    # time since leaving poverty
    "years_since_exit": _years_since_exit,
    "ever_monitored": _flag("曾纳入防返贫监测", "此前未纳入防返贫监测", "was under monitoring before", "never under monitoring before"),
    "category": _category,
    # village context
    "village_disaster_share_13w": _share("本村近三个月受灾户占{p}%", "{p}% of the village was hit by disaster in the past three months"),
    "village_monitored_share": _share("本村监测户占{p}%", "{p}% of the village is under monitoring"),
}

# Features stated in the same words share one clause (the income and its ratio to the line).
_SAME_CLAUSE = {
    "income_to_line": "pc_net_income",
    "labour_share": "able_labour",
    "hospitalisations_13w": "hospitalisations_52w",
    "disaster_loss_13w": "disaster_loss_52w",
}
_CATEGORICAL = {"policy_status", "social_assistance", "category"}
# A missing value that is itself a fact worth stating (no survey, nothing to compare with).
_MISSING_FACTS: dict[str, Clause] = {
    "pc_net_income": ("尚无收入调查记录", "no income survey on record"),
    "income_to_line": ("尚无收入调查记录", "no income survey on record"),
    "net_income": ("尚无收入调查记录", "no income survey on record"),
    "income_change": ("上年收入无可比数据（缺调查或上年收入为零）", "no comparable income for the year before"),
}


def clause(feature: str, row: Mapping[str, Any]) -> Clause | None:
    """The (zh, en) clause stating this household's value of ``feature``, or None when missing.

    A missing income or income change is itself a fact worth saying (no survey on record); any
    other missing value gives no clause at all.
    """
    fn = CLAUSES.get(feature)
    if fn is None:
        return None
    if feature in _CATEGORICAL:
        return fn(None, row)
    value = _num(row.get(feature))
    if value is None:
        return _MISSING_FACTS.get(feature)
    return fn(value, row)


def sentence(
    concept_zh: str,
    concept_en: str,
    features: list[str],
    row: Mapping[str, Any],
    max_clauses: int = 3,
    raising: bool = True,
) -> Clause:
    """Join the clauses of ``features`` (strongest first) into one zh and one en sentence.

    Args:
        concept_zh: the concept's Chinese name, used only when no clause can be stated.
        concept_en: the concept's English name, likewise.
        features: features behind the reason, strongest contribution first.
        row: the household's frame row (its own values only).
        max_clauses: how many facts one sentence may hold.
        raising: whether the concept raises the risk (wording when no clause can be stated).

    Returns:
        (text_zh, text_en).
    """
    seen: set[str] = set()
    zh_parts: list[str] = []
    en_parts: list[str] = []
    for feature in features:
        key = _SAME_CLAUSE.get(feature, feature)
        if key in seen:
            continue
        seen.add(key)
        found = clause(feature, row)
        if found is None or found[0] in zh_parts:
            continue
        zh_parts.append(found[0])
        en_parts.append(found[1])
        if len(zh_parts) >= max_clauses:
            break
    if not zh_parts:
        if raising:
            return f"{concept_zh}方面的情况提高了风险", f"{concept_en.capitalize()} raises the risk"
        return f"{concept_zh}方面的情况降低了风险", f"{concept_en.capitalize()} lowers the risk"
    en = "; ".join(en_parts)
    return "，".join(zh_parts), en[0].upper() + en[1:]
