"""A simulated export as a county system with its own headers and labels writes it.

Header names as county systems really vary them (所属乡镇, 学历, 公民身份号码…), a few coded
labels shortened (一般户, 汉), for the mapping-profile tests: ``RENAMED`` is the truth a
suggestion is scored against.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

_DATES = {"生效日期": "生效时间", "失效日期": "失效时间", "入库时间": "录入时间"}
RENAMED: dict[str, dict[str, str]] = {
    "households": {
        "户编号": "家庭户编号", "乡镇": "所属乡镇", "行政村": "所属行政村", "户类型": "农户类型",
        "脱贫年度": "脱贫年份", "脱贫户政策状态": "政策状态", "易地扶贫搬迁户": "是否易地扶贫搬迁",
        "独居老人户": "是否独居老人", "残疾户": "是否残疾户", "重大病户": "是否重大疾病户",
        "危房改造户": "是否危房改造户", "低保/特困供养": "低保特困供养", "耕地面积": "耕地面积（亩）",
        "住房安全等级": "住房安全鉴定等级", "饮水安全": "饮水是否安全", "扶贫小额信贷": "小额信贷",
        "参与产业项目": "是否参与产业项目", "公益岗位": "公益性岗位", "户主姓名": "户主名称",
        "户主身份证号": "户主公民身份号码", "联系电话": "联系手机", **_DATES,
    },
    "members": {
        "户编号": "家庭户编号", "成员编号": "人员编号", "与户主关系": "与户主的关系", "出生日期": "出生年月日",
        "民族": "民族名称", "文化程度": "文化程度（学历）", "在校生状况": "在校状况", "健康状况": "身体健康状况",
        "残疾类别": "残疾类型", "残疾等级": "残疾级别", "劳动技能": "劳动技能状况", "务工时间": "外出务工时间（月）",
        "务工区域": "务工所在区域", "参加城乡居民基本医疗保险": "是否参加居民医疗保险",
        "参加城乡居民基本养老保险": "是否参加居民养老保险", "姓名": "人员姓名", "身份证号": "公民身份号码", **_DATES,
    },
    "income_surveys": {"户编号": "家庭户编号", "收入年度": "收入年份", "调查日期": "调查时间", "工资性收入": "工资收入",
                       "生产经营性收入": "经营性收入", "合规自付医疗费用": "自付医疗费用", "入库时间": "录入时间"},
}
RELABELLED = {"households": {"户类型": {"一般农户": "一般户"}}, "members": {"民族": {"汉族": "汉"}}}


def write_renamed(source: Path, out: Path) -> Path:
    """The CSV export in ``source`` with RENAMED headers and RELABELLED values, into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column, labels in RELABELLED.get(path.stem, {}).items():
            frame[column] = frame[column].replace(labels)
        frame.rename(columns=RENAMED.get(path.stem, {})).to_csv(out / path.name, index=False)
    return out
