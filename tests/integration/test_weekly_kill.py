"""The weekly kill-and-rerun check (``tests.integration.weekly_kill``) on SQLite."""

from __future__ import annotations

import pytest

from tests.databases import database_params
from tests.integration.weekly_kill import check_kill_and_rerun, weekly_store

pytestmark = pytest.mark.slow


@pytest.fixture(params=database_params()[0:1])
def weekly_env(request, tmp_path, small_county, registered_champion):
    with weekly_store(request.param, tmp_path, small_county, registered_champion) as env:
        yield env


def test_kill_at_any_stage_keeps_published_state_and_rerun_replaces_atomically(weekly_env):
    check_kill_and_rerun(*weekly_env)
