import numpy as np
import pandas as pd
import pytest

from features.household_frame import FRAME_COLUMNS, ID_COLUMNS, build_household_frame
from features.policy import load_policy
from tests.tables import _typed, household, member, survey, tiny_tables


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def _append_future(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Rows dated after the cutoff in every table: a new household version, a new member, a
    later survey, later events and a later monitoring entry."""
    later = (cutoff + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    future = {
        "households": [household("H1", social_assistance="dibao", housing_grade="D", valid_from=later),
                       household("H9", valid_from=later)],
        "members": [member("H1", "M9", "2000-01-01", health="major", valid_from=later),
                    member("H9", "M99", "1960-01-01", valid_from=later)],
        "income_surveys": [survey("H1", cutoff.year + 1, survey_date=later, wage_income=0.0)],
        "events": [dict(event_id="EF", household_id="H1", member_id="M1", event_date=later,
                        event_type="hospitalisation", amount=90000.0, source="医保局")],
        "outcomes": [dict(household_id="H1", entry_date=later, monitoring_category="unstable_exited",
                          risk_type_1="illness", risk_type_2=None, risk_type_3=None, risk_type_4=None,
                          risk_type_5=None, elimination_date=None)],
    }
    return {name: pd.concat([tables[name], _typed(name, rows)], ignore_index=True) for name, rows in future.items()}


@pytest.mark.parametrize("cutoff", ["2023-12-31", "2024-03-01", "2024-05-01", "2025-01-05"])
def test_point_in_time_future_rows_change_nothing(cutoff, policy):
    tables = tiny_tables()
    cutoff = pd.Timestamp(cutoff)
    before = build_household_frame(tables, cutoff, policy)
    after = build_household_frame(_append_future(tables, cutoff), cutoff, policy)
    pd.testing.assert_frame_equal(before, after)


def _recorded_on_time(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with every row recorded on the day it carries (a prompt registry)."""
    out = {name: t.copy() for name, t in tables.items()}
    for name, col in (("households", "valid_from"), ("members", "valid_from"),
                      ("income_surveys", "survey_date"), ("events", "event_date")):
        out[name]["recorded_at"] = out[name][col]
    return out


def _append_dated_before(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp,
                         recorded: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Rows dated before the cutoff, entered on ``recorded``: a new household and member version
    (closing the versions they follow, as the registry does), a new member, a survey and an
    event, as a home visit after the cutoff would back-date them."""
    dated = (cutoff - pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    event_day = (cutoff - pd.Timedelta(days=10)).strftime("%Y-%m-%d")
    rows = {
        "households": [household("H1", social_assistance="dibao", housing_grade="D", valid_from=dated)],
        "members": [member("H1", "M1", "1970-05-01", health="major", labour_skill="lost", valid_from=dated),
                    member("H1", "M8", "2000-01-01", relation="child", valid_from=dated)],
        "income_surveys": [survey("H1", cutoff.year + 1, survey_date=dated, wage_income=0.0)],
        "events": [dict(event_id="EB", household_id="H1", member_id="M1", event_date=event_day,
                        event_type="hospitalisation", amount=90000.0, source="医保局")],
    }
    out = {name: t.copy() for name, t in tables.items()}
    for key, table, mid in (("household_id", "households", "H1"), ("member_id", "members", "M1")):
        t = out[table]
        t.loc[(t[key] == mid) & t["valid_to"].isna(), "valid_to"] = pd.Timestamp(dated)
    for name, new in rows.items():
        new = _typed(name, new)
        new["recorded_at"] = recorded
        out[name] = pd.concat([out[name], new], ignore_index=True)
    return out


@pytest.mark.parametrize("cutoff", ["2023-12-31", "2024-03-01", "2024-05-01", "2025-01-05"])
def test_point_in_time_backdated_rows_recorded_later_change_nothing(cutoff, policy):
    """Rows dated before the cutoff but recorded after it were not known at the cutoff."""
    cutoff = pd.Timestamp(cutoff)
    tables = _recorded_on_time(tiny_tables())
    before = build_household_frame(tables, cutoff, policy)
    later = _append_dated_before(tables, cutoff, cutoff + pd.Timedelta(days=20))
    pd.testing.assert_frame_equal(before, build_household_frame(later, cutoff, policy))
    # the same rows recorded by the cutoff were known and do change the frame
    known = _append_dated_before(tables, cutoff, cutoff - pd.Timedelta(days=1))
    changed = build_household_frame(known, cutoff, policy).set_index("household_id").loc["H1"]
    assert changed["household_size"] == before.set_index("household_id").loc["H1", "household_size"] + 1
    assert changed["social_assistance"] == "dibao" and changed["n_major_illness"] == 1


def test_without_recording_dates_backdated_rows_leak(policy):
    """Exports without 入库时间 still read, but then a back-dated row counts from the date it
    carries: the leak training warns about (its point-in-time basis is the validity dates)."""
    from features.point_in_time import BASIS_RECORDING, BASIS_VALIDITY, basis

    cutoff = pd.Timestamp("2024-05-01")
    tables = tiny_tables()
    assert basis(tables) == BASIS_VALIDITY
    assert basis(_recorded_on_time(tables)) == BASIS_RECORDING
    later = _append_dated_before(tables, cutoff, cutoff + pd.Timedelta(days=20))
    for name in ("households", "members", "income_surveys", "events"):
        later[name]["recorded_at"] = pd.NaT
    leaked = build_household_frame(later, cutoff, policy).set_index("household_id").loc["H1"]
    assert leaked["social_assistance"] == "dibao"


def test_recorded_member_leaves_on_the_day_the_row_closes(policy):
    """With recording dates, a version followed by nothing closes on its valid_to (the member
    died or left); one followed by a version not yet recorded stays current."""
    tables = _recorded_on_time(tiny_tables())
    members = tables["members"]
    members.loc[members["member_id"] == "M3", "valid_to"] = pd.Timestamp("2024-09-01")
    before = build_household_frame(tables, "2024-08-31", policy).set_index("household_id")
    after = build_household_frame(tables, "2024-09-01", policy).set_index("household_id")
    assert before.loc["H1", "household_size"] == 3 and after.loc["H1", "household_size"] == 2


def test_elimination_after_cutoff_is_not_known_yet(policy):
    tables = tiny_tables()
    during = build_household_frame(tables, "2025-05-31", policy).set_index("household_id")
    after = build_household_frame(tables, "2025-06-02", policy).set_index("household_id")
    assert during.loc["H2", "under_monitoring"] and not after.loc["H2", "under_monitoring"]
    assert after.loc["H2", "ever_monitored"]


def test_frame_values_follow_the_registry(policy):
    frame = build_household_frame(tiny_tables(), "2024-05-01", policy).set_index("household_id")
    assert list(frame.reset_index().columns) == ID_COLUMNS + list(FRAME_COLUMNS)
    h1, h2 = frame.loc["H1"], frame.loc["H2"]
    assert h1["household_size"] == 3 and h1["n_noncompulsory_students"] == 1
    # 2023 survey: 20000 + 5000 + 0 + 2000 - 1000 = 26000 over 3 members
    assert h1["pc_net_income"] == pytest.approx(26000 / 3)
    assert h1["income_to_line"] == pytest.approx(26000 / 3 / 7500)
    # H2's member turned major-ill in March 2024; hospital stay of 30000 in the last 13 weeks
    assert h2["n_major_illness"] == 1 and h2["able_labour"] == 0
    assert h2["hospitalisations_13w"] == 1 and h2["hospital_cost_52w"] == 30000
    assert h2["elderly_only"] and h2["under_monitoring"]
    # net income 2023: 0 + 1500 + 0 + 2000 - 1000; 2022: 3000 + 2000 + 0 + 2000 - 1000
    assert h2["income_change"] == pytest.approx(2500 / 6000 - 1)
    # H2 became a 低保 household only in July 2024: not yet at this cutoff
    assert not h2["new_dibao"]
    later = build_household_frame(tiny_tables(), "2024-08-01", policy).set_index("household_id")
    assert later.loc["H2", "new_dibao"] and later.loc["H2", "social_assistance"] == "dibao"


def test_household_without_members_is_left_out(policy):
    tables = tiny_tables()
    # H3 is in the registry at the cutoff with no member at all; H4's only member left before it.
    extra = {"households": [household("H3"), household("H4")],
             "members": [member("H4", "M40", "1960-01-01", valid_to="2023-01-01")]}
    tables = {name: pd.concat([tables[name], _typed(name, rows)], ignore_index=True) if name in extra else tables[name]
              for name, rows in {**tables, **extra}.items()}
    frame = build_household_frame(tables, "2024-06-01", policy)
    assert frame["household_id"].tolist() == ["H1", "H2"]
    assert (frame["household_size"] > 0).all()
    # Before any household was valid, the frame is empty (and still has every column).
    early = build_household_frame(tiny_tables(), "2018-06-01", policy)
    assert early.empty and set(FRAME_COLUMNS) <= set(early.columns)


def test_lines_follow_the_policy_year(policy):
    f2020 = build_household_frame(tiny_tables(), "2020-06-30", policy)
    f2021 = build_household_frame(tiny_tables(), "2021-06-30", policy)
    assert set(f2020["monitoring_line"]) == {5000.0} and set(f2020["dibao_line"]) == {4400.0}
    assert set(f2021["monitoring_line"]) == {6000.0}
    # no income survey was known by mid-2021 (the first is dated 2023-01-15): nothing to divide
    assert f2021["pc_net_income"].isna().all() and f2021["income_to_line"].isna().all()
    # once a survey is known, income is read against the line of the cutoff's year
    f2024 = build_household_frame(tiny_tables(), "2024-06-30", policy)
    assert np.isfinite(f2024["pc_net_income"]).all()
    np.testing.assert_allclose(f2024["income_to_line"], f2024["pc_net_income"] / 7500)
