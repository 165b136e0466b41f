"""The one decision on what a report may show of a value: by its column and by its content.

Every quarantine and flag line (``features.quarantine.lines``, the over-long-cell and orphan
lines included) shows its value through ``shown``; nothing else decides. Two rules:

- **by column**: a value of a sensitive contract column (a name, an ID number, a phone;
  ``features.contract.sensitive_columns`` of any table) is replaced whole by ``MASK``. A name
  cannot be recognised by its content, so its column is all there is to go on.
- **by content**, in every column: an ID-number look-alike keeps only its first 6 and last 4
  characters and a phone look-alike is starred out (``features.identifiers.mask_identifiers``;
  full-width digits and numbers inside other text count too). A clerk who typed
  "13812345678 张三" into a village cell gets it quarantined without the number.

A value is masked before it is cut short (``limit``), so a cut cannot split an ID number into
pieces that no longer look like one; only a window a little longer than the cut is looked at, so a
5-million-character cell costs no more than a short one.
"""

from __future__ import annotations

import re
from functools import cache

from features.identifiers import mask_identifiers

MASK = "***"
ELLIPSIS = "…"
# Longer than any identifier look-alike ("+86 138 1234 5678" is 17 characters, an ID number 18):
# one that starts before the cut lies whole inside the window.
WINDOW_MARGIN = 32


@cache
def sensitive_columns() -> frozenset[str]:
    """Every contract column that holds a direct identifier, whatever its table (read once)."""
    from features import contract

    return frozenset(contract.sensitive_columns())


def shown(text: str, column: str | None = None, limit: int | None = None) -> str:
    """``text`` as a report may show it, for a value of ``column`` (None: a column of no table).

    Args:
        text: the value as written in the file ("" for an empty cell, which stays "").
        column: the contract column the value was read for.
        limit: cut the masked text to this many characters and mark the cut with "…".
    """
    if not text:
        return text
    if column in sensitive_columns():
        return MASK
    if limit is None or len(text) <= limit:
        return _starred_runs(mask_identifiers(text))
    return _starred_runs(mask_identifiers(text[:limit + WINDOW_MARGIN]))[:limit] + ELLIPSIS


# A run of 12 or more digits is no amount, code or date a report needs, and it can hold an
# identifier that no pattern sees whole: a phone typed straight before an ID number ("13812345678"
# + "４３１１２８…") is one 29-digit run, neither a phone nor an ID number look-alike.
_LONG_DIGITS = re.compile("[0-9\uff10-\uff19]{12,}")


def _starred_runs(text: str) -> str:
    return _LONG_DIGITS.sub(lambda run: "*" * len(run.group()), text)
