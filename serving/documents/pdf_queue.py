"""Visit-sheet PDFs off the request path: rendered once per published run, township and masking,
in a separate process, one render at a time per person.

Six concurrent visit-sheet downloads took 16-51 s each and stalled the API (44 s for
``/api/v1/weeks``): WeasyPrint ran in the request threads and held the GIL. Now:

- a rendered PDF is kept under ``FANPIN_HOME/visit_sheets/<week>/<run>/`` (owner-only) and served
  from there; a new run of the week has a new run id, so a re-published week is rendered afresh
  (and the week's older PDFs are deleted then);
- rendering happens in a worker *process* (``RENDER_PROCESSES``), so the API's threads and GIL
  stay free; requests for a PDF already being rendered wait for that one render;
- a person may have ``PER_USER`` renders in flight; another request gets ``Busy`` (HTTP 429)
  instead of queueing more work behind everyone else.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from features.weeks import Week
from serving.private_files import private_dir

RENDER_PROCESSES = 1
PER_USER = 1


class Busy(RuntimeError):
    """The person already has a visit-sheet PDF being rendered."""


def _render(sheets: list[dict[str, Any]], week: Week, township: str) -> bytes:
    from serving.documents.visit_sheets import render_pdf

    return render_pdf(sheets, week=week, township=township)


class PdfQueue:
    """Rendered visit-sheet PDFs by (run, township, masking), with deduplication and a per-person limit."""

    def __init__(self, home: Path, processes: int = RENDER_PROCESSES, per_user: int = PER_USER) -> None:
        self.folder = Path(home) / "visit_sheets"
        self.processes = processes
        self.per_user = per_user
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._rendering: dict[Path, Future] = {}
        self._by_user: dict[str, int] = {}

    def path(self, week: Week, run_id: int, township: str, masking: str) -> Path:
        name = hashlib.sha256(f"{township}\0{masking}".encode()).hexdigest()[:24]
        return self.folder / week / str(run_id) / f"{name}.pdf"

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            # spawn: the worker must not inherit the server's threads, sockets and locks
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    async def pdf(self, *, run_id: int, week: Week, township: str, masking: str, user: str,
                  sheets: Callable[[], list[dict[str, Any]]]) -> bytes:
        """The PDF: from the cache, from a render already going, or rendered now (``sheets`` is
        called in a thread to read the masked sheet data only when a render is needed).

        Raises:
            Busy: the person has ``per_user`` renders going already.
            LookupError: ``sheets`` found nobody to render.
        """
        path = self.path(week, run_id, township, masking)
        if path.exists():
            return await asyncio.to_thread(path.read_bytes)
        with self._lock:
            future = self._rendering.get(path)
            if future is None and self._by_user.get(user, 0) >= self.per_user:
                raise Busy("a visit-sheet PDF of yours is still being prepared; try again in a minute "
                           "/ 您的上一份走访表仍在生成中，请稍后再试")
            if future is None:
                self._by_user[user] = self._by_user.get(user, 0) + 1
                owner = True
            else:
                owner = False
        if not owner:
            return await asyncio.wrap_future(future)
        try:
            data = await asyncio.to_thread(sheets)
            if not data:
                raise LookupError(township)
            with self._lock:
                future = self._executor().submit(_render, data, week, township)
                self._rendering[path] = future
            content = await asyncio.wrap_future(future)
            await asyncio.to_thread(_write, path, content)
            return content
        finally:
            with self._lock:
                self._rendering.pop(path, None)
                self._by_user[user] -= 1
                if not self._by_user[user]:
                    del self._by_user[user]

    async def render(self, render: Callable[..., bytes], *args: Any, user: str, **kwargs: Any) -> bytes:
        """Any PDF rendered in the worker process with the per-person limit, not kept (for documents
        that change with every recorded step, such as the village notice). ``render`` must be a
        module-level function (it is sent to the worker by name).

        Raises:
            Busy: the person has ``per_user`` renders going already.
        """
        with self._lock:
            if self._by_user.get(user, 0) >= self.per_user:
                raise Busy("a PDF of yours is still being prepared; try again in a minute / 您的上一份文件仍在生成中，请稍后再试")
            self._by_user[user] = self._by_user.get(user, 0) + 1
        try:
            with self._lock:
                future = self._executor().submit(render, *args, **kwargs)
            return await asyncio.wrap_future(future)
        finally:
            with self._lock:
                self._by_user[user] -= 1
                if not self._by_user[user]:
                    del self._by_user[user]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _write(path: Path, content: bytes) -> None:
    """Write atomically and owner-only (the sheets carry names and phones); the week's PDFs of
    earlier runs (superseded by this one) are deleted, so no stale personal data stays behind."""
    private_dir(path.parent.parent.parent)
    private_dir(path.parent.parent)
    private_dir(path.parent)
    for old in path.parent.parent.iterdir():
        if old.is_dir() and old.name != path.parent.name and int(old.name) < int(path.parent.name):
            shutil.rmtree(old, ignore_errors=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    os.replace(tmp, path)
