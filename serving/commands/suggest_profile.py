"""`fanpin suggest-profile`: propose a mapping profile from a county's export, for a person to confirm."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.output import emit, fail, stderr


def suggest_profile(
    data: Annotated[Path, typer.Option("--data", help="一周的导出文件夹 / one export folder")],
    out: Annotated[Path, typer.Option("--out", help="建议的映射配置（YAML）/ where to write the proposed profile")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """建议表头与取值映射，供人工核对 / propose a header and value mapping for a person to check."""
    from features.profile_suggestion import suggest
    from features.table_files import ContractError

    if not data.is_dir():
        fail(f"{data}: not a folder / 不是文件夹")
        return
    if out.exists():
        fail(f"{out}: exists; the proposal never overwrites a profile, choose another --out / 文件已存在")
        return
    try:
        proposal = suggest(data)
    except ContractError as error:
        fail(str(error))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(proposal.to_yaml(), encoding="utf-8")
    unmatched = [p.header for p in proposal.proposals if p.column is None]
    for note in proposal.notes:
        stderr.print(note, highlight=False, markup=False)
    stderr.print(f"建议已写入，请核对后使用 / proposal written, check it before use: {out}", highlight=False)
    emit({"path": str(out),
          "headers": [{"table": p.table, "header": p.header, "column": p.column, "score": round(p.score, 1)}
                      for p in proposal.proposals],
          "values": [{"table": t, "column": c, "label": label, "code": code, "score": round(s, 1)}
                     for t, c, label, code, s in proposal.value_proposals],
          "unmatched": unmatched}, as_json,
         summary=f"{len(proposal.proposals) - len(unmatched)} headers and {len(proposal.value_proposals)} "
                 f"labels proposed, {len(unmatched)} left to map by hand")
