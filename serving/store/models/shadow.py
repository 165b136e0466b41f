"""Shadow scoring tables.

A registered challenger scored beside the champion on a live week (``serving.jobs.shadow``).
Nothing here reaches a list, a page for officers or an export: only the data page's challenger
block, `fanpin performance` and `fanpin promote` read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from serving.store.models.base import Base


class ShadowRun(Base):
    """The challenger's comparison with the champion on one run's week."""

    __tablename__ = "shadow_runs"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[str] = mapped_column(String(8), index=True)
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(32), index=True)  # the challenger's
    model_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    champion_version: Mapped[str] = mapped_column(String(32))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)  # rank agreement, overlap, realised recall so far
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ShadowScore(Base):
    """A household on either model's capacity list that week (the union of the two lists)."""

    __tablename__ = "shadow_scores"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    township: Mapped[str] = mapped_column(String(64))
    champion_probability: Mapped[float] = mapped_column(Float)
    challenger_probability: Mapped[float] = mapped_column(Float)
    champion_listed: Mapped[bool] = mapped_column(Boolean)
    challenger_listed: Mapped[bool] = mapped_column(Boolean)
