"""The model card: intended use, data, metrics, slices and limits, as Markdown."""

from __future__ import annotations

from typing import Any

import pandas as pd

from models import metrics as mt


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "n/a" if v != v else f"{v:.{digits}f}"


def _ci(pair: Any, digits: int = 3) -> str:
    if not pair or pair[0] is None:
        return ""
    return f" [{_fmt(pair[0], digits)}, {_fmt(pair[1], digits)}]"


def _served(served: dict[str, Any] | None) -> list[str]:
    if not served:
        return []
    return [
        "## 上线模型 / the served model",
        f"- 与评估相同的训练程序，在全部已成熟截止日上重新训练 / the evaluated procedure refit on every matured cutoff: "
        f"trees on {served['served_train_first']} .. {served['served_fit_last']} ({served['served_fit_rows']} rows), "
        f"calibrated on the newest matured window {served['served_calibrate_first']} .. "
        f"{served['served_calibrate_last']} ({served['served_calibrate_rows']} rows); data end {served['data_end']}.",
        "- 下列指标是该程序按时间切分回测的预期表现 / the figures below are the procedure's expected performance, "
        "measured by the time-split backtest; the drift reference is sampled from the calibration window.",
        "",
    ]


def render(result: Any, *, model_name: str, decision: Any, data_fingerprint: str,
           target: str = "进入监测 / entering monitoring within 52 weeks") -> str:
    """Markdown model card for a training result."""
    m = result.metrics
    lines = [
        f"# 模型卡 / model card: {model_name}",
        "",
        "## 用途 / intended use",
        "- 为乡村干部排序需要优先走访核实的农户（防止返贫监测预警）。模型给出 12 个月内纳入监测的概率，"
        "是走访的线索，不是认定：是否纳入监测仍按程序由农户申请、村级评议、乡镇审核、县级审定。",
        "- Ranks households for cadres to visit first (early warning of returning to poverty). The score is a "
        "lead for a visit, never a decision: identification still follows the procedure (application, village "
        "review, township check, county approval).",
        "- 不用于 / not for: 取消或削减帮扶、评价干部、对个人作出任何不利决定 / cutting support, judging "
        "officers, or any adverse decision about a person.",
        "",
        "## 目标 / target",
        f"- {target}. 已在监测中的农户不评分 / households under monitoring at the cutoff are excluded.",
        "",
        "## 数据 / data",
        f"- 数据指纹 / data fingerprint: `{data_fingerprint}`",
        "- 时间切分 / time split:",
        "```",
        result.split.describe(),
        "```",
        f"- 行数 / rows: {', '.join(f'{k}={v}' for k, v in result.counts.items())}",
        "- 不含直接身份信息 / no direct identifiers: names, ID numbers and phones never enter the features, "
        "the reference sample or any artifact; household and village are not model inputs.",
        "",
    ]
    lines += _served(getattr(result, "served", None))
    lines += [
        "## 测试期指标 / test metrics (the procedure's expected performance)",
        "| 指标 / metric | 模型 / model | 规则（人工权重）/ rules, hand-set | 规则（拟合）/ rules, fitted "
        "| 逻辑回归 / logistic |",
        "|---|---|---|---|---|",
    ]
    sc = result.scorers
    intervals = getattr(result, "intervals", None) or {}
    names = ("model", "rules", "rules_fitted", "logistic")
    for key in ("auc", "pr_auc", "brier", "ece", "ece_relative", "recall_at_5pct", "precision_at_5pct",
                "recall_at_10pct", "observed_expected", "top5_observed_expected"):
        row = [_fmt(sc.get(name, {}).get(key), 4) + _ci(intervals.get(name, {}).get(key)) for name in names]
        lines.append(f"| {key} | " + " | ".join(row) + " |")
    lines += [
        "",
        f"- 召回比 / recall@5% ratio: {_fmt(m.get('recall_ratio_vs_best_rules'), 2)}x the stronger rules baseline"
        f"{_ci(intervals.get('recall_ratio_ci'), 2)}; {_fmt(m.get('recall_ratio_vs_rules'), 2)}x the hand-set rules.",
        f"- 区间 / intervals: 95%, household-clustered bootstrap ({intervals.get('replicates', 'n/a')} replicates "
        f"over {intervals.get('households', 'n/a')} households): test rows are overlapping windows of the same "
        "households.",
        f"- ECE: {mt.ECE_BINS} equal-frequency bins (models.metrics); ece_relative = ECE / test base rate. "
        "Capacity: top ceil(5% / 10% x n) eligible households per cutoff.",
        "",
    ]
    calibration = getattr(result, "calibration", None)
    if isinstance(calibration, pd.DataFrame) and not calibration.empty:
        lines += ["## 校准 / calibration: observed / expected", "| where | value | rows | observed | expected | O/E |",
                  "|---|---|---|---|---|---|"]
        for r in calibration.itertuples(index=False):
            lines.append(f"| {r.where} | {r.value} | {r.rows} | {r.observed} | {_fmt(r.expected, 1)} | "
                         f"{_fmt(r.observed_expected)} |")
        lines.append("")
    if m.get("oracle_auc") is not None:
        o = result.oracle
        lines += [
            "## 可达上限 / achievable headroom (simulated data only)",
            f"- oracle rows at test cutoffs {', '.join(o.get('oracle_cutoffs', []))} ({o.get('oracle_rows')} rows, "
            f"{o.get('oracle_positives')} entrants)",
            f"- recall@5%: oracle {_fmt(o.get('oracle_recall_at_5pct_on_oracle_rows'))}, model "
            f"{_fmt(o.get('model_recall_at_5pct_on_oracle_rows'))}, stronger rules ({o.get('best_rules')}) "
            f"{_fmt(o.get(str(o.get('best_rules')) + '_recall_at_5pct_on_oracle_rows'))}: the model closes "
            f"{_fmt(m.get('recall_headroom_share'))} of the rules-to-oracle gap",
            f"- AUC: oracle {_fmt(m['oracle_auc'])}, model {_fmt(m.get('model_auc_on_oracle_rows'))} "
            f"(headroom share {_fmt(m.get('headroom_share'))})",
            "",
        ]
    if m.get("median_lead_weeks") is not None:
        lines += [
            "## 预警提前期 / lead time",
            f"- 名单覆盖 / the weekly top-5% lists cover {_fmt(m.get('list_coverage_52w'))} of eligible households "
            "over a year.",
            f"- 模型 / model: warned {_fmt(m.get('share_warned'))} of entrants; median {_fmt(m['median_lead_weeks'], 1)} "
            f"weeks among warned; >=12 weeks {_fmt(m.get('share_lead_12w'))}",
            f"- 同覆盖随机名单 / a random list of the same coverage: warned {_fmt(m.get('random_list_lead_share'))}, "
            f"median {_fmt(m.get('random_list_median_lead_weeks'), 1)} weeks",
            f"- 规则 / rules: warned {_fmt(m.get('rules_share_warned'))} (fitted {_fmt(m.get('rules_fitted_share_warned'))}); "
            f"median {_fmt(m.get('rules_median_lead_weeks'), 1)} weeks",
            "",
        ]
    slices = result.slices
    if isinstance(slices, pd.DataFrame) and not slices.empty:
        cols = [c for c in ("slice", "value", "rows", "entrants", "model_recall_at_5pct", "model_recall_at_5pct_low",
                            "model_recall_at_5pct_high", "rules_recall_at_5pct", "model_observed_expected")
                if c in slices.columns]
        lines += ["## 分组 / slices (recall@5% of the county-wide list, 95% interval)",
                  "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in slices[cols].itertuples(index=False):
            lines.append("| " + " | ".join(_fmt(v) if isinstance(v, float) else str(v) for v in r) + " |")
        lines.append("")
    lines += [
        "## 注册 / registration",
        f"- alias: `{decision.alias}` — {decision.reason}",
        "",
        "## 局限 / limits",
        "- 标签是“被发现并纳入监测”，不是“真实返贫”：没被发现的困难户在标签里是 0，模型会学到发现机制的偏差"
        "（偏远村、少数民族乡镇可能被低估）。请看分组表。/ The label is *being identified*, not hardship itself: "
        "undiscovered hardship is labelled 0, so the model inherits the discovery process's blind spots "
        "(remote villages, minority townships may be under-scored). Read the slice table.",
        "- 回测中训练期早于测试期两个预测期；上线模型用到数据截止前一个预测期的结果。政策、监测线或经济环境变化后需重新训练并检查漂移。"
        "/ In the backtest the training data ends two horizons before the test period; the served refit has "
        "learned from outcomes up to the data's end. Retrain and watch drift when lines, policy or the economy "
        "change.",
        "- 概率按最新成熟窗口校准；基准率变化时概率会偏，请看分截止日的实际/预测比。/ Probabilities are calibrated "
        "on the newest matured window; they drift when the base rate changes (read observed/expected per cutoff).",
        "- 加载此模型需要安装 fanpin 包（特征构建器在包内）。/ Loading the model needs the fanpin package "
        "installed (the feature builder lives there).",
    ]
    return "\n".join(lines) + "\n"
