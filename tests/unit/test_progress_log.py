"""Progress through logging: a dozen lines per step in a log, a bar per task on a terminal."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from features.progress import Step, milestone, report
from serving.commands.console_log import PACKAGES, BarHandler, CurrentStderr, configure

FANPIN = str(Path(sys.executable).parent / "fanpin")
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO (\S+): (.*)$")


@pytest.fixture
def restore_loggers():
    saved = {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers)) for name in PACKAGES}
    yield
    for name, (level, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers


def test_a_long_step_logs_about_a_dozen_info_lines():
    assert [d for d in range(0, 201) if milestone(d, 200)] == [0, 1, *range(20, 201, 20)]
    assert all(milestone(d, 3) for d in range(4))  # short tasks: every unit is news


def test_plain_lines_off_a_terminal(restore_loggers, capsys):
    handler = configure(Console(file=io.StringIO(), force_terminal=False))
    assert isinstance(handler, CurrentStderr)
    log = logging.getLogger("training.example")
    for done in range(0, 51):
        report(log, "training rows", done, 50, "2024-03-03")
    log.debug("not shown")
    lines = capsys.readouterr().err.splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert len(lines) == 12
    assert lines[-1].endswith("training.example: training rows 50/50 (100%) 2024-03-03")
    assert configure(Console(file=io.StringIO(), force_terminal=False))  # again: replaced, not doubled
    report(log, "fitting", 1, 1)
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_bars_on_a_terminal_leave_one_line_per_finished_task(restore_loggers):
    out = io.StringIO()
    handler = configure(Console(file=out, force_terminal=True, width=100))
    assert isinstance(handler, BarHandler)
    log = logging.getLogger("serving.example")
    for done in range(11):
        report(log, "weekly 2025-W45", done, 10, "score")
        assert handler.bars is not None or done == 10
    log.info("a plain message")
    text = out.getvalue()
    assert "✓ weekly 2025-W45 10/10" in text and "a plain message" in text
    assert handler.bars is None and handler.tasks == {}
    assert Step("x", 3, 3).finished


def test_cli_run_into_a_pipe_logs_the_steps_as_plain_lines(tmp_path):
    done = subprocess.run(
        [FANPIN, "simulate", "--out", str(tmp_path / "county"), "--households", "200", "--seed", "5",
         "--start", "2024-01-01", "--oracle-sample", "50", "--oracle-replicas", "3", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "\x1b[" not in done.stderr and "━" not in done.stderr  # no terminal codes, no bars
    steps = [LINE.match(line) for line in lines]
    assert all(steps), lines
    said = [m.group(2) for m in steps if m.group(1) == "features.simulator.county"]
    assert said[0].startswith("simulate 1/") and "(100%)" in said[-1]
    assert 10 <= len(said) <= 13
    assert any(m.group(1) == "serving.jobs.simulation" and "writing" in m.group(2) for m in steps)
