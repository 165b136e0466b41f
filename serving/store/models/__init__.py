"""The store's tables (SQLAlchemy 2 declarative models), one module per part of the store;
``serving.store.models`` names them all (``from serving.store import models as m``)."""

from serving.store.models.access import AuditEntry, SigninAttempts, Token, User, WeekLease
from serving.store.models.base import RUN_STATUSES, Base
from serving.store.models.cases import Case, CaseStep, DepartmentWarning
from serving.store.models.shadow import ShadowRun, ShadowScore
from serving.store.models.weeks import (
    DriftAlert,
    DriftReference,
    DriftResult,
    Explanation,
    Feedback,
    QuarantineRow,
    RegistryVersion,
    Run,
    Score,
    WatchlistEntry,
    Week,
    WeekDocument,
    WeekInput,
)
from serving.store.models.work import TownshipCapacity, WeekWork

__all__ = [
    "AuditEntry",
    "Base",
    "Case",
    "CaseStep",
    "DepartmentWarning",
    "DriftAlert",
    "DriftReference",
    "DriftResult",
    "Explanation",
    "Feedback",
    "QuarantineRow",
    "RUN_STATUSES",
    "RegistryVersion",
    "Run",
    "Score",
    "ShadowRun",
    "ShadowScore",
    "SigninAttempts",
    "Token",
    "TownshipCapacity",
    "User",
    "WatchlistEntry",
    "Week",
    "WeekDocument",
    "WeekInput",
    "WeekLease",
    "WeekWork",
]
