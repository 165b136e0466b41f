"""Assistance measures (帮扶措施) a warning points to, from a county-editable policy file.

Reason concepts and official criteria map to measures named as the policy papers name them
(健康帮扶: 大病专项救治、家庭医生签约 …). The file ships as ``models/measures.yaml``; a county passes
its own copy. Some measures fit only some households (雨露计划 needs a vocational student), so an
entry may require frame values; a requirement on a missing value is not met.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Measure:
    """One assistance measure."""

    id: str
    zh: str
    en: str
    programme: str
    programme_zh: str
    programme_en: str
    description_zh: str
    description_en: str


@dataclass(frozen=True)
class Entry:
    """A measure suggested for a concept or criterion, with the frame values it requires."""

    measure: str
    requires: Mapping[str, Mapping[str, float]]

    def fits(self, row: Mapping[str, Any]) -> bool:
        for column, bounds in self.requires.items():
            try:
                value = float(row.get(column))
            except (TypeError, ValueError):
                return False
            if not math.isfinite(value):
                return False
            if "min" in bounds and value < bounds["min"]:
                return False
            if "max" in bounds and value > bounds["max"]:
                return False
        return True


@dataclass(frozen=True)
class Measures:
    """A parsed measures file."""

    measures: dict[str, Measure]
    concepts: dict[str, list[Entry]]
    criteria: dict[str, list[Entry]]

    def suggest(
        self, concepts: Iterable[str], rule_names: Iterable[str], frame_row: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Measures for a household, deduplicated, in order of reason strength.

        Args:
            concepts: reason concepts, strongest first (the household's raising reasons).
            rule_names: official criteria the household meets.
            frame_row: the household's frame row (for measures that require a value).

        Returns:
            One dict per measure: id, zh, en, programme, programme_zh, programme_en,
            description_zh, description_en, and ``because`` (the concepts/criteria behind it).
        """
        out: dict[str, dict[str, Any]] = {}
        sources = [("concept", c, self.concepts.get(c, [])) for c in concepts]
        sources += [("criterion", r, self.criteria.get(r, [])) for r in rule_names]
        for kind, name, entries in sources:
            for entry in entries:
                if not entry.fits(frame_row):
                    continue
                if entry.measure not in out:
                    m = self.measures[entry.measure]
                    out[entry.measure] = {**m.__dict__, "because": []}
                out[entry.measure]["because"].append({"kind": kind, "name": name})
        return list(out.values())


def _entries(items: list[Any], where: str, known: dict[str, Measure]) -> list[Entry]:
    entries = []
    for item in items or []:
        entry = Entry(item, {}) if isinstance(item, str) else Entry(item["measure"], item.get("requires", {}))
        if entry.measure not in known:
            raise ValueError(f"measures: {where} names unknown measure {entry.measure!r}")
        entries.append(entry)
    return entries


def parse_measures(data: Mapping[str, Any]) -> Measures:
    """Build Measures from the YAML structure, checking every reference."""
    programmes = data["programmes"]
    measures = {}
    for mid, spec in data["measures"].items():
        prog = spec["programme"]
        if prog not in programmes:
            raise ValueError(f"measures: {mid} names unknown programme {prog!r}")
        measures[mid] = Measure(
            id=mid,
            zh=spec["zh"],
            en=spec["en"],
            programme=prog,
            programme_zh=programmes[prog]["zh"],
            programme_en=programmes[prog]["en"],
            description_zh=spec.get("description_zh", ""),
            description_en=spec.get("description_en", ""),
        )
    concepts = {c: _entries(v, f"concept {c}", measures) for c, v in data.get("concepts", {}).items()}
    criteria = {c: _entries(v, f"criterion {c}", measures) for c, v in data.get("criteria", {}).items()}
    return Measures(measures, concepts, criteria)


def load_measures(path: str | Path | None = None) -> Measures:
    """Read a measures file; without a path, the default shipped with fanpin."""
    if path is None:
        text = resources.files("models").joinpath("measures.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_measures(yaml.safe_load(text))


def suggest(
    concepts: Iterable[str], rule_names: Iterable[str], frame_row: Mapping[str, Any], measures: Measures | None = None
) -> list[dict[str, Any]]:
    """:meth:`Measures.suggest` on the given (or default) measures file."""
    return (measures or load_measures()).suggest(concepts, rule_names, frame_row)
