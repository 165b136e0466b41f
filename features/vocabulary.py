"""Allowed values of the registry's coded fields: code -> Chinese label.

Codes are English snake_case and are what the code and the model see; the Chinese labels are what
the registry exports and what people read. Readers accept either and normalise to the code.
The schemas in :mod:`features.contract` take their allowed values from here.
"""

from __future__ import annotations

HOUSEHOLD_CATEGORY = {
    "exited": "脱贫户",
    "marginal": "边缘易致贫户",
    "general": "一般农户",
}

POLICY_STATUS = {
    "continuing": "脱贫继续享受政策",
    "ended": "脱贫不再享受政策",
    "not_applicable": "不适用",
}

SOCIAL_ASSISTANCE = {
    "none": "无",
    "dibao": "低保",
    "tekun": "特困供养",
}

HOUSING_GRADE = {
    "A": "A级（安全）",
    "B": "B级（基本安全）",
    "C": "C级（局部危房）",
    "D": "D级（整体危房）",
}

RELATION = {
    "head": "户主",
    "spouse": "配偶",
    "child": "子女",
    "child_in_law": "儿媳/女婿",
    "grandchild": "孙子女",
    "parent": "父母",
    "sibling": "兄弟姐妹",
    "other": "其他",
}

SEX = {"male": "男", "female": "女"}

ETHNICITY = {
    "han": "汉族",
    "miao": "苗族",
    "yao": "瑶族",
    "tujia": "土家族",
    "dong": "侗族",
    "zhuang": "壮族",
    "yi": "彝族",
    "hui": "回族",
    "other": "其他民族",
}

EDUCATION = {
    "preschool": "学龄前儿童",
    "illiterate": "文盲或半文盲",
    "primary": "小学",
    "junior": "初中",
    "senior": "高中",
    "vocational": "中专/中职",
    "college": "大专及以上",
}

SCHOOLING_STATUS = {
    "not_in_school": "非在校生",
    "preschool": "学前教育",
    "compulsory": "义务教育在校生",
    "senior_high": "普通高中在校生",
    "vocational": "中职在校生",
    "higher": "高等教育在校生",
    "dropout": "辍学",
}

HEALTH = {
    "healthy": "健康",
    "chronic": "长期慢性病",
    "major": "患大病",
}

DISABILITY_TYPE = {
    "none": "无",
    "physical": "肢体残疾",
    "visual": "视力残疾",
    "hearing": "听力残疾",
    "speech": "言语残疾",
    "intellectual": "智力残疾",
    "mental": "精神残疾",
    "multiple": "多重残疾",
}

LABOUR_SKILL = {
    "ordinary": "普通劳动力",
    "skilled": "技能劳动力",
    "weak": "弱劳动力或半劳动力",
    "lost": "丧失劳动力",
    "none": "无劳动力",
}

MIGRANT_PLACE = {
    "none": "未务工",
    "in_county": "县内",
    "in_province": "省内县外",
    "out_province": "省外",
}

EVENT_TYPE = {
    "hospitalisation": "住院",
    "major_illness_diagnosis": "确诊大病",
    "chronic_diagnosis": "确诊慢性病",
    "disability_certified": "残疾认定",
    "death": "死亡",
    "birth": "出生",
    "disaster_damage": "灾害损失",
    "accident": "意外事故",
    "job_loss": "务工中断",
    "job_start": "外出务工",
    "school_enrolment": "入学",
    "school_dropout": "辍学",
    "housing_downgrade": "房屋鉴定为危房",
    "housing_rebuilt": "危房改造完成",
    "business_failure": "产业经营失败",
    "assistance_granted": "落实帮扶措施",
}

MONITORING_CATEGORY = {
    "unstable_exited": "脱贫不稳定户",
    "marginal": "边缘易致贫户",
    "sudden_hardship": "突发严重困难户",
}

RISK_TYPE = {
    "illness": "因病",
    "disability": "因残",
    "schooling": "因学",
    "disaster": "因灾",
    "accident": "因意外事故",
    "business_failure": "因产业项目失败",
    "unstable_work": "因务工就业不稳",
    "lack_labour": "缺劳动力",
    "housing": "住房出现安全问题",
    "water": "饮水安全问题",
    "other": "其他",
}

# Codes fanpin itself assigns (not registry values): the risk level of a calibrated probability
# (``features.policy.Policy.level``), the watch list's flags (``serving.core.watchlist``) and what an
# officer found on a follow-up visit (feedback).
RISK_LEVEL = {"high": "高", "medium": "中", "low": "低"}
WATCHLIST_FLAG = {"new": "新增", "rising": "风险上升", "rule_triggered": "触发监测标准"}
FOLLOW_UP_OUTCOME = {
    "visited": ("已走访", "visited"),
    "confirmed_at_risk": ("确认存在风险（纳入监测）", "confirmed at risk (enter monitoring)"),
    "not_at_risk": ("无风险", "not at risk"),
    "already_assisted": ("已在帮扶", "already assisted"),
    "unreachable": ("无法联系", "could not reach"),
}
# What a follow-up outcome says about risk: 1 at risk (confirmed, or already being helped), 0 not
# at risk, None nothing (a visit without a finding, or no one reached). The retraining labels of
# `fanpin feedback export` and the officers' verdict on the lists (``monitoring.verdicts``) read it.
FOLLOW_UP_LABEL = {"confirmed_at_risk": 1, "already_assisted": 1, "not_at_risk": 0, "visited": None,
                   "unreachable": None}

BOOLEAN_WORDS = {
    # Registry exports write yes/no in many ways; everything here maps to a real boolean.
    True: ("1", "true", "t", "yes", "y", "是", "有", "√", "✓"),
    False: ("0", "false", "f", "no", "n", "否", "无", "×", "✗"),
}
