"""A chart of one household's explanation: how each reason concept moves the risk.

Bars per concept (log-odds contributions, the same numbers as the explanation), red for what
raises the risk and green for what lowers it, labelled with the concept names in Chinese (or
English). Chinese needs a CJK font, found among the installed fonts; matplotlib's backend is
chosen here, at call time, so importing this module changes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from features.household_frame import CONCEPTS

CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans SC", "Source Han Sans SC")
RAISE_COLOUR = "#c0392b"
LOWER_COLOUR = "#2e8b57"


def cjk_font() -> str | None:
    """Name of an installed font that holds Chinese characters, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def contribution_chart(
    explanation: Mapping[str, Any], lang: str = "zh", fmt: str = "png", top: int = 8, dpi: int = 150
) -> bytes:
    """Render the concept contributions of one explanation.

    Args:
        explanation: an ``Explanation.to_dict()`` (needs ``concept_contributions``).
        lang: "zh" (Chinese labels, needs a CJK font) or "en".
        fmt: "png" or "svg".
        top: how many concepts to show (largest absolute contributions).
        dpi: resolution of a PNG.

    Returns:
        The image as bytes.

    Raises:
        RuntimeError: Chinese labels were asked for and no CJK font is installed (they would
            render as boxes).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    font = cjk_font()
    if lang == "zh" and font is None:
        raise RuntimeError("no CJK font installed (install fonts-noto-cjk or fonts-wqy-microhei)")
    items = sorted(explanation["concept_contributions"].items(), key=lambda kv: abs(kv[1]), reverse=True)[:top]
    items = [(c, v) for c, v in items if v != 0][::-1]  # largest at the top of the chart
    labels = [CONCEPTS[c][0] if lang == "zh" else CONCEPTS[c][1] for c, _ in items]
    values = [v for _, v in items]

    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(6.4, 0.42 * max(len(items), 3) + 1.2))
        try:
            ax.barh(labels, values, color=[RAISE_COLOUR if v > 0 else LOWER_COLOUR for v in values])
            ax.axvline(0, color="#444444", linewidth=0.8)
            for y, v in enumerate(values):
                ax.text(v, y, f" {v:+.2f} ", va="center", ha="left" if v > 0 else "right", fontsize=8)
            lo, hi = min(values + [0]), max(values + [0])
            pad = 0.25 * (hi - lo or 1)
            ax.set_xlim(lo - pad, hi + pad)
            if lang == "zh":
                ax.set_title("风险因素的影响（红色提高风险，绿色降低风险）", fontsize=10)
                ax.set_xlabel("对风险的贡献（对数几率）", fontsize=9)
            else:
                ax.set_title("What moves the risk (red raises, green lowers)", fontsize=10)
                ax.set_xlabel("contribution (log-odds)", fontsize=9)
            ax.spines[["top", "right"]].set_visible(False)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=dpi)
        finally:
            plt.close(fig)
    return buf.getvalue()
