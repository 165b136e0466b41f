"""Drift results -> alerts a county officer or a researcher can act on, in Chinese and English.

Severities:
- ``high``: the data is wrong and scores built on it are wrong (a 万元 unit error in a township).
- ``medium``: the population or the registry changed in a way the model has not seen: a local
  shock (flood) with the township's risk figure, a subgroup change such as a pension rise with
  the prediction-drift figure, a new township or new category values, a jump in missing values.
- ``low``: suspicious data quality that does not yet move scores much (values outside the
  reference's range, a column that became constant).
- ``info``: slow county-wide drift that every township shares (time passing: incomes grow, years
  since leaving poverty increase; it counts towards retraining, not as an error), a change
  confined to one township without a recognised pattern (named, to be checked), the
  prediction-drift figure.

Each alert: ``severity``, ``kind``, ``township`` (None = county-wide), ``feature``,
``message_zh``, ``message_en``, ``psi``.
"""

from __future__ import annotations

import math
from typing import Any

from features.household_frame import FRAME_COLUMNS
from monitoring.drift_result import DriftResult
from monitoring.drift_settings import DISASTER_FEATURES, INCOME_FEATURES, Thresholds

SEVERITIES = ("high", "medium", "low", "info")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_OTHER_LABELS = {
    "category": ("户类型", "household category"),
    "policy_status": ("脱贫户政策状态", "policy status"),
    "social_assistance": ("低保/特困供养", "social assistance"),
    "township": ("乡镇", "township"),
    "prediction": ("预测风险", "predicted risk"),
}
# Powers of ten a unit slip produces, with the unit that explains it.
_UNITS = {
    -4: ("万分之一", "1/10,000", "万元", "10,000-yuan units (万元)"),
    -3: ("千分之一", "1/1,000", "千元", "1,000-yuan units (千元)"),
}


def label(name: str) -> tuple[str, str]:
    """Chinese and English label of a feature (FRAME_COLUMNS first)."""
    col = FRAME_COLUMNS.get(name)
    if col is not None:
        return col.zh, col.en
    return _OTHER_LABELS.get(name, (name, name))


def _alert(severity: str, kind: str, township: str | None, feature: str | None, zh: str, en: str,
           psi: float | None = None, **extra: Any) -> dict[str, Any]:
    value = None if psi is None or not math.isfinite(psi) else round(float(psi), 3)
    return {"severity": severity, "kind": kind, "township": township, "feature": feature,
            "message_zh": zh, "message_en": en, "psi": value, **extra}


def county_alert(kind: str, week: str | None, zh: str, en: str, severity: str = "medium") -> dict[str, Any]:
    """A county-wide alert without a feature (the model-health checks), in the drift alerts' shape."""
    return _alert(severity, kind, None, None, zh, en, week=week)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _risk_zh(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return ""
    return f"平均预测风险由{_pct(before)}变为{_pct(after)}"


def _risk_en(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return ""
    return f"mean predicted risk {_pct(before)} -> {_pct(after)}"


def _unit_alerts(checks: dict) -> list[dict]:
    out = []
    for u in checks.get("unit_errors", []):
        power = round(math.log10(u["ratio"])) if u["ratio"] > 0 else -4
        frac_zh, frac_en, unit_zh, unit_en = _UNITS.get(power, _UNITS[-4])
        zh_name, en_name = label(u["feature"])
        town = u["township"]
        if u.get("held"):
            effect_zh = "这些收入记录已暂停用于评分，该镇风险分值沿用上次核实的收入；"
            effect_en = ("These income rows were held out of scoring, so the township's scores use the last "
                         "confirmed income;")
        else:
            effect_zh = "该镇的收入特征和风险分值不可信，"
            effect_en = "This township's income features and risk scores cannot be trusted;"
        zh = (f"{town}本周{zh_name}整体约为参考数据的{frac_zh}（中位数{u['median_current']:.2f}元，参考"
              f"{u['median_reference']:.0f}元），疑似收入单位录入为{unit_zh}；{effect_zh}"
              f"请核对并更正本周导出的收入调查表")
        en = (f"{town}: {en_name} this week is about {frac_en} of the reference (median "
              f"{u['median_current']:.2f} vs {u['median_reference']:.0f} yuan); income was probably entered "
              f"in {unit_en}. {effect_en} check and correct the income survey file of this week's export.")
        out.append(_alert("high", "unit_error", town, u["feature"], zh, en, u.get("psi"),
                          ratio=u["ratio"], unit=unit_zh))
    return out


def _shock_alerts(checks: dict) -> list[dict]:
    out = []
    for s in checks.get("local_shocks", []):
        town = s["township"]
        names = s["features"] or ["disaster_events_13w"]
        zh_feats = "、".join(label(f)[0] for f in names[:3])
        en_feats = ", ".join(label(f)[1] for f in names[:3])
        before, after = s.get("risk_mean_reference"), s.get("risk_mean")
        risk_zh = f"，该镇住户{_risk_zh(before, after)}" if after is not None else ""
        risk_en = f"; its households' {_risk_en(before, after)}" if after is not None else ""
        if s.get("county_wide"):
            scope_zh, scope_en = "多个乡镇同时受灾，属全县性灾害", "many townships are hit at once: a county-wide disaster"
        else:
            scope_zh = "变化集中在本镇，属局部冲击（如洪涝灾害），不是全县人群变化"
            scope_en = "the change is confined to this township: a local shock (e.g. a flood), not a county-wide change"
        zh = (f"{town}近13周受灾户比例为{_pct(s['hit_share'])}（参考{_pct(s['hit_share_reference'])}），"
              f"{zh_feats}明显上升{risk_zh}；{scope_zh}")
        en = (f"{town}: {_pct(s['hit_share'])} of households hit by a disaster in 13 weeks (reference "
              f"{_pct(s['hit_share_reference'])}); {en_feats} up sharply{risk_en}; {scope_en}.")
        out.append(_alert("medium", "local_shock", town, names[0], zh, en, s.get("psi"),
                          risk_mean=after, risk_mean_reference=before))
    return out


def _subgroup_alerts(checks: dict, prediction: dict | None) -> list[dict]:
    out = []
    for g in checks.get("subgroups", []):
        if not g.get("changed"):
            if "reference" in g.get("evidence", []):
                zh = (f"与参考数据相比，有60岁以上老人的家庭转移性收入占比中位数{_pct(g['median_reference'])}→"
                      f"{_pct(g['median_current'])}（PSI {g['psi']:.2f}），其他家庭变化{g['shift_other_households']:+.1%}；"
                      f"本周记录未见改写，可能是参考数据较旧，请结合再训练评估")
                en = (f"Against the reference, the median transfer share of households with members aged 60+ moved "
                      f"{_pct(g['median_reference'])} -> {_pct(g['median_current'])} (PSI {g['psi']:.2f}), other "
                      f"households {g['shift_other_households']:+.1%}; no records were rewritten this week, so an old "
                      f"reference may explain it: weigh it when deciding on retraining.")
                out.append(_alert("info", "subgroup_drift", None, g["feature"], zh, en, g["psi"], group=g["group"]))
            continue
        weekly = "week_over_week" in g.get("evidence", [])
        if weekly:
            up = (g.get("revised_median_change") or 0) > 0
            lead_zh = (f"本周{_pct(g['revised_share'])}有60岁以上老人的家庭转移性收入较登记原值"
                       f"{'上调' if up else '下调'}（中位数{g['revised_median_change']:+,.0f}元），其他家庭仅"
                       f"{_pct(g['revised_share_other_households'] or 0)}有变化")
            lead_en = (f"This week {_pct(g['revised_share'])} of households with members aged 60+ had their transfer "
                       f"income {'raised' if up else 'lowered'} against the registry's previous values (median "
                       f"{g['revised_median_change']:+,.0f} yuan), other households only "
                       f"{_pct(g['revised_share_other_households'] or 0)}")
        else:
            up = g["shift"] > 0
            lead_zh = (f"有60岁以上老人的家庭转移性收入占比整体{'上升' if up else '下降'}，其他家庭基本不变"
                       f"（变化{g['shift_other_households']:+.1%}）")
            lead_en = (f"The transfer share of income in households with members aged 60+ {'rose' if up else 'fell'} "
                       f"while other households barely moved ({g['shift_other_households']:+.1%})")
        context_zh = (f"；与参考数据相比，老人家庭转移性收入占比中位数{_pct(g['median_reference'])}→"
                      f"{_pct(g['median_current'])}（PSI {g['psi']:.2f}）")
        context_en = (f"; against the reference their median transfer share is {_pct(g['median_reference'])} -> "
                      f"{_pct(g['median_current'])} (PSI {g['psi']:.2f})")
        pred_zh = pred_en = ""
        if prediction is not None:
            pred_zh = (f"；全县预测风险分布漂移 PSI {prediction['psi']:.2f}，"
                       f"{_risk_zh(prediction['mean_reference'], prediction['mean_current'])}")
            pred_en = (f"; the county's predicted-risk distribution drifted (PSI {prediction['psi']:.2f}, "
                       f"{_risk_en(prediction['mean_reference'], prediction['mean_current'])})")
        if g.get("risk_mean") is not None:
            pred_zh += f"，老人家庭{_risk_zh(g['risk_mean_reference'], g['risk_mean'])}"
            pred_en += f"; elderly households' {_risk_en(g['risk_mean_reference'], g['risk_mean'])}"
        zh = f"{lead_zh}：属人群整体变化（如养老金提标），不是数据错误{context_zh}{pred_zh}"
        en = f"{lead_en}: a population change (e.g. a pension rise), not a data error{context_en}{pred_en}."
        out.append(_alert("medium", "population_change", None, g["feature"], zh, en, g["psi"],
                          group=g["group"], prediction_drift=prediction))
    return out


def _new_value_alerts(result: DriftResult) -> list[dict]:
    out = []
    for t in result.checks.get("new_townships", []):
        zh = (f"出现参考数据中没有的新乡镇「{t['township']}」（{t['households']}户）：乡镇为新类别值，模型训练时"
              f"未见过该乡镇的住户，其风险分值需谨慎解读，积累数据后应重新训练")
        en = (f"A township not in the reference appears: {t['township']} ({t['households']} households). It is "
              f"a new category value: the model never saw households of this township, so read their scores "
              f"with care and retrain once data accumulates.")
        out.append(_alert("medium", "new_category", t["township"], "township", zh, en, None,
                          values=[t["township"]]))
    for row in result.feature_results.itertuples():
        values = getattr(row, "new_values", None)
        if not values:
            continue
        zh_name, en_name = label(row.feature)
        shown = "、".join(map(str, values[:5]))
        zh = f"{zh_name}出现参考数据中没有的新取值：{shown}（模型按缺失处理）"
        en = f"{en_name} has values not in the reference: {', '.join(map(str, values[:5]))} (the model treats them as missing)."
        out.append(_alert("medium", "new_category", None, row.feature, zh, en, row.psi, values=list(values)))
    return out


def _quality_alerts(result: DriftResult, th: Thresholds) -> list[dict]:
    out = []
    for row in result.feature_results.itertuples():
        zh_name, en_name = label(row.feature)
        if row.missing_current - row.missing_reference >= th.missing_rise:
            zh = f"{zh_name}缺失比例由{_pct(row.missing_reference)}升至{_pct(row.missing_current)}，请检查导出是否漏填"
            en = (f"{en_name}: missing share rose from {_pct(row.missing_reference)} to "
                  f"{_pct(row.missing_current)}; check the export for unfilled fields.")
            out.append(_alert("medium", "missing", None, row.feature, zh, en, row.psi))
        if row.out_of_range_share >= th.out_of_range_share:
            zh = f"{zh_name}有{_pct(row.out_of_range_share)}的取值超出参考数据范围"
            en = f"{en_name}: {_pct(row.out_of_range_share)} of values fall outside the reference's range."
            out.append(_alert("low", "out_of_range", None, row.feature, zh, en, row.psi))
        if row.constant_now:
            zh = f"{zh_name}本周所有住户取值相同（参考数据中有变化），疑似字段未填写或导出错误"
            en = f"{en_name} has one value for every household this week (it varies in the reference): probably unfilled or mis-exported."
            out.append(_alert("low", "constant", None, row.feature, zh, en, row.psi))
    return out


def _drift_alerts(result: DriftResult, th: Thresholds, explained: set[tuple[str, str]]) -> list[dict]:
    out = []
    fr = result.feature_results
    s = result.summary
    drifted = fr[fr["drifted"]].sort_values("psi", ascending=False)
    period = s.get("reference_period")
    period_zh = f"参考数据来自{period[0]}至{period[1]}，" if period else ""
    period_en = f"The reference covers {period[0]} to {period[1]}; " if period else ""
    if len(drifted):
        top = drifted.head(4)
        zh_top = "、".join(f"{label(f)[0]}（PSI {p:.2f}）" for f, p in zip(top["feature"], top["psi"], strict=True))
        en_top = ", ".join(f"{label(f)[1]} (PSI {p:.2f})" for f, p in zip(top["feature"], top["psi"], strict=True))
        zh = (f"全县有{len(drifted)}个特征相对参考数据发生漂移（占{s['share_drifted']:.0%}），变化最大的是{zh_top}。"
              f"{period_zh}各乡镇一致的缓慢变化通常反映时间推移（收入增长、脱贫年限增加），计入再训练依据")
        en = (f"{len(drifted)} features drift county-wide against the reference ({s['share_drifted']:.0%}); largest: "
              f"{en_top}. {period_en}slow change shared by every township usually reflects time passing "
              f"(income growth, more years since leaving poverty) and counts towards retraining.")
        out.append(_alert("info", "county_drift", None, None, zh, en, float(drifted["psi"].max()),
                           features=drifted["feature"].tolist()))
    else:
        out.append(_alert("info", "county_drift", None, None, "本周数据与参考数据一致，未发现特征漂移",
                          "This week's data matches the reference: no feature drifted.", None, features=[]))
    town = result.township_results
    if "local" in fr.columns and not town.empty:
        for row in fr[fr["local"].fillna(False).astype(bool)].itertuples():
            for t in row.townships_act:
                if (t, row.feature) in explained or (t, "*") in explained:
                    continue
                value = town[(town["township"] == t) & (town["feature"] == row.feature)]["psi"]
                value = float(value.iloc[0]) if len(value) else None
                zh_name, en_name = label(row.feature)
                zh = (f"{t}的{zh_name}与参考数据相比明显变化（PSI {value:.2f}），其他乡镇稳定：变化只出现在一个乡镇，"
                      f"通常是数据录入变化或局部冲击，请核实")
                en = (f"{t}: {en_name} moved against the reference (PSI {value:.2f}) while other townships are "
                      f"stable: a change confined to one township is usually a data-entry change or a local "
                      f"shock; please check.")
                out.append(_alert("info", "local_drift", t, row.feature, zh, en, value))
    p = s.get("prediction_drift")
    if p is not None:
        verdict_zh = "发生漂移" if p["drifted"] else "未漂移"
        verdict_en = "drifted" if p["drifted"] else "did not drift"
        zh = (f"预测风险分布{verdict_zh}（{p['method']} {p['score']:.3f}，PSI {p['psi']:.2f}），"
              f"{_risk_zh(p['mean_reference'], p['mean_current'])}")
        en = (f"The predicted-risk distribution {verdict_en} ({p['method']} {p['score']:.3f}, PSI {p['psi']:.2f}); "
              f"{_risk_en(p['mean_reference'], p['mean_current'])}.")
        out.append(_alert("info", "prediction_drift", None, "prediction", zh, en, p["psi"]))
    return out


def build_alerts(result: DriftResult, th: Thresholds) -> list[dict[str, Any]]:
    """All alerts of one week, most severe first (stable within a severity)."""
    checks = result.checks
    explained: set[tuple[str, str]] = set()
    for u in checks.get("unit_errors", []):
        explained.add((u["township"], "*"))
    for s in checks.get("local_shocks", []):
        for f in (*DISASTER_FEATURES, *INCOME_FEATURES, "business_share", "housing_grade_rank",
                  "housing_downgrade_52w", "income_to_line"):
            explained.add((s["township"], f))
    alerts = (
        _unit_alerts(checks)
        + _shock_alerts(checks)
        + _subgroup_alerts(checks, result.summary.get("prediction_drift"))
        + _new_value_alerts(result)
        + _quality_alerts(result, th)
        + _drift_alerts(result, th, explained)
    )
    return sorted(alerts, key=lambda a: _RANK[a["severity"]])
