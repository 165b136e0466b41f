"""The data contract: the registry tables as pandera schemas.

These schemas are the single source of column names, types, units, allowed values, Chinese labels
and which columns hold direct identifiers. Readers, the feature builder, the API models, the
Evidently column mapping and ``docs/data-contract.md`` are all derived from them.

Households and members are *slowly changing* tables: every change of a household or member writes
a new row with ``valid_from`` and closes the previous one with ``valid_to``. The state at any past
date is the set of rows with ``valid_from <= date < valid_to`` (an open ``valid_to`` means current).
Income surveys, events and monitoring outcomes are dated rows. Every row but a monitoring
outcome also carries ``recorded_at`` (入库时间), the day it reached the registry: a row dated
before a cutoff but recorded after it was not known at the cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandera.pandas as pa

from features import vocabulary as voc

KINDS = ("string", "code", "int", "float", "bool", "date")
_DTYPES = {
    "string": str,
    "code": str,
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[ns]",
}


def _col(
    kind: str,
    zh: str,
    en: str,
    *,
    unit: str | None = None,
    allowed: dict[Any, str] | None = None,
    nullable: bool = False,
    sensitive: bool = False,
    ge: float | None = None,
    le: float | None = None,
    required: bool = True,
) -> pa.Column:
    """Declare one contract column; everything a reader or a page needs is in its metadata."""
    checks = []
    if allowed is not None:
        checks.append(pa.Check.isin(list(allowed), error=f"not one of the allowed values of {en}"))
    if ge is not None:
        checks.append(pa.Check.ge(ge, error=f"below the minimum {ge}"))
    if le is not None:
        checks.append(pa.Check.le(le, error=f"above the maximum {le}"))
    return pa.Column(
        _DTYPES[kind],
        checks=checks,
        nullable=nullable,
        required=required,
        title=zh,
        description=en,
        metadata={
            "kind": kind,
            "zh": zh,
            "en": en,
            "unit": unit,
            "allowed": dict(allowed) if allowed else None,
            "sensitive": sensitive,
        },
    )


_VALID_FROM = _col("date", "生效日期", "date this version of the row became valid")
_VALID_TO = _col("date", "失效日期", "date this version stopped being valid (empty: current)", nullable=True)
# When the row reached the registry. Feeds arrive late and home visits back-date rows, so a row
# can be valid (or dated) long before anyone could have known it; empty means unknown, and the
# point-in-time builder then falls back to the validity dates (exports from older systems).
_RECORDED_AT = _col("date", "入库时间", "date the row was entered in the registry (empty: unknown)", nullable=True)

HOUSEHOLDS = pa.DataFrameSchema(
    {
        "household_id": _col("string", "户编号", "household ID"),
        "township": _col("string", "乡镇", "township"),
        "village": _col("string", "行政村", "administrative village"),
        "category": _col("code", "户类型", "household category", allowed=voc.HOUSEHOLD_CATEGORY),
        "exit_year": _col("int", "脱贫年度", "year the household left poverty", nullable=True, ge=2013, le=2020),
        "policy_status": _col("code", "脱贫户政策状态", "exited household policy status", allowed=voc.POLICY_STATUS),
        "relocated": _col("bool", "易地扶贫搬迁户", "relocated for poverty alleviation"),
        "critical_living_alone_elderly": _col("bool", "独居老人户", "critical non-poor: elderly living alone"),
        "critical_disabled": _col("bool", "残疾户", "critical non-poor: disabled household"),
        "critical_major_illness": _col("bool", "重大病户", "critical non-poor: major-illness household"),
        "critical_housing_rebuilt": _col("bool", "危房改造户", "critical non-poor: dangerous housing rebuilt"),
        "social_assistance": _col(
            "code",
            "低保/特困供养",
            "minimum living allowance or extreme-poverty support",
            allowed=voc.SOCIAL_ASSISTANCE,
        ),
        "land_mu": _col("float", "耕地面积", "cultivated land", unit="亩", ge=0, le=500),
        "housing_grade": _col("code", "住房安全等级", "housing safety grade", allowed=voc.HOUSING_GRADE),
        "safe_water": _col("bool", "饮水安全", "safe drinking water"),
        "micro_credit": _col("bool", "扶贫小额信贷", "has a poverty-alleviation micro-loan"),
        "industry_project": _col("bool", "参与产业项目", "takes part in an industry project (dividends)"),
        "public_welfare_job": _col("bool", "公益岗位", "a member holds a public-welfare job"),
        "head_name": _col("string", "户主姓名", "name of the household head", sensitive=True),
        "head_id_number": _col("string", "户主身份证号", "ID number of the household head", sensitive=True),
        "phone": _col("string", "联系电话", "contact phone", nullable=True, sensitive=True),
        "valid_from": _VALID_FROM,
        "valid_to": _VALID_TO,
        "recorded_at": _RECORDED_AT,
    },
    name="households",
    title="农户信息",
    description="one row per household version (slowly changing)",
    unique=["household_id", "valid_from"],
    report_duplicates="exclude_first",
    strict=False,
)

MEMBERS = pa.DataFrameSchema(
    {
        "household_id": _col("string", "户编号", "household ID"),
        "member_id": _col("string", "成员编号", "member ID"),
        "relation": _col("code", "与户主关系", "relation to household head", allowed=voc.RELATION),
        "sex": _col("code", "性别", "sex", allowed=voc.SEX),
        "birth_date": _col("date", "出生日期", "birth date"),
        "ethnicity": _col("code", "民族", "ethnicity", allowed=voc.ETHNICITY),
        "education": _col("code", "文化程度", "education", allowed=voc.EDUCATION),
        "schooling_status": _col("code", "在校生状况", "schooling status", allowed=voc.SCHOOLING_STATUS),
        "health": _col("code", "健康状况", "health", allowed=voc.HEALTH),
        "disability_type": _col("code", "残疾类别", "disability type", allowed=voc.DISABILITY_TYPE),
        "disability_grade": _col("int", "残疾等级", "disability grade (1 most severe)", nullable=True, ge=1, le=4),
        "labour_skill": _col("code", "劳动技能", "labour skill", allowed=voc.LABOUR_SKILL),
        "migrant_months": _col("int", "务工时间", "months of migrant work per year", unit="月", ge=0, le=12),
        "migrant_place": _col("code", "务工区域", "place of migrant work", allowed=voc.MIGRANT_PLACE),
        "medical_insurance": _col("bool", "参加城乡居民基本医疗保险", "resident medical insurance"),
        "pension_insurance": _col("bool", "参加城乡居民基本养老保险", "resident pension insurance"),
        "name": _col("string", "姓名", "name", sensitive=True),
        "id_number": _col("string", "身份证号", "ID number", sensitive=True),
        "valid_from": _VALID_FROM,
        "valid_to": _VALID_TO,
        "recorded_at": _RECORDED_AT,
    },
    name="members",
    title="家庭成员",
    description="one row per member version (slowly changing)",
    unique=["member_id", "valid_from"],
    report_duplicates="exclude_first",
    strict=False,
)

_MONEY = {"unit": "元", "ge": 0, "le": 5_000_000}

INCOME_SURVEYS = pa.DataFrameSchema(
    {
        "household_id": _col("string", "户编号", "household ID"),
        "survey_year": _col("int", "收入年度", "income year", ge=2010, le=2100),
        "survey_date": _col("date", "调查日期", "survey date"),
        "wage_income": _col("float", "工资性收入", "wage income", **_MONEY),
        "business_income": _col("float", "生产经营性收入", "business income", **_MONEY),
        "property_income": _col("float", "财产性收入", "property income", **_MONEY),
        "transfer_income": _col("float", "转移性收入", "transfer income", **_MONEY),
        "business_costs": _col("float", "生产经营性支出", "business costs", **_MONEY),
        "medical_out_of_pocket": _col(
            "float", "合规自付医疗费用", "compliant out-of-pocket medical spending", **_MONEY
        ),
        "schooling_spending": _col("float", "教育支出", "schooling spending", **_MONEY),
        "recorded_at": _RECORDED_AT,
    },
    name="income_surveys",
    title="收入调查",
    description="one row per household and income year",
    unique=["household_id", "survey_year"],
    report_duplicates="exclude_first",
    strict=False,
)

EVENTS = pa.DataFrameSchema(
    {
        "event_id": _col("string", "事件编号", "event ID"),
        "household_id": _col("string", "户编号", "household ID"),
        "member_id": _col("string", "成员编号", "member ID", nullable=True),
        "event_date": _col("date", "发生日期", "event date"),
        "event_type": _col("code", "事件类型", "event type", allowed=voc.EVENT_TYPE),
        "amount": _col("float", "金额", "cost or loss", unit="元", nullable=True, ge=0, le=10_000_000),
        "source": _col("string", "推送部门", "department that pushed the event", nullable=True),
        "recorded_at": _RECORDED_AT,
    },
    name="events",
    title="部门推送事件",
    description="dated events pushed by departments",
    unique=["event_id"],
    report_duplicates="exclude_first",
    strict=False,
)

OUTCOMES = pa.DataFrameSchema(
    {
        "household_id": _col("string", "户编号", "household ID"),
        "entry_date": _col("date", "纳入监测日期", "date the household entered monitoring"),
        "monitoring_category": _col("code", "监测对象类别", "monitoring category", allowed=voc.MONITORING_CATEGORY),
        **{
            f"risk_type_{i}": _col(
                "code",
                f"风险类型{i}",
                f"risk type {i}",
                allowed=voc.RISK_TYPE,
                nullable=i > 1,
            )
            for i in range(1, 6)
        },
        "elimination_date": _col("date", "风险消除日期", "date the risk was eliminated", nullable=True),
    },
    name="outcomes",
    title="监测对象",
    description="entries into monitoring and risk elimination",
    unique=["household_id", "entry_date"],
    report_duplicates="exclude_first",
    strict=False,
)

TABLES: dict[str, pa.DataFrameSchema] = {
    "households": HOUSEHOLDS,
    "members": MEMBERS,
    "income_surveys": INCOME_SURVEYS,
    "events": EVENTS,
    "outcomes": OUTCOMES,
}

# Each table's key: the columns that identify a row version (reported as duplicates otherwise).
KEYS: dict[str, list[str]] = {name: list(schema.unique or []) for name, schema in TABLES.items()}

# Columns holding IDs or phone numbers: text made of digits that must never pass through a number
# (Excel keeps 15 significant digits; 4.31128E+17 is an ID whose last digits are gone).
IDENTIFIERS = ("household_id", "member_id", "event_id", "head_id_number", "id_number", "phone")

# Which tables refer to households (rows of unknown households are quarantined).
HOUSEHOLD_REFERENCES = ("members", "income_surveys", "events", "outcomes")


# Other headers county systems use for the same column (the zh label and the English name are
# always accepted); readers match them after full-width/space normalisation, case-insensitively.
HEADER_ALIASES: dict[str, dict[str, str]] = {
    "households": {
        "户码": "household_id",
        "户编码": "household_id",
        "户主身份证号码": "head_id_number",
        "户主证件号码": "head_id_number",
        "手机号码": "phone",
        "联系方式": "phone",
        "村": "village",
        "乡(镇)": "township",
    },
    "members": {
        "户码": "household_id",
        "户编码": "household_id",
        "身份证号码": "id_number",
        "证件号码": "id_number",
        "务工月数": "migrant_months",
        "务工时间(月)": "migrant_months",
    },
    "income_surveys": {"户码": "household_id", "户编码": "household_id", "年度": "survey_year"},
    "events": {"户码": "household_id", "户编码": "household_id"},
    "outcomes": {"户码": "household_id", "户编码": "household_id"},
}


@dataclass(frozen=True)
class Field:
    """One contract column, flattened for readers, docs and pages."""

    table: str
    name: str
    kind: str
    zh: str
    en: str
    unit: str | None
    allowed: dict[Any, str] | None
    nullable: bool
    sensitive: bool


def fields(table: str) -> list[Field]:
    """The columns of a contract table, in order."""
    schema = TABLES[table]
    return [
        Field(
            table=table,
            name=name,
            kind=col.metadata["kind"],
            zh=col.metadata["zh"],
            en=col.metadata["en"],
            unit=col.metadata["unit"],
            allowed=col.metadata["allowed"],
            nullable=col.nullable,
            sensitive=col.metadata["sensitive"],
        )
        for name, col in schema.columns.items()
    ]


def sensitive_columns(table: str | None = None) -> set[str]:
    """Direct identifiers (names, ID numbers, phones): kept out of models, logs and reports."""
    tables = [table] if table else list(TABLES)
    return {f.name for t in tables for f in fields(t) if f.sensitive}


def zh_labels(table: str) -> dict[str, str]:
    """Column name -> Chinese label."""
    return {f.name: f.zh for f in fields(table)}
