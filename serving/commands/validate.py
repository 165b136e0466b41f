"""`fanpin validate`: read an export folder (or a whole county folder) and report what was quarantined."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from serving.output import emit, fail, stderr


def _print_counts(result: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="数据校验 / validation", title_justify="left")
    keys = ("rows_in", "rows_valid", "rows_quarantined", "rows_flagged", "rows_dissolved", "rows_non_data")
    for header in ("表 / table", "读入 / in", "有效 / valid", "隔离 / quarantined", "存疑 / flagged",
                   "已销户 / dissolved", "非数据行 / non-data"):
        table.add_column(header, justify="left" if header.startswith("表") else "right")
    for name, c in result["tables"].items():
        table.add_row(name, *(str(c[k]) for k in keys))
    table.add_row("合计 / total", *(str(result[k]) for k in keys), style="bold")
    stderr.print(table)
    for note in result["notes"]:
        stderr.print(f"[dim]{escape(note)}[/]", highlight=False)
    for row in result["non_data_rows"][:20]:
        line = f"非数据行 / non-data row: {row['file']} row {row['row']}: {row['text'][:60]} ({row['reason']})"
        stderr.print(f"[dim]{escape(line)}[/]", highlight=False)
    if len(result["non_data_rows"]) > 20:
        stderr.print(f"[dim]… {len(result['non_data_rows']) - 20} more non-data rows in the flags file[/]")
    stderr.print(f"隔离表 / quarantine: {result['quarantine_path']}", highlight=False)


def validate(
    data: Annotated[Path, typer.Option("--data", help="导出文件夹或县文件夹 / export or county folder")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="隔离表文件夹（默认数据目录下 quarantine/）/ folder for the reports "
                     "(default: quarantine/ under FANPIN_HOME)"),
    ] = None,
    quarantine_out: Annotated[
        Path | None,
        typer.Option("--quarantine-out", help="隔离表文件路径 / exact path of the quarantine table"),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option("--profile", help="映射配置（本县表头与取值 → 数据约定）/ mapping profile (YAML; default "
                     "FANPIN_PROFILE_PATH)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """校验导出数据并隔离问题行 / validate registry exports and quarantine broken rows."""
    from features.mapping_profile import ProfileError
    from features.reading import ContractError
    from serving.jobs.validation import ReportPlaceError, validate_data

    try:
        result = validate_data(data, quarantine_out, out=out, profile_path=profile)
    except (ContractError, ReportPlaceError, ProfileError) as error:
        fail(str(error))
        return
    _print_counts(result)
    emit(result, as_json, summary="")
