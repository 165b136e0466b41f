"""`fanpin validate`: read an export folder (or a whole county folder) and report what was quarantined."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from serving.output import emit, fail, stderr


def validate_data(data: Path, quarantine_out: Path | None = None) -> dict[str, Any]:
    """Read every folder under ``data``, write the quarantine and flag tables, return the counts.

    A county folder (``history/`` and ``exports/YYYY-Www/``) is read folder by folder, each weekly
    export against the history; the quarantine lines of all folders go to one file, their file
    names prefixed with the folder.
    """
    import pandas as pd

    from features import reading
    from features.quarantine import combine

    folders = reading.export_folders(data)
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
    quarantine_path = quarantine_out or (data / "quarantine.csv")
    flags_path = quarantine_path.with_name(quarantine_path.stem + "_flags.csv")
    # Writing happens only after every folder was read: a fatal error writes nothing.
    quarantine_path.parent.mkdir(parents=True, exist_ok=True)
    quarantine.to_csv(quarantine_path, index=False, encoding="utf-8-sig")  # BOM: Excel opens it
    flags.to_csv(flags_path, index=False, encoding="utf-8-sig")

    tables: dict[str, dict[str, int]] = {}
    for _, r in results:
        for table, counts in r.counts.items():
            into = tables.setdefault(table, dict.fromkeys(reading.COUNT_KEYS, 0))
            for key, value in counts.items():
                into[key] += value
    totals = {k: sum(t[k] for t in tables.values()) for k in reading.COUNT_KEYS}
    return {
        **totals,
        "quarantine_path": str(quarantine_path),
        "flags_path": str(flags_path),
        "tables": tables,
        "folders": {label: r.totals for label, r in results},
        "notes": [f"{label}: {n}" if label != "." else n for label, r in results for n in r.notes],
    }


def _print_counts(result: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="数据校验 / validation", title_justify="left")
    for header in ("表 / table", "读入 / in", "有效 / valid", "隔离 / quarantined", "存疑 / flagged"):
        table.add_column(header, justify="left" if header.startswith("表") else "right")
    for name, c in result["tables"].items():
        table.add_row(name, *(str(c[k]) for k in
                              ("rows_in", "rows_valid", "rows_quarantined", "rows_flagged")))
    table.add_row("合计 / total", *(str(result[k]) for k in
                                    ("rows_in", "rows_valid", "rows_quarantined", "rows_flagged")),
                  style="bold")
    stderr.print(table)
    for note in result["notes"]:
        stderr.print(f"[dim]{note}[/]", highlight=False)
    stderr.print(f"隔离表 / quarantine: {result['quarantine_path']}", highlight=False)


def validate(
    data: Annotated[Path, typer.Option("--data", help="导出文件夹或县文件夹 / export or county folder")],
    quarantine_out: Annotated[
        Path | None,
        typer.Option("--quarantine-out", help="隔离表路径 / where to write quarantine.csv"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """校验导出数据并隔离问题行 / validate registry exports and quarantine broken rows."""
    from features.reading import ContractError

    try:
        result = validate_data(data, quarantine_out)
    except ContractError as error:
        fail(str(error))
        return
    _print_counts(result)
    emit(result, as_json, summary="")
