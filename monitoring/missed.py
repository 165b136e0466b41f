"""Missed households: the exclusion error in the field.

A household that entered monitoring in a period without having been on any list fanpin makes (the
model's published list or a department warning) in the ``LOOKBACK_DAYS`` before its entry was
missed by the lists - found by a self-report, a village check, or not through fanpin at all. For
each, its rank at the last published cutoff before the entry says whether the model saw it coming
(a high rank the list's capacity cut off) or not at all. The share missed, with its Wilson
interval, is the headline the county reads beside the model's recall (``monitoring.judgement``).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd

from monitoring.ledger import LIST_SOURCES, Ledger, all_leads, plain, scored_that_week
from monitoring.verdicts import wilson

LOOKBACK_DAYS = 364  # 52 weeks
TOP_SHARE = 0.10
TABLE_COLUMNS = ["household_id", "township", "risk_type", "entry_date", "last_week", "rank", "scored",
                 "probability", "top_decile", "found_by"]
SUMMARY_COLUMNS = ["township", "risk_type", "entered", "missed", "share", "low", "high"]


def _last_rank(scores: pd.DataFrame, household: str, before: date) -> dict:
    mine = scores.loc[(scores["household_id"] == household) & (scores["cutoff"] < before)]
    if mine.empty:
        return {"last_week": None, "rank": None, "scored": None, "probability": None, "top_decile": None}
    last = mine.sort_values("cutoff").iloc[-1]
    scored = scored_that_week(scores, last)
    rank = int(last["rank"])
    return {"last_week": last["week"], "rank": rank, "scored": scored, "probability": float(last["probability"]),
            "top_decile": rank <= math.ceil(scored * TOP_SHARE)}


def missed_households(ledger: Ledger, start: date, end: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The households that entered monitoring between ``start`` and ``end`` (inclusive) unlisted.

    Returns:
        ``(table, summary)``: one row per missed household (``TABLE_COLUMNS``: its rank at the last
        cutoff before entry among the households scored that week, whether that was the top tenth,
        and the source of the case that found it, if any); and per township and first risk type,
        then per township (risk_type None) and for the county (both None), households entered,
        missed, the share missed and its Wilson 95% interval.
    """
    entries = ledger.entries.loc[(ledger.entries["entry_date"] >= start) & (ledger.entries["entry_date"] <= end)]
    entries = entries.sort_values("entry_date").drop_duplicates("household_id")
    leads = all_leads(ledger)
    listed = leads.loc[leads["source"].isin(LIST_SOURCES)]
    cases = ledger.cases.sort_values("lead_date")
    rows, flags = [], []
    for entry in entries.itertuples(index=False):
        before = listed.loc[(listed["household_id"] == entry.household_id) & (listed["lead_date"] < entry.entry_date)
                            & (listed["lead_date"] >= entry.entry_date - timedelta(days=LOOKBACK_DAYS))]
        missed = before.empty
        flags.append(missed)
        if not missed:
            continue
        found = cases.loc[(cases["household_id"] == entry.household_id) & (cases["lead_date"] <= entry.entry_date)]
        rows.append({"household_id": entry.household_id, "township": entry.township, "risk_type": entry.risk_type,
                     "entry_date": entry.entry_date, **_last_rank(ledger.scores, entry.household_id, entry.entry_date),
                     "found_by": None if found.empty else found.iloc[-1]["source"]})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    marked = entries.assign(missed=flags)
    summary = []
    for keys in (["township", "risk_type"], ["township"], []):
        groups = marked.groupby(keys, sort=True, dropna=False) if keys else [((), marked)]
        for key, part in groups:
            key = key if isinstance(key, tuple) else (key,)
            n, k = len(part), int(part["missed"].sum())
            low, high = wilson(k, n)
            summary.append({"township": None, "risk_type": None, **dict(zip(keys, key, strict=True)),
                            "entered": n, "missed": k, "share": k / n if n else None, "low": low, "high": high})
    if marked.empty:
        summary = [{"township": None, "risk_type": None, "entered": 0, "missed": 0, "share": None, "low": None,
                    "high": None}]
    return plain(table), plain(pd.DataFrame(summary, columns=SUMMARY_COLUMNS))


def missed_share(summary: pd.DataFrame) -> dict:
    """The county's row of :func:`missed_households`' summary as a plain dict (for JSON)."""
    county = summary.loc[summary["township"].isna() & summary["risk_type"].isna()].iloc[0]
    return {k: (None if pd.isna(county[k]) else county[k]) for k in ("entered", "missed", "share", "low", "high")}
