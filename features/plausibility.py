"""Valid but implausible rows: flagged for a person to check, still used.

A flag is not a quarantine: the value passes the contract, but experience says it is usually a
data-entry slip. The ones fanpin checks:

- income about 10,000x below the household's own other years, or under 50 yuan a year in a
  household with able labour: what entering income in 万元 instead of 元 looks like;
- a member older than 110 (older than 120 is impossible and quarantined by the reader);
- more than 15 current members in one household;
- months of migrant work with the place of work "未务工".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from features import quarantine as qt
from features.id_sets import id_set, in_id_set

# Able labour for the 万元 check: people who could earn more than 50 yuan a year.
_ABLE_LABOUR = ("ordinary", "skilled")
_INCOME_PARTS = ("wage_income", "business_income", "property_income", "transfer_income")
_MAX_MEMBERS = 15


@dataclass(frozen=True)
class Source:
    """Where a table's rows came from: to report the file, row number and value as written."""

    table: str
    file: str
    raw: pd.DataFrame  # contract column names, cells as written, indexed by row number


def age(members: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Age in years at the end of the row's validity (or at the export date for current rows)."""
    at = members["valid_to"].fillna(as_of).clip(upper=as_of)
    return (at - members["birth_date"]).dt.days / 365.25


def flag_lines(
    sources: Mapping[str, Source],
    valid: Mapping[str, pd.DataFrame],
    history: Mapping[str, pd.DataFrame],
    as_of: pd.Timestamp,
) -> list[pd.DataFrame]:
    """Flag lines for the valid rows of the tables read (see the module docstring for which).

    Args:
        sources: table -> where its rows came from (file name and raw cells by row number).
        valid: table -> valid typed rows, indexed by row number.
        history: tables known from before (may be empty), for the household's own past.
        as_of: the export date.
    """
    out: list[pd.DataFrame] = []

    def add(p: Source, mask: pd.Series, column: str, reason: str, values=None) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            rows = mask.index[mask.to_numpy()]
            shown = p.raw.loc[rows, column] if values is None else values.loc[rows]
            out.append(qt.lines(p.file, rows, column, shown, reason))

    members = valid.get("members")
    if members is not None and len(members):
        p = sources["members"]
        add(p, age(members, as_of) > 110, "birth_date", qt.AGE_OVER_110)
        add(p, (members["migrant_months"] > 0) & (members["migrant_place"] == "none"),
            "migrant_place", qt.MIGRANT_WITHOUT_PLACE)
        current = members[members["valid_to"].isna()]
        size = current.groupby("household_id").size()
        crowded = set(size.index[size > _MAX_MEMBERS])
        if crowded:
            households = valid.get("households")
            in_households = set()
            if households is not None and "households" in sources:
                mask = households["household_id"].isin(crowded) & households["valid_to"].isna()
                in_households = set(households.loc[mask, "household_id"])
                add(sources["households"], mask, "household_id", qt.TOO_MANY_MEMBERS)
            rest = crowded - in_households
            add(p, current["household_id"].isin(rest).reindex(members.index, fill_value=False),
                "household_id", qt.TOO_MANY_MEMBERS)

    surveys = valid.get("income_surveys")
    if surveys is not None and len(surveys):
        out += _income_flags(sources["income_surveys"], surveys, valid, history)
    return out


def _income_flags(p: Source, surveys: pd.DataFrame, valid: Mapping[str, pd.DataFrame],
                  history: Mapping[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """A 万元 unit error: income ~10,000x below the household's other years, or absurdly tiny."""
    total = surveys[list(_INCOME_PARTS)].sum(axis=1, min_count=1)
    largest = surveys[list(_INCOME_PARTS)].fillna(-1).idxmax(axis=1)

    # The household's typical income over its years, from history and from this file. The row
    # itself is one of them, which is fine: a unit error is 10,000x, so with two years the median
    # (their mean) is still ~5,000x the wrong one, and a single year is never flagged.
    years = [surveys[["household_id", "survey_year"]].assign(ref=total)]
    past_surveys = history.get("income_surveys")
    if past_surveys is not None and len(past_surveys):
        years.append(past_surveys[["household_id", "survey_year"]].assign(
            ref=past_surveys[list(_INCOME_PARTS)].sum(axis=1, min_count=1)))
    years = pd.concat(years, ignore_index=True).drop_duplicates(["household_id", "survey_year"])
    median = years.groupby("household_id")["ref"].median()
    typical = surveys["household_id"].map(median).astype("float64")
    far_below = (total > 0) & (typical >= 1000) & (typical / total >= 1000)

    able = []
    for members in (valid.get("members"), history.get("members")):
        if members is not None and len(members):
            current_able = members["valid_to"].isna() & members["labour_skill"].isin(_ABLE_LABOUR)
            able.append(members.loc[current_able, "household_id"])
    tiny = (total > 0) & (total < 50) & in_id_set(surveys["household_id"], id_set(*able))

    out = []
    for mask, reason in ((far_below, qt.INCOME_FAR_BELOW_HISTORY),
                         (tiny & ~far_below, qt.INCOME_TINY_WITH_LABOUR)):
        mask = mask.fillna(False).astype(bool)
        for column in _INCOME_PARTS:
            rows = surveys.index[(mask & (largest == column)).to_numpy()]
            if len(rows):
                out.append(qt.lines(p.file, rows, column, p.raw.loc[rows, column], reason))
    return out
