"""What the drift check watches and how hard: the feature groups its pattern checks read and every
threshold it decides with (``Thresholds``, overridable per call).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from features.contract import sensitive_columns
from features.household_frame import FRAME_COLUMNS
from monitoring import sample as sampling

PREDICTION = "prediction"
# Never sent to Evidently or written to a report: direct identifiers and the household key.
IDENTIFIERS = frozenset(sensitive_columns()) | {"household_id", "member_id"}
# Money features compared by their median (the 万元 unit error divides them by 10,000).
MONEY_FEATURES = tuple(n for n, c in FRAME_COLUMNS.items() if c.unit == "元")
INCOME_FEATURES = ("pc_net_income", "net_income")
DISASTER_FEATURES = tuple(n for n, c in FRAME_COLUMNS.items() if c.concept == "disaster")
INCOME_PARTS = ("wage_income", "business_income", "property_income", "transfer_income")
# Features that move with the calendar, not with the households: a reference from earlier years
# has smaller values by construction, so their range is not a data-quality finding.
CALENDAR_FEATURES = frozenset({"years_since_exit", "survey_age_weeks", "head_age"})
# Counts of rare events: a quiet week (every household at zero) is not a broken column.
RARE_EVENT_FEATURES = frozenset(n for n, c in FRAME_COLUMNS.items() if c.unit in ("次", "元")
                                and n.endswith(("_13w", "_52w", "_4w"))) | {"village_disaster_share_13w"}


@dataclass(frozen=True)
class Thresholds:
    """Every number the monitor decides with (override any of them per call)."""

    num_method: str = "wasserstein"  # normed by the reference's standard deviation; 0.1
    cat_method: str = "jensenshannon"  # distance; 0.1
    small_num_method: str = "ks"  # p-value 0.05
    small_cat_method: str = "chisquare"  # p-value 0.05
    small_rows: int = 1000  # below this on either side the p-value tests are used
    psi_watch: float = 0.1
    psi_act: float = 0.25
    sample_size: int = sampling.DEFAULT_SIZE  # current-week rows sent to Evidently
    reference_size: int = 5000  # reference rows sent to Evidently
    seed: int = 0
    min_township_rows: int = 50  # fewer reference rows of a township: compare with the county
    # 万元 unit error: the township's income median is 1/10,000 of the reference (within 20x).
    unit_ratio_low: float = 5e-6
    unit_ratio_high: float = 2e-3
    # A local shock: the township's share of households hit by a disaster in 13 weeks.
    shock_hit_share: float = 0.25
    shock_hit_rise: float = 0.15
    # A subgroup (elderly households) moving while the rest does not: a population change.
    subgroup_shift: float = 0.05  # median transfer share, absolute
    subgroup_contrast: float = 3.0  # elderly shift / other households' shift
    revision_share: float = 0.2  # share of a group's income records rewritten since last week
    missing_rise: float = 0.05  # absolute rise of a feature's missing share
    out_of_range_share: float = 0.02  # share of values outside the reference's range (+50 % span)


def as_thresholds(given: Thresholds | dict[str, Any] | None) -> Thresholds:
    if given is None:
        return Thresholds()
    if isinstance(given, Thresholds):
        return given
    known = {f.name for f in fields(Thresholds)}
    unknown = set(given) - known
    if unknown:
        raise ValueError(f"unknown drift thresholds: {sorted(unknown)}")
    return replace(Thresholds(), **given)
