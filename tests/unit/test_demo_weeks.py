"""The demo's weeks a year back: consecutive, and their outcomes known by the demo's last week."""

from __future__ import annotations

from datetime import timedelta

import pytest


@pytest.mark.parametrize("last", ["2025-W52", "2026-W01", "2027-W26"])
def test_weeks_a_year_back_have_matured_by_the_last_week(last):
    from features.weeks import Week
    from monitoring.outcomes import HORIZON_WEEKS
    from serving.jobs.demo import EARLIER_WEEKS, earlier_weeks

    weeks = [Week(w) for w in earlier_weeks(last)]
    assert len(weeks) == EARLIER_WEEKS
    assert all(b.monday - a.monday == timedelta(weeks=1) for a, b in zip(weeks, weeks[1:], strict=False))
    end = Week(last).cutoff
    # The cohort's last cutoff plus the label window falls within the demo's data ...
    assert weeks[-1].cutoff + timedelta(weeks=HORIZON_WEEKS) <= end
    # ... and no earlier than needed: the week after it would not have matured yet.
    assert weeks[-1].cutoff + timedelta(weeks=HORIZON_WEEKS + 2) > end
