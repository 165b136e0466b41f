"""Exported cells that a spreadsheet cannot turn into formulas (OWASP "CSV Injection").

A registry value such as a village named ``=HYPERLINK("http://x", "点击")`` or a visit note starting
with ``@SUM(...)`` would run as a formula when an officer opens the export in Excel or WPS. Every
text cell of every CSV and Excel export goes through ``defuse``: text starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return (or their full-width forms, which WPS also accepts) gets a
leading single quote, shown as text and never evaluated. Numbers stay numbers, so ``-0.03`` in a
numeric column is untouched; a phone typed as ``+86...`` text gains the quote, as OWASP advises.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def defuse(value: Any) -> Any:
    """The value, with a leading ``'`` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.lstrip(" ").startswith(TRIGGERS):
        return "'" + value
    return value


def defuse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell defused (headers included) and other columns untouched."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(defuse)
    out.columns = [defuse(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A defused CSV with a BOM (so Excel opens Chinese text correctly)."""
    defuse_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")


def append_row(sheet, values: list[Any]) -> None:
    """Append one defused row to an openpyxl sheet, every text cell typed as a string.

    openpyxl itself stores any string starting with ``=`` as a formula; the quote prefix and the
    explicit string type keep it text in Excel, WPS and LibreOffice alike.
    """
    sheet.append([defuse(v) for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
