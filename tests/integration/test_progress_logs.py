"""`fanpin train` into a pipe (a log, cron): every long step says how far it is, one line at a time."""

from __future__ import annotations

import re

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO (\S+): (.+)$")


def test_training_into_a_pipe_logs_each_step(registered_champion):
    stderr = registered_champion["train_stderr"]
    assert "\x1b[" not in stderr and "━" not in stderr  # plain lines, no bars
    said = [m.groups() for m in map(LINE.match, stderr.splitlines()) if m]
    training = [text for name, text in said if name == "training.train"]
    # The rows of every part are built once (the backtest origins and the served refit reuse them).
    for step in ("training rows", "fitting", "evaluating", "backtest origins", "watch lists"):
        lines = [t for t in training if t.startswith(step + " ")]
        assert lines, f"no line for {step}:\n{stderr[-3000:]}"
        assert re.search(r" (\d+)/\1 \(100%\)$", lines[-1]), lines[-1]  # and it says when it is done
        assert len(lines) <= 12  # about one line per tenth, however many units
    assert any("registering" in t for t in training)
