"""What the registry exports in a given week, and how it writes it (Chinese headers and values)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.contract import fields
from features.point_in_time import known_at, recorded_by

BOOL_ZH = {True: "是", False: "否"}


def week_view(tables: dict[str, pd.DataFrame], monday: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The export of the ISO week starting ``monday`` (English codes).

    Current row of every household and member as the registry shows it on Sunday, each
    household's latest income survey, the events recorded in the week (whatever date they carry),
    and monitoring records open or changed in the week. Nothing dated or recorded after Sunday is
    visible: a later ``valid_to`` or elimination shows as empty.
    """
    sunday = monday + pd.Timedelta(days=6)
    out = {}
    for name, key in (("households", "household_id"), ("members", "member_id")):
        cur = known_at(tables[name], sunday, key).copy()
        cur["valid_to"] = pd.NaT
        out[name] = cur.reset_index(drop=True)
    present = set(out["households"]["household_id"])
    s = tables["income_surveys"]
    s = s[(s["survey_date"] <= sunday) & recorded_by(s, sunday) & s["household_id"].isin(present)]
    out["income_surveys"] = (s.sort_values(["household_id", "survey_year"], kind="stable")
                             .groupby("household_id", sort=False).tail(1).reset_index(drop=True))
    e = tables["events"]
    if "recorded_at" in e.columns:
        new = (e["recorded_at"] >= monday) & (e["recorded_at"] <= sunday) & (e["event_date"] <= sunday)
    else:
        new = (e["event_date"] >= monday) & (e["event_date"] <= sunday)
    # a late record of a household closed (销户) meanwhile never reaches the export, except the
    # death that closed it
    new &= e["household_id"].isin(present) | (e["event_type"] == "death")
    out["events"] = e[new].reset_index(drop=True)
    o = tables["outcomes"]
    # households whose last member died are closed (销户): their records leave the export too
    o = o[(o["entry_date"] <= sunday) & (o["elimination_date"].isna() | (o["elimination_date"] >= monday))
          & o["household_id"].isin(present)].copy()
    o.loc[o["elimination_date"] > sunday, "elimination_date"] = pd.NaT
    out["outcomes"] = o.reset_index(drop=True)
    return out


def _money(values: pd.Series) -> pd.Series:
    # Whole yuan print without decimals; fractional values (e.g. 万元 errors) with up to 4 places.
    v = values.astype("float64").to_numpy()
    na = np.isnan(v)
    whole = ~na & (v == np.round(v))
    out = np.full(len(v), "", dtype=object)
    out[whole] = v[whole].astype(np.int64).astype(str)
    frac = ~na & ~whole
    out[frac] = [f"{x:.4f}".rstrip("0").rstrip(".") for x in v[frac]]
    return pd.Series(out, index=values.index, dtype=object)


def to_chinese(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Render a contract table as the county system writes it: Chinese headers and labels,
    booleans 是/否, dates YYYY-MM-DD, empty cells for missing values."""
    cols = {}
    for f in fields(table):
        if f.name not in df.columns:
            continue
        col = df[f.name]
        if f.kind == "code":
            text = col.map(f.allowed).astype(object)
        elif f.kind == "bool":
            na = col.isna().to_numpy()
            yes = col.fillna(False).astype(bool).to_numpy()
            text = pd.Series(np.where(na, "", np.where(yes, BOOL_ZH[True], BOOL_ZH[False])),
                             index=col.index, dtype=object)
        elif f.kind == "date":
            text = pd.to_datetime(col).dt.strftime("%Y-%m-%d").astype(object)
        elif f.kind == "int":
            text = col.astype("Int64").astype(str).replace("<NA>", "").astype(object)
        elif f.kind == "float":
            text = _money(col)
        else:
            text = col.astype(object)
        cols[f.zh] = text.where(col.notna(), "") if f.kind != "float" else text
    return pd.DataFrame(cols)


def sort_keys(table: str) -> list[str]:
    """Row order of each table in files (deterministic output)."""
    return {
        "households": ["household_id", "valid_from"],
        "members": ["member_id", "valid_from"],
        "income_surveys": ["household_id", "survey_year"],
        "events": ["event_date", "event_id"],
        "outcomes": ["household_id", "entry_date"],
    }[table]


def ordered(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Contract column order and deterministic row order."""
    names = [f.name for f in fields(table) if f.name in df.columns]
    return df.sort_values(sort_keys(table), kind="stable")[names].reset_index(drop=True)

