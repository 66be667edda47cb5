"""Hot and cold spots of gaps: Getis-Ord Gi* on queen contiguity, significant after FDR correction.

A hot spot is a buurt that, together with its neighbours, has a markedly higher gap than the
study area as a whole (a cluster of high gaps), a cold spot the reverse. Per buurt i, with binary
queen weights w_ij including the buurt itself (w_ii = 1), the n known values x, their mean x̄ and
population standard deviation S:

    z_i = (Σ_j w_ij x_j − x̄ Σ_j w_ij) / (S √((n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)))

computed by esda ``G_Local(star=True, transform="B")``. Binary, not row-standardised weights:
esda's analytic variance assumes w_ij² = w_ij, so only with binary weights is its z-score the
Getis-Ord Gi* z-score above (row-standardised weights would give other, wrong z-scores).

Significance: by default the two-sided p-value of z under the normal approximation
(``p = 2 · (1 − Φ(|z|))``), as in Getis & Ord (1995) and ArcGIS Hot Spot Analysis. Conditional
permutations (``permutations > 0``) are available but not the default: without numba esda's
permutation engine takes minutes per type for 14,500 buurten, and the pseudo p-value cannot go
below 1 / (permutations + 1) = 0.001, while Benjamini-Hochberg over 14,500 tests needs the
smallest p below 0.05 / 14,500 ≈ 3·10⁻⁶ before anything can be called significant. With
permutations, p is the two-sided pseudo p-value min(1, 2 · p_sim). The normal approximation is
weaker for very skewed values and few neighbours; the FDR correction keeps it conservative.

Multiple testing: Benjamini-Hochberg false discovery rate over all tested buurten (esda ``fdr``);
only a buurt significant after that correction is called hot or cold.

Missing values (water, unknown need) are left out of the analysis entirely, not treated as 0: they
are no observation, no neighbour, and do not count in n, x̄ or S. A buurt without a neighbour with a
known value (an island) is no cluster of anything: it gets no z, p or cluster (its own value does
count in x̄ and S).

Contiguity: queen (polygons that share at least one boundary vertex), the rule of libpysal's
``Queen.from_dataframe``, computed here with one vectorised sort of all vertices: libpysal's
per-vertex Python loop takes about a minute for 14,500 buurten with CBS detail (~10 M vertices),
this 1-2 s (bench/bench_gaps.py). Equal to libpysal on the test grids and the demo municipality.

Hot spots that point at people (``need``, ``min_need``): a buurt whose need is below
``MIN_NEED`` (5 persons, :data:`data.disclosure.MIN_CELL`) or unknown is never called hot or cold.
It stays an observation: its value counts in n, x̄ and S and it is a neighbour of the buurten
around it; it only gets no label, and is not one of the hypotheses of the FDR correction: the
family is fixed by need before any p-value is seen, so Benjamini-Hochberg runs unchanged over the
others, and the strong p-values of small buurten no longer lower the bar for their neighbours.
It is kept in rather than left out because its value is known, not missing: a gap of 2 people
where 3 need support is a true, small gap, and leaving such buurten out would punch holes in the
contiguity (clusters that touch across a small buurt fall apart, big buurten become islands) and,
for the gap in people, raise x̄, so that real clusters of many uncovered people stand out less. Smoothing the gap index
(empirical Bayes) was not chosen: it still ranks a buurt by a rate, while the question is where
the people are; the label rule is one number that can be said on screen.

Reading the result for the gap index: it is 1 wherever nothing is within reach, so where that is
the norm, areas without provisions seldom stand out as hot spots, while clusters of well-served
buurten do show as cold spots; in a buurt with 3 people in need one reached person moves it by a
third. And in a scenario that stops every provision of a type the index is 1 everywhere: no
variation, no clusters — the hot spots vanish exactly when the shortage is largest. Gi* compares
each buurt with the study area as it is in that state, so a rise everywhere also hides clusters
that only rose with the rest. The gap in people (``gap_people``) has neither problem: it varies
with the need even where nothing is within reach, and its hot spots show where many uncovered
people live close together. The Tekorten page therefore clusters on it by default, and the
scenario map uses the same measure and the same ``min_need`` rule as the map of the current state.
"""

from __future__ import annotations

import html
import json
import warnings

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template
from folium.utilities import JsCode
from scipy import sparse, stats

from data.disclosure import MIN_CELL
from data.formatting import format_number
from mapping.choropleth import _Legend, escape_html
from mapping.simplify import auto_tolerance_m, web_geometries

CLUSTER_LABELS = {"hot": "Hotspot (cluster van hoge tekorten)", "cold": "Coldspot (cluster van lage tekorten)"}
LAYER_NAME = "Hot- en coldspots"
HOT_COLOUR, COLD_COLOUR = "#d7191c", "#2c7bb6"
_METRIC_CRS = 28992
MIN_NEED = MIN_CELL  # persons in need: below this a buurt is never a hot or cold spot (with ``need``)


def queen_adjacency(buurten: gpd.GeoDataFrame, *, tolerance_m: float = 0.001) -> sparse.csr_matrix:
    """Queen contiguity: n × n binary sparse matrix (rows in the order of ``buurten``), zero diagonal.

    Two buurten are neighbours when they share at least one boundary vertex: coordinates equal on
    a grid of ``tolerance_m`` in RD New (geographic input is projected first). Empty geometries have
    no neighbours. All vertices are sorted once as 63-bit integers (x-band, then x within the band,
    y and the owning buurt), so vertices shared by several buurten end up next to each other.
    """
    geoms = buurten.geometry
    if geoms.crs is not None and geoms.crs.is_geographic:
        geoms = geoms.to_crs(_METRIC_CRS)
    geoms = geoms.to_numpy()
    n = len(geoms)
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    if len(xy) == 0:
        return sparse.csr_matrix((n, n), dtype=np.int8)
    lo = np.nanmin(shapely.bounds(geoms), axis=0)[:2]  # cheaper than a strided min over xy
    x = np.rint((xy[:, 0] - lo[0]) / tolerance_m).astype(np.int64)
    y = np.rint((xy[:, 1] - lo[1]) / tolerance_m).astype(np.int64)
    del xy
    bits_owner, bits_y = max(1, (n - 1).bit_length()), max(1, int(y.max()).bit_length())
    bits_x = 63 - bits_owner - bits_y
    if bits_x < 1:
        raise ValueError("extent too large for queen_adjacency at this tolerance; use a larger tolerance_m")
    band = x >> bits_x
    order = np.argsort(band.astype(np.int16 if band.max() < 2**15 else np.int64), kind="stable")
    packed = (((x & ((1 << bits_x) - 1)) << (bits_y + bits_owner)) | (y << bits_owner) | owner)[order]
    band = band[order]
    del x, y, owner, order
    edges = np.r_[0, np.flatnonzero(band[1:] != band[:-1]) + 1, len(band)]
    for start, stop in zip(edges[:-1], edges[1:], strict=True):
        packed[start:stop].sort()  # sorted by (band, x, y, owner): equal vertices are adjacent
    keep = np.r_[True, (packed[1:] != packed[:-1]) | (band[1:] != band[:-1])]  # one entry per vertex and buurt
    packed, band = packed[keep], band[keep]
    vertex = packed >> bits_owner
    owner = packed & ((1 << bits_owner) - 1)
    starts = np.flatnonzero(np.r_[True, (vertex[1:] != vertex[:-1]) | (band[1:] != band[:-1])])
    sizes = np.diff(np.r_[starts, len(vertex)])
    heads, tails = [np.array([], dtype=np.int64)], [np.array([], dtype=np.int64)]
    for size in np.unique(sizes[sizes > 1]):
        first = starts[sizes == size]
        for a in range(size):  # every pair of buurten at this vertex
            for b in range(a + 1, size):
                heads.append(owner[first + a])
                tails.append(owner[first + b])
    pair = np.sort(np.concatenate(heads) * n + np.concatenate(tails))
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]] if len(pair) else pair
    head, tail = pair // n, pair % n
    return sparse.csr_matrix((np.ones(2 * len(pair), dtype=np.int8), (np.r_[head, tail], np.r_[tail, head])),
                             shape=(n, n))


def gap_hotspots(buurten: gpd.GeoDataFrame, values: pd.Series, *, alpha: float = 0.05, permutations: int = 0,
                 seed: int | None = 12345, adjacency: sparse.spmatrix | None = None,
                 need: pd.Series | None = None, min_need: float = MIN_NEED) -> pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots of ``values`` over the buurten, FDR-corrected.

    Parameters
    ----------
    buurten : GeoDataFrame
        Buurten with ``area_code`` and polygons (any CRS).
    values : Series
        Non-negative values indexed by area_code, e.g. the gap index of one type; NaN (water,
        unknown need) and codes absent from ``values`` are left out of the analysis.
    alpha : float
        False discovery rate (Benjamini-Hochberg) over all tested buurten.
    permutations : int
        0 (default): analytic two-sided normal p-values; otherwise conditional permutations
        (slow at national scale, see the module docstring).
    seed : int, optional
        Seed of the permutations.
    adjacency : sparse matrix, optional
        ``queen_adjacency(buurten)``, to reuse for several value columns.
    need : Series, optional
        Persons in need per area_code. With it, a buurt whose need is below ``min_need`` or
        unknown gets no cluster (it keeps its z and p, counts as an observation and neighbour,
        and is left out of the FDR family; see the module docstring). Without it every tested buurt can be a cluster.
    min_need : float
        The least need (persons) of a hot or cold spot; default ``MIN_NEED`` (5).

    Returns
    -------
    DataFrame
        Indexed by area_code in the order of ``buurten``: ``z`` (Gi* z-score), ``p`` (two-sided
        p-value, uncorrected) and ``cluster`` ('hot', 'cold' or None). NaN z and p for buurten left
        out and islands. ``attrs`` holds ``p_threshold`` (the FDR cut-off: cluster when p is below
        it), ``n_tested`` (buurten in the FDR family), ``n_small_need`` (tested buurten given no
        cluster because of ``min_need``), ``min_need`` (None without ``need``), ``method`` and ``alpha``.
    """
    import esda
    from libpysal.graph import Graph

    codes = buurten["area_code"].astype(str).to_numpy()
    if len(set(codes)) != len(codes):
        raise ValueError("area_code is not unique in buurten")
    if values.index.duplicated().any():
        raise ValueError("values has duplicate area codes")
    if need is not None and need.index.duplicated().any():
        raise ValueError("need has duplicate area codes")
    values = pd.to_numeric(values, errors="coerce").astype(float)
    values.index = values.index.astype(str)
    y_all = values.reindex(codes).to_numpy(float)
    known = np.isfinite(y_all)
    if (y_all[known] < 0).any():
        raise ValueError("Gi* needs non-negative values")
    adjacency = queen_adjacency(buurten) if adjacency is None else sparse.csr_matrix(adjacency)
    if adjacency.shape != (len(codes), len(codes)):
        raise ValueError("adjacency does not match buurten")
    z = np.full(len(codes), np.nan)
    p = np.full(len(codes), np.nan)
    index = np.flatnonzero(known)
    sub = adjacency[index][:, index]
    tested = np.diff(sub.indptr) > 0  # islands (no known neighbour) are not tested
    y = y_all[index]
    method = "permutaties" if permutations else "normale benadering"
    if tested.any() and np.ptp(y) > 0:
        # Binary weights with the buurt itself on the diagonal (Gi*); positions as ids, codes are added below.
        weights = Graph.from_sparse((sparse.csr_matrix(sub, dtype=float)
                                     + sparse.identity(len(index), format="csr")).tocsr())
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            # esda warns that its default (folded, 'directed') permutation p will change; we double it ourselves.
            warnings.simplefilter("ignore", DeprecationWarning)
            gi = esda.G_Local(y, weights, transform="B", star=True, permutations=permutations, seed=seed,
                              keep_simulations=False, n_jobs=1)
        z_sub = np.where(tested, gi.Zs, np.nan)
        if permutations:  # esda keeps p_sim in float32: back to the exact count / (permutations + 1)
            count = np.rint(np.asarray(gi.p_sim, dtype=float) * (permutations + 1))
            p_sub = np.minimum(1.0, 2 * count / (permutations + 1))
        else:
            p_sub = 2 * stats.norm.sf(np.abs(gi.Zs))
        z[index], p[index] = z_sub, np.where(tested, p_sub, np.nan)
    ok = np.isfinite(p) & np.isfinite(z)
    small = np.zeros(len(codes), dtype=bool)
    if need is not None:
        persons = pd.to_numeric(need, errors="coerce").astype(float).set_axis(need.index.astype(str))
        small = ~(persons.reindex(codes).to_numpy(float) >= min_need)  # NaN need: not shown to point at people
    n_small = int((ok & small).sum())
    ok &= ~small
    threshold = float(esda.fdr(p[ok], alpha)) if ok.any() else np.nan
    significant = ok & (p < threshold) if ok.any() else ok
    cluster = np.full(len(codes), None, dtype=object)
    cluster[significant & (z > 0)] = "hot"
    cluster[significant & (z < 0)] = "cold"
    out = pd.DataFrame({"z": z, "p": p}, index=pd.Index(codes, name="area_code"))
    out["cluster"] = pd.Series(cluster, index=out.index, dtype=object)  # None, not NaN, where no cluster
    out.attrs.update(p_threshold=threshold, n_tested=int(ok.sum()), n_small_need=n_small,
                     min_need=None if need is None else float(min_need), method=method, alpha=alpha)
    return out


_HATCH_SVG = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true">'
    '<defs><pattern id="sk-hatch-hot" patternUnits="userSpaceOnUse" width="8" height="8" '
    f'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="8" stroke="{HOT_COLOUR}" stroke-width="2.5"/>'
    "</pattern></defs></svg>"
)
# Leaflet sets an SVG path's fill attribute to fillColor, so a pattern reference works as a fill.
_SPOT_JS = """
function(feature, layer) {
    var p = feature.properties;
    layer.options.className = 'sk-hotspot';
    var base = p.cluster === 'hot'
        ? {color: 'HOT', weight: 2.5, fill: true, fillColor: 'url(#sk-hatch-hot)', fillOpacity: 0.9}
        : {color: 'COLD', weight: 2.5, fill: true, fillColor: 'COLD', fillOpacity: 0.05};
    layer.setStyle(base);
    layer.on('mouseover', function () { layer.setStyle({weight: 4}); });
    layer.on('mouseout', function () { layer.setStyle(base); });
}
""".replace("HOT", HOT_COLOUR).replace("COLD", COLD_COLOUR)


class _HatchDefs(MacroElement):
    """Puts the SVG hatch pattern into the map container once (inline: no external resource)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            if (!document.getElementById('sk-hatch-hot')) {
                {{ this._parent.get_name() }}.getContainer().insertAdjacentHTML('beforeend', {{ this.svg_json }});
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "HatchDefs"
        self.svg_json = json.dumps(_HATCH_SVG).replace("</", "<\\/")


def _hotspot_legend(counts: dict[str, int], alpha: float | None) -> str:
    swatches = {
        "hot": (f"border:2px solid {HOT_COLOUR};background:repeating-linear-gradient(45deg,{HOT_COLOUR},"
                f"{HOT_COLOUR} 2px,#ffffff 2px,#ffffff 5px)"),
        "cold": f"border:2px solid {COLD_COLOUR};background:#ffffff",
    }
    if counts.get("hot", 0) or counts.get("cold", 0):
        rows = "".join(f'<div class="sk-row"><span class="sk-swatch" style="{swatches[k]}"></span>'
                       f"{html.escape(CLUSTER_LABELS[k])} ({counts.get(k, 0)})</div>" for k in ("hot", "cold"))
    else:
        rows = '<div class="sk-row">Geen significante hot- of coldspots gevonden.</div>'
    note = "Getis-Ord Gi*; buren zijn buurten die een grens of hoekpunt delen"
    if alpha is not None:
        note += f"; significant na correctie voor meervoudig toetsen (FDR {format_number(alpha * 100)}%)"
    return (f'<div class="sk-legend-title">{html.escape(LAYER_NAME)}</div>{rows}'
            f'<div style="font-size:11px;color:#555;white-space:normal">{html.escape(note)}</div>')


def add_hotspot_layer(fmap: folium.Map, buurten: gpd.GeoDataFrame, clusters: pd.DataFrame | pd.Series, *,
                      code_col: str = "area_code", name_col: str = "name", simplify_m: float | None = None,
                      show: bool = True, legend: bool = True) -> folium.GeoJson | None:
    """Draw the hot and cold spots on a folium map as the layer 'Hot- en coldspots'.

    Hot spots get a red outline and red hatching, cold spots a blue outline; other buurten are not
    drawn. ``buurten`` in any CRS (RD New or WGS84), with ``code_col`` and ``name_col``;
    ``clusters`` is the result of ``gap_hotspots`` (or a Series of 'hot'/'cold'/None by area_code).
    Outlines are simplified like the choropleth (``simplify_m``: None = the same automatic
    tolerance for the full set of buurten, 0 = none). Adds a Dutch legend (also when nothing is
    significant) and, when the map has none yet, a layer control. All text is escaped; nothing is
    loaded from outside the app.

    Returns the GeoJson layer, or None when there is no hot or cold spot.
    """
    frame = clusters if isinstance(clusters, pd.DataFrame) else clusters.rename("cluster").to_frame()
    codes = buurten[code_col].astype(str).to_numpy()
    cluster = frame["cluster"].reindex(codes).to_numpy(object)
    keep = np.isin(cluster, ["hot", "cold"])
    counts = {k: int((cluster == k).sum()) for k in ("hot", "cold")}
    if legend:
        fmap.add_child(_Legend(_hotspot_legend(counts, frame.attrs.get("alpha"))))
    if not keep.any():
        return None
    geoms_rd = buurten.geometry.to_crs(_METRIC_CRS).to_numpy()
    if simplify_m is None:  # the tolerance the choropleth of all buurten used, so the outlines coincide
        simplify_m = auto_tolerance_m(geoms_rd)
    z = frame["z"].reindex(codes[keep]).to_numpy(float) if "z" in frame else np.full(keep.sum(), np.nan)
    names = buurten[name_col].astype(str).to_numpy()[keep] if name_col in buurten else codes[keep]
    shown = gpd.GeoDataFrame({
        "name": [escape_html(v) for v in names],  # also braces: folium renders scripts as templates
        "cluster": cluster[keep],
        "label": [html.escape(CLUSTER_LABELS[k]) for k in cluster[keep]],
        "z_text": [html.escape(format_number(v, 1)) for v in z],
    }, geometry=web_geometries(geoms_rd[keep], tolerance_m=simplify_m), crs=4326)
    fmap.add_child(_HatchDefs())
    layer = folium.GeoJson(
        shown.__geo_interface__,
        name=html.escape(LAYER_NAME),
        on_each_feature=JsCode(_SPOT_JS),
        tooltip=folium.GeoJsonTooltip(fields=["name", "label", "z_text"], aliases=["Buurt", "Cluster", "Gi* z-score"],
                                      sticky=True),
        zoom_on_click=False,
        show=show,
    )
    layer.add_to(fmap)
    # A layer control lists the layers that exist when its script runs: it must come after this
    # layer, or its script refers to a layer that is not defined yet and the whole map fails.
    for key, child in list(fmap._children.items()):
        if isinstance(child, folium.LayerControl):
            del fmap._children[key]
    folium.LayerControl(collapsed=True, position="topright").add_to(fmap)
    return layer
