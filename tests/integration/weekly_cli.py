"""Running fanpin commands as real subprocesses (the way an operator or cron runs them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

FANPIN = str(Path(sys.executable).parent / "fanpin")


def cli_env(home: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANPIN_")}
    env["FANPIN_HOME"] = str(home)
    if database_url:
        env["FANPIN_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], logs: list[str] | None = None, timeout: int = 600,
        stdin: str | None = None) -> dict:
    """Run a fanpin command with --json; return its last stdout line parsed (logs collected)."""
    done = subprocess.run([FANPIN, *args, "--json"], env=env, capture_output=True, text=True, timeout=timeout,
                          input=stdin)
    if logs is not None:
        logs += [done.stdout, done.stderr]
    assert done.returncode == 0, f"fanpin {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_and_kill_at(args: list[str], env: dict[str, str], stage: str, logs: list[str] | None = None,
                    timeout: float = 300) -> None:
    """Start a command that pauses at ``stage`` (FANPIN_TEST_PAUSE_AT) and SIGKILL it there."""
    proc = subprocess.Popen([FANPIN, *args], env={**env, "FANPIN_TEST_PAUSE_AT": stage},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    seen = []
    try:
        for line in proc.stderr:  # blocks per line; the job prints "paused at <stage>" and sleeps
            seen.append(line)
            if f"paused at {stage}" in line:
                break
            if time.monotonic() > deadline:
                break
        else:
            raise AssertionError(f"the job ended before reaching {stage}:\n{''.join(seen)[-3000:]}")
        assert f"paused at {stage}" in seen[-1], f"never paused at {stage}"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if logs is not None:
            logs.append("".join(seen))
    assert proc.returncode == -signal.SIGKILL
