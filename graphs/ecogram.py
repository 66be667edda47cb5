"""The ecogram (netwerkkaart) of one person as an SVG: ego in the centre, alters on rings by
closeness, coloured by role, line style by support type. Pseudonymous: alters show their role only."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from data.schema import ROLES

ROLE_COLOURS = {
    "partner": "#e41a1c", "ouder": "#984ea3", "kind": "#ff7f00", "familie": "#a65628", "vriend": "#377eb8",
    "buur": "#4daf4a", "collega": "#999999", "vrijwilliger": "#f781bf", "professional": "#333333",
    "groepsgenoot": "#17becf", "kerk_vereniging": "#bcbd22", "anders": "#7f7f7f",
}
RING_RADIUS = {3: 95, 2: 165, 1: 230}  # closeness 3 = closest


def ecogram_svg(ties: pd.DataFrame, *, size: int = 520, title: str = "") -> str:
    """Return an SVG of one ego's ties (the rows of ``ties`` with that ego)."""
    c = size / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size + 70}" '
             f'viewBox="0 0 {size} {size + 70}" role="img" aria-label="{html.escape(title or "ecogram")}">',
             '<rect width="100%" height="100%" fill="#ffffff"/>']
    for ring, radius in RING_RADIUS.items():
        label = {3: "heel dichtbij", 2: "dichtbij", 1: "verder weg"}[ring]
        parts.append(f'<circle cx="{c}" cy="{c}" r="{radius}" fill="none" stroke="#dddddd" stroke-dasharray="4 4"/>')
        parts.append(f'<text x="{c + 4}" y="{c - radius + 12}" font-size="10" fill="#999999">{label}</text>')
    n = len(ties)
    if n:
        order = ties.assign(_r=ties["role"].map({r: i for i, r in enumerate(ROLES)})).sort_values("_r")
        angles = np.linspace(-np.pi / 2, 1.5 * np.pi, n, endpoint=False)
        for angle, tie in zip(angles, order.itertuples(index=False), strict=True):
            closeness = int(tie.closeness) if pd.notna(tie.closeness) else 1
            r = RING_RADIUS.get(closeness, RING_RADIUS[1])
            x, y = c + r * np.cos(angle), c + r * np.sin(angle)
            emotional, practical = bool(tie.support_emotional), bool(tie.support_practical)
            width = 3 if emotional else 1.5
            dash = "" if emotional else (' stroke-dasharray="6 3"' if practical else ' stroke-dasharray="2 3"')
            colour = ROLE_COLOURS.get(tie.role, "#7f7f7f")
            parts.append(f'<line x1="{c:.1f}" y1="{c:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="{colour}" '
                         f'stroke-width="{width}"{dash}/>')
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="{colour}" stroke="#ffffff" stroke-width="2"/>')
            label = html.escape(ROLES.get(tie.role, str(tie.role)))
            parts.append(f'<text x="{x:.1f}" y="{y + 21:.1f}" font-size="11" text-anchor="middle" '
                         f'fill="#222222">{label}</text>')
    parts.append(f'<circle cx="{c}" cy="{c}" r="16" fill="#b3541e"/>')
    parts.append(f'<text x="{c}" y="{c + 4}" font-size="11" text-anchor="middle" fill="#ffffff">ik</text>')
    legend_y = size + 18
    parts.append(f'<line x1="10" y1="{legend_y}" x2="40" y2="{legend_y}" stroke="#333" stroke-width="3"/>'
                 f'<text x="46" y="{legend_y + 4}" font-size="11">emotionele steun</text>'
                 f'<line x1="160" y1="{legend_y}" x2="190" y2="{legend_y}" stroke="#333" stroke-width="1.5" '
                 f'stroke-dasharray="6 3"/><text x="196" y="{legend_y + 4}" font-size="11">praktische steun</text>'
                 f'<line x1="310" y1="{legend_y}" x2="340" y2="{legend_y}" stroke="#333" stroke-width="1.5" '
                 f'stroke-dasharray="2 3"/><text x="346" y="{legend_y + 4}" font-size="11">ander contact</text>')
    if not n:
        parts.append(f'<text x="{c}" y="{size + 50}" font-size="12" text-anchor="middle">Geen steunrelaties '
                     'vastgelegd.</text>')
    parts.append("</svg>")
    return "".join(parts)
