"""The person-level layout: one row per member, the household's columns repeated on each row.

Registry systems often export households and members as one sheet (人员明细): a row per person
with 户编号, 乡镇, 户类型… repeated on every member's row. It is recognised by its headers (both
household and member columns), never by its file name, and split here into the two contract
tables. The household's own validity dates are headed 户生效日期 / 户失效日期 / 户入库时间 (生效日期
and the rest belong to the member on the row).

A household whose repeated columns disagree between its rows cannot be told apart from a typo:
it is quarantined, one line per column naming both values and the rows they are on. A member
row with every household column empty (apart from 户编号) only gives a member; a row with every
member column empty only gives a household (a household registered before its members are: the
registry enters them days apart), and is listed as such rather than read as a member without an id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import contract
from features import normalising as norm
from features import quarantine as qt
from features.mapping_profile import Profile
from features.table_files import header_map

PERSONS = "persons"
# The household's validity dates in a person-level sheet (the plain labels are the member's).
HOUSEHOLD_DATES = {
    "valid_from": ("户生效日期", "户信息生效日期", "household_valid_from"),
    "valid_to": ("户失效日期", "户信息失效日期", "household_valid_to"),
    "recorded_at": ("户入库时间", "户信息入库时间", "household_recorded_at"),
}
SHARED = ("household_id",)


def person_headers(profile: Profile) -> dict[str, tuple[str, str]]:
    """Normalised header -> (table, contract column) in a person-level sheet."""
    out: dict[str, tuple[str, str]] = {}
    for key, name in header_map("members", profile).items():
        out[key] = ("members", name)
    for key, name in header_map("households", profile).items():
        if name in HOUSEHOLD_DATES:
            continue  # 生效日期 on a person's row is the member's
        out.setdefault(key, ("households", name))
    for name, headers in HOUSEHOLD_DATES.items():
        for header in headers:
            out[norm.header_key(header)] = ("households", name)
    return out


def household_columns(frame_headers: list[str], profile: Profile) -> dict[str, str]:
    """Own header -> household contract column, for the headers of a person-level sheet."""
    keys = person_headers(profile)
    out = {}
    for header in frame_headers:
        hit = keys.get(norm.header_key(header))
        if hit and (hit[0] == "households" or hit[1] in SHARED):
            out[header] = hit[1]
    return out


def member_columns(frame_headers: list[str], profile: Profile) -> dict[str, str]:
    keys = person_headers(profile)
    return {h: keys[norm.header_key(h)][1] for h in frame_headers
            if norm.header_key(h) in keys and keys[norm.header_key(h)][0] == "members"}


def comparable(cells: pd.Series, f: contract.Field) -> pd.Series:
    """Cells as the values they mean, so 2025/3/5 and 2025年3月5日, 是 and 1 count as the same;
    a cell that does not parse stays as written (and differs from any value that does)."""
    if f.kind == "date":
        values, _ = norm.dates(cells, excel_serials=True)
    elif f.kind in ("int", "float"):
        values, _ = norm.floats(cells, f.unit)
    elif f.kind == "bool":
        values, _ = norm.booleans(cells)
    elif f.kind == "code":
        values = norm.codes(cells, f.allowed or {})
    else:
        values = norm.text(cells)
    out = values.astype(object).where(values.notna(), None)
    raw = cells.where(cells.ne(""), None)
    return out.where(out.notna() | raw.isna(), "?" + raw.astype(str)).fillna("")


def _empty_rows(cells: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Rows whose ``columns`` are all empty as a cleaned cell reads. Column by column, only on the
    rows still empty: the first member column decides nearly every row, so a sheet of a million
    persons is read once, not once per member column."""
    empty = np.ones(len(cells), dtype=bool)
    for column in columns:
        rows = np.flatnonzero(empty)
        if not len(rows):
            break
        empty[rows] = [not (v and norm.clean_text(str(v))) for v in cells[column].to_numpy()[rows]]
    return empty


HOUSEHOLD_ONLY = "a household without members: read as the household only / 无家庭成员的农户行，仅读取农户信息"


def split(cells: pd.DataFrame, label: str, profile: Profile
          ) -> tuple[pd.DataFrame, pd.DataFrame, list[pd.DataFrame], list[tuple[int, str, str]]]:
    """(household cells, member cells, quarantine lines, household-only rows) from a person-level
    sheet's cells.

    Both frames carry contract headers (the households' in the households' own labels so the
    usual header mapping applies) and Excel row numbers: a household's row is the first row it
    appears on. Quarantine lines name disagreeing household columns on that row. Household-only
    rows (every member column empty) are (row, 户编号, reason): they give no member.
    """
    hh_cols = household_columns(list(cells.columns), profile)
    mb_cols = member_columns(list(cells.columns), profile)
    id_header = next((h for h, c in hh_cols.items() if c == "household_id"), None)
    members = cells[[h for h in cells.columns if h in mb_cols or h == id_header]].copy()
    members.columns = [mb_cols.get(h, "household_id") for h in members.columns]
    if id_header is None:
        return cells.iloc[0:0, 0:0], members, [], []
    alone = _empty_rows(cells, [h for h in cells.columns if h in mb_cols and mb_cols[h] not in SHARED])
    household_only = [(int(row), norm.clean_text(str(cells.at[row, id_header])), HOUSEHOLD_ONLY)
                      for row in cells.index[alone]]
    members = members[~alone]
    own = [h for h in hh_cols if h != id_header]
    households = cells[[id_header, *own]].copy()
    households.columns = [hh_cols[h] for h in households.columns]
    others = [c for c in households.columns if c != "household_id"]
    stripped = households[others].apply(lambda col: col.map(lambda v: norm.clean_text(str(v)) if v else ""))
    informative = stripped.ne("").any(axis=1) & households["household_id"].map(lambda v: bool(str(v).strip()))
    households, stripped = households[informative], stripped[informative]
    ids = households["household_id"].map(lambda v: norm.clean_text(str(v)))
    first = ~ids.duplicated()
    lines = []
    kinds = {f.name: f for f in contract.fields("households")}
    sensitive = contract.sensitive_columns("households")
    for column in others:
        same = comparable(stripped[column], kinds[column])
        differs = same.ne(same.groupby(ids.to_numpy()).transform("first"))
        for household in ids[differs].unique():
            rows = stripped.index[(ids == household).to_numpy()]
            seen: dict[object, tuple[str, int]] = {}
            for row in rows:
                seen.setdefault(same.at[row], (stripped.at[row, column], row))
            shown = " ≠ ".join(f"{'***' if column in sensitive else v or '(空)'} (row {r})" for v, r in seen.values())
            lines.append(qt.lines(label, pd.Index([rows[0]]), column, pd.Series([shown], index=[rows[0]]),
                                  qt.HOUSEHOLD_ROWS_DIFFER))
    return households[first.to_numpy()], members, lines, household_only
