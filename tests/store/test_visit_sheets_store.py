"""`fanpin visit-sheets` against a store with published weeks: one page per watch-list household."""

from __future__ import annotations

import subprocess

from serving.documents.visit_sheets import store_sheets, township_visit_sheets
from serving.store import queries as q
from serving.store.database import get_engine, session_factory
from tests.data.leaks import WHOLE_ID


def test_visit_sheets_from_the_store(published_store, tmp_path, pdf_tools):
    p = published_store
    week = p.weeks[-1]
    engine = get_engine(p.settings)
    with session_factory(engine)() as session:
        run_id = q.published_run(session, week)
        total, _ = q.watchlist(session, run_id, township=p.own_township, limit=None)
        sheets = store_sheets(session, run_id, p.own_township)
    assert len(sheets) == total > 0
    # Every sheet says why: a non-empty list of reasons, each with its sentence.
    assert all(s["explanation"].get("reasons") and all(r.get("text_zh") for r in s["explanation"]["reasons"])
               for s in sheets)
    pdf, count = township_visit_sheets(p.settings, week, p.own_township)
    assert count == total
    path = tmp_path / "sheets.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert f"Pages:           {total}" in info
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYi" in fonts or "CJK" in fonts
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("入户走访核查表") == total
    # No ID number of any member ever reaches the printed sheet: all of them are looked for.
    assert len(p.id_numbers) > 3000
    assert not [i for i in p.id_numbers if i in text]
    assert not WHOLE_ID.findall(text)
