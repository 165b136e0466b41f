"""The validation job: read an export folder (or a whole county folder) against the contract and
write what was quarantined and flagged (``fanpin validate``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any


class ReportPlaceError(ValueError):
    """The reports were asked to go into the folder being read."""


def report_paths(data: Path, out: Path | None, quarantine_out: Path | None, home: Path) -> tuple[Path, Path]:
    """Where the quarantine and flag tables go: ``quarantine_out`` (flags beside it), else
    ``out`` or ``home/quarantine``, named by the folder read and the time.

    Never into the folder read: an export folder may be read-only or shared, and a report left
    there would be read as part of the next export.
    """
    if quarantine_out is not None:
        quarantine, flags = quarantine_out, quarantine_out.with_name(quarantine_out.stem + "_flags.csv")
    else:
        stem = f"{data.resolve().name}-{datetime.now().strftime('%Y%m%dT%H%M%S')}"
        folder = out or home / "quarantine"
        quarantine, flags = folder / f"{stem}-quarantine.csv", folder / f"{stem}-flags.csv"
    inside = quarantine.resolve().parent
    if inside == data.resolve() or data.resolve() in inside.parents:
        raise ReportPlaceError(f"{quarantine}: reports may not go into the folder being read, choose --out "
                               "elsewhere / 隔离表不能写入被读取的文件夹，请用 --out 指定其他位置")
    return quarantine, flags


def validate_data(data: Path, quarantine_out: Path | None = None, *, out: Path | None = None,
                  home: Path | None = None) -> dict[str, Any]:
    """Read every folder under ``data``, write the quarantine and flag tables, return the counts.

    A county folder (``history/`` and ``exports/YYYY-Www/``) is read folder by folder, each weekly
    export against the history; the quarantine lines of all folders go to one file, their file
    names prefixed with the folder. The files go where ``report_paths`` says (``home`` defaults
    to the data home of the settings).
    """
    import pandas as pd

    from features import reading, table_files
    from features.quarantine import combine
    from serving.documents.formulas import write_csv

    if home is None:
        from serving.settings import get_settings

        home = get_settings().home
    quarantine_path, flags_path = report_paths(data, out, quarantine_out, home)
    folders = table_files.export_folders(data)
    history = None
    results: list[tuple[str, reading.ReadResult]] = []
    for label, folder in folders:
        result = reading.read_folder(folder, history=history)
        if label == "history":
            history = result
        results.append((label, result))

    def prefixed(frame: pd.DataFrame, label: str) -> pd.DataFrame:
        if label == ".":
            return frame
        return frame.assign(file=label + "/" + frame["file"])

    quarantine = combine([prefixed(r.quarantine, label) for label, r in results])
    flags = combine([prefixed(r.flags, label) for label, r in results])
    # Writing happens only after every folder was read: a fatal error writes nothing.
    quarantine_path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(quarantine, quarantine_path)  # raw values, defused against formula injection
    write_csv(flags, flags_path)

    # Rows of dissolved households (销户) are valid and kept; they are counted apart.
    keys = (*reading.COUNT_KEYS, "rows_dissolved")
    tables: dict[str, dict[str, int]] = {}
    for _, r in results:
        for table, counts in r.counts.items():
            into = tables.setdefault(table, dict.fromkeys(keys, 0))
            for key, value in counts.items():
                into[key] += value
            into["rows_dissolved"] += r.dissolved.get(table, 0)
    totals = {k: sum(t[k] for t in tables.values()) for k in keys}
    return {
        **totals,
        "quarantine_path": str(quarantine_path),
        "flags_path": str(flags_path),
        "tables": tables,
        "folders": {label: r.totals for label, r in results},
        "notes": [f"{label}: {n}" if label != "." else n for label, r in results for n in r.notes],
    }
