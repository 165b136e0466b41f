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


def _flooded(entries: list[tuple[str, str]] | None = None):
    """甲镇's flood: 20 of its 40 households record a loss on 6 July 2022 (onset Sunday 10 July);
    then 12 of its eligible households (A00-A11) enter on 1 September 2022, A12 enters after the
    year, and A39 (under monitoring at the onset, so not scored) enters in August 2022."""
    entries = entries if entries is not None else (
        [(f"A{i:02d}", "2022-09-01") for i in range(12)] + [("A12", "2023-09-01"), ("A39", "2022-08-01")])
    return _tables([(f"A{i:02d}", "2022-07-06") for i in range(20)], entries)


def _model(p: float, calls: list | None = None, day: str = "2022-07-10"):
    """A model's risk ``p`` for 甲镇's 30 eligible households (A00-A29) on ``day`` of the flood."""
    def expected_at(area, on):
        if calls is not None:
            calls.append((area, on))
        assert area == "甲镇" and on == pd.Timestamp(day)
        return pd.Series(p, index=[f"A{i:02d}" for i in range(30)])
    return expected_at


AFTER = pd.Timestamp("2024-01-07")  # the flood's year of outcomes has ended


def test_offset_is_learned_from_earlier_shocks_only():
    tables = _flooded()
    assert list(shock_onsets(tables)["onset"]) == [pd.Timestamp("2022-07-10")]
    calls: list = []
    # a day before its year of outcomes ends the flood teaches nothing, and the model is not asked
    before = learned_offset(tables, pd.Timestamp("2023-07-08"), _model(0.2, calls))
    assert before["offset"] == 0 and before["shocks"] == [] and calls == []
    after = learned_offset(tables, pd.Timestamp("2023-07-09"), _model(0.2, calls), prior=5.0)
    assert calls == [("甲镇", pd.Timestamp("2022-07-10"))]
    # 12 entries of the scored households within the year (A12 too late, A39 not scored) against 6
    assert after["shocks"] == [{"area": "甲镇", "onset": "2022-07-10", "scored_on": "2022-07-10", "households": 30, "observed": 12,
                                "expected": 6.0}]
    assert after["offset"] == pytest.approx(np.log((12 + 5) / (6 + 5)), abs=1e-4)  # shrunk toward 0


def test_a_model_blind_to_the_shock_gets_the_true_ratio():
    # the model gives the flood's households their usual risk (0.2: 6 of 30 a year); 12 entered
    learned = learned_offset(_flooded(), AFTER, _model(0.2), prior=0.0)
    assert learned["observed"] == 12 and learned["expected"] == pytest.approx(6.0)
    assert learned["offset"] == pytest.approx(np.log(2), abs=1e-4)


def test_a_model_that_already_doubles_the_risk_gets_no_offset():
    # the model read the recorded losses and doubled their risk (0.4): it expected the 12 entries
    assert learned_offset(_flooded(), AFTER, _model(0.4), prior=0.0)["offset"] == pytest.approx(0.0, abs=1e-9)
    assert learned_offset(_flooded(), AFTER, _model(0.4), prior=5.0)["offset"] == pytest.approx(0.0, abs=1e-9)


def test_a_model_that_overshoots_gets_a_negative_offset_within_the_range():
    from features.shocks import OFFSET_RANGE

    # 24 expected, 12 entered: the model over-reacts to the losses; the risk there is halved in odds
    assert learned_offset(_flooded(), AFTER, _model(0.8), prior=0.0)["offset"] == pytest.approx(-np.log(2), abs=1e-4)
    # a model that expected 0.3 entries against 12 would move odds 40-fold: bounded at 4
    assert learned_offset(_flooded(), AFTER, _model(0.01), prior=0.0)["offset"] == pytest.approx(OFFSET_RANGE[1], abs=1e-4)
    assert list(OFFSET_RANGE) == pytest.approx([-np.log(4), np.log(4)])


def test_expected_is_scaled_from_the_labels_horizon_to_the_window():
    # over 13 weeks: the 12 September entries against a quarter of the year's 24 expected
    learned = learned_offset(_flooded(), AFTER, _model(0.8), prior=0.0, label_weeks=52, window_weeks=13)
    assert learned["observed"] == 12 and learned["expected"] == pytest.approx(6.0)
    assert learned["offset"] == pytest.approx(np.log(2), abs=1e-4)


def test_learned_as_far_into_past_shocks_as_the_current_one_is():
    from features.shocks import weeks_into

    # A13 entered in the flood's third week: four weeks in, it is no longer the model's to expect
    tables = _flooded([(f"A{i:02d}", "2022-09-01") for i in range(12)] + [("A13", "2022-07-27")])
    assert weeks_into(tables, pd.Timestamp("2022-08-07")) == {"甲镇": 4}
    at_onset = learned_offset(tables, AFTER, _model(0.2), prior=0.0)
    assert at_onset["observed"] == 13 and at_onset["weeks_in"] == 0
    four_in = learned_offset(tables, AFTER, _model(0.2, day="2022-08-07"), weeks_in=4, prior=0.0)
    assert four_in["shocks"][0]["scored_on"] == "2022-08-07" and four_in["observed"] == 12
    assert four_in["offset"] == pytest.approx(np.log(2), abs=1e-4)
    # its year from the fourth week ends four weeks after the onset's: not learned before then
    assert learned_offset(tables, pd.Timestamp("2023-08-05"), _model(0.2), prior=0.0)["shocks"]
    assert not learned_offset(tables, pd.Timestamp("2023-08-05"), _model(0.2, day="2022-08-07"), weeks_in=4)["shocks"]
    assert learned_offset(tables, pd.Timestamp("2023-08-06"), _model(0.2, day="2022-08-07"), weeks_in=4)["shocks"]


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
