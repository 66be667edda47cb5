"""The netwerkkaart (ecogram) of one person as a standalone, printable SVG.

Drawn as Dutch practice draws it (the netwerkkaart or netwerkcirkel of wijkteams and Movisie):

* "ik" in the centre, the people around in **sectors** by where the tie comes from. The grouping
  of the roles in ``data.schema.ROLES`` (every role has exactly one sector, checked at import):

  - familie: partner, ouder, kind, familie (``KIN_ROLES``);
  - vrienden en kennissen: vriend, anders (and a role code that is not in ``ROLES``);
  - buren: buur;
  - werk, school, vereniging: collega, groepsgenoot, kerk_vereniging;
  - professionals, vrijwilligers: professional, vrijwilliger (help that comes through an
    organisation; the measures in ``graphs.measures`` still count a volunteer as informal).

  The sectors keep this clockwise order (familie centred at the top) and share the circle in
  proportion to ``n_sector + max(1.5, N / 10)``: an empty sector stays visible (an empty sector
  is itself a finding) and a crowded one gets room.
* Three **closeness circles**: closeness 3 ("heel dichtbij") innermost, then 2 and 1. A tie
  without a known closeness goes on a separate, differently coloured outer band
  ("nabijheid onbekend"), never silently on the outer circle.
* Lines from ego to each person: solid when the person gives at least one kind of support,
  dashed for contact without support; thin grey lines between people who know each other
  (``alter_links``: ``source``/``target`` are an ``alter_id`` or ``alter_key`` of the same ego).
* Each person is a dot in the colour of the role with a pseudonymous label (``alter_id`` for a
  person who is in the data, else ``alter_key``; never a name) followed by one sign per kind of
  support: ● emotional, ■ practical, ◇ information and advice, ○ companionship.
* The legend (role colours per sector, support signs, lines, circles) is inside the SVG.

Labels do not overlap (tested up to 30 people, also with all 30 in one sector): the dots are laid
out first, then the sector names, the circle names and every person's label are placed greedily
at the cheapest free spot of a fan of candidate positions around their anchor (outward first),
tested against the boxes already placed and against every dot. Only when no candidate is free at
all (far more people than fit) is the cheapest one taken anyway. Labels use the generic
``monospace`` family, whose advance width is 0.6 em in the common fonts (DejaVu Sans Mono,
Liberation Mono, Courier, Menlo), so the box the layout reserves is the box the browser draws.

The SVG is standalone: no scripts, no external fonts, images or style sheets, only ``svg``,
``rect``, ``circle``, ``line`` and ``text`` elements; every text from the data is escaped.
There is no PDF writer among the installed packages (no cairosvg, reportlab or weasyprint), so
:func:`netwerkkaart_print_html` wraps the SVG in a page that prints on one A4 sheet (landscape)
from any browser, which can also save it as PDF.
"""

from __future__ import annotations

import html
import math
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.schema import KIN_ROLES, ROLES

ROLE_COLOURS = {
    "partner": "#c0392b", "ouder": "#8e44ad", "kind": "#e67e22", "familie": "#a0522d",
    "vriend": "#2e6fba", "anders": "#7f8c8d",
    "buur": "#2e9a47",
    "collega": "#8c7a00", "groepsgenoot": "#138d90", "kerk_vereniging": "#b0007a",
    "professional": "#2d2d2d", "vrijwilliger": "#e377c2",
}
UNKNOWN_ROLE_COLOUR = "#b0b0b0"

SECTORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "familie": ("Familie", tuple(KIN_ROLES)),
    "vrienden": ("Vrienden en kennissen", ("vriend", "anders")),
    "buren": ("Buren", ("buur",)),
    "groepen": ("Werk, school, vereniging", ("collega", "groepsgenoot", "kerk_vereniging")),
    "professionals": ("Professionals, vrijwilligers", ("professional", "vrijwilliger")),
}
# The sector names on the chart, in lines short enough to fit beside the circles.
_SECTOR_LINES = {"familie": ("Familie",), "vrienden": ("Vrienden en", "kennissen"), "buren": ("Buren",),
                 "groepen": ("Werk, school,", "vereniging"), "professionals": ("Professionals,", "vrijwilligers")}
SECTOR_FONT = 13
SECTOR_LINE_H = 16.0
SECTOR_OF_ROLE = {role: sector for sector, (_, roles) in SECTORS.items() for role in roles}
UNKNOWN_ROLE_SECTOR = "vrienden"  # with 'anders': someone the person knows, of no listed kind
if set(SECTOR_OF_ROLE) != set(ROLES) or len(SECTOR_OF_ROLE) != sum(len(r) for _, r in SECTORS.values()):
    raise RuntimeError("Elke rol uit data.schema.ROLES hoort in precies één sector van de netwerkkaart.")

CLOSENESS_LABELS = {3: "heel dichtbij", 2: "dichtbij", 1: "verder weg", 0: "nabijheid onbekend"}
SUPPORT_SIGNS = {  # column -> (legend text, sign drawn after the code)
    "support_emotional": ("emotionele steun", "●"),
    "support_practical": ("praktische hulp", "■"),
    "support_informational": ("informatie en advies", "◇"),
    "support_companionship": ("gezelschap", "○"),
}
_SIGN_COLOURS = {"support_emotional": "#b2182b", "support_practical": "#2166ac",
                 "support_informational": "#5e3c99", "support_companionship": "#1b7837"}

# Geometry in px. Band 0 is the band for unknown closeness, outside the three circles.
HEADER_H = 46
CHART_W, CHART_H = 920, 820
LEGEND_W = 300
WIDTH = CHART_W + LEGEND_W
HEIGHT = HEADER_H + CHART_H
CX, CY = CHART_W / 2, HEADER_H + CHART_H / 2
EGO_R = 22
NODE_R = 8
BANDS = {3: (30.0, 108.0), 2: (108.0, 188.0), 1: (188.0, 262.0), 0: (262.0, 304.0)}
R_OUT = BANDS[0][1]
BAND_FILLS = {0: "#fbf5e6", 1: "#f2f5f9", 2: "#e7edf4", 3: "#dbe4ee"}
LABEL_FONT = 12  # monospace
LABEL_CHAR_W = 0.6 * LABEL_FONT
LABEL_H = 15.0
LABEL_MAX_CHARS = 16
SIGN_W = 10.0
MIN_ARC = 2 * NODE_R + 14  # distance between neighbouring dots on one row

_SUPPORT_COLUMNS = tuple(SUPPORT_SIGNS)


@dataclass(frozen=True)
class NetwerkkaartLayout:
    """Where everything of one netwerkkaart goes (px, SVG coordinates, y downwards).

    ``alters``: one row per tie, in the order of ``ties``, with ``node`` (alter_id or alter_key),
    ``label``, ``role``, ``sector``, ``band`` (3, 2, 1 or 0 = unknown), ``angle`` (radians,
    clockwise from the x axis), ``x``, ``y``, ``in_data`` (an alter_id), ``supported`` and the
    label box ``box_x0``, ``box_y0``, ``box_x1``, ``box_y1`` with the leader ``lead_x``/``lead_y``.
    ``links``: pairs of rows of ``alters`` (``a``, ``b``) who know each other.
    ``sectors``: per sector its label, count, ``start``/``end`` angle and label box.
    ``ring_labels``: per band its text and box.
    """

    alters: pd.DataFrame
    links: pd.DataFrame
    sectors: pd.DataFrame
    ring_labels: pd.DataFrame


def _text_width(text: str, char_w: float) -> float:
    """Width of ``text`` in a monospace font: wide (East Asian) characters count twice."""
    return char_w * sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Placer:
    """Free space on the canvas: boxes and circles already taken, and the canvas bounds."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        self.bounds = bounds
        self.boxes = np.empty((0, 4))
        self.circles = np.empty((0, 3))

    def take_box(self, box) -> None:
        self.boxes = np.vstack([self.boxes, np.asarray(box, dtype=float)[None, :]])

    def take_circles(self, xyr: np.ndarray) -> None:
        self.circles = np.vstack([self.circles, np.asarray(xyr, dtype=float).reshape(-1, 3)])

    def free(self, cands: np.ndarray, *, margin: float = 2.0) -> np.ndarray:
        """Which candidate boxes (m, 4) lie inside the bounds and touch nothing taken."""
        bx0, by0, bx1, by1 = self.bounds
        ok = (cands[:, 0] >= bx0) & (cands[:, 1] >= by0) & (cands[:, 2] <= bx1) & (cands[:, 3] <= by1)
        if len(self.boxes):
            b = self.boxes
            hit = ((cands[:, None, 0] < b[None, :, 2] + margin) & (b[None, :, 0] < cands[:, None, 2] + margin)
                   & (cands[:, None, 1] < b[None, :, 3] + margin) & (b[None, :, 1] < cands[:, None, 3] + margin))
            ok &= ~hit.any(axis=1)
        if len(self.circles):
            c = self.circles
            dx = np.maximum(np.maximum(cands[:, None, 0] - c[None, :, 0], 0), c[None, :, 0] - cands[:, None, 2])
            dy = np.maximum(np.maximum(cands[:, None, 1] - c[None, :, 1], 0), c[None, :, 1] - cands[:, None, 3])
            ok &= ~((dx ** 2 + dy ** 2) < (c[None, :, 2] + margin) ** 2).any(axis=1)
        return ok

    def place(self, cands: np.ndarray, cost: np.ndarray, *, allowed: np.ndarray | None = None) -> int:
        """Take the cheapest free candidate (or, if none is free, the cheapest) and return its index."""
        order = np.argsort(cost, kind="stable")
        free = self.free(cands[order])
        if allowed is not None:
            free &= allowed[order]
        index = int(order[np.argmax(free)]) if free.any() else int(order[0])
        self.take_box(cands[index])
        return index


def _fan(px: float, py: float, theta: float, w: float, h: float, *, start: float, offsets_deg: np.ndarray,
         gaps: np.ndarray, angle_cost: float = 0.35) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate boxes of size w × h around a point, in a fan of directions around ``theta``.

    The anchor lies ``start + gap`` from the point; the box hangs on the side of the anchor that
    faces away from the point. Returns boxes (m, 4), anchors (m, 2) and costs (m,).
    """
    phi = (theta + np.deg2rad(offsets_deg))[:, None]
    dist = (start + gaps)[None, :]
    shape = (len(offsets_deg), len(gaps))
    ux, uy = np.broadcast_to(np.cos(phi), shape), np.broadcast_to(np.sin(phi), shape)
    ax, ay = px + dist * ux, py + dist * uy
    x0 = np.where(ux > 0.38, ax, np.where(ux < -0.38, ax - w, ax - w / 2))
    y0 = np.where(uy > 0.38, ay, np.where(uy < -0.38, ay - h, ay - h / 2))
    boxes = np.stack([x0, y0, x0 + w, y0 + h], axis=-1).reshape(-1, 4)
    anchors = np.stack([ax, ay], axis=-1).reshape(-1, 2)
    cost = (gaps[None, :] + angle_cost * np.abs(offsets_deg)[:, None]).reshape(-1)
    return boxes, anchors, cost


_ALTER_OFFSETS = np.array([0, 22, -22, 45, -45, 70, -70, 95, -95, 125, -125, 155, -155, 180], dtype=float)
_ALTER_GAPS = np.concatenate([np.arange(2, 40, 6), np.arange(40, 420, 12)]).astype(float)


def _check_ties(ties) -> pd.DataFrame:
    if not isinstance(ties, pd.DataFrame):
        raise DataValidationError("De netwerkkaart heeft een tabel met relaties nodig (een DataFrame).")
    if "role" not in ties.columns:
        raise DataValidationError("De relaties missen de kolom 'role' (rol); zonder rol is er geen sector.",
                                  column="role")
    frame = ties.reset_index(drop=True)
    for column in ("alter_id", "alter_key", "closeness", *_SUPPORT_COLUMNS):
        if column not in frame.columns:
            frame[column] = pd.NA
    return frame


def _node_ids(frame: pd.DataFrame) -> pd.Series:
    alter_id = frame["alter_id"].astype("string")
    key = frame["alter_key"].astype("string")
    fallback = pd.Series([f"#{i + 1}" for i in range(len(frame))], index=frame.index, dtype="string")
    return alter_id.fillna(key).fillna(fallback)


def netwerkkaart_layout(ties: pd.DataFrame, *, alter_links: pd.DataFrame | None = None) -> NetwerkkaartLayout:
    """Lay out the netwerkkaart of one ego: sectors, bands, dots, labels and links.

    Parameters
    ----------
    ties : DataFrame
        The ties of one ego (columns as the ``ties`` table; ``role`` is required, missing support
        or closeness columns count as "no" and "unknown").
    alter_links : DataFrame, optional
        Rows ``source``, ``target`` (alter_id or alter_key) of people of this ego who know each
        other; rows naming someone who is not among ``ties`` are left out.

    Returns
    -------
    NetwerkkaartLayout

    Raises
    ------
    DataValidationError
        When ``ties`` is not a table or has no ``role`` column.
    """
    frame = _check_ties(ties)
    n = len(frame)
    role = frame["role"].astype("string").fillna("anders")
    sector = role.map(SECTOR_OF_ROLE).fillna(UNKNOWN_ROLE_SECTOR)
    closeness = pd.to_numeric(frame["closeness"], errors="coerce")
    band = closeness.where(closeness.isin([1, 2, 3]), 0).fillna(0).astype(int)
    nodes = _node_ids(frame)
    labels = nodes.map(lambda s: _short(str(s), LABEL_MAX_CHARS))
    support = pd.DataFrame({c: frame[c].astype("boolean").fillna(False).astype(bool) for c in _SUPPORT_COLUMNS})
    role_rank = role.map({r: i for i, r in enumerate(ROLES)}).fillna(len(ROLES))

    # Sector spans: familie centred at the top, then clockwise.
    counts = sector.value_counts().reindex(list(SECTORS), fill_value=0)
    weights = counts.to_numpy(dtype=float) + max(1.5, n / 10)
    spans = 2 * np.pi * weights / weights.sum()
    starts = -np.pi / 2 - spans[0] / 2 + np.concatenate([[0.0], np.cumsum(spans)[:-1]])
    span_of = dict(zip(SECTORS, zip(starts, spans, strict=True), strict=True))

    angle = np.zeros(n)
    radius = np.zeros(n)
    # Within a sector and circle: by role, then by code (a2 before a10).
    order = pd.DataFrame({"sector": sector, "band": band, "rank": role_rank, "length": labels.str.len(),
                          "label": labels}).sort_values(["rank", "length", "label"], kind="stable")
    for (sec, b), group in order.groupby(["sector", "band"], sort=False):
        start, span = span_of[sec]
        pad = min(span * 0.08, math.radians(6))
        usable = span - 2 * pad
        m = len(group)
        lo, hi = BANDS[b]
        mid = (lo + hi) / 2
        spacing = mid * usable / m
        max_rows = max(1, int((hi - lo - 2 * NODE_R - 6) // (2 * NODE_R + 4)) + 1)
        rows = min(max_rows, max(1, math.ceil(MIN_ARC / spacing))) if m > 1 else 1
        radii = np.linspace(lo + NODE_R + 3, hi - NODE_R - 3, rows) if rows > 1 else np.array([mid])
        idx = group.index.to_numpy()
        angle[idx] = start + pad + usable * (np.arange(m) + 0.5) / m
        radius[idx] = radii[np.arange(m) % rows]
    x, y = CX + radius * np.cos(angle), CY + radius * np.sin(angle)

    placer = _Placer((4.0, HEADER_H + 4.0, CHART_W - 4.0, HEIGHT - 4.0))
    placer.take_circles(np.array([[CX, CY, EGO_R + 2]]))
    placer.take_circles(np.column_stack([x, y, np.full(n, NODE_R + 1.5)]))

    # Sector names outside the circles, then the names of the circles, then the people's labels.
    sector_rows = []
    for sec, (name, _) in SECTORS.items():
        start, span = span_of[sec]
        lines = (*_SECTOR_LINES[sec][:-1], f"{_SECTOR_LINES[sec][-1]} ({counts[sec]})")
        w = max(_text_width(line, 0.64 * SECTOR_FONT) for line in lines) + 4
        h = SECTOR_LINE_H * len(lines) + 2
        half = max(math.degrees(span / 2) - 1.5, 3.0)
        steps = np.arange(3.0, 120.1, 3.0)
        offsets = np.concatenate([[0.0], np.repeat(steps, 2) * np.tile([1.0, -1.0], len(steps))])
        gaps = np.arange(0, 160, 5, dtype=float)
        boxes, _, cost = _fan(CX, CY, start + span / 2, w, h, start=R_OUT + 4, offsets_deg=offsets, gaps=gaps,
                              angle_cost=1.5)
        # Beyond the sector's own angles only when nothing inside them is free.
        cost = cost + 1000 * (np.repeat(np.abs(offsets), len(gaps)) > half)
        # Outside the circles: the box's nearest point lies beyond the outer band.
        nx = np.clip(CX, boxes[:, 0], boxes[:, 2])
        ny = np.clip(CY, boxes[:, 1], boxes[:, 3])
        outside = np.hypot(nx - CX, ny - CY) >= R_OUT + 3
        box = boxes[placer.place(boxes, cost, allowed=outside)]
        sector_rows.append({"sector": sec, "name": name, "lines": lines, "count": int(counts[sec]),
                            "start": start, "end": start + span, "box_x0": box[0], "box_y0": box[1],
                            "box_x1": box[2], "box_y1": box[3]})
    sectors = pd.DataFrame(sector_rows)

    ring_rows = []
    divider = starts[0]  # between professionals and familie, top left
    for b in (3, 2, 1, 0):
        text = CLOSENESS_LABELS[b]
        w, h = _text_width(text, 0.55 * 10), 12.0
        lo, hi = BANDS[b]
        steps = np.arange(6.0, 180.1, 6.0)
        sweep = np.deg2rad(np.concatenate([[0.0], np.repeat(steps, 2) * np.tile([1.0, -1.0], len(steps))]))
        # Along the circle from the divider at the top left, at the band's middle first, then nearer its edges.
        theta = np.tile(divider + sweep, 3)
        r = np.repeat([(lo + hi) / 2, lo + h / 2 + 2, hi - h / 2 - 2], len(sweep))
        cx, cy = CX + r * np.cos(theta), CY + r * np.sin(theta)
        boxes = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        box = boxes[placer.place(boxes, np.arange(len(boxes), dtype=float))]
        ring_rows.append({"band": b, "label": text, "box_x0": box[0], "box_y0": box[1], "box_x1": box[2],
                          "box_y1": box[3]})
    ring_labels = pd.DataFrame(ring_rows)

    n_signs = support.sum(axis=1).to_numpy()
    widths = (np.array([_text_width(t, LABEL_CHAR_W) for t in labels], dtype=float) + 4
              + np.where(n_signs > 0, 3 + SIGN_W * n_signs, 0))
    boxes_out = np.zeros((n, 4))
    lead = np.zeros((n, 2))
    for i in np.lexsort((angle, 3 - band.to_numpy())):  # inner circles first, they have the least room
        boxes, anchors, cost = _fan(x[i], y[i], angle[i], widths[i], LABEL_H, start=NODE_R,
                                    offsets_deg=_ALTER_OFFSETS, gaps=_ALTER_GAPS)
        k = placer.place(boxes, cost)
        boxes_out[i] = boxes[k]
        lead[i] = anchors[k]

    alters = pd.DataFrame({
        "node": nodes, "label": labels, "role": role, "sector": sector, "band": band, "angle": angle,
        "radius": radius, "x": x, "y": y, "in_data": frame["alter_id"].notna().to_numpy(),
        "supported": support.any(axis=1).to_numpy(),
        **{c: support[c].to_numpy() for c in _SUPPORT_COLUMNS},
        "box_x0": boxes_out[:, 0], "box_y0": boxes_out[:, 1], "box_x1": boxes_out[:, 2], "box_y1": boxes_out[:, 3],
        "lead_x": lead[:, 0], "lead_y": lead[:, 1],
    })
    return NetwerkkaartLayout(alters, _links(nodes, alter_links), sectors, ring_labels)


def _links(nodes: pd.Series, alter_links: pd.DataFrame | None) -> pd.DataFrame:
    """Row pairs of people who know each other, each pair once (the first tie of a repeated key)."""
    empty = pd.DataFrame({"a": pd.Series(dtype=int), "b": pd.Series(dtype=int)})
    if alter_links is None or not len(alter_links) or not len(nodes):
        return empty
    if not {"source", "target"} <= set(alter_links.columns):
        raise DataValidationError("De tabel 'wie kent wie' mist de kolommen 'source' en 'target'.",
                                  column="source")
    position = pd.Series(np.arange(len(nodes)), index=nodes.to_numpy())
    position = position[~position.index.duplicated()]
    a = alter_links["source"].astype("string").map(position)
    b = alter_links["target"].astype("string").map(position)
    ok = a.notna() & b.notna() & (a != b)
    pairs = np.sort(np.column_stack([a[ok].astype(int), b[ok].astype(int)]), axis=1)
    pairs = np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)
    return pd.DataFrame({"a": pairs[:, 0].astype(int), "b": pairs[:, 1].astype(int)})


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _sign(column: str, cx: float, cy: float) -> str:
    colour = _SIGN_COLOURS[column]
    if column == "support_emotional":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.7" fill="{colour}"/>'
    if column == "support_practical":
        return f'<rect x="{cx - 3.3:.1f}" y="{cy - 3.3:.1f}" width="6.6" height="6.6" fill="{colour}"/>'
    if column == "support_informational":
        return (f'<rect x="{cx - 2.9:.1f}" y="{cy - 2.9:.1f}" width="5.8" height="5.8" fill="#ffffff" '
                f'stroke="{colour}" stroke-width="1.5" transform="rotate(45 {cx:.1f} {cy:.1f})"/>')
    return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.3" fill="#ffffff" stroke="{colour}" stroke-width="1.6"/>'


def _role_colour(role: str) -> str:
    return ROLE_COLOURS.get(role, UNKNOWN_ROLE_COLOUR)


def ecogram_svg(ties: pd.DataFrame, *, alter_links: pd.DataFrame | None = None, title: str = "") -> str:
    """Return the netwerkkaart of one ego (the rows of ``ties`` with that ego) as a standalone SVG.

    ``alter_links`` are the rows of the ``alter_links`` table of that ego (who knows whom);
    ``title`` is shown on top and as the SVG's accessible name. See the module docstring for what
    the picture shows; :func:`netwerkkaart_layout` says where everything goes.
    """
    layout = netwerkkaart_layout(ties, alter_links=alter_links)
    alters, sectors = layout.alters, layout.sectors
    heading = _short(str(title or "Netwerkkaart"), 70)
    p = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
         f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{_esc(title or "netwerkkaart")}" '
         'font-family="sans-serif">',
         f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
         f'<text x="16" y="30" font-size="18" font-weight="bold" fill="#1f2933">{_esc(heading)}</text>',
         f'<text x="{CHART_W + 14}" y="30" font-size="12" fill="#52606d">{len(alters)} mensen · '
         f'{len(layout.links)} keer kennen twee elkaar</text>']
    # Closeness bands (outside in), their borders, the sector dividers.
    for b in (0, 1, 2, 3):
        lo, hi = BANDS[b]
        dash = ' stroke-dasharray="5 4"' if b == 0 else ""
        stroke = "#c9b27a" if b == 0 else "#a9b7c6"
        p.append(f'<circle cx="{CX}" cy="{CY}" r="{hi}" fill="{BAND_FILLS[b]}" stroke="{stroke}" '
                 f'stroke-width="1.2"{dash}/>')
    p.append(f'<circle cx="{CX}" cy="{CY}" r="{BANDS[3][0]}" fill="#ffffff" stroke="#a9b7c6"/>')
    for start in sectors["start"]:
        x1, y1 = CX + (EGO_R + 6) * math.cos(start), CY + (EGO_R + 6) * math.sin(start)
        x2, y2 = CX + (R_OUT + 10) * math.cos(start), CY + (R_OUT + 10) * math.sin(start)
        p.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#7b8794" '
                 'stroke-width="1.4"/>')
    for row in layout.ring_labels.itertuples(index=False):
        p.append(f'<text x="{(row.box_x0 + row.box_x1) / 2:.1f}" y="{row.box_y1 - 3:.1f}" font-size="10" '
                 f'font-style="italic" text-anchor="middle" fill="#52606d">{_esc(row.label)}</text>')
    for row in sectors.itertuples(index=False):
        for j, line in enumerate(row.lines):
            p.append(f'<text class="sector" x="{(row.box_x0 + row.box_x1) / 2:.1f}" '
                     f'y="{row.box_y0 + 13 + j * SECTOR_LINE_H:.1f}" font-size="{SECTOR_FONT}" font-weight="bold" '
                     f'text-anchor="middle" fill="#1f2933">{_esc(line)}</text>')
    # Who knows whom, then ego's lines, the dots, leaders and labels.
    xs, ys = alters["x"].to_numpy(), alters["y"].to_numpy()
    for a, b in layout.links.itertuples(index=False):
        p.append(f'<line class="kennen" x1="{xs[a]:.1f}" y1="{ys[a]:.1f}" x2="{xs[b]:.1f}" y2="{ys[b]:.1f}" '
                 'stroke="#6b7280" stroke-width="1" stroke-opacity="0.75"/>')
    for row in alters.itertuples(index=False):
        colour = _role_colour(row.role)
        dash = "" if row.supported else ' stroke-dasharray="5 4"'
        width = 1.8 if row.supported else 1.2
        p.append(f'<line class="ego" x1="{CX:.1f}" y1="{CY:.1f}" x2="{row.x:.1f}" y2="{row.y:.1f}" '
                 f'stroke="{colour}" stroke-width="{width}" stroke-opacity="0.8"{dash}/>')
    p.append(f'<circle cx="{CX}" cy="{CY}" r="{EGO_R}" fill="#b3541e" stroke="#ffffff" stroke-width="2"/>')
    p.append(f'<text x="{CX}" y="{CY + 5}" font-size="14" font-weight="bold" text-anchor="middle" '
             'fill="#ffffff">ik</text>')
    for row in alters.itertuples(index=False):
        ring = ' stroke="#111111" stroke-width="2.4"' if row.in_data else ' stroke="#ffffff" stroke-width="1.5"'
        p.append(f'<circle class="persoon" cx="{row.x:.1f}" cy="{row.y:.1f}" r="{NODE_R}" '
                 f'fill="{_role_colour(row.role)}"{ring}/>')
    for row in alters.itertuples(index=False):
        # The leader runs from the dot's edge to the label; next to the dot it has no length.
        bx = min(max(row.x, row.box_x0), row.box_x1)
        by = min(max(row.y, row.box_y0), row.box_y1)
        dist = math.hypot(bx - row.x, by - row.y)
        if dist > NODE_R + 8:
            ex, ey = row.x + (bx - row.x) * NODE_R / dist, row.y + (by - row.y) * NODE_R / dist
        else:
            ex, ey = bx, by
        p.append(f'<line class="wijzer" x1="{ex:.1f}" y1="{ey:.1f}" x2="{bx:.1f}" y2="{by:.1f}" '
                 'stroke="#52606d" stroke-width="0.8"/>')
        p.append(f'<rect class="label" x="{row.box_x0:.1f}" y="{row.box_y0:.1f}" '
                 f'width="{row.box_x1 - row.box_x0:.1f}" height="{LABEL_H}" rx="2" fill="#ffffff" '
                 'fill-opacity="0.9" stroke="#cbd2d9" stroke-width="0.6"/>')
        p.append(f'<text x="{row.box_x0 + 2:.1f}" y="{row.box_y0 + 11.5:.1f}" font-family="monospace" '
                 f'font-size="{LABEL_FONT}" fill="#1f2933">{_esc(row.label)}</text>')
        sx = row.box_x0 + 2 + _text_width(row.label, LABEL_CHAR_W) + 3 + SIGN_W / 2
        for column in _SUPPORT_COLUMNS:
            if getattr(row, column):
                p.append(_sign(column, sx, row.box_y0 + LABEL_H / 2))
                sx += SIGN_W
    if not len(alters):
        p.append(f'<text x="{CX}" y="{CY + 70}" font-size="14" text-anchor="middle" fill="#1f2933">'
                 'Geen steunrelaties vastgelegd.</text>')
    p.extend(_legend(alters))
    p.append("</svg>")
    return "".join(p)


def _legend(alters: pd.DataFrame) -> list[str]:
    """The legend column right of the chart: roles per sector, support signs, lines, circles."""
    x = CHART_W + 14
    y = HEADER_H + 16.0
    out = [f'<line x1="{CHART_W}" y1="{HEADER_H}" x2="{CHART_W}" y2="{HEIGHT - 10}" stroke="#e4e7eb"/>']

    def header(text: str) -> None:
        nonlocal y
        out.append(f'<text x="{x}" y="{y:.1f}" font-size="13" font-weight="bold" fill="#1f2933">{_esc(text)}</text>')
        y += 18

    def entry(symbol: str, text: str, *, indent: float = 0) -> None:
        nonlocal y
        out.append(symbol.format(x=x + indent, cx=x + indent + 8, cy=y - 4, x2=x + indent + 26))
        out.append(f'<text x="{x + indent + 32}" y="{y:.1f}" font-size="12" fill="#1f2933">{_esc(text)}</text>')
        y += 17

    header("Rol (kleur) per sector")
    unknown = [r for r in pd.unique(alters["role"]) if r not in ROLES] if len(alters) else []
    for sec, (name, roles) in SECTORS.items():
        out.append(f'<text x="{x}" y="{y:.1f}" font-size="11" font-weight="bold" fill="#52606d">{_esc(name)}</text>')
        y += 15
        shown = [(r, ROLES[r]) for r in roles] + ([(r, _short(str(r), 40)) for r in unknown[:5]]
                                                  if sec == UNKNOWN_ROLE_SECTOR else [])
        for role, label in shown:
            entry(f'<circle cx="{{cx}}" cy="{{cy}}" r="6" fill="{_role_colour(role)}"/>', label, indent=6)
        if sec == UNKNOWN_ROLE_SECTOR and len(unknown) > 5:
            entry("", f"en nog {len(unknown) - 5} andere rollen", indent=6)
        y += 3
    y += 6
    header("Steun (tekens achter de code)")
    for column, (text, _) in SUPPORT_SIGNS.items():
        out.append(_sign(column, x + 14, y - 4))
        out.append(f'<text x="{x + 32}" y="{y:.1f}" font-size="12" fill="#1f2933">{_esc(text)}</text>')
        y += 17
    y += 6
    header("Lijnen en rondjes")
    entry('<line x1="{x}" y1="{cy}" x2="{x2}" y2="{cy}" stroke="#2d2d2d" stroke-width="1.8"/>',
          "geeft steun (kleur van de rol)")
    entry('<line x1="{x}" y1="{cy}" x2="{x2}" y2="{cy}" stroke="#2d2d2d" stroke-width="1.2" '
          'stroke-dasharray="5 4"/>', "contact, geen steun")
    entry('<line x1="{x}" y1="{cy}" x2="{x2}" y2="{cy}" stroke="#6b7280" stroke-width="1"/>', "kennen elkaar")
    entry(f'<circle cx="{{cx}}" cy="{{cy}}" r="{NODE_R - 1}" fill="#ffffff" stroke="#111111" '
          'stroke-width="2.4"/>', "staat zelf in de gegevens")
    y += 6
    header("Cirkels: hoe dichtbij")
    for b in (3, 2, 1, 0):
        dash = ' stroke-dasharray="3 2"' if b == 0 else ""
        entry(f'<rect x="{{x}}" y="{{cy}}" width="16" height="10" transform="translate(0 -5)" '
              f'fill="{BAND_FILLS[b]}" stroke="#a9b7c6"{dash}/>',
              {3: "heel dichtbij (binnenste cirkel)", 2: "dichtbij", 1: "verder weg",
               0: "nabijheid onbekend (buitenrand)"}[b])
    y += 8
    for line in ("Codes, geen namen. Afdrukken voor het", "gesprek: download SVG of afdrukversie."):
        out.append(f'<text x="{x}" y="{y:.1f}" font-size="11" fill="#52606d">{_esc(line)}</text>')
        y += 14
    return out


def netwerkkaart_print_html(svg: str, *, title: str) -> str:
    """A page that prints the netwerkkaart on one A4 sheet (landscape); the browser can save it as PDF."""
    return (f'<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            "<style>@page{size:A4 landscape;margin:10mm}html,body{margin:0;font-family:sans-serif}"
            "svg{width:100%;height:auto;max-height:190mm;display:block}"
            "@media screen{body{max-width:1200px;margin:16px auto}}</style></head>"
            f"<body>{svg}</body></html>")
