"""A week's export uploaded through the import page (导入本周数据): kept as received, reviewed,
then published into the county folder or discarded.

An upload lands in ``<county>/uploads/<token>/`` (owner-only): the files exactly as received
(a zip is kept too, and its table files are unpacked beside it), with ``upload.json`` naming each
file's size and SHA-256, the week and who sent it. Publishing moves the files to
``<county>/exports/<week>/``, the folder `fanpin weekly --data <county>` reads, and writes the
manifest beside it (``exports/<week>.upload.json``). A week that already has an export is never
overwritten silently: the caller must say ``replace``, and the earlier files are moved to
``<county>/replaced/<week>-<time>/``, not deleted; the weekly run that follows is the usual
corrected rerun of the week.

The same limits as the command line hold: every file's size (``FANPIN_MAX_FILE_MB``) here, and
the cell limits when the files are read. A zip may hold at most ``MAX_ZIP_FILES`` files and is
refused when it unpacks to more than ``MAX_UNPACKED_RATIO`` times its size (a zip bomb).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from features import input_limits as limits
from features.table_files import SUFFIXES
from features.weeks import WEEK_LABEL, Week
from serving.private_files import private_dir

MAX_ZIP_FILES = 50
TOKEN_BYTES = 12
MANIFEST = "upload.json"


class UploadError(ValueError):
    """An upload that cannot be kept; one line naming the file."""


@dataclass
class Upload:
    token: str
    folder: Path  # <county>/uploads/<token>
    manifest: dict[str, Any]

    @property
    def week(self) -> str:
        return self.manifest["week"]

    @property
    def files(self) -> Path:
        return self.folder / "files"


def county_folder(settings) -> Path:
    """The county folder uploads are published into (``FANPIN_COUNTY_DIR``, else home/county)."""
    return Path(settings.county_dir) if settings.county_dir else Path(settings.home) / "county"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_name(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name.strip()
    if not base or base.startswith(".") or base in ("..", MANIFEST):
        raise UploadError(f"{name!r}: not a usable file name / 文件名无效")
    return base


def _unzip(path: Path, into: Path, limit: limits.Limits) -> list[str]:
    try:
        book = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UploadError(f"{path.name}: not a valid zip file / 不是有效的 zip 文件") from None
    with book:
        members = [i for i in book.infolist() if not i.is_dir()]
        if len(members) > MAX_ZIP_FILES:
            raise UploadError(f"{path.name}: {len(members)} files, over the limit of {MAX_ZIP_FILES} / 文件过多")
        unpacked = sum(i.file_size for i in members)
        if unpacked > max(path.stat().st_size, 1) * limits.MAX_UNPACKED_RATIO and unpacked > 50 * 2**20:
            raise UploadError(f"{path.name}: unpacks to {unpacked / 2**20:.0f} MB, refused as a zip bomb / 疑似压缩炸弹")
        out = []
        for info in members:
            # Zips made on Chinese Windows name files in GBK without saying so (no UTF-8 flag).
            name = info.filename
            if not info.flag_bits & 0x800:
                with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                    name = name.encode("cp437").decode("gbk")
            base = _safe_name(name)
            if Path(base).suffix.lower() not in SUFFIXES or base.startswith("~$"):
                continue
            if info.file_size > limit.file_mb * 2**20:
                raise UploadError(f"{path.name}/{base}: over the limit of {limit.file_mb:g} MB / 文件过大")
            target = into / base
            if target.exists():
                raise UploadError(f"{path.name}/{base}: two files of this name in the upload / 重名文件")
            with book.open(info) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            out.append(base)
        return out


def receive(county: Path, week: Week, files: list[tuple[str, Any]], user: str) -> Upload:
    """Keep the uploaded ``(name, binary stream)`` files as received, for review."""
    if not re.match(WEEK_LABEL, week):
        raise UploadError(f"{week!r}: the week must look like 2025-W45 / 周次格式应为 2025-W45")
    if not files:
        raise UploadError("no files uploaded / 未选择文件")
    limit = limits.limits()
    token = secrets.token_hex(TOKEN_BYTES)
    folder = private_dir(county / "uploads" / token)
    target = private_dir(folder / "files")
    kept = []
    try:
        for name, stream in files:
            base = _safe_name(name)
            suffix = Path(base).suffix.lower()
            if suffix not in (*SUFFIXES, ".zip"):
                raise UploadError(f"{base}: not a CSV, XLSX, XLS, Parquet or zip file / 文件类型不支持")
            path = target / base
            if path.exists():
                raise UploadError(f"{base}: two files of this name in the upload / 重名文件")
            with path.open("wb") as sink:
                shutil.copyfileobj(stream, sink)
            if path.stat().st_size > limit.file_mb * 2**20:
                raise UploadError(f"{base}: file is over the limit of {limit.file_mb:g} MB (FANPIN_MAX_FILE_MB) / 文件过大")
            kept.append(base)
            if suffix == ".zip":
                kept += _unzip(path, target, limit)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    manifest = {
        "week": week, "by": user, "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": [{"name": n, "bytes": (target / n).stat().st_size, "sha256": _sha256(target / n)} for n in kept],
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return Upload(token, folder, manifest)


def find(county: Path, token: str) -> Upload | None:
    """An upload by its token (None when unknown or malformed)."""
    if len(token) != TOKEN_BYTES * 2 or not all(c in "0123456789abcdef" for c in token):
        return None
    folder = county / "uploads" / token
    if not (folder / MANIFEST).is_file():
        return None
    return Upload(token, folder, json.loads((folder / MANIFEST).read_text(encoding="utf-8")))


def existing(county: Path, week: Week) -> Path | None:
    """The week's export already in the county folder, if any."""
    folder = county / "exports" / week
    return folder if folder.is_dir() and any(folder.iterdir()) else None


def same_files(upload: Upload, folder: Path) -> bool:
    """Whether the week's export holds exactly the uploaded files (names and contents)."""
    theirs = sorted((p.name, _sha256(p)) for p in folder.iterdir() if p.is_file())
    return theirs == sorted((f["name"], f["sha256"]) for f in upload.manifest["files"])


def publish_files(upload: Upload, county: Path, *, replace: bool) -> Path | None:
    """Move the upload into ``exports/<week>/``; returns where an earlier export was moved to.

    Raises UploadError when the week has an export with other files and ``replace`` is False.
    """
    week = upload.week
    target = county / "exports" / week
    moved = None
    if existing(county, week) is not None:
        if same_files(upload, target):
            shutil.rmtree(upload.files)
            return None
        if not replace:
            raise UploadError(f"{week}: an export for this week is already there; confirm to replace it / 本周已有数据，需确认替换")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        moved = private_dir(county / "replaced") / f"{week}-{stamp}"
        shutil.move(str(target), str(moved))
        manifest = county / "exports" / f"{week}.upload.json"
        if manifest.exists():
            shutil.move(str(manifest), str(moved.with_suffix(".upload.json")))
    private_dir(county / "exports")
    shutil.move(str(upload.files), str(target))
    (county / "exports" / f"{week}.upload.json").write_text(json.dumps(upload.manifest, ensure_ascii=False, indent=1),
                                                            encoding="utf-8")
    return moved


def discard(upload: Upload) -> None:
    shutil.rmtree(upload.folder, ignore_errors=True)
