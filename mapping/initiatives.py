"""Residents' initiatives (bewonersinitiatieven, issue 17) as a folium map layer.

One layer with an SVG circle marker per initiative (no icon images, nothing from another host), styled by
status: running initiatives are filled, ideas are lighter with a dashed ring, stopped ones hollow and grey.
The popup shows name, what it is, status, the support asked and the organisation to contact; the tooltip
name and status. Every text from the data is escaped (:func:`mapping.choropleth.escape_html`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.errors import DataValidationError
from data.schema import INITIATIVE_STATUSES

INITIATIVE_COLOUR = "#7b3294"  # purple: apart from the provision types' colours and the choropleth palettes
# status: (fill opacity, ring colour, dash)
_STATUS_STYLE = {
    "loopt": (0.9, "#ffffff", None),
    "idee": (0.35, INITIATIVE_COLOUR, "3 2"),
    "gestopt": (0.0, "#777777", "3 3"),
}
_MARKER_JS = """
function(feature, layer) {
    var p = feature.properties;
    layer.options.className = 'sk-initiative';
    layer.setStyle({radius: 8, fill: true, color: p.stroke, weight: 2, fillColor: p.colour,
                    fillOpacity: p.fill_opacity, dashArray: p.dash});
}
"""
POPUP_FIELDS = (("naam", "Naam"), ("wat", "Wat"), ("status_tekst", "Status"), ("steun", "Gevraagde steun"),
                ("contact", "Contact via"), ("buurt", "Buurt"))


def _texts(frame: pd.DataFrame, column: str) -> np.ndarray:
    from mapping.choropleth import escape_html

    if column not in frame:
        return np.full(len(frame), "", dtype=object)
    values = frame[column].astype(object)
    return np.array(["" if v is None or (not isinstance(v, str) and pd.isna(v)) else escape_html(v)
                     for v in values], dtype=object)


def initiative_points(initiatives: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame | None = None) -> gpd.GeoSeries:
    """The point of each initiative in RD New: its own point, else its buurt's location, else empty.

    An initiative recorded with a buurt only is placed at the buurt's representative point
    (:func:`data.reach.buurt_points`, the one location of a buurt); without either it has no point.
    """
    from data.reach import buurt_points

    geometry = initiatives.geometry if isinstance(initiatives, gpd.GeoDataFrame) and \
        initiatives.geometry.name in initiatives else gpd.GeoSeries([None] * len(initiatives), crs=28992)
    points = geometry.set_axis(initiatives.index)
    missing = (points.isna() | points.is_empty).to_numpy()
    if missing.any() and buurten is not None and len(buurten) and "buurt_code" in initiatives:
        located = buurt_points(buurten.to_crs(28992)).set_axis(buurten["area_code"].to_numpy())
        located = located[~located.index.duplicated()]
        fill = initiatives["buurt_code"].map(located)
        points = points.where(~missing, gpd.GeoSeries(fill.to_numpy(), index=points.index, crs=28992))
    return gpd.GeoSeries(points, crs=28992)


def initiatives_layer(initiatives: gpd.GeoDataFrame | None, *, name: str = "Bewonersinitiatieven",
                      buurten: gpd.GeoDataFrame | None = None, show: bool = True):
    """Return the residents' initiatives as one folium layer: a circle marker per initiative.

    Parameters
    ----------
    initiatives : GeoDataFrame or None
        The store's ``initiatives`` (initiative_id, name, what, buurt_code, status, support_asked,
        contact_organisation, geometry as points with a CRS). None or an empty frame gives an empty layer.
    name : str
        The layer's name in the layer control; the control shows it with the layer's colour and the number of
        initiatives drawn.
    buurten : GeoDataFrame, optional
        Buurten (area_code, name, geometry): an initiative without a point is drawn at its buurt's location,
        and the popup names the buurt. Initiatives with neither a point nor a known buurt are not drawn.
    show : bool
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        The layer; add it to a map made with :func:`mapping.assets.local_map` (no remote assets).

    Raises
    ------
    DataValidationError
        The initiatives have points but no coordinate system, or a geometry that is not a point.
    """
    import folium
    from folium.utilities import JsCode

    from mapping.choropleth import escape_html

    if initiatives is None or len(initiatives) == 0:
        return folium.FeatureGroup(name=f"{escape_html(name)} (0)", show=show)
    if isinstance(initiatives, gpd.GeoDataFrame) and initiatives.geometry.name in initiatives:
        own = initiatives.geometry
        present = own.notna().to_numpy() & ~own.is_empty.to_numpy()
        if present.any() and initiatives.crs is None:
            raise DataValidationError("Bewonersinitiatieven: de punten hebben geen coördinatenstelsel; lees ze in "
                                      "met hun CRS (in de opslag RD New, EPSG:28992).", column="geometry")
        if present.any() and (shapely.get_type_id(own[present].to_numpy()) != 0).any():
            raise DataValidationError("Bewonersinitiatieven: een initiatief is een punt op de kaart, geen lijn of "
                                      "vlak.", column="geometry")
        if present.any():
            initiatives = initiatives.to_crs(28992)
    points = initiative_points(initiatives, buurten)
    drawn = (points.notna() & ~points.is_empty).to_numpy()
    frame = pd.DataFrame(initiatives).loc[drawn]
    status = frame["status"].astype(object).where(frame["status"].notna(), "loopt") if "status" in frame else \
        pd.Series("loopt", index=frame.index, dtype=object)
    style = status.map(lambda s: _STATUS_STYLE.get(s, _STATUS_STYLE["loopt"]))
    buurt_names = (buurten.drop_duplicates("area_code").set_index("area_code")["name"]
                   if buurten is not None and "name" in buurten else pd.Series(dtype=object))
    codes = frame["buurt_code"] if "buurt_code" in frame else pd.Series(None, index=frame.index, dtype=object)
    buurt = codes.map(buurt_names).astype(object)
    buurt = buurt.where(buurt.notna(), codes)  # a code without a known name is shown as the code
    data = gpd.GeoDataFrame({
        "naam": _texts(frame, "name"),
        "wat": _texts(frame, "what"),
        "status_tekst": [escape_html(INITIATIVE_STATUSES.get(s, s)) for s in status],
        "steun": _texts(frame, "support_asked"),
        "contact": _texts(frame, "contact_organisation"),
        "buurt": _texts(pd.DataFrame({"buurt": buurt}), "buurt"),
        "colour": INITIATIVE_COLOUR,
        "fill_opacity": [s[0] for s in style],
        "stroke": [s[1] for s in style],
        "dash": [s[2] for s in style],
    }, geometry=points[drawn].to_numpy(), crs=28992).to_crs(4326)
    swatch = f'<span style="color:{INITIATIVE_COLOUR};font-size:16px">&#9679;</span>'
    layer = folium.FeatureGroup(name=f"{swatch} {escape_html(name)} ({len(data)})", show=show)
    if len(data):
        folium.GeoJson(
            data.__geo_interface__,
            name=escape_html(name),
            marker=folium.CircleMarker(radius=8),
            on_each_feature=JsCode(_MARKER_JS),
            popup=folium.GeoJsonPopup(fields=[f for f, _ in POPUP_FIELDS], aliases=[a for _, a in POPUP_FIELDS]),
            tooltip=folium.GeoJsonTooltip(fields=["naam", "status_tekst"], aliases=["", "Status"]),
        ).add_to(layer)
    return layer
