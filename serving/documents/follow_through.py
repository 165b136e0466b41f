"""The follow-through figures as an Excel workbook (one sheet per table, Chinese headers), made by
the one workbook builder (``serving.documents.workbook``)."""

from __future__ import annotations

from typing import Any

from serving.documents.workbook import xlsx_sheets

FUNNEL = [("listed", "列入名单或预警"), ("visited", "已走访并有结论"), ("visited_in_time", "7日内走访"),
          ("case_opened", "已立案"), ("decided", "县级已审定"), ("decided_in_time", "15日内审定"),
          ("measures", "已落实帮扶措施"), ("eliminated", "风险已消除"), ("days_to_visit", "走访天数（中位）"),
          ("days_to_case", "立案天数（中位）"), ("days_to_decision", "审定天数（中位）"),
          ("days_to_measure", "措施天数（中位）"), ("days_to_elimination", "消除天数（中位）"),
          ("visit_overdue", "超7日未走访"), ("decision_overdue", "超15日未审定"), ("objected", "公示有异议"),
          ("objection_upheld", "异议成立"), ("appealed", "农户申诉"), ("appeal_overturned", "申诉改变结论"),
          ("appeal_overdue", "申诉超期未答复")]
CASEWORK = [("township", "乡镇"), ("decisions", "县级审定"), ("identified", "其中认定"), ("measures", "帮扶措施"),
            ("eliminated", "风险消除"), ("days_to_elimination", "认定至消除天数（中位）"), ("objections", "公示异议"),
            ("objections_upheld", "异议成立"), ("appeals", "申诉"), ("appeals_answered", "已答复申诉"),
            ("appeals_overturned", "改变结论"), ("appeal_overdue", "申诉超期未答复")]
BURDEN = [("township", "乡镇"), ("weeks", "周数"), ("leads", "新预警"), ("officers", "干部数"),
          ("per_officer_week", "每名干部每周预警"), ("villages", "村数"), ("per_village_week", "每村每周预警"),
          ("with_verdict", "有走访结论"), ("no_risk", "判定无风险"), ("no_risk_share", "无风险占比")]
MISSED = [("household_id", "户编号"), ("township", "乡镇"), ("risk_type", "风险类型"), ("entry_date", "纳入监测日期"),
          ("last_week", "纳入前最后一周"), ("rank", "当周全县排名"), ("scored", "当周评估户数"),
          ("probability", "当周风险"), ("top_decile", "前10%"), ("found_by", "发现渠道")]
JUDGEMENT = [("township", "乡镇"), ("way", "方式"), ("positives", "实际纳入"), ("flagged", "识别"), ("hits", "命中"),
             ("recall", "召回率"), ("recall_low", "召回率下限"), ("recall_high", "召回率上限"),
             ("precision", "精确率"), ("precision_low", "精确率下限"), ("precision_high", "精确率上限")]
OVERRIDES = [("household_id", "户编号"), ("township", "乡镇"), ("group", "分组"), ("verdict_date", "判定日期"),
             ("username", "走访人"), ("note", "理由"), ("entered_6", "6个月内纳入监测"), ("entered_12", "12个月内纳入监测")]


def _sheet(title: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]]):
    return (title, [h for _, h in columns], ([r.get(k) for k, _ in columns] for r in rows),
            [14] * len(columns), None)


def follow_through_workbook(result: dict[str, Any]) -> bytes:
    """The page's tables: the funnel per week and per township, burden, missed households, the
    model / officers / final decisions (or why not yet) and the misses by override."""
    week_cols = [("week", "周"), *FUNNEL]
    township_cols = [("township", "乡镇"), *FUNNEL]
    judged = result["judgement"]
    judgement_rows = judged["table"] if judged["matured"] else [
        {"township": f"结果尚未成熟，{judged['matures_on']} 后可计算 / outcomes mature on {judged['matures_on']}"}]
    sheets = [
        _sheet("落实情况-按周", week_cols, result["by_week"]),
        _sheet("落实情况-按乡镇", township_cols, result["by_township"]),
        _sheet("本期台账办理", CASEWORK, [*result.get("casework_by_township", []),
                                       {**result.get("casework", {}), "township": "全县 / county"}]),
        _sheet("预警负担", BURDEN, result["burden"]),
        _sheet("遗漏户", MISSED, result["missed"]),
        _sheet("模型与干部", JUDGEMENT, judgement_rows),
        _sheet("判定无风险后纳入", OVERRIDES, result["override_detail"]),
    ]
    if result.get("simulated"):
        sheets.append(("说明", ["说明"], [["走访、案件等干部工作为模拟数据（演示县），不是实地数据 / "
                                         "simulated officer activity (demo county), not field data"]], [80], None))
    return xlsx_sheets(sheets)
