"""Parsing one table's raw cells into contract dtypes, and the schema's verdict as quarantine lines.

``features.reading`` reads; this module turns a table's text cells (under contract names) into
typed columns with :mod:`features.normalising`, applies a county's mapping profile to coded
values first, and validates the typed frame with the table's pandera schema. Every cell that
fails becomes one quarantine line with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pandera

from features import contract
from features import normalising as norm
from features import quarantine as qt
from features.mapping_profile import EMPTY, Profile, map_values
from features.table_files import ContractError

# --------------------------------------------------------------------------- parsing


@dataclass
class Parsed:
    table: str
    file: str
    raw: pd.DataFrame  # contract names, raw cells, indexed by row number
    typed: pd.DataFrame  # contract dtypes, same index
    lines: list[pd.DataFrame]  # quarantine lines found so far


_PARSE_REASONS = {
    "string": qt.ID_AS_NUMBER,
    "int": qt.NOT_A_WHOLE_NUMBER,
    "float": qt.NOT_A_NUMBER,
    "date": qt.NOT_A_DATE,
    "bool": qt.NOT_A_BOOLEAN,
}


def parse(raw: pd.DataFrame, table: str, file: str, excel: bool, profile: Profile = EMPTY) -> Parsed:
    typed = {}
    lines = []
    for f in contract.fields(table):
        col = map_values(raw[f.name], profile.value_map(table, f.name))
        bad = None
        if f.kind == "string":
            typed[f.name] = norm.text(col)
            if f.name in contract.IDENTIFIERS:
                bad = norm.excel_number_ids(typed[f.name])
        elif f.kind == "code":
            typed[f.name] = norm.codes(col, f.allowed or {})
        elif f.kind == "int":
            typed[f.name], bad = norm.integers(col, f.unit)
        elif f.kind == "float":
            typed[f.name], bad = norm.floats(col, f.unit)
        elif f.kind == "bool":
            typed[f.name], bad = norm.booleans(col)
        elif f.kind == "date":
            typed[f.name], bad = norm.dates(col, excel_serials=excel)
        if bad is not None and bad.any():
            rows = raw.index[bad.to_numpy()]
            lines.append(
                qt.lines(file, rows, f.name, raw.loc[rows, f.name], _PARSE_REASONS[f.kind])
            )
    frame = pd.DataFrame(typed, index=raw.index)
    return Parsed(table, file, raw, frame, lines)




def _reason_for(check: str) -> str:
    if check == "not_nullable":
        return qt.MISSING
    if check.startswith("not one of the allowed values") or check.startswith("isin"):
        return qt.UNKNOWN_VALUE
    if check.startswith("below the minimum"):
        return qt.BELOW_MINIMUM.format(limit=_limit(check))
    if check.startswith("above the maximum"):
        return qt.ABOVE_MAXIMUM.format(limit=_limit(check))
    if check in ("multiple_fields_uniqueness", "field_uniqueness"):
        return qt.DUPLICATE_KEY
    return f"{check} / 不符合数据约定"


def _limit(check: str) -> str:
    number = float(check.rsplit(" ", 1)[-1])
    return str(int(number)) if number.is_integer() else str(number)


def schema_lines(p: Parsed) -> list[pd.DataFrame]:
    """Validate the typed frame with the table's pandera schema; failures -> quarantine lines."""
    try:
        contract.TABLES[p.table].validate(p.typed, lazy=True)
        return []
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    out = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        if group["index"].isna().any():
            # Column-level failures (wrong dtype) mean the reader built the frame wrongly.
            raise ContractError(f"{p.file}: column '{column}' could not be typed ({check})")
        rows = pd.Index(group["index"].astype("int64"))
        out.append(
            qt.lines(p.file, rows, str(column), p.raw.loc[rows, column], _reason_for(str(check)))
        )
    return out
