"""Hostile and careless input files: limits before loading, over-long fields, orphans, masking by
content, week labels. Hand-made exports (no simulator): each attack is built here and read by the
real reader."""

from __future__ import annotations

import zipfile

import pytest

from features.reading import ContractError, read_folder
from tests.data.handmade_exports import valid_tables, write, write_folder


def _xlsx_with_cell_at(path, ref: str, dimension: str | None = None) -> None:
    """A real XLSX (openpyxl) whose first sheet also holds one cell at ``ref``; the declared
    dimension is rewritten (or removed) so the check cannot trust it."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["户编号"])
    book.active[ref] = "x"
    book.save(path)
    if dimension is not None:
        with zipfile.ZipFile(path) as src:
            items = {i.filename: src.read(i.filename) for i in src.infolist()}
        sheet = items["xl/worksheets/sheet1.xml"]
        import re

        items["xl/worksheets/sheet1.xml"] = re.sub(rb"<dimension [^>]*/>", dimension.encode(), sheet)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for name, data in items.items():
                out.writestr(name, data)


@pytest.mark.parametrize("dimension", [None, "", '<dimension ref="A1"/>'])
def test_xlsx_with_a_cell_at_the_last_address_is_refused_before_loading(tmp_path, dimension):
    folder = write_folder(tmp_path / "w", {k: v for k, v in valid_tables().items() if k != "households"})
    _xlsx_with_cell_at(folder / "households.xlsx", "XFD1048576", dimension)
    assert (folder / "households.xlsx").stat().st_size < 100_000
    with pytest.raises(ContractError) as error:
        read_folder(folder)
    message = str(error.value)
    assert "households.xlsx" in message and "16384 columns" in message and "\n" not in message


def test_xlsx_too_many_cells_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FANPIN_MAX_CELLS", "1000")
    folder = write_folder(tmp_path / "w", {k: v for k, v in valid_tables().items() if k != "households"})
    _xlsx_with_cell_at(folder / "households.xlsx", "T900")
    with pytest.raises(ContractError, match=r"households.xlsx.*900 rows x 20 columns = 18000 cells"):
        read_folder(folder)


def test_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FANPIN_MAX_FILE_MB", "0.001")
    folder = write_folder(tmp_path / "w", valid_tables(40))
    with pytest.raises(ContractError, match=r"(households|members).csv: file is [0-9.]+ MB, over the limit of 0.001 MB"):
        read_folder(folder)


def test_over_long_field_is_quarantined_with_a_reason_and_counts_reconcile(tmp_path):
    tables = valid_tables(6)
    tables["households"][2]["village"] = "村" * 5_000_000
    result = read_folder(write_folder(tmp_path / "w", tables))
    q = result.quarantine
    line = q.loc[q["column"] == "village"]
    assert len(line) == 1 and "200" in line["reason"].iloc[0] and len(line["value"].iloc[0]) <= 41
    assert "H0003" not in set(result.tables["households"]["household_id"])
    counts = result.counts["households"]
    assert counts["rows_in"] == counts["rows_valid"] + counts["rows_quarantined"] == 6


def test_households_without_members_are_quarantined(tmp_path, monkeypatch):
    tables = valid_tables(6)
    junk = [dict(tables["households"][0], household_id=f"J{i:05d}") for i in range(500)]
    tables["households"] += junk
    # 500 junk rows of 506 are past the quarantine volume limit (issue 30): the file is refused...
    with pytest.raises(ContractError, match=r"households.csv: 500 of 506 rows would be quarantined"):
        read_folder(write_folder(tmp_path / "w", tables))
    # ...unless an operator raises the limit; then each orphan is a quarantine line.
    monkeypatch.setenv("FANPIN_MAX_QUARANTINE_SHARE", "1")
    result = read_folder(write_folder(tmp_path / "w", tables))
    q = result.quarantine
    orphans = q.loc[q["reason"].str.contains("no members")]
    assert len(orphans) == 500
    assert set(result.tables["households"]["household_id"]) == {f"H{i:04d}" for i in range(1, 7)}
    assert result.counts["households"]["rows_quarantined"] == 500
    # A household whose members are only in the history is not an orphan.
    past = read_folder(write_folder(tmp_path / "past", valid_tables(6)))
    only_households = {k: v for k, v in valid_tables(6).items() if k != "members"}
    only_households["members"] = [valid_tables(6)["members"][0]]
    again = read_folder(write_folder(tmp_path / "w2", only_households), history=past.tables)
    assert not again.quarantine["reason"].str.contains("no members").any()


def test_id_number_typed_in_a_numeric_column_is_never_quarantined_whole(tmp_path):
    tables = valid_tables(6)
    tables["households"][1]["land_mu"] = "43312619700101777X"
    tables["income_surveys"][0]["wage_income"] = "４３３１２６１９７００１０１８８８８"  # full-width digits
    result = read_folder(write_folder(tmp_path / "w", tables))
    shown = " ".join(result.quarantine["value"])
    assert "43312619700101777X" not in shown and "433126********777X" in shown
    assert "433126********8888" in shown


def test_masking_by_content_for_each_role():
    from serving.access.auth import Principal, mask_text

    officer = Principal(1, "o", "county_officer", None)
    researcher = Principal(2, "r", "researcher", None)
    text = "收入写成了 43312619700101777X，电话 13800001234"
    assert mask_text(text, officer) == "收入写成了 433126********777X，电话 13800001234"
    masked = mask_text(text, researcher)
    assert "777X" not in masked and "1234" not in masked and masked.startswith("收入写成了 ***")
    assert mask_text("3500.5", researcher) == "3500.5"
    assert mask_text("433126********777X", researcher) == "*" * 18  # already cut, still an identifier


@pytest.mark.parametrize("spelling", ["２０２５-W48", " 2025-W48 ", "2025w48", "2025-ｗ４８", "2025 - W48", "2025W48"])
def test_week_spellings_are_one_week(spelling):
    from features.weeks import normalise_week, week_cutoff
    from serving.jobs.week_run import as_week

    assert normalise_week(spelling) == as_week(spelling) == "2025-W48"
    assert as_week(spelling).cutoff == week_cutoff("2025-W48")


@pytest.mark.parametrize("bad", ["２０２５-W54", "2025-W48x", "W48", "2025-W"])
def test_bad_week_spellings_are_refused(bad):
    from serving.jobs.week_run import WeeklyError, as_week

    with pytest.raises(WeeklyError, match="YYYY-Www"):
        as_week(bad)


def test_reading_a_valid_xlsx_still_works(tmp_path):
    folder = write_folder(tmp_path / "w", {k: v for k, v in valid_tables().items() if k != "households"})
    write(folder, "households", valid_tables()["households"], fmt="xlsx")
    result = read_folder(folder)
    assert result.counts["households"]["rows_valid"] == 6


def test_a_full_disk_ends_a_command_with_one_line(small_county, tmp_path):
    """A real OS write error (the file-size limit stands in for a full disk: same code path)."""
    import resource
    import signal
    import subprocess
    import sys
    from pathlib import Path

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    env = {"FANPIN_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # (no .pyc cut short by the limit)
    done = subprocess.run([str(Path(sys.executable).parent / "fanpin"), "history", "import", "--data",
                           str(small_county)], env=env, capture_output=True, text=True, preexec_fn=limit, timeout=300)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "errno 27" in lines[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "home" / "history" / "CURRENT").exists()  # nothing half-written went live


def test_os_error_lines_name_the_cause_and_the_file():
    import errno

    from serving.output import os_error_line

    line = os_error_line(OSError(errno.ENOSPC, "No space left on device", "/data/fanpin.db"))
    assert "disk is full" in line and "/data/fanpin.db" in line and "磁盘已满" in line and "\n" not in line


def _with_junk_rows(tmp_path, n_households: int, junk: int):
    from tests.data.handmade_exports import household

    tables = valid_tables(n_households)
    # Junk a careless export drags along: rows with an ID in the name cell and nothing valid.
    tables["households"] += [household(10_000 + i, township="", category="???", head_name=f"x{431128196306195294 + i}")
                             for i in range(junk)]
    return write_folder(tmp_path / f"w{junk}", tables)


def test_a_file_of_mostly_junk_rows_is_refused_whole_in_one_line(tmp_path, monkeypatch):
    """Issue 30, item 10: past 10,000 bad rows or 5% of the file (from 500 rows on) the file is
    refused as a whole, with a sample of its lines (masked) kept on the error, not stored row by row."""
    from features.reading import TooManyBadRows

    monkeypatch.setenv("FANPIN_MAX_QUARANTINE_ROWS", "1000")  # the 10,000 default, scaled for a test
    with pytest.raises(TooManyBadRows) as error:
        read_folder(_with_junk_rows(tmp_path, 30, 1200))
    message = str(error.value)
    assert "\n" not in message and message.startswith("households.csv: 1,200 of 1,230 rows would be quarantined")
    assert "refused as a whole" in message and "431128196306195294" not in message
    assert 0 < len(error.value.sample) <= 20 and not error.value.sample["value"].str.contains("1963061952").any()
    monkeypatch.delenv("FANPIN_MAX_QUARANTINE_ROWS")
    from features import input_limits

    monkeypatch.setattr(input_limits, "MIN_QUARANTINE_FOR_SHARE", 20)  # the share's 500-row floor, scaled
    with pytest.raises(TooManyBadRows, match=r"households.csv: 30 of 130 rows .* \(23%\), over the limit of .* 5%"):
        read_folder(_with_junk_rows(tmp_path, 100, 30))
    monkeypatch.undo()
    read = read_folder(_with_junk_rows(tmp_path, 30, 40))  # a few bad rows: quarantined row by row
    assert read.counts["households"]["rows_quarantined"] == 40
