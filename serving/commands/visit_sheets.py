"""`fanpin visit-sheets`: a township's watch list as printable visit sheets (PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.output import emit, fail, week_or_fail


def visit_sheets(
    week: Annotated[str, typer.Option("--week", help="ISO 周，如 2025-W48 / ISO week")],
    township: Annotated[str, typer.Option("--township", help="乡镇名称 / township name")],
    out: Annotated[Path, typer.Option("--out", help="输出 PDF 文件 / output PDF file")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """生成入户走访核查表 / write one A4 visit sheet per watch-list household of a township."""
    from serving.documents.visit_sheets import township_visit_sheets
    from serving.settings import get_settings

    week = week_or_fail(week)
    try:
        pdf, count = township_visit_sheets(get_settings(), week, township)
    except LookupError as error:
        fail(str(error))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    emit({"week": week, "township": township, "households": count, "pages": count, "out": str(out),
          "bytes": len(pdf)}, as_json, summary=f"{township} {week}: {count} 户走访表 → {out}")
