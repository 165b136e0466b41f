"""Lasting differences between villages and townships: where a household lives matters for years.

In real counties the households that fall back cluster: remote mountain villages with little and
poor land, townships along a flood-prone river, villages whose young people never built the
migrant networks that find city jobs. The layout (``layout.py``) already gives each village a
latent remoteness and flood and drought risk; this module adds what makes a location-only list a
real competitor to a household model:

- a lasting *place disadvantage* per township and village (remoteness plus unobserved history:
  soil, roads, clan and market access) that shifts the disadvantage of the households living
  there, with the household's own part shrunk so the county-wide spread stays the same;
- a *migrant network* per village (township and village parts): how readily its able members find
  migrant work;
- a village's *outreach*: how hard its cadres and resident work team (驻村工作队) look for
  households in difficulty (cadre visits, screening, self-reports; department pushes are alike);
- a *land yield* per village: remote and mountain villages harvest less per mu;
- a *township flood exposure*: flood-prone townships (river valleys) take most township-wide
  floods, instead of every township alike.

All figures are judgements (docs/simulator.md, "Lasting differences between places"); they are
drawn once and never change during the simulated years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PlaceParameters:
    """Spread of the lasting place differences (standard deviations on the log or z scale)."""

    township_sd: float = 0.40          # township part of a household's disadvantage (z units)
    village_sd: float = 0.35           # village part, within its township
    remoteness_weight: float = 0.5     # disadvantage per unit of village remoteness (as before)
    network_township_sd: float = 0.30  # log migrant-job finding rate, township part
    network_village_sd: float = 0.40   # ... village part
    yield_sd: float = 0.20             # log land yield, village part
    yield_remoteness: float = 0.40     # log land yield lost per unit of remoteness
    outreach_township_sd: float = 0.30  # log work intensity of cadres finding households, township part
    outreach_village_sd: float = 0.50   # ... village part
    flood_prone_exposure: float = 2.5  # township-wide flood rate of a flood-prone township ...
    flood_other_exposure: float = 0.4  # ... and of the others (relative to the county's rate)

    @property
    def household_sd(self) -> float:
        """The household's own disadvantage spread, shrunk so the total stays about one."""
        return float(np.sqrt(max(1.0 - self.township_sd ** 2 - self.village_sd ** 2, 0.05)))


def _mean_one(log_values: np.ndarray) -> np.ndarray:
    """exp(values), scaled to mean one (county-wide rates keep their calibrated level)."""
    out = np.exp(log_values)
    return out / out.mean()


def draw_places(layout: dict, rng: np.random.Generator, pp: PlaceParameters | None = None) -> dict:
    """Village arrays of the lasting differences for a layout (``build_layout``).

    Returns ``place`` (z shift of the village's households), ``network`` (multiplier of the
    migrant-job finding rate, mean one), ``network_loss`` (of the job-loss rate, mean one),
    ``outreach`` (of the cadre, screening and self-report discovery rates, mean one), ``land_yield`` (multiplier of the farm yield, mean one)
    and ``township_flood`` (the village's township's flood exposure, mean one over villages).
    """
    pp = pp or PlaceParameters()
    township = np.asarray(layout["village_township"])
    n_t, n_v = int(township.max()) + 1, len(township)
    remote = np.asarray(layout["remoteness"], float)
    # centred: the county's overall disadvantage (and so its 脱贫户, 低保 and illness shares) stays
    # where the realism targets put it; only how it is spread over places changes
    t_part = rng.normal(0, pp.township_sd, n_t)[township]
    v_part = rng.normal(0, pp.village_sd, n_v)
    place = pp.remoteness_weight * remote + (t_part - t_part.mean()) + (v_part - v_part.mean())
    log_network = (rng.normal(0, pp.network_township_sd, n_t)[township] + rng.normal(0, pp.network_village_sd, n_v)
                   - 0.5 * (remote - remote.mean()))
    # a network finds jobs (start rate x network) and keeps them (loss rate x network_loss), both
    # mean one so the county's migrant share stays calibrated
    network, network_loss = _mean_one(log_network), _mean_one(-log_network)
    land_yield = _mean_one(rng.normal(0, pp.yield_sd, n_v) - pp.yield_remoteness * (remote - remote.mean()))
    # the township's flood proneness is what its villages' flood risk shares (layout.py draws 40%
    # of townships flood-prone): the upper half of townships by mean village flood risk
    mean_flood = np.bincount(township, weights=layout["flood_risk"], minlength=n_t) / np.bincount(township, minlength=n_t)
    prone = mean_flood >= np.median(mean_flood)
    outreach = _mean_one(rng.normal(0, pp.outreach_township_sd, n_t)[township] + rng.normal(0, pp.outreach_village_sd, n_v))
    exposure = np.where(prone, pp.flood_prone_exposure, pp.flood_other_exposure)
    exposure = exposure / exposure.mean()
    return {"place": place, "network": network, "network_loss": network_loss, "land_yield": land_yield,
            "township_flood": exposure[township], "outreach": outreach}


def household_disadvantage(place: np.ndarray, village: np.ndarray, rng: np.random.Generator,
                           pp: PlaceParameters | None = None) -> np.ndarray:
    """Each household's latent disadvantage: its village's lasting part plus its own."""
    pp = pp or PlaceParameters()
    return rng.normal(0, pp.household_sd, len(village)) + place[village]


def township_flood_rate(v: dict, n_townships: int) -> np.ndarray:
    """Per-township flood exposure from the village arrays (replicated counties included)."""
    counts = np.bincount(v["township"], minlength=n_townships)
    total = np.bincount(v["township"], weights=v["township_flood"], minlength=n_townships)
    return np.where(counts > 0, total / np.maximum(counts, 1), 1.0)
