"""The simulator's output passes the data contract: pandera on the history, the reader with
zero quarantined rows on every export, plausible direct identifiers, no latent traits."""

from __future__ import annotations

import pandas as pd
import pytest

from features.contract import TABLES, fields
from features.simulator.identity import check_digit_ok

LATENT = ("frailty", "work_ethic", "ethic", "ability", "luck", "household_luck",
          "household_disadvantage")


@pytest.mark.parametrize("table", list(TABLES))
def test_history_tables_validate_with_pandera(sim_folder, table):
    df = pd.read_parquet(sim_folder / "history" / f"{table}.parquet")
    assert len(df) > 0
    TABLES[table].validate(df, lazy=True)
    assert list(df.columns) == [f.name for f in fields(table)]


def test_every_export_reads_with_zero_quarantined_rows(sim_folder):
    from features.reading import read_folder
    from features.table_files import export_folders

    history = None
    folders = export_folders(sim_folder)
    assert len(folders) == 13
    for label, folder in folders:
        result = read_folder(folder, history=history)
        if label == "history":
            history = result
        for table, counts in result.counts.items():
            assert counts["rows_quarantined"] == 0, (label, table, result.quarantine.head())
            assert counts["rows_in"] == counts["rows_valid"]


def test_exports_have_chinese_headers_and_values(sim_folder):
    week = sorted((sim_folder / "exports").iterdir())[-1]
    for table in TABLES:
        df = pd.read_csv(week / f"{table}.csv", dtype=str, keep_default_na=False)
        assert list(df.columns) == [f.zh for f in fields(table)]
    members = pd.read_csv(week / "members.csv", dtype=str, keep_default_na=False)
    assert set(members["健康状况"]) <= {"健康", "长期慢性病", "患大病"}
    assert set(members["参加城乡居民基本医疗保险"]) <= {"是", "否"}
    assert members["出生日期"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_direct_identifiers_are_plausible(sim_folder):
    m = pd.read_parquet(sim_folder / "history" / "members.parquet")
    ids = m["id_number"].drop_duplicates()
    assert ids.str.fullmatch(r"\d{17}[\dX]").all()
    assert all(check_digit_ok(i) for i in ids.sample(500, random_state=0))
    # birth date and sex are encoded in the ID number
    assert (m["id_number"].str[6:14] == m["birth_date"].dt.strftime("%Y%m%d")).all()
    odd = m["id_number"].str[16].astype(int) % 2 == 1
    assert (odd == (m["sex"] == "male")).all()
    assert m.groupby("member_id")["id_number"].nunique().max() == 1
    assert m.drop_duplicates("member_id")["id_number"].is_unique
    h = pd.read_parquet(sim_folder / "history" / "households.parquet")
    assert h["phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert h["head_name"].str.len().between(2, 4).all()


def test_latent_traits_stay_out_of_history_and_exports(sim_folder):
    for path in list((sim_folder / "history").glob("*.parquet")):
        cols = set(pd.read_parquet(path).columns)
        assert not cols & set(LATENT), path
    week = sorted((sim_folder / "exports").iterdir())[-1]
    for path in week.glob("*.csv"):
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert not any(word in header for word in ("体质", "勤劳", "运气", *LATENT))
    latent = pd.read_parquet(sim_folder / "truth" / "latent.parquet")
    assert {"frailty", "work_ethic", "household_luck"} <= set(latent.columns)


def test_slowly_changing_rows_are_consistent(sim_folder):
    m = pd.read_parquet(sim_folder / "history" / "members.parquet")
    nxt = m.groupby("member_id")["valid_from"].shift(-1)
    closed = nxt.notna()
    assert (m.loc[closed, "valid_to"] == nxt[closed]).all()
    assert (m["valid_to"].isna() | (m["valid_to"] >= m["valid_from"])).all()
    # nothing is dated before the history starts (the first ISO week begins in 2020)
    start = pd.Timestamp("2021-01-01")
    assert (m["valid_from"] >= start).all() and (m["valid_to"].dropna() >= start).all()
    ev = pd.read_parquet(sim_folder / "history" / "events.parquet")
    assert (ev["event_date"] >= start).all()
    # versions stay moderate: a member has a handful of rows over five years, not weekly ones
    assert m.groupby("member_id").size().mean() < 6
    h = pd.read_parquet(sim_folder / "history" / "households.parquet")
    assert h.groupby("household_id").size().mean() < 8


def test_oracle_truth_file(sim_folder):
    o = pd.read_parquet(sim_folder / "truth" / "oracle.parquet")
    assert {"household_id", "cutoff", "true_risk"} <= set(o.columns)
    assert o["true_risk"].between(0, 1).all()
    assert o["cutoff"].nunique() >= 2
    outcomes = pd.read_parquet(sim_folder / "history" / "outcomes.parquet")
    # households under monitoring at a cutoff are excluded from the oracle sample
    for cutoff, part in o.groupby("cutoff"):
        open_ = outcomes[(outcomes["entry_date"] <= cutoff) & (
            outcomes["elimination_date"].isna() | (outcomes["elimination_date"] > cutoff))]
        assert not set(part["household_id"]) & set(open_["household_id"])
