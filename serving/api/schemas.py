"""Pydantic models of the JSON API.

Models exposing registry fields (members, household facts) are built from the pandera contract
(``features.contract.fields``), so names, types and descriptions cannot drift from it; every
field is optional because direct identifiers are masked to None for some roles.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from features import frame_schema
from features import vocabulary as voc
from features.contract import fields
from features.weeks import WEEK_LABEL

WEEK_PATTERN = WEEK_LABEL
# Free text from clients: no control characters (PostgreSQL refuses NUL in text).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
LEVELS = tuple(voc.RISK_LEVEL)
FEEDBACK_OUTCOMES = voc.FOLLOW_UP_OUTCOME
_KIND_TYPES: dict[str, Any] = {
    "string": str,
    "code": str,
    "int": int,
    "float": float,
    "bool": bool,
    "date": dt.date,
}


def contract_model(table: str, name: str, exclude: tuple[str, ...] = ()) -> type[BaseModel]:
    """A pydantic model with one optional field per contract column of ``table``."""
    spec = {
        f.name: (_KIND_TYPES[f.kind] | None, Field(default=None, title=f.zh, description=f.en))
        for f in fields(table)
        if f.name not in exclude
    }
    return create_model(name, __config__=ConfigDict(extra="ignore"), **spec)


MemberOut = contract_model("members", "MemberOut", exclude=("household_id",))
HouseholdRecordOut = contract_model("households", "HouseholdRecordOut", exclude=("valid_to",))


class Message(BaseModel):
    """An error: what went wrong, in plain words."""

    detail: str | list[Any]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: str
    township: str | None = None


class WeekOut(BaseModel):
    week: str
    cutoff: dt.date
    published_at: dt.datetime | None
    run_id: int
    model_version: str | None
    households_in: int | None
    households_scored: int | None
    rows_quarantined: int | None
    watchlist_size: int | None
    drift_alerts: int | None


Level = Literal["high", "medium", "low"]


class ScoreOut(BaseModel):
    household_id: str
    township: str
    village: str
    probability: float
    level: Level
    rank: int
    township_rank: int
    change: float | None
    on_watchlist: bool
    flags: list[str]
    under_monitoring: bool
    criteria_met: list[str]
    top_reason_zh: str | None
    top_reason_en: str | None


class WatchlistRow(ScoreOut):
    head_name: str | None = Field(default=None, title="户主姓名")
    phone: str | None = Field(default=None, title="联系电话")


class WatchlistPage(BaseModel):
    week: str
    total: int
    offset: int
    limit: int
    counts: dict[str, int]
    items: list[WatchlistRow]


class TrendPoint(BaseModel):
    week: str
    probability: float
    level: Level
    rank: int
    on_watchlist: bool


class FeedbackIn(BaseModel):
    """An officer's record of a visit."""

    model_config = ConfigDict(extra="forbid")

    week: str = Field(pattern=WEEK_PATTERN, description="ISO week the visit answers, e.g. 2025-W48")
    outcome: Literal["visited", "confirmed_at_risk", "not_at_risk", "already_assisted", "unreachable"]
    risk_types: list[str] = Field(default_factory=list, max_length=5,
                                  description="risk types (codes of the contract's risk_type) when confirmed at risk")
    note: str = Field(default="", max_length=2000, pattern=TEXT_PATTERN)


class FeedbackOut(BaseModel):
    id: int
    week: str
    outcome: str
    risk_types: list[str]
    note: str | None = Field(description="free text, masked by content; none for researchers")
    username: str
    created_at: dt.datetime


# The explanation's parts (``models.explanation.Explanation.to_dict``). Extra keys are kept, so a
# field added below reaches clients before it is described here.
_OPEN = ConfigDict(extra="allow")


class ReasonOut(BaseModel):
    """One reason concept raising (or lowering) the risk, with its plain-language sentence."""

    model_config = _OPEN
    concept: str
    concept_zh: str
    concept_en: str
    text_zh: str
    text_en: str
    contribution: float | None
    features: list[str]


class RuleLabelOut(BaseModel):
    """An official criterion or screening flag (``features.rules``)."""

    model_config = _OPEN
    name: str
    zh: str
    en: str


class MeasureOut(BaseModel):
    """A suggested assistance measure (``models.measures``)."""

    model_config = _OPEN
    id: str
    zh: str
    en: str
    programme_zh: str
    programme_en: str


class ExplanationOut(BaseModel):
    """Why the household got its score (batch TreeSHAP, or computed on demand), and what help fits."""

    model_config = _OPEN
    household_id: str
    probability: float
    level: Level
    level_zh: str
    change: float | None
    previous_probability: float | None = None
    raw_score: float | None = None
    base_value: float | None
    contributions: dict[str, float | None]
    concept_contributions: dict[str, float | None]
    reasons: list[ReasonOut]
    protective: list[ReasonOut]
    rule_triggers: list[RuleLabelOut]
    screening_flags: list[RuleLabelOut] = Field(default_factory=list)
    measures: list[MeasureOut]
    additivity_error: float | None
    cutoff: str | None = None


class RuleTriggersOut(BaseModel):
    """The official rules a household met that week (``features.rules``)."""

    model_config = _OPEN
    criteria: list[RuleLabelOut]
    screening: list[RuleLabelOut]
    risk_types: list[str]
    priority_score: float | None


_FACT_TYPES: dict[str, Any] = {
    frame_schema.TEXT: str, frame_schema.DATE: dt.date, frame_schema.YEAR: int, frame_schema.FLAG: bool,
    frame_schema.COUNT: int, frame_schema.NUMBER: float,
}
# The household-frame row the model scored, one field per column of ``features.frame_schema``.
FactsOut = create_model(
    "FactsOut", __config__=ConfigDict(extra="allow"),
    **{c: (_FACT_TYPES[frame_schema.kind(c)] | None,
           Field(default=None, title=frame_schema.label(c)[0], description=frame_schema.label(c)[1]))
       for c in frame_schema.columns()},
)


class HouseholdOut(BaseModel):
    household_id: str
    week: str
    score: ScoreOut
    watchlist_reasons: list[str]
    trend: list[TrendPoint]
    explanation: ExplanationOut | None
    explanation_status: str
    rule_triggers: RuleTriggersOut | None
    measures: list[MeasureOut]
    household: HouseholdRecordOut
    facts: FactsOut
    members: list[MemberOut]
    feedback: list[FeedbackOut]


class ModelOut(BaseModel):
    name: str
    alias: str
    loaded: bool
    version: str | None = None
    run_id: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    message: str | None = None


class DriftAlertOut(BaseModel):
    severity: str
    township: str | None
    feature: str | None
    message_zh: str
    message_en: str
    psi: float | None


class DriftOut(BaseModel):
    week: str
    status: str
    summary: dict[str, Any]
    alerts: list[DriftAlertOut]
    feature_results: list[dict[str, Any]] | None
    has_report: bool
