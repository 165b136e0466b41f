"""The week's work split (new work / already known / held back) and the townships' capacities.

``week_work`` is a run's rows (published with the week): every listed, department-warned or
recently judged household with ``work`` and ``why`` (``serving.core.new_work``).
``township_capacities`` is the county's: each change of a township's weekly visit capacity is a
row (who, when, why), so the history is the table and the latest row per township applies
(``serving/watchlist.yaml`` gives the default for townships never set).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from serving.store.models.base import Base


class WeekWork(Base):
    __tablename__ = "week_work"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    township: Mapped[str] = mapped_column(String(64))
    work: Mapped[str] = mapped_column(String(8))  # new | known | held
    why: Mapped[str] = mapped_column(String(24))


class TownshipCapacity(Base):
    __tablename__ = "township_capacities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    township: Mapped[str] = mapped_column(String(64), index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime)
