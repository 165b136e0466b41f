"""The realism ranges a simulated county must land in (docs/simulator.md gives each source).

Checked on 20,000-household counties of seeds 1, 2 and 3 by the `realism_20k` case of `make bench`
(too slow for the test suite, which checks the checker and a small county's wider ranges:
tests/data/test_simulator_realism.py).
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
STOCK_GROWTH = 1.25  # the monitored stock at the end at most this times the largest earlier year-end
STOCK_RISE = 0.01  # ... and up by less than one percentage point over the last three years


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
    # the stock may move from year to year, but must not keep growing (the old county's stock rose
    # by ~2 points a year): the end is not well above every earlier year-end, and it rose by less
    # than STOCK_RISE over the last three years
    stock = [summary["monitored_share_by_year"][k] for k in sorted(summary["monitored_share_by_year"], key=int)]
    rising = len(stock) >= 4 and stock[-1] - stock[-4] >= STOCK_RISE
    if len(stock) >= 2 and (stock[-1] > STOCK_GROWTH * max(stock[:-1]) or rising):
        out.append(f"monitored stock keeps growing: {summary['monitored_share_by_year']}")
    return out
