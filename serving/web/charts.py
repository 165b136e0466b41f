"""A small inline SVG chart of the risk over the weeks (no JavaScript, prints well)."""

from __future__ import annotations

from html import escape


def trend_svg(points: list[tuple[str, float]], *, width: int = 520, height: int = 150, title: str = "") -> str:
    """A line of weekly probabilities (week label, probability 0-1) with the last point labelled."""
    if not points:
        return ""
    left, right, top, bottom = 38, 12, 12, 26
    inner_w, inner_h = width - left - right, height - top - bottom
    top_value = max(0.1, min(1.0, max(p for _, p in points) * 1.25))
    step = inner_w / max(1, len(points) - 1)

    def xy(i: int, p: float) -> tuple[float, float]:
        x = left + (i * step if len(points) > 1 else inner_w / 2)
        return x, top + inner_h * (1 - p / top_value)

    parts = [
        f'<svg class="trend" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for frac in (0, 0.5, 1):
        value = top_value * frac
        y = top + inner_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e1e4e8"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#5b636b">{value * 100:.0f}%</text>'
        )
    coords = [xy(i, p) for i, (_, p) in enumerate(points)]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#9c2b23" stroke-width="2"/>')
    label_every = max(1, len(points) // 8)
    for i, ((week, p), (x, y)) in enumerate(zip(points, coords, strict=True)):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#9c2b23"><title>{escape(week)}: {p * 100:.1f}%</title></circle>')
        if i % label_every == 0 or i == len(points) - 1:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 8}" font-size="10" text-anchor="middle" fill="#5b636b">{escape(week[-3:])}</text>'
            )
    x, y = coords[-1]
    parts.append(
        f'<text x="{min(x, width - right - 2):.1f}" y="{max(y - 7, 10):.1f}" font-size="11" text-anchor="end" '
        f'fill="#1f2328">{points[-1][1] * 100:.1f}%</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
