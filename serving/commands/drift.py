"""`fanpin drift`: run the weekly drift check alone on one week of a county folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from serving.output import emit, fail, stderr, week_or_fail


def _print(result: dict[str, Any]) -> None:
    colours = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
    stderr.print(f"{result['week']}: {len(result['drifted_features'])} drifted features "
                 f"({result['share_drifted']:.0%}); reference: {result['reference']}", highlight=False)
    for a in result["alerts"]:
        stderr.print(f"[{colours[a['severity']]}]{a['severity']:>6}[/] {a['message_zh']}", highlight=False)
    stderr.print(f"report: {result['report_path']}", highlight=False)


def drift(
    data: Annotated[Path, typer.Option("--data", help="县文件夹 / county folder")],
    week: Annotated[str, typer.Option("--week", help="ISO 周，如 2025-W49 / ISO week")],
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="报告目录 / where the HTML report goes")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """数据漂移检查 / check one week's data against the model's reference."""
    from features.reading import ContractError
    from serving.jobs.drift import drift_data

    try:
        result = drift_data(data, week_or_fail(week), report_dir)
    except (ContractError, FileNotFoundError, ValueError) as error:
        fail(str(error))
        return
    _print(result)
    emit(result, as_json, summary="")
