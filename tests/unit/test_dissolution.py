"""Deaths that closed a household (销户) are kept and counted apart; real orphans are quarantined."""

from __future__ import annotations

from features.reading import read_folder
from tests.data.handmade_exports import event, valid_tables, write_folder

UNKNOWN = "household not in the households table / 户编号不在农户信息中"


def _week_without_household_six(events):
    """A week whose households table no longer lists H0006 (its last member died)."""
    week = valid_tables(6)
    week["households"] = [h for h in week["households"] if h["household_id"] != "H0006"]
    week["members"] = [m for m in week["members"] if m["household_id"] != "H0006"]
    week["income_surveys"] = [s for s in week["income_surveys"] if s["household_id"] != "H0006"]
    week["events"] = events
    return week


def _unknown_rows(result) -> list[int]:
    q = result.quarantine
    return q.loc[q["reason"] == UNKNOWN, "row"].tolist()


def test_death_of_a_dissolved_household_is_kept_and_counted_apart(tmp_path):
    events = [
        event(1, "H0001"),
        event(2, "H0006", event_type="death", member_id="M00011", amount=""),  # the last member
        event(3, "H0404", event_type="death", amount=""),  # no history given: a closed household too
    ]
    write_folder(tmp_path / "2024-W10", _week_without_household_six(events))

    result = read_folder(tmp_path / "2024-W10")

    assert _unknown_rows(result) == []
    assert result.counts["events"] == {"rows_in": 3, "rows_valid": 3, "rows_quarantined": 0, "rows_flagged": 0}
    assert result.dissolved == {"events": 2}
    assert set(result.tables["events"]["household_id"]) == {"H0001", "H0006", "H0404"}
    assert any("销户" in note and "2" in note for note in result.notes)


def test_real_orphans_still_go_to_quarantine(tmp_path):
    write_folder(tmp_path / "history", valid_tables(6))
    past = read_folder(tmp_path / "history")
    events = [
        event(1, "H0006", event_type="death", amount=""),  # H0006 was in the history: dissolved
        event(2, "H0006"),  # a hospital stay: an orphan read alone, a known household with history
        event(3, "H0404", event_type="death", amount=""),  # never known anywhere: an orphan
        event(4, "H0404", event_type="disaster_damage"),  # never known anywhere: an orphan
    ]
    write_folder(tmp_path / "2024-W10", _week_without_household_six(events))

    alone = read_folder(tmp_path / "2024-W10")
    with_history = read_folder(tmp_path / "2024-W10", history=past)

    # Read alone, only the non-death events are orphans; against the history, the death of a
    # household nobody ever listed is one too.
    assert _unknown_rows(alone) == [3, 5]
    assert alone.dissolved == {"events": 2}
    assert _unknown_rows(with_history) == [4, 5]
    assert with_history.dissolved == {"events": 1}
    assert with_history.counts["events"]["rows_quarantined"] == 2
