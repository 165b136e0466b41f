"""The guard: each new figure against the newest earlier row of the same case on the same machine kind.

`make bench` prints, after each case, a table of its figures beside the previous row's (wall
seconds, CPU seconds, peak RSS, every stage, API p99 per endpoint) and marks a figure more than 20 %
slower (or larger). Wall figures move with the machine's load (recorded beside each row), CPU
seconds much less: read a marked wall figure together with the two loads.
"""

from __future__ import annotations

from typing import Any

SLOWER = 0.20  # a figure more than this much above the previous one is marked
MIN_SECONDS = 0.05  # stages shorter than this on both sides are noise, never marked


def machine_kind(row: dict[str, Any]) -> tuple:
    """What makes two rows comparable: cores, memory and Python (not the load)."""
    m = row.get("machine") or {}
    return m.get("nproc"), m.get("memory_gb"), m.get("python")


def previous_row(rows: list[dict[str, Any]], new: dict[str, Any]) -> dict[str, Any] | None:
    """The newest row of ``new``'s case on the same machine kind, older than ``new`` (rows in file order)."""
    kind = machine_kind(new)
    found = [r for r in rows if r.get("case") == new.get("case") and "error" not in r and r is not new
             and machine_kind(r) == kind and str(r.get("date", "")) < str(new.get("date", "~"))]
    return found[-1] if found else None


def figures(row: dict[str, Any]) -> dict[str, float]:
    """The comparable figures of a row: higher is worse for every one of them."""
    out: dict[str, float] = {}
    for key in ("seconds", "cpu_seconds", "peak_rss_mb"):
        if isinstance(row.get(key), (int, float)):
            out[key] = float(row[key])
    for stage, value in (row.get("stages") or {}).items():
        if isinstance(value, (int, float)):
            out[f"stage {stage}"] = float(value)
    for ep in row.get("endpoints") or []:
        if isinstance(ep.get("p99_ms"), (int, float)):
            out[f"p99 ms {ep['endpoint']}"] = float(ep["p99_ms"])
    return out


def changes(new: dict[str, Any], old: dict[str, Any]) -> list[dict[str, Any]]:
    """Every figure of either row: before, after, the relative change and whether it is marked slower."""
    after, before = figures(new), figures(old)
    out = []
    for name in list(dict.fromkeys([*before, *after])):
        a, b = after.get(name), before.get(name)
        change = (a - b) / b if a is not None and b not in (None, 0.0) else None
        noise = name.startswith("stage ") and max(a or 0.0, b or 0.0) < MIN_SECONDS
        out.append({"figure": name, "before": b, "after": a, "change": change,
                    "slower": bool(change is not None and change > SLOWER and not noise)})
    return out


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def table(new: dict[str, Any], old: dict[str, Any] | None) -> str:
    """The printed comparison (markdown), or a line saying there is nothing to compare with."""
    if old is None:
        return f"{new.get('case')}: no earlier row on this machine kind to compare with"
    load = lambda r: ((r.get("machine") or {}).get("load_average") or ["?"])[0]  # noqa: E731
    lines = [f"{new['case']}: {old.get('date')} (load {load(old)}) -> {new.get('date')} (load {load(new)})",
             "| figure | before | after | change | |", "|---|---:|---:|---:|---|"]
    rows = changes(new, old)
    for c in rows:
        change = "" if c["change"] is None else f"{c['change']:+.0%}"
        lines.append(f"| {c['figure']} | {_num(c['before'])} | {_num(c['after'])} | {change} | "
                     f"{'**> 20 % slower**' if c['slower'] else ''} |")
    slower = [c["figure"] for c in rows if c["slower"]]
    lines.append(f"{len(slower)} figure(s) more than 20 % slower" + (f": {', '.join(slower)}" if slower else ""))
    return "\n".join(lines)
