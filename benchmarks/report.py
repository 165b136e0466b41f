"""RESULTS.md from results.jsonl: the newest figure of every case, one table per case family."""

from __future__ import annotations

from typing import Any

TARGETS = {
    "weekly_20k": "< 5 s",
    "weekly_cli_20k": "< 5 s",
    "weekly_1m": "< 120 s, < 6 GB",
    "simulate_20k": "< 120 s",
    "drift_20k": "< 30 s",
}


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _load(r: dict) -> str:
    la = r.get("machine", {}).get("load_average") or ["?"]
    return _fmt(la[0])


def _with_ci(value: Any, ci: Any) -> str:
    if not isinstance(value, (int, float)):
        return ""
    if isinstance(ci, list) and len(ci) == 2 and all(isinstance(c, (int, float)) for c in ci):
        return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"
    return f"{value:.3f}"


def _seed_table(rows: list[dict]) -> list[str]:
    """One row per seed (figures with 95% household-bootstrap intervals), then the spread."""
    cols = [("AUC", "auc"), ("PR-AUC", "pr_auc"), ("recall@5%", "recall_at_5pct"),
            ("fitted rules recall@5%", "rules_fitted_recall_at_5pct"), ("ratio vs stronger rules", "recall_ratio"),
            ("recall headroom", "recall_headroom_share"), ("median lead wk", "median_lead_weeks"),
            ("warned", "share_warned"), ("random list warned", "random_list_lead_share"),
            ("ECE / base rate", "ece_relative"), ("top-5% O/E", "top5_observed_expected")]
    out = []
    for r in rows:
        head = ["case", "seed", *[c for c, _ in cols], "served to", "seconds"]
        out += [f"{r['case']} ({_load(r)} load, {r.get('date', '')[:16]}): simulated counties, not field data.", "",
                "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for s in r.get("seeds", []):
            value = {k: (s.get("recall_ratio_vs_best_rules") if k == "recall_ratio" else s.get(k)) for _, k in cols}
            out.append("| " + " | ".join([r["case"], str(s["seed"]),
                                         *[_with_ci(value[k], s.get(f"{k}_ci")) for _, k in cols],
                                         s.get("served_train_last", ""), _fmt(s.get("seconds"), 0)]) + " |")
        spread = r.get("spread", {})
        key = {"recall_ratio": "recall_ratio_vs_best_rules"}
        out.append("| spread (max - min) | | " + " | ".join(
            _fmt(spread.get(key.get(k, k), {}).get("range"), 3) for _, k in cols) + " | | |")
        out.append("")
    return out


def _storage_table(rows: list[dict]) -> list[str]:
    """Every storage run (before and after a layout change stay side by side): bytes per household
    for the first week and per later week, and a year projected from them."""
    head = ["case", "store", "layout", "households", "first week B/household", "later weeks B/household/week",
            "year GB 20k / 200k / 1M", "CPU s (12 weeks)", "load", "date"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        year = r.get("year_gb", {})
        out.append("| " + " | ".join([
            r["case"], r.get("store", ""), r.get("layout", "").split(":")[0] or "after", _fmt(r.get("households")),
            _fmt(r.get("first_week_bytes_per_household"), 0), _fmt(r.get("store_bytes_per_household_week"), 0),
            " / ".join(_fmt(v, 1) for v in year.values()), _fmt(r.get("cpu_seconds"), 0), _load(r),
            r.get("date", "")[:16]]) + " |")
    return out + ["", "Target: under 300 bytes per household per week after the first week."]


def render(lines: list[dict]) -> str:
    latest: dict[str, dict] = {}
    for r in lines:
        latest[r["case"]] = r
    families: dict[str, list[dict]] = {}
    for r in latest.values():
        families.setdefault(r.get("family", "other"), []).append(r)
    out = ["# Benchmark results", "",
           "Written by `python -m benchmarks.run` from `benchmarks/results.jsonl` (every run is kept there;",
           "this page shows the newest run of each case). `load` is the 1-minute load average when the case",
           "started: other work on the machine slows the figures down. Seconds exclude interpreter start-up.",
           ""]
    machines = {(r["machine"].get("nproc"), r["machine"].get("python"), r["machine"].get("platform"),
                 r["machine"].get("memory_gb")) for r in latest.values() if "machine" in r}
    for nproc, python, plat, mem in sorted(machines, key=str):
        out.append(f"Machine: {nproc} cores, {mem} GB memory, Python {python}, {plat}.")
    out.append("")
    order = ["weekly", "storage", "simulate", "training", "evaluation", "explain", "drift", "api", "spark"]
    for family in sorted(families, key=lambda f: (order.index(f) if f in order else 99, f)):
        rows = sorted(families[family], key=lambda r: (r.get("households") or 0, r["case"]))
        out += [f"## {family}", ""]
        if family == "weekly":
            stages: list[str] = []
            for r in rows:
                for s in r.get("stages", {}):
                    if s not in stages:
                        stages.append(s)
            head = ["case", "households", "seconds", "CPU s", "households/s", "peak RSS MB", *stages,
                    "store B/household", "target", "load", "date"]
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "---|" * len(head))
            for r in rows:
                cells = [r["case"], _fmt(r.get("households")), _fmt(r.get("seconds")), _fmt(r.get("cpu_seconds")),
                         _fmt(r.get("households_per_second"), 0), _fmt(r.get("peak_rss_mb"), 0),
                         *[_fmt(r.get("stages", {}).get(s)) for s in stages],
                         _fmt(r.get("store_bytes_per_household_week"), 0),
                         TARGETS.get(r["case"], ""), _load(r), r.get("date", "")[:16]]
                out.append("| " + " | ".join(cells) + " |")
            per = [(r["households"], r["seconds"], r.get("cpu_seconds")) for r in rows
                   if r.get("households") and r.get("seconds") and not r.get("command")]
            if len(per) > 1:
                out += ["", "Per 100,000 households (wall s / CPU s; CPU is the figure that load does not move): "
                        + ", ".join(f"{h:,}: {100_000 * s / h:.1f} / {100_000 * (c or 0) / h:.1f}"
                                    for h, s, c in per)]
        elif family == "api":
            head = ["case", "endpoint", "clients", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms",
                    "target", "client", "load", "date"]
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "---|" * len(head))
            for r in rows:
                for ep in r.get("endpoints", []):
                    out.append("| " + " | ".join([
                        r["case"], ep["endpoint"], _fmt(ep.get("clients")), _fmt(ep.get("requests")),
                        _fmt(ep.get("errors")), _fmt(ep.get("throughput"), 1), _fmt(ep.get("p50_ms"), 1),
                        _fmt(ep.get("p95_ms"), 1), _fmt(ep.get("p99_ms"), 1), ep.get("target", ""),
                        ep.get("client", "python httpx threads").split(" [")[0], _load(r),
                        r.get("date", "")[:16]]) + " |")
        elif family == "explain":
            head = ["case", "trees", "leaves", "AUC", "TreeSHAP ms/household", "explained households/s",
                    "max additivity error", "load", "date"]
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "---|" * len(head))
            for r in rows:
                for s in r.get("sizes", []):
                    out.append("| " + " | ".join([
                        r["case"], _fmt(s.get("trees")), _fmt(s.get("leaves")), _fmt(s.get("auc"), 3),
                        _fmt(s.get("treeshap_ms_per_household"), 3), _fmt(s.get("explain_households_per_second"), 0),
                        f"{s.get('max_additivity_error', 0):.1e}", _load(r),
                        r.get("date", "")[:16]]) + " |")
        elif family == "evaluation":
            out += _seed_table(rows)
        elif family == "storage":
            out += _storage_table([r for r in lines if r.get("family") == "storage" and "error" not in r])
        else:
            head = ["case", "households", "seconds", "CPU s", "peak RSS MB", "details", "target", "load", "date"]
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "---|" * len(head))
            skip = {"case", "family", "households", "seconds", "cpu_seconds", "peak_rss_mb", "machine", "date",
                    "households_per_second", "wall_with_startup_seconds"}
            for r in rows:
                details = "; ".join(f"{k}={_fmt(v) if not isinstance(v, dict) else v}" for k, v in r.items()
                                    if k not in skip)
                out.append("| " + " | ".join([
                    r["case"], _fmt(r.get("households")), _fmt(r.get("seconds")), _fmt(r.get("cpu_seconds")),
                    _fmt(r.get("peak_rss_mb"), 0), details.replace("|", "/"), TARGETS.get(r["case"], ""), _load(r), r.get("date", "")[:16]]) + " |")
        out.append("")
    return "\n".join(out) + "\n"
