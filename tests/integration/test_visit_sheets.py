"""Visit sheets: one printable A4 page per household, in Chinese, with a CJK font embedded."""

from __future__ import annotations

import json
import subprocess

import pytest

from features.household_frame import valid_at
from features.policy import load_policy
from models.explanation import explain
from serving.documents.visit_sheets import render_html, render_pdf, sheet_context
from tests.explain_county import CUTOFF


def _records(frame):
    out = frame.copy()
    for col in out.columns:
        if str(out[col].dtype).startswith("datetime"):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return json.loads(out.to_json(orient="records", force_ascii=False))


@pytest.fixture(scope="module")
def sheets(explain_county, explain_model):
    """Plain sheet data for the riskiest households, including the largest one."""
    tables, frame, _ = explain_county
    explanations = explain(explain_model, frame, None, load_policy(), previous={h: 0.25 for h in frame["household_id"]})
    order = sorted(range(len(frame)), key=lambda i: -explanations[i].probability)[:3]
    order.append(int(frame["household_size"].idxmax()))
    members = valid_at(tables["members"], CUTOFF)
    households = valid_at(tables["households"], CUTOFF)
    facts = _records(frame)
    out = []
    for i in order:
        hid = explanations[i].household_id
        out.append({
            "household_id": hid,
            "identity": _records(households.loc[households["household_id"] == hid])[0],
            "facts": facts[i],
            "members": _records(members.loc[members["household_id"] == hid]),
            "explanation": explanations[i].to_dict(),
            "score": {"rank": len(out) + 1},
            "trend": [{"week": "2025-W25", "probability": 0.25},
                      {"week": "2025-W26", "probability": explanations[i].probability}],
        })
    return out


def test_sheet_context_states_the_households_facts(sheets):
    s = sheets[0]
    ctx = sheet_context(s)
    assert ctx["household_id"] == s["household_id"]
    assert len(ctx["members"]) == len(s["members"])
    assert ctx["level_zh"] in ("高", "中", "低")
    assert ctx["reasons"] == s["explanation"]["reasons"]
    assert "个百分点" in ctx["change"] or ctx["change"] == "与上周持平"
    assert sheet_context({**s, "explanation": {**s["explanation"], "change": None}})["change"] == "上周无评分，无法比较"
    # ID numbers never reach the sheet.
    html = render_html(sheets, week="2025-W26", township="古邵镇")
    for m in s["members"]:
        assert m["id_number"] not in html


def test_visit_sheet_pdf_has_one_page_per_household_an_embedded_cjk_font_and_the_chinese_text(
    sheets, tmp_path, pdf_tools
):
    pdf = tmp_path / "sheets.pdf"
    pdf.write_bytes(render_pdf(sheets, week="2025-W26", township="古邵镇"))

    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert f"Pages:           {len(sheets)}" in info
    assert "A4" in info or "595.276 x 841.89" in info

    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    # Every embedded font is a CJK one (no fallback font for missing glyphs), and embedded.
    for row in rows:
        assert any(name in row for name in ("WenQuanYi", "Noto-Sans-CJK", "NotoSansCJK", "Source-Han")), row
        assert " yes yes yes " in row, row

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for words in ("入户走访核查表", "主要风险原因", "符合的监测标准", "建议帮扶措施", "走访记录", "走访人（签字）"):
        assert text.count(words) == len(sheets), words
    first = sheets[0]["explanation"]["reasons"][0]["text_zh"]
    assert first.split("，")[0] in text.replace("\n", "").replace(" ", "")

    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(png)], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 20_000
