"""Maps as static images for reports: rendered on the server with matplotlib, no tiles, no host.

:func:`static_map_png` draws areas (RD New, metres) filled with given colours, the chosen area
outlined, optional labels, the legend *outside* the map (below it), a metric scale bar and the
CBS/Kadaster credit. Reports embed the PNG as a ``data:`` URI (:mod:`reports`), the Excel exports
as a picture.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")  # no screen on a server; set before pyplot is imported anywhere

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from data.schema import CRS_EPSG  # noqa: E402

CREDIT = "Bron: CBS Wijk- en buurtkaart / Kadaster (CC BY 4.0)"
HIGHLIGHT_COLOUR = "#111111"
CONTEXT_FILL = "#f2f2f2"
MAX_LABELS = 80  # more names than this on one static map are unreadable
_NICE_STEPS_M = (100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000)


def scale_bar_length_m(map_width_m: float) -> int:
    """A round length (m) of about a fifth of the map's width for the scale bar."""
    target = max(map_width_m, 1.0) / 5
    fitting = [s for s in _NICE_STEPS_M if s <= target]
    return fitting[-1] if fitting else _NICE_STEPS_M[0]


def scale_bar_label(length_m: int) -> str:
    """'500 m', '2 km', '2,5 km' (Dutch decimal comma)."""
    if length_m < 1000:
        return f"{length_m} m"
    km = length_m / 1000
    return (f"{km:g} km").replace(".", ",")


def static_map_png(areas: gpd.GeoDataFrame, fills: Sequence[str] | str = "fill", *,
                   highlight: str | Iterable[str] | None = None, code_col: str = "area_code",
                   label_col: str | None = None, legend: Sequence[tuple[str, str]] = (), legend_title: str = "",
                   context: gpd.GeoDataFrame | None = None, width_px: int = 900, title: str | None = None,
                   credit: str = CREDIT) -> bytes:
    """Render areas as a PNG map.

    Parameters
    ----------
    areas : GeoDataFrame
        The areas to draw (any CRS; drawn in RD New, EPSG:28992).
    fills : str or sequence of str
        A column of ``areas`` with a colour per area, or the colours themselves (hex), in row order.
    highlight : str or iterable of str, optional
        Code(s) (in ``code_col``) of the area(s) outlined thick in near-black.
    label_col : str, optional
        Column with a label per area; drawn when there are at most :data:`MAX_LABELS` areas.
    legend : sequence of (colour, label)
        Legend entries, drawn below the map (never over it).
    context : GeoDataFrame, optional
        Areas drawn first in light grey without data (e.g. the rest of the gemeente).
    width_px : int
        Width of the image in pixels (height follows the map's shape and the legend).
    title, credit : str
        Title above the map; source credit at the bottom right.

    Returns
    -------
    bytes
        A PNG image.
    """
    shown = areas.to_crs(CRS_EPSG) if areas.crs is not None else areas.set_crs(CRS_EPSG)
    colours = list(shown[fills]) if isinstance(fills, str) else list(fills)
    if len(colours) != len(shown):
        raise ValueError("fills must give one colour per area")
    ctx = context.to_crs(CRS_EPSG) if context is not None and len(context) else None
    frame = ctx if ctx is not None else shown
    minx, miny, maxx, maxy = frame.total_bounds if len(frame) else (0, 0, 1, 1)
    pad = 0.03 * max(maxx - minx, maxy - miny, 1)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    aspect = (maxy - miny) / max(maxx - minx, 1)
    n_legend_rows = int(np.ceil(len(legend) / 2)) if legend else 0
    width_in = width_px / 100
    map_h = min(max(width_in * aspect, 2.5), width_in * 1.6)
    legend_h = (0.35 + 0.24 * n_legend_rows) if legend else 0
    title_h = 0.4 if title else 0
    fig = Figure(figsize=(width_in, map_h + legend_h + title_h + 0.35), dpi=100)
    FigureCanvasAgg(fig)
    total_h = map_h + legend_h + title_h + 0.35
    ax = fig.add_axes((0.01, (legend_h + 0.35) / total_h, 0.98, map_h / total_h))
    ax.set_axis_off()
    if ctx is not None:
        ctx.plot(ax=ax, color=CONTEXT_FILL, edgecolor="#bbbbbb", linewidth=0.4)
    if len(shown):
        shown.plot(ax=ax, color=colours, edgecolor="#555555", linewidth=0.5)
    if highlight is not None:
        codes = {highlight} if isinstance(highlight, str) else set(highlight)
        chosen = shown.loc[shown[code_col].isin(codes)] if code_col in shown else shown.iloc[0:0]
        if ctx is not None and code_col in ctx:
            chosen = pd.concat([chosen, ctx.loc[ctx[code_col].isin(codes) & ~ctx[code_col].isin(chosen[code_col])]])
        if len(chosen):
            gpd.GeoSeries(chosen.geometry, crs=CRS_EPSG).boundary.plot(ax=ax, color=HIGHLIGHT_COLOUR, linewidth=2.6)
    if label_col and label_col in shown and 0 < len(shown) <= MAX_LABELS:
        points = shown.geometry.representative_point()
        for text, point in zip(shown[label_col].astype(str), points, strict=True):
            ax.annotate(text, (point.x, point.y), ha="center", va="center", fontsize=6.5, color="#111111",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.6})
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    # Metric scale bar, bottom left inside the map frame (RD New is in metres).
    length = scale_bar_length_m(maxx - minx)
    x0, y0 = minx + 0.03 * (maxx - minx), miny + 0.03 * (maxy - miny)
    bar_h = 0.012 * (maxy - miny)
    ax.add_patch(Rectangle((x0, y0), length / 2, bar_h, fc="#222222", ec="#222222"))
    ax.add_patch(Rectangle((x0 + length / 2, y0), length / 2, bar_h, fc="white", ec="#222222"))
    ax.text(x0 + length, y0 + 2.2 * bar_h, scale_bar_label(length), ha="right", va="bottom", fontsize=8)
    ax.text(x0, y0 + 2.2 * bar_h, "0", ha="left", va="bottom", fontsize=8)
    if title:
        fig.text(0.01, 1 - 0.3 / total_h, title, fontsize=11, fontweight="bold", va="center")
    if legend:
        handles = [Patch(facecolor=c, edgecolor="#777777", label=label) for c, label in legend]
        fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.35 / total_h), ncol=2,
                   frameon=False, fontsize=8.5, title=legend_title or None, title_fontsize=9,
                   alignment="left")
    fig.text(0.99, 0.1 / total_h, credit, ha="right", va="bottom", fontsize=7, color="#555555")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
