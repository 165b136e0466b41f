"""The policy: monitoring lines per year, screening thresholds and priority weights.

Provinces set their own numbers every year, so they live in a YAML file a county can edit
(`features/policy.yaml` is the default); nothing in the code hard-codes a line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml


@dataclass(frozen=True)
class Policy:
    """A parsed policy file."""

    province: str
    county: str
    lines: dict[int, dict[str, float]]
    screening: dict[str, float]
    priority_weights: dict[str, float]
    risk_levels: dict[str, float] = field(default_factory=lambda: {"high": 0.3, "medium": 0.1})

    def line(self, year: int, kind: str = "monitoring_line") -> float:
        """The line for a year; years past the table use the latest year's line, earlier years
        the earliest (a county keeps the last published line until the next is set)."""
        years = sorted(self.lines)
        chosen = min(max(year, years[0]), years[-1])
        return float(self.lines[chosen][kind])

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


def parse_policy(data: dict[str, Any]) -> Policy:
    """Build a Policy from the YAML structure, checking the parts every rule needs."""
    lines = {int(y): {k: float(v) for k, v in row.items()} for y, row in data["lines"].items()}
    for year, row in lines.items():
        for key in ("monitoring_line", "dibao_line"):
            if key not in row:
                raise ValueError(f"policy: year {year} has no {key}")
    return Policy(
        province=str(data.get("province", "")),
        county=str(data.get("county", "")),
        lines=lines,
        screening={k: float(v) for k, v in data["screening"].items()},
        priority_weights={k: float(v) for k, v in data["priority_weights"].items()},
        risk_levels={k: float(v) for k, v in data.get("risk_levels", {}).items()} or {"high": 0.3, "medium": 0.1},
    )


def load_policy(path: str | Path | None = None) -> Policy:
    """Read a policy file; without a path, the default shipped with fanpin."""
    if path is None:
        text = resources.files("features").joinpath("policy.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_policy(yaml.safe_load(text))
