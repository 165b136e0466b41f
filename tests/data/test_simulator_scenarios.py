"""Each drift scenario changes only what it says, from its first affected week on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from features.contract import fields
from features.simulator import summarise, write_county
from features.simulator.scenarios import INCOME_COLUMNS

TABLES = ("households", "members", "income_surveys", "events", "outcomes")


@pytest.fixture(scope="module")
def folders(sim_run, tmp_path_factory):
    summary = summarise(sim_run)
    out = {}
    for name in ("baseline", "flood", "unit-error", "pension-rise", "new-township"):
        path = tmp_path_factory.mktemp(name)
        write_county(sim_run, path, summary, scenario=name)
        out[name] = path
    return out


def _read(folder, week, table):
    zh = {f.zh: f.name for f in fields(table)}
    return pd.read_csv(folder / "exports" / week / f"{table}.csv", dtype=str,
                       keep_default_na=False).rename(columns=zh)


def _record(folder):
    return json.loads((folder / "truth" / "simulation.json").read_text(encoding="utf-8"))


def _weeks(folder):
    return sorted(p.name for p in (folder / "exports").iterdir())


@pytest.mark.parametrize("name", ["flood", "unit-error", "pension-rise", "new-township"])
def test_history_and_early_exports_are_untouched(folders, name):
    base, scn = folders["baseline"], folders[name]
    rec = _record(scn)["scenario"]
    weeks = _weeks(base)
    assert rec["first_week"] == weeks[-4]
    assert rec["affected_households"] > 0
    for table in TABLES:
        assert (base / "history" / f"{table}.parquet").read_bytes() == (
            scn / "history" / f"{table}.parquet").read_bytes()
    for week in weeks[:-4]:
        for table in TABLES:
            assert (base / "exports" / week / f"{table}.csv").read_bytes() == (
                scn / "exports" / week / f"{table}.csv").read_bytes()


def test_unit_error_divides_one_townships_income_by_10000(folders):
    base, scn = folders["baseline"], folders["unit-error"]
    township = _record(scn)["scenario"]["township"]
    for week in _weeks(base)[-4:]:
        for table in ("households", "members", "events", "outcomes"):
            assert (base / "exports" / week / f"{table}.csv").read_bytes() == (
                scn / "exports" / week / f"{table}.csv").read_bytes()
        hh = _read(base, week, "households")
        in_t = set(hh.loc[hh["township"] == township, "household_id"])
        b, s = _read(base, week, "income_surveys"), _read(scn, week, "income_surveys")
        assert list(b["household_id"]) == list(s["household_id"])
        hit = b["household_id"].isin(in_t)
        assert hit.any() and not hit.all()
        for col in b.columns:
            if col in INCOME_COLUMNS:
                np.testing.assert_allclose(s.loc[hit, col].astype(float),
                                           b.loc[hit, col].astype(float) / 10000, rtol=1e-9, atol=1e-4)
                assert (s.loc[~hit, col] == b.loc[~hit, col]).all()
            else:
                assert (s[col] == b[col]).all()


def test_pension_rise_lifts_only_elderly_transfer_income(folders):
    base, scn = folders["baseline"], folders["pension-rise"]
    for week in _weeks(base)[-4:]:
        for table in ("households", "members", "events", "outcomes"):
            assert (base / "exports" / week / f"{table}.csv").read_bytes() == (
                scn / "exports" / week / f"{table}.csv").read_bytes()
        b, s = _read(base, week, "income_surveys"), _read(scn, week, "income_surveys")
        diff = s["transfer_income"].astype(float) - b["transfer_income"].astype(float)
        assert diff.between(0, 2400).all() and (diff > 0).mean() > 0.2
        assert set(diff[diff > 0].round()) <= {1200.0, 2400.0}
        for col in b.columns:
            if col != "transfer_income":
                assert (s[col] == b[col]).all()
        m = _read(base, week, "members")
        sunday = pd.Timestamp.fromisocalendar(int(week[:4]), int(week[6:]), 7)
        age = (sunday - pd.to_datetime(m["birth_date"])).dt.days / 365.25
        elderly = set(m.loc[age >= 60, "household_id"])
        assert set(s.loc[diff > 0, "household_id"]) <= elderly


def test_flood_hits_one_township(folders):
    base, scn = folders["baseline"], folders["flood"]
    township = _record(scn)["scenario"]["township"]
    weeks = _weeks(base)[-4:]
    hh = _read(base, weeks[0], "households")
    in_t = set(hh.loc[hh["township"] == township, "household_id"])
    e_b, e_s = _read(base, weeks[0], "events"), _read(scn, weeks[0], "events")
    extra = e_s[~e_s["event_id"].isin(e_b["event_id"])]
    assert len(extra) > 0.5 * len(in_t) * 0.7
    assert set(extra["event_type"]) <= {"灾害损失", "房屋鉴定为危房"}
    assert set(extra["household_id"]) <= in_t
    for week in weeks:
        for table in ("members", "outcomes"):
            assert (base / "exports" / week / f"{table}.csv").read_bytes() == (
                scn / "exports" / week / f"{table}.csv").read_bytes()
        b, s = _read(base, week, "income_surveys"), _read(scn, week, "income_surveys")
        lower = s["business_income"].astype(float) < b["business_income"].astype(float)
        assert set(s.loc[lower, "household_id"]) <= in_t and lower.sum() > 0
        hb, hs = _read(base, week, "households"), _read(scn, week, "households")
        changed = (hb != hs).any(axis=1)
        assert set(hb.loc[changed, "household_id"]) <= in_t
        assert set(hb.columns[(hb != hs).any(axis=0)]) <= {"housing_grade", "valid_from", "recorded_at"}
    for week in weeks[1:]:
        assert (base / "exports" / week / "events.csv").read_bytes() == (
            scn / "exports" / week / "events.csv").read_bytes()


def test_new_township_appears_only_in_exports(folders):
    base, scn = folders["baseline"], folders["new-township"]
    township = _record(scn)["scenario"]["township"]
    hist = pd.read_parquet(base / "history" / "households.parquet")
    assert township not in set(hist["township"])
    for week in _weeks(base)[-4:]:
        b, s = _read(base, week, "households"), _read(scn, week, "households")
        assert township in set(s["township"])
        assert s[s["township"] != township].reset_index(drop=True).equals(b)
        new_ids = set(s.loc[s["township"] == township, "household_id"])
        assert not new_ids & set(hist["household_id"])
        sm = _read(scn, week, "members")
        assert set(sm["household_id"]) >= new_ids


def test_scenario_week_sets_the_first_affected_week(sim_run, folders, tmp_path):
    weeks = _weeks(folders["baseline"])
    write_county(sim_run, tmp_path, summarise(sim_run), scenario="unit-error", scenario_week=weeks[-7])
    assert _record(tmp_path)["scenario"]["first_week"] == weeks[-7]
    base = folders["baseline"]
    for i, week in enumerate(weeks):
        same = (base / "exports" / week / "income_surveys.csv").read_bytes() == (
            tmp_path / "exports" / week / "income_surveys.csv").read_bytes()
        assert same == (i < len(weeks) - 7), week
    with pytest.raises(ValueError):
        write_county(sim_run, tmp_path / "x", summarise(sim_run), scenario="flood", scenario_week="2019-W01")
