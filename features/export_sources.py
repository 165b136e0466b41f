"""Finding the contract tables in an export folder, whatever files they came in.

A table may be a file named by the table (``members.csv``, ``家庭成员.xlsx``), a sheet of any
workbook in the folder (named by the table, or recognised by its headers), or half of a
person-level sheet (``features.person_level``). A CSV or Parquet file named otherwise is read
when its headers make it a contract table (the person-level layout often comes as
``人员明细.csv``); other files are left alone with a note. Two sources for one table stop the
run: which one is meant is a person's call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features import normalising as norm
from features import person_level
from features.mapping_profile import EMPTY, Profile
from features.person_level import PERSONS
from features.table_files import SUFFIXES, ContractError, contract_headers, load_cells
from features.workbooks import EXCEL_SUFFIXES, read_workbook, recognise, table_names

NON_DATA_COLUMNS = ("file", "row", "text", "reason")


@dataclass
class TableCells:
    """One table's raw cells under contract names, and what was found around them.

    Attributes:
        table: contract table.
        label: names the file (and sheet) in quarantine lines.
        raw: the data rows' cells, contract column names, indexed by row number.
        excel: from a workbook (Excel day numbers are dates there).
        non_data: rows under the header that are no data (file, row, text, reason).
        lines: quarantine lines found while splitting a person-level sheet.
        headers: each header as written -> the contract column read from it (the import page shows it).
    """

    table: str
    label: str
    raw: pd.DataFrame
    excel: bool = False
    non_data: list[tuple[int, str, str]] = field(default_factory=list)
    lines: list[pd.DataFrame] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # header as written -> contract column


def non_data_frame(tables: list[TableCells]) -> pd.DataFrame:
    """Every non-data row of the tables as a (file, row, text, reason) table."""
    rows = [(t.label, r, text, reason) for t in tables for r, text, reason in t.non_data]
    frame = pd.DataFrame(rows, columns=list(NON_DATA_COLUMNS))
    return frame.astype({"row": "int64"}).drop_duplicates(["file", "row"]).sort_values(["file", "row"]).reset_index(drop=True)


def _split(cells: pd.DataFrame, label: str, profile: Profile, notes: list[str], excel: bool,
           non_data: list[tuple[int, str, str]]) -> list[TableCells]:
    households, members, lines, household_only = person_level.split(cells, label, profile)
    notes.append(f"{label}: person-level layout, split into households and members / 人员明细表，已拆分为农户信息和家庭成员")
    columns = {str(h): c for h, c in person_level.household_columns(list(cells.columns), profile).items()}
    out = [TableCells("households", f"{label} (农户信息)", contract_headers(households, "households", label, notes),
                      excel, [], lines, columns),
           TableCells("members", f"{label} (家庭成员)", contract_headers(members, "members", label, notes),
                      excel, [*non_data, *household_only], [], {str(h): c for h, c in person_level.member_columns(
                          list(cells.columns), profile).items()})]
    return out


def _workbook_tables(path: Path, hint: str | None, profile: Profile, notes: list[str]) -> list[TableCells]:
    sheets, sheet_notes = read_workbook(path, profile, hint)
    notes += sheet_notes
    out = []
    for sheet in sheets:
        notes += sheet.notes
        if sheet.table == PERSONS:
            out += _split(sheet.cells, sheet.label, profile, notes, True, sheet.non_data)
        else:
            mapped: dict[str, str] = {}
            raw = contract_headers(sheet.cells, sheet.table, sheet.label, notes, profile, mapped)
            out.append(TableCells(sheet.table, sheet.label, raw, True, sheet.non_data, headers=mapped))
    return out


def _plain_tables(path: Path, hint: str | None, profile: Profile, notes: list[str]) -> list[TableCells]:
    mapped: dict[str, str] = {}
    if hint is not None:
        raw = contract_headers(load_cells(path), hint, path.name, notes, profile, mapped)
        return [TableCells(hint, path.name, raw, headers=mapped)]
    try:
        cells = load_cells(path)
    except ContractError:
        notes.append(f"{path.name}: not a contract table, ignored / 非数据表文件，已忽略")
        return []
    table = recognise([str(c) for c in cells.columns], profile)
    if table is None:
        notes.append(f"{path.name}: not a contract table, ignored / 非数据表文件，已忽略")
        return []
    if table == PERSONS:
        return _split(cells, path.name, profile, notes, False, [])
    notes.append(f"{path.name}: read as {table} by its headers / 按表头识别为 {table}")
    return [TableCells(table, path.name, contract_headers(cells, table, path.name, notes, profile, mapped),
                       headers=mapped)]


def find_tables(folder: Path, profile: Profile = EMPTY) -> tuple[dict[str, TableCells], list[str]]:
    """Table -> its cells, for every contract table found in ``folder``; and notes."""
    names = table_names()
    notes: list[str] = []
    found: dict[str, TableCells] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUFFIXES or path.name.startswith(("~$", ".")) or not path.is_file():
            continue
        hint = names.get(norm.header_key(path.stem))
        if path.suffix.lower() in EXCEL_SUFFIXES:
            tables = _workbook_tables(path, hint, profile, notes)
        else:
            tables = _plain_tables(path, hint, profile, notes)
        for cells in tables:
            if cells.table in found:
                raise ContractError(f"{cells.label}: two files for table {cells.table} "
                                    f"({found[cells.table].label} and {cells.label}) / 同一张表有两个来源")
            found[cells.table] = cells
    return found, notes
