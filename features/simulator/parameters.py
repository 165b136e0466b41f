"""The county model's parameters: hazards, money amounts and discovery rates.

Every figure is a per-year rate or a yuan amount unless its name says otherwise; the weekly step
divides by 52. Where a figure is calibrated against a public statistic, docs/simulator.md names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_LINES = {
    # Used only when features.policy cannot be loaded (it is the source of truth).
    2019: (4000.0, 4000.0),
    2020: (5000.0, 4400.0),
    2021: (6000.0, 4800.0),
    2022: (6500.0, 5200.0),
    2023: (7000.0, 5500.0),
    2024: (7500.0, 5800.0),
    2025: (8000.0, 6100.0),
}


def monitoring_lines() -> dict[int, tuple[float, float]]:
    """Year -> (monitoring line, 低保 line) from the county policy file."""
    try:
        from features.policy import load_policy

        policy = load_policy()
        return {y: (float(r["monitoring_line"]), float(r["dibao_line"])) for y, r in policy.lines.items()}
    except Exception:  # noqa: BLE001 - the policy module is optional for the simulator
        return dict(DEFAULT_LINES)


@dataclass
class Parameters:
    """Tunable figures of the simulated county."""

    lines: dict[int, tuple[float, float]] = field(default_factory=monitoring_lines)
    # --- health (per year, before the latent frailty multiplier) ---
    chronic_base: float = 0.0022
    chronic_per_year_over_30: float = 0.0008
    chronic_recovery: float = 0.03
    major_base: float = 0.0008
    major_per_year_over_30: float = 0.00028
    major_weeks_mean: float = 60.0
    hospital_rate: tuple[float, float, float] = (0.04, 0.35, 1.6)  # healthy, chronic, major
    hospital_cost: tuple[float, float, float] = (5000.0, 9000.0, 38000.0)
    oop_insured: float = 0.12
    oop_uninsured: float = 0.7
    disability_base: float = 0.0008
    disability_per_year_over_40: float = 0.00022
    accident_rate: float = 0.006
    accident_cost: float = 16000.0
    mortality_a: float = 0.00018
    mortality_b: float = 0.088
    fertility: float = 0.045
    household_split: float = 0.045  # per year, per adult child (22-39) in a household of 3+
    marry_out: float = 0.35  # share of leaving daughters who marry out of the county
    # --- work ---
    migrant_start: float = 2.5
    migrant_stop: float = 0.3
    job_loss_share_2020: float = 0.15
    migrant_wage_month: tuple[float, float, float] = (2000.0, 2650.0, 3250.0)  # county/prov/out
    wage_growth: float = 0.07
    local_wage_week: float = 230.0
    public_job_month: float = 700.0
    # --- land, business, property ---
    farm_net_per_mu: float = 650.0
    farm_cost_share: float = 0.45
    dividend_year: float = 800.0
    industry_failure: float = 0.05
    # --- transfers ---
    pension_month: float = 118.0
    pension_growth: float = 14.0
    dibao_month: float = 320.0
    tekun_month: float = 550.0
    subsidy_per_mu: float = 110.0
    continuing_support_year: float = 900.0
    # --- disasters (per village per year) ---
    flood_rate: float = 0.05
    drought_rate: float = 0.03
    township_flood_rate: float = 0.012
    # scenario floods written into the history (features.simulator.planned_floods; default none)
    planned_floods: tuple = ()
    # --- monitoring ---
    discovery_department: float = 0.22  # per week within 6 weeks of a pushed shock event
    discovery_cadre: float = 0.005
    discovery_self: float = 0.0035
    discovery_screening: float = 0.045  # per week during the concentrated screening weeks
    stable_weeks_to_eliminate: int = 26
    cope_share: float = 0.65  # income at least this share of the line: the household may cope
    review_floor: float = 0.8  # yearly share of households without labour under the line given 低保
    cope_rejection: float = 0.95  # share of such households the home check does not enter

    def line(self, year: int) -> float:
        years = sorted(self.lines)
        return self.lines[min(max(year, years[0]), years[-1])][0]

    def dibao_line(self, year: int) -> float:
        years = sorted(self.lines)
        return self.lines[min(max(year, years[0]), years[-1])][1]
