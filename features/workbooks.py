"""Office workbooks (.xlsx, and .xls as Excel 97-2003 and WPS save them): every sheet's table.

A workbook may hold one table or several, one per sheet, named by the sheet's Chinese title or
English name (农户信息, members) or recognised by its headers; a sheet with both household and
member columns is the person-level layout (``features.person_level``). Hidden and empty sheets
are skipped with a note. In each sheet ``features.sheet_layout`` finds the header and tells the
data rows from the title, subtotal and signature lines; row numbers stay Excel's.

Cells come back as the text a person sees, with one exception made on purpose: a whole number of
16 digits or more can only be an ID that Excel stored as a number, and Excel keeps 15 significant
digits, so it is shown the way Excel shows it (4.31128E+17) and the reader refuses it instead of
writing down a wrong ID.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features import contract
from features import input_limits as limits
from features import normalising as norm
from features import sheet_layout as sl
from features.mapping_profile import Profile
from features.person_level import PERSONS, person_headers
from features.table_files import ContractError, header_map

EXCEL_SUFFIXES = (".xlsx", ".xls")
# Columns shared by several tables say nothing about which table a sheet holds.
_COMMON = {"household_id", "member_id", "valid_from", "valid_to", "recorded_at"}
_MIN_SPECIFIC = 2


WorkbookError = ContractError  # a workbook that cannot be read at all (one line naming the file)


@dataclass
class SheetTable:
    """One table found in a workbook sheet.

    Attributes:
        table: contract table name, or ``PERSONS`` for the person-level layout.
        label: how quarantine lines name it: the file, with ``[sheet]`` when the book has several.
        cells: the data rows as text under the sheet's own headers, indexed by Excel row number.
        non_data: (Excel row, text, reason) of every other row under the header.
        notes: what a person should know (row counter ignored, …).
    """

    table: str
    label: str
    cells: pd.DataFrame
    non_data: list[tuple[int, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def cell_text(value: object) -> str:
    """A workbook cell as the text a person sees (3.0 -> '3', a date cell -> '2024-03-01')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, float | int):
        if abs(value) >= 1e15 and float(value).is_integer():
            mantissa, exponent = f"{float(value):.5E}".split("E")
            return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent):02d}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
    return str(value)


def table_names() -> dict[str, str]:
    """Normalised English name or Chinese title -> table."""
    names = {}
    for name, schema in contract.TABLES.items():
        names[norm.header_key(name)] = name
        names[norm.header_key(schema.title)] = name
    return names


def _keys(profile: Profile) -> dict[str, dict[str, str]]:
    keys = {t: header_map(t, profile) for t in contract.TABLES}
    keys[PERSONS] = {k: v[1] for k, v in person_headers(profile).items()}
    return keys


def _matched(cells: list[str], keys: dict[str, str]) -> set[str]:
    return {keys[k] for k in (norm.header_key(c) for c in cells) if k in keys}


def recognise(headers: list[str], profile: Profile) -> str | None:
    """Which table a header row belongs to (``PERSONS`` when it has both household and member
    columns), None when it is no contract table's."""
    keys = _keys(profile)
    specific = {t: _matched(headers, keys[t]) - _COMMON for t in contract.TABLES}
    if len(specific["households"]) >= 3 and len(specific["members"] - specific["households"]) >= 3:
        return PERSONS
    best = max(specific, key=lambda t: len(specific[t]))
    return best if len(specific[best]) >= _MIN_SPECIFIC else None


def sheet_rows(path: Path) -> list[tuple[str, bool, list[list[object]]]]:
    """(name, visible, rows) of every sheet; rows keep leading blanks so numbers stay Excel's."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        out = []
        for meta in book.sheets_metadata:
            visible = str(meta.visible).rsplit(".", 1)[-1].lower() == "visible"
            rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False) if visible else []
            out.append((meta.name, visible, rows))
    except Exception:  # calamine raises its own error types for zip, OLE, XML and sheet problems
        kind = "XLS" if path.suffix.lower() == ".xls" else "XLSX"
        raise WorkbookError(f"{path.name}: cannot read file (not a valid {kind})") from None
    return out


def _check_size(path: Path, sheet: str, grid: list[list[str]]) -> None:
    # .xls sheets are not zip archives that check_file can measure first; at most 65,536 x 256.
    limit = limits.limits()
    rows, columns = len(grid), max((len(r) for r in grid), default=0)
    if rows * columns > limit.cells or columns > limit.columns:
        raise WorkbookError(f"{path.name} ({sheet}): {rows} rows x {columns} columns, over the limits "
                            f"(FANPIN_MAX_CELLS {limit.cells}, {limit.columns} columns) / 单元格过多")


def _frame(grid: list[list[str]], found: sl.Layout) -> pd.DataFrame:
    width = len(found.headers)
    keep = [j for j in range(width) if j not in found.counters]
    headers = []
    for j in keep:
        header = found.headers[j].strip()
        headers.append(header or f"Unnamed: {j}")
    body = [[(grid[r - 1] + [""] * width)[j] for j in keep] for r in found.data_rows]
    return pd.DataFrame(body, columns=headers, index=pd.Index(found.data_rows, dtype="int64"), dtype=object)


def read_workbook(path: Path, profile: Profile, hint: str | None = None) -> tuple[list[SheetTable], list[str]]:
    """The tables of every visible, non-empty sheet, and notes on the sheets skipped.

    ``hint`` is the table the file's name says (农户信息.xlsx): it applies to a book with one
    sheet, or to the sheets that neither their name nor their headers place.
    """
    try:
        limits.check_file(path)
    except limits.LimitError as error:
        raise WorkbookError(str(error)) from None
    names, keys = table_names(), _keys(profile)
    every = {k for t, m in keys.items() for k in m}
    notes: list[str] = []
    usable = []
    for name, visible, rows in sheet_rows(path):
        if not visible:
            notes.append(f"{path.name}: hidden sheet '{name}' skipped / 跳过隐藏工作表")
            continue
        grid = [[cell_text(v) for v in row] for row in rows]
        if not any(c.strip() for row in grid for c in row):
            notes.append(f"{path.name}: empty sheet '{name}' skipped / 跳过空工作表")
            continue
        _check_size(path, name, grid)
        usable.append((name, grid))
    if not usable:
        raise WorkbookError(f"{path.name}: cannot read file (no sheet with data) / 工作表均为空")
    found: list[SheetTable] = []
    for name, grid in usable:
        label = path.name if len(usable) == 1 else f"{path.name}[{name}]"
        table = names.get(norm.header_key(name)) or (hint if len(usable) == 1 else None)
        score_keys = keys[table] if table else dict.fromkeys(every)
        header = sl.find_header(grid, lambda cells, k=score_keys: len({norm.header_key(c) for c in cells} & set(k)))
        if header is None:
            notes.append(f"{label}: no contract table recognised, sheet skipped / 未识别出数据表，已跳过")
            continue
        layout = sl.layout(grid, header)
        recognised = recognise(layout.headers, profile)
        if table is None or (recognised == PERSONS and table in ("households", "members")):
            table = recognised or hint
        if table is None:
            notes.append(f"{label}: no contract table recognised, sheet skipped / 未识别出数据表，已跳过")
            continue
        sheet = SheetTable(table, label, _frame(grid, layout), layout.non_data)
        if layout.header_row != 1:
            sheet.notes.append(f"{label}: header found on row {layout.header_row} / 表头在第 {layout.header_row} 行")
        for j in layout.counters:
            sheet.notes.append(f"{label}: row counter column '{layout.headers[j]}' ignored / 忽略序号列")
        found.append(sheet)
    return found, notes
