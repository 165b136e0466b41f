"""How long work says how far it is: log records, never printing (the CLI decides how they look).

Every report is a record on the caller's logger with ``extra={"progress": Step(...)}``. The
handler at the command-line edge (``serving.commands.console_log``) moves a bar per task on a terminal and
prints plain lines elsewhere (a log file, a pipe, cron). A report that starts or ends a task, or
crosses a tenth of the way, is INFO; the others are DEBUG. So a log gets about a dozen lines per
step however many units it counts, while a terminal's bar can still move with every unit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

# The attribute a progress record carries (``record.progress``).
ATTRIBUTE = "progress"


@dataclass(frozen=True)
class Step:
    """One progress report: ``done`` of ``total`` units of ``task``, now at ``detail``."""

    task: str
    done: int
    total: int
    detail: str = ""

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def milestone(done: int, total: int) -> bool:
    """Whether a report is worth a line of its own: the first unit, the last, or a new tenth."""
    if total <= 0 or done <= 1 or done >= total:
        return True
    return (10 * done) // total != (10 * (done - 1)) // total


def report(logger: logging.Logger, task: str, done: int, total: int, detail: str = "") -> None:
    """Log that ``done`` of ``total`` units of ``task`` are finished (``detail``: what runs now)."""
    level = logging.INFO if milestone(done, total) else logging.DEBUG
    if not logger.isEnabledFor(level):
        return
    share = f" ({100 * done // total}%)" if total > 0 else ""
    logger.log(level, "%s %d/%d%s%s", task, done, total, share, f" {detail}" if detail else "",
               extra={ATTRIBUTE: Step(task, done, total, detail)})


def reporter(logger: logging.Logger, callback: Callable[[str, int, int], None] | None = None
           ) -> Callable[[str, int, int], None]:
    """A ``(task, done, total)`` progress callback that logs each report, then calls ``callback``."""

    def progress(task: str, done: int, total: int) -> None:
        report(logger, task, done, total)
        if callback is not None:
            callback(task, done, total)

    return progress
