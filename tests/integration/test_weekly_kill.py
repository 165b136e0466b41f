"""The weekly kill-and-rerun check (``tests.integration.weekly_kill``) on SQLite."""

from __future__ import annotations

import pytest

from tests.integration.weekly_kill import check_kill_and_rerun

pytestmark = pytest.mark.slow
DATABASE = "sqlite"  # read by the ``weekly_env`` fixture


def test_kill_at_any_stage_keeps_published_state_and_rerun_replaces_atomically(weekly_env):
    check_kill_and_rerun(*weekly_env)
