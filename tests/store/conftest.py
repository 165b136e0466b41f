"""Store fixtures: a fresh, empty database on SQLite and (when configured) on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.databases import database_params, fresh_database_url


@pytest.fixture(params=database_params())
def store_url(request, tmp_path):
    """URL of an empty database: SQLite under tmp_path, or a fresh schema on PostgreSQL."""
    with fresh_database_url(request.param, tmp_path) as url:
        yield url
