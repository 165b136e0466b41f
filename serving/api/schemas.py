"""Pydantic models of the JSON API.

Models exposing registry fields (members, household facts) are built from the pandera contract
(``features.contract.fields``), so names, types and descriptions cannot drift from it; every
field is optional because direct identifiers are masked to None for some roles.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from features.contract import fields

WEEK_PATTERN = r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$"
# Free text from clients: no control characters (PostgreSQL refuses NUL in text).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
LEVELS = ("high", "medium", "low")
FEEDBACK_OUTCOMES = {
    "visited": ("已走访", "visited"),
    "confirmed_at_risk": ("确认存在风险（纳入监测）", "confirmed at risk (enter monitoring)"),
    "not_at_risk": ("无风险", "not at risk"),
    "already_assisted": ("已在帮扶", "already assisted"),
    "unreachable": ("无法联系", "could not reach"),
}
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


class ScoreOut(BaseModel):
    household_id: str
    township: str
    village: str
    probability: float
    level: str
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
    level: str
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
    note: str
    username: str
    created_at: dt.datetime


class HouseholdOut(BaseModel):
    household_id: str
    week: str
    score: ScoreOut
    watchlist_reasons: list[str]
    trend: list[TrendPoint]
    explanation: dict[str, Any] | None
    explanation_status: str
    rule_triggers: dict[str, Any] | None
    measures: list[dict[str, Any]]
    household: HouseholdRecordOut
    facts: dict[str, Any]
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
