"""Files with personal data readable by their owner only (the store's SQLite file, the history).

The history holds raw ID numbers and the store names and phones; under a default umask of 022
both were world-readable. The data home is made 0700 (so nothing below it is reachable by other
users whatever the umask), the SQLite file 0600 (its -wal and -shm files inherit that mode), and
history files are written 0600 as well in case the home is moved or shared.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create the folder if needed and make it owner-only (when we own it)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    _chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create the file empty if needed (never readable by others, not even for a moment) and make
    it owner-only."""
    path = Path(path)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    _chmod(path, FILE_MODE)
    return path


def private_tree(root: Path) -> None:
    """Make a written folder and every file in it owner-only."""
    _chmod(Path(root), DIR_MODE)
    for path in Path(root).rglob("*"):
        _chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.stat().st_uid == os.getuid():
            path.chmod(mode)
    except OSError:  # another user's file, or a file system without modes: leave it
        pass
