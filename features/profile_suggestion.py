"""Proposing a mapping profile from a county's export, for a person to confirm.

For every table found in the export's files and sheets (by its name, else by its headers), each
header the contract does not already know is compared with every contract column: its Chinese
label, English name and description and known aliases by fuzzy string similarity (rapidfuzz),
and its values by what they look like (dates, numbers, yes/no words, the column's allowed labels).
One header gets at most one column (an assignment over the whole table, scipy's
``linear_sum_assignment``), and only pairs above a floor are proposed. For coded columns, values
that are no known label are matched to the allowed labels the same way.

Nothing here is applied by itself: ``fanpin suggest-profile`` writes the proposal as YAML with
each line's evidence in a comment, and a person edits and keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features import contract
from features import normalising as norm
from features import vocabulary as voc
from features.mapping_profile import EMPTY, Profile
from features.table_files import SUFFIXES, header_map, load_cells
from features.workbooks import EXCEL_SUFFIXES, cell_text, sheet_rows, table_names

NAME_FLOOR = 45  # below this a header is left for the person to map
VALUE_FLOOR = 70
SAMPLE = 200
_BOOLEAN = {w for words in voc.BOOLEAN_WORDS.values() for w in words}


@dataclass
class Proposal:
    """One header's proposed column (or None), with the evidence shown to the person."""

    table: str
    header: str
    column: str | None
    score: float
    label: str = ""


@dataclass
class Suggestion:
    profile: Profile
    proposals: list[Proposal] = field(default_factory=list)
    value_proposals: list[tuple[str, str, str, str, float]] = field(default_factory=list)  # table, column, label, code, score
    notes: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        """The proposal as a profile file, each line's evidence in a comment."""
        lines = ["# fanpin mapping profile, proposed by `fanpin suggest-profile`: check every line, then keep it",
                 "# 由 fanpin suggest-profile 自动建议：请逐行核对后使用"]
        for table in contract.TABLES:
            mine = [p for p in self.proposals if p.table == table]
            values = [v for v in self.value_proposals if v[0] == table]
            if not mine and not values:
                continue
            lines += [f"{table}:", "  headers:"]
            for p in mine:
                if p.column is None:
                    lines.append(f"    # {_quote(p.header)}: ?   # no contract column found / 未找到对应列")
                else:
                    lines.append(f"    {_quote(p.header)}: {p.column}   # {p.label}, {p.score:.0f}%")
            if values:
                lines.append("  values:")
                for column in dict.fromkeys(v[1] for v in values):
                    lines.append(f"    {column}:")
                    for _, _, label, code, score in (v for v in values if v[1] == column):
                        lines.append(f"      {_quote(label)}: {code}   # {score:.0f}%")
        return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def _candidates(table: str) -> dict[str, list[str]]:
    out = {f.name: [f.zh, f.name.replace("_", " "), f.en] for f in contract.fields(table)}
    for alias, name in contract.HEADER_ALIASES.get(table, {}).items():
        out[name].append(alias)
    return out


def _value_fit(values: list[str], f: contract.Field) -> float:
    """0..1: how much the column's values look like this contract column's."""
    if not values:
        return 0.5
    cells = pd.Series(values, dtype=object)
    if f.kind == "date":
        _, bad = norm.dates(cells, excel_serials=True)
        return 1.0 - float(bad.mean())
    if f.kind in ("int", "float"):
        _, bad = norm.floats(cells, f.unit)
        return 1.0 - float(bad.mean())
    if f.kind == "bool":
        return float(np.mean([norm.squeeze(v).lower() in _BOOLEAN for v in values]))
    if f.kind == "code":
        known = {norm.squeeze(str(k)).lower() for k in f.allowed or {}} | {
            norm.squeeze(v).split("(")[0].lower() for v in (f.allowed or {}).values()}
        return float(np.mean([norm.squeeze(v).split("(")[0].lower() in known for v in values]))
    digits = np.mean([norm.squeeze(v).isdigit() for v in values])
    identifier = f.name in contract.IDENTIFIERS or f.name.endswith("id_number")
    return float(digits if identifier else 1.0 - digits * 0.5)


def _assign(table: str, headers: list[str], samples: dict[str, list[str]]) -> list[Proposal]:
    from rapidfuzz import fuzz, utils
    from scipy.optimize import linear_sum_assignment

    fields = {f.name: f for f in contract.fields(table)}
    known = header_map(table)
    taken = {known[norm.header_key(h)] for h in headers if norm.header_key(h) in known}
    open_headers = [h for h in headers if norm.header_key(h) not in known and norm.header_key(h)]
    columns = [c for c in fields if c not in taken]
    if not open_headers or not columns:
        return [Proposal(table, h, None, 0.0) for h in open_headers]
    candidates = _candidates(table)
    score = np.zeros((len(open_headers), len(columns)))
    for i, header in enumerate(open_headers):
        for j, column in enumerate(columns):
            name = max(fuzz.WRatio(header, c, processor=utils.default_process) for c in candidates[column])
            score[i, j] = 0.75 * name + 25 * _value_fit(samples.get(header, []), fields[column])
    rows, cols = linear_sum_assignment(-score)
    out = {h: Proposal(table, h, None, 0.0) for h in open_headers}
    for i, j in zip(rows, cols, strict=True):
        if score[i, j] >= NAME_FLOOR:
            out[open_headers[i]] = Proposal(table, open_headers[i], columns[j], float(score[i, j]), fields[columns[j]].zh)
    return list(out.values())


def _values(table: str, column: str, values: list[str]) -> list[tuple[str, str, str, str, float]]:
    from rapidfuzz import fuzz, process, utils

    f = next(f for f in contract.fields(table) if f.name == column)
    if f.kind != "code" or not f.allowed:
        return []
    parsed = norm.codes(pd.Series(sorted(set(values)), dtype=object), f.allowed)
    labels = {label: str(code) for code, label in f.allowed.items()}
    out = []
    for raw, code in zip(sorted(set(values)), parsed, strict=True):
        if code in {str(k) for k in f.allowed}:
            continue
        match = process.extractOne(raw, list(labels), scorer=fuzz.WRatio, processor=utils.default_process)
        if match and match[1] >= VALUE_FLOOR:
            out.append((table, column, raw, labels[match[0]], float(match[1])))
    return out


def _grids(folder: Path) -> list[tuple[str, str, list[list[str]]]]:
    """(label, name hint, cells as text) of every file and visible sheet in the folder."""
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUFFIXES or path.name.startswith(("~$", ".")):
            continue
        if path.suffix.lower() in EXCEL_SUFFIXES:
            sheets = [(n, rows) for n, visible, rows in sheet_rows(path) if visible and rows]
            for name, rows in sheets:
                grid = [[cell_text(v) for v in row] for row in rows]
                hint = name if len(sheets) > 1 else path.stem
                out.append((f"{path.name}[{name}]", hint, grid))
        else:
            cells = load_cells(path)
            grid = [[str(c) for c in cells.columns]] + cells.head(SAMPLE).astype(str).to_numpy().tolist()
            out.append((path.name, path.stem, grid))
    return out


def _header_row(grid: list[list[str]], table: str) -> int:
    from rapidfuzz import fuzz, utils

    words = [c for cands in _candidates(table).values() for c in cands[:2]]

    def hits(row: list[str]) -> int:
        return sum(1 for cell in row if cell and max(
            fuzz.WRatio(cell, w, processor=utils.default_process) for w in words) >= 80)

    scored = [(hits(row), -i) for i, row in enumerate(grid[:30])]
    return -max(scored)[1] if scored else 0


def _fits(table: str, grid: list[list[str]]) -> int:
    """How many cells of the table's likeliest header row look like its column names."""
    from rapidfuzz import fuzz, utils

    words = [c for cands in _candidates(table).values() for c in cands[:2]]
    row = grid[_header_row(grid, table)] if grid else []
    return sum(1 for cell in row if cell and max(fuzz.WRatio(cell, w, processor=utils.default_process)
                                                 for w in words) >= 80)


def _table_of(hint: str, grid: list[list[str]]) -> str | None:
    from rapidfuzz import fuzz, process, utils

    names = table_names()
    if norm.header_key(hint) in names:
        return names[norm.header_key(hint)]
    match = process.extractOne(hint, list(names), scorer=fuzz.WRatio, processor=utils.default_process)
    if match and match[1] >= 85:
        return names[match[0]]
    fits = {t: _fits(t, grid) for t in contract.TABLES}
    best = max(fits, key=fits.__getitem__)
    return best if fits[best] >= 2 else None


def suggest(folder: str | Path) -> Suggestion:
    """Propose a profile for the export in ``folder`` (see the module docstring)."""
    headers: dict[str, dict[str, str]] = {}
    values: dict[str, dict[str, dict[str, str]]] = {}
    result = Suggestion(EMPTY)
    for label, hint, grid in _grids(Path(folder)):
        table = _table_of(hint, grid)
        if table is None or not grid:
            result.notes.append(f"{label}: no contract table recognised / 未识别出数据表")
            continue
        top = _header_row(grid, table)
        row = grid[top]
        body = [r for r in grid[top + 1:] if any(c.strip() for c in r)][:SAMPLE]
        samples = {h: [r[j] for r in body if j < len(r) and r[j].strip()] for j, h in enumerate(row) if h}
        for p in _assign(table, row, samples):
            result.proposals.append(p)
            if p.column is not None:
                headers.setdefault(table, {})[p.header] = p.column
        mapped = {**{h: header_map(table)[norm.header_key(h)] for h in row if norm.header_key(h) in header_map(table)},
                  **headers.get(table, {})}
        for header, column in mapped.items():
            for entry in _values(table, column, samples.get(header, [])):
                result.value_proposals.append(entry)
                values.setdefault(table, {}).setdefault(column, {})[entry[2]] = entry[3]
    result.profile = Profile(headers, values)
    return result
