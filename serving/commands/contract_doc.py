"""`fanpin contract-doc`: write docs/data-contract.md from the pandera schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.output import emit, stderr


def contract_doc(
    out: Annotated[Path, typer.Option("--out", help="输出文件 / output file")] = Path(
        "docs/data-contract.md"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """生成数据约定文档 / generate the data-contract document from the schemas."""
    from features.contract_document import contract_markdown

    text = contract_markdown()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    stderr.print(f"数据约定已写入 / contract written: {out}", highlight=False)
    emit({"path": str(out), "chars": len(text)}, as_json, summary="")
