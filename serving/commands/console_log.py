"""The one place log records become output: configured by the CLI before every command.

The packages log (``features.progress`` for how far long work is); this module decides how that
looks. On a terminal, progress records move a Rich bar per task and other records print above the
bars; anywhere else (a log file, a pipe, cron) every INFO record is one plain, timestamped line on
stderr, so a three-minute training run is not silent in a log. Third-party download bars (MLflow
artifacts) are switched off: they are noise in a log and fight with the bars on a terminal.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from features.progress import ATTRIBUTE, Step

# The packages whose records are shown (the layers of fanpin; third parties keep their own).
PACKAGES = ("features", "models", "training", "monitoring", "serving")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MARK = "_fanpin_console"  # set on the handler this module installs, so it is replaced, never doubled


class CurrentStderr(logging.StreamHandler):
    """Plain lines on whatever ``sys.stderr`` is when a record arrives (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class BarHandler(logging.Handler):
    """Progress records move one Rich bar per task; other INFO records print above the bars.

    A finished task leaves one line (task, units, seconds) and its bar goes, so a run of eight
    weekly jobs does not stack eight bars.
    """

    def __init__(self, console: Console) -> None:
        super().__init__(logging.DEBUG)
        self.console = console
        self.bars: Progress | None = None
        self.tasks: dict[str, tuple[TaskID, float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            step = getattr(record, ATTRIBUTE, None)
            if isinstance(step, Step):
                self._move(step)
            elif record.levelno >= logging.INFO:
                self.console.print(self.format(record), highlight=False, markup=False)
        except Exception:  # a display problem must never stop the work it reports on
            self.handleError(record)

    def _move(self, step: Step) -> None:
        if self.bars is None:
            self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=self.console, transient=True)
            self.bars.start()
        if step.task not in self.tasks:
            self.tasks[step.task] = (self.bars.add_task(step.task, total=step.total), time.perf_counter())
        task, started = self.tasks[step.task]
        description = f"{step.task} · {step.detail}" if step.detail else step.task
        self.bars.update(task, completed=step.done, total=step.total, description=description)
        if step.finished:
            self.bars.remove_task(task)
            del self.tasks[step.task]
            self.console.print(f"✓ {step.task} {step.done}/{step.total} ({time.perf_counter() - started:.0f} s)",
                               highlight=False, markup=False)
            if not self.tasks:
                self.bars.stop()
                self.bars = None


def configure(console: Console) -> logging.Handler:
    """Route the packages' records to ``console`` (bars on a terminal, plain lines otherwise).

    Idempotent: a second call replaces the handler the first installed.
    """
    # MLflow draws tqdm bars when it downloads artifacts (loading the champion, a model card).
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if console.is_terminal:
        handler: logging.Handler = BarHandler(console)
        handler.setFormatter(logging.Formatter("%(message)s"))
        level = logging.DEBUG  # every unit moves the bar; the handler prints only INFO and up as text
    else:
        handler = CurrentStderr()
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
        level = logging.INFO
    setattr(handler, MARK, True)
    for name in PACKAGES:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, MARK, False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level)
    return handler
