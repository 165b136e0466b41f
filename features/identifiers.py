"""Personal identifiers recognised by their content, wherever they were typed.

Masking by column misses an ID number typed into an income cell: it is quarantined as "not a
number" with its raw value, and the quarantine is shown on the data page and written to reports.
These functions find ID-number and phone look-alikes in any text so they can be masked whatever
column they came from. Look-alikes are matched on the NFKC form, so full-width digits count too.
"""

from __future__ import annotations

import re
import unicodedata

# Resident ID numbers: 18 characters (17 digits and a digit or X check character) or the old
# 15-digit form; not part of a longer run of digits or letters.
ID_NUMBER = r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])"
# An ID number already cut to its first 6 and last 4 (``mask_id_numbers``): still too much for a
# role that sees no identifiers.
PARTIAL_ID = r"(?<![0-9A-Za-z])[0-9]{6}\*{5,8}[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
# Mainland mobiles (11 digits starting 13-19, optionally +86 / 0086) and landlines (area code
# with a leading 0, 7-8 digit number).
PHONE = r"(?<![0-9])(?:(?:\+|00)86[ -]?)?(?:1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}|0[0-9]{2,3}[ -]?[0-9]{7,8})(?![0-9])"

# One alternation per use, so that matches never overlap: where an ID number and a phone could
# start at the same place (0086 and 11 digits is also 15 digits), the ID number is taken.
_ID_NUMBERS = re.compile(ID_NUMBER)
_IDENTIFIERS = re.compile(f"(?P<id>{ID_NUMBER})|(?P<phone>{PHONE})")
_PERSONAL = re.compile(f"(?P<id>{ID_NUMBER})|(?P<partial>{PARTIAL_ID})|(?P<phone>{PHONE})")


def _folded(text: str) -> str:
    """The text with each character folded by NFKC where that keeps it one character (full-width
    digits and letters become ASCII), so match positions are positions in the original."""
    if text.isascii():  # pragma: no mutate - an ASCII text folds to itself; this only saves time
        return text
    return "".join(f if len(f := unicodedata.normalize("NFKC", c)) == 1 else c for c in text)


def _replace(text: str, pattern: re.Pattern, masked) -> str:
    """The original text with every match (found on the folded form) replaced by ``masked(match)``."""
    out, at = [], 0
    for match in pattern.finditer(_folded(text)):
        out += [text[at:match.start()], masked(match)]
        at = match.end()
    return "".join(out) + text[at:]


def _partial_id(match: re.Match) -> str:
    whole = match[0]
    return whole[:6] + "*" * (len(whole) - 10) + whole[-4:]


def _identifier(match: re.Match) -> str:
    """An ID number cut to its first 6 and last 4; a phone number starred out whole."""
    return _partial_id(match) if match.lastgroup == "id" else "*" * len(match[0])


def _stars(match: re.Match) -> str:
    return "*" * len(match[0])


def mask_id_numbers(text: str) -> str:
    """Every ID-number look-alike kept to its first 6 and last 4 characters (as on a visit sheet)."""
    return _replace(text, _ID_NUMBERS, _partial_id)


def mask_identifiers(text: str) -> str:
    """Every ID-number look-alike kept to its first 6 and last 4 characters and every phone
    look-alike starred out (what a quarantine or flag line shows, ``features.masking``)."""
    return _replace(text, _IDENTIFIERS, _identifier)


def mask_personal(text: str) -> str:
    """Every ID-number and phone look-alike replaced by stars (for roles that see no identifiers)."""
    return _replace(text, _PERSONAL, _stars)


def has_personal(text: str) -> bool:
    """Whether the text holds an ID-number or phone look-alike."""
    return _PERSONAL.search(_folded(text)) is not None
