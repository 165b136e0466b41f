"""The 2026 identification test (认定): one way of counting income and spending for 防止返贫 and
rural social assistance, four things weighed together (DOMAIN.md, "Since 2026").

- income: per-capita net income from a survey within the income window (12 months) of the cutoff;
  an older survey says nothing about the last 12 months, so income is unknown;
- 合规自付支出: compliant out-of-pocket medical and schooling spending, subtracted from income
  before it is compared with the line;
- serious specific hardship: a large loss in 13 weeks or compliant spending above a share of income;
- the household's own ability to cope: able workers and income after spending well above the line.

A household is likely to be identified when its income after compliant spending is under the
line, or when it meets a serious hardship it cannot cope with on its own. This is the officer's
yardstick at the home check, not the county's decision. All thresholds come from the policy file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.policy import Policy

ASSESSMENT_COLUMNS = {
    "income_in_window": ("收入在认定期内（近12个月）", "income surveyed within the window"),
    "pc_income_after_spending": ("扣除合规自付支出后人均纯收入", "per-capita income after compliant spending"),
    "below_line": ("扣除合规自付支出后低于监测标准", "below the line after compliant spending"),
    "serious_hardship": ("存在严重特定困难", "serious specific hardship"),
    "able_to_cope": ("家庭具备自身应对能力", "household able to cope on its own"),
    "likely_identified": ("符合认定条件（待入户核实）", "likely to be identified (to be checked at home)"),
}


def assess_identification(frame: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Weigh income, compliant spending, hardship and ability to cope for each household.

    Args:
        frame: the household frame (its ``monitoring_line`` is the line in force at its cutoff).
        policy: the identification thresholds (``policy.identification``).

    Returns:
        A DataFrame aligned with ``frame``: ``household_id`` and the columns of ``ASSESSMENT_COLUMNS``.
    """
    ident = policy.identification
    window_weeks = ident["income_window_months"] * 52 / 12
    in_window = frame["survey_age_weeks"].notna() & (frame["survey_age_weeks"] <= window_weeks)
    spending = frame["medical_oop"].fillna(0) + frame["schooling_spending"].fillna(0)
    size = frame["household_size"].clip(lower=1)
    after = (frame["net_income"] - spending) / size
    after = after.where(in_window)
    below = in_window & (after < frame["monitoring_line"])
    loss = frame["disaster_loss_13w"].fillna(0) + frame["accident_loss_13w"].fillna(0)
    net = frame["net_income"].fillna(0).clip(lower=0)
    hardship = (loss > ident["hardship_loss_yuan"]) | (
        in_window & (spending > ident["hardship_spending_share"] * net) & (spending > 0)
    )
    cope = (frame["able_labour"] >= ident["cope_min_able_labour"]) & (
        after.fillna(-np.inf) >= ident["cope_income_to_line"] * frame["monitoring_line"]
    )
    out = pd.DataFrame({"household_id": frame["household_id"].to_numpy()}, index=frame.index)
    out["income_in_window"] = in_window.to_numpy(dtype=bool)
    out["pc_income_after_spending"] = after.to_numpy(dtype="float64")
    out["below_line"] = below.to_numpy(dtype=bool)
    out["serious_hardship"] = hardship.to_numpy(dtype=bool)
    out["able_to_cope"] = cope.to_numpy(dtype=bool)
    out["likely_identified"] = out["below_line"] | (out["serious_hardship"] & ~out["able_to_cope"])
    return out
