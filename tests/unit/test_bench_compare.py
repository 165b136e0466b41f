"""The benchmark guard (issue 32): a new row against the newest earlier row of its case on the same
machine kind, figures more than 20 % slower marked."""

from __future__ import annotations

from benchmarks import compare

MACHINE = {"nproc": 2, "memory_gb": 23.5, "python": "3.11.7", "load_average": [1.0, 1.0, 1.0]}


def row(date: str, seconds: float, read: float, machine=MACHINE, case="weekly_cli_20k") -> dict:
    return {"case": case, "date": date, "seconds": seconds, "cpu_seconds": seconds, "peak_rss_mb": 800.0,
            "stages": {"start-up": 2.0, "read": read, "publish": 0.001}, "machine": machine}


def test_the_newest_earlier_row_of_the_same_case_and_machine_kind_is_compared():
    bigger = {**MACHINE, "nproc": 8}
    rows = [row("2026-12-01", 9.0, 2.0), row("2026-12-02", 8.0, 2.0), row("2026-12-03", 1.0, 1.0, bigger),
            row("2026-12-03", 1.0, 1.0, case="api_20")]
    new = row("2026-12-07", 8.5, 2.6)
    assert compare.previous_row(rows + [new], new)["date"] == "2026-12-02"
    assert compare.previous_row(rows, row("2026-11-01", 1.0, 1.0)) is None


def test_figures_more_than_20_percent_slower_are_marked():
    old, new = row("2026-12-02", 8.0, 2.0), row("2026-12-07", 8.5, 2.6)
    new["stages"]["publish"] = 0.004  # 4x a millisecond: noise, not marked
    by_name = {c["figure"]: c for c in compare.changes(new, old)}
    assert by_name["stage read"]["slower"] and round(by_name["stage read"]["change"], 2) == 0.30
    assert not by_name["seconds"]["slower"] and not by_name["stage publish"]["slower"]
    text = compare.table(new, old)
    assert "| stage read | 2.00 | 2.60 | +30% | **> 20 % slower** |" in text
    assert text.endswith("1 figure(s) more than 20 % slower: stage read")
