"""The county's ledger as plain tables, and the household timeline the follow-through figures read.

Pure: the store (``serving``) reads its tables into a :class:`Ledger`; the figures in
``monitoring.follow_through``, ``monitoring.missed`` and ``monitoring.judgement`` take it. Dates are
``datetime.date``; each table's columns are named in ``COLUMNS`` and checked by :func:`check`.

Tables:
- ``leads``: a household on the model's published list or warned by a department in a week, or a
  case's own lead (self-report, village check): ``household_id, township, village, lead_date,
  source`` (``model | department | self_report | village_check``). The cases' leads are added by
  :func:`all_leads`, so a self-reported household is a lead without being on any list.
- ``verdicts``: what an officer found at a visit: ``household_id, verdict_date, outcome`` (a
  ``features.vocabulary.FOLLOW_UP_OUTCOME`` code), ``username``, ``note`` (the reason given).
  A case's home check is a verdict too (:func:`all_verdicts`).
- ``cases`` and ``steps``: ``serving.cases`` rows (``case_id, household_id, township, village,
  source, lead_date, decided_on, closed_on, outcome``; ``case_id, action, step_date, username,
  detail``). A case row is as the case stands now: after an appeal that overturned the county's
  decision (an ``appeal_decision`` step with ``overturned``) its outcome is the reversed one.
- ``entries``: entries into monitoring (the registry's ``outcomes``): ``household_id, township,
  entry_date, risk_type`` (the first risk type).
- ``scores``: the published weeks' ranks: ``week, cutoff, household_id, township, rank,
  probability, eligible`` (not under monitoring at the cutoff), ``on_list``; optionally ``scored``
  (households scored that week, when only some of the week's rows are given).

A lead starts an *episode*: a household listed week after week is one lead from its first week
(leads at most ``EPISODE_GAP_DAYS`` apart join), so the funnel counts each new lead once and a
visit to a household listed for months is not counted again as missing every week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from features.vocabulary import FOLLOW_UP_LABEL

EPISODE_GAP_DAYS = 7
LIST_SOURCES = frozenset({"model", "department"})  # the lists fanpin makes (the other two are found by people)
# Which source names an episode when several arrive together (a department record is the firmest).
SOURCE_ORDER = ("department", "model", "self_report", "village_check")
COLUMNS = {
    "leads": ["household_id", "township", "village", "lead_date", "source"],
    "verdicts": ["household_id", "verdict_date", "outcome", "username", "note"],
    "cases": ["case_id", "household_id", "township", "village", "source", "lead_date", "decided_on",
              "closed_on", "outcome"],
    "steps": ["case_id", "action", "step_date", "username", "detail"],
    "entries": ["household_id", "township", "entry_date", "risk_type"],
    "scores": ["week", "cutoff", "household_id", "township", "rank", "probability", "eligible", "on_list"],
}
DATE_COLUMNS = {"leads": ["lead_date"], "verdicts": ["verdict_date"], "cases": ["lead_date"],
                "steps": ["step_date"], "entries": ["entry_date"], "scores": ["cutoff"]}


class LedgerError(ValueError):
    """A ledger table is missing a column or holds a value the figures cannot use."""


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS[name])


@dataclass(frozen=True)
class Ledger:
    leads: pd.DataFrame = field(default_factory=lambda: _empty("leads"))
    verdicts: pd.DataFrame = field(default_factory=lambda: _empty("verdicts"))
    cases: pd.DataFrame = field(default_factory=lambda: _empty("cases"))
    steps: pd.DataFrame = field(default_factory=lambda: _empty("steps"))
    entries: pd.DataFrame = field(default_factory=lambda: _empty("entries"))
    scores: pd.DataFrame = field(default_factory=lambda: _empty("scores"))


def check(ledger: Ledger) -> Ledger:
    """The ledger with every table's columns present and dates set (LedgerError naming table, row
    and column otherwise)."""
    for name, columns in COLUMNS.items():
        table = getattr(ledger, name)
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise LedgerError(f"{name}: missing column {missing[0]}")
        for column in DATE_COLUMNS[name]:
            bad = table[column].map(lambda v: not isinstance(v, date))
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0])
                raise LedgerError(f"{name}: row {row}, column {column}: not a date ({table[column].iloc[row]!r})")
    for name in ("leads", "cases"):
        table = getattr(ledger, name)
        bad = ~table["source"].isin(SOURCE_ORDER)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise LedgerError(f"{name}: row {row}, column source: unknown source {table['source'].iloc[row]!r}")
    return ledger


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def all_leads(ledger: Ledger) -> pd.DataFrame:
    """The leads with each case's own lead (same household, date and source) added."""
    cases = ledger.cases[["household_id", "township", "village", "lead_date", "source"]]
    return pd.concat([ledger.leads[COLUMNS["leads"]], cases], ignore_index=True).drop_duplicates(
        ["household_id", "lead_date", "source"])


def all_verdicts(ledger: Ledger) -> pd.DataFrame:
    """Visit verdicts with the cases' home checks as verdicts, each with its ``label`` (1 at risk,
    0 no risk, None no finding), in date order."""
    home = ledger.steps.loc[ledger.steps["action"] == "home_check"].merge(
        ledger.cases[["case_id", "household_id"]], on="case_id")
    checks = pd.DataFrame({
        "household_id": home["household_id"], "verdict_date": home["step_date"],
        "outcome": [("confirmed_at_risk" if (d or {}).get("at_risk") else "not_at_risk") for d in home["detail"]],
        "username": home["username"],
        "note": [(d or {}).get("note", "") for d in home["detail"]],
    })
    out = pd.concat([ledger.verdicts[COLUMNS["verdicts"]], checks], ignore_index=True)
    out["label"] = out["outcome"].map(FOLLOW_UP_LABEL)
    return out.sort_values(["verdict_date", "household_id"], kind="stable").reset_index(drop=True)


IDENTIFIED = ("identified", "eliminated", "social_security")


def first_decisions(ledger: Ledger) -> pd.Series:
    """Case -> the date of the county's first decision (its ``county_decision`` step; the case row's
    ``decided_on`` when the steps do not hold one): what the 15-day clock judges, whatever an
    appeal did later."""
    steps = ledger.steps.loc[ledger.steps["action"] == "county_decision"]
    first = steps.groupby("case_id")["step_date"].min()
    decided = ledger.cases.loc[ledger.cases["decided_on"].notna()].set_index("case_id")["decided_on"]
    return first.combine_first(decided) if len(first) else decided


def final_decisions(ledger: Ledger) -> pd.DataFrame:
    """Each decided case's final word: ``case_id, household_id, identified, decided_on``. The case
    row's outcome is already the final one; the date is that of the answer when an appeal
    overturned the county's decision, else the county's decision."""
    decided = ledger.cases.loc[ledger.cases["decided_on"].notna()].copy()
    decided["identified"] = decided["outcome"].isin(IDENTIFIED)
    decided["decided_on"] = decided["case_id"].map(first_decisions(ledger)).fillna(decided["decided_on"])
    answers = ledger.steps.loc[ledger.steps["action"] == "appeal_decision"]
    for step in answers.sort_values("step_date").itertuples(index=False):
        if (step.detail or {}).get("overturned"):
            decided.loc[decided["case_id"] == step.case_id, "decided_on"] = step.step_date
    return decided[["case_id", "household_id", "identified", "decided_on"]].reset_index(drop=True)


def episodes(ledger: Ledger) -> pd.DataFrame:
    """One row per episode: ``household_id, township, village, start, end, week, source, sources,
    listed`` (whether a list fanpin makes - model or department - named it), and ``until`` (the
    next episode's start of the household, or None)."""
    leads = all_leads(ledger).sort_values(["household_id", "lead_date"], kind="stable")
    rows: list[dict] = []
    for household, part in leads.groupby("household_id", sort=True):
        current: dict | None = None
        for lead in part.itertuples(index=False):
            if current is None or (lead.lead_date - current["end"]).days > EPISODE_GAP_DAYS:
                current = {"household_id": household, "township": lead.township, "village": lead.village,
                           "start": lead.lead_date, "end": lead.lead_date, "sources": set()}
                rows.append(current)
            current["end"] = lead.lead_date
            if (lead.lead_date - current["start"]).days <= EPISODE_GAP_DAYS:
                current["sources"].add(lead.source)  # what started it, not what came weeks later
    out = pd.DataFrame(rows, columns=["household_id", "township", "village", "start", "end", "sources"])
    out["source"] = [next(s for s in SOURCE_ORDER if s in sources) for sources in out["sources"]]
    out["listed"] = [bool(LIST_SOURCES & sources) for sources in out["sources"]]
    out["week"] = out["start"].map(week_of)
    nxt = out.groupby("household_id")["start"].shift(-1)
    out["until"] = [None if pd.isna(v) else v for v in nxt]
    return out


def scored_that_week(scores: pd.DataFrame, row: pd.Series) -> int:
    """How many households were scored at ``row``'s cutoff: the optional ``scored`` column (when the
    reader loaded only some of the week's scores), else the week's rows."""
    if "scored" in scores.columns and pd.notna(row.get("scored")):
        return int(row["scored"])
    return int((scores["cutoff"] == row["cutoff"]).sum())


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with Python values and None for missing ones (for JSON, pages and comparisons)."""
    out = frame.astype(object)
    return out.where(frame.notna(), None)


def days_between(a: date | None, b: date | None) -> int | None:
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return None
    return (b - a).days


def within(day: date, start: date, days: int) -> bool:
    return start <= day <= start + timedelta(days=days)
