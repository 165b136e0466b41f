"""A simulated week's export as county offices pass it around (issue 29's done-when).

From the small county's 2025-W45 CSV export: one workbook per layout (per-table sheets with title
rows, two-row headers, 序号 and footers; a person-level sheet with the household's columns
repeated), each as .xlsx and .xls, and the export with the county's own headers and labels read
through a mapping profile that `fanpin suggest-profile` proposed. Each must validate to the same
valid rows per table as the CSV, account for every row under each header, and the weekly job must
publish the same watch list (same households, same order).
"""

from __future__ import annotations

import pandas as pd
import pytest

from features import contract, reading
from features.profile_suggestion import suggest
from tests.data import office_workbooks as ow
from tests.data.renamed_export import RENAMED, write_renamed
from tests.integration.weekly_cli import cli_env, run

WEEK = "2025-W45"
VARIANTS = [("per_table", ".xlsx"), ("per_table", ".xls"), ("person_level", ".xlsx"), ("person_level", ".xls")]


def _county(root, small_county, name):
    county = root / name
    (county / "exports").mkdir(parents=True)
    (county / "history").symlink_to(small_county / "history")
    return county


@pytest.fixture(scope="module")
def counties(small_county, tmp_path_factory):
    """name -> (county folder, sheets written or None): the CSV export and every variant."""
    root = tmp_path_factory.mktemp("office-exports")
    source = small_county / "exports" / WEEK
    out = {"csv": (_county(root, small_county, "csv"), None)}
    (out["csv"][0] / "exports" / WEEK).symlink_to(source)
    for layout in ("per_table", "person_level"):
        sheets = getattr(ow, layout)(source)
        for suffix in (".xlsx", ".xls"):
            county = _county(root, small_county, layout + suffix)
            (county / "exports" / WEEK).mkdir()
            ow.write_workbook(sheets, county / "exports" / WEEK / f"{WEEK}导出{suffix}")
            out[layout + suffix] = (county, sheets)
    renamed = _county(root, small_county, "renamed")
    write_renamed(source, renamed / "exports" / WEEK)
    out["renamed"] = (renamed, None)
    return out


@pytest.fixture(scope="module")
def history(small_county):
    return reading.read_folder(small_county / "history")


@pytest.fixture(scope="module")
def csv_read(counties, history):
    return reading.read_folder(counties["csv"][0] / "exports" / WEEK, history=history)


def _sorted(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    return frame.sort_values(contract.KEYS[table]).reset_index(drop=True)


@pytest.mark.parametrize("layout, suffix", VARIANTS)
def test_workbooks_read_as_the_csv_export_and_every_row_is_accounted_for(counties, history, csv_read, layout, suffix):
    county, sheets = counties[layout + suffix]
    result = reading.read_folder(county / "exports" / WEEK, history=history)
    assert {t: c["rows_valid"] for t, c in result.counts.items()} == {
        t: c["rows_valid"] for t, c in csv_read.counts.items()}
    assert result.counts["households"]["rows_valid"] > 1000
    for table in contract.TABLES:
        pd.testing.assert_frame_equal(_sorted(result.tables[table], table), _sorted(csv_read.tables[table], table))
    # Rows under each sheet's header = used + quarantined + listed non-data rows.
    titles = {s.title: t for t, s in contract.TABLES.items()} | {"人员明细": "members"}
    non_data = result.non_data_counts()
    for sheet in sheets:
        if sheet.hidden or not sheet.rows:
            continue
        c = result.counts[titles[sheet.name]]
        assert len(sheet.rows) - sheet.header_row == c["rows_valid"] + c["rows_quarantined"] + non_data[titles[sheet.name]]
        alone = ow.households_without_members(counties["csv"][0] / "exports" / WEEK) if sheet.name == "人员明细" else 0
        assert non_data[titles[sheet.name]] == 3 + alone  # 合计, the blank line, 制表人…, household-only rows


def test_validate_cli_lists_the_non_data_rows_in_its_json_and_the_flags_file(counties, tmp_path):
    county, _ = counties["per_table.xls"]
    result = run(["validate", "--data", str(county / "exports" / WEEK), "--out", str(tmp_path)],
                 cli_env(tmp_path / "home", None))
    rows = result["non_data_rows"]
    assert len(rows) == 15 == result["rows_non_data"]
    subtotal = next(r for r in rows if r["file"] == f"{WEEK}导出.xls[农户信息]" and r["text"].startswith("合计"))
    assert subtotal["row"] == 5 + result["tables"]["households"]["rows_in"]
    flags = pd.read_csv(result["flags_path"], dtype=str, keep_default_na=False)
    listed = flags[flags["reason"].str.startswith("non-data row")]
    assert len(listed) == 15 and set(listed["row"].astype(int)) >= {subtotal["row"]}
    assert result["rows_in"] == result["rows_valid"] + result["rows_quarantined"]


def test_suggestion_proposes_the_right_column_for_nine_in_ten_renamed_headers(counties):
    folder = counties["renamed"][0] / "exports" / WEEK
    proposal = suggest(folder)
    truth = {(t, new): next(f.name for f in contract.fields(t) if f.zh == old)
             for t, renames in RENAMED.items() for old, new in renames.items()}
    got = {(p.table, p.header): p.column for p in proposal.proposals}
    right = sum(got.get(key) == column for key, column in truth.items())
    assert right / len(truth) >= 0.9, {k: (got.get(k), v) for k, v in truth.items() if got.get(k) != v}
    assert ("households", "category", "一般户", "general") in [v[:4] for v in proposal.value_proposals]


@pytest.fixture(scope="module")
def profile_file(counties, tmp_path_factory):
    """The suggestion, written by `fanpin suggest-profile` (a person would check it here)."""
    out = tmp_path_factory.mktemp("profile") / "profile.yaml"
    tmp = out.parent
    result = run(["suggest-profile", "--data", str(counties["renamed"][0] / "exports" / WEEK), "--out", str(out)],
                 cli_env(tmp / "home", None))
    assert result["path"] == str(out) and not result["unmatched"]
    return out


def test_renamed_export_with_the_profile_reads_as_the_original(counties, history, csv_read, profile_file, tmp_path):
    from features.mapping_profile import load_profile

    renamed = counties["renamed"][0] / "exports" / WEEK
    with pytest.raises(reading.ContractError, match="missing required column 'household_id'"):
        reading.read_folder(renamed, history=history)
    result = reading.read_folder(renamed, history=history, profile=load_profile(profile_file))
    for table in contract.TABLES:
        pd.testing.assert_frame_equal(_sorted(result.tables[table], table), _sorted(csv_read.tables[table], table))
    cli = run(["validate", "--data", str(renamed), "--out", str(tmp_path), "--profile", str(profile_file)],
              cli_env(tmp_path / "home", None))
    alone = reading.read_folder(counties["csv"][0] / "exports" / WEEK)  # validate reads it without the history
    assert {t: c["rows_valid"] for t, c in cli["tables"].items()} == {t: c["rows_valid"] for t, c in alone.counts.items()}
    assert cli["profile"]["path"] == str(profile_file)


def _watch_list(county, champion, home, profile=None):
    from sqlalchemy import select

    from features.weeks import week_cutoff
    from serving.jobs.weekly import run_week
    from serving.settings import Settings
    from serving.store import models as m
    from serving.store.database import get_engine, session_factory
    from serving.weekly.history import import_history

    settings = Settings(home=home, database_url=f"sqlite:///{home / 'fanpin.db'}", profile_path=profile)
    import_history(county, settings.ensure_home(), until=week_cutoff(WEEK) - pd.Timedelta(days=7))
    result = run_week(county, WEEK, settings, champion=champion, started_by="tests")
    with session_factory(get_engine(settings))() as session:
        listed = session.execute(select(m.Score.household_id).where(
            m.Score.run_id == result["run_id"], m.Score.on_watchlist).order_by(m.Score.rank)).scalars().all()
    return list(listed), result


def test_weekly_job_publishes_the_same_watch_list_from_every_layout(counties, fitted_champion, profile_file,
                                                                   tmp_path):
    expected, _ = _watch_list(counties["csv"][0], fitted_champion, tmp_path / "csv")
    assert len(expected) >= 10
    for name in ("per_table.xlsx", "person_level.xls"):
        listed, result = _watch_list(counties[name][0], fitted_champion, tmp_path / name)
        assert listed == expected, name
        assert result["stages"]["profile"] is None
    listed, result = _watch_list(counties["renamed"][0], fitted_champion, tmp_path / "renamed", profile_file)
    assert listed == expected
    assert result["stages"]["profile"]["path"] == str(profile_file) and len(result["stages"]["profile"]["sha256"]) == 64
