"""Loading a CSV or Parquet table file's raw cells, and mapping any table's headers to contract
names.

CSV may be UTF-8, UTF-8 with BOM or GBK/GB18030; headers English names, Chinese labels, aliases
or a county's own (a mapping profile). ``features.export_sources`` finds a folder's tables (and
``features.workbooks`` reads office workbooks); ``features.reading`` parses and validates them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from features import contract
from features import input_limits as limits
from features import normalising as norm
from features.mapping_profile import EMPTY, Profile

SUFFIXES = (".csv", ".xlsx", ".xls", ".parquet")


class ContractError(ValueError):
    """An export that cannot be used at all; the message is one line naming file and column."""




# --------------------------------------------------------------------------- finding files


def export_folders(county: Path) -> list[tuple[str, Path]]:
    """The folders to read in a county folder: ``history`` then every ``exports/YYYY-Www``.

    A plain export folder (table files directly in it) is returned as itself.
    """
    county = Path(county)
    if (county / "history").is_dir() or (county / "exports").is_dir():
        out = []
        if (county / "history").is_dir():
            out.append(("history", county / "history"))
        if (county / "exports").is_dir():
            out += [
                (f"exports/{p.name}", p)
                for p in sorted((county / "exports").iterdir())
                if p.is_dir()
            ]
        return out
    return [(".", county)]


# --------------------------------------------------------------------------- loading raw cells


def _decode(data: bytes, name: str) -> tuple[str, str]:
    # utf-8-sig first: it also reads plain UTF-8 and strips a BOM; GB18030 is a superset of GBK.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ContractError(f"{name}: cannot read file (not UTF-8 or GBK/GB18030 text)")


def _load_csv(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    text, encoding = _decode(data, path.name)
    # Arrow wants UTF-8 bytes: reuse the file's own when it is UTF-8 already.
    utf8 = data.removeprefix(b"\xef\xbb\xbf") if encoding == "utf-8-sig" else text.encode()
    fast = _load_csv_arrow(text, utf8)
    if fast is not None:
        return fast
    try:
        return pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        kind = "empty file" if isinstance(error, pd.errors.EmptyDataError) else "not a valid CSV"
        raise ContractError(f"{path.name}: cannot read file ({kind})") from None


def _load_csv_arrow(text: str, utf8: bytes) -> pd.DataFrame | None:
    """Arrow's multithreaded CSV reader, all columns as text; None when pandas must do it.

    Arrow skips blank lines, which would shift the row numbers people look up in Excel, and is
    strict about ragged rows: both cases go to the (slower) pandas reader instead.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    end = text.find("\n")
    if end < 0 or "\n\n" in text or "\n\r\n" in text:
        return None
    header = next(csv.reader([text[:end].rstrip("\r")]), [])
    if not header or len(set(header)) != len(header) or "" in header:
        return None
    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return table.to_pandas()


def _load_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception:  # pyarrow raises several unrelated types for a broken file
        raise ContractError(f"{path.name}: cannot read file (not a valid Parquet file)") from None


def load_cells(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file's cells with their own headers, indexed by the row number Excel
    would show (workbooks: ``features.workbooks``)."""
    suffix = path.suffix.lower()
    loader = {".csv": _load_csv, ".parquet": _load_parquet}[suffix]
    try:
        limits.check_file(path)  # size, and an XLSX's dimensions, before anything is allocated
    except limits.LimitError as error:
        raise ContractError(str(error)) from None
    raw = loader(path)
    raw.index = pd.RangeIndex(2, len(raw) + 2)  # header is row 1
    if suffix != ".parquet" and len(raw):
        # Fully blank lines are not rows anyone meant; drop them but keep the others' numbers.
        raw = raw[raw.ne("").any(axis=1)]
    return raw


# --------------------------------------------------------------------------- headers


def header_map(table: str, profile: Profile = EMPTY) -> dict[str, str]:
    """Normalised header -> contract column: the profile's headers first, then the contract's
    names, Chinese labels and aliases."""
    mapping = dict(profile.header_map(table))
    for f in contract.fields(table):
        mapping.setdefault(norm.header_key(f.name), f.name)
        mapping.setdefault(norm.header_key(f.zh), f.name)
    for alias, name in contract.HEADER_ALIASES.get(table, {}).items():
        mapping.setdefault(norm.header_key(alias), name)
    return mapping


def contract_headers(raw: pd.DataFrame, table: str, file: str, notes: list[str],
                     profile: Profile = EMPTY, mapped: dict[str, str] | None = None) -> pd.DataFrame:
    """Headers -> contract names; fail on a missing required column, note the rest. ``mapped``
    (when given) receives each header as written -> the contract column it was read as."""
    mapping = header_map(table, profile)
    renamed: dict[object, str] = {}
    ignored = []
    for header in raw.columns:
        name = mapping.get(norm.header_key(header))
        if name is None:
            if norm.header_key(header) and not str(header).startswith("Unnamed:"):
                ignored.append(str(header))
            continue
        if name in renamed.values():
            raise ContractError(f"{file}: column '{name}' ({contract.zh_labels(table)[name]}) "
                                "appears twice")
        renamed[header] = name
    if mapped is not None:
        mapped.update({str(h): n for h, n in renamed.items()})
    out = raw[list(renamed)].copy()
    out.columns = list(renamed.values())
    for f in contract.fields(table):
        if f.name in out.columns:
            continue
        if not f.nullable:
            raise ContractError(f"{file}: missing required column '{f.name}' ({f.zh})")
        out[f.name] = pd.Series(np.nan, index=out.index, dtype=object)
        notes.append(f"{file}: optional column '{f.name}' ({f.zh}) absent, left empty / 可选列缺失")
    if ignored:
        notes.append(f"{file}: ignored columns not in the contract / 忽略的列: {', '.join(ignored)}")
    return out
