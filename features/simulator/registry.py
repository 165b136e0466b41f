"""How changes reach the registry: each through a channel with its own delay and loss.

Department pushes (hospitalisation, disability certificate, death, birth, new 低保, school
records) arrive after days to weeks and some never; village checks run monthly or quarterly;
migrant-work starts and stops reach the registry only when the household reports them or at the
yearly survey, and some never; income only through the yearly survey, entered some days after
the visit. A share of rows is entered at a home visit (入户核实) weeks or months after the date
they carry: back-dated. Figures are judgements (docs/simulator.md); the recorder draws them from
its own random stream, so the county's life does not depend on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHANNELS = ("department", "village", "self_report", "survey", "system")
DEPARTMENT, VILLAGE, SELF_REPORT, SURVEY, SYSTEM = range(5)

EVENT_CHANNEL = {
    "hospitalisation": DEPARTMENT, "major_illness_diagnosis": DEPARTMENT,
    "chronic_diagnosis": DEPARTMENT, "disability_certified": DEPARTMENT, "death": DEPARTMENT,
    "birth": DEPARTMENT, "accident": DEPARTMENT, "disaster_damage": DEPARTMENT,
    "school_enrolment": DEPARTMENT, "school_dropout": DEPARTMENT,
    "housing_downgrade": VILLAGE, "housing_rebuilt": VILLAGE, "business_failure": VILLAGE,
    "job_loss": SELF_REPORT, "job_start": SELF_REPORT,
    "assistance_granted": SYSTEM,
}


@dataclass(frozen=True)
class Channels:
    """Delay and loss of each channel (days unless named otherwise)."""

    department_median_days: float = 12.0
    department_spread: float = 0.8  # lognormal sigma: most in days to weeks, a tail of months
    department_loss: float = 0.08
    village_quarterly_share: float = 0.4  # the rest of the villages check monthly
    village_loss: float = 0.03
    self_report_share: float = 0.35  # reported within weeks; the rest wait for the survey
    self_report_loss: float = 0.2
    survey_entry_days: tuple[int, int] = (3, 28)
    backdated_share: float = 0.07  # entered at a home visit ...
    backdated_days: tuple[int, int] = (28, 182)  # ... this long after the date they carry
    blank_phone: float = 0.05
    blank_amount: float = 0.1
    blank_source: float = 0.03


def next_survey_day(day: np.ndarray, survey_week: np.ndarray) -> np.ndarray:
    """The household's next yearly survey on or after ``day`` (day numbers since 1970-01-01)."""
    year = (np.datetime64("1970-01-01") + day.astype("timedelta64[D]")).astype("datetime64[Y]")
    start = (year.astype("datetime64[D]") - np.datetime64("1970-01-01")).astype(np.int64)
    this = start + (survey_week.astype(np.int64) - 1) * 7
    return np.where(this >= day, this, this + 365)


def delays(channel: np.ndarray, day: np.ndarray, survey_week: np.ndarray, village_quarterly: np.ndarray,
           rng: np.random.Generator, k: Channels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kept, recorded day, back-dated) for changes of the given channels on the given days."""
    n = len(channel)
    u = rng.random((4, n))
    lag = np.zeros(n)
    dep = channel == DEPARTMENT
    lag[dep] = rng.lognormal(np.log(k.department_median_days), k.department_spread, n)[dep]
    vil = channel == VILLAGE
    period = np.where(village_quarterly, 91, 30)
    lag[vil] = (u[1] * period)[vil]
    sur = channel == SURVEY
    lag[sur] = rng.integers(k.survey_entry_days[0], k.survey_entry_days[1] + 1, n)[sur]
    sel = channel == SELF_REPORT
    soon = u[1] < k.self_report_share
    waited = next_survey_day(day, survey_week) - day
    lag[sel] = np.where(soon, u[2] * 21, waited)[sel]
    lag[channel == SYSTEM] = (u[1] * 3)[channel == SYSTEM]
    loss = np.select([dep, vil, sel], [k.department_loss, k.village_loss, k.self_report_loss], 0.0)
    kept = u[0] >= loss
    back = (channel != SYSTEM) & (u[3] < k.backdated_share)
    visit = rng.integers(k.backdated_days[0], k.backdated_days[1] + 1, n)
    lag = np.where(back, np.maximum(lag, visit), lag)
    return kept, day + np.ceil(lag).astype(np.int64), back
