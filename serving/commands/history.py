"""`fanpin history import`: seed the accumulated registry history from a history folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.output import emit, fail

app = typer.Typer(help="历史数据 / registry history the weekly job builds on", no_args_is_help=True)


@app.command("import")
def import_(
    data: Annotated[Path, typer.Option("--data", help="县文件夹（含 history/）或历史文件夹 / county or history folder")],
    until: Annotated[str | None, typer.Option("--until", help="只导入截至该日期已知的数据 / as known on this date")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """导入历史数据（一次） / seed the history once (FANPIN_HOME/history)."""
    from features.reading import ContractError
    from serving.settings import get_settings
    from serving.weekly.history import import_history

    settings = get_settings()
    try:
        result = import_history(data, settings.ensure_home(), until)
    except ContractError as error:
        fail(str(error))
        return
    emit(result, as_json, summary=f"历史已导入 / history imported: as of {result['as_of']}, rows {result['rows']}")
