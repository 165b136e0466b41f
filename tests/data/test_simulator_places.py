"""Lasting differences between places (issue 28, item 6): a village's and township's disadvantage,
migrant network, land yield and flood exposure are drawn once and act for every simulated year."""

from __future__ import annotations

import numpy as np

from features.simulator.dynamics import ages
from features.simulator.income import week_money
from features.simulator.layout import build_layout
from features.simulator.places import PlaceParameters, draw_places, township_flood_rate


def _village_share_of_variance(values: np.ndarray, village: np.ndarray) -> float:
    """Share of the variance that lies between villages (household-weighted village means)."""
    means = np.bincount(village, weights=values) / np.maximum(np.bincount(village), 1)
    return float(np.var(means[village]) / np.var(values))


def test_place_draws_keep_county_levels_and_tie_land_and_floods_to_places():
    lay = build_layout(20000, np.random.default_rng(0))
    places = draw_places(lay, np.random.default_rng(1))
    # multipliers of calibrated county-wide rates keep their level
    for key in ("network", "network_loss", "land_yield", "outreach"):
        assert abs(places[key].mean() - 1) < 1e-9, key
    # a strong network finds jobs and keeps them
    assert (np.diff(places["network_loss"][np.argsort(places["network"])]) <= 1e-12).all()
    # centred: the county's overall disadvantage is where the realism targets put it
    assert abs(places["place"].mean() - PlaceParameters().remoteness_weight * lay["remoteness"].mean()) < 1e-9
    # remote villages harvest less
    assert np.corrcoef(lay["remoteness"], places["land_yield"])[0, 1] < -0.3
    # flood-prone townships take township-wide floods far more often than the others
    exposure = township_flood_rate({"township": lay["village_township"], "township_flood": places["township_flood"]},
                                   len(lay["township_names"]))
    pp = PlaceParameters()
    assert np.isclose(exposure.max() / exposure.min(), pp.flood_prone_exposure / pp.flood_other_exposure)
    prone = exposure > 1
    mean_flood = np.bincount(lay["village_township"], weights=lay["flood_risk"]) / np.bincount(lay["village_township"])
    assert mean_flood[prone].min() >= mean_flood[~prone].max()


def test_households_disadvantage_clusters_by_village(sim_run):
    c = sim_run.county
    used = c.h["used"]
    share = _village_share_of_variance(c.h["z"][used].astype(float), c.h["village"][used])
    # a lasting village and township part (0.55² + 0.5² of the spread); without it ~0.02
    assert share > 0.3, share


def test_migrant_network_and_land_yield_act_on_work_and_income(sim_run):
    c = sim_run.county.copy()
    week = sim_run.weeks[-1]
    age = ages(c, week)
    # members of strong-network villages are away at migrant work more often
    able = c.m["alive"] & (age >= 16) & (age < 50) & np.isin(c.m["skill"], (0, 1)) & ~c.m["pwj"]
    village = c.h["village"][c.m["hh"][able]]
    n_v = len(c.v["township"])
    share = np.bincount(village, weights=c.m["migrant"][able], minlength=n_v) / np.maximum(
        np.bincount(village, minlength=n_v), 1)
    big = np.bincount(village, minlength=n_v) >= 15
    assert np.corrcoef(np.log(c.v["network"][big]), share[big])[0, 1] > 0.3
    # a village's land yield scales its farm income
    before = week_money(c, week, age, _params())
    c.v["land_yield"] = c.v["land_yield"] * 2
    after = week_money(c, week, age, _params())
    farming = (c.h["land"] > 0) & c.h["used"] & (c.h["size"] > 0)
    gain = after["business"] - before["business"]
    assert (gain[farming] >= -1e-9).all() and gain[farming].sum() > 0


def test_village_outreach_finds_households_in_difficulty(sim_run):
    """Cadres who look harder find households that meet a criterion sooner (department pushes,
    which reach every village alike, aside)."""
    from features.simulator import monitoring

    c = sim_run.county.copy()
    n_v = len(c.v["township"])
    not_pushed = np.zeros(c.n_households, bool)
    c.v["outreach"] = np.where(np.arange(n_v) % 2 == 0, 0.5, 2.0)
    strong = (c.h["village"] % 2 == 1) & c.h["used"]
    weak = (c.h["village"] % 2 == 0) & c.h["used"]
    screening = next(w for w in sim_run.weeks[-60:] if w.iso_week in monitoring.SCREENING_WEEKS)
    ordinary = next(w for w in sim_run.weeks[-60:] if w.iso_week == 20)
    # cadre visits and self-reports (an ordinary week), and the screening: each channel scales with
    # the village's outreach, so the chance is ~4x where outreach is 4x
    for week in (ordinary, screening):
        chance = monitoring.found_probability(c, week, not_pushed, _params())
        assert chance[strong].mean() > 3.5 * chance[weak].mean(), week.iso_week
    week = screening
    pushed = monitoring.found_probability(c, week, ~not_pushed, _params())
    assert pushed.min() >= _params().discovery_department


def test_migrant_network_keeps_jobs(sim_run):
    """A weak network loses migrant jobs more often (the loss rate's own village multiplier)."""
    from features.simulator.dynamics import migrant_work

    weeks = [w for w in sim_run.weeks[-30:] if w.iso_week not in range(1, 11)][:4]
    losses = {}
    for loss in (0.3, 3.0):
        c = sim_run.county.copy()
        c.v["network_loss"] = np.full(len(c.v["township"]), loss)
        rng = np.random.default_rng(0)
        losses[loss] = 0
        for week in weeks:
            migrant_work(c, week, ages(c, week), rng, _params(), None)
            losses[loss] += int((c.h["last_jobloss"] == week.index).sum())
    assert losses[3.0] > 3 * max(losses[0.3], 1), losses


def _params():
    from features.simulator.parameters import Parameters

    return Parameters()
