"""Same seed -> byte-identical county folder; another seed -> a different one."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from features.simulator import simulate_county, summarise, write_county


def _write(seed: int, out: Path) -> dict[str, str]:
    run = simulate_county(250, seed=seed, start=date(2022, 1, 1), end=date(2025, 12, 31),
                          oracle_sample=60, oracle_replicas=8)
    summary = summarise(run)
    write_county(run, out, summary)
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    a = _write(11, tmp_path / "a")
    b = _write(11, tmp_path / "b")
    assert a.keys() == b.keys()
    assert len(a) == 5 + 12 * 5 + 4  # history, 12 weekly exports, 4 truth files (hardship.parquet: issue 33)
    different = [k for k in a if a[k] != b[k]]
    assert different == []
    c = _write(12, tmp_path / "c")
    changed = [k for k in a if k in c and a[k] != c[k]]
    assert "history/members.parquet" in changed and "truth/oracle.parquet" in changed
