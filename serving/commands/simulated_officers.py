"""`fanpin simulate-officers`: simulated officer work on the published weeks of a simulated county
(visits, cases, decisions, measures), marked as simulated (``serving.jobs.simulated_officers``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.output import emit, fail


def simulate_officers(
    data: Annotated[Path, typer.Option("--data", help="模拟县目录（含 history/） / the simulated county folder")],
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """模拟干部走访与案件（仅用于演示县，非实地数据） / simulate officer activity (demo counties only)."""
    from serving.jobs.simulated_officers import simulate_officers as simulate
    from serving.settings import get_settings
    from serving.store.database import get_engine, upgrade

    if not (data / "history" / "outcomes.parquet").exists():
        fail(f"{data}: not a simulated county (no history/outcomes.parquet) / 不是模拟县目录")
        return
    engine = get_engine(get_settings())
    upgrade(engine)
    written = simulate(engine, data, seed=seed)
    emit({**written, "simulated": True}, as_json,
         summary=f"模拟走访 {written['visits']} 次, 案件 {written['cases']} 件（模拟数据） / simulated")
