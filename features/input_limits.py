"""Limits on what an export may be, checked before it is loaded, and orphan households.

A 280 KB XLSX with one cell at the sheet's last address (XFD1048576) made the XLSX reader
allocate a 17-billion-cell grid and die with a Rust backtrace; a 5-million-character village name
made every watch-list page 30 MB; 700,000 household rows without a single member went into the
history for good. Here:

- ``check_file``: the file's size, and for an XLSX its sheets' dimensions and cell count, read
  from the zip's directory and a streamed scan of the sheet XML (cell addresses only), so nothing
  is allocated for a grid before the limits hold. A ``LimitError`` names the file and the figure.
- ``too_long``: cells longer than ``MAX_FIELD_CHARS`` (quarantined with a reason, not loaded into
  any page).
- ``orphan_households``: current household rows that have no member anywhere (quarantined).

The limits are generous for a province-sized export and can be raised per deployment through
``FANPIN_MAX_FILE_MB``, ``FANPIN_MAX_CELLS`` and ``FANPIN_MAX_FIELD_CHARS`` (read when a file is
checked, never at import).
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features import quarantine as qt

MAX_FILE_MB = 512
MAX_CELLS = 30_000_000  # a million households x 30 columns
MAX_COLUMNS = 200  # the widest contract table has under 30
MAX_ROWS = 1_048_576  # Excel's own limit
MAX_FIELD_CHARS = 200  # the longest real value (an address, a note) is far shorter
SHOWN_CHARS = 40  # of an over-long cell, in its quarantine line
MAX_UNPACKED_RATIO = 200  # an XLSX sheet unpacking to 200x its packed size is a zip bomb

TOO_LONG = "value longer than {limit} characters / 内容超过 {limit} 个字符"
NO_MEMBERS = "household has no members in the export or the history / 该户没有任何家庭成员记录"

# A cell's address (``<c r="B7">``) and a row's number (``<row r="7">``); no other sheet element
# has an ``r`` attribute. Letters and numbers are collected separately, as bytes (sets, not a
# Python object per cell: a province's sheet has millions of cells).
_CELL_LETTERS = re.compile(rb' r="([A-Z]{1,3})[0-9]')
_ROW_NUMBERS = re.compile(rb' r="[A-Z]{0,3}([0-9]{1,8})"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z]{1,3}[0-9]{1,7}:)?([A-Z]{1,3})([0-9]{1,7})"')


class LimitError(ValueError):
    """An export over a limit; one line naming the file and the figure."""


@dataclass(frozen=True)
class Limits:
    file_mb: float = MAX_FILE_MB
    cells: int = MAX_CELLS
    columns: int = MAX_COLUMNS
    rows: int = MAX_ROWS
    field_chars: int = MAX_FIELD_CHARS


def limits() -> Limits:
    """The limits in force (environment overrides, read now)."""
    def number(name: str, default: float) -> float:
        value = os.environ.get(name, "").strip()
        return float(value) if value else default

    return Limits(file_mb=number("FANPIN_MAX_FILE_MB", MAX_FILE_MB), cells=int(number("FANPIN_MAX_CELLS", MAX_CELLS)),
                  field_chars=int(number("FANPIN_MAX_FIELD_CHARS", MAX_FIELD_CHARS)))


def column_number(letters: bytes | str) -> int:
    """``A`` -> 1, ``XFD`` -> 16384."""
    n = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        n = n * 26 + (ord(ch) - 64)
    return n


def check_file(path: Path, limit: Limits | None = None) -> None:
    """Refuse a file over the size limit, and an XLSX whose sheets are too wide, long or large."""
    limit = limit or limits()
    size_mb = Path(path).stat().st_size / 2**20
    if size_mb > limit.file_mb:
        raise LimitError(f"{Path(path).name}: file is {size_mb:.3g} MB, over the limit of {limit.file_mb:g} MB "
                         f"(FANPIN_MAX_FILE_MB) / 文件过大")
    if Path(path).suffix.lower() == ".xlsx":
        _check_xlsx(Path(path), limit)


def _check_xlsx(path: Path, limit: Limits) -> None:
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # the reader says "not a valid XLSX" in its own words
    with book:
        for info in book.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            if info.file_size > max(info.compress_size, 1) * MAX_UNPACKED_RATIO and info.file_size > 50 * 2**20:
                raise LimitError(f"{path.name}: sheet {info.filename} unpacks to {info.file_size / 2**20:.0f} MB "
                                 f"from {info.compress_size / 2**20:.1f} MB, refused as a zip bomb / 疑似压缩炸弹")
            rows, columns = _extent(book, info)
            _within(path, info.filename, rows, columns, limit)


def _extent(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(last row, last column) of a sheet: the larger of its declared dimension and every cell's address."""
    rows = columns = 0
    tail = b""
    with book.open(info) as stream:
        while chunk := stream.read(4 * 2**20):
            text = tail + chunk
            for match in _DIMENSION.finditer(text):
                columns = max(columns, column_number(match[2]))
                rows = max(rows, int(match[3]))
            letters, numbers = set(_CELL_LETTERS.findall(text)), set(_ROW_NUMBERS.findall(text))
            columns = max([columns, *(column_number(x) for x in letters)])
            rows = max([rows, *(int(x) for x in numbers)])
            tail = text[-256:]  # a tag cut between chunks is matched with the next one
    return rows, columns


def _within(path: Path, sheet: str, rows: int, columns: int, limit: Limits) -> None:
    where = f"{path.name} ({sheet.rsplit('/', 1)[-1]})"
    if columns > limit.columns:
        raise LimitError(f"{where}: {columns} columns, over the limit of {limit.columns} / 列数过多")
    if rows > limit.rows:
        raise LimitError(f"{where}: {rows} rows, over the limit of {limit.rows} / 行数过多")
    if rows * columns > limit.cells:
        raise LimitError(f"{where}: {rows} rows x {columns} columns = {rows * columns} cells, over the limit of "
                         f"{limit.cells} (FANPIN_MAX_CELLS) / 单元格过多")


def too_long(raw: pd.DataFrame, limit: Limits | None = None) -> dict[str, pd.Series]:
    """Column -> boolean mask of cells longer than the field limit (only columns that have any)."""
    chars = (limit or limits()).field_chars
    out = {}
    for column in raw.columns:
        values = raw[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0)
        mask = lengths > chars
        if mask.any():
            out[column] = mask
    return out


def orphan_households(households: pd.DataFrame, member_household_ids: pd.Series) -> pd.Series:
    """Boolean mask of current household rows (``valid_to`` empty) with no member row anywhere."""
    current = households["valid_to"].isna() if "valid_to" in households.columns else True
    has_members = households["household_id"].isin(set(member_household_ids.dropna()))
    return households["household_id"].notna() & current & ~has_members


def long_cell_lines(file: str, raw: pd.DataFrame) -> list[pd.DataFrame]:
    """Quarantine lines for cells over the field-length limit, shown cut short (the point is they
    are too long) and masked like every other line: a name or phone cell not at all, an ID number
    or phone inside any other cell before it is cut."""
    reason = TOO_LONG.format(limit=limits().field_chars)
    return [qt.lines(file, raw.index[mask.to_numpy()], column, raw.loc[mask, column], reason, limit=SHOWN_CHARS)
            for column, mask in too_long(raw).items()]


def orphan_lines(file: str, raw: pd.DataFrame, households: pd.DataFrame,
                 *members: pd.DataFrame | None) -> list[pd.DataFrame]:
    """Quarantine lines for current households without a member in any of ``members`` (this
    export's and the history's member tables; None for one that is absent)."""
    ids = [m["household_id"] for m in members if m is not None and len(m)]
    orphan = orphan_households(households, pd.concat(ids, ignore_index=True) if ids else pd.Series(dtype=object))
    if not orphan.any():
        return []
    rows = households.index[orphan.to_numpy()]
    return [qt.lines(file, rows, "household_id", raw.loc[rows, "household_id"], NO_MEMBERS)]
