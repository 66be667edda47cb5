"""Lighter geometry for the browser: coverage simplification without gaps or overlaps.

A choropleth of hundreds of buurten with full CBS detail sends megabytes of coordinates
to the browser. Neighbouring buurten share their edges, so they are simplified together
(shapely's ``coverage_simplify``, Visvalingam-Whyatt on the shared edges) and then rounded
to a fixed number of decimals; both steps move shared vertices identically, so no gaps or
overlaps appear between neighbours.
"""

from __future__ import annotations

import hashlib
import json

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


def _rd(geoms) -> np.ndarray:
    """The geometries as an array in RD New (a GeoSeries in another CRS is reprojected; none: taken as RD New)."""
    crs = getattr(geoms, "crs", None)
    if crs is not None and crs.to_epsg() != 28992:
        geoms = geoms.to_crs(28992)
    return np.asarray(geoms, dtype=object)


def geometry_fingerprint(codes: list[str], geoms_rd: np.ndarray) -> str:
    """A hash of the area codes and their exact geometry (WKB): equal only for the same areas."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(json.dumps(codes).encode())
    geoms_rd = np.asarray(geoms_rd, dtype=object)
    digest.update(np.asarray(shapely.get_num_coordinates(geoms_rd), dtype=np.int64).tobytes())
    digest.update(b"".join(shapely.to_wkb(geoms_rd[~shapely.is_missing(geoms_rd)]).tolist()))
    return digest.hexdigest()


def encode_web_geometries(geoms: np.ndarray) -> bytes:
    """Geometries as one blob: their WKB in hex, one per line (empty for a missing geometry); exact."""
    hexes = shapely.to_wkb(np.asarray(geoms, dtype=object), hex=True)
    return "\n".join(np.where(shapely.is_missing(geoms), "", hexes).tolist()).encode("ascii")


def decode_web_geometries(payload: bytes, n: int) -> np.ndarray:
    """The inverse of :func:`encode_web_geometries` (``n`` geometries)."""
    if n == 0:
        return np.array([], dtype=object)
    hexes = np.array(payload.decode("ascii").split("\n"), dtype=object)
    if len(hexes) != n:
        raise ValueError(f"{len(hexes)} cached geometries for {n} areas")
    hexes[hexes == ""] = None
    return shapely.from_wkb(hexes)


def cached_web_geometries(store, name: str, codes, geoms, *, data_version: int,
                          tolerance_m: float | None = None, decimals: int = 5) -> np.ndarray:
    """:func:`web_geometries` of a coverage, simplified once and kept in the store (a derived table).

    The coverage simplification of a national map (11,7 M vertices) takes most of a minute; its result is
    stored with the store's data version and a fingerprint of the areas, so a new server process (or a
    second app server on the same store) reads it back in a moment. When the data version moved (an area
    import, an undo, any other write) the fingerprint decides: the same areas re-use the stored result, other
    areas are simplified again. Writing the cache never bumps the data version, and when it cannot be read or
    written (a read-only store) the geometry is simplified here: the map is drawn anyway.

    Parameters
    ----------
    store : SqlStore
        With ``read_map_geometry`` / ``write_map_geometry`` (a store without them: no cache).
    name : str
        What the geometries are, e.g. the level ``buurt``; part of the cache key with the tolerance.
    codes : sequence of str
        The area codes, aligned with ``geoms``.
    geoms : GeoSeries or array of shapely geometries
        The areas in RD New (a GeoSeries in another CRS is reprojected first).
    data_version : int
        The store's data version the areas were read at (``store.data_version()``).
    tolerance_m, decimals
        As for :func:`web_geometries`.

    Returns
    -------
    ndarray
        Exactly what ``web_geometries(geoms, tolerance_m=tolerance_m, decimals=decimals)`` returns.
    """
    geoms_rd = _rd(geoms)
    codes = [str(c) for c in codes]
    tol = auto_tolerance_m(geoms_rd) if tolerance_m is None else float(tolerance_m)
    key = f"{name}|tol={tol!r}|dec={int(decimals)}"
    readable = hasattr(store, "read_map_geometry") and hasattr(store, "write_map_geometry")
    stored = store.read_map_geometry(key) if readable else None
    fingerprint = None
    if stored is not None and stored["codes"] == json.dumps(codes):
        fresh = stored["data_version"] == int(data_version)
        if not fresh:
            fingerprint = geometry_fingerprint(codes, geoms_rd)
        if fresh or stored["fingerprint"] == fingerprint:
            try:
                web = decode_web_geometries(stored["payload"], len(codes))
            except (ValueError, shapely.errors.GEOSException):
                web = None
            if web is not None:
                if not fresh:  # the same areas at a newer version: next time no fingerprint is needed
                    store.write_map_geometry(key, data_version=int(data_version), fingerprint=fingerprint,
                                             codes=stored["codes"], payload=stored["payload"])
                return web
    web = web_geometries(geoms_rd, tolerance_m=tol, decimals=decimals)
    if readable:
        store.write_map_geometry(key, data_version=int(data_version),
                                 fingerprint=fingerprint or geometry_fingerprint(codes, geoms_rd),
                                 codes=json.dumps(codes), payload=encode_web_geometries(web))
    return web
