"""Provisions in relation to areas: which lie in or near a buurt or wijk."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.formatting import format_date, format_number
from data.provision_types import PROVISION_TYPES
from data.schema import PROVISION_STATUSES


def provisions_near(provisions: gpd.GeoDataFrame, area: shapely.Geometry, *,
                    distance_m: float = 1000.0) -> pd.DataFrame:
    """Return the provisions inside ``area`` or within ``distance_m`` of its edge, nearest first.

    Both must be in a metric CRS (RD New). The result is ready to show: Dutch column names,
    type label, status, distance ('in het gebied' or metres) and funding end date.
    """
    columns = ["Naam", "Soort", "Status", "Afstand", "Capaciteit per jaar", "Financiering tot"]
    if provisions is None or provisions.empty:
        return pd.DataFrame(columns=columns)
    dist = shapely.distance(provisions.geometry.to_numpy(), area)
    keep = np.flatnonzero(dist <= distance_m)
    if len(keep) == 0:
        return pd.DataFrame(columns=columns)
    near = provisions.iloc[keep].assign(_dist=dist[keep]).sort_values(["_dist", "name"])
    return pd.DataFrame({
        "Naam": near["name"].to_numpy(),
        "Soort": near["type"].map(lambda t: PROVISION_TYPES[t].label if t in PROVISION_TYPES else t).to_numpy(),
        "Status": near["status"].map(lambda s: PROVISION_STATUSES.get(s, s)).to_numpy(),
        "Afstand": ["in het gebied" if d == 0 else f"{format_number(d)} m" for d in near["_dist"]],
        "Capaciteit per jaar": [format_number(c) for c in near["capacity_per_year"]],
        "Financiering tot": [format_date(d) for d in near["funding_end"]],
    })
