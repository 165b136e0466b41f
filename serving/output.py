"""How every command reports: human text to stderr, and with --json one JSON object as the last
line of stdout, so scripts can parse it whatever else was printed."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from features.json_safe import plain

stderr = Console(stderr=True)


def emit(result: dict[str, Any], as_json: bool, summary: str | None = None) -> None:
    """Print the result: the JSON object on stdout with --json, else a short human summary."""
    if as_json:
        print(json.dumps(plain(result, dates="text"), ensure_ascii=False))
    else:
        stderr.print(summary if summary is not None else json.dumps(plain(result, dates="text"), ensure_ascii=False, indent=2))


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr and a non-zero exit."""
    import typer

    stderr.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def week_or_fail(text: str):
    """The ``--week`` a person typed, parsed once here at the command's edge
    (``features.weeks.Week``); one clear line and exit 2 when it is not a week."""
    from features.weeks import Week

    try:
        return Week.parse(text)
    except ValueError as error:
        fail(str(error))


# errno -> (Chinese, English) advice for the OS errors an operator can fix.
_OS_ADVICE = {
    28: ("磁盘已满", "the disk is full: free space and run the command again"),
    27: ("文件超出大小限制", "a file grew past the file system's or the process's size limit (ulimit -f)"),
    122: ("磁盘配额已满", "the disk quota is exhausted: free space and run the command again"),
    13: ("没有权限", "permission denied: check the owner and mode of the file or folder"),
    30: ("文件系统只读", "the file system is read-only"),
    2: ("文件不存在", "no such file or folder"),
    24: ("打开的文件过多", "too many open files: raise the limit (ulimit -n) and run again"),
    12: ("内存不足", "out of memory"),
}


def os_error_line(error: OSError) -> str:
    """One line for an OS error (a full disk, a read-only folder...): what, where, what to do.

    A full disk used to end the weekly job with a 258-line traceback; the store and history are
    written atomically, so the operator only needs to know what to fix before re-running.
    """
    zh, en = _OS_ADVICE.get(error.errno or -1, ("系统错误", error.strerror or type(error).__name__))
    where = error.filename or ""
    where = f" ({where})" if where else ""
    return f"{en}{where} / {zh} [{type(error).__name__} errno {error.errno}]"
