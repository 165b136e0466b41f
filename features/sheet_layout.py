"""Finding the table in a sheet as an office saves it: title lines, a one- or two-row header,
a row counter, subtotal and signature lines under the data.

A county's workbook rarely starts with its header on row 1. Above it there is a merged title
(…明细表) and a 填报单位/导出时间 line; the header may be two rows, group names (基本信息,
收入情况（元）) merged above the field names, with the fields that have no group merged down both
rows; a 序号 column counts the rows; and under the data come 合计/小计 rows and a
制表人/审核人/填报日期 line. Everything here works on a sheet's cells as text (``grid[i][j]`` is
Excel row ``i + 1``, column ``j + 1``) and is pure: the readers load the cells and act on the
layout found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from features import normalising as norm

HEADER_SEARCH_ROWS = 30  # a header further down than this is not a header a person would look for
MIN_HEADER_MATCHES = 2

# Lines under the data. Subtotals may sit between groups of data rows (小计 per township), so they
# are skipped one by one; a signature or note line ends the table.
SUBTOTAL_WORDS = ("合计", "小计", "总计")
END_WORDS = ("制表人", "制表", "审核人", "审核", "填报人", "填报日期", "备注", "单位负责人", "负责人", "说明", "注:")
ROW_COUNTER_HEADERS = ("序号", "行号", "编号", "no", "no.")

BLANK = "blank row / 空行"
SUBTOTAL = "subtotal row / 合计行"
END_LINE = "signature or note line / 表尾签字或备注行"
AFTER_END = "below the table's last line / 表尾之后"


@dataclass
class Layout:
    """Where a sheet's table is: header row(s), column headers, data rows and the rest.

    Attributes:
        header_row: Excel row number of the (lower) header row.
        headers: one header per column (lower header cell, else the one merged above it).
        data_rows: Excel row numbers of the rows that hold data.
        non_data: (Excel row, the row's text, reason) for every other row under the header.
        counters: columns (0-based) that only count rows (序号; 编号 holding 1, 2, 3…).
    """

    header_row: int
    headers: list[str]
    data_rows: list[int] = field(default_factory=list)
    non_data: list[tuple[int, str, str]] = field(default_factory=list)
    counters: list[int] = field(default_factory=list)


def _combined(grid: list[list[str]], i: int) -> list[str]:
    """Row ``i``'s headers, a blank cell taking the cell above (a field merged down two rows)."""
    row = grid[i]
    above = grid[i - 1] if i > 0 else []
    return [cell or (above[j] if j < len(above) else "") for j, cell in enumerate(row)]


def find_header(grid: list[list[str]], matches: Callable[[Iterable[str]], int]) -> int | None:
    """The 0-based index of the header row: the row (with the row above merged in) whose cells
    ``matches`` scores highest among the first rows; None when no row scores enough."""
    best, best_score = None, MIN_HEADER_MATCHES - 1
    for i in range(min(len(grid), HEADER_SEARCH_ROWS)):
        score = matches(_combined(grid, i))
        if score > best_score:
            best, best_score = i, score
    return best


def row_text(cells: list[str]) -> str:
    """A row as a person would read it out: its non-empty cells joined."""
    return " | ".join(c for c in cells if c)


def _starts(cell: str, words: tuple[str, ...]) -> bool:
    key = norm.squeeze(cell).lower()
    return any(key.startswith(w) for w in words)


def _is_counter(header: str, values: list[str]) -> bool:
    """序号 always counts rows; 编号/行号/No. only when it holds 1, 2, 3… (else it may be an ID)."""
    key = norm.header_key(header)
    if key == "序号":
        return True
    if key not in ROW_COUNTER_HEADERS:
        return False
    numbers = [norm.squeeze(v) for v in values if v]
    return bool(numbers) and all(v.isdigit() for v in numbers) and [int(v) for v in numbers] == list(
        range(1, len(numbers) + 1))


def layout(grid: list[list[str]], header: int) -> Layout:
    """Split the rows under ``header`` (0-based index) into data and non-data rows."""
    headers = _combined(grid, header)
    width = len(headers)
    out = Layout(header_row=header + 1, headers=headers)
    ended = False
    for i in range(header + 1, len(grid)):
        cells = (grid[i] + [""] * width)[:width] if len(grid[i]) <= width else grid[i]
        filled = [c for c in cells if c.strip()]
        if not filled:
            out.non_data.append((i + 1, "", BLANK))
            continue
        if ended:
            out.non_data.append((i + 1, row_text(cells), AFTER_END))
        elif any(_starts(c, END_WORDS) for c in filled[:3]):
            ended = True
            out.non_data.append((i + 1, row_text(cells), END_LINE))
        elif any(_starts(c, SUBTOTAL_WORDS) for c in filled[:3]):
            out.non_data.append((i + 1, row_text(cells), SUBTOTAL))
        else:
            out.data_rows.append(i + 1)
    for j, name in enumerate(headers):
        values = [grid[r - 1][j] if j < len(grid[r - 1]) else "" for r in out.data_rows]
        if _is_counter(name, values):
            out.counters.append(j)
    return out
