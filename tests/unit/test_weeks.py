import datetime as dt

import pandas as pd
import pytest

from features.weeks import parse_week, week_cutoff, week_label, week_monday


def test_week_dates():
    assert parse_week("2025-W48") == (2025, 48)
    assert week_monday("2025-W48") == dt.date(2025, 11, 24)
    assert week_cutoff("2025-W48") == pd.Timestamp("2025-11-30")
    assert week_label(dt.date(2025, 11, 30)) == "2025-W48"
    assert week_label(dt.date(2026, 1, 1)) == "2026-W01"  # ISO weeks cross the calendar year


@pytest.mark.parametrize("bad", ["2025-48", "2025-W54", "W48", "", "2025-W5"])
def test_bad_weeks_are_refused_with_one_clear_line(bad):
    with pytest.raises(ValueError, match="YYYY-Www"):
        week_cutoff(bad)
