"""The weekly job's shock response: a township whose recorded disaster events crossed the
threshold in the last weeks is named in plain words, its households are scored with the shock
adjustment learned from the county's past shocks, and extra visit capacity is proposed there for
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

from features.shocks import ShockRule, learned_offset, recent_shock


def rule_from(settings) -> ShockRule:
    return ShockRule(weeks=int(settings.shock_weeks), per_100=float(settings.shock_per_100))


def _statement(row: dict[str, Any], weeks: int, offset: float, learned: dict[str, Any]) -> tuple[str, str]:
    origin_zh = (f"据本县过去 {len(learned['shocks'])} 次受灾（实际新增监测 {learned['observed']} 户，"
                 f"按此前水平预期 {learned['expected']} 户）" if learned["shocks"] else "本县历史上没有可供学习的受灾先例")
    origin_en = (f"learned from {len(learned['shocks'])} past shock(s) in this county (entries "
                 f"{learned['observed']} against {learned['expected']} expected)" if learned["shocks"]
                 else "no past shock in this county to learn from")
    zh = (f"{row['area']}近{weeks}周登记受灾事件 {row['events']} 起，受灾户比例 {row['hit_share']:.0%}"
          f"（每百户 {row['per_100']:.1f} 起）；{origin_zh}，本镇各户风险已按受灾情况上调"
          f"（对数几率 +{offset:.2f}）。")
    en = (f"{row['area']}: {row['events']} disaster events recorded in the last {weeks} weeks, "
          f"{row['hit_share']:.0%} of households hit ({row['per_100']:.1f} per 100); households there are "
          f"scored with a shock adjustment (+{offset:.2f} log odds), {origin_en}.")
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
    household frame): the areas over the rule, their log-odds offset and where it was learned.
    The Spark engine decides it on the driver and sends ``by_area`` to the partitions."""

    rule: ShockRule
    hit: pd.DataFrame
    learned: dict[str, Any] | None

    @property
    def offset(self) -> float:
        return float(self.learned["offset"]) if self.learned else 0.0

    @property
    def by_area(self) -> dict[str, float]:
        """Area -> log-odds offset (only the hit areas)."""
        return {str(a): self.offset for a in self.hit["area"]}

    def record(self, frame: pd.DataFrame, settings, config, probability: np.ndarray | None = None) -> dict[str, Any]:
        """The week's shock record (see :func:`shock_response`) for the county's ``frame``;
        ``probability``: the model's own risk per frame row (proposals sized by each area's share)."""
        rule = self.rule
        townships = sorted(frame["township"].unique())
        record: dict[str, Any] = {"rule": {"weeks": rule.weeks, "per_100": rule.per_100, "level": rule.level},
                                  "areas": [], "adjustment": None, "proposals": []}
        if self.hit.empty:
            return record
        offset, learned = self.offset, self.learned
        for row in self.hit.to_dict("records"):
            zh, en = _statement(row, rule.weeks, offset, learned)
            record["areas"].append({"area": row["area"], "households": int(row["households"]),
                                    "events": int(row["events"]), "households_hit": int(row["households_hit"]),
                                    "hit_share": float(row["hit_share"]), "per_100": float(row["per_100"]),
                                    "statement_zh": zh, "statement_en": en})
            record["proposals"].append(_proposal(row["area"], _share(frame, probability, rule.level, row["area"]),
                                                 config, townships, int(settings.shock_capacity_weeks)))
        record["adjustment"] = {"offset": offset, "ratio": round(math.exp(offset), 3), **learned}
        return record


def shock_plan(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, settings) -> ShockPlan:
    """The areas over the shock rule in the weeks before ``cutoff`` and the offset learned from
    the county's past shocks (before the cutoff only)."""
    rule = rule_from(settings)
    recent = recent_shock(tables, cutoff, rule)
    hit = recent[recent["shock"]]
    return ShockPlan(rule, hit, None if hit.empty else learned_offset(tables, cutoff, rule))


def row_offsets(frame: pd.DataFrame, level: str, by_area: dict[str, float]) -> np.ndarray:
    """Log-odds offset per frame row: its area's (``ShockPlan.by_area``), else 0."""
    offsets = np.zeros(len(frame), dtype="float64")
    for area, offset in by_area.items():
        offsets[(frame[level] == area).to_numpy()] = offset
    return offsets


def shock_response(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, frame: pd.DataFrame, settings,
                   config, risk: Callable[[], np.ndarray] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """(log-odds offset per frame row, the week's shock record).

    The record: rule, ``areas`` (every township over the rule: counts, share hit, the Chinese and
    English statement), ``adjustment`` (offset and where it was learned: past shocks before the
    cutoff only) and ``proposals`` (extra capacity per hit township, sized by its share of the
    model's own risk per frame row, ``risk()``, called only in a shock week; households' shares
    when None). Empty areas: no shock.
    """
    plan = shock_plan(tables, cutoff, settings)
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
