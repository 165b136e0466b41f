"""What a quarantine line, a CSV or a page must never show: a planted secret, any 7 characters in
a row of a planted phone or ID number (a cut that split a number still leaks most of it), and any
whole phone or ID number at all. On the NFKC form, so full-width digits count. A masked ID number
keeps its first 6 and last 4 characters; a masked phone none. Written out here, apart from
``features.identifiers``, so that a pattern broken in the code is not broken in the check."""

from __future__ import annotations

import re
import unicodedata

WHOLE_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
WHOLE = re.compile(r"(?<![0-9])(?:1[3-9][0-9]{9}|[0-9]{17}[0-9Xx])(?![0-9])")

# Planted in over-long and failing cells by the masking tests.
NAME = "张三丰"
PHONE = "13812345678"
ID_NUMBER = "431128196306195294"
FULL_WIDTH_ID = "４３１１２８１９６３０６１９５２９４"
PAD = "。" * 300  # past the 200-character field limit: the cell is quarantined as too long
SECRETS = (NAME, PHONE, ID_NUMBER, FULL_WIDTH_ID)


def leaks(text: str, secrets: tuple[str, ...] = SECRETS) -> list[str]:
    """The planted secrets (or 7-character pieces of their numbers) and whole phone or ID
    numbers that ``text`` shows; empty when it shows none."""
    folded = unicodedata.normalize("NFKC", text)
    found = [s for s in secrets if unicodedata.normalize("NFKC", s) in folded]
    for secret in secrets:
        digits = unicodedata.normalize("NFKC", secret)
        found += [digits[i:i + 7] for i in range(len(digits) - 6)
                  if digits.isdigit() and digits[i:i + 7] in folded]
    return found + WHOLE.findall(folded)
