"""`fanpin validate` on hand-made folders, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from serving.cli import app
from tests.data.handmade_exports import valid_tables, write_folder

FANPIN = str(Path(sys.executable).parent / "fanpin")


def _run(*args: str) -> subprocess.CompletedProcess:
    """The installed console script in a real process (what a county office runs)."""
    return subprocess.run([FANPIN, *args], capture_output=True, text=True, timeout=120)


def _invoke(*args: str):
    """The same app in-process (faster) for the other cases."""
    return CliRunner().invoke(app, list(args))


def test_validate_reports_counts_and_writes_quarantine_with_bom(tmp_path):
    t = valid_tables()
    t["members"][0]["sex"] = "未知"
    t["members"][1]["name"] = ""  # sensitive and missing
    write_folder(tmp_path, t)

    run = _run("validate", "--data", str(tmp_path), "--json")

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert (result["rows_in"], result["rows_valid"], result["rows_quarantined"]) == (27, 25, 2)
    assert result["tables"]["members"]["rows_quarantined"] == 2
    assert result["rows_in"] == sum(t["rows_in"] for t in result["tables"].values())
    path = Path(result["quarantine_path"])
    assert path == tmp_path / "quarantine.csv"
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    q = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    assert list(q.columns) == ["file", "row", "column", "value", "reason"]
    assert q[["file", "row", "column"]].values.tolist() == [
        ["members.csv", 2, "sex"], ["members.csv", 3, "name"]
    ]
    assert "members" in run.stderr  # the Rich table of counts


def test_validate_county_folder_reads_history_and_every_week(tmp_path):
    write_folder(tmp_path / "history", valid_tables())
    week = valid_tables(3)
    week["members"][0]["birth_date"] = "not a date"
    write_folder(tmp_path / "exports" / "2024-W09", valid_tables(2))
    write_folder(tmp_path / "exports" / "2024-W10", week)
    out = tmp_path / "reports" / "q.csv"

    run = _invoke("validate", "--data", str(tmp_path), "--json", "--quarantine-out", str(out))

    assert run.exit_code == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["rows_quarantined"] == 1
    assert set(result["folders"]) == {"history", "exports/2024-W09", "exports/2024-W10"}
    q = pd.read_csv(out, encoding="utf-8-sig")
    assert q[["file", "row", "column"]].values.tolist() == [
        ["exports/2024-W10/members.csv", 2, "birth_date"]
    ]


def test_validate_missing_column_exits_2_with_one_line_and_writes_nothing(tmp_path):
    t = valid_tables()
    for row in t["households"]:
        del row["township"]
    write_folder(tmp_path, t)

    run = _invoke("validate", "--data", str(tmp_path), "--json")

    assert run.exit_code == 2
    assert run.stdout == ""
    error_lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert error_lines == ["error: households.csv: missing required column 'township' (乡镇)"]
    assert not (tmp_path / "quarantine.csv").exists()
