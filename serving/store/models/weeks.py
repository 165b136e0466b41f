"""A week's tables: runs, what a run publishes, and the registry versions and feedback that outlive runs.

A week's published results are rows keyed by the *run* that produced them; ``weeks.published_run_id``
says which run is visible. A weekly run stages all its rows under its own run id, then one short
transaction points the week at it, so a reader never sees a half-written week and a killed run
leaves the previous one in place. Direct identifiers (names, ID numbers, phones) are only in
``registry_versions`` and are masked per role when read (``serving.access.auth.mask_household``).
A week stores what changed: registry rows only when they change, model inputs as one compressed
columnar blob per township (``week_inputs``), so the store grows with change, not with weeks.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from serving.store.compressed import CompressedJSON
from serving.store.models.base import Base


class Week(Base):
    """An ISO week that has (or had) a published run."""

    __tablename__ = "weeks"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)  # 2024-W10
    cutoff: Mapped[date] = mapped_column(Date)  # Sunday that ends the ISO week
    published_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Run(Base):
    """One execution of the weekly job for one week (kept after it is superseded)."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    model_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    model_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    households_in: Mapped[int | None] = mapped_column(Integer, nullable=True)
    households_scored: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_quarantined: Mapped[int | None] = mapped_column(Integer, nullable=True)
    watchlist_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    drift_alerts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    stages: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Score(Base):
    """One household's score in one run (every scored household, not only the watch list)."""

    __tablename__ = "scores"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    township: Mapped[str] = mapped_column(String(64))
    village: Mapped[str] = mapped_column(String(64))
    probability: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(8))
    rank: Mapped[int] = mapped_column(Integer)  # county rank by probability, 1 = highest
    township_rank: Mapped[int] = mapped_column(Integer)
    change: Mapped[float | None] = mapped_column(Float, nullable=True)  # since last published week
    on_watchlist: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_new: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_rising: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_rule: Mapped[bool] = mapped_column(Boolean, default=False)
    under_monitoring: Mapped[bool] = mapped_column(Boolean, default=False)
    criteria_met: Mapped[str] = mapped_column(String(255), default="")
    top_reason_zh: Mapped[str | None] = mapped_column(Text, nullable=True)
    top_reason_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The registry version the household showed this week (``RegistryVersion.since_run_id``).
    registry_run: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        # Only the listed few per cent: the watch list's pages (whole, or a township's) read them.
        # Whole-week reads (counts, villages) scan the run through the primary key, once per run
        # and process (``serving.store.queries`` caches them): no index by township is kept.
        Index("ix_scores_run_watch", "run_id", "rank", sqlite_where=text("on_watchlist IS 1"),
              postgresql_where=text("on_watchlist IS true")),
        # SQLite: the rows live in the primary key's tree (no separate rowid table and key index),
        # a fifth less per household and week; rows are small and come in key order.
        {"sqlite_with_rowid": False},
    )


class WatchlistEntry(Base):
    """Why a household is on a week's watch list (one row per listed household)."""

    __tablename__ = "watchlist_entries"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    township: Mapped[str] = mapped_column(String(64))
    reasons: Mapped[list[Any]] = mapped_column(JSON)  # criterion / capacity / rising


class Explanation(Base):
    """An explanation computed on demand for a page (``models.explanation.Explanation.to_dict()``);
    the weekly job's explanations are township blobs (``WeekDocument``)."""

    __tablename__ = "explanations"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    on_demand: Mapped[bool] = mapped_column(Boolean, default=False)


class RegistryVersion(Base):
    """A household's registry row and members as they stood from one run on, stored only when
    they changed: a run's score rows point at the version they showed (``Score.registry_run``).

    Not a run's rows: later runs keep pointing at a version while the household does not change,
    so a version is purged only when no remaining score row points at it
    (``serving.store.registry.purge``). ``identity`` and ``members`` hold direct identifiers;
    they leave the store only through ``serving.access.auth.mask_household``.
    """

    __tablename__ = "registry_versions"

    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    since_run_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the run that first stored it
    # zstd-compressed JSON (``serving.store.compressed``): versions are most of a week's new rows.
    identity: Mapped[dict[str, Any]] = mapped_column(CompressedJSON)  # the household's registry row
    members: Mapped[list[Any]] = mapped_column(CompressedJSON)

    __table_args__ = (Index("ix_registry_versions_since", "since_run_id"),)


class WeekInput(Base):
    """A run's model inputs (household frame rows) of one township, as one compressed Parquet
    blob (``serving.store.week_inputs``): the "facts" a page shows and an on-demand explanation
    is computed from, about 40 bytes a household instead of a JSON row."""

    __tablename__ = "week_inputs"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    township: Mapped[str] = mapped_column(String(64), primary_key=True)
    households: Mapped[int] = mapped_column(Integer)
    frame: Mapped[bytes] = mapped_column(LargeBinary)


class WeekDocument(Base):
    """A run's per-household JSON documents of one kind (``explanation``: the listed households'
    explanations; ``rule_triggers``: criteria met and screening flags) for one township, as one
    zstd stream (``serving.store.week_documents``)."""

    __tablename__ = "week_documents"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    township: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    households: Mapped[int] = mapped_column(Integer)
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class QuarantineRow(Base):
    """A problem cell of a week's export (values of sensitive columns already masked by the reader)."""

    __tablename__ = "quarantine_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # quarantine | flag
    file: Mapped[str] = mapped_column(String(255))
    row: Mapped[int | None] = mapped_column(Integer, nullable=True)
    column: Mapped[str | None] = mapped_column(String(64), nullable=True)
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str] = mapped_column(Text)


class DriftResult(Base):
    """The drift check of a run (``monitoring.drift.check_week``), or why it did not run."""

    __tablename__ = "drift_results"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # ok | not run | failed
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    feature_results: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    report_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The samples the check compared (Parquet), so the Evidently report is rendered on first view:
    # the week's current side, its reference side shared in ``drift_references`` (by digest).
    report_samples: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    report_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)


class DriftReference(Base):
    """A drift check's reference sample (Parquet), stored once for every week that compared to it
    (``serving.store.drift_samples``)."""

    __tablename__ = "drift_references"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of ``samples``
    samples: Mapped[bytes] = mapped_column(LargeBinary)


class DriftAlert(Base):
    """One drift or data-quality alert of a run."""

    __tablename__ = "drift_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    township: Mapped[str | None] = mapped_column(String(64), nullable=True)
    feature: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    psi: Mapped[float | None] = mapped_column(Float, nullable=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Feedback(Base):
    """An officer's record of a visit (kept across re-runs: it belongs to the week, not a run)."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_id: Mapped[str] = mapped_column(String(64), index=True)
    week: Mapped[str] = mapped_column(String(8), index=True)
    township: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    risk_types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
