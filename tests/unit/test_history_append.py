"""Accumulating the registry history from weekly exports (serving.weekly.history)."""

from __future__ import annotations

import pandas as pd

from serving.weekly.history import History, append_export, as_known_at, load_history, save_history
from tests.tables import _typed, household, member, tiny_tables


def _tables(households, members):
    empty = {name: frame.iloc[0:0] for name, frame in tiny_tables().items()}
    return {**empty, "households": _typed("households", households), "members": _typed("members", members)}


def test_new_versions_close_old_ones_and_missing_members_leave_at_week_start(tmp_path):
    past = _tables([household("H1")], [member("H1", "M1", "1960-01-01"), member("H1", "M2", "1990-01-01")])
    history = History(past, pd.Timestamp("2025-11-02"))
    export = _tables([household("H1", housing_grade="C", valid_from="2025-11-05")],
                     [member("H1", "M1", "1960-01-01")])
    cutoff = pd.Timestamp("2025-11-09")
    grown, changed = append_export(history, export, "2025-W45", cutoff)
    assert changed and grown.as_of == cutoff and grown.weeks == ["2025-W45"]
    hh = grown.tables["households"].sort_values("valid_from")
    assert hh["valid_to"].iloc[0] == pd.Timestamp("2025-11-05") and pd.isna(hh["valid_to"].iloc[1])
    m2 = grown.tables["members"].set_index("member_id").loc["M2"]
    assert m2["valid_to"] == pd.Timestamp("2025-11-03")  # Monday of the week it disappeared
    # Applying the same week again changes nothing (re-runs and killed runs are harmless).
    again, changed_again = append_export(grown, export, "2025-W45", cutoff)
    assert not changed_again and again is grown
    save_history(tmp_path, grown)
    loaded = load_history(tmp_path)
    assert loaded.weeks == ["2025-W45"] and len(loaded.tables["households"]) == 2


def test_as_known_at_reopens_later_closures_and_drops_later_rows():
    t = _tables([household("H1", valid_to="2025-06-01"), household("H1", valid_from="2025-06-01")],
                [member("H1", "M1", "1960-01-01")])
    known = as_known_at(t, pd.Timestamp("2025-03-01"))
    assert len(known["households"]) == 1 and known["households"]["valid_to"].isna().all()


def test_as_known_at_leaves_out_versions_recorded_later_and_keeps_their_predecessor_open():
    # A home visit on 2025-12-01 back-dates a change to 2025-10-11: on 2025-11-16 the registry
    # still showed the earlier version, open, as its weekly exports did.
    t = _tables([household("H1", valid_to="2025-06-15", recorded_at="2019-01-01"),
                 household("H1", valid_from="2025-06-15", valid_to="2025-10-11", recorded_at="2025-06-24"),
                 household("H1", valid_from="2025-10-11", housing_grade="C", recorded_at="2025-12-01"),
                 household("H2", valid_to="2025-09-01", recorded_at="2019-01-01")],
                [member("H1", "M1", "1960-01-01")])
    hh = as_known_at(t, pd.Timestamp("2025-11-16"))["households"].set_index("valid_from")
    assert list(hh.index[hh["household_id"] == "H1"]) == [pd.Timestamp("2019-01-01"), pd.Timestamp("2025-06-15")]
    assert hh.loc["2019-01-01", "valid_to"].tolist() == [pd.Timestamp("2025-06-15"), pd.Timestamp("2025-09-01")]
    assert pd.isna(hh.loc["2025-06-15", "valid_to"])  # its successor was not recorded yet
    later = as_known_at(t, pd.Timestamp("2025-12-07"))["households"]
    assert later.loc[later["household_id"] == "H1", "valid_to"].notna().sum() == 2
