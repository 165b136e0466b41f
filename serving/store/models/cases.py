"""Cases (the 台账) and department warnings.

A case belongs to the county, not to a run: it lives across weeks and re-runs, like feedback.
Every step is a row of ``case_steps`` (who, when, what), so the ledger is the record of the work;
``request_key`` is unique, so a form sent twice over a weak signal records its step once, and it
is bound to the request it came with (``request_hash``): the same key with another body is refused.
Department warnings are a run's rows (published with the week), apart from the model's reasons.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from serving.store.models.base import Base


class DepartmentWarning(Base):
    """One department warning of a run: the rule that fired, its department and the record."""

    __tablename__ = "department_warnings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    household_id: Mapped[str] = mapped_column(String(64))
    township: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    record: Mapped[str] = mapped_column(String(128))
    record_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_department_warnings_run_household", "run_id", "household_id"),)


class Case(Base):
    """One household's case, from the first lead to its close."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_id: Mapped[str] = mapped_column(String(64), index=True)
    township: Mapped[str] = mapped_column(String(64), index=True)
    village: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))  # model | department | self_report | village_check
    source_detail: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(32))  # the next step to take (or closed)
    outcome: Mapped[str] = mapped_column(String(32), default="open")
    lead_date: Mapped[date] = mapped_column(Date)
    notice_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    risk_types: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class CaseStep(Base):
    """One recorded step of a case (append-only: the case's audit trail)."""

    __tablename__ = "case_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    step_date: Mapped[date] = mapped_column(Date)  # the day it happened (entered by the officer)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    username: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the action and body the key first came with: a replay with another body is refused.
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
