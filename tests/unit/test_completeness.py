"""The completeness bounds of a week against the last published one, on a real read of a
hand-made export: the growth bound (1.25 by default), the shrink bound (0.8) and the members ratio
checked on its own, apart from the households'."""

from __future__ import annotations

import pytest

from features.reading import read_folder
from serving.weekly import completeness as cp
from serving.settings import Settings
from tests.data.handmade_exports import valid_tables, write_folder


@pytest.fixture(scope="module")
def read(tmp_path_factory):
    """20 valid households with 40 members, all in 城关镇."""
    result = read_folder(write_folder(tmp_path_factory.mktemp("export"), valid_tables(20)))
    assert cp.export_counts(result) == {"households": 20, "members": 40, "townships": ["城关镇"]}
    return result


@pytest.fixture(scope="module")
def bounds(tmp_path_factory):
    """The bounds the weekly job uses (``serving.jobs.week_run``): the settings' defaults."""
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    return cp.Bounds(settings.completeness_min_ratio, settings.completeness_max_ratio)


def _previous(households: int = 20, members: int = 40) -> dict:
    return {"households": households, "members": members, "townships": ["城关镇"]}


def test_the_default_bounds_are_minus_20_and_plus_25_percent(bounds):
    assert (bounds.min_ratio, bounds.max_ratio) == (0.8, 1.25) == (cp.Bounds().min_ratio, cp.Bounds().max_ratio)


@pytest.mark.parametrize("before, refused", [(16, False), (15, True), (25, False), (26, True), (20, False)])
def test_households_may_grow_by_25_percent_and_shrink_by_20(read, bounds, before, refused):
    # 20 now: 16 before is +25% (kept), 15 is +33% (refused); 25 before is -20%, 26 is -23%.
    found = cp.problems(read, _previous(households=before, members=40), bounds, "2025-W44")
    assert bool(found) == refused
    if refused:
        change = (20 - before) / before
        assert found == [f"households.csv: 20 households (last published 2025-W44: {before}, {change:+.0%}), "
                         f"outside -20%..+25%"]


@pytest.mark.parametrize("before, refused", [(32, False), (31, True), (50, False), (51, True)])
def test_members_are_held_to_the_same_ratios_on_their_own(read, bounds, before, refused):
    # Households unchanged; 40 members now against 32 (+25%), 31 (+29%), 50 (-20%), 51 (-22%).
    found = cp.problems(read, _previous(households=20, members=before), bounds)
    assert bool(found) == refused
    if refused:
        assert len(found) == 1 and found[0].startswith(f"members.csv: 40 members (last published week: {before},")
        with pytest.raises(cp.IncompleteWeek, match="members.csv: 40 members"):
            cp.check(read, _previous(members=before), bounds)
        assert cp.check(read, _previous(members=before), bounds, accept_reason="merged villages") == found
        with pytest.raises(cp.IncompleteWeek):
            cp.check(read, _previous(members=before), bounds, accept_reason="  ")  # a blank reason is none


def test_a_missing_township_is_named(read, bounds):
    found = cp.problems(read, {**_previous(), "townships": ["城关镇", "白马镇"]}, bounds)
    assert found == ["households.csv: 1 townships (last published week: 2), missing 白马镇"]
