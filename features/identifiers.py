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
# 15-digit form; not part of a longer run of digits.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])", re.ASCII)
# An ID number already cut to its first 6 and last 4 (``mask_id_numbers``): still too much for a
# role that sees no identifiers.
PARTIAL_ID = re.compile(r"(?<![0-9A-Za-z])\d{6}\*{5,8}\d{3}[0-9Xx](?![0-9A-Za-z])", re.ASCII)
# Mainland mobiles (11 digits starting 13-19, optionally +86 / 0086) and landlines (area code
# with a leading 0, 7-8 digit number).
PHONE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)86[ -]?)?(?:1[3-9]\d[ -]?\d{4}[ -]?\d{4}|0\d{2,3}[ -]?\d{7,8})(?![0-9])", re.ASCII
)


def _folded(text: str) -> str:
    """The text with each character folded by NFKC where that keeps it one character (full-width
    digits and letters become ASCII), so match positions are positions in the original."""
    if text.isascii():
        return text
    return "".join(f if len(f := unicodedata.normalize("NFKC", c)) == 1 else c for c in text)


def _replace(text: str, patterns: tuple[re.Pattern, ...], masked) -> str:
    """The original text with every match (found on the folded form) replaced by ``masked(match)``."""
    folded = _folded(text)
    spans = sorted((m.start(), m.end(), masked(m)) for p in patterns for m in p.finditer(folded))
    if not spans:
        return text
    out, at = [], 0
    for start, end, replacement in spans:
        if start < at:  # overlapping look-alikes: the first one already covers it
            continue
        out += [text[at:start], replacement]
        at = end
    return "".join(out) + text[at:]


def _partial_id(match: re.Match) -> str:
    whole = match[0]
    return whole[:6] + "*" * (len(whole) - 10) + whole[-4:]


def mask_id_numbers(text: str) -> str:
    """Every ID-number look-alike kept to its first 6 and last 4 characters (as on a visit sheet)."""
    return _replace(text, (ID_NUMBER,), _partial_id)


def _identifier(match: re.Match) -> str:
    """An ID number cut to its first 6 and last 4; a phone number starred out whole."""
    return _partial_id(match) if match.re is ID_NUMBER else "*" * len(match[0])


def mask_identifiers(text: str) -> str:
    """Every ID-number look-alike kept to its first 6 and last 4 characters and every phone
    look-alike starred out (what a quarantine or flag line shows, ``features.masking``)."""
    return _replace(text, (ID_NUMBER, PHONE), _identifier)


def mask_personal(text: str) -> str:
    """Every ID-number and phone look-alike replaced by stars (for roles that see no identifiers)."""
    return _replace(text, (ID_NUMBER, PARTIAL_ID, PHONE), lambda m: "*" * len(m[0]))


def has_personal(text: str) -> bool:
    """Whether the text holds an ID-number or phone look-alike."""
    folded = _folded(text)
    return bool(ID_NUMBER.search(folded) or PARTIAL_ID.search(folded) or PHONE.search(folded))
