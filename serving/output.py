"""How every command reports: human text to stderr, and with --json one JSON object as the last
line of stdout, so scripts can parse it whatever else was printed."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

stderr = Console(stderr=True)


def _plain(value: Any) -> Any:
    # numpy and pandas scalars, paths and dates do not serialise by themselves.
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (Path, date, datetime)):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def emit(result: dict[str, Any], as_json: bool, summary: str | None = None) -> None:
    """Print the result: the JSON object on stdout with --json, else a short human summary."""
    if as_json:
        print(json.dumps(_plain(result), ensure_ascii=False))
    else:
        stderr.print(summary if summary is not None else json.dumps(_plain(result), ensure_ascii=False, indent=2))


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr and a non-zero exit."""
    import typer

    stderr.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
