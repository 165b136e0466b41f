"""The model card: intended use, data, metrics, slices and limits, as Markdown."""

from __future__ import annotations

from typing import Any

import pandas as pd


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "n/a" if v != v else f"{v:.{digits}f}"


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
        "## 测试期指标 / test metrics",
        "| 指标 / metric | 模型 / model | 规则 / rules | 逻辑回归 / logistic |",
        "|---|---|---|---|",
    ]
    sc = result.scorers
    for key in ("auc", "pr_auc", "brier", "ece", "recall_at_5pct", "precision_at_5pct", "recall_at_10pct"):
        row = [_fmt(sc.get(name, {}).get(key), 4) for name in ("model", "rules", "logistic")]
        lines.append(f"| {key} | " + " | ".join(row) + " |")
    lines += [
        "",
        "ECE: 15 equal-frequency bins. Capacity: top 5% / 10% of eligible households per cutoff.",
        "",
    ]
    if m.get("oracle_auc") is not None:
        lines += [
            "## 可达上限 / achievable headroom (simulated data)",
            f"- oracle AUC {_fmt(m['oracle_auc'], 4)}, model AUC on the same rows "
            f"{_fmt(m.get('model_auc_on_oracle_rows'), 4)}, headroom share {_fmt(m.get('headroom_share'))}",
            "",
        ]
    if m.get("median_lead_weeks") is not None:
        lines += [
            "## 预警提前期 / lead time",
            f"- 模型 / model: median {_fmt(m['median_lead_weeks'], 1)} weeks among warned entrants; "
            f"warned {_fmt(m.get('share_warned'))}, >=4 weeks {_fmt(m.get('share_lead_4w'))}, "
            f">=12 weeks {_fmt(m.get('share_lead_12w'))}",
            f"- 规则 / rules: median {_fmt(m.get('rules_median_lead_weeks'), 1)} weeks; warned "
            f"{_fmt(m.get('rules_share_warned'))}, >=12 weeks {_fmt(m.get('rules_share_lead_12w'))}",
            "",
        ]
    slices = result.slices
    if isinstance(slices, pd.DataFrame) and not slices.empty:
        cols = [c for c in ("slice", "value", "rows", "entrants", "model_auc", "model_recall_at_10pct",
                            "rules_recall_at_10pct") if c in slices.columns]
        lines += ["## 分组 / slices", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
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
        "- 训练期早于测试期至少两个预测期；政策、监测线或经济环境变化后需重新训练并检查漂移。/ Training data "
        "is at least two horizons older than the test period; retrain and watch drift when lines, policy or "
        "the economy change.",
        "- 概率按校准期校准；基准率变化时概率会偏。/ Probabilities are calibrated on the calibration period; "
        "they drift when the base rate changes.",
        "- 加载此模型需要安装 fanpin 包（特征构建器在包内）。/ Loading the model needs the fanpin package "
        "installed (the feature builder lives there).",
    ]
    return "\n".join(lines) + "\n"
