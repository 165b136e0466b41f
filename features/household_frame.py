"""Point-in-time household frame: the registry as it stood at a cutoff, one row per household.

Training builds this frame at many past cutoffs and serving at this week's cutoff, with the same
function, so the two cannot skew. Nothing dated after the cutoff is used: slowly changing rows
are taken as the registry showed them at the cutoff, surveys and events only when dated and
recorded on or before it (``features.point_in_time``), and a monitoring record's elimination
date only once it has happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.point_in_time import known_at, recorded_by
from features.point_in_time import valid_at as valid_at  # noqa: PLC0414 - older callers import it here
from features.policy import Policy

WEEK = pd.Timedelta(weeks=1)
MINORITY_TOWNSHIP_SHARE = 0.5  # a township where most members belong to an ethnic minority


@dataclass(frozen=True)
class FrameColumn:
    """A column of the household frame: labels for people and the reason concept it feeds."""

    zh: str
    en: str
    concept: str
    unit: str | None = None


# Reason concepts a township leader recognises; model contributions are grouped by these.
CONCEPTS = {
    "income_level": ("收入水平", "income level"),
    "income_drop": ("收入下降", "income drop"),
    "migrant_work": ("务工不稳定", "migrant-work instability"),
    "illness": ("疾病", "illness"),
    "medical_spending": ("医疗支出", "medical spending"),
    "disability": ("残疾", "disability"),
    "age_structure": ("人口结构与抚养负担", "age structure and dependency"),
    "lack_labour": ("缺劳动力", "lack of labour"),
    "schooling": ("教育负担", "schooling burden"),
    "housing": ("住房安全", "housing safety"),
    "water": ("饮水安全", "drinking water"),
    "disaster": ("灾害与意外", "disaster and accident"),
    "policy_support": ("政策帮扶", "policy support"),
    "time_since_exit": ("脱贫时间", "time since leaving poverty"),
    "context": ("所在村情况", "village context"),
}

# Event features: name -> (event types, window in weeks, "count" or "amount").
EVENT_FEATURES: dict[str, tuple[tuple[str, ...], int, str]] = {
    "hospitalisations_13w": (("hospitalisation",), 13, "count"),
    "hospitalisations_52w": (("hospitalisation",), 52, "count"),
    "hospital_cost_52w": (("hospitalisation",), 52, "amount"),
    "illness_diagnoses_52w": (("major_illness_diagnosis", "chronic_diagnosis"), 52, "count"),
    "major_diagnosis_13w": (("major_illness_diagnosis",), 13, "count"),
    "disability_certified_52w": (("disability_certified",), 52, "count"),
    "disaster_events_13w": (("disaster_damage",), 13, "count"),
    "disaster_loss_52w": (("disaster_damage",), 52, "amount"),
    "accidents_52w": (("accident",), 52, "count"),
    "accident_loss_13w": (("accident",), 13, "amount"),
    "disaster_loss_13w": (("disaster_damage",), 13, "amount"),
    "job_loss_13w": (("job_loss",), 13, "count"),
    "job_loss_52w": (("job_loss",), 52, "count"),
    "job_start_52w": (("job_start",), 52, "count"),
    "business_failure_52w": (("business_failure",), 52, "count"),
    "deaths_52w": (("death",), 52, "count"),
    "births_52w": (("birth",), 52, "count"),
    "dropout_events_52w": (("school_dropout",), 52, "count"),
    "housing_downgrade_52w": (("housing_downgrade",), 52, "count"),
    "assistance_52w": (("assistance_granted",), 52, "count"),
    "events_4w": (tuple(), 4, "count"),  # empty tuple: every event type
}

FRAME_COLUMNS: dict[str, FrameColumn] = {
    # income (latest survey on or before the cutoff)
    "pc_net_income": FrameColumn("家庭年人均纯收入", "per-capita net income", "income_level", "元"),
    "income_to_line": FrameColumn("人均纯收入与监测线之比", "income against the line", "income_level"),
    "net_income": FrameColumn("家庭纯收入", "household net income", "income_level", "元"),
    "income_change": FrameColumn("纯收入同比变化", "net income change on last year", "income_drop"),
    "wage_share": FrameColumn("工资性收入占比", "wage share of income", "migrant_work"),
    "business_share": FrameColumn("生产经营性收入占比", "business share of income", "income_level"),
    "transfer_share": FrameColumn("转移性收入占比", "transfer share of income", "policy_support"),
    "property_share": FrameColumn("财产性收入占比", "property share of income", "income_level"),
    "medical_oop": FrameColumn("合规自付医疗费用", "out-of-pocket medical spending", "medical_spending", "元"),
    "schooling_spending": FrameColumn("教育支出", "schooling spending", "schooling", "元"),
    "spending_to_income": FrameColumn("刚性支出占纯收入比例", "necessary spending against income", "medical_spending"),
    "survey_age_weeks": FrameColumn("距上次收入调查周数", "weeks since the income survey", "income_level", "周"),
    # members
    "household_size": FrameColumn("家庭人口数", "household size", "age_structure", "人"),
    "n_children_0_5": FrameColumn("学龄前儿童数", "children 0-5", "age_structure", "人"),
    "n_children_6_15": FrameColumn("6-15岁儿童数", "children 6-15", "age_structure", "人"),
    "n_working_age": FrameColumn("16-59岁人数", "members 16-59", "age_structure", "人"),
    "n_elderly_60": FrameColumn("60岁以上老人数", "members 60+", "age_structure", "人"),
    "n_elderly_80": FrameColumn("80岁以上老人数", "members 80+", "age_structure", "人"),
    "elderly_only": FrameColumn("纯老年人家庭", "elderly-only household", "age_structure"),
    "dependency_ratio": FrameColumn("抚养比", "dependency ratio", "age_structure"),
    "head_age": FrameColumn("户主年龄", "age of the household head", "age_structure", "岁"),
    "able_labour": FrameColumn("有劳动能力人数", "able workers", "lack_labour", "人"),
    "weak_labour": FrameColumn("弱劳动力或半劳动力人数", "weak or half workers", "lack_labour", "人"),
    "labour_share": FrameColumn("劳动力占家庭人口比例", "workers per member", "lack_labour"),
    "n_chronic": FrameColumn("长期慢性病人数", "members with chronic illness", "illness", "人"),
    "n_major_illness": FrameColumn("患大病人数", "members with major illness", "illness", "人"),
    "n_disabled": FrameColumn("残疾人数", "disabled members", "disability", "人"),
    "n_severe_disabled": FrameColumn("一二级重度残疾人数", "severely disabled (grade 1-2)", "disability", "人"),
    "n_compulsory_students": FrameColumn("义务教育在校生数", "compulsory-school students", "schooling", "人"),
    "n_noncompulsory_students": FrameColumn(
        "非义务教育阶段在校生数", "students beyond compulsory school", "schooling", "人"
    ),
    "n_dropouts": FrameColumn("义务教育阶段辍学人数", "compulsory-age dropouts", "schooling", "人"),
    "n_migrant_workers": FrameColumn("外出务工人数", "migrant workers", "migrant_work", "人"),
    "migrant_months": FrameColumn("务工总月数", "months of migrant work", "migrant_work", "月"),
    "n_out_province": FrameColumn("省外务工人数", "migrant workers outside the province", "migrant_work", "人"),
    "n_uninsured": FrameColumn("未参加基本医疗保险人数", "members without medical insurance", "medical_spending", "人"),
    # household
    "land_per_capita": FrameColumn("人均耕地面积", "land per member", "income_level", "亩"),
    "housing_grade_rank": FrameColumn("住房安全等级（0=A,3=D）", "housing grade (0=A..3=D)", "housing"),
    "safe_water": FrameColumn("饮水安全", "safe drinking water", "water"),
    "relocated": FrameColumn("易地扶贫搬迁户", "relocated household", "policy_support"),
    "micro_credit": FrameColumn("扶贫小额信贷", "micro-credit", "policy_support"),
    "industry_project": FrameColumn("参与产业项目", "industry project", "policy_support"),
    "public_welfare_job": FrameColumn("公益岗位", "public-welfare job", "policy_support"),
    "n_critical_kinds": FrameColumn("临界户类型数", "critical-household kinds", "policy_support"),
    "new_dibao": FrameColumn("近一年新纳入低保", "new minimum-allowance recipient", "policy_support"),
    "years_since_exit": FrameColumn("脱贫年限", "years since leaving poverty", "time_since_exit", "年"),
    "ever_monitored": FrameColumn("曾纳入监测", "was monitored before", "time_since_exit"),
    # events
    "hospitalisations_13w": FrameColumn("近13周住院次数", "hospital stays, 13 weeks", "illness", "次"),
    "hospitalisations_52w": FrameColumn("近一年住院次数", "hospital stays, 52 weeks", "illness", "次"),
    "hospital_cost_52w": FrameColumn("近一年住院费用", "hospital costs, 52 weeks", "medical_spending", "元"),
    "illness_diagnoses_52w": FrameColumn("近一年新确诊疾病", "new diagnoses, 52 weeks", "illness", "次"),
    "major_diagnosis_13w": FrameColumn("近13周确诊大病", "major diagnoses, 13 weeks", "illness", "次"),
    "disability_certified_52w": FrameColumn("近一年残疾认定", "disability certified, 52 weeks", "disability", "次"),
    "disaster_events_13w": FrameColumn("近13周受灾次数", "disaster damage, 13 weeks", "disaster", "次"),
    "disaster_loss_13w": FrameColumn("近13周灾害损失", "disaster loss, 13 weeks", "disaster", "元"),
    "disaster_loss_52w": FrameColumn("近一年灾害损失", "disaster loss, 52 weeks", "disaster", "元"),
    "accidents_52w": FrameColumn("近一年意外事故", "accidents, 52 weeks", "disaster", "次"),
    "accident_loss_13w": FrameColumn("近13周意外事故损失", "accident loss, 13 weeks", "disaster", "元"),
    "job_loss_13w": FrameColumn("近13周务工中断", "job losses, 13 weeks", "migrant_work", "次"),
    "job_loss_52w": FrameColumn("近一年务工中断", "job losses, 52 weeks", "migrant_work", "次"),
    "job_start_52w": FrameColumn("近一年新外出务工", "new migrant jobs, 52 weeks", "migrant_work", "次"),
    "business_failure_52w": FrameColumn("近一年产业经营失败", "business failures, 52 weeks", "income_drop", "次"),
    "deaths_52w": FrameColumn("近一年家庭成员去世", "deaths in the household, 52 weeks", "age_structure", "人"),
    "births_52w": FrameColumn("近一年新生儿", "births, 52 weeks", "age_structure", "人"),
    "dropout_events_52w": FrameColumn("近一年辍学", "dropouts, 52 weeks", "schooling", "次"),
    "housing_downgrade_52w": FrameColumn("近一年房屋鉴定为危房", "housing downgraded, 52 weeks", "housing", "次"),
    "assistance_52w": FrameColumn("近一年落实帮扶措施", "assistance measures, 52 weeks", "policy_support", "次"),
    "events_4w": FrameColumn("近4周部门推送事件数", "events pushed, 4 weeks", "disaster", "次"),
    # village context
    "village_disaster_share_13w": FrameColumn(
        "本村近13周受灾户比例", "village share hit by disaster, 13 weeks", "context"
    ),
    "village_monitored_share": FrameColumn("本村监测户比例", "village share under monitoring", "context"),
}

# Context columns carried beside the features (not model inputs).
ID_COLUMNS = [
    "household_id",
    "township",
    "village",
    "cutoff",
    "category",
    "policy_status",
    "social_assistance",
    "housing_grade",
    "exit_year",
    "minority_township",
    "critical_living_alone_elderly",
    "critical_disabled",
    "critical_major_illness",
    "critical_housing_rebuilt",
    "monitoring_line",
    "dibao_line",
    "under_monitoring",
]

_GRADE_RANK = {"A": 0, "B": 1, "C": 2, "D": 3}


def _isin(values: pd.Series | pd.Index, allowed: pd.Series | pd.Index) -> np.ndarray:
    """``values.isin(allowed)`` by Arrow hashing: pandas' isin on Arrow strings converts every
    allowed value to a Python object first, which dominated the frame's build time (training
    builds it at a hundred cutoffs)."""
    left = pa.array(pd.Series(values, copy=False).astype(object), from_pandas=True)
    right = pa.array(pd.Series(allowed, copy=False).astype(object), from_pandas=True).unique()
    if len(right) == 0:
        return np.zeros(len(left), dtype=bool)
    return pc.is_in(left.cast(pa.string()), value_set=right.cast(pa.string())).to_numpy(zero_copy_only=False)


def _safe_div(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype("float64")
    return (num.astype("float64") / den.where(den > 0)).astype("float64")


def _member_aggregates(members: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    m = members
    age = (cutoff - m["birth_date"]).dt.days.to_numpy() / 365.25
    working = (age >= 16) & (age < 60)
    skill = m["labour_skill"].to_numpy()
    health = m["health"].to_numpy()
    grade = m["disability_grade"].astype("float64").to_numpy()
    disabled = (m["disability_type"].to_numpy() != "none") | ~np.isnan(grade)
    severe = np.nan_to_num(grade, nan=9) <= 2
    able = working & np.isin(skill, ["ordinary", "skilled"]) & (health != "major") & ~severe
    school = m["schooling_status"].to_numpy()
    migrant = m["migrant_months"].fillna(0).astype("int64").to_numpy()
    head_age = np.where(m["relation"].to_numpy() == "head", age, np.nan)
    parts = pd.DataFrame(
        {
            "household_id": m["household_id"].to_numpy(),
            "household_size": 1,
            "n_children_0_5": age < 6,
            "n_children_6_15": (age >= 6) & (age < 16),
            "n_working_age": working,
            "n_elderly_60": age >= 60,
            "n_elderly_80": age >= 80,
            "able_labour": able,
            "weak_labour": skill == "weak",
            "n_chronic": health == "chronic",
            "n_major_illness": health == "major",
            "n_disabled": disabled,
            "n_severe_disabled": disabled & severe,
            "n_compulsory_students": school == "compulsory",
            "n_noncompulsory_students": np.isin(school, ["senior_high", "vocational", "higher"]),
            "n_dropouts": (school == "dropout") & (age >= 6) & (age < 16),
            "n_migrant_workers": migrant > 0,
            "migrant_months": migrant,
            "n_out_province": (migrant > 0) & (m["migrant_place"].to_numpy() == "out_province"),
            "n_uninsured": ~m["medical_insurance"].fillna(False).astype(bool).to_numpy(),
            "n_minority": m["ethnicity"].to_numpy() != "han",
            "head_age": head_age,
        }
    )
    agg = parts.groupby("household_id", sort=True).agg(
        {**{c: "sum" for c in parts.columns if c not in ("household_id", "head_age")}, "head_age": "max"}
    )
    agg["elderly_only"] = agg["n_elderly_60"] == agg["household_size"]
    dependants = agg["n_children_0_5"] + agg["n_children_6_15"] + agg["n_elderly_60"]
    agg["dependency_ratio"] = dependants / agg["n_working_age"].clip(lower=1)
    agg["labour_share"] = agg["able_labour"] / agg["household_size"]
    return agg


def _income(surveys: pd.DataFrame, cutoff: pd.Timestamp, size: pd.Series) -> pd.DataFrame:
    s = surveys.loc[(surveys["survey_date"] <= cutoff) & recorded_by(surveys, cutoff)]
    s = s.sort_values(["household_id", "survey_year"])
    gross = s[["wage_income", "business_income", "property_income", "transfer_income"]].sum(axis=1)
    s = s.assign(gross=gross, net=gross - s["business_costs"])
    last = s.groupby("household_id").tail(1).set_index("household_id")
    prev = s.groupby("household_id").nth(-2).set_index("household_id")
    out = pd.DataFrame(index=last.index)
    hh_size = size.reindex(out.index).astype("float64")
    out["net_income"] = last["net"]
    out["pc_net_income"] = _safe_div(last["net"], hh_size)
    out["income_change"] = (_safe_div(last["net"], prev["net"].reindex(out.index)) - 1).clip(-1, 5)
    for part, col in (
        ("wage_share", "wage_income"),
        ("business_share", "business_income"),
        ("transfer_share", "transfer_income"),
        ("property_share", "property_income"),
    ):
        out[part] = _safe_div(last[col], last["gross"])
    out["medical_oop"] = last["medical_out_of_pocket"]
    out["schooling_spending"] = last["schooling_spending"]
    rigid = last["medical_out_of_pocket"] + last["schooling_spending"]
    out["spending_to_income"] = (rigid / last["net"].clip(lower=1000)).clip(upper=20)
    out["survey_age_weeks"] = (cutoff - last["survey_date"]).dt.days / 7
    return out


def _events(events: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    e = events.loc[(events["event_date"] <= cutoff) & (events["event_date"] > cutoff - 52 * WEEK)
                   & recorded_by(events, cutoff)]
    age_weeks = (cutoff - e["event_date"]).dt.days.to_numpy() / 7
    etype = e["event_type"].to_numpy()
    amount = e["amount"].fillna(0).astype("float64").to_numpy()
    cols = {"household_id": e["household_id"].to_numpy()}
    for name, (types, window, how) in EVENT_FEATURES.items():
        hit = age_weeks < window
        if types:
            hit &= np.isin(etype, types)
        cols[name] = np.where(hit, amount, 0.0) if how == "amount" else hit.astype("int64")
    return pd.DataFrame(cols).groupby("household_id", sort=True).sum()


def _monitoring(outcomes: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    o = outcomes.loc[outcomes["entry_date"] <= cutoff]
    eliminated = o["elimination_date"].notna() & (o["elimination_date"] <= cutoff)
    frame = pd.DataFrame({"household_id": o["household_id"].to_numpy(), "open": ~eliminated.to_numpy(), "ever": True})
    return frame.groupby("household_id").agg(under_monitoring=("open", "any"), ever_monitored=("ever", "any"))


def build_household_frame(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp | str, policy: Policy, *,
                          on_stage: Callable[[str, list[str]], None] | None = None) -> pd.DataFrame:
    """Build one row per household present in the registry at ``cutoff``.

    Args:
        tables: contract tables (households, members, income_surveys, events, outcomes), typed.
        cutoff: the date the frame describes; nothing dated after it is used.
        policy: supplies the monitoring and minimum-allowance lines in force on the cutoff.
        on_stage: called at the end of each stage of the build with its name and the columns it
            made (``features.frame_cost`` times the stages; nothing else changes).

    Returns:
        A DataFrame indexed 0..n-1, sorted by household_id, with ``ID_COLUMNS`` and every column
        of ``FRAME_COLUMNS``. Households without members at the cutoff are left out.
    """
    cutoff = pd.Timestamp(cutoff)
    done = on_stage or (lambda stage, made: None)
    hh = known_at(tables["households"], cutoff, "household_id")
    hh = hh.sort_values(["household_id", "valid_from"]).drop_duplicates("household_id", keep="last")
    members = known_at(tables["members"], cutoff, "member_id")
    members = members.sort_values(["member_id", "valid_from"]).drop_duplicates("member_id", keep="last")
    members = members.loc[_isin(members["household_id"], hh["household_id"])]
    done("registry rows", [])  # the rows current at the cutoff: every concept reads them
    agg = _member_aggregates(members, cutoff)
    done("members", [c for c in agg.columns if c != "n_minority"])

    hh = hh.set_index("household_id").loc[lambda d: _isin(d.index, agg.index)].sort_index()
    frame = pd.DataFrame(index=hh.index)
    for col in ("township", "village", "category", "policy_status", "social_assistance", "housing_grade"):
        frame[col] = hh[col].astype(str)
    frame["exit_year"] = hh["exit_year"].astype("Int64")
    for col in (
        "critical_living_alone_elderly",
        "critical_disabled",
        "critical_major_illness",
        "critical_housing_rebuilt",
    ):
        frame[col] = hh[col].fillna(False).astype(bool)
    frame["cutoff"] = cutoff
    # The lines in force on the cutoff: a county's own figure counts from its effective day on.
    frame["monitoring_line"] = policy.line_at(cutoff)
    frame["dibao_line"] = policy.line_at(cutoff, "dibao_line")
    done("context", list(frame.columns))

    frame = frame.join(agg.drop(columns=["n_minority"]))
    income = _income(tables["income_surveys"], cutoff, agg["household_size"])
    frame = frame.join(income)
    frame["income_to_line"] = frame["pc_net_income"] / frame["monitoring_line"]
    done("income", [*income.columns, "income_to_line"])

    frame["land_per_capita"] = hh["land_mu"].astype("float64") / frame["household_size"]
    frame["housing_grade_rank"] = hh["housing_grade"].map(_GRADE_RANK).astype("float64")
    for col in ("safe_water", "relocated", "micro_credit", "industry_project", "public_welfare_job"):
        frame[col] = hh[col].fillna(False).astype(bool)
    kinds = frame[
        [
            "critical_living_alone_elderly",
            "critical_disabled",
            "critical_major_illness",
            "critical_housing_rebuilt",
            "relocated",
        ]
    ].sum(axis=1) + hh["social_assistance"].isin(["dibao", "tekun"]).astype(int)
    frame["n_critical_kinds"] = kinds
    frame["years_since_exit"] = (cutoff.year - hh["exit_year"]).astype("float64")

    year_ago = known_at(tables["households"], cutoff - 52 * WEEK, "household_id")
    was_dibao = set(year_ago.loc[year_ago["social_assistance"] == "dibao", "household_id"])
    frame["new_dibao"] = (hh["social_assistance"] == "dibao") & ~_isin(frame.index, pd.Series(sorted(was_dibao), dtype=object))

    done("household", ["land_per_capita", "housing_grade_rank", "safe_water", "relocated", "micro_credit",
                       "industry_project", "public_welfare_job", "n_critical_kinds", "years_since_exit", "new_dibao"])
    frame = frame.join(_events(tables["events"], cutoff))
    frame[list(EVENT_FEATURES)] = frame[list(EVENT_FEATURES)].fillna(0)
    done("events", list(EVENT_FEATURES))

    mon = _monitoring(tables["outcomes"], cutoff)
    frame = frame.join(mon)
    frame["under_monitoring"] = frame["under_monitoring"].astype("boolean").fillna(False).astype(bool)
    frame["ever_monitored"] = frame["ever_monitored"].astype("boolean").fillna(False).astype(bool)
    done("monitoring", ["under_monitoring", "ever_monitored"])

    hit = (frame["disaster_events_13w"] > 0).astype("float64")
    frame["village_disaster_share_13w"] = hit.groupby(frame["village"]).transform("mean")
    frame["village_monitored_share"] = (
        frame["under_monitoring"].astype("float64").groupby(frame["village"]).transform("mean")
    )
    minority = (
        agg["n_minority"].groupby(frame["township"]).sum() / agg["household_size"].groupby(frame["township"]).sum()
    )
    frame["minority_township"] = frame["township"].map(minority > MINORITY_TOWNSHIP_SHARE).astype(bool)

    frame = frame.reset_index(names="household_id")[ID_COLUMNS + list(FRAME_COLUMNS)]
    done("village", ["village_disaster_share_13w", "village_monitored_share", "minority_township"])
    return frame
