"""A local cache of registered model versions, derived from their ONE MLflow model artifact.

``mlflow.sklearn.load_model`` copies the artifact out of the store and rebuilds the pipeline with
skops, object by object, on every command that scores; with the metrics and reference-sample
downloads it was most of `fanpin weekly`'s start-up after imports. The registry's MLflow model
stays the one source of truth (DESIGN.md): this cache is made from it the first time a version is
loaded and is only ever a copy of it.

An entry (``<home>/model-cache/<name>/<version>-<key>/``, folder 0700, files 0600) holds the loaded
pipeline pickled (``RiskPipeline``: LightGBM pickles its booster as its own model text, beside the
calibrator and the feature builder), the run's evaluation metrics and the reference sample, and
``entry.json``: the registry facts it was made from (name, version, run id, the version's source,
its creation time) and two SHA-256 digests, of the MLflow artifact's files and of the pickle.

Every load asks the registry which version holds the alias (the champion may have changed), and
uses an entry only when the version's facts are those the entry was made from, the artifact (when
it is a local folder, as with the default store) still hashes to the digest the entry recorded,
and the pickle hashes to its digest and belongs to this user with no group or other access.
Anything else, and the entry is made again from the registry.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd

ENTRY = "entry.json"
MODEL = "model.pkl"
METRICS = "metrics.json"
REFERENCE = "reference.parquet"
FORMAT = 1  # bump when an entry's layout changes: older entries are then made again


def version_facts(name: str, info) -> dict[str, Any]:
    """What identifies a registered version's artifact in the registry (never reused by MLflow)."""
    return {"format": FORMAT, "name": name, "version": str(info.version), "run_id": str(info.run_id),
            "source": str(info.source), "created": int(info.creation_timestamp or 0)}


def entry_folder(root: Path, facts: dict[str, Any]) -> Path:
    key = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in facts["name"])
    return Path(root) / safe / f"{facts['version']}-{key}"


def local_folder(uri: str) -> Path | None:
    """The artifact's folder when it is on this machine (a path or ``file:`` URI), else None."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file") and uri:
        path = Path(unquote(parsed.path) if parsed.scheme == "file" else uri)
        return path if path.is_dir() else None
    return None


def folder_digest(folder: Path) -> str:
    """SHA-256 over a folder's files (relative names and bytes, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _private(path: Path) -> bool:
    """Ours, and nobody else may write or read it (a pickle from elsewhere is never loaded)."""
    info = path.lstat()
    return (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)) and info.st_uid == os.getuid() \
        and not info.st_mode & 0o077


def read(root: Path, facts: dict[str, Any], artifact_uri: str | None, load_reference: bool) -> dict[str, Any] | None:
    """The cached (model, metrics, reference) of the version ``facts`` name, or None when there is
    no entry or it does not hold up (see the module docstring)."""
    folder = entry_folder(root, facts)
    try:
        entry = json.loads((folder / ENTRY).read_text(encoding="utf-8"))
        if entry.get("facts") != facts or not all(_private(p) for p in (folder, folder / MODEL, folder / ENTRY)):
            return None
        local = local_folder(artifact_uri) if artifact_uri else None
        if local is not None and folder_digest(local) != entry["artifact_sha256"]:
            return None
        blob = (folder / MODEL).read_bytes()
        if hashlib.sha256(blob).hexdigest() != entry["model_sha256"]:
            return None
        reference = None
        if load_reference and entry.get("reference_sha256"):
            path = folder / REFERENCE
            if not _private(path) or _file_digest(path) != entry["reference_sha256"]:
                return None
            reference = pd.read_parquet(path)
        metrics = json.loads((folder / METRICS).read_text(encoding="utf-8"))
        model = pickle.loads(blob)  # noqa: S301 - our own private file, digest checked above
    except (OSError, ValueError, KeyError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    return {"model": model, "metrics": metrics, "reference": reference, "artifact_sha256": entry["artifact_sha256"]}


def write(root: Path, facts: dict[str, Any], artifact_sha256: str, model, metrics: dict[str, Any],
          reference: pd.DataFrame | None) -> Path:
    """Make the entry for ``facts`` (private modes; written aside and renamed into place)."""
    folder = entry_folder(root, facts)
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for parent in (Path(root), folder.parent):
        os.chmod(parent, 0o700)
    tmp = Path(tempfile.mkdtemp(prefix=".making-", dir=folder.parent))  # 0700
    try:
        blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        files = {MODEL: blob, METRICS: json.dumps(metrics, ensure_ascii=False, default=str).encode()}
        reference_sha = None
        if reference is not None:
            buffer = io.BytesIO()  # written below with the others, private from the start
            reference.to_parquet(buffer, index=False)
            files[REFERENCE] = buffer.getvalue()
            reference_sha = hashlib.sha256(files[REFERENCE]).hexdigest()
        files[ENTRY] = json.dumps({"facts": facts, "artifact_sha256": artifact_sha256,
                                   "model_sha256": hashlib.sha256(blob).hexdigest(),
                                   "reference_sha256": reference_sha}, indent=1).encode()
        for name, data in files.items():
            fd = os.open(tmp / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        _put_in_place(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _drop_others(folder)
    return folder


def _put_in_place(made: Path, folder: Path) -> None:
    """Rename ``made`` to ``folder``. Several processes may make the same entry at once (a server's
    workers start together): a stale entry is moved aside first, and when another process's entry
    lands in between, ours is dropped (theirs is the same copy of the same version)."""
    aside = folder.with_name(f".old-{os.getpid()}-{folder.name}")
    with contextlib.suppress(FileNotFoundError):
        os.replace(folder, aside)
    try:
        os.replace(made, folder)
    except OSError:  # another process put its entry there first
        shutil.rmtree(made, ignore_errors=True)
    shutil.rmtree(aside, ignore_errors=True)


def _drop_others(keep: Path) -> None:
    """Entries of other versions of the same model go: one champion (and a challenger) at a time is
    what the commands load, and each entry is a few MB."""
    siblings = sorted((p for p in keep.parent.iterdir() if p.is_dir() and p != keep and not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime)
    for old in siblings[:-1]:  # keep the newest other one (the challenger, or the previous champion)
        shutil.rmtree(old, ignore_errors=True)
