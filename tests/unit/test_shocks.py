"""The shock detector (features.shocks): fires on the simulator's flood scenario in the flooded
township only, stays silent on eight clean weeks, and learns its adjustment from past shocks only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.shocks import ShockRule, adjusted, learned_offset, recent_shock, shock_onsets


def _weeks_as_the_job_sees_them(run, scenario: str):
    """(scenario, [(cutoff, tables known at it)]) for the 12 export weeks: the history recorded before
    the first export, plus each export's events appended as the weekly job appends them."""
    from features.simulator import scenarios as sc
    from features.simulator.county import streams
    from features.simulator.export import weekly_views

    views = weekly_views(run)
    rng = streams(run.parameters["seed"])["scenario"]
    scn = sc.plan(scenario, run.county.township_names, sorted(views), None, rng)
    views = sc.apply(scn, views, rng, None)
    first = pd.Timestamp(sc_monday(sorted(views)[0]))
    events = run.tables["events"]
    events = events[pd.to_datetime(events["recorded_at"]) < first]
    out = []
    for label in sorted(views):
        view = views[label]
        events = pd.concat([events, view["events"]], ignore_index=True).drop_duplicates("event_id")
        cutoff = pd.Timestamp(sc_monday(label)) + pd.Timedelta(days=6)
        out.append((cutoff, {"households": view["households"], "events": events,
                             "outcomes": run.tables["outcomes"]}))
    return scn, out


def sc_monday(label: str):
    from features.simulator.snapshot import parse_week

    return parse_week(label)


def test_detector_fires_on_the_flood_township_only(sim_run):
    scn, weeks = _weeks_as_the_job_sees_them(sim_run, "flood")
    flood_cutoff = pd.Timestamp(sc_monday(scn.first_week)) + pd.Timedelta(days=6)
    fired = {}
    for cutoff, tables in weeks:
        recent = recent_shock(tables, cutoff)
        fired[cutoff] = set(recent.loc[recent["shock"], "area"])
    assert fired[flood_cutoff] == {scn.township}
    # four weeks after the flood the window has moved past it
    for cutoff, areas in fired.items():
        inside = flood_cutoff <= cutoff < flood_cutoff + pd.Timedelta(weeks=4)
        assert areas == ({scn.township} if inside else set()), cutoff


def test_detector_is_silent_on_eight_clean_weeks(sim_run):
    _, weeks = _weeks_as_the_job_sees_them(sim_run, "baseline")
    for cutoff, tables in weeks[-8:]:
        recent = recent_shock(tables, cutoff)
        assert not recent["shock"].any(), (cutoff, recent.head(3))
        assert recent["per_100"].max() < ShockRule().per_100


def _tables(events: list[tuple[str, str]], entries: list[tuple[str, str]]):
    """Two townships of 40 households each; events (household, recorded day); entries (household, day)."""
    households = pd.DataFrame({"household_id": [f"A{i:02d}" for i in range(40)] + [f"B{i:02d}" for i in range(40)],
                               "township": ["甲镇"] * 40 + ["乙镇"] * 40, "village": ["v1"] * 40 + ["v2"] * 40})
    ev = pd.DataFrame({"event_id": [f"E{i}" for i in range(len(events))],
                       "household_id": [e[0] for e in events], "event_type": "disaster_damage",
                       "event_date": pd.to_datetime([e[1] for e in events]),
                       "recorded_at": pd.to_datetime([e[1] for e in events])})
    out = pd.DataFrame({"household_id": [e[0] for e in entries], "entry_date": pd.to_datetime([e[1] for e in entries])})
    return {"households": households, "events": ev, "outcomes": out}


def test_threshold_window_and_records_after_the_cutoff():
    # 4 of 40 households of 甲镇 (10 per 100) inside the 4 weeks; a fifth recorded after the cutoff
    events = [(f"A{i:02d}", "2024-07-03") for i in range(4)] + [("A10", "2024-07-20")]
    tables = _tables(events, [])
    recent = recent_shock(tables, pd.Timestamp("2024-07-14")).set_index("area")
    assert recent.loc["甲镇", "events"] == 4 and recent.loc["甲镇", "shock"]
    assert not recent.loc["乙镇", "shock"]
    # one fewer event: under the threshold
    recent = recent_shock(_tables(events[1:4], []), pd.Timestamp("2024-07-14")).set_index("area")
    assert not recent.loc["甲镇", "shock"]
    # five weeks later the events are out of the window
    assert not recent_shock(tables, pd.Timestamp("2024-08-25"))["shock"].any()
    # a small area never declares a shock
    assert not recent_shock(tables, pd.Timestamp("2024-07-14"), ShockRule(min_households=50))["shock"].any()


def test_offset_is_learned_from_earlier_shocks_only():
    # a 2023 shock in 甲镇 followed by 12 entries in 13 weeks (2 in the year before)
    events = [(f"A{i:02d}", "2023-07-05") for i in range(20)]
    entries = [(f"A{i:02d}", "2023-03-01") for i in range(2)] + [(f"A{i:02d}", "2023-08-15") for i in range(12)]
    tables = _tables(events, entries)
    onsets = shock_onsets(tables)
    assert list(onsets["area"]) == ["甲镇"]
    before = learned_offset(tables, pd.Timestamp("2023-09-03"))  # its 13 weeks have not ended yet
    assert before["offset"] == 0 and before["shocks"] == []
    after = learned_offset(tables, pd.Timestamp("2024-07-14"))
    assert after["shocks"][0]["observed"] == 12 and after["shocks"][0]["expected"] == pytest.approx(0.5)
    assert after["offset"] == pytest.approx(np.log((12 + 5) / (0.5 + 5)), abs=1e-3)


def test_adjusted_moves_only_offset_rows():
    p = np.array([0.01, 0.2, 0.5])
    out = adjusted(p, np.array([0.0, np.log(2), 0.0]))
    assert out[0] == p[0] and out[2] == p[2]
    assert out[1] / (1 - out[1]) == pytest.approx(2 * 0.2 / 0.8)


def _one_township(n: int, events: list[tuple[str, str]]):
    """甲镇 with ``n`` households; events (happened, recorded)."""
    households = pd.DataFrame({"household_id": [f"A{i:02d}" for i in range(n)], "township": "甲镇", "village": "v1"})
    ev = pd.DataFrame({"event_id": [f"E{i}" for i in range(len(events))],
                       "household_id": [f"A{i % n:02d}" for i in range(len(events))], "event_type": "disaster_damage",
                       "event_date": pd.to_datetime([e[0] for e in events]),
                       "recorded_at": pd.to_datetime([e[1] for e in events])})
    return {"households": households, "events": ev,
            "outcomes": pd.DataFrame({"household_id": [], "entry_date": pd.to_datetime([])})}


def test_one_definition_two_rules_by_recorded_and_by_event_date():
    """The weekly detector counts a loss when it reached the registry; training's shock
    township-years count it when it happened: 9 losses of 40 households on 5 June, recorded 7 August."""
    from features.shocks import TRAINING_RULE, WEEKLY_RULE, weekly_disasters
    from training.shocks import shock_township_years

    tables = _one_township(40, [("2024-06-05", "2024-08-07")] * 9)
    onsets = shock_onsets(tables)
    assert list(onsets["onset"]) == [pd.Timestamp("2024-08-11")] and onsets["per_100"].iloc[0] == 22.5
    years = shock_township_years(tables, {"2024": (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31"))})
    assert years.to_dict("records") == [{"year": "2024", "township": "甲镇", "peak_per_100": 22.5,
                                         "peak_week": "2024-06-03", "events": 9}]
    # the same function under both rules
    _, by_record = weekly_disasters(tables, WEEKLY_RULE)
    _, by_event = weekly_disasters(tables, TRAINING_RULE)
    assert by_record["甲镇"].idxmax() == pd.Timestamp("2024-08-05") and by_event["甲镇"].idxmax() == pd.Timestamp("2024-06-03")


def test_one_definition_two_rules_window_and_threshold():
    """A loss every 4 days for 12 weeks in 80 households: never 10 per 100 within 4 weeks (the
    weekly rule stays silent), 26 per 100 within 13 weeks (a training shock township-year)."""
    from training.shocks import shock_township_years

    days = pd.date_range("2024-05-01", periods=21, freq="4D").strftime("%Y-%m-%d")
    tables = _one_township(80, [(d, d) for d in days])
    assert shock_onsets(tables).empty
    years = shock_township_years(tables, {"2024": (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31"))})
    assert list(years["township"]) == ["甲镇"] and years["peak_per_100"].iloc[0] == 26.2
    # five losses in one week of 40 households: 12.5 per 100, over the weekly rule only
    tables = _one_township(40, [("2024-06-05", "2024-06-05")] * 5)
    assert len(shock_onsets(tables)) == 1
    assert shock_township_years(tables, {"2024": (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31"))}).empty
