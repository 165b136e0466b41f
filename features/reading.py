"""Reading a registry export folder into contract tables, with quarantine and flags.

This is the edge where files come in (the only I/O in ``features`` besides writing modules).
``features.table_files`` finds the table files (CSV, XLSX, Parquet; English or Chinese names and
headers) and loads their cells under contract names. Every value is read as written, normalised
and parsed by :mod:`features.normalising`, and validated against the pandera schemas of
:mod:`features.contract`. A row with any problem goes to the quarantine table (one line per
problem cell) and the rest continue; valid but implausible rows are flagged and still used.

Two things stop the run instead, with one line naming the file and the column: a file that cannot
be read, and a missing required column. Nothing is written here at all: callers write reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pandera

from features import contract
from features import input_limits as limits
from features import normalising as norm
from features import quarantine as qt
from features.dissolution import NOTE as DISSOLVED_NOTE
from features.dissolution import dissolved_events
from features.id_sets import id_set, in_id_set
from features.plausibility import Source, age, flag_lines
from features.table_files import SUFFIXES, ContractError, contract_headers, find_table_files, load_cells
from features.weeks import WEEK_PATTERN, week_cutoff

REQUIRED_TABLES = ("households", "members")
COUNT_KEYS = ("rows_in", "rows_valid", "rows_quarantined", "rows_flagged")


@dataclass
class ReadResult:
    """The typed tables of one export folder, what was quarantined and what was flagged.

    Attributes:
        tables: table name -> DataFrame with exactly the contract's columns and dtypes (valid rows).
        quarantine: one line per problem cell: file, row (as Excel numbers it), column, value,
            reason. Values of sensitive columns are masked.
        flags: same columns; valid but implausible rows (still in ``tables``).
        counts: table -> rows_in, rows_valid, rows_quarantined, rows_flagged.
        files: table -> file name it was read from (None when the folder had no file for it).
        notes: things a person should know that are not row problems (missing optional table,
            ignored columns, optional column absent).
        as_of: the export date used for age and future-date checks.
        held: table -> positions in ``tables`` of flagged rows that must not feed scores until a
            person corrects them (``quarantine.HELD_REASONS``: a suspected 万元 income).
        dissolved: table -> valid rows that belong to a household closed this week because its
            last member died (销户; ``features.dissolution``): kept, and counted apart here.
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    flags: pd.DataFrame
    counts: dict[str, dict[str, int]]
    files: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    as_of: pd.Timestamp | None = None
    held: dict[str, np.ndarray] = field(default_factory=dict)
    dissolved: dict[str, int] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        """Counts summed over the tables."""
        return {k: sum(c[k] for c in self.counts.values()) for k in COUNT_KEYS}

    @property
    def rows_held(self) -> int:
        """Flagged rows held out of scoring (see ``held``)."""
        return int(sum(len(p) for p in self.held.values()))

    def scoring_tables(self) -> dict[str, pd.DataFrame]:
        """The tables without the held rows: what the features and rules may use."""
        out = dict(self.tables)
        for table, positions in self.held.items():
            if len(positions):
                out[table] = self.tables[table].drop(index=self.tables[table].index[positions]).reset_index(drop=True)
        return out


# --------------------------------------------------------------------------- parsing


@dataclass
class _Parsed:
    table: str
    file: str
    raw: pd.DataFrame  # contract names, raw cells, indexed by row number
    typed: pd.DataFrame  # contract dtypes, same index
    lines: list[pd.DataFrame]  # quarantine lines found so far


_PARSE_REASONS = {
    "int": qt.NOT_A_WHOLE_NUMBER,
    "float": qt.NOT_A_NUMBER,
    "date": qt.NOT_A_DATE,
    "bool": qt.NOT_A_BOOLEAN,
}


def _parse(raw: pd.DataFrame, table: str, file: str, excel: bool) -> _Parsed:
    typed = {}
    lines = []
    for f in contract.fields(table):
        col = raw[f.name]
        bad = None
        if f.kind == "string":
            typed[f.name] = norm.text(col)
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
    return _Parsed(table, file, raw, frame, lines)


# --------------------------------------------------------------------------- validating


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


def _schema_lines(p: _Parsed) -> list[pd.DataFrame]:
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


def _check_lines(p: _Parsed, as_of: pd.Timestamp) -> list[pd.DataFrame]:
    """Impossible values the schema cannot see on its own (they involve two columns or a date)."""
    t = p.typed
    out = []

    def add(mask: pd.Series, column: str, reason: str) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            rows = t.index[mask.to_numpy()]
            out.append(qt.lines(p.file, rows, column, p.raw.loc[rows, column], reason))

    if "valid_to" in t.columns:
        add(t["valid_to"] < t["valid_from"], "valid_to", qt.ENDS_BEFORE_START)
    if p.table == "outcomes":
        add(t["elimination_date"] < t["entry_date"], "elimination_date",
            qt.ELIMINATED_BEFORE_ENTRY)
    if p.table == "members":
        add(t["birth_date"] > as_of, "birth_date", qt.BIRTH_IN_FUTURE)
        add(age(t, as_of) > 120, "birth_date", qt.AGE_OVER_120)
    return out


def _reference_lines(p: _Parsed, households, exempt: pd.Series | None = None) -> list[pd.DataFrame]:
    ids = p.typed["household_id"]
    unknown = ids.notna() & ~in_id_set(ids, households)
    if exempt is not None:
        unknown &= ~exempt
    if not unknown.any():
        return []
    rows = p.typed.index[unknown.to_numpy()]
    return [qt.lines(p.file, rows, "household_id", p.raw.loc[rows, "household_id"], qt.UNKNOWN_HOUSEHOLD)]


def _history_tables(history: ReadResult | Mapping[str, pd.DataFrame] | None) -> dict:
    if history is None:
        return {}
    if isinstance(history, ReadResult):
        return dict(history.tables)
    return dict(history)


# --------------------------------------------------------------------------- reading


def _as_of_from(folder: Path, parsed: dict[str, _Parsed]) -> pd.Timestamp:
    """The export date: end of the ISO week a folder is named after, else the latest date seen."""
    if WEEK_PATTERN.match(folder.name):
        return week_cutoff(folder.name)
    latest = [
        p.typed[c].max()
        for p in parsed.values()
        for c in ("valid_from", "survey_date", "event_date", "entry_date")
        if c in p.typed.columns and p.typed[c].notna().any()
    ]
    return max(latest) if latest else pd.Timestamp.today().normalize()


def _empty_table(table: str) -> pd.DataFrame:
    return pd.DataFrame(
        {f.name: pd.Series(dtype=contract._DTYPES[f.kind]) for f in contract.fields(table)}
    )


def _finish_table(valid: pd.DataFrame, table: str) -> pd.DataFrame:
    out = valid.reset_index(drop=True)
    for f in contract.fields(table):
        out[f.name] = out[f.name].astype(contract._DTYPES[f.kind])
    return out[[f.name for f in contract.fields(table)]]


def _read(files: dict[str, Path], *, label: Path, history, as_of,
          check_references: bool) -> ReadResult:
    notes: list[str] = []
    parsed: dict[str, _Parsed] = {}
    for table, path in files.items():
        raw = contract_headers(load_cells(path), table, path.name, notes)
        parsed[table] = _parse(raw, table, path.name, excel=path.suffix.lower() == ".xlsx")

    as_of = pd.Timestamp(as_of) if as_of is not None else _as_of_from(label, parsed)
    past = _history_tables(history)

    known = id_set(
        parsed["households"].typed["household_id"] if "households" in parsed else None,
        past["households"]["household_id"] if past.get("households") is not None else None,
    )
    # Deaths that closed a household (销户) reference a household this export no longer lists.
    closed = None
    if "households" in parsed and "events" in parsed:
        before = id_set(past["households"]["household_id"]) if past.get("households") is not None else None
        closed = dissolved_events(parsed["events"].typed, id_set(parsed["households"].typed["household_id"]), before)

    for table, p in parsed.items():
        p.lines += _schema_lines(p)
        p.lines += _check_lines(p, as_of)
        has_households = len(known) > 0 or "households" in parsed
        if check_references and has_households and table in contract.HOUSEHOLD_REFERENCES:
            p.lines += _reference_lines(p, known, closed if table == "events" else None)
        p.lines += limits.long_cell_lines(p.file, p.raw)
        if check_references and table == "households" and "members" in parsed:
            p.lines += limits.orphan_lines(p.file, p.raw, p.typed, parsed["members"].typed, past.get("members"))

    tables: dict[str, pd.DataFrame] = {}
    valid_typed: dict[str, pd.DataFrame] = {}
    quarantine_parts = []
    bad_rows: dict[str, pd.Index] = {}
    for table, p in parsed.items():
        q = qt.combine(p.lines)
        quarantine_parts.append(q)
        bad_rows[table] = pd.Index(q["row"].unique())
        valid_typed[table] = (
            p.typed.drop(index=bad_rows[table]) if len(bad_rows[table]) else p.typed
        )

    sources = {t: Source(t, p.file, p.raw) for t, p in parsed.items()}
    flags = qt.combine(flag_lines(sources, valid_typed, past, as_of))
    quarantine = qt.combine(quarantine_parts)

    counts: dict[str, dict[str, int]] = {}
    file_names = {}
    held: dict[str, np.ndarray] = {}
    for table in contract.TABLES:
        if table not in parsed:
            tables[table] = _empty_table(table)
            counts[table] = dict.fromkeys(COUNT_KEYS, 0)
            file_names[table] = None
            continue
        p = parsed[table]
        tables[table] = _finish_table(valid_typed[table], table)
        flagged = flags.loc[flags["file"] == p.file, "row"].nunique()
        held_rows = flags.loc[(flags["file"] == p.file) & flags["reason"].isin(qt.HELD_REASONS), "row"].unique()
        if len(held_rows):
            # valid_typed is indexed by row number and tables[table] keeps its order.
            held[table] = np.flatnonzero(valid_typed[table].index.isin(held_rows))
        counts[table] = {
            "rows_in": len(p.typed),
            "rows_valid": len(tables[table]),
            "rows_quarantined": len(bad_rows[table]),
            "rows_flagged": int(flagged),
        }
        file_names[table] = p.file
        # Every row read is either used or quarantined, never lost.
        assert counts[table]["rows_in"] == (
            counts[table]["rows_valid"] + counts[table]["rows_quarantined"]
        ), f"{p.file}: counts do not reconcile"

    dissolved = {}
    if closed is not None:
        dissolved["events"] = int((closed & ~closed.index.isin(bad_rows["events"])).sum())
        if dissolved["events"]:
            notes.append(f"{parsed['events'].file}: " + DISSOLVED_NOTE.format(n=dissolved["events"]))
    result = ReadResult(tables, quarantine, flags, counts, file_names, notes, as_of, held, dissolved)
    totals = result.totals
    assert totals["rows_in"] == totals["rows_valid"] + totals["rows_quarantined"]
    return result


def read_folder(
    path: str | Path,
    *,
    history: ReadResult | Mapping[str, pd.DataFrame] | None = None,
    as_of: str | pd.Timestamp | None = None,
) -> ReadResult:
    """Read one export folder (or a county's ``history`` folder) into validated tables.

    Args:
        path: folder holding the table files.
        history: tables already known (a ``ReadResult`` or name -> DataFrame), e.g. the county's
            history when reading a weekly export: household references are checked against them
            too, and income is compared with the household's past years.
        as_of: export date for age and future-date checks; defaults to the end of the ISO week the
            folder is named after (``2024-W10``), else the latest date in the data.

    Returns:
        A ``ReadResult``; missing optional tables are empty and mentioned in ``notes``.

    Raises:
        ContractError: a file cannot be read, a required table or a required column is missing.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ContractError(f"{folder}: not a folder / 不是文件夹")
    files = find_table_files(folder)
    if not files and (folder / "history").is_dir():
        raise ContractError(
            f"{folder.name}: a county folder; read {folder.name}/history or "
            f"{folder.name}/exports/YYYY-Www / 这是县文件夹，请读取其中的 history 或 exports/某周"
        )
    for table in REQUIRED_TABLES:
        if table not in files:
            title = contract.TABLES[table].title
            raise ContractError(
                f"{folder.name}: missing required table {table} ({title}): "
                f"expected {table}.csv/.xlsx/.parquet or {title}.csv/.xlsx/.parquet"
            )
    result = _read(files, label=folder, history=history, as_of=as_of, check_references=True)
    for table in contract.TABLES:
        if table not in files:
            result.notes.append(
                f"{table} ({contract.TABLES[table].title}): no file, empty table / 无此表，按空表处理"
            )
    return result


def read_table(
    path: str | Path,
    table: str,
    *,
    history: ReadResult | Mapping[str, pd.DataFrame] | None = None,
    as_of: str | pd.Timestamp | None = None,
) -> ReadResult:
    """Read a single file as one contract table.

    Household references are checked only against ``history`` (there is no households file).
    The other tables of the result are empty.
    """
    file = Path(path)
    if table not in contract.TABLES:
        raise ContractError(f"{file.name}: unknown table {table!r}")
    if not file.is_file() or file.suffix.lower() not in SUFFIXES:
        raise ContractError(f"{file.name}: cannot read file (not a CSV, XLSX or Parquet file)")
    return _read({table: file}, label=file.parent, history=history, as_of=as_of,
                 check_references=history is not None)
