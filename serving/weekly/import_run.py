"""Reviewing an uploaded week and publishing it in the background (the import page's work).

The review reads the upload exactly as `fanpin validate` and `fanpin weekly` would (the county's
mapping profile included) against the history, and keeps what the page shows in
``review.json``: how each column was read, the counts per table, the non-data rows, the
quarantined rows with reasons, and the completeness check against the last published week.

Publishing runs the real `fanpin weekly --data <county> --week <week>` as a child process: the
server's threads stay free, the run takes the store's lease like any other (one run per week at a
time), and a week published before is replaced by the usual corrected rerun. Its log and result
are kept in the upload's folder, which the page reads for progress.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from serving.weekly.uploads import Upload

SHOWN_ROWS = 200  # quarantined and non-data rows listed on the page (all are in the counts)
_RUNS: dict[str, subprocess.Popen] = {}
_LOCK = threading.Lock()


def review(upload: Upload, settings) -> dict[str, Any]:
    """Read the upload against the history; what the review page shows (also kept on disk)."""
    from features.mapping_profile import ProfileError, load_profile
    from features.reading import ContractError, read_folder
    from features.weeks import Week
    from serving.store.database import get_engine, upgrade
    from serving.store.publishing import previous_published
    from serving.weekly import completeness
    from serving.weekly.history import load_history

    out: dict[str, Any] = {"week": upload.week, "files": upload.manifest["files"]}
    try:
        history = load_history(Path(settings.home))
        read = read_folder(upload.files, history=history.tables if history else None,
                           profile=load_profile(settings.profile_path))
    except (ContractError, ProfileError) as error:
        out["error"] = str(error)
        return _keep(upload, out)
    non_data = read.non_data_counts()
    out["tables"] = {t: {**c, "rows_non_data": non_data.get(t, 0), "file": read.files.get(t)}
                     for t, c in read.counts.items()}
    out["columns"] = read.columns
    out["notes"] = read.notes
    out["non_data"] = read.non_data.head(SHOWN_ROWS).to_dict(orient="records")
    out["quarantine"] = read.quarantine.head(SHOWN_ROWS).to_dict(orient="records")
    out["rows_quarantined"] = int(len(read.quarantine))
    engine = get_engine(settings)
    upgrade(engine)
    week = Week.parse(upload.week)
    previous_week, previous = completeness.previous_counts(engine, previous_published(engine, week))
    bounds = completeness.Bounds(settings.completeness_min_ratio, settings.completeness_max_ratio)
    out["completeness"] = {"previous_week": previous_week, "previous": previous,
                           "now": completeness.export_counts(read),
                           "problems": completeness.problems(read, previous, bounds, previous_week)}
    return _keep(upload, out)


def _keep(upload: Upload, out: dict[str, Any]) -> dict[str, Any]:
    (upload.folder / "review.json").write_text(json.dumps(out, ensure_ascii=False, default=str), encoding="utf-8")
    return json.loads((upload.folder / "review.json").read_text(encoding="utf-8"))


def kept_review(upload: Upload) -> dict[str, Any] | None:
    path = upload.folder / "review.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _fanpin() -> str:
    return str(Path(sys.executable).with_name("fanpin"))


def start(upload: Upload, county: Path, settings, accept_incomplete: str | None = None) -> bool:
    """Start the weekly run for the upload's week; False when one is already running for it."""
    with _LOCK:
        running = _RUNS.get(upload.token)
        if running is not None and running.poll() is None:
            return False
        env = {**os.environ, "FANPIN_HOME": str(settings.home)}
        if settings.database_url:
            env["FANPIN_DATABASE_URL"] = settings.database_url
        if settings.profile_path:
            env["FANPIN_PROFILE_PATH"] = str(settings.profile_path)
        args = [_fanpin(), "weekly", "--data", str(county), "--week", upload.week, "--json"]
        if accept_incomplete:
            args += ["--accept-incomplete", accept_incomplete]
        for name in ("weekly.out", "weekly.rc"):
            (upload.folder / name).unlink(missing_ok=True)
        with (upload.folder / "weekly.out").open("wb") as out, (upload.folder / "weekly.log").open("wb") as log:
            process = subprocess.Popen(args, env=env, stdout=out, stderr=log, stdin=subprocess.DEVNULL)
        _RUNS[upload.token] = process
    threading.Thread(target=_wait, args=(upload.folder, process), daemon=True).start()
    return True


def _wait(folder: Path, process: subprocess.Popen) -> None:
    code = process.wait()
    (folder / "weekly.rc").write_text(str(code))


def status(upload: Upload) -> dict[str, Any] | None:
    """None before publishing; else state (running, done, failed), the last progress line and
    the run's result."""
    log = upload.folder / "weekly.log"
    if not log.exists():
        return None
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    progress = [line for line in lines if f"weekly {upload.week}" in line]
    rc = upload.folder / "weekly.rc"
    if not rc.exists():
        return {"state": "running", "stage": progress[-1].split("INFO", 1)[-1].strip() if progress else ""}
    if rc.read_text().strip() != "0":
        error = next((line for line in reversed(lines) if line.startswith("error:")), lines[-1] if lines else "")
        return {"state": "failed", "error": error}
    out = (upload.folder / "weekly.out").read_text(encoding="utf-8").strip().splitlines()
    return {"state": "done", "result": json.loads(out[-1]) if out else {}}
