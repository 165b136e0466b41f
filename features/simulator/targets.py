"""The realism ranges a simulated county must land in (docs/simulator.md gives each source).

Checked on `fanpin simulate --households 20000` with seeds 1, 2 and 3: one seed by the slow test
(tests/data/test_simulator_realism.py), all three by the `realism_20k` case of `make bench`.
"""

from __future__ import annotations

RANGES: dict[str, tuple[float, float]] = {
    "mean_household_size": (2.5, 3.5),
    "share_members_60plus": (0.20, 0.35),
    "share_households_illness": (0.25, 0.45),
    "share_households_disabled": (0.08, 0.20),
    "median_per_capita_income_last_year": (8000, 20000),
    "share_monitored_now": (0.015, 0.06),
    "share_exited_households": (0.15, 0.35),
    "share_households_dibao": (0.05, 0.10),
    "deaths_per_1000_per_year": (7.0, 11.0),
    "household_count_change": (-0.05, 0.05),
    # few positives among the oracle rows at ~2% entry a year: the AUC is noisier than it was
    "oracle_auc": (0.75, 0.95),
}
ENTRY_RATE = (0.010, 0.030)  # every year after the first
MAX_OTHER_RISK_SHARE = 0.05
STOCK_GROWTH = 1.25  # the monitored stock at the end at most this times the stock two years earlier


def misses(summary: dict) -> list[str]:
    """The ranges a county summary (``summarise``) misses, as readable lines (empty: all hold)."""
    out = [f"{key}={summary.get(key)} outside [{lo}, {hi}]" for key, (lo, hi) in RANGES.items()
           if summary.get(key) is None or not lo <= summary[key] <= hi]
    years = sorted(summary["monitoring_entry_rate_by_year"], key=int)
    for year in years[1:]:
        rate = summary["monitoring_entry_rate_by_year"][year]
        if not ENTRY_RATE[0] <= rate <= ENTRY_RATE[1]:
            out.append(f"entry rate {year}={rate} outside {list(ENTRY_RATE)}")
    if summary.get("top_risk_type") != "illness":
        out.append(f"top risk type {summary.get('top_risk_type')}, not illness")
    other = summary["risk_type_shares"].get("other", 0.0)
    if other > MAX_OTHER_RISK_SHARE:
        out.append(f"'other' is {other} of risk types (at most {MAX_OTHER_RISK_SHARE})")
    stock = summary["monitored_share_by_year"]
    keys = sorted(stock, key=int)
    if len(keys) >= 3 and stock[keys[-1]] > STOCK_GROWTH * stock[keys[-3]]:
        out.append(f"monitored stock keeps growing: {stock}")
    return out
