"""Workbooks as a county office saves them, made from a plain CSV export folder.

Two layouts, each writable as .xlsx (openpyxl) and .xls (xlwt, Excel 97-2003):

- ``per_table``: one workbook, one sheet per table named by its Chinese title; each sheet has a
  merged title row, a 填报单位/导出时间 line, a two-row header (group names merged above the
  fields, the ungrouped fields merged down both rows), a 序号 column, the data, a 合计 row, a
  blank line and a 制表人/审核人/填报日期 line. Also a hidden sheet and an empty one.
- ``person_level``: one sheet 人员明细 with a row per member and the household's columns
  repeated (the household's dates as 户生效日期…), plus the other tables as sheets.

Cells are typed the way offices type them: amounts and counts as numbers (some as text with
thousands separators), dates as date cells, Excel day numbers or text such as 2025年3月5日,
2025.3.5 and 2025/3/5, IDs as text. ``expected_rows`` tells how many rows lie under each
sheet's header, for reconciling.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features import contract
from features.person_level import HOUSEHOLD_DATES

GROUPS = ("基本信息", "家庭情况", "帮扶情况", "收入情况（元）", "其他")
_EPOCH = dt.date(1899, 12, 30)


@dataclass
class Sheet:
    name: str
    rows: list[list[object]]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based r1, c1, r2, c2
    hidden: bool = False
    header_row: int = 0  # 1-based Excel row of the (lower) header row
    data_rows: int = 0


def _kinds(table: str) -> dict[str, str]:
    return {f.zh: f.kind for f in contract.fields(table)}


def _date_cell(text: str, style: int, i: int) -> object:
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return text  # a broken date stays as typed
    form = (style + i) % 4 if style >= 0 else 0
    if form == 0:
        return day
    if form == 1:
        return (day - _EPOCH).days  # an Excel day number in a cell formatted as a number
    if form == 2:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.year}.{day.month}.{day.day}" if i % 2 else f"{day.year}/{day.month}/{day.day}"


def _cell(text: str, kind: str, date_style: int, i: int) -> object:
    if text == "":
        return None
    if kind in ("int", "float"):
        number = float(text)
        if kind == "float" and number >= 1000 and i % 3 == 0:
            return f"{number:,.0f}" if number.is_integer() else f"{number:,}"  # typed with separators
        if i % 5 == 0:
            return text  # a number stored as text
        return int(number) if number.is_integer() else number
    if kind == "date":
        return _date_cell(text, date_style, i)
    return text


def _typed_rows(frame: pd.DataFrame, kinds: dict[str, str], date_style: int) -> list[list[object]]:
    return [[_cell(v, kinds.get(c, "string"), date_style, i) for c, v in zip(frame.columns, row, strict=True)]
            for i, row in enumerate(frame.itertuples(index=False, name=None))]


def office_sheet(name: str, frame: pd.DataFrame, kinds: dict[str, str], date_style: int = -1) -> Sheet:
    """One table laid out as an office sheet (title, unit line, two-row header, 序号, footers)."""
    columns = list(frame.columns)
    width = len(columns) + 1
    rows: list[list[object]] = [[f"某县{name}明细表"] + [None] * (width - 1),
                                ["填报单位：某县乡村振兴局    导出时间：2025-11-10"] + [None] * (width - 1)]
    merges = [(0, 0, 0, width - 1), (1, 0, 1, width - 1)]
    group_row: list[object] = ["序号"]
    field_row: list[object] = [None]
    merges.append((2, 0, 3, 0))
    # The first two fields stand alone (merged down); the rest in groups of five.
    for j, column in enumerate(columns, start=1):
        if j <= 2:
            group_row.append(column)
            field_row.append(None)
            merges.append((2, j, 3, j))
        else:
            k = (j - 3) // 5
            group_row.append(GROUPS[k % len(GROUPS)] if (j - 3) % 5 == 0 else None)
            field_row.append(column)
            if (j - 3) % 5 == 0:
                merges.append((2, j, 2, min(j + 4, width - 1)))
    rows += [group_row, field_row]
    body = _typed_rows(frame, kinds, date_style)
    rows += [[i + 1, *row] for i, row in enumerate(body)]
    rows.append(["合计", f"{len(body)}户"] + [None] * (width - 2))
    rows.append([None] * width)
    rows.append(["制表人：张三        审核人：李四        填报日期：2025年11月10日"] + [None] * (width - 1))
    merges.append((len(rows) - 1, 0, len(rows) - 1, width - 1))
    return Sheet(name, rows, merges, header_row=4, data_rows=len(body))


def read_export(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for table in contract.TABLES:  # the simulator's CSV headers are the Chinese labels already
        path = folder / f"{table}.csv"
        if path.exists():
            out[table] = pd.read_csv(path, dtype=str, keep_default_na=False)
    return out


def per_table(folder: Path) -> list[Sheet]:
    tables = read_export(folder)
    sheets = [office_sheet(contract.TABLES[t].title, f, _kinds(t)) for t, f in tables.items()]
    sheets.insert(1, Sheet("说明", [["本表由系统导出"], ["旧数据"]], hidden=True))
    sheets.append(Sheet("Sheet3", []))
    return sheets


def person_level(folder: Path) -> list[Sheet]:
    tables = read_export(folder)
    households, members = tables.pop("households"), tables.pop("members")
    household_labels = {f.zh: f.name for f in contract.fields("households")}
    renamed = {}
    for label, name in household_labels.items():
        renamed[label] = HOUSEHOLD_DATES[name][0] if name in HOUSEHOLD_DATES else label
    households = households.rename(columns=renamed)
    order = {h: i for i, h in enumerate(households["户编号"])}
    # A household registered before its members (the registry enters them days apart) is one row
    # with the member columns empty, as a household-driven office export writes it.
    alone = households.loc[~households["户编号"].isin(members["户编号"]), ["户编号"]]
    members = pd.concat([members, alone], ignore_index=True)
    members = members.assign(_order=members["户编号"].map(order).fillna(len(order))).sort_values(
        "_order", kind="stable").drop(columns="_order")
    persons = members.merge(households, on="户编号", how="left").fillna("")
    front = ["户编号", "乡镇", "行政村", "户主姓名"]
    persons = persons[front + [c for c in persons.columns if c not in front]]
    kinds = {**_kinds("members"), **{renamed[k]: v for k, v in _kinds("households").items()}}
    sheets = [office_sheet("人员明细", persons, kinds, date_style=0)]
    sheets[0].name = "人员明细"
    sheets += [office_sheet(contract.TABLES[t].title, f, _kinds(t), date_style=1) for t, f in tables.items()]
    return sheets


def households_without_members(folder: Path) -> int:
    """How many of the export's households have no member row (one household-only row each in
    the person-level layout)."""
    tables = read_export(folder)
    return int((~tables["households"]["户编号"].isin(tables["members"]["户编号"])).sum())


def write_xlsx(sheets: list[Sheet], path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.name)
        for row in sheet.rows:
            ws.append(row)
        for r1, c1, r2, c2 in sheet.merges:
            ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
        if sheet.hidden:
            ws.sheet_state = "hidden"
    book.save(path)
    return path


def write_xls(sheets: list[Sheet], path: Path) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for sheet in sheets:
        ws = book.add_sheet(sheet.name)
        merged = {}
        for r1, c1, r2, c2 in sheet.merges:
            merged[(r1, c1)] = (r2, c2)
        covered = {(r, c) for (r1, c1), (r2, c2) in merged.items() for r in range(r1, r2 + 1)
                   for c in range(c1, c2 + 1) if (r, c) != (r1, c1)}
        for i, row in enumerate(sheet.rows):
            for j, value in enumerate(row):
                if (i, j) in covered:
                    continue
                style = date_style if isinstance(value, dt.date) else xlwt.Style.default_style
                if (i, j) in merged:
                    r2, c2 = merged[(i, j)]
                    ws.write_merge(i, r2, j, c2, value, style)
                elif value is not None:
                    ws.write(i, j, value, style)
        if sheet.hidden:
            ws.visibility = 1
    book.save(str(path))
    return path


def write_workbook(sheets: list[Sheet], path: Path) -> Path:
    return write_xls(sheets, path) if path.suffix == ".xls" else write_xlsx(sheets, path)
