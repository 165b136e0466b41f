"""Realism of the simulated county against the targets in docs/simulator.md."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from features.simulator import summarise
from features.simulator.targets import misses


# The 20,000-household county's ranges (seeds 1, 2 and 3) and its CPU time are checked by the
# realism_20k case of `make bench` (benchmarks/cases.py): a 20,000-household simulation is too
# slow for the suite. Here: the checker itself, and the quick small-county ranges.
def _summary_within_ranges(real: dict) -> dict:
    """A real summary moved to the middle of every range of features.simulator.targets."""
    from features.simulator import targets

    summary = {**real, **{k: (lo + hi) / 2 for k, (lo, hi) in targets.RANGES.items()}}
    summary["monitoring_entry_rate_by_year"] = {y: sum(targets.ENTRY_RATE) / 2
                                                for y in real["monitoring_entry_rate_by_year"]}
    summary["top_risk_type"] = "illness"
    summary["risk_type_shares"] = {**real["risk_type_shares"], "other": 0.0}
    summary["monitored_share_by_year"] = {y: 0.03 for y in real["monitored_share_by_year"]}
    return summary


def test_realism_checker_names_each_range_a_county_misses(sim_run):
    """`misses` passes a summary inside every range and names each one it leaves."""
    good = _summary_within_ranges(summarise(sim_run))
    assert misses(good) == []
    years = sorted(good["monitoring_entry_rate_by_year"], key=int)
    stock_years = sorted(good["monitored_share_by_year"], key=int)
    assert len(years) >= 2 and len(stock_years) >= 2
    broken = {
        "mean_household_size": {"mean_household_size": 4.2},
        "oracle_auc": {"oracle_auc": 0.6},
        f"entry rate {years[-1]}": {"monitoring_entry_rate_by_year": {**good["monitoring_entry_rate_by_year"],
                                                                      years[-1]: 0.05}},
        "top risk type": {"top_risk_type": "lack_of_labour"},
        "'other'": {"risk_type_shares": {**good["risk_type_shares"], "other": 0.2}},
        "monitored stock": {"monitored_share_by_year": {**good["monitored_share_by_year"], stock_years[-1]: 0.06}},
    }
    for named, change in broken.items():
        found = misses({**good, **change})
        assert len(found) == 1 and found[0].startswith(named), (named, found)
    # The first year is a partial one and is not held to the entry-rate range.
    first = {**good["monitoring_entry_rate_by_year"], years[0]: 0.5}
    assert misses({**good, "monitoring_entry_rate_by_year": first}) == []
    assert misses({**good, "share_households_dibao": None}) == ["share_households_dibao=None outside [0.05, 0.1]"]


def test_small_county_is_plausible(sim_run):
    """The quick check: a small county lands in (wider) plausible ranges."""
    s = summarise(sim_run)
    assert 2.3 <= s["mean_household_size"] <= 3.7
    assert 0.15 <= s["share_members_60plus"] <= 0.40
    assert 0.15 <= s["share_households_illness"] <= 0.55
    assert 0.04 <= s["share_households_disabled"] <= 0.30
    assert 0.01 <= s["annual_monitoring_entry_rate"] <= 0.12
    assert 6000 <= s["median_per_capita_income_last_year"] <= 25000
    assert s["oracle_rows"] > 0 and 0.0 <= s["oracle_mean_true_risk"] <= 0.3
    assert s["oracle_auc"] > 0.65  # noisy on few positives; the 20,000-household test checks 0.75-0.95


def test_entries_follow_deteriorating_signals(sim_run):
    """Lead time: most entries come after a signal (event or income drop) in the weeks before."""
    import pandas as pd

    ev = sim_run.tables["events"]
    out = sim_run.tables["outcomes"]
    signals = ev[ev["event_type"].isin(["hospitalisation", "major_illness_diagnosis", "job_loss",
                                         "disaster_damage", "accident", "business_failure",
                                         "disability_certified", "housing_downgrade"])]
    merged = out.merge(signals[["household_id", "event_date"]], on="household_id")
    lag = (merged["entry_date"] - merged["event_date"]).dt.days
    merged = merged[(lag >= 0) & (lag <= 365)]
    preceded = merged.groupby(["household_id", "entry_date"]).size()
    share = len(preceded) / len(out)
    assert share > 0.4, share
    # and entries are not all instantaneous: a good share had the signal >= 4 weeks earlier
    first = merged.assign(lag=(merged["entry_date"] - merged["event_date"]).dt.days).groupby(
        ["household_id", "entry_date"])["lag"].max()
    assert (first >= 28).mean() > 0.3
    assert isinstance(out["entry_date"].iloc[0], pd.Timestamp)


def test_cli_json_last_line(tmp_path):
    from serving.cli import app

    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--households", "150",
                                      "--seed", "2", "--start", "2023-01-01", "--oracle-sample",
                                      "50", "--oracle-replicas", "10", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("households", "members", "mean_household_size", "share_members_60plus",
                "share_households_illness", "share_households_disabled",
                "annual_monitoring_entry_rate", "top_risk_type",
                "median_per_capita_income_last_year", "oracle_auc", "seconds", "cpu_seconds", "out",
                "share_monitored_now", "share_exited_households", "share_households_dibao",
                "deaths_per_1000_per_year", "household_count_change", "risk_type_shares",
                "median_recording_delay_weeks", "share_backdated_records", "oracle_futures"):
        assert key in summary
    assert summary["out"] == str(tmp_path) and summary["cpu_seconds"] > 0
    assert (tmp_path / "truth" / "simulation.json").exists()
    assert len(list((tmp_path / "exports").iterdir())) == 12


def test_cli_rejects_unknown_scenario(tmp_path):
    from serving.cli import app

    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--households", "50",
                                      "--scenario", "meteor"])
    assert result.exit_code != 0
