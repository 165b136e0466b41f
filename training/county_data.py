"""Reading a county folder for training (the I/O edge of the training package).

``DIR/history/*.parquet`` holds the full registry history; ``DIR/truth/oracle.parquet`` exists
only for simulated counties. The data fingerprint hashes the input files' bytes, so a run can be
traced to exactly the data it saw.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from features import reading


def history_folder(data_dir: str | Path) -> Path:
    """``DIR/history`` when present (a county folder), else ``DIR`` itself (a bare export)."""
    data_dir = Path(data_dir)
    return data_dir / "history" if (data_dir / "history").is_dir() else data_dir


def read_history(data_dir: str | Path) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The contract tables of the county history (validated by the shared reader).

    Returns:
        (tables, notes): quarantined rows are left out by the reader; the notes say how many.
    """
    result = reading.read_folder(history_folder(data_dir))
    notes = list(result.notes)
    quarantined = len(result.quarantine)
    if quarantined:
        notes.append(f"{quarantined} rows quarantined by the reader / 隔离 {quarantined} 行")
    return dict(result.tables), notes


def read_oracle(data_dir: str | Path) -> pd.DataFrame | None:
    """The simulator's true-risk sample (household_id, cutoff, true_risk), or None."""
    path = Path(data_dir) / "truth" / "oracle.parquet"
    if not path.is_file():
        return None
    oracle = pd.read_parquet(path)
    oracle["cutoff"] = pd.to_datetime(oracle["cutoff"])
    oracle["household_id"] = oracle["household_id"].astype(str)
    return oracle


def read_hardship(data_dir: str | Path) -> pd.DataFrame | None:
    """The simulator's true state (household_id, week_end per week in hardship), or None: an
    evaluation target only, never read by the features."""
    path = Path(data_dir) / "truth" / "hardship.parquet"
    if not path.is_file():
        return None
    truth = pd.read_parquet(path)
    truth["household_id"] = truth["household_id"].astype(str)
    return truth


def fingerprint(data_dir: str | Path) -> str:
    """SHA-256 over the relative paths and bytes of the history and truth files (sorted)."""
    root = Path(data_dir)
    digest = hashlib.sha256()
    folders = [history_folder(root), root / "truth"]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()
