"""Lighter geometry for the browser: coverage simplification without gaps or overlaps.

A choropleth of hundreds of buurten with full CBS detail sends megabytes of coordinates
to the browser. Neighbouring buurten share their edges, so they are simplified together
(shapely's ``coverage_simplify``, Visvalingam-Whyatt on the shared edges) and then rounded
to a fixed number of decimals; both steps move shared vertices identically, so no gaps or
overlaps appear between neighbours.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer

_TO_WGS84 = Transformer.from_crs(28992, 4326, always_xy=True)


def auto_tolerance_m(geoms: np.ndarray) -> float:
    """A tolerance of about one screen pixel when the whole set fills a 2000 px wide map."""
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    return float(max(1.0, np.hypot(maxx - minx, maxy - miny) / 2000))


def web_geometries(geoms_rd: np.ndarray, *, tolerance_m: float | None = None,
                   decimals: int = 5) -> np.ndarray:
    """Simplify a polygon coverage in RD New and return it in WGS84 with rounded coordinates.

    Parameters
    ----------
    geoms_rd : array of shapely geometries
        Polygons/multipolygons in EPSG:28992 that form a coverage (buurten of a gemeente).
    tolerance_m : float, optional
        Simplification tolerance in metres; ``None`` picks :func:`auto_tolerance_m`, 0 skips it.
    decimals : int
        Decimals of the WGS84 coordinates (5 ≈ 1 m).
    """
    geoms = np.asarray(geoms_rd, dtype=object)
    tol = auto_tolerance_m(geoms) if tolerance_m is None else tolerance_m
    if tol > 0 and len(geoms):
        try:
            geoms = shapely.coverage_simplify(geoms, tol)
        except shapely.errors.GEOSException:
            # Not a clean coverage (overlapping input): simplify each polygon on its own.
            geoms = shapely.simplify(geoms, tol, preserve_topology=True)

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = _TO_WGS84.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lon, lat]), decimals)

    return shapely.transform(geoms, project)
