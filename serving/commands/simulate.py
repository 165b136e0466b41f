"""`fanpin simulate`: write a synthetic county folder (history, weekly exports, true risk)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from serving.output import emit, fail, week_or_fail


def simulate(
    out: Annotated[Path, typer.Option("--out", help="输出文件夹 / output folder")],
    households: Annotated[int, typer.Option("--households", help="户数 / households")] = 20000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 / random seed")] = 1,
    start: Annotated[str, typer.Option("--start", help="起始日期 / first day (two burn-in years before 2019)")] = "2017-01-01",
    end: Annotated[str, typer.Option("--end", help="结束日期 / last day")] = "2025-12-31",
    scenario: Annotated[str, typer.Option("--scenario", help="漂移情景 / drift scenario: baseline, flood, unit-error, pension-rise, new-township")] = "baseline",
    scenario_week: Annotated[str | None, typer.Option("--scenario-week", help="情景首周 / first affected week, e.g. 2025-W49")] = None,
    flood: Annotated[list[str] | None, typer.Option("--flood", help="历史中的情景洪水 / scenario flood in the history: TOWNSHIP:YYYY-MM-DD[:WEEKS], repeatable")] = None,
    oracle_sample: Annotated[int, typer.Option("--oracle-sample", help="真实风险样本户数 / households in the oracle sample (per oracle cutoff, 7 cutoffs)")] = 2000,
    oracle_replicas: Annotated[int, typer.Option("--oracle-replicas", help="每户重模拟次数 / futures per household")] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """模拟一个县的登记数据 / simulate a county's registry (history, weekly exports, true risk)."""
    from features.simulator.planned_floods import parse_flood
    from serving.jobs.simulation import simulate_folder

    try:
        floods = tuple(parse_flood(f) for f in flood or ())
        result = simulate_folder(out, households, seed, date.fromisoformat(start),
                                 date.fromisoformat(end), scenario,
                                 week_or_fail(scenario_week) if scenario_week else None,
                                 oracle_sample, oracle_replicas, floods)
    except ValueError as error:
        fail(str(error))
        return
    lines = [f"县 / county: {result['households']} 户 households, {result['members']} 人 members -> {out}",
             f"年均纳入监测率 / annual entry rate: {result['annual_monitoring_entry_rate']}",
             f"真实风险 AUC / oracle AUC: {result['oracle_auc']}  ({result['seconds']} s)"]
    emit(result, as_json, summary="\n".join(lines))
