"""Reading export folders: exactly the broken rows are quarantined, with the right reasons."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from features import contract, quarantine
from features.reading import ContractError, read_folder, read_table
from tests.data.handmade_exports import (
    member,
    survey,
    to_chinese,
    valid_tables,
    write,
    write_folder,
)
from tests.data.leaks import FULL_WIDTH_ID, ID_NUMBER, NAME, PAD, PHONE, leaks


def _lines(result, file=None):
    q = result.quarantine
    if file is not None:
        q = q[q["file"] == file]
    return {(r.file, r.row, r.column, r.reason.split(" / ")[0]) for r in q.itertuples()}


def _reconciles(result):
    for table, c in result.counts.items():
        assert c["rows_in"] == c["rows_valid"] + c["rows_quarantined"], table
        assert len(result.tables[table]) == c["rows_valid"], table
    t = result.totals
    assert t["rows_in"] == t["rows_valid"] + t["rows_quarantined"]


def test_clean_folder_reads_every_row_with_contract_dtypes(tmp_path):
    write_folder(tmp_path, valid_tables())
    result = read_folder(tmp_path)
    assert result.quarantine.empty
    assert result.flags.empty
    assert result.counts["members"] == {
        "rows_in": 12, "rows_valid": 12, "rows_quarantined": 0, "rows_flagged": 0
    }
    for table, frame in result.tables.items():
        assert list(frame.columns) == list(contract.TABLES[table].columns)
        contract.TABLES[table].validate(frame)  # typed tables satisfy the contract as they are
    members = result.tables["members"]
    assert str(members["birth_date"].dtype) == "datetime64[ns]"
    assert str(members["migrant_months"].dtype) == "Int64"
    assert str(members["medical_insurance"].dtype) == "boolean"
    assert members["relation"].tolist()[:2] == ["head", "spouse"]
    _reconciles(result)


def test_exports_with_and_without_recording_dates_read(tmp_path):
    """入库时间 is optional: older exports without it read (with a note, and the validity dates as
    the point-in-time basis); exports with it carry it through typed."""
    from features.point_in_time import BASIS_RECORDING, BASIS_VALIDITY, basis

    write_folder(tmp_path / "old", valid_tables())
    old = read_folder(tmp_path / "old")
    assert old.quarantine.empty and old.tables["events"]["recorded_at"].isna().all()
    assert any("recorded_at" in note for note in old.notes)
    assert basis(old.tables) == BASIS_VALIDITY
    tables = valid_tables()
    for name, date in (("households", "valid_from"), ("members", "valid_from"),
                       ("income_surveys", "survey_date"), ("events", "event_date")):
        for row in tables[name]:
            row["recorded_at"] = row[date]
    write_folder(tmp_path / "new", tables)
    new = read_folder(tmp_path / "new")
    assert new.quarantine.empty
    assert str(new.tables["events"]["recorded_at"].dtype) == "datetime64[ns]"
    assert basis(new.tables) == BASIS_RECORDING


def test_exactly_the_broken_rows_are_quarantined(tmp_path):
    t = valid_tables()
    m = t["members"]
    m[1]["migrant_months"] = "six"  # row 3: wrong type
    m[2]["sex"] = "未知"  # row 4: unknown category
    m[3]["birth_date"] = "1890-05-01"  # row 5: age over 120
    m[4]["birth_date"] = "2031-01-01"  # row 6: born after the export
    m[5]["disability_grade"] = "7"  # row 7: out of range
    m[6]["relation"] = ""  # row 8: required value missing
    m.append(copy.deepcopy(m[0]))  # row 14: duplicate of row 2's key
    m.append(member(99, "H9999"))  # row 15: household not in the households table
    m[8]["valid_to"] = "2022-01-01"  # row 10: ends before it starts
    t["households"][2]["category"] = "贫困户"  # households row 4: unknown category
    t["households"][4]["exit_year"] = "2018.5"  # households row 6: not a whole number
    write_folder(tmp_path, t)

    result = read_folder(tmp_path)

    assert _lines(result) == {
        ("members.csv", 3, "migrant_months", "not a whole number"),
        ("members.csv", 4, "sex", "unknown value"),
        ("members.csv", 5, "birth_date", "age over 120"),
        ("members.csv", 6, "birth_date", "birth date after the export date"),
        ("members.csv", 7, "disability_grade", "above the maximum 4"),
        ("members.csv", 8, "relation", "missing value"),
        ("members.csv", 10, "valid_to", "valid_to before valid_from"),
        ("members.csv", 14, "member_id", "duplicate key, first row kept"),
        ("members.csv", 14, "valid_from", "duplicate key, first row kept"),
        ("members.csv", 15, "household_id", "household not in the households table"),
        ("households.csv", 4, "category", "unknown value"),
        ("households.csv", 6, "exit_year", "not a whole number"),
    }
    values = result.quarantine.set_index(["file", "row", "column"])["value"]
    assert values[("members.csv", 3, "migrant_months")] == "six"
    assert values[("members.csv", 4, "sex")] == "未知"
    assert result.counts["members"] == {
        "rows_in": 14, "rows_valid": 5, "rows_quarantined": 9, "rows_flagged": 0
    }
    assert result.counts["households"]["rows_quarantined"] == 2
    # The first of the duplicates is kept; the quarantined ones are gone from the table.
    kept = result.tables["members"]["member_id"].tolist()
    assert kept.count("M00001") == 1
    assert "M00099" not in kept and "M00002" not in kept
    _reconciles(result)


def test_one_row_with_two_problems_is_counted_once(tmp_path):
    t = valid_tables()
    t["members"][0]["sex"] = "?"
    t["members"][0]["health"] = "很好"
    write_folder(tmp_path, t)
    result = read_folder(tmp_path)
    assert len(result.quarantine) == 2
    assert set(result.quarantine["row"]) == {2}
    assert result.counts["members"]["rows_quarantined"] == 1
    _reconciles(result)


def test_gbk_csv_with_chinese_headers_and_labels(tmp_path):
    t = valid_tables()
    t["members"][1]["education"] = "博士后"  # row 3: unknown label, in Chinese
    write_folder(tmp_path, t)
    (tmp_path / "members.csv").unlink()
    write(tmp_path, "members", to_chinese("members", t["members"]), encoding="gbk", name="家庭成员")

    result = read_folder(tmp_path)

    assert result.files["members"] == "家庭成员.csv"
    assert _lines(result) == {("家庭成员.csv", 3, "education", "unknown value")}
    assert result.quarantine["value"].tolist() == ["博士后"]
    members = result.tables["members"]
    assert set(members["relation"]) == {"head", "spouse"}
    assert set(members["migrant_place"]) == {"out_province", "none"}
    assert members["medical_insurance"].all()
    _reconciles(result)


def test_xlsx_with_chinese_headers_and_excel_dates(tmp_path):
    t = valid_tables()
    write_folder(tmp_path, t)
    (tmp_path / "households.csv").unlink()
    frame = to_chinese("households", t["households"])
    # Real date cells and an Excel day number (45000 = 2023-03-15) as the county system writes.
    frame["生效日期"] = [pd.Timestamp("2023-01-01")] * (len(frame) - 1) + [45000]
    frame["耕地面积"] = [3.5, 2, 4, 0, 1.25, "abc"]  # last row: not a number
    write(tmp_path, "households", frame, fmt="xlsx", name="农户信息")

    result = read_folder(tmp_path)

    assert _lines(result) == {("农户信息.xlsx", 7, "land_mu", "not a number")}
    households = result.tables["households"]
    assert households["valid_from"].tolist() == [pd.Timestamp("2023-01-01")] * 5
    assert households["land_mu"].tolist() == [3.5, 2.0, 4.0, 0.0, 1.25]
    assert households["category"].eq("exited").all()
    assert households["housing_grade"].eq("A").all()
    # The dropped household still exists in the file: its members are not orphans.
    assert result.counts["members"]["rows_quarantined"] == 0
    _reconciles(result)


def test_excel_serial_date_is_read(tmp_path):
    t = valid_tables(2)
    write_folder(tmp_path, t)
    frame = pd.DataFrame(t["households"])
    frame["valid_from"] = [45000, "2023/1/1"]
    (tmp_path / "households.csv").unlink()
    write(tmp_path, "households", frame, fmt="xlsx")
    result = read_folder(tmp_path)
    assert result.quarantine.empty
    assert result.tables["households"]["valid_from"].tolist() == [
        pd.Timestamp("2023-03-15"), pd.Timestamp("2023-01-01")
    ]


def test_full_width_digits_spaces_bom_and_date_formats(tmp_path):
    t = valid_tables(3)
    t["households"][0].update(land_mu="８，４００".replace("８，", ""), household_id="\u3000H0001 ")
    t["households"][1].update(land_mu=" 1,2.5", valid_from="2023年1月1日")  # row 3: bad number
    t["households"][2].update(land_mu="１２.５", valid_from="20230101", phone="\xa0138 0000 0003")
    t["members"][0].update(birth_date="1975/6/15", migrant_months="６")
    t["members"][2].update(birth_date="1975.06.15", sex=" 女 ")
    write_folder(tmp_path, t)
    write(tmp_path, "households", t["households"], encoding="utf-8-sig")  # with a BOM
    assert (tmp_path / "households.csv").read_bytes()[:3] == b"\xef\xbb\xbf"

    result = read_folder(tmp_path)

    assert _lines(result) == {("households.csv", 3, "land_mu", "not a number")}
    households = result.tables["households"]
    assert households["household_id"].tolist() == ["H0001", "H0003"]
    assert households["land_mu"].tolist() == [400.0, 12.5]
    assert households["valid_from"].eq(pd.Timestamp("2023-01-01")).all()
    members = result.tables["members"]
    assert members["birth_date"].iloc[0] == pd.Timestamp("1975-06-15")
    assert members["migrant_months"].iloc[0] == 6
    assert members["sex"].iloc[2] == "female"


def test_thousands_separators_and_units(tmp_path):
    t = valid_tables(2)
    t["income_surveys"][0].update(wage_income="18,400", business_income="4,000元")
    write_folder(tmp_path, t)
    result = read_folder(tmp_path)
    assert result.quarantine.empty
    assert result.tables["income_surveys"]["wage_income"].iloc[0] == 18400.0
    assert result.tables["income_surveys"]["business_income"].iloc[0] == 4000.0


def test_parquet_tables_are_read(tmp_path):
    t = valid_tables()
    write_folder(tmp_path, t)
    first = read_folder(tmp_path)
    parquet = tmp_path / "pq"
    for table, frame in first.tables.items():
        write(parquet, table, frame, fmt="parquet")
    again = read_folder(parquet)
    assert again.quarantine.empty
    for table in contract.TABLES:
        pd.testing.assert_frame_equal(again.tables[table], first.tables[table])


def test_missing_optional_table_is_an_empty_table_and_reported(tmp_path):
    t = valid_tables()
    del t["outcomes"], t["events"]
    write_folder(tmp_path, t)
    result = read_folder(tmp_path)
    assert result.tables["outcomes"].empty
    assert list(result.tables["outcomes"].columns) == list(contract.TABLES["outcomes"].columns)
    assert result.counts["outcomes"]["rows_in"] == 0
    assert result.files["outcomes"] is None
    assert any(n.startswith("outcomes") for n in result.notes)


def test_missing_required_column_stops_with_file_and_column(tmp_path):
    t = valid_tables()
    for row in t["members"]:
        del row["birth_date"]
    write_folder(tmp_path, t)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ContractError) as error:
        read_folder(tmp_path)
    message = str(error.value)
    assert message == "members.csv: missing required column 'birth_date' (出生日期)"
    assert "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_missing_required_column_with_chinese_headers_names_the_label(tmp_path):
    t = valid_tables()
    write_folder(tmp_path, t)
    frame = to_chinese("households", t["households"]).drop(columns=["户类型"])
    (tmp_path / "households.csv").unlink()
    write(tmp_path, "households", frame, fmt="xlsx", name="农户信息")
    with pytest.raises(ContractError, match=r"^农户信息\.xlsx: .*'category' \(户类型\)$"):
        read_folder(tmp_path)


def test_unreadable_file_stops_with_the_file_name(tmp_path):
    write_folder(tmp_path, valid_tables())
    (tmp_path / "households.csv").unlink()
    (tmp_path / "households.xlsx").write_bytes(b"this is not a zip file")
    with pytest.raises(ContractError, match=r"^households\.xlsx: cannot read file"):
        read_folder(tmp_path)


def test_missing_required_table_stops(tmp_path):
    t = valid_tables()
    del t["members"]
    write_folder(tmp_path, t)
    with pytest.raises(ContractError, match="members"):
        read_folder(tmp_path)


def _planted(t):
    """Over-long name, phone and ID-number cells (quarantined on those very cells) and identifiers
    typed into cells of other columns that fail a check (one over-long, one not a number)."""
    t["members"][0].update(name=NAME + PAD)
    t["members"][2].update(id_number=ID_NUMBER + PAD)
    t["households"][0].update(phone=PHONE + PAD)
    t["households"][1].update(head_name=NAME + PHONE + PAD)
    # By content: the ID number straddles the 40th character, where an over-long cell is cut.
    t["households"][2].update(village="石门村" * 11 + FULL_WIDTH_ID + "冯娜" + PHONE + PAD)
    t["income_surveys"][0].update(wage_income=ID_NUMBER)
    t["events"][0].update(amount=f"{NAME} {PHONE}")
    return {("members.csv", 2, "name"), ("members.csv", 4, "id_number"), ("households.csv", 2, "phone"),
            ("households.csv", 3, "head_name"), ("households.csv", 4, "village"),
            ("income_surveys.csv", 2, "wage_income"), ("events.csv", 2, "amount")}


def test_sensitive_values_are_masked_in_quarantine_and_flags(tmp_path):
    t = valid_tables()
    planted = _planted(t)
    t["members"][5].update(birth_date="1905-01-01")  # a flag line in the same run
    write_folder(tmp_path, t)
    result = read_folder(tmp_path)
    q = result.quarantine
    lines = {(r.file, r.row, r.column): r.value for r in q.itertuples()}
    assert planted <= lines.keys()  # the cells that hold the secrets are the ones quarantined
    for key in ("members.csv", 2, "name"), ("members.csv", 4, "id_number"), ("households.csv", 2, "phone"), \
            ("households.csv", 3, "head_name"):
        assert lines[key] == quarantine.MASK, key  # a name is never longer than its masked form
    village = lines[("households.csv", 4, "village")]
    assert village.startswith("石门村" * 11 + "431128") and village.endswith("…") and len(village) == 41
    assert lines[("income_surveys.csv", 2, "wage_income")] == "431128********5294"
    assert lines[("events.csv", 2, "amount")] == f"{NAME} {'*' * 11}"  # no name column: only the phone goes
    assert len(result.flags) and (result.flags["column"] == "birth_date").any()
    text = "\n".join([*q.loc[q["column"] != "amount", "value"], *result.flags["value"], *result.notes])
    assert not leaks(text)
    assert not leaks(lines[("events.csv", 2, "amount")], (PHONE,))
    _reconciles(result)


@pytest.mark.parametrize("column", sorted(contract.sensitive_columns()))
def test_sensitive_value_failing_a_check_is_masked(tmp_path, column):
    shown = quarantine.lines("x.csv", [3, 4], column, ["王五", ""], quarantine.MISSING)
    assert shown["value"].tolist() == [quarantine.MASK, ""]  # an empty cell stays visibly empty
    # Any other column: by content, an ID number or a phone anywhere in the text.
    other = quarantine.lines("x.csv", [3], "village", [f"王五{FULL_WIDTH_ID}，{PHONE}"], quarantine.MISSING)
    assert other["value"].tolist() == [f"王五431128********5294，{'*' * 11}"]
    # Through the reader: the sensitive cell itself fails (too long).
    table = "members" if column in contract.sensitive_columns("members") else "households"
    t = valid_tables(2)
    t[table][1][column] = ID_NUMBER + PHONE + NAME + PAD
    write_folder(tmp_path, t)
    result = read_folder(tmp_path)
    assert _lines(result, f"{table}.csv") == {(f"{table}.csv", 3, column, "value longer than 200 characters")}
    assert result.quarantine.loc[result.quarantine["column"] == column, "value"].tolist() == [quarantine.MASK]
    assert not leaks("\n".join(result.quarantine["value"]))


def test_flags_wan_yuan_income_against_history(tmp_path):
    history = valid_tables()
    history["income_surveys"] = [survey(h["household_id"], 2022) for h in history["households"]]
    write_folder(tmp_path / "history", history)
    past = read_folder(tmp_path / "history")

    week = valid_tables()
    # H0002 entered its income in 万元: 1.8 + 0.4 + 0.02 + 0.31 instead of yuan.
    week["income_surveys"][1].update(wage_income="1.8", business_income="0.4",
                                     property_income="0.02", transfer_income="0.31")
    # H0003 really lost most of its income (a 12x drop): that is risk, not an error.
    week["income_surveys"][2].update(wage_income="0", business_income="1500",
                                     property_income="0", transfer_income="600")
    write_folder(tmp_path / "2024-W10", week)
    result = read_folder(tmp_path / "2024-W10", history=past)

    assert result.quarantine.empty
    assert result.flags[["file", "row", "column", "value"]].values.tolist() == [
        ["income_surveys.csv", 3, "wage_income", "1.8"]
    ]
    assert result.flags["reason"].iloc[0].startswith("income about 10,000x below")
    assert result.counts["income_surveys"]["rows_flagged"] == 1
    assert result.counts["income_surveys"]["rows_valid"] == 6  # flagged rows are still read
    assert result.as_of == pd.Timestamp("2024-03-10")  # Sunday of ISO week 2024-W10

    # ... but held out of scoring until corrected: the real drop (H0003) stays, the slip goes.
    assert result.rows_held == 1 and "更正前暂不用于评分" in result.flags["reason"].iloc[0]
    scoring = result.scoring_tables()
    assert len(scoring["income_surveys"]) == 5
    assert "H0002" not in set(scoring["income_surveys"]["household_id"])
    assert "H0003" in set(scoring["income_surveys"]["household_id"])
    assert len(result.tables["income_surveys"]) == 6  # the drift monitor still sees the export as is
    assert scoring["members"] is result.tables["members"]


def test_flags_tiny_income_with_able_labour_without_history(tmp_path):
    t = valid_tables()
    t["income_surveys"][0].update(wage_income="2.1", business_income="0",
                                  property_income="0", transfer_income="0.3")
    write_folder(tmp_path, t)
    result = read_folder(tmp_path)
    assert {(r.row, r.column) for r in result.flags.itertuples()} == {(2, "wage_income")}
    assert "50 yuan" in result.flags["reason"].iloc[0]
    assert result.rows_held == 1
    assert "H0001" not in set(result.scoring_tables()["income_surveys"]["household_id"])


def test_flags_old_age_crowded_households_and_migrants_without_place(tmp_path):
    t = valid_tables(3)
    t["members"][0]["birth_date"] = "1910-01-01"  # 114 at the export: flagged, still valid
    t["members"][2].update(migrant_months="5", migrant_place="none")
    t["members"] += [member(100 + i, "H0003", relation="child") for i in range(15)]  # 17 members
    write_folder(tmp_path, t)
    result = read_folder(tmp_path)
    assert result.quarantine.empty
    reasons = {(r.file, r.row, r.column, r.reason.split(",")[0].split(" / ")[0])
               for r in result.flags.itertuples()}
    assert reasons == {
        ("members.csv", 2, "birth_date", "age over 110"),
        ("members.csv", 4, "migrant_place", "migrant-work months but no place of work"),
        ("households.csv", 4, "household_id", "more than 15 current members"),
    }
    assert result.counts["members"]["rows_flagged"] == 2
    assert result.counts["members"]["rows_valid"] == 21


def test_weekly_export_checks_households_against_history(tmp_path):
    write_folder(tmp_path / "history", valid_tables())
    past = read_folder(tmp_path / "history")
    week = valid_tables(2)
    week["events"] = [
        {**valid_tables()["events"][0], "household_id": "H0005", "event_id": "E1"},  # in history
        {**valid_tables()["events"][0], "household_id": "H0404", "event_id": "E2"},  # nowhere
    ]
    write_folder(tmp_path / "2024-W10", week)
    result = read_folder(tmp_path / "2024-W10", history=past)
    assert _lines(result) == {
        ("events.csv", 3, "household_id", "household not in the households table")
    }


def test_read_table_reads_one_file(tmp_path):
    path = write(tmp_path, "members", to_chinese("members", valid_tables()["members"]),
                 fmt="xlsx", name="家庭成员")
    result = read_table(path, "members")
    assert result.counts["members"]["rows_valid"] == 12
    assert result.tables["households"].empty


def test_quarantine_row_numbers_skip_blank_lines_like_excel(tmp_path):
    t = valid_tables(2)
    write_folder(tmp_path, t)
    text = (tmp_path / "members.csv").read_text(encoding="utf-8").splitlines()
    text.insert(2, ",,,,,,,,,,,,,,,,,,,")  # an empty line as row 3
    text[4] = text[4].replace(",male,", ",M?,")  # now Excel row 5
    (tmp_path / "members.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    result = read_folder(tmp_path)
    assert _lines(result) == {("members.csv", 5, "sex", "unknown value")}
    assert result.counts["members"]["rows_in"] == 4


def test_county_folder_root_gets_a_helpful_error(tmp_path):
    write_folder(tmp_path / "history", valid_tables())
    with pytest.raises(ContractError, match="county folder"):
        read_folder(tmp_path)


def test_two_files_for_one_table_is_an_error(tmp_path):
    t = valid_tables()
    write_folder(tmp_path, t)
    write(tmp_path, "members", to_chinese("members", t["members"]), fmt="xlsx", name="家庭成员")
    with pytest.raises(ContractError, match="two files for table members"):
        read_folder(tmp_path)


def test_ragged_csv_stops_with_the_file_name(tmp_path):
    write_folder(tmp_path, valid_tables())
    lines = (tmp_path / "members.csv").read_text(encoding="utf-8").splitlines()
    lines[3] += ",extra,cells"
    (tmp_path / "members.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ContractError, match=r"^members\.csv: cannot read file \(not a valid CSV\)$"):
        read_folder(tmp_path)


def test_quarantine_and_flag_reasons_are_bilingual():
    for reason in quarantine.QUARANTINE_REASONS + quarantine.FLAG_REASONS:
        english, chinese = reason.split(" / ", 1)
        assert english[0].isascii() and english[0].isalpha()
        assert any("\u4e00" <= c <= "\u9fff" for c in chinese)
