"""The weekly job's shock response: a township whose recorded disaster events crossed the
threshold in the last weeks is named in plain words, its households are scored with the shock
adjustment learned from how far the model's own risk missed the entries of the county's past
shocks, and extra visit capacity is proposed there for
the next weeks (a proposal: the county confirms it; the list this week keeps today's capacities).

The counts and the learning are ``features.shocks`` (shared with training's shock backtests).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.shocks import Scorer, ShockRule, learned_offset, recent_shock, weeks_into


def rule_from(settings) -> ShockRule:
    return ShockRule(weeks=int(settings.shock_weeks), per_100=float(settings.shock_per_100))


def _statement(row: dict[str, Any], weeks: int, offset: float, learned: dict[str, Any]) -> tuple[str, str]:
    origin_zh = (f"据本县过去 {len(learned['shocks'])} 次受灾（一年内实际新增监测 {learned['observed']} 户，"
                 f"模型当时预期 {learned['expected']} 户）" if learned["shocks"] else "本县历史上没有可供学习的受灾先例")
    origin_en = (f"learned from {len(learned['shocks'])} past shock(s) in this county (entries within a year "
                 f"{learned['observed']} against {learned['expected']} the model expected)" if learned["shocks"]
                 else "no past shock in this county to learn from")
    move_zh = "上调" if offset > 0 else ("下调" if offset < 0 else "未调整（模型已反映受灾影响）")
    zh = (f"{row['area']}近{weeks}周登记受灾事件 {row['events']} 起，受灾户比例 {row['hit_share']:.0%}"
          f"（每百户 {row['per_100']:.1f} 起）；{origin_zh}，本镇各户风险{move_zh}"
          f"（对数几率 {offset:+.2f}）。")
    en = (f"{row['area']}: {row['events']} disaster events recorded in the last {weeks} weeks, "
          f"{row['hit_share']:.0%} of households hit ({row['per_100']:.1f} per 100); households there are "
          f"scored with a shock adjustment ({offset:+.2f} log odds), {origin_en}.")
    return zh, en


def _proposal(township: str, share: float, config, townships: list[str], weeks: int) -> dict[str, Any]:
    """Extra weekly visits for the hit township: its places raised to its ``share`` of the model's
    expected entries in the county (at least one more visit a week), taken from the other
    townships in proportion to theirs. Sizing by the raw entry surge of past shocks (the learned
    ratio, x4-6) gave the township 4-6 times its places and cost the county 0.04-0.22 of recall in
    the shock backtests (docs/training.md); the model's own expected entries keep the county's."""
    own = config.capacity(township)
    total_places = sum(config.capacity(t) for t in townships)
    extra = max(1, int(round(total_places * share)) - own)
    others = {t: config.capacity(t) for t in townships if t != township}
    total = sum(others.values()) or 1
    taken = {t: int(round(extra * c / total)) for t, c in others.items()}
    return {"township": township, "capacity_now": own, "extra_per_week": extra, "weeks": weeks,
            "taken_from": {t: k for t, k in taken.items() if k}, "status": "proposed",
            "note_zh": f"建议未来 {weeks} 周向{township}每周增加 {extra} 户走访（待县级确认）",
            "note_en": f"proposed: {extra} more visits a week in {township} for {weeks} weeks (the county confirms)"}


@dataclass(frozen=True)
class ShockPlan:
    """What the county's recent shocks mean for this week, decided from the history alone (no
    household frame): the areas over the rule, their log-odds offset and where it was learned
    (``learned``: area -> ``features.shocks.learned_offset``; areas as far into their shocks share
    one). The Spark engine decides it on the driver and sends ``by_area`` to the partitions."""

    rule: ShockRule
    hit: pd.DataFrame
    learned: dict[str, dict[str, Any]] | None

    @property
    def offset(self) -> float:
        """The most-hit area's offset (the week's headline adjustment)."""
        return float(self.learned[str(self.hit["area"].iloc[0])]["offset"]) if self.learned else 0.0

    @property
    def by_area(self) -> dict[str, float]:
        """Area -> log-odds offset (only the hit areas)."""
        return {str(a): float(self.learned[str(a)]["offset"]) for a in self.hit["area"]} if self.learned else {}

    def record(self, frame: pd.DataFrame, settings, config, probability: np.ndarray | None = None) -> dict[str, Any]:
        """The week's shock record (see :func:`shock_response`) for the county's ``frame``;
        ``probability``: the model's own risk per frame row (proposals sized by each area's share)."""
        rule = self.rule
        townships = sorted(frame["township"].unique())
        record: dict[str, Any] = {"rule": {"weeks": rule.weeks, "per_100": rule.per_100, "level": rule.level},
                                  "areas": [], "adjustment": None, "proposals": []}
        if self.hit.empty:
            return record
        for row in self.hit.to_dict("records"):
            learned = self.learned[str(row["area"])]
            zh, en = _statement(row, rule.weeks, float(learned["offset"]), learned)
            record["areas"].append({"area": row["area"], "households": int(row["households"]),
                                    "events": int(row["events"]), "households_hit": int(row["households_hit"]),
                                    "hit_share": float(row["hit_share"]), "per_100": float(row["per_100"]),
                                    "offset": float(learned["offset"]), "weeks_in": int(learned["weeks_in"]),
                                    "statement_zh": zh, "statement_en": en})
            record["proposals"].append(_proposal(row["area"], _share(frame, probability, rule.level, row["area"]),
                                                 config, townships, int(settings.shock_capacity_weeks)))
        headline = self.learned[str(self.hit["area"].iloc[0])]
        record["adjustment"] = {**headline, "ratio": round(math.exp(self.offset), 3), "by_area": self.by_area}
        return record


def shock_plan(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, settings, expected_at: Scorer,
               label_weeks: int = 52) -> ShockPlan:
    """The areas over the shock rule in the weeks before ``cutoff`` and the offset learned from
    the model's own observed/expected in the county's past shocks whose outcome window ended by
    the cutoff, each hit area's on the day as far into those shocks as it is into its own
    (``expected_at``: the model's risk then, :func:`frame_scorer`; called only in a shock week)."""
    rule = rule_from(settings)
    recent = recent_shock(tables, cutoff, rule)
    hit = recent[recent["shock"]]
    if hit.empty:
        return ShockPlan(rule, hit, None)
    into = weeks_into(tables, cutoff, rule)
    by_weeks: dict[int, dict[str, Any]] = {}
    for weeks in sorted({into.get(str(a), 0) for a in hit["area"]}):
        by_weeks[weeks] = learned_offset(tables, cutoff, expected_at, rule, weeks_in=weeks, label_weeks=label_weeks)
    return ShockPlan(rule, hit, {str(a): by_weeks[into.get(str(a), 0)] for a in hit["area"]})


def frame_scorer(tables: dict[str, pd.DataFrame], model: Any, policy, level: str = "township") -> Scorer:
    """``expected_at`` for the weekly job: the served model's risk for an area's eligible households
    (not under monitoring: training's rows) in the household frame on a day of a past shock, the
    frame built once per day. The model is today's champion, so its offset is learned from its own misses."""
    from features.household_frame import build_household_frame

    built: dict[pd.Timestamp, pd.DataFrame] = {}

    def expected_at(area: str, day: pd.Timestamp) -> pd.Series:
        if day not in built:
            frame = build_household_frame(tables, day, policy)
            built[day] = frame.loc[~frame["under_monitoring"].to_numpy(dtype=bool)]
        rows = built[day].loc[lambda d: d[level].astype(str) == area]
        if rows.empty:
            return pd.Series(dtype="float64")
        return pd.Series(model.predict_proba(rows)[:, 1], index=rows["household_id"].to_numpy())

    return expected_at


def row_offsets(frame: pd.DataFrame, level: str, by_area: dict[str, float]) -> np.ndarray:
    """Log-odds offset per frame row: its area's (``ShockPlan.by_area``), else 0."""
    offsets = np.zeros(len(frame), dtype="float64")
    for area, offset in by_area.items():
        offsets[(frame[level] == area).to_numpy()] = offset
    return offsets


def shock_response(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, frame: pd.DataFrame, settings,
                   config, expected_at: Scorer, risk: Callable[[], np.ndarray] | None = None,
                   ) -> tuple[np.ndarray, dict[str, Any]]:
    """(log-odds offset per frame row, the week's shock record).

    The record: rule, ``areas`` (every township over the rule: counts, share hit, the Chinese and
    English statement), ``adjustment`` (offset and where it was learned: past shocks before the
    cutoff only) and ``proposals`` (extra capacity per hit township, sized by its share of the
    model's own risk per frame row, ``risk()``, called only in a shock week; households' shares
    when None). Empty areas: no shock.
    """
    plan = shock_plan(tables, cutoff, settings, expected_at)
    probability = risk() if risk is not None and not plan.hit.empty else None
    return row_offsets(frame, plan.rule.level, plan.by_area), plan.record(frame, settings, config, probability)


def _share(frame: pd.DataFrame, probability: np.ndarray | None, level: str, area: str) -> float:
    """The area's share of the county's expected entries (of its households when no risk is given)."""
    inside = (frame[level] == area).to_numpy()
    weight = np.ones(len(frame)) if probability is None else np.asarray(probability, dtype="float64")
    return float(weight[inside].sum() / (weight.sum() or 1.0))


def household_note(record: dict[str, Any] | None, township: str | None) -> dict[str, str] | None:
    """What the household page says about the shock adjustment of a household in ``township``
    (None when its township had no shock this week)."""
    if not record or not township:
        return None
    for area in record.get("areas") or []:
        if area["area"] == township:
            return {"zh": area["statement_zh"], "en": area["statement_en"]}
    return None
