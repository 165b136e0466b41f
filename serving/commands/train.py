"""`fanpin train`: train, evaluate and register a risk model on a county folder or any table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from serving.output import emit, fail


def _summary(r: dict[str, Any]) -> str:
    def f(v: Any, d: int = 3) -> str:
        return "n/a" if v is None else f"{v:.{d}f}" if isinstance(v, float) else str(v)

    lines = [
        f"模型 / model {r['model_name']} v{r['model_version']} -> {r['alias']} ({r.get('alias_reason', '')})",
        f"AUC {f(r['auc'])}  PR-AUC {f(r['pr_auc'])}  Brier {f(r['brier'], 4)}  ECE {f(r['ece'], 4)}",
        f"召回@5% / recall@5%: 模型 model {f(r['recall_at_5pct'])} vs 规则 rules {f(r.get('rules_recall_at_5pct'))}",
        f"逻辑回归 / logistic AUC {f(r.get('logistic_auc'))}  oracle AUC {f(r.get('oracle_auc'))}  "
        f"headroom {f(r.get('headroom_share'))}",
    ]
    if r.get("median_lead_weeks") is not None:
        lines.append(f"预警提前期中位数 / median lead {f(r['median_lead_weeks'], 1)} 周 weeks, "
                     f">=12 周 share {f(r.get('share_lead_12w'))}")
    lines.append(f"行 / rows train {r['train_rows']} test {r['test_rows']}  用时 / {r['seconds']} s  run {r['run_id']}")
    return "\n".join(lines)


def train(
    data: Annotated[Path | None, typer.Option("--data", help="县文件夹 / county folder (history/)")] = None,
    table: Annotated[Path | None, typer.Option("--table", help="任意户级表 / any household table (CSV, XLSX, Parquet)")] = None,
    target: Annotated[str | None, typer.Option("--target", help="目标列 / target column (with --table)")] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="户编号列 / ID column (never a feature)")] = None,
    time_column: Annotated[str | None, typer.Option("--time", help="时间列 / time column: time split")] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="列名映射 / YAML or CSV: your column -> contract column")] = None,
    name: Annotated[str | None, typer.Option("--name", help="注册模型名 / registered model name")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="训练配置 / training config YAML")] = None,
    experiment: Annotated[str, typer.Option("--experiment", help="MLflow 实验 / experiment name")] = "fanpin",
    user: Annotated[str | None, typer.Option("--user", help="操作人 / who trains (default: $FANPIN_USER or login)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """训练、评估并注册风险模型 / train, evaluate and register a risk model."""
    if (data is None) == (table is None):
        fail("give exactly one of --data or --table / 请给出 --data 或 --table 之一")
        return
    if table is not None and not target:
        fail("--table needs --target / 使用 --table 时必须给出 --target")
        return
    from serving.jobs.training import train_model

    try:
        result = train_model(data, table, target, config, experiment, name, id_column, time_column, mapping, user)
    except (ValueError, KeyError, FileNotFoundError) as error:
        fail(str(error).strip("'\""))
        return
    emit(result, as_json, summary=_summary(result))
