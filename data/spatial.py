"""Spatial joins of the store, done by geopandas (``sjoin`` over an STRtree), not by the store itself."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from data.schema import CRS_EPSG


def buurt_codes_at(points, buurten: gpd.GeoDataFrame) -> list[str | None]:
    """The ``area_code`` of the buurt each point lies in (RD New), None outside every buurt.

    A point on the shared edge of two buurten lies *within* neither; it stays None, as a point outside the
    gemeente does. When buurten overlap (a faulty file) the first in ``buurten``'s order wins.
    """
    out: list[str | None] = [None] * len(points)
    if buurten.empty or not len(points):
        return out
    pts = gpd.GeoDataFrame(geometry=gpd.GeoSeries(np.asarray(points, dtype=object), crs=CRS_EPSG))
    areas = gpd.GeoDataFrame({"area_code": buurten["area_code"].to_numpy(),
                              "order": np.arange(len(buurten))},
                             geometry=buurten.geometry.to_numpy(), crs=CRS_EPSG)
    joined = gpd.sjoin(pts, areas, how="inner", predicate="within").sort_values("order", kind="stable")
    first = joined[~joined.index.duplicated(keep="first")]
    for position, code in zip(first.index.to_numpy(), first["area_code"].to_numpy(), strict=True):
        out[int(position)] = code
    return out
