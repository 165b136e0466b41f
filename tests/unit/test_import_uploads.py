"""Keeping an uploaded week (serving.weekly.uploads): as received, with hashes; zips unpacked
safely; a published week never overwritten without being asked."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from serving.weekly import uploads


def _files(**named: bytes):
    return [(name, io.BytesIO(data)) for name, data in named.items()]


def test_files_are_kept_as_received_with_their_hashes(tmp_path):
    upload = uploads.receive(tmp_path, "2025-W46", _files(**{"农户信息.csv": b"a,b\n1,2\n"}), "officer")
    kept = upload.files / "农户信息.csv"
    assert kept.read_bytes() == b"a,b\n1,2\n"
    assert upload.manifest["files"] == [{"name": "农户信息.csv", "bytes": 8, "sha256": hashlib.sha256(b"a,b\n1,2\n").hexdigest()}]
    assert uploads.find(tmp_path, upload.token).manifest == upload.manifest
    assert uploads.find(tmp_path, "../../etc") is None


def test_a_zip_is_kept_and_its_tables_unpacked_without_leaving_the_folder(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("导出/members.csv", "x\n")
        book.writestr("../../evil.csv", "y\n")
        book.writestr("readme.txt", "z")
    upload = uploads.receive(tmp_path, "2025-W46", [("week.zip", io.BytesIO(buffer.getvalue()))], "officer")
    names = sorted(p.name for p in upload.files.iterdir())
    assert names == ["evil.csv", "members.csv", "week.zip"]
    assert not (tmp_path / "evil.csv").exists() and not (tmp_path.parent / "evil.csv").exists()
    assert {f["name"] for f in upload.manifest["files"]} == set(names)


@pytest.mark.parametrize("name, message", [("notes.exe", "not a CSV"), ("..", "not a usable file name")])
def test_other_files_are_refused_and_nothing_is_kept(tmp_path, name, message):
    with pytest.raises(uploads.UploadError, match=message):
        uploads.receive(tmp_path, "2025-W46", _files(**{name: b"x"}), "officer")
    assert not any((tmp_path / "uploads").iterdir())


def test_the_size_limit_of_the_command_line_holds(tmp_path, monkeypatch):
    monkeypatch.setenv("FANPIN_MAX_FILE_MB", "0.001")
    with pytest.raises(uploads.UploadError, match="over the limit of 0.001 MB"):
        uploads.receive(tmp_path, "2025-W46", _files(**{"members.csv": b"x" * 5000}), "officer")


def test_a_week_with_other_files_is_replaced_only_when_asked(tmp_path):
    first = uploads.receive(tmp_path, "2025-W46", _files(**{"members.csv": b"old\n"}), "officer")
    assert uploads.publish_files(first, tmp_path, replace=False) is None
    second = uploads.receive(tmp_path, "2025-W46", _files(**{"members.csv": b"new\n"}), "officer")
    with pytest.raises(uploads.UploadError, match="already there"):
        uploads.publish_files(second, tmp_path, replace=False)
    assert (tmp_path / "exports" / "2025-W46" / "members.csv").read_bytes() == b"old\n"
    moved = uploads.publish_files(second, tmp_path, replace=True)
    assert (moved / "members.csv").read_bytes() == b"old\n"
    assert (tmp_path / "exports" / "2025-W46" / "members.csv").read_bytes() == b"new\n"
    manifest = json.loads((tmp_path / "exports" / "2025-W46.upload.json").read_text())
    assert manifest["files"][0]["sha256"] == hashlib.sha256(b"new\n").hexdigest()
