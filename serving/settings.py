"""Settings from the environment (prefix FANPIN_), read when asked for, never at import time."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where fanpin keeps its data, database and MLflow store."""

    model_config = SettingsConfigDict(env_prefix="FANPIN_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".fanpin")
    database_url: str | None = None
    model_name: str = "fanpin-risk"
    model_alias: str = "champion"
    secret_key: str | None = None
    token_minutes: int = 8 * 60
    audit_flush_seconds: float = 0.2  # household reads reach the audit log within this (serving.api.audit_log)
    # Request threads per server process. The handlers are mostly Python work under the GIL
    # (SQLite runs in process), so more threads only wait on each other: at 20 clients on 2 cores
    # the list page's p99 was 180-200 ms with anyio's default 40 and 105-118 ms with 4.
    threads: int = Field(default=4, ge=1)
    # Completeness before publish (serving.weekly.completeness): a week's households, members or
    # townships outside these ratios of the last published week are refused unless accepted.
    completeness_min_ratio: float = Field(default=0.8, gt=0, le=1)
    completeness_max_ratio: float = Field(default=1.25, ge=1)
    # ... each township against its own last week too; at most this many households may change township.
    completeness_max_moved: int = Field(default=10, ge=0)
    # Largest request body (JSON or form) in bytes; larger ones get 413 (serving.access.body_limit).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Reverse proxies whose X-Forwarded-For is believed for sign-in throttling (JSON list of addresses).
    trusted_proxies: list[str] = Field(default_factory=list)
    # The quarterly random audit of households on no list (serving.weekly.audit): the share drawn
    # in each township and the seed that makes the draw reproducible.
    audit_share: float = Field(default=0.015, gt=0, lt=1)
    audit_seed: int = 0
    # The shock response (serving.weekly.shock): disaster events per 100 households of a township
    # within ``shock_weeks`` weeks that declare a shock, and for how many weeks extra visit
    # capacity is proposed there.
    shock_per_100: float = Field(default=10.0, gt=0)
    shock_weeks: int = Field(default=4, ge=1)
    shock_capacity_weeks: int = Field(default=8, ge=1)
    # County-editable files (None: the defaults shipped with fanpin).
    policy_path: Path | None = None
    watchlist_path: Path | None = None
    department_warnings_path: Path | None = None
    # The county's mapping profile (its own headers and labels -> the contract), used by
    # `fanpin validate` and `fanpin weekly` when no --profile is given (features.mapping_profile).
    profile_path: Path | None = None
    # The county folder the import page (导入本周数据) keeps uploads in, as `fanpin weekly --data`
    # reads it (history/, exports/<week>/); default: county/ under the home.
    county_dir: Path | None = None
    # Where researchers open the MLflow UI on this tracking store (FANPIN_MLFLOW_UI_URL), e.g. what
    # `fanpin mlflow-ui` or `fanpin demo` serves; see ``mlflow_ui``.
    mlflow_ui_url: str | None = None

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'fanpin.db'}"

    @cached_property
    def tracking_uri(self) -> str:
        # MLflow's own variable wins, so researchers can point fanpin at a shared server.
        return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{self.home / 'mlflow.db'}"

    @property
    def mlflow_ui(self) -> str | None:
        """The MLflow UI's address: FANPIN_MLFLOW_UI_URL, else the tracking server itself when the
        store is one (http/https), else None (a SQLite store has no UI until one is started)."""
        if self.mlflow_ui_url:
            return self.mlflow_ui_url.rstrip("/")
        if self.tracking_uri.startswith(("http://", "https://")):
            return self.tracking_uri.rstrip("/")
        return None

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_name}@{self.model_alias}"

    def ensure_home(self) -> Path:
        """Create the data home on first use (never at import), readable by its owner only."""
        from serving.private_files import private_dir

        return private_dir(self.home)


def get_settings() -> Settings:
    """Fresh settings from the current environment."""
    return Settings()
