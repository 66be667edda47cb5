"""Provisions in relation to areas: which lie in or near a buurt or wijk; the inventory as a table and
as map layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.addresses import address_lines
from data.formatting import format_date, format_number
from data.provision_types import PROVISION_TYPES
from data.reach import effective_reach_m, is_running
from data.schema import PROVISION_STATUSES

# Imported from open data outside the areas of the store: shown, but not counted in gaps.
OUTSIDE_AREAS_LABEL = "buiten de geladen gebieden"


def provision_status_labels(provisions: pd.DataFrame) -> pd.Series:
    """The Dutch status of each provision, with '(buiten de geladen gebieden)' for those outside the areas."""
    labels = provisions["status"].map(lambda s: PROVISION_STATUSES.get(s, s)).astype(str)
    if "outside_areas" not in provisions:
        return labels
    outside = provisions["outside_areas"].astype("boolean").fillna(False).astype(bool)
    return labels.where(~outside, labels + f" ({OUTSIDE_AREAS_LABEL})")


def provisions_table(provisions: pd.DataFrame, catalogue: dict | None = None) -> pd.DataFrame:
    """The inventory as the Voorzieningen page shows it: one row per provision, Dutch columns, the
    address on one line ('Dorpsstraat 12a, 1234 AB Plaats')."""
    types = PROVISION_TYPES if catalogue is None else catalogue
    return pd.DataFrame({
        "id": provisions["provision_id"],
        "Naam": provisions["name"],
        "Soort": provisions["type"].map(lambda t: types[t].label if t in types else t),
        "Status": provision_status_labels(provisions),
        "Organisatie": provisions["organisation"].astype(object).where(provisions["organisation"].notna(), ""),
        "Adres": address_lines(provisions),
        "Capaciteit per jaar": [format_number(c) if pd.notna(c) else "" for c in provisions["capacity_per_year"]],
        "Financiering tot": provisions["funding_end"].map(format_date),
        "Laatst gecontroleerd": provisions["last_verified"].map(format_date),
    }, index=provisions.index)


def _reaches(provisions: gpd.GeoDataFrame, area: shapely.Geometry, catalogue: dict | None) -> np.ndarray:
    """Whether each provision reaches the area, by the one rule of :mod:`data.reach` (as on the gap page):
    running, and the area's location (its representative point) within the provision's effective reach."""
    point = shapely.point_on_surface(area)
    dist = shapely.distance(provisions.geometry.to_numpy(), point)
    return is_running(provisions) & (dist <= effective_reach_m(provisions, catalogue))


def reach_by_type(provisions: gpd.GeoDataFrame, area: shapely.Geometry, catalogue: dict | None = None
                  ) -> pd.DataFrame:
    """Per provision type: how many running provisions reach the area, by status, and the nearest.

    A provision reaches the area when it runs and the area's location (a point inside it, the same
    point the gap page and the matching use for a buurt) lies within its reach (its own, else its
    type's default; see :mod:`data.reach`). Stopped provisions are counted apart.
    """
    columns = ["Soort", "Actief binnen bereik", "Onder druk binnen bereik", "Gestopt", "Dichtstbijzijnde actieve"]
    if provisions is None or provisions.empty:
        return pd.DataFrame(columns=columns)
    dist = shapely.distance(provisions.geometry.to_numpy(), area)
    frame = pd.DataFrame({"type": provisions["type"].to_numpy(), "status": provisions["status"].to_numpy(),
                          "reaches": _reaches(provisions, area, catalogue), "dist": dist,
                          "running": is_running(provisions)})
    rows = []
    for code, spec in (PROVISION_TYPES if catalogue is None else catalogue).items():
        own = frame.loc[frame["type"] == code]
        running = own.loc[own["running"], "dist"]
        rows.append({
            "Soort": spec.label,
            "Actief binnen bereik": int(((own["status"] == "actief") & own["reaches"]).sum()),
            "Onder druk binnen bereik": int(((own["status"] == "onder_druk") & own["reaches"]).sum()),
            "Gestopt": int((own["status"] == "gestopt").sum()),
            "Dichtstbijzijnde actieve": ("in het gebied" if len(running) and running.min() == 0 else
                                         f"{format_number(running.min())} m" if len(running) else "geen"),
        })
    return pd.DataFrame(rows, columns=columns)


def provisions_near(provisions: gpd.GeoDataFrame, area: shapely.Geometry, *,
                    distance_m: float = 1000.0, catalogue: dict | None = None) -> pd.DataFrame:
    """Return the provisions inside ``area`` or within ``distance_m`` of its edge, nearest first.

    Both must be in a metric CRS (RD New). The result is ready to show: Dutch column names,
    type label, status, distance ('in het gebied' or metres) and funding end date.
    """
    columns = ["Naam", "Soort", "Status", "Afstand", "Binnen bereik", "Capaciteit per jaar", "Financiering tot"]
    if provisions is None or provisions.empty:
        return pd.DataFrame(columns=columns)
    dist = shapely.distance(provisions.geometry.to_numpy(), area)
    keep = np.flatnonzero(dist <= distance_m)
    if len(keep) == 0:
        return pd.DataFrame(columns=columns)
    near = provisions.iloc[keep].assign(_dist=dist[keep]).sort_values(["_dist", "name"])
    types = PROVISION_TYPES if catalogue is None else catalogue
    return pd.DataFrame({
        "Naam": near["name"].to_numpy(),
        "Soort": near["type"].map(lambda t: types[t].label if t in types else t).to_numpy(),
        "Status": near["status"].map(lambda s: PROVISION_STATUSES.get(s, s)).to_numpy(),
        "Afstand": ["in het gebied" if d == 0 else f"{format_number(d)} m" for d in near["_dist"]],
        "Binnen bereik": np.where(_reaches(near, area, catalogue), "ja",
                                  np.where(near["status"].to_numpy() == "gestopt", "nee (gestopt)", "nee")),
        "Capaciteit per jaar": [format_number(c) for c in near["capacity_per_year"]],
        "Financiering tot": [format_date(d) for d in near["funding_end"]],
    })


_STATUS_STYLE = {
    # status: (fill opacity, border colour, dash) -- stopped is hollow and dashed, at risk has a red ring
    "actief": (0.9, "#ffffff", None),
    "onder_druk": (0.9, "#d7191c", None),
    "gestopt": (0.0, "#555555", "3 3"),
    "hypothetisch": (0.5, "#111111", "2 2"),  # only exists in a scenario
}
_MARKER_JS = """
function(feature, layer) {
    var p = feature.properties;
    layer.options.className = 'sk-provision';
    layer.setStyle({radius: 7, fill: true, color: p.stroke, weight: p.status === 'onder_druk' ? 3 : 1.5,
                    fillColor: p.colour, fillOpacity: p.fill_opacity, dashArray: p.dash});
    var reach = null;
    function showReach() {
        if (reach === null && p.reach_m > 0) {
            reach = L.circle(layer.getLatLng(), {radius: p.reach_m, color: p.colour, weight: 1.5,
                                                 fillOpacity: 0.08, interactive: false});
        }
        if (reach !== null && layer._map) { reach.addTo(layer._map); }
    }
    function hideReach() { if (reach !== null && !layer.isPopupOpen()) { reach.remove(); } }
    layer.on('mouseover', showReach);
    layer.on('mouseout', hideReach);
    layer.on('popupopen', showReach);
    layer.on('popupclose', function () { if (reach !== null) { reach.remove(); } });
}
"""


def add_provision_layers(m, provisions: gpd.GeoDataFrame, catalogue: dict | None = None) -> None:
    """Add the provisions to a folium map: one layer per type, SVG circle markers.

    Colour by type; at-risk provisions get a red ring, stopped ones are hollow and dashed.
    Hovering or opening a marker shows its reach as a circle. The popup shows the organisation's
    address and, for a provision outside the loaded areas, says so with its status. All text in
    popups and tooltips is escaped.
    """
    import re

    import folium
    from folium.utilities import JsCode

    from mapping.choropleth import escape_braces, escape_html

    if provisions is None or provisions.empty:
        return
    wgs = provisions.to_crs(4326)
    for code, group in wgs.groupby("type", sort=False):
        spec = (PROVISION_TYPES if catalogue is None else catalogue).get(code)
        colour = spec.colour if spec and re.fullmatch(r"#[0-9A-Fa-f]{3,8}", str(spec.colour)) else "#555555"
        label = spec.label if spec else str(code)
        style = group["status"].map(lambda s: _STATUS_STYLE.get(s, _STATUS_STYLE["actief"]))
        data = gpd.GeoDataFrame({
            "naam": group["name"].astype(str).map(escape_html).to_numpy(),
            "soort": escape_html(label),
            "status": group["status"].astype(str).map(escape_braces).to_numpy(),
            "status_tekst": provision_status_labels(group).map(escape_html).to_numpy(),
            "organisatie": group["organisation"].fillna("").astype(str).map(escape_html).to_numpy(),
            "adres": address_lines(group).map(escape_html).to_numpy(),
            "capaciteit": [escape_html(f"{format_number(c)} {u or ''}".strip()) if pd.notna(c) else "onbekend"
                           for c, u in zip(group["capacity_per_year"], group["capacity_unit"], strict=True)],
            "bereik": [f"{format_number(r)} m" for r in group["reach_m"].fillna(0)],
            "financiering_tot": [escape_html(format_date(d)) for d in group["funding_end"]],
            "reach_m": group["reach_m"].fillna(0).astype(float).to_numpy(),
            "colour": colour,
            "fill_opacity": [s[0] for s in style],
            "stroke": [s[1] for s in style],
            "dash": [s[2] for s in style],
        }, geometry=group.geometry.to_numpy(), crs=4326)
        swatch = f'<span style="color:{colour};font-size:16px">&#9679;</span>'
        layer = folium.FeatureGroup(name=f"{swatch} {escape_html(label)} ({len(group)})", show=True)
        folium.GeoJson(
            data.__geo_interface__,
            marker=folium.CircleMarker(radius=7),
            on_each_feature=JsCode(_MARKER_JS),
            popup=folium.GeoJsonPopup(
                fields=["naam", "soort", "status_tekst", "organisatie", "adres", "capaciteit", "bereik",
                        "financiering_tot"],
                aliases=["Naam", "Soort", "Status", "Organisatie", "Adres", "Capaciteit per jaar", "Bereik",
                         "Financiering tot"],
            ),
            tooltip=folium.GeoJsonTooltip(fields=["naam", "status_tekst"], aliases=["", "Status"]),
        ).add_to(layer)
        layer.add_to(m)
