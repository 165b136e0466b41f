"""`fanpin validate` on hand-made folders, run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from serving.cli import app
from tests.data.handmade_exports import valid_tables, write_folder

FANPIN = str(Path(sys.executable).parent / "fanpin")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The installed console script in a real process (what a county office runs)."""
    return subprocess.run([FANPIN, *args], capture_output=True, text=True, timeout=120, env=env)


def _invoke(*args: str):
    """The same app in-process (faster) for the other cases."""
    return CliRunner().invoke(app, list(args))


def test_validate_reports_counts_and_writes_quarantine_with_bom(tmp_path):
    t = valid_tables()
    t["members"][0]["sex"] = "未知"
    t["members"][1]["name"] = ""  # sensitive and missing
    data, home = tmp_path / "export", tmp_path / "home"
    write_folder(data, t)
    # The export folder is read-only, as a county share often is: the reports go to the data home.
    # (Root ignores the mode, so the listing is compared as well.)
    for path in data.iterdir():
        path.chmod(0o444)
    data.chmod(0o555)
    before = sorted(p.name for p in data.iterdir())

    run = _run("validate", "--data", str(data), "--json", env={**os.environ, "FANPIN_HOME": str(home)})

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert (result["rows_in"], result["rows_valid"], result["rows_quarantined"]) == (27, 25, 2)
    assert result["tables"]["members"]["rows_quarantined"] == 2
    assert result["rows_in"] == sum(t["rows_in"] for t in result["tables"].values())
    path = Path(result["quarantine_path"])
    assert path.parent == home / "quarantine"
    assert re.fullmatch(r"export-\d{8}T\d{6}-quarantine\.csv", path.name)  # named by folder and time
    assert Path(result["flags_path"]) == path.with_name(path.name.replace("-quarantine", "-flags"))
    assert sorted(p.name for p in data.iterdir()) == before  # nothing added to the export folder
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
    out = tmp_path.parent / f"{tmp_path.name}-reports" / "q.csv"

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


def test_validate_out_folder_gets_the_reports_and_the_input_folder_never(tmp_path):
    write_folder(tmp_path / "2024-W10", valid_tables())

    run = _invoke("validate", "--data", str(tmp_path / "2024-W10"), "--out", str(tmp_path / "reports"), "--json")

    assert run.exit_code == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(result["quarantine_path"]).parent == tmp_path / "reports"
    assert Path(result["quarantine_path"]).name.startswith("2024-W10-")
    assert Path(result["flags_path"]).is_file()

    refused = _invoke("validate", "--data", str(tmp_path), "--out", str(tmp_path / "2024-W10" / "q"), "--json")
    assert refused.exit_code == 2
    assert "may not go into the folder being read" in refused.stderr
    assert not (tmp_path / "2024-W10" / "q").exists()
