"""Several processes making the same champion copy at once (a server's workers start together):
none fails, one entry is left and it reads back (issue 32)."""

from __future__ import annotations

import multiprocessing

import pandas as pd

FACTS = {"format": 1, "name": "fanpin-risk", "version": "1", "run_id": "r", "source": "s", "created": 1}


def _make(root: str, i: int) -> None:
    from pathlib import Path

    from models import champion_cache as cc

    for _ in range(15):
        cc.write(Path(root), FACTS, "digest", {"worker": i}, {"auc": 0.7}, pd.DataFrame({"x": [1.0, 2.0]}))
        cc.read(Path(root), FACTS, None, True)


def test_workers_making_the_same_entry_at_once(tmp_path):
    from models import champion_cache as cc

    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_make, args=(str(tmp_path), i)) for i in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0] * 6
    assert [p.name for p in (tmp_path / "fanpin-risk").iterdir()] == [cc.entry_folder(tmp_path, FACTS).name]
    found = cc.read(tmp_path, FACTS, None, True)
    assert found["model"]["worker"] in range(6) and list(found["reference"]["x"]) == [1.0, 2.0]
