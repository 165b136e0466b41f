"""The contribution chart renders Chinese labels in a CJK font (no missing glyphs)."""

from __future__ import annotations

import warnings

from features.policy import load_policy
from models.chart import cjk_font, contribution_chart
from models.explanation import explain


def test_chart_renders_chinese_without_missing_glyphs(explain_county, explain_model):
    _, frame, _ = explain_county
    e = explain(explain_model, frame.iloc[:5], None, load_policy())[0].to_dict()
    assert cjk_font() is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = contribution_chart(e, lang="zh")
        svg = contribution_chart(e, lang="zh", fmt="svg")
        english = contribution_chart(e, lang="en")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message) or "Glyph" in str(w.message)]
    assert not missing, missing
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    assert english[:8] == b"\x89PNG\r\n\x1a\n" and english != png


def test_importing_the_chart_module_leaves_matplotlib_alone():
    import subprocess
    import sys

    code = "import sys, models.chart; assert 'matplotlib.pyplot' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
