"""Workbooks as offices save them (issue 29): finding the table in a sheet, several sheets, the
person-level layout, .xls, odd cells, and the mapping profile. Small handmade data."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from features import quarantine as qt
from features.input_limits import NO_MEMBERS
from features.mapping_profile import ProfileError, load_profile, parse_profile
from features.person_level import HOUSEHOLD_ONLY
from features.reading import read_folder, read_table
from features.sheet_layout import BLANK, END_LINE, SUBTOTAL
from features.table_files import ContractError
from tests.data import office_workbooks as ow
from tests.data.handmade_exports import household, member, to_chinese, valid_tables, write_folder


def _sheets(tables):
    return [ow.office_sheet(title, to_chinese(t, tables[t]), ow._kinds(t))
            for t, title in (("households", "农户信息"), ("members", "家庭成员"))]


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_title_rows_two_row_header_counter_and_footers(tmp_path, suffix):
    tables = valid_tables()
    sheets = _sheets(tables)
    ow.write_workbook(sheets, tmp_path / f"本周导出{suffix}")
    result = read_folder(tmp_path)
    assert result.counts["households"]["rows_valid"] == 6
    assert result.counts["members"]["rows_valid"] == 12
    assert result.quarantine.empty
    # The header is the field row (4); the 序号 column is not data; footers are listed, not read.
    first = result.tables["households"].iloc[0]
    assert first["household_id"] == "H0001" and first["township"] == "城关镇" and first["land_mu"] == 3.5
    non_data = result.non_data[result.non_data["file"] == f"本周导出{suffix}[农户信息]"]
    assert list(non_data["row"]) == [11, 12, 13]  # 6 data rows on 5..10
    assert list(non_data["reason"]) == [SUBTOTAL, BLANK, END_LINE]
    assert non_data["text"].iloc[0].startswith("合计") and "制表人" in non_data["text"].iloc[2]
    # Every row under the header is used, quarantined or listed.
    for sheet, table in zip(sheets, ("households", "members"), strict=True):
        under_header = len(sheet.rows) - sheet.header_row
        c = result.counts[table]
        assert under_header == c["rows_valid"] + c["rows_quarantined"] + result.non_data_counts()[table]
    assert any("序号" in n for n in result.notes)


def test_a_broken_row_keeps_its_excel_row_number(tmp_path):
    tables = valid_tables()
    tables["members"][2]["birth_date"] = "2025-13-45"
    ow.write_workbook(_sheets(tables), tmp_path / "导出.xlsx")
    result = read_folder(tmp_path)
    line = result.quarantine.iloc[0]
    assert (line["file"], line["row"], line["column"]) == ("导出.xlsx[家庭成员]", 7, "birth_date")


def test_subtotal_rows_between_groups_do_not_end_the_table(tmp_path):
    tables = valid_tables()
    sheet = _sheets(tables)[0]
    sheet.rows.insert(7, ["小计", "3户"])
    ow.write_workbook([sheet, _sheets(tables)[1]], tmp_path / "导出.xlsx")
    result = read_folder(tmp_path)
    assert result.counts["households"]["rows_valid"] == 6
    assert 8 in set(result.non_data.loc[result.non_data["reason"] == SUBTOTAL, "row"])


def test_hidden_and_empty_sheets_skipped_and_sheets_found_by_name_or_headers(tmp_path):
    tables = valid_tables()
    households, members = _sheets(tables)
    households.name = "households"  # English name
    members.name = "Sheet2"  # only its headers say what it is
    hidden = ow.Sheet("农户信息", [["户编号", "乡镇"], ["X1", "旧"]], hidden=True)  # would clash if read
    ow.write_workbook([households, hidden, members, ow.Sheet("Sheet3", [])], tmp_path / "书.xlsx")
    result = read_folder(tmp_path)
    assert result.counts["members"]["rows_valid"] == 12
    assert result.files["members"] == "书.xlsx[Sheet2]"
    assert any("hidden sheet '农户信息'" in n for n in result.notes)
    assert any("empty sheet 'Sheet3'" in n for n in result.notes)


def test_numbered_column_is_a_counter_only_when_it_counts(tmp_path):
    tables = valid_tables()
    frame = to_chinese("households", tables["households"]).rename(columns={"户编号": "编号"})
    write_folder(tmp_path, {"members": tables["members"]})
    (tmp_path / "members.csv").rename(tmp_path / "家庭成员.csv")
    profile = parse_profile("households:\n  headers:\n    编号: household_id\n")
    ow.write_workbook([ow.office_sheet("农户信息", frame, ow._kinds("households"))], tmp_path / "农户信息.xlsx")
    result = read_folder(tmp_path, profile=profile)
    assert result.counts["households"]["rows_valid"] == 6  # 编号 holds H0001…: an ID, kept
    counted = frame.assign(编号=[str(i) for i in range(1, 7)])
    ow.write_workbook([ow.office_sheet("农户信息", counted, ow._kinds("households"))], tmp_path / "农户信息.xlsx")
    with pytest.raises(ContractError, match="missing required column 'household_id'"):
        read_folder(tmp_path, profile=profile)  # 编号 holding 1, 2, 3… only counted rows


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_an_id_excel_turned_into_a_number_is_refused_naming_the_cell(tmp_path, suffix):
    tables = valid_tables()
    sheets = _sheets(tables)
    # Excel keeps 15 significant digits: 433126197506150003 becomes 4.33126197506150E+17.
    sheets[1].rows[4 + 2][18] = 433126197506150000.0
    ow.write_workbook(sheets, tmp_path / f"导出{suffix}")
    result = read_folder(tmp_path)
    lines = result.quarantine[result.quarantine["reason"] == qt.ID_AS_NUMBER]
    assert list(zip(lines["file"], lines["row"], lines["column"], strict=True)) == [
        (f"导出{suffix}[家庭成员]", 7, "id_number")]
    assert "433126197506150000" not in set(result.tables["members"]["id_number"])


def test_an_id_saved_as_scientific_text_in_a_csv_is_refused(tmp_path):
    tables = valid_tables()
    tables["members"][0]["id_number"] = "4.33126E+17"
    write_folder(tmp_path, tables)
    result = read_folder(tmp_path)
    line = result.quarantine.iloc[0]
    assert (line["row"], line["column"], line["reason"]) == (2, "id_number", qt.ID_AS_NUMBER)


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_dates_and_numbers_as_offices_type_them(tmp_path, suffix):
    tables = valid_tables(4)
    frame = to_chinese("households", tables["households"])
    rows = [["户编号", "生效日期", "耕地面积", "脱贫年度"]]
    cells = [(dt.date(2025, 3, 5), 3.5, 2018), ((dt.date(2025, 3, 5) - dt.date(1899, 12, 30)).days, "3.5", "2018"),
             ("2025年3月5日", " 12.5 ", 2018), ("2025.3.5", "3.5亩", "2018")]
    for i, (day, land, year) in enumerate(cells):
        rows.append([frame["户编号"][i], day, land, year])
    rest = frame.drop(columns=["生效日期", "耕地面积", "脱贫年度"])
    table = pd.DataFrame(rows[1:], columns=rows[0]).merge(rest, on="户编号")
    sheet = ow.Sheet("农户信息", [list(table.columns)] + table.astype(object).to_numpy().tolist())
    ow.write_workbook([sheet], tmp_path / f"农户信息{suffix}")
    result = read_table(tmp_path / f"农户信息{suffix}", "households")
    got = result.tables["households"]
    assert result.quarantine.empty, result.quarantine
    assert (got["valid_from"] == pd.Timestamp("2025-03-05")).all()
    assert list(got["land_mu"]) == [3.5, 3.5, 12.5, 3.5]
    assert list(got["exit_year"]) == [2018] * 4


def _persons(tables) -> pd.DataFrame:
    hh = to_chinese("households", tables["households"]).rename(columns={"生效日期": "户生效日期", "失效日期": "户失效日期"})
    return to_chinese("members", tables["members"]).merge(hh, on="户编号", how="left")


@pytest.mark.parametrize("suffix", [".csv", ".xls"])
def test_person_level_sheet_is_split_by_its_headers(tmp_path, suffix):
    tables = valid_tables()
    persons = _persons(tables)
    if suffix == ".csv":
        persons.to_csv(tmp_path / "人员明细.csv", index=False)
    else:
        ow.write_workbook([ow.office_sheet("Sheet1", persons, {})], tmp_path / f"某某导出{suffix}")
    result = read_folder(tmp_path)
    assert result.counts["households"]["rows_valid"] == 6 and result.counts["members"]["rows_valid"] == 12
    assert result.quarantine.empty
    expected = read_folder(write_folder(tmp_path / "plain", tables))
    pd.testing.assert_frame_equal(result.tables["households"], expected.tables["households"])
    pd.testing.assert_frame_equal(result.tables["members"], expected.tables["members"])


@pytest.mark.parametrize("suffix", [".csv", ".xls"])
def test_a_household_registered_before_its_members_is_a_row_with_the_member_columns_empty(tmp_path, suffix):
    """The registry enters a new household and its members days apart: a household-driven export
    then has one row for it with every member column empty. It gives the household, no member
    without an id, and is listed so the sheet's rows still reconcile; the household then meets the
    same rule as in a CSV export (no members in the export or the history: quarantined, not lost)."""
    tables = valid_tables()
    persons = _persons(tables)
    alone = persons.iloc[[0]].copy()
    alone["户编号"] = "H0099"
    alone[[c for c in to_chinese("members", tables["members"]).columns if c != "户编号"]] = ""
    persons = pd.concat([persons, alone], ignore_index=True)
    if suffix == ".csv":
        persons.to_csv(tmp_path / "人员明细.csv", index=False)
        label = "人员明细.csv"
    else:
        ow.write_workbook([ow.office_sheet("Sheet1", persons, {})], tmp_path / f"某某导出{suffix}")
        label = f"某某导出{suffix}"
    result = read_folder(tmp_path)
    assert result.counts["households"]["rows_in"] == 7 and result.counts["members"]["rows_valid"] == 12
    assert result.counts["households"]["rows_valid"] == 6 and result.counts["members"]["rows_quarantined"] == 0
    assert list(result.quarantine["reason"]) == [NO_MEMBERS]
    listed = result.non_data[result.non_data["reason"] == HOUSEHOLD_ONLY]
    assert list(listed["text"]) == ["H0099"] and listed["file"].iloc[0].startswith(label)
    members = result.counts["members"]
    footer = 0 if suffix == ".csv" else 3  # the office sheet's 合计, blank and 制表人 lines
    assert len(persons) + footer == members["rows_valid"] + members["rows_quarantined"] + result.non_data_counts()["members"]


def test_a_household_whose_repeated_columns_disagree_is_quarantined_naming_both(tmp_path):
    tables = valid_tables()
    persons = _persons(tables)
    persons.loc[3, "乡镇"] = "白沙镇"  # H0002's second member says another township
    persons.loc[2, "户生效日期"] = "2023/1/1"  # the same date written another way is no disagreement
    persons.to_csv(tmp_path / "人员明细.csv", index=False)
    result = read_folder(tmp_path)
    lines = result.quarantine[result.quarantine["reason"] == qt.HOUSEHOLD_ROWS_DIFFER]
    assert list(lines["column"]) == ["township"]
    assert lines["row"].iloc[0] == 4  # the household's first row
    assert "城关镇 (row 4)" in lines["value"].iloc[0] and "白沙镇 (row 5)" in lines["value"].iloc[0]
    assert "H0002" not in set(result.tables["households"]["household_id"])
    assert result.counts["households"]["rows_valid"] == 5


def test_a_member_row_without_household_columns_gives_only_the_member(tmp_path):
    tables = valid_tables()
    tables["members"].append(member(99, "H0001", relation="child"))
    persons = _persons(tables)
    hh_only = [c for c in to_chinese("households", [household(1)]).columns if c != "户编号"]
    persons.loc[persons.index[-1], [c if c not in ("生效日期", "失效日期") else "户" + c for c in hh_only]] = ""
    persons.to_csv(tmp_path / "人员明细.csv", index=False)
    result = read_folder(tmp_path)
    assert result.quarantine.empty
    assert result.counts["members"]["rows_valid"] == 13 and result.counts["households"]["rows_valid"] == 6


def test_profile_headers_and_values_read_a_renamed_export_as_the_original(tmp_path):
    tables = valid_tables()
    frame = to_chinese("households", tables["households"]).rename(columns={"户编号": "家庭户编号", "户类型": "农户类型"})
    frame["农户类型"] = frame["农户类型"].replace({"脱贫户": "已脱贫"})
    write_folder(tmp_path, {k: v for k, v in tables.items() if k != "households"})
    frame.to_csv(tmp_path / "households.csv", index=False)
    path = tmp_path.parent / "profile.yaml"
    path.write_text("households:\n  headers:\n    家庭户编号: household_id\n    农户类型: category\n"
                    "  values:\n    category:\n      已脱贫: exited\n", encoding="utf-8")
    profile = load_profile(path)
    result = read_folder(tmp_path, profile=profile)
    expected = read_folder(write_folder(tmp_path.parent / "plain", tables))
    pd.testing.assert_frame_equal(result.tables["households"], expected.tables["households"])
    assert result.profile["sha256"] == profile.sha256 and result.profile["headers"] == 2
    # Written back out, the profile reads the same.
    again = parse_profile(profile.to_yaml())
    assert again.headers == profile.headers and again.values == profile.values


@pytest.mark.parametrize("text, message", [
    ("farms:\n  headers: {}\n", "unknown table 'farms'"),
    ("households:\n  headers:\n    户号: household_key\n", "households.headers.户号: unknown column 'household_key'"),
    ("households:\n  values:\n    category:\n      一般户: normal\n", "'normal' is not a code of category"),
    ("households: [\n", "not valid YAML"),
])
def test_a_wrong_profile_is_refused_in_one_line(text, message):
    with pytest.raises(ProfileError, match=message):
        parse_profile(text, "p.yaml")
