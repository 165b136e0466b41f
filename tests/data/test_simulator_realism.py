"""Realism of the simulated county against the targets in docs/simulator.md."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from features.simulator import summarise
from features.simulator.targets import misses


@pytest.fixture(scope="session")
def default_county(tmp_path_factory):
    """`fanpin simulate --households 20000 --seed 1 --json`, run once per session."""
    from serving.cli import app

    out = tmp_path_factory.mktemp("county-20000")
    result = CliRunner().invoke(app, ["simulate", "--out", str(out), "--households", "20000",
                                      "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_default_county_within_ranges(default_county):
    """The ranges of features.simulator.targets (sources: docs/simulator.md) on seed 1; seeds 2
    and 3 are checked by the realism_20k case of `make bench`."""
    _, summary = default_county
    assert misses(summary) == []


@pytest.mark.slow
def test_default_county_summary_fields_and_speed(default_county):
    out, summary = default_county
    for key in ("households", "members", "top_risk_type", "seconds", "cpu_seconds", "out",
                "share_monitored_now", "share_exited_households", "share_households_dibao",
                "deaths_per_1000_per_year", "household_count_change", "risk_type_shares",
                "median_recording_delay_weeks", "share_backdated_records", "oracle_futures"):
        assert key in summary
    assert summary["out"] == str(out)
    # issue: < 120 s on 2 cores. The run is single-threaded, so its CPU time is what an idle
    # machine's clock shows; wall time on a shared, loaded test machine says nothing.
    assert summary["cpu_seconds"] < 120


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
                "median_per_capita_income_last_year", "oracle_auc", "seconds", "out"):
        assert key in summary
    assert (tmp_path / "truth" / "simulation.json").exists()
    assert len(list((tmp_path / "exports").iterdir())) == 12


def test_cli_rejects_unknown_scenario(tmp_path):
    from serving.cli import app

    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--households", "50",
                                      "--scenario", "meteor"])
    assert result.exit_code != 0
