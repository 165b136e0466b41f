"""Training rows: the household frame at many past cutoffs, each labelled with what happened next.

A row is (household, cutoff). Its features come from ``build_household_frame`` at that cutoff, the
same function the weekly job uses, so training and serving cannot skew. Its label is whether the
household *entered monitoring* within the horizon after the cutoff: ``entry_date`` in
``(cutoff, cutoff + horizon]``. Households already under monitoring at the cutoff are left out
(they are being helped; the warning is for the others), and only cutoffs whose whole label window
lies inside the data are used (matured labels), so no label is "not yet known" mistaken for 0.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator

import pandas as pd

from features.household_frame import build_household_frame
from features.policy import Policy

WEEK = pd.Timedelta(weeks=1)
LABEL = "label"
ENTRY = "next_entry_date"

_DATE_COLUMNS = {
    "households": ("valid_from", "valid_to"),
    "members": ("valid_from", "valid_to"),
    "income_surveys": ("survey_date",),
    "events": ("event_date",),
    "outcomes": ("entry_date", "elimination_date"),
}


def data_end(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The last date the registry has seen anything happen (the 'as of' date of the history).

    Future-dated ``valid_to`` values never occur in a registry, so the maximum over every date
    column is the date up to which outcomes are observed.
    """
    latest = [
        tables[name][col].max()
        for name, cols in _DATE_COLUMNS.items()
        if name in tables
        for col in cols
        if col in tables[name].columns
    ]
    latest = [d for d in latest if pd.notna(d)]
    if not latest:
        raise ValueError("the tables hold no dates")
    return pd.Timestamp(max(latest)).normalize()


def data_start(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The first date the registry holds households."""
    return pd.Timestamp(tables["households"]["valid_from"].min()).normalize()


def cutoff_schedule(
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    step_weeks: int = 4,
    horizon_weeks: int = 52,
    warmup_weeks: int = 52,
) -> list[pd.Timestamp]:
    """Matured cutoffs every ``step_weeks``, anchored at the newest one.

    The newest cutoff is ``end - horizon`` (its label window ends on the last observed day); the
    oldest leaves ``warmup_weeks`` of history before it so 52-week event windows and last year's
    survey exist.
    """
    last = pd.Timestamp(end) - horizon_weeks * WEEK
    first = pd.Timestamp(start) + warmup_weeks * WEEK
    cutoffs = []
    c = last
    while c >= first:
        cutoffs.append(c)
        c -= step_weeks * WEEK
    return sorted(cutoffs)


def next_entry(outcomes: pd.DataFrame, household_ids: pd.Series, cutoff: pd.Timestamp) -> pd.Series:
    """Each household's first monitoring entry strictly after the cutoff (NaT when none)."""
    later = outcomes.loc[outcomes["entry_date"] > cutoff, ["household_id", "entry_date"]]
    if later.empty:
        return pd.Series(pd.NaT, index=household_ids.index, dtype="datetime64[ns]")
    first = later.groupby("household_id")["entry_date"].min()
    return household_ids.map(first)


def label_frame(
    frame: pd.DataFrame, outcomes: pd.DataFrame, cutoff: pd.Timestamp, horizon_weeks: int = 52
) -> pd.DataFrame:
    """Drop households under monitoring at the cutoff and attach the label and next entry date."""
    eligible = frame.loc[~frame["under_monitoring"].to_numpy(dtype=bool)].reset_index(drop=True)
    entry = next_entry(outcomes, eligible["household_id"], cutoff)
    eligible[ENTRY] = entry.to_numpy()
    eligible[LABEL] = (entry <= cutoff + horizon_weeks * WEEK).fillna(False).to_numpy(dtype=int)
    return eligible


_SHARED: dict = {}


def _build_shared(cutoff: pd.Timestamp) -> pd.DataFrame:
    return build_household_frame(_SHARED["tables"], cutoff, _SHARED["policy"])


def iter_frames(
    tables: dict[str, pd.DataFrame], policy: Policy, cutoffs: Iterable[pd.Timestamp], workers: int = 1
) -> Iterator[tuple[pd.Timestamp, pd.DataFrame]]:
    """(cutoff, household frame) for each cutoff, in order, built by ``workers`` processes.

    Frames at different cutoffs are independent, and building them is most of training's time;
    forked workers share the tables without copying them.
    """
    cutoffs = [pd.Timestamp(c) for c in cutoffs]
    if workers <= 1 or len(cutoffs) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for c in cutoffs:
            yield c, build_household_frame(tables, c, policy)
        return
    _SHARED.update(tables=tables, policy=policy)
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(cutoffs))) as pool:
            yield from zip(cutoffs, pool.imap(_build_shared, cutoffs), strict=True)
    finally:
        _SHARED.clear()


def build_training_rows(
    tables: dict[str, pd.DataFrame],
    policy: Policy,
    cutoffs: Iterable[pd.Timestamp],
    *,
    horizon_weeks: int = 52,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Household frames at every cutoff, eligible rows only, with ``label`` and ``next_entry_date``.

    Args:
        tables: contract tables (the full history; the frame builder ignores what is after a cutoff).
        policy: the county policy (lines per year).
        cutoffs: past cutoffs whose label windows have matured (see :func:`cutoff_schedule`).
        horizon_weeks: the label window after each cutoff.
        workers: processes building frames in parallel.
        progress: optional callback (done, total) for a progress bar.

    Returns:
        The concatenated frames (``ID_COLUMNS`` + ``FRAME_COLUMNS`` + label columns), ordered by
        cutoff then household_id.
    """
    cutoffs = list(cutoffs)
    end = data_end(tables)
    for cutoff in cutoffs:
        if pd.Timestamp(cutoff) + horizon_weeks * WEEK > end:
            raise ValueError(f"cutoff {pd.Timestamp(cutoff).date()} has not matured: "
                             f"its label window ends after {end.date()}")
    parts = []
    for i, (cutoff, frame) in enumerate(iter_frames(tables, policy, cutoffs, workers)):
        parts.append(label_frame(frame, tables["outcomes"], cutoff, horizon_weeks))
        if progress is not None:
            progress(i + 1, len(cutoffs))
    if not parts:
        raise ValueError("no cutoffs: the history is too short for one matured label window")
    rows = pd.concat(parts, ignore_index=True)
    return rows


def base_rate_by_cutoff(rows: pd.DataFrame) -> pd.Series:
    """Share of eligible households entering monitoring within the horizon, per cutoff."""
    return rows.groupby("cutoff")[LABEL].mean()

