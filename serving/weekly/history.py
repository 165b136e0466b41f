"""The accumulated registry history the weekly job builds features from.

A county's weekly export holds only the registry as it stands that week (current rows, the week's
events, latest surveys, open or changed monitoring records); features need years of it. fanpin
keeps the history as Parquet files under ``FANPIN_HOME/history/``: seeded once from a history
folder (``fanpin history import --data DIR``), then every weekly run appends its export.

Layout: ``history/<generation>/<table>.parquet`` plus ``history/CURRENT`` naming the live
generation and ``manifest.json`` in it (``as_of``: the last date the history covers; ``weeks``:
exports applied). A change writes a new generation and then replaces CURRENT atomically, so a
killed run leaves the previous history whole. Applying an export is idempotent: a week whose
cutoff is not after ``as_of`` is already covered and changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from features.contract import KEYS, TABLES
from features.point_in_time import recorded_by
from features.weeks import Week
from serving.private_files import private_tree

SCD_KEYS = {"households": "household_id", "members": "member_id"}
DATED = {"income_surveys": "survey_date", "events": "event_date", "outcomes": "entry_date"}


@dataclass
class History:
    """The tables and what they cover."""

    tables: dict[str, pd.DataFrame]
    as_of: pd.Timestamp | None
    weeks: list[str] = field(default_factory=list)
    source: str | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)  # week -> export fingerprint applied
    generation: str | None = None  # the folder it was loaded from
    parent: str | None = None  # the generation before the last week was applied (kept to replace it)


def history_root(home: Path) -> Path:
    return Path(home) / "history"


def load_history(home: Path, generation: str | None = None) -> History | None:
    """The live history generation (or the named one), or None when nothing was imported yet."""
    root = history_root(home)
    current = root / "CURRENT"
    if not current.exists():
        return None
    name = generation or current.read_text().strip()
    folder = root / name
    manifest = json.loads((folder / "manifest.json").read_text())
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
    as_of = pd.Timestamp(manifest["as_of"]) if manifest.get("as_of") else None
    return History(tables, as_of, list(manifest.get("weeks", [])), manifest.get("source"),
                   dict(manifest.get("fingerprints", {})), name, manifest.get("parent"))


def save_history(home: Path, history: History) -> Path:
    """Write a new generation and switch CURRENT to it (atomic rename); drop older generations
    except ``history.parent`` (the history before its last week, to replace that week)."""
    root = history_root(home)
    root.mkdir(parents=True, exist_ok=True)
    name = "g-" + uuid.uuid4().hex[:12]
    folder = root / name
    folder.mkdir()
    for table, frame in history.tables.items():
        frame.to_parquet(folder / f"{table}.parquet", index=False)
    manifest = {
        "as_of": None if history.as_of is None else str(history.as_of.date()),
        "weeks": history.weeks,
        "source": history.source,
        "rows": {t: int(len(f)) for t, f in history.tables.items()},
        "fingerprints": history.fingerprints,
        "parent": history.parent,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    private_tree(folder)  # raw ID numbers: owner-only before the generation goes live
    tmp = root / f"CURRENT.{name}"
    tmp.write_text(name)
    os.replace(tmp, root / "CURRENT")
    for old in root.iterdir():
        if old.is_dir() and old.name not in (name, history.parent):
            shutil.rmtree(old, ignore_errors=True)
    return folder


def as_known_at(tables: dict[str, pd.DataFrame], until: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The tables as the registry knew them on ``until`` (nothing recorded after it).

    Row versions starting later or recorded (入库时间) later are dropped; a version whose successor
    was not recorded yet is open again, as are closures dated later; surveys, events and
    monitoring entries dated or recorded later are dropped, later eliminations undone. A version
    back-dated at a home visit must not reach a history "known" before the visit: the weekly
    exports do not list it until it is recorded, and the export's own version would then look
    like a household the registry no longer lists.
    """
    until = pd.Timestamp(until)
    out = {}
    for name, frame in tables.items():
        f = frame
        if name in SCD_KEYS:
            f = _versions_known_at(f, SCD_KEYS[name], until)
        elif name in DATED:
            f = f.loc[(f[DATED[name]] <= until) & recorded_by(f, until)].copy()
            if name == "outcomes":
                f.loc[f["elimination_date"] > until, "elimination_date"] = pd.NaT
        out[name] = f.reset_index(drop=True)
    return out


def _versions_known_at(table: pd.DataFrame, key: str, until: pd.Timestamp) -> pd.DataFrame:
    """A slowly changing table's version chains as recorded by ``until``."""
    t = table.sort_values([key, "valid_from"], kind="stable")
    # a version ended by its successor, as opposed to closed (the member left, the household closed)
    succeeded = t.groupby(key, sort=False)["valid_from"].shift(-1).eq(t["valid_to"])
    keep = (t["valid_from"] <= until) & recorded_by(t, until)
    t, succeeded = t.loc[keep].copy(), succeeded[keep]
    following = t.groupby(key, sort=False)["valid_from"].shift(-1)
    ends = following.where(following.notna(), t["valid_to"].where(~succeeded & (t["valid_to"] <= until)))
    t["valid_to"] = ends.astype(t["valid_to"].dtype)
    return t


def _merge_versions(past: pd.DataFrame, export: pd.DataFrame, key: str, week_start: pd.Timestamp,
                    cutoff: pd.Timestamp) -> pd.DataFrame:
    """Add the export's row versions; close versions the export replaced or no longer lists."""
    combined = pd.concat([past, export], ignore_index=True)
    combined = combined.drop_duplicates([key, "valid_from"], keep="last")
    combined = combined.sort_values([key, "valid_from"]).reset_index(drop=True)
    # A version ends where the next version of the same key starts.
    next_start = combined.groupby(key)["valid_from"].shift(-1)
    replaced = combined["valid_to"].isna() & next_start.notna()
    combined.loc[replaced, "valid_to"] = next_start[replaced]
    # Keys the export no longer lists left the registry during this week.
    listed = set(export.loc[export["valid_to"].isna(), key])
    gone = combined["valid_to"].isna() & ~combined[key].isin(listed) & (combined["valid_from"] <= cutoff)
    combined.loc[gone, "valid_to"] = week_start
    return combined


def append_export(history: History, export: dict[str, pd.DataFrame], week: Week,
                  cutoff: pd.Timestamp) -> tuple[History, bool]:
    """The history with one weekly export added (unchanged when the week is already covered).

    Slowly changing rows get versions closed at the week's start, so the history can be read as
    known at any later cutoff. ``monitoring.current.overlay_export`` is the other way to combine
    the two, on purpose: a read-only view at any cutoff for the drift monitor, never persisted.

    Returns:
        (history, changed).
    """
    cutoff = pd.Timestamp(cutoff)
    if history.as_of is not None and cutoff <= history.as_of:
        return history, False
    week_start = cutoff - pd.Timedelta(days=6)
    tables = {}
    for name, past in history.tables.items():
        new = export.get(name)
        if new is None or not len(new):
            tables[name] = past
            continue
        new = new[past.columns].astype(past.dtypes.to_dict())
        if name in SCD_KEYS:
            tables[name] = _merge_versions(past, new, SCD_KEYS[name], week_start, cutoff)
        else:
            merged = pd.concat([past, new], ignore_index=True)
            tables[name] = merged.drop_duplicates(KEYS[name], keep="last").reset_index(drop=True)
    return History(tables, cutoff, [*history.weeks, week], history.source, dict(history.fingerprints),
                   None, history.generation), True


class HistoryConflict(RuntimeError):
    """A corrected export of a week that later weeks were already built on; one line."""


def apply_week(home: Path, history: History, export: dict[str, pd.DataFrame], week: Week, cutoff: pd.Timestamp,
               fingerprint: str) -> tuple[History, str]:
    """Add a week's export to the history, or replace what the week contributed.

    A week applied again with the same export changes nothing ("already covered"); with a
    corrected export (another fingerprint) the week's contribution is replaced: the history is
    rebuilt from the generation kept from before that week ("replaced"). Only the latest applied
    week can be replaced; an earlier one would leave later weeks built on the wrong data.

    Returns:
        (history, status): status is "appended", "replaced" or "already covered".

    Raises:
        HistoryConflict: a corrected export of a week older than the latest applied one.
    """
    known = history.fingerprints.get(week)
    if history.as_of is not None and pd.Timestamp(cutoff) <= history.as_of:
        if known is None or known == fingerprint:
            return history, "already covered"
        if history.weeks[-1:] != [week] or not history.parent or not (history_root(home) / history.parent).is_dir():
            raise HistoryConflict(
                f"{week}: a corrected export, but the history already holds later weeks "
                f"({', '.join(history.weeks[history.weeks.index(week) + 1:] or ['imported'])}); "
                "re-import the history and re-run the weeks in order / 历史已包含之后的周，请按顺序重跑")
        base = load_history(home, history.parent)
        new, _ = append_export(base, export, week, cutoff)
        status = "replaced"
    else:
        new, _ = append_export(history, export, week, cutoff)
        status = "appended"
    new.fingerprints[week] = fingerprint
    save_history(home, new)
    return new, status


def import_history(folder: Path, home: Path, until: str | pd.Timestamp | None = None) -> dict[str, Any]:
    """Seed the history from a history folder (read and validated like any export).

    Args:
        folder: a county folder (its ``history/`` is used) or a history folder itself.
        home: FANPIN_HOME.
        until: keep only what the registry knew on this date (default: everything).
    """
    from features.reading import read_folder

    folder = Path(folder)
    source = folder / "history" if (folder / "history").is_dir() else folder
    result = read_folder(source)
    tables = result.tables
    if until is not None:
        tables = as_known_at(tables, pd.Timestamp(until))
    latest = [tables[t][c].max() for t, c in (*DATED.items(), ("households", "valid_from"), ("members", "valid_from"))
              if len(tables[t])]
    as_of = pd.Timestamp(until) if until is not None else max(latest)
    save_history(home, History(tables, as_of, [], str(source)))
    return {
        "source": str(source),
        "as_of": str(as_of.date()),
        "rows": {t: int(len(f)) for t, f in tables.items()},
        "rows_quarantined": result.totals["rows_quarantined"],
    }
