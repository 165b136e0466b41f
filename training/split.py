"""Time split: train on earlier cutoffs, calibrate on later ones, test on the latest matured ones.

A row's label looks ``horizon`` weeks past its cutoff, so two parts are independent only when the
later part starts at least one horizon after the earlier part's last cutoff: otherwise the
calibration rows' futures overlap the training labels (the same illness, the same entry), and the
test would reward memory, not foresight. The gap is therefore one horizon between every two parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

WEEK = pd.Timedelta(weeks=1)


@dataclass(frozen=True)
class TimeSplit:
    """Which cutoffs belong to which part."""

    train: tuple[pd.Timestamp, ...]
    calibrate: tuple[pd.Timestamp, ...]
    test: tuple[pd.Timestamp, ...]
    gap_weeks: int
    horizon_weeks: int

    def part_of(self, cutoffs: pd.Series) -> pd.Series:
        """'train' / 'calibrate' / 'test' / 'gap' for each cutoff."""
        mapping = {**{c: "train" for c in self.train}, **{c: "calibrate" for c in self.calibrate},
                   **{c: "test" for c in self.test}}
        return pd.Series(cutoffs).map(mapping).fillna("gap")

    def check(self) -> None:
        """Raise if any later part starts within one horizon of an earlier part's last cutoff."""
        for earlier, later, name in ((self.train, self.calibrate, "train/calibrate"),
                                     (self.calibrate, self.test, "calibrate/test")):
            if not earlier or not later:
                raise ValueError(f"empty part in the {name} split")
            gap = (min(later) - max(earlier)) / WEEK
            if gap < self.horizon_weeks:
                raise ValueError(f"{name}: only {gap:.0f} weeks between parts, need {self.horizon_weeks}")

    def as_params(self) -> dict[str, str | int]:
        """Flat description for MLflow params."""
        out: dict[str, str | int] = {"split_gap_weeks": self.gap_weeks, "split_horizon_weeks": self.horizon_weeks}
        for name, part in (("train", self.train), ("calibrate", self.calibrate), ("test", self.test)):
            out[f"split_{name}_first"] = str(min(part).date())
            out[f"split_{name}_last"] = str(max(part).date())
            out[f"split_{name}_cutoffs"] = len(part)
        return out

    def describe(self) -> str:
        """One line per part, for people."""
        lines = []
        for zh, name, part in (("训练", "train", self.train), ("校准/验证", "calibrate", self.calibrate),
                               ("测试", "test", self.test)):
            lines.append(f"{zh} / {name}: {min(part).date()} .. {max(part).date()} ({len(part)} cutoffs)")
        lines.append(f"间隔 / gap between parts: {self.gap_weeks} weeks (label horizon {self.horizon_weeks} weeks)")
        return "\n".join(lines)


def time_split(
    cutoffs: list[pd.Timestamp],
    *,
    horizon_weeks: int = 52,
    test_weeks: int = 26,
    calibrate_weeks: int = 26,
    gap_weeks: int | None = None,
) -> TimeSplit:
    """Split sorted matured cutoffs into train / calibrate / test with a gap between parts.

    Args:
        cutoffs: the matured cutoffs.
        horizon_weeks: the label horizon.
        test_weeks: span of the test part, ending at the newest cutoff.
        calibrate_weeks: span of the calibration part, ending one gap before the test part.
        gap_weeks: weeks from one part's last cutoff to the next part's first (default: horizon;
            smaller values are refused).
    """
    gap = horizon_weeks if gap_weeks is None else gap_weeks
    if gap < horizon_weeks:
        raise ValueError(f"gap of {gap} weeks is shorter than the label horizon ({horizon_weeks})")
    cs = sorted(pd.Timestamp(c) for c in cutoffs)
    if not cs:
        raise ValueError("no matured cutoffs")
    last = cs[-1]
    test = [c for c in cs if c > last - test_weeks * WEEK]
    calib_end = min(test) - gap * WEEK
    calibrate = [c for c in cs if calib_end - calibrate_weeks * WEEK < c <= calib_end]
    if not calibrate:
        raise ValueError(_too_short(cs, test_weeks, calibrate_weeks, gap))
    train_end = min(calibrate) - gap * WEEK
    train = [c for c in cs if c <= train_end]
    if not train:
        raise ValueError(_too_short(cs, test_weeks, calibrate_weeks, gap))
    split = TimeSplit(tuple(train), tuple(calibrate), tuple(test), gap, horizon_weeks)
    split.check()
    return split


def _too_short(cs: list[pd.Timestamp], test: int, calib: int, gap: int) -> str:
    span = (cs[-1] - cs[0]) / WEEK
    return (
        f"history too short for a time split: matured cutoffs span {span:.0f} weeks "
        f"({cs[0].date()} .. {cs[-1].date()}), need more than {test + calib + 2 * gap} "
        "(test + calibrate + two gaps of one horizon) / 历史数据太短，无法按时间切分"
    )


def served_split(
    cutoffs: list[pd.Timestamp], *, horizon_weeks: int = 52, calibrate_weeks: int = 26, gap_weeks: int | None = None,
    holdout_weeks: int = 0,
) -> tuple[tuple[pd.Timestamp, ...], tuple[pd.Timestamp, ...], tuple[pd.Timestamp, ...]]:
    """(train, calibrate, holdout) cutoffs of the model that is served: the evaluated procedure
    refit on the matured cutoffs but the newest ``holdout_weeks`` (a quarter it never sees, on
    which the gates check it), calibrated on the ``calibrate_weeks`` before them, with the same gap
    of one horizon between the trees' last cutoff and the calibration window (as evaluated)."""
    gap = horizon_weeks if gap_weeks is None else gap_weeks
    cs = sorted(pd.Timestamp(c) for c in cutoffs)
    if not cs:
        raise ValueError("no matured cutoffs")
    holdout = tuple(c for c in cs if c > cs[-1] - holdout_weeks * WEEK) if holdout_weeks > 0 else ()
    seen = [c for c in cs if c not in set(holdout)]
    if not seen:
        raise ValueError(_too_short(cs, holdout_weeks, calibrate_weeks, gap))
    calibrate = tuple(c for c in seen if c > seen[-1] - calibrate_weeks * WEEK)
    train = tuple(c for c in seen if c <= min(calibrate) - gap * WEEK)
    if not train:
        raise ValueError(_too_short(cs, holdout_weeks, calibrate_weeks, gap))
    return train, calibrate, holdout


def configured_split(tables: dict[str, pd.DataFrame], config: dict) -> tuple[list[pd.Timestamp], TimeSplit]:
    """The matured cutoffs of a county history and their time split, as a training config asks
    (``horizon_weeks``, ``cutoff_step_weeks``, ``warmup_weeks`` and its ``split:`` block)."""
    from training.dataset import cutoff_schedule, data_end, data_start

    horizon = int(config["horizon_weeks"])
    cutoffs = cutoff_schedule(data_start(tables), data_end(tables), step_weeks=int(config["cutoff_step_weeks"]),
                              horizon_weeks=horizon, warmup_weeks=int(config["warmup_weeks"]))
    sp = config["split"]
    return cutoffs, time_split(cutoffs, horizon_weeks=horizon, test_weeks=int(sp["test_weeks"]),
                               calibrate_weeks=int(sp["calibrate_weeks"]), gap_weeks=int(sp["gap_weeks"]))
