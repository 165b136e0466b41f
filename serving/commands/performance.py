"""`fanpin performance`: realised performance of matured weeks and a retraining recommendation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.output import emit, fail, stderr


def performance(
    data: Annotated[Path, typer.Option("--data", help="县文件夹 / county folder")],
    weeks: Annotated[int, typer.Option("--weeks", help="回测周数 / matured weeks to evaluate")] = 13,
    step_weeks: Annotated[int, typer.Option("--step-weeks", help="周间隔 / weeks between them")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """模型实际表现与再训练建议 / realised performance of matured weeks and retraining advice."""
    from features.reading import ContractError
    from serving.jobs.performance import performance_data

    try:
        result = performance_data(data, weeks=weeks, step_weeks=step_weeks)
    except (ContractError, LookupError, ValueError) as error:
        fail(str(error))
        return
    def pair(w: dict, figure: str, fmt: str) -> str:
        """Realised (estimated beforehand from the calibrated probabilities)."""
        real, est = w.get(figure), w.get(f"estimated_{figure}")
        return f"{'-' if real is None else format(real, fmt)} (est. {'-' if est is None else format(est, fmt)})"

    for w in result["weeks"]:
        stderr.print(f"{w['cutoff']}  AUC {pair(w, 'auc', '.3f')}  recall@capacity {pair(w, 'recall_at_capacity', '.1%')}"
                     f"  precision {pair(w, 'precision_at_capacity', '.1%')}  predicted {w['mean_predicted']:.1%}  "
                     f"realised {w['realised_rate']:.1%}", highlight=False)
    for a in result["alerts"]:
        stderr.print(f"[yellow]{a['severity']}[/] {a['message_zh']}", highlight=False)
    stderr.print(result["recommendation"]["message_zh"], highlight=False)
    print_challenger(result["challenger"])
    emit(result, as_json, summary="")


def print_challenger(found: dict) -> None:
    """The challenger's shadow weeks beside the champion (`fanpin performance`, `fanpin promote`)."""
    s = found["summary"]
    if not s["weeks"]:
        stderr.print("挑战者模型尚无影子评分周 / no shadow week of a challenger yet", highlight=False)
        return

    def show(value, fmt: str = ".3f") -> str:
        return "-" if value is None else format(value, fmt)

    for w in found["weeks"]:
        r = w.get("realised") or {}
        stderr.print(f"{w['week']}  challenger v{w['challenger_version']} vs champion v{w['champion_version']}  "
                     f"Spearman {show(w.get('spearman'))}  Kendall {show(w.get('kendall'))}  "
                     f"overlap {show(w.get('overlap'), '.1%')}  recall {show(r.get('champion_recall'), '.1%')} vs "
                     f"{show(r.get('challenger_recall'), '.1%')} ({r.get('entrants', 0)} entrants, "
                     f"{r.get('weeks_observed', 0)} weeks observed)", highlight=False)
    stderr.print(f"影子评分{s['weeks']}周 / {s['weeks']} shadow weeks: mean Spearman {show(s['spearman'])}, "
                 f"overlap {show(s['overlap'], '.1%')}; matured weeks {s['matured_weeks']}: recall champion "
                 f"{show(s['champion_recall'], '.1%')}, challenger {show(s['challenger_recall'], '.1%')}",
                 highlight=False)
