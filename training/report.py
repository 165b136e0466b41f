"""The evaluation report: one self-contained HTML page (plots embedded as PNG) per training run."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np
import pandas as pd

from models import metrics as mt

CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "Source Han Sans SC", "SimHei")
COLOURS = {"model": "#c0392b", "rules": "#2c3e50", "rules_fitted": "#2980b9", "logistic": "#7f8c8d"}
NAMES = {"model": "模型 / model", "rules": "规则（人工权重）/ rules, hand-set weights",
         "rules_fitted": "规则（拟合权重）/ rules, fitted weights", "logistic": "逻辑回归 / logistic",
         "random_list": "同覆盖随机名单 / random list, same coverage"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    chosen = [f for f in CJK_FONTS if f in available]
    plt.rcParams["font.sans-serif"] = chosen + ["DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _curves(y: np.ndarray, scores: dict[str, np.ndarray], groups: np.ndarray) -> list[str]:
    from sklearn.metrics import precision_recall_curve, roc_curve

    plt = _pyplot()
    images = []
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, color=COLOURS.get(name), label=f"{NAMES.get(name, name)} {mt.safe_auc(y, s):.3f}")
    ax.plot([0, 1], [0, 1], ls=":", color="grey")
    ax.set(xlabel="假阳性率 / false positive rate", ylabel="召回率 / true positive rate", title="ROC")
    ax.legend(fontsize=8)
    images.append(_png(fig))

    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for name, s in scores.items():
        precision, recall, _ = precision_recall_curve(y, s)
        ax.plot(recall, precision, color=COLOURS.get(name), label=f"{NAMES.get(name, name)} {mt.safe_average_precision(y, s):.3f}")
    ax.axhline(y.mean(), ls=":", color="grey")
    ax.set(xlabel="召回率 / recall", ylabel="精确率 / precision", title="PR")
    ax.legend(fontsize=8)
    images.append(_png(fig))

    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for name, s in scores.items():
        if name == "rules":
            continue  # a priority score is not a probability
        rel = mt.reliability(y, s)
        ax.plot(rel["predicted"], rel["observed"], "o-", color=COLOURS.get(name), label=NAMES.get(name, name), ms=3)
    top = max(0.05, float(max(np.max(s) for n, s in scores.items() if n != "rules")))
    ax.plot([0, top], [0, top], ls=":", color="grey")
    ax.set(xlabel="预测概率 / predicted", ylabel="实际比例 / observed",
           title=f"校准 / calibration ({mt.ECE_BINS} 等频分箱 / equal-frequency bins)")
    ax.legend(fontsize=8)
    images.append(_png(fig))

    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    shares = np.array([0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15, 0.20, 0.30])
    for name, s in scores.items():
        recalls = [mt.recall_precision(y, mt.top_share(s, groups, q))[0] for q in shares]
        ax.plot(shares * 100, recalls, "o-", color=COLOURS.get(name), label=NAMES.get(name, name), ms=3)
    ax.axvline(5, ls=":", color="grey")
    ax.axvline(10, ls=":", color="grey")
    ax.set(xlabel="每期名单占比 % / share listed per cutoff %", ylabel="召回率 / recall",
           title="按帮扶能力的召回 / recall at capacity")
    ax.legend(fontsize=8)
    images.append(_png(fig))
    return images


def _importance_plot(importance: pd.DataFrame, top: int = 20) -> str:
    plt = _pyplot()
    head = importance.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.28 * len(head) + 1))
    ax.barh([f"{z} ({f})" for z, f in zip(head["zh"], head["feature"], strict=True)], head["mean_abs_shap"],
            color="#c0392b")
    ax.set(xlabel="平均|SHAP|（对数几率）/ mean |SHAP| (log-odds)", title="全局重要性 / global importance")
    ax.tick_params(axis="y", labelsize=8)
    return _png(fig)


def _short(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(frame: pd.DataFrame, floats: str = "{:.3f}") -> str:
    formatted = frame.copy()
    for col in formatted.columns:
        if pd.api.types.is_float_dtype(formatted[col]):
            formatted[col] = formatted[col].map(lambda v: "" if pd.isna(v) else floats.format(v))
    return formatted.to_html(index=False, escape=True, border=0, classes="t")


def _metrics_table(scorers: dict[str, dict[str, float]]) -> pd.DataFrame:
    keys = ["auc", "pr_auc", "brier", "ece", "ece_relative", "recall_at_5pct", "precision_at_5pct", "recall_at_10pct",
            "precision_at_10pct", "base_rate", "mean_predicted", "observed_expected", "top5_observed_expected"]
    rows = []
    for name, values in scorers.items():
        rows.append({"scorer": NAMES.get(name, name), **{k: values.get(k, float("nan")) for k in keys}})
    return pd.DataFrame(rows)


def _intervals_table(intervals: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name in ("model", "rules", "rules_fitted"):
        for metric, (low, high) in intervals.get(name, {}).items():
            rows.append({"scorer": NAMES.get(name, name), "metric": metric, "low": low, "high": high})
    low, high = intervals.get("recall_ratio_ci", [None, None])
    rows.append({"scorer": NAMES["model"], "metric": "recall@5% / stronger rules", "low": low, "high": high})
    return pd.DataFrame(rows)


def render(result: Any, title: str = "返贫风险模型评估报告 / risk model evaluation") -> str:
    """The HTML report of a ``TrainingResult`` (or anything with the same attributes)."""
    y = result.test_frame["label"].to_numpy().astype(int)
    groups = result.test_frame["cutoff"].to_numpy() if "cutoff" in result.test_frame else np.zeros(len(y))
    images = _curves(y, result.test_scores, groups)
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:'Noto Sans CJK SC',sans-serif;margin:2em;max-width:1200px}"
        "table.t{border-collapse:collapse;font-size:12px}table.t td,table.t th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}img{margin:4px}pre{background:#f6f6f6;padding:8px}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<h2>时间切分 / time split</h2>",
        f"<pre>{html.escape(result.split.describe())}</pre>",
        "<p>行数 / rows: " + html.escape(", ".join(f"{k}={v}" for k, v in result.counts.items())) + "</p>",
        "<h2>测试期指标 / test metrics</h2>",
        _table(_metrics_table(result.scorers), "{:.4f}"),
        f"<p>ECE: {mt.ECE_BINS} 个等频分箱 / {mt.ECE_BINS} equal-frequency bins (models.metrics). 能力召回 / recall at capacity: 每个截止日"
        "按分数取前 5%、10% 的未纳入监测户 / the top 5% or 10% of households not under monitoring, per cutoff.</p>",
        "".join(images),
    ]
    intervals = getattr(result, "intervals", None)
    if intervals:
        parts += [f"<h2>95% 区间 / 95% intervals (household-clustered bootstrap, {intervals['replicates']} "
                  f"replicates over {intervals['households']} households)</h2>", _table(_intervals_table(intervals))]
    calibration = getattr(result, "calibration", None)
    if calibration is not None and len(calibration):
        parts += ["<h2>校准：实际/预测 / calibration: observed / expected</h2>", _table(calibration),
                  "<p>1.0 = 预测人数等于实际人数；低于 1 高估，高于 1 低估 / 1.0: as many entered as predicted; "
                  "below 1 over-predicts, above 1 under-predicts.</p>"]
    served = getattr(result, "served", None)
    if served:
        parts += ["<h2>上线模型 / the served model</h2>",
                  "<p>" + html.escape(", ".join(f"{k}={v}" for k, v in served.items())) + "</p>",
                  "<p>以上指标评估的是训练程序（按时间切分回测）；上线模型用同一程序在全部已成熟截止日上重新训练，"
                  "在最新的成熟窗口上校准 / The figures above evaluate the procedure (time-split backtest); the "
                  "served model is the same procedure refit on every matured cutoff, calibrated on the newest "
                  "matured window.</p>"]
    if getattr(result, "oracle", None) and result.oracle.get("oracle_auc") is not None:
        o = result.oracle
        parts += [
            "<h2>真实风险上限 / oracle headroom</h2>",
            "<p>" + html.escape(", ".join(f"{k}={_short(v)}" for k, v in o.items())) + "</p>",
            "<p>recall_headroom_share = (模型 - 较强规则) / (oracle - 较强规则) 召回@5%，仅测试截止日 / "
            "(model - stronger rules) / (oracle - stronger rules) recall at 5%, oracle rows at test cutoffs only.</p>",
        ]
    if getattr(result, "lead", None):
        lead = pd.DataFrame([{"scorer": NAMES.get(k, k), **v} for k, v in result.lead.items()])
        parts += ["<h2>预警提前期 / early-warning lead time</h2>", _table(lead, "{:.3f}"),
                  "<p>每周名单 / weekly watch lists at capacity; median over warned entrants "
                  "(median_lead_weeks_all counts unwarned entrants as 0).</p>"]
    parts += ["<h2>分组 / slices</h2>", _table(result.slices),
              "<p>分组召回 = 全县名单中该组进入监测户的占比 / slice recall: share of the slice's entrants "
              "caught by the county-wide list.</p>"]
    if result.importance is not None and len(result.importance):
        parts += ["<h2>SHAP 全局重要性 / global importance</h2>", _importance_plot(result.importance),
                  _table(result.importance.head(30), "{:.4f}")]
    if getattr(result, "tuning", None):
        parts += ["<h2>调参 / tuning (validation AUC on the calibration part)</h2>",
                  _table(pd.DataFrame(result.tuning), "{:.4f}")]
    if getattr(result, "notes", None):
        parts += ["<h2>说明 / notes</h2><ul>"] + [f"<li>{html.escape(n)}</li>" for n in result.notes] + ["</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts)
