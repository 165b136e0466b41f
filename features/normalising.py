"""Normalising raw registry text into typed values, one column at a time.

Registry exports are typed by hand: full-width digits (１２３), stray full-width or non-breaking
spaces, Chinese labels instead of codes, dates written five different ways, thousands separators.
Every function here takes a column of raw strings and returns the typed column plus a mask of the
non-empty values that could not be understood, so the reader can quarantine exactly those cells.

All parsing works on the distinct values of a column (registry columns repeat a handful of values
over hundreds of thousands of rows) and maps the result back, which keeps it vectorised and fast.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features import vocabulary as voc

# Whitespace NFKC leaves alone or turns into a plain space; all of it is stray in a registry cell.
_SPACES = " \t\r\n\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff"
_INNER_SPACE = re.compile(r"\s+")
# Excel stores dates as days since 1899-12-30 (its 1900 leap-year bug included).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_SERIAL = re.compile(r"^\d{5}(\.0+)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_SEPARATORS = re.compile(r"[/.年月]")
_TIME_PART = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")

DATE_DTYPE = "datetime64[ns]"
# Nanosecond timestamps cover 1677-2262; a registry date outside these years is a typo anyway.
_EARLIEST = pd.Timestamp("1700-01-01")
_LATEST = pd.Timestamp("2200-12-31")


def clean_text(value: str) -> str:
    """One cell: full-width to half-width (NFKC) and stray spaces stripped."""
    return unicodedata.normalize("NFKC", value).strip(_SPACES)


def squeeze(value: str) -> str:
    """A cell with every inner space removed too (for codes, numbers and dates)."""
    return _INNER_SPACE.sub("", clean_text(value))


_INVALID = object()  # marks a value that did not parse (distinct from an empty cell)
# Cells that mean "empty" in registry exports ("none" is a real code, so it is not here).
EMPTY_WORDS = frozenset({"null", "nan", "nat", "n/a", "#n/a", "<na>"})
_EMPTY_ARRAY = pa.array(sorted(EMPTY_WORDS), type=pa.string())


def _is_empty_word(value: Any) -> bool:
    return isinstance(value, str) and squeeze(value).lower() in EMPTY_WORDS


def clean_column(raw: pd.Series) -> pd.Series | None:
    """NFKC, stray spaces trimmed, empty words -> missing, for a whole text column at once.

    Runs in Arrow's C++ kernels (a million cells in well under a second). Returns None for a
    column that is not text (numbers or dates from Parquet), which the callers handle directly.
    """
    if not (raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype)):
        return None
    try:
        arr = pa.array(raw, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    arr = pc.utf8_trim(pc.utf8_normalize(arr, "NFKC"), _SPACES)
    empty = pc.or_(pc.equal(arr, ""), pc.is_in(pc.utf8_lower(arr), value_set=_EMPTY_ARRAY))
    arr = pc.if_else(empty, pa.scalar(None, pa.string()), arr)
    out = arr.to_pandas()
    out.index = raw.index
    return out.astype("str")


def _on_uniques(
    raw: pd.Series, parse: Callable[[Any], Any], dtype: Any
) -> tuple[pd.Series, pd.Series]:
    """Apply ``parse`` to each distinct non-empty value and broadcast back to the rows.

    Returns the parsed column in ``dtype`` (missing where empty or invalid) and the mask of rows
    whose value ``parse`` rejected by returning ``_INVALID``.
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    parsed = [None if _is_empty_word(u) else parse(u) for u in uniques]
    rejected = np.array([v is _INVALID for v in parsed] + [False], dtype=bool)
    parsed = [None if v is _INVALID else v for v in parsed]
    typed = pd.Series(parsed, dtype=object).astype(dtype).array
    values = pd.Series(typed.take(codes, allow_fill=True), index=raw.index)
    return values, pd.Series(rejected[codes], index=raw.index)  # code -1 hits the last False


def text(raw: pd.Series) -> pd.Series:
    """Normalised text; empty cells become missing."""
    cleaned = clean_column(raw)
    if cleaned is not None:
        return cleaned
    values, _ = _on_uniques(raw, lambda v: clean_text(str(v)) or None, "str")
    return values


def _typed(raw: pd.Series, parse: Callable[[Any], Any], dtype: Any) -> tuple[pd.Series, pd.Series]:
    return _on_uniques(raw, parse, dtype)


def codes(raw: pd.Series, allowed: Mapping[str, str]) -> pd.Series:
    """Chinese label or code -> code.

    Unknown values are returned as written (normalised) so that the schema's allowed-values check
    reports them with the value the person typed.
    """
    lookup: dict[str, str] = {}
    stems: dict[str, list[str]] = {}
    for code, label in allowed.items():
        for key in (str(code), label, squeeze(label)):
            lookup[key] = str(code)
            lookup[key.lower()] = str(code)
        # "A级" for "A级（安全）": the label without its explanation in brackets.
        stems.setdefault(squeeze(label).split("(")[0], []).append(str(code))
    for stem, matches in stems.items():
        if stem and len(matches) == 1:
            lookup.setdefault(stem, matches[0])

    def parse(value: Any) -> str | None:
        cleaned = clean_text(str(value))
        if not cleaned:
            return None
        key = _INNER_SPACE.sub("", cleaned)
        return lookup.get(key) or lookup.get(key.lower()) or cleaned

    cleaned = clean_column(raw)
    values, _ = _on_uniques(raw if cleaned is None else cleaned, parse, "str")
    return values


_BOOLEANS = {word: flag for flag, words in voc.BOOLEAN_WORDS.items() for word in words}


def booleans(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes/no words (是/否, 1/0, true/false, √/×) -> nullable boolean."""
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean"), pd.Series(False, index=raw.index)

    def parse(value: Any) -> Any:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        key = squeeze(str(value)).lower()
        if not key:
            return None
        # Excel and Parquet may hand over 1.0 / 0.0 for a yes/no column.
        key = {"1.0": "1", "0.0": "0"}.get(key, key)
        return _BOOLEANS.get(key, _INVALID)

    cleaned = clean_column(raw)
    return _typed(raw if cleaned is None else cleaned, parse, "boolean")


def _number(value: Any, unit: str | None) -> Any:
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return None if pd.isna(value) else float(value)
    key = squeeze(str(value))
    if unit and key.endswith(unit):
        key = key[: -len(unit)]
    if not key:
        return None
    # "1.2万" is how people write 12,000; the multiplier is explicit, so it is safe to apply.
    scale = 10_000.0 if key.endswith("万") else 1.0
    key = key.removesuffix("万")
    if _THOUSANDS.match(key):
        key = key.replace(",", "")
    if not _NUMBER.match(key):
        return _INVALID
    number = float(key) * scale
    return number if np.isfinite(number) else _INVALID


def _is_numeric(raw: pd.Series) -> bool:
    """Already numeric (Parquet, typed frames): no text to parse."""
    return pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype)


def _fast_then_slow(
    raw: pd.Series,
    fast: Callable[[pd.Series], pd.Series],
    slow: Callable[[Any], Any],
    dtype: str,
) -> tuple[pd.Series, pd.Series]:
    """Parse the common spelling of a whole column at once, the unusual rest value by value."""
    cleaned = clean_column(raw)
    if cleaned is None:
        return _typed(raw, slow, dtype)
    values = fast(cleaned)
    rest = cleaned.notna() & values.isna()
    bad = pd.Series(False, index=raw.index)
    if rest.any():
        slow_values, slow_bad = _typed(cleaned[rest], slow, dtype)
        values = values.astype(dtype)
        values[rest] = slow_values
        bad[rest] = slow_bad
    return values.astype(dtype), bad


def _fast_number(cleaned: pd.Series) -> pd.Series:
    try:
        # Arrow's cast is all-or-nothing and fast: the usual case of a clean column.
        numbers = pc.cast(pa.array(cleaned, type=pa.string(), from_pandas=True), pa.float64())
        numbers = numbers.to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        numbers = pd.to_numeric(cleaned.to_numpy(dtype=object), errors="coerce")
    numbers = pd.Series(numbers, index=cleaned.index, dtype="float64")
    return numbers.where(np.isfinite(numbers))


def floats(raw: pd.Series, unit: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Numbers with thousands separators, full-width digits or a trailing unit -> float64."""
    if _is_numeric(raw):
        return raw.astype("float64"), pd.Series(False, index=raw.index)
    return _fast_then_slow(raw, _fast_number, lambda v: _number(v, unit), "float64")


def integers(raw: pd.Series, unit: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Whole numbers -> Int64; a fractional value (3.5 months) is not a valid whole number."""
    if _is_numeric(raw):
        as_float = raw.astype("float64")
        bad = as_float.notna() & (as_float != np.floor(as_float))
        return as_float.where(~bad).round().astype("Int64"), bad

    def parse(value: Any) -> Any:
        number = _number(value, unit)
        if number is None or number is _INVALID:
            return number
        return int(number) if float(number).is_integer() else _INVALID

    def fast(cleaned: pd.Series) -> pd.Series:
        # Fractions fall through to ``parse``, which rejects them.
        numbers = _fast_number(cleaned)
        return numbers.where(numbers == np.floor(numbers))

    return _fast_then_slow(raw, fast, parse, "Int64")


def _date(value: Any, excel_serials: bool) -> Any:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return None if pd.isna(value) else pd.Timestamp(value).normalize()
    if hasattr(value, "year") and hasattr(value, "month"):  # datetime.date / datetime.datetime
        return pd.Timestamp(value).normalize()
    key = squeeze(str(value)) if not isinstance(value, str) else clean_text(value)
    if not key:
        return None
    if excel_serials and _EXCEL_SERIAL.match(key):
        return _EXCEL_EPOCH + pd.Timedelta(days=int(float(key)))
    key = _TIME_PART.sub("", key)
    key = _INNER_SPACE.sub("", key)
    key = _DATE_SEPARATORS.sub("-", key).removesuffix("日").rstrip("-")
    compact = _COMPACT_DATE.match(key)
    if compact:
        key = "-".join(compact.groups())
    parts = key.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        return _INVALID
    try:
        stamp = pd.Timestamp(year=int(parts[0]), month=int(parts[1]), day=int(parts[2]))
    except ValueError:
        return _INVALID
    return stamp if _EARLIEST <= stamp <= _LATEST else _INVALID


def dates(raw: pd.Series, *, excel_serials: bool = False) -> tuple[pd.Series, pd.Series]:
    """Dates as 2024-03-01, 2024/3/1, 2024.3.1, 20240301, 2024年3月1日 (or Excel serials) -> dates.

    Args:
        raw: the column as read.
        excel_serials: also accept Excel day numbers (45352); only for XLSX sources, where a date
            cell formatted as a number shows up that way.
    """
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return raw.astype(DATE_DTYPE).dt.normalize(), pd.Series(False, index=raw.index)

    def fast(cleaned: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(cleaned, format="%Y-%m-%d", errors="coerce")
        return parsed.where(parsed.between(_EARLIEST, _LATEST)).astype(DATE_DTYPE)

    return _fast_then_slow(raw, fast, lambda v: _date(v, excel_serials), DATE_DTYPE)


_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")


def excel_number_ids(text_column: pd.Series) -> pd.Series:
    """Mask of ID cells in Excel's scientific notation (4.31128E+17): digits already lost."""
    return text_column.map(lambda v: isinstance(v, str) and bool(_SCIENTIFIC.match(v)), na_action="ignore").fillna(
        False).astype(bool)


def header_key(header: Any) -> str:
    """A column header reduced to what identifies it: NFKC, no spaces, lower case."""
    return squeeze(str(header)).lower()
