"""The completeness bounds of a week against the last published one, on a real read of a
hand-made export: the growth bound (1.25 by default), the shrink bound (0.8) and the members ratio
checked on its own, apart from the households'."""

from __future__ import annotations

import pytest

from features.reading import read_folder
from serving.settings import Settings
from serving.weekly import completeness as cp
from tests.data.handmade_exports import valid_tables, write_folder


@pytest.fixture(scope="module")
def read(tmp_path_factory):
    """20 valid households with 40 members, all in 城关镇."""
    result = read_folder(write_folder(tmp_path_factory.mktemp("export"), valid_tables(20)))
    assert cp.export_counts(result) == {"households": 20, "members": 40, "townships": ["城关镇"],
                                        "by_township": {"城关镇": 20}}
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


@pytest.fixture(scope="module")
def read_with_a_bad_row(tmp_path_factory):
    """6 households, one quarantined (an unknown category), so 5 valid."""
    tables = valid_tables(6)
    tables["households"][2]["category"] = "??"
    result = read_folder(write_folder(tmp_path_factory.mktemp("bad"), tables))
    assert result.counts["households"]["rows_quarantined"] == 1
    return result


def test_every_household_read_is_scored_quarantined_or_not_scored(read_with_a_bad_row):
    read = read_with_a_bad_row
    valid = list(read.tables["households"]["household_id"])
    assert cp.reconcile(read, valid) == {"in": 6, "scored": 5, "quarantined": 1, "held": 0, "not_scored": 0,
                                         "stale": 0}
    assert cp.reconcile(read, valid[:3]) == {"in": 6, "scored": 3, "quarantined": 1, "held": 0, "not_scored": 2,
                                             "stale": 0}


def test_a_household_scored_from_earlier_weeks_is_refused(read_with_a_bad_row):
    read = read_with_a_bad_row
    valid = list(read.tables["households"]["household_id"])
    with pytest.raises(cp.IncompleteWeek, match=r"^households.csv: 2 households would be scored from earlier weeks"):
        cp.reconcile(read, [*valid, "H9998", "H9999"])


def test_a_refused_week_is_one_line_naming_every_problem(read, bounds):
    previous = {"households": 15, "members": 31, "townships": ["城关镇", "白马镇"]}
    with pytest.raises(cp.IncompleteWeek) as refused:
        cp.check(read, previous, bounds, previous_week="2025-W44")
    assert str(refused.value) == (
        "households.csv: 20 households (last published 2025-W44: 15, +33%), outside -20%..+25%; "
        "members.csv: 40 members (last published 2025-W44: 31, +29%), outside -20%..+25%; "
        "households.csv: 1 townships (last published 2025-W44: 2), missing 白马镇; "
        "nothing published. Check the export, or accept it with --accept-incomplete REASON / 本周数据不完整，未发布")
    assert cp.check(read, _previous(), bounds, previous_week="2025-W44") == []


def test_townships_are_those_of_current_households(tmp_path):
    tables = valid_tables(3)
    # H0001 lived in 白马镇 until 2023: a closed version, not a township of this week.
    tables["households"].append({**tables["households"][0], "township": "白马镇", "valid_from": "2021-01-01",
                                 "valid_to": "2023-01-01"})
    read = read_folder(write_folder(tmp_path, tables))
    assert cp.export_counts(read) == {"households": 4, "members": 6, "townships": ["城关镇"], "by_township": {"城关镇": 3}}


def test_an_empty_required_table_is_the_only_problem_named(tmp_path, bounds):
    tables = valid_tables(3)
    for row in tables["members"]:
        row["sex"] = "?"  # every member quarantined
    read = read_folder(write_folder(tmp_path, tables))
    found = cp.problems(read, _previous(households=100, members=200), bounds)
    assert found == ["members.csv: no valid members rows (the file is empty or every row was quarantined) / 必需表为空"]
    assert cp.problems(read, None, bounds) == found


def test_lines_name_the_table_when_the_file_is_unknown_and_every_missing_township(read, bounds):
    import dataclasses

    nameless = dataclasses.replace(read, files={})
    previous = {"households": 15, "members": 40, "townships": ["城关镇", "白马镇", "麻溪苗族乡"]}
    assert cp.problems(nameless, previous, bounds) == [
        "households: 20 households (last published week: 15, +33%), outside -20%..+25%",
        "households: 1 townships (last published week: 3), missing 白马镇, 麻溪苗族乡"]
    # A week published before its counts were recorded: nothing to compare, nothing refused.
    assert cp.problems(read, {"households": None, "members": None, "townships": []}, bounds) == []


def test_held_households_are_counted_apart(read_with_a_bad_row):
    import dataclasses

    import numpy as np

    read = dataclasses.replace(read_with_a_bad_row, held={"households": np.array([1])})
    valid = list(read.tables["households"]["household_id"])
    usable = valid[:1] + valid[2:]
    assert cp.reconcile(read, usable) == {"in": 6, "scored": 4, "quarantined": 1, "held": 1, "not_scored": 0,
                                          "stale": 0}
    nameless = dataclasses.replace(read_with_a_bad_row, files={})
    with pytest.raises(cp.IncompleteWeek, match=r"^households: 1 households would be scored"):
        cp.reconcile(nameless, [*valid, "H9999"])
