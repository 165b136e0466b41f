"""Databases for store and API tests: SQLite always, PostgreSQL from FANPIN_TEST_POSTGRES_URL.

Locally a missing PostgreSQL URL skips those cases with a reason; under CI (CI=true) it fails,
because `.ci/run` starts PostgreSQL and the store must be proven on it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

POSTGRES_ENV = "FANPIN_TEST_POSTGRES_URL"


def database_params() -> list:
    """pytest params: 'sqlite' and 'postgres' (the latter marked and possibly skipped)."""
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]


def postgres_base_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{POSTGRES_ENV} is not set under CI: the store must be tested on PostgreSQL")
        pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL store tests skipped locally")
    return url


@contextlib.contextmanager
def fresh_database_url(kind: str, tmp_path: Path):
    """Yield the URL of an empty database and drop it afterwards.

    PostgreSQL cases each get their own schema (search_path in the URL), so parallel tests and
    leftovers of earlier runs never meet.
    """
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    from sqlalchemy import create_engine, text

    base = postgres_base_url()
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
