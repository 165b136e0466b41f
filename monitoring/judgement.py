"""The model, the officers, and both: what the officers' judgement adds to the list.

Pure (``monitoring.ledger`` tables in). For a cohort of published weeks (first cutoff ``c0`` to
last cutoff ``c1``), the population is the households scored and not under monitoring at ``c0``;
a household is positive when it entered monitoring after ``c0`` and by ``c1`` + 52 weeks (the
model's label window, ``monitoring.outcomes``). Three ways of naming households at risk:
- ``model``: on the published list in any week of the cohort;
- ``officers``: an officer's verdict "at risk" from ``c0`` to ``c1`` + ``VISIT_DAYS`` (households
  they confirmed, listed or not - the ones they added count);
- ``final``: the county identified the household (an overturning appeal counts, both ways) from
  ``c0`` to ``c1`` + ``FINAL_DAYS``.
Recall and precision of each with Wilson 95% intervals, per township and for the county. Until the
cohort's window has passed (``data_end``) no recall is given: :func:`judgement` says when it will be.

In the field, monitoring entry follows the county's decision, so ``final`` is partly its own
outcome: read its precision as consistency, and its recall as how much of what entered came
through a decision of the cohort. Misses by override (:func:`overrides`): households an officer
judged "no risk" that entered monitoring within 6 and 12 months of the verdict, counted only once
that many months have passed, per township and group (top tenth of the county's ranks at the last
cutoff before the verdict, or other), with the reason the officer gave for each top-tenth one.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd

from monitoring.ledger import Ledger, all_verdicts, final_decisions, plain, scored_that_week
from monitoring.outcomes import HORIZON_WEEKS
from monitoring.verdicts import wilson

VISIT_DAYS = 7
FINAL_DAYS = 60  # a decision (or an appeal) on a lead of the cohort's last week
WAYS = ("model", "officers", "final")
OVERRIDE_MONTHS = (6, 12)
TOP_SHARE = 0.10
COLUMNS = ["township", "way", "positives", "flagged", "hits", "recall", "recall_low", "recall_high",
           "precision", "precision_low", "precision_high"]


def _rate(k: int, n: int) -> tuple[float | None, float | None, float | None]:
    low, high = wilson(k, n)
    return (k / n if n else None), low, high


def judgement(ledger: Ledger, first_cutoff: date, last_cutoff: date, data_end: date,
              horizon_weeks: int = HORIZON_WEEKS) -> dict:
    """Recall and precision of the model, the officers and the final decisions over a cohort.

    Returns:
        ``{"matured": bool, "matures_on": date, "table": DataFrame[COLUMNS]}``; the table is
        empty while the cohort's outcomes have not matured (``data_end`` before ``matures_on``).
    """
    window_end = last_cutoff + timedelta(weeks=horizon_weeks)
    if window_end > data_end:
        return {"matured": False, "matures_on": window_end, "table": pd.DataFrame(columns=COLUMNS)}
    scores = ledger.scores
    start = scores.loc[(scores["cutoff"] == first_cutoff) & scores["eligible"].astype(bool)]
    population = start[["household_id", "township"]].drop_duplicates("household_id")
    ids = set(population["household_id"])
    entries = ledger.entries
    positive = set(entries.loc[(entries["entry_date"] > first_cutoff) & (entries["entry_date"] <= window_end),
                               "household_id"]) & ids
    cohort = scores.loc[(scores["cutoff"] >= first_cutoff) & (scores["cutoff"] <= last_cutoff)]
    verdicts = all_verdicts(ledger)
    final = final_decisions(ledger)
    flagged = {
        "model": set(cohort.loc[cohort["on_list"].astype(bool), "household_id"]),
        "officers": set(verdicts.loc[(verdicts["label"] == 1) & (verdicts["verdict_date"] >= first_cutoff)
                                     & (verdicts["verdict_date"] <= last_cutoff + timedelta(days=VISIT_DAYS)),
                                     "household_id"]),
        "final": _identified(final, first_cutoff, last_cutoff + timedelta(days=FINAL_DAYS)),
    }
    rows = []
    for township, part in [*population.groupby("township", sort=True), (None, population)]:
        mine = set(part["household_id"])
        pos = positive & mine
        for way in WAYS:
            named = flagged[way] & mine
            hits = len(named & pos)
            recall, r_low, r_high = _rate(hits, len(pos))
            precision, p_low, p_high = _rate(hits, len(named))
            rows.append({"township": township, "way": way, "positives": len(pos), "flagged": len(named),
                         "hits": hits, "recall": recall, "recall_low": r_low, "recall_high": r_high,
                         "precision": precision, "precision_low": p_low, "precision_high": p_high})
    return {"matured": True, "matures_on": window_end, "table": plain(pd.DataFrame(rows, columns=COLUMNS))}


def _identified(final: pd.DataFrame, start: date, end: date) -> set:
    """Households whose last word in the window is "identified" (an appeal may take it back)."""
    inside = final.loc[(final["decided_on"] >= start) & (final["decided_on"] <= end)].sort_values("decided_on")
    last = inside.drop_duplicates("household_id", keep="last")
    return set(last.loc[last["identified"], "household_id"])


def _months(day: date, months: int) -> date:
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


def _group(scores: pd.DataFrame, household: str, on: date) -> str:
    mine = scores.loc[(scores["household_id"] == household) & (scores["cutoff"] <= on)]
    if mine.empty:
        return "other"
    last = mine.sort_values("cutoff").iloc[-1]
    scored = scored_that_week(scores, last)
    return "top_decile" if int(last["rank"]) <= math.ceil(scored * TOP_SHARE) else "other"


def overrides(ledger: Ledger, start: date, end: date, data_end: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Misses by override among the "no risk" verdicts dated ``start`` to ``end``.

    Returns:
        ``(table, rows)``: per township and group, then per township (group None) and the county
        (both None): "no risk" verdicts, and for each of ``OVERRIDE_MONTHS`` the verdicts old enough
        to tell (``matured_6`` ...), those followed by an entry (``entered_6`` ...), their share and
        Wilson interval (None until some have matured); and one row per verdict (household,
        township, group, date, the officer's reason, entered within 6 / 12 months or None when not
        yet known).
    """
    verdicts = all_verdicts(ledger)
    no_risk = verdicts.loc[(verdicts["label"] == 0) & (verdicts["verdict_date"] >= start)
                           & (verdicts["verdict_date"] <= end)].drop_duplicates("household_id")
    townships = pd.concat([ledger.scores[["household_id", "township"]], ledger.leads[["household_id", "township"]],
                           ledger.cases[["household_id", "township"]]]).drop_duplicates("household_id")
    township_of = dict(zip(townships["household_id"], townships["township"], strict=True))
    entries = ledger.entries
    rows = []
    for v in no_risk.itertuples(index=False):
        row = {"household_id": v.household_id, "township": township_of.get(v.household_id),
               "group": _group(ledger.scores, v.household_id, v.verdict_date), "verdict_date": v.verdict_date,
               "username": v.username, "note": v.note}
        mine = entries.loc[(entries["household_id"] == v.household_id) & (entries["entry_date"] > v.verdict_date)]
        for m in OVERRIDE_MONTHS:
            horizon = _months(v.verdict_date, m)
            row[f"entered_{m}"] = None if horizon > data_end else bool((mine["entry_date"] <= horizon).any())
        rows.append(row)
    detail = pd.DataFrame(rows, columns=["household_id", "township", "group", "verdict_date", "username", "note",
                                         *[f"entered_{m}" for m in OVERRIDE_MONTHS]])
    summary = []
    for keys in (["township", "group"], ["township"], []):
        groups = detail.groupby(keys, sort=True, dropna=False) if keys else [((), detail)]
        for key, part in groups:
            key = key if isinstance(key, tuple) else (key,)
            out = {"township": None, "group": None, **dict(zip(keys, key, strict=True)), "no_risk": len(part)}
            for m in OVERRIDE_MONTHS:
                known = part[f"entered_{m}"].dropna()
                k, n = int(known.astype(bool).sum()), len(known)
                share, low, high = _rate(k, n)
                out.update({f"matured_{m}": n, f"entered_{m}": k, f"share_{m}": share, f"low_{m}": low,
                            f"high_{m}": high})
            summary.append(out)
    return plain(pd.DataFrame(summary)), plain(detail)
