"""No leakage: parts of the time split never share a label window, labels come only from the future
window, and the rows at a cutoff do not change when the future is added or removed."""

from __future__ import annotations

import pandas as pd
import pytest

from features.household_frame import FRAME_COLUMNS, build_household_frame
from features.policy import load_policy
from tests.tables import tiny_tables
from training.county_data import read_history
from training.dataset import LABEL, WEEK, build_training_rows, cutoff_schedule, data_end, label_frame
from training.split import time_split


@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.fixture(scope="module")
def county_tables(small_county):
    tables, _ = read_history(small_county)
    return tables


def test_split_parts_are_one_horizon_apart():
    cutoffs = cutoff_schedule(pd.Timestamp("2019-01-01"), pd.Timestamp("2025-12-28"), step_weeks=4)
    split = time_split(cutoffs, horizon_weeks=52, test_weeks=26, calibrate_weeks=26)
    assert max(split.train) + 52 * WEEK <= min(split.calibrate)
    assert max(split.calibrate) + 52 * WEEK <= min(split.test)
    assert max(split.test) + 52 * WEEK <= pd.Timestamp("2025-12-28")  # test labels matured
    assert set(split.train).isdisjoint(split.calibrate) and set(split.calibrate).isdisjoint(split.test)
    assert "gap" in split.describe() and split.as_params()["split_gap_weeks"] == 52


def test_split_refuses_a_gap_shorter_than_the_horizon():
    cutoffs = cutoff_schedule(pd.Timestamp("2019-01-01"), pd.Timestamp("2025-12-28"))
    with pytest.raises(ValueError, match="shorter than the label horizon"):
        time_split(cutoffs, horizon_weeks=52, gap_weeks=26)


def test_split_says_when_the_history_is_too_short():
    cutoffs = cutoff_schedule(pd.Timestamp("2023-01-01"), pd.Timestamp("2025-12-28"))
    with pytest.raises(ValueError, match="too short"):
        time_split(cutoffs)


def test_cutoffs_are_matured():
    end = pd.Timestamp("2025-12-28")
    cutoffs = cutoff_schedule(pd.Timestamp("2019-01-01"), end, step_weeks=4, horizon_weeks=52, warmup_weeks=52)
    assert max(cutoffs) == end - 52 * WEEK
    assert min(cutoffs) >= pd.Timestamp("2019-01-01") + 52 * WEEK
    assert all(c + 52 * WEEK <= end for c in cutoffs)


def test_labels_come_only_from_the_window_after_the_cutoff(policy):
    tables = tiny_tables()  # H2 enters monitoring on 2024-04-10
    outcomes = tables["outcomes"]

    def label_of(cutoff: str) -> dict[str, int]:
        c = pd.Timestamp(cutoff)
        rows = label_frame(build_household_frame(tables, c, policy), outcomes, c, 52)
        return dict(zip(rows["household_id"], rows[LABEL], strict=True))

    assert label_of("2023-06-01") == {"H1": 0, "H2": 1}  # entry within the next 52 weeks
    assert label_of("2023-01-01") == {"H1": 0, "H2": 0}  # entry more than 52 weeks later
    assert label_of("2024-05-01") == {"H1": 0}  # H2 under monitoring at the cutoff: excluded
    assert label_of("2024-04-10") == {"H1": 0}  # entered on the cutoff day: already monitored


def test_immature_cutoffs_are_refused(policy):
    tables = tiny_tables()
    with pytest.raises(ValueError, match="has not matured"):
        build_training_rows(tables, policy, [data_end(tables) - 10 * WEEK])


def _as_of(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The registry as it was known on the cutoff day: every later row dropped, later closings undone."""
    out = {}
    for name in ("households", "members"):
        t = tables[name].loc[tables[name]["valid_from"] <= cutoff].copy()
        t.loc[t["valid_to"] > cutoff, "valid_to"] = pd.NaT
        out[name] = t
    out["income_surveys"] = tables["income_surveys"].loc[tables["income_surveys"]["survey_date"] <= cutoff]
    out["events"] = tables["events"].loc[tables["events"]["event_date"] <= cutoff]
    o = tables["outcomes"].loc[tables["outcomes"]["entry_date"] <= cutoff].copy()
    o.loc[o["elimination_date"] > cutoff, "elimination_date"] = pd.NaT
    out["outcomes"] = o
    return out


def test_training_rows_at_a_cutoff_ignore_the_future(county_tables, policy):
    cutoff = pd.Timestamp("2022-06-26")
    full = build_training_rows(county_tables, policy, [cutoff])
    past_only = _as_of(county_tables, cutoff)
    frame = build_household_frame(past_only, cutoff, policy)
    frame = frame.loc[~frame["under_monitoring"]].reset_index(drop=True)
    features = ["household_id", *FRAME_COLUMNS]
    pd.testing.assert_frame_equal(full[features], frame[features])
    # ...while the label does look into the future: some households enter within the horizon.
    assert 0 < full[LABEL].sum() < len(full)
