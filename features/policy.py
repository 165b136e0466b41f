"""The policy: lines per year, identification rules, screening thresholds and priority weights.

Provinces set their own numbers every year (since 2026 they also set the 认定标准: the line and how
it is adjusted), so they live in a YAML file a county can edit (`features/policy.yaml` is the
default); nothing in the code hard-codes a line.

A year's entry gives the 低保 line and the monitoring line, either as a fixed figure or as a
multiple of the 低保 line (Dehua 2024: twice the rural 低保 line). An entry takes effect on its
``effective_from`` date (default: 1 January of its year), so a county that publishes its own
figure in March changes the rules and the features from the first cutoff on or after that day.
An entry whose line is left empty keeps the line in force before it (provisional: no 2026 figure
was published when this file was written; the county enters its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

LINE_KINDS = ("monitoring_line", "dibao_line")
DEFAULT_IDENTIFICATION = {
    "income_window_months": 12.0,
    "hardship_loss_yuan": 10000.0,
    "hardship_spending_share": 0.5,
    "cope_min_able_labour": 1.0,
    "cope_income_to_line": 1.5,
}
# A household's appeal (申诉) against a county decision. The policy papers fanpin ships with
# (/work/shared/seeds) set no time limit for it: these are fanpin's judgement, not a rule, and a
# county sets its own in its policy file (``cases:``). 30 days to appeal after the decision is
# made known; 15 days for the county to answer, the same length as the identification clock.
DEFAULT_CASES = {
    "appeal_window_days": 30.0,
    "appeal_answer_days": 15.0,
}


@dataclass(frozen=True)
class Term:
    """One official term: the current wording and the older wordings that still read."""

    zh: str
    en: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A parsed policy file.

    ``lines`` holds every year's resolved figures (the monitoring line already multiplied out when
    the file gives a multiple); ``effective`` the day each year's entry takes effect.
    """

    province: str
    county: str
    lines: dict[int, dict[str, float]]
    screening: dict[str, float]
    priority_weights: dict[str, float]
    risk_levels: dict[str, float] = field(default_factory=lambda: {"high": 0.3, "medium": 0.1})
    effective: dict[int, date] = field(default_factory=dict)
    methods: dict[int, str] = field(default_factory=dict)  # year -> "fixed" | "dibao_multiple" | "carried"
    identification: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_IDENTIFICATION))
    terms: dict[str, Term] = field(default_factory=dict)
    cases: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CASES))

    def line(self, year: int, kind: str = "monitoring_line") -> float:
        """The line for a year; years past the table use the latest year's line, earlier years
        the earliest (a county keeps the last published line until the next is set)."""
        years = sorted(self.lines)
        chosen = min(max(year, years[0]), years[-1])
        return float(self.lines[chosen][kind])

    def entry_year_at(self, cutoff: date | pd.Timestamp | str) -> int:
        """The year whose entry is in force on ``cutoff`` (the latest one already effective)."""
        day = pd.Timestamp(cutoff).date()
        years = sorted(self.lines)
        started = [y for y in years if self.effective.get(y, date(y, 1, 1)) <= day]
        return started[-1] if started else years[0]

    def line_at(self, cutoff: date | pd.Timestamp | str, kind: str = "monitoring_line") -> float:
        """The line in force on ``cutoff``: what the rules and the features use for that week."""
        return float(self.lines[self.entry_year_at(cutoff)][kind])

    def lines_for(self, years: pd.Series, kind: str = "monitoring_line") -> pd.Series:
        """Vectorised :meth:`line` over a Series of years."""
        years_sorted = sorted(self.lines)
        clipped = years.clip(years_sorted[0], years_sorted[-1]).astype("Int64")
        mapping = {y: float(v[kind]) for y, v in self.lines.items()}
        return clipped.map(mapping).astype("float64")

    def level(self, probability: float) -> str:
        """Risk level code (high / medium / low) for a calibrated probability."""
        if probability >= self.risk_levels["high"]:
            return "high"
        if probability >= self.risk_levels["medium"]:
            return "medium"
        return "low"

    def levels(self, probability: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`level` over an array of calibrated probabilities."""
        high, medium = self.risk_levels["high"], self.risk_levels["medium"]
        return np.where(probability >= high, "high", np.where(probability >= medium, "medium", "low"))

    def term(self, key: str) -> Term:
        """The official wording of ``key`` (e.g. ``subject``: 防止返贫致贫对象, alias 监测对象)."""
        return self.terms[key]

    def canonical_term(self, text: str) -> str | None:
        """The key of the term whose current wording or an alias is ``text`` (None: not a term)."""
        for key, term in self.terms.items():
            if text == term.zh or text in term.aliases:
                return key
        return None


def _day(value: Any, where: str) -> date:
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        raise ValueError(f"policy: {where}: effective_from {value!r} is not a date") from None


def _resolve_lines(raw: dict[Any, dict[str, Any]]) -> tuple[dict[int, dict[str, float]], dict[int, date], dict[int, str]]:
    """Resolve each year's figures in year order: a multiple of the 低保 line is multiplied out,
    an empty figure carries the previous year's, other numbers carry forward when left out."""
    lines: dict[int, dict[str, float]] = {}
    effective: dict[int, date] = {}
    methods: dict[int, str] = {}
    previous: dict[str, float] = {}
    for year in sorted(int(y) for y in raw):
        row = dict(raw.get(year, raw.get(str(year))) or {})
        where = f"year {year}"
        effective[year] = _day(row.pop("effective_from"), where) if "effective_from" in row else date(year, 1, 1)
        multiple = row.pop("dibao_multiple", None)
        values = {k: float(v) for k, v in row.items() if v is not None}
        if "dibao_line" not in values and "dibao_line" not in previous:
            raise ValueError(f"policy: {where} has no dibao_line")
        merged = {**previous, **values}
        if multiple is not None:
            merged["monitoring_line"] = float(multiple) * merged["dibao_line"]
            methods[year] = "dibao_multiple"
        elif "monitoring_line" in values:
            methods[year] = "fixed"
        elif "monitoring_line" in previous and "monitoring_line" in row:  # written but left empty
            methods[year] = "carried"
        else:
            raise ValueError(f"policy: {where} has no monitoring_line (a figure, or dibao_multiple)")
        lines[year] = merged
        previous = merged
    return lines, effective, methods


def _terms(raw: dict[str, Any]) -> dict[str, Term]:
    return {
        key: Term(str(v["zh"]), str(v.get("en", "")), tuple(str(a) for a in v.get("aliases", []) or []))
        for key, v in (raw or {}).items()
    }


def parse_policy(data: dict[str, Any]) -> Policy:
    """Build a Policy from the YAML structure, checking the parts every rule needs."""
    lines, effective, methods = _resolve_lines(data["lines"])
    identification = dict(DEFAULT_IDENTIFICATION)
    identification.update({k: float(v) for k, v in (data.get("identification") or {}).items()})
    cases = dict(DEFAULT_CASES)
    for key, value in (data.get("cases") or {}).items():
        if key not in DEFAULT_CASES:
            raise ValueError(f"policy: cases: unknown setting {key!r}; one of {', '.join(DEFAULT_CASES)}")
        if not isinstance(value, int | float) or isinstance(value, bool) or not 1 <= value <= 366:
            raise ValueError(f"policy: cases: {key} must be a number of days from 1 to 366 (got {value!r})")
        cases[key] = float(value)
    return Policy(
        province=str(data.get("province", "")),
        county=str(data.get("county", "")),
        lines=lines,
        screening={k: float(v) for k, v in data["screening"].items()},
        priority_weights={k: float(v) for k, v in data["priority_weights"].items()},
        risk_levels={k: float(v) for k, v in data.get("risk_levels", {}).items()} or {"high": 0.3, "medium": 0.1},
        effective=effective,
        methods=methods,
        identification=identification,
        terms=_terms(data.get("terms", {})),
        cases=cases,
    )


def load_policy(path: str | Path | None = None) -> Policy:
    """Read a policy file; without a path, the default shipped with fanpin."""
    if path is None:
        text = resources.files("features").joinpath("policy.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_policy(yaml.safe_load(text))
