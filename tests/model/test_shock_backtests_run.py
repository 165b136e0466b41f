"""A training run's shock backtests (issue 33): every past shock of the county is either judged at
onset + 4, 8 and 12 weeks (recall and O/E with and without the response) or named with the reason
it cannot be."""

from __future__ import annotations

import pandas as pd

from features.shocks import ShockRule, shock_onsets
from training.dataset import data_end


def test_every_past_shock_is_judged_or_named(trained_small):
    tables, _, result = trained_small
    onsets = shock_onsets(tables, ShockRule(), until=data_end(tables))
    records = result.shock_backtests
    assert len(records) == 3 * len(onsets)
    assert {(r["township"], r["onset"]) for r in records} == {
        (a, str(pd.Timestamp(o).date())) for a, o in zip(onsets["area"], onsets["onset"], strict=True)}
    for r in records:
        assert pd.Timestamp(r["cutoff"]) - pd.Timestamp(r["onset"]) == pd.Timedelta(weeks=r["offset_weeks"])
        if "skipped" in r:
            assert r["skipped"] in ("label not matured", "no training window before it")
            continue
        for key in ("recall_without", "recall_with", "observed_expected_without", "observed_expected_with",
                    "county_recall_without", "county_recall_with", "township_entrants", "offset", "met"):
            assert key in r, key
