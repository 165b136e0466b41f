"""The reader on a simulated county: clean exports read without loss, a 万元 unit error is flagged."""

from __future__ import annotations

import json

from features.quarantine import HELD_REASONS
from features.reading import read_folder
from features.table_files import export_folders


def test_simulated_county_reads_clean_and_flags_exactly_the_unit_error(sim_run, tmp_path):
    from features.simulator import summarise, write_county

    write_county(sim_run, tmp_path, summarise(sim_run), scenario="unit-error")
    scenario = json.loads((tmp_path / "truth" / "simulation.json").read_text("utf-8"))["scenario"]

    history = None
    flagged_by_week = {}
    for label, folder in export_folders(tmp_path):
        result = read_folder(folder, history=history)
        assert result.quarantine.empty, (label, result.quarantine.head())
        assert result.totals["rows_in"] == result.totals["rows_valid"] > 0
        if label == "history":
            history = result
            assert result.flags.empty
            continue
        income_flags = result.flags[result.flags["file"] == "income_surveys.csv"]
        # both 万元 reasons: ~10,000x below the household's other years, or (a household formed
        # since the history, with one survey) under 50 yuan with able labour
        assert income_flags["reason"].isin(HELD_REASONS).all(), income_flags["reason"].unique()
        flagged_by_week[folder.name] = len(income_flags)

    affected = scenario["affected_by_week"]
    assert scenario["affected_households"] == affected[scenario["first_week"]] > 0
    for week, flagged in flagged_by_week.items():
        assert flagged == affected.get(week, 0), week
