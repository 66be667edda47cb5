"""Download a gemeente's CBS data when the user has internet, through the normal import path.

- Boundaries with key figures: PDOK's *CBS Wijken en Buurten* WFS (layers ``gemeenten``,
  ``wijken``, ``buurten``; the features carry the kerncijfers under the descriptive CBS names),
  saved as a GeoPackage and imported by :func:`data.area_import.read_area_file`.
- Health and wellbeing estimates: CBS StatLine OData table 50120NED (RIVM/GGD
  Gezondheidsmonitor), saved as CSV and imported by :func:`data.health.read_health_file`.

The HTTP client is a parameter (``get``), so tests run on fixture files in the services'
formats and never touch the network.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from data.errors import DataValidationError

PDOK_WFS = "https://service.pdok.nl/cbs/wijkenbuurten/{year}/wfs/v1_0"
STATLINE_ODATA = "https://opendata.cbs.nl/ODataApi/odata/{table}"
HEALTH_TABLE = "50120NED"
PAGE_SIZE = 1000
LAYERS = ("gemeenten", "wijken", "buurten")

Getter = Callable[[str, dict[str, Any]], Any]  # (url, params) -> parsed JSON


def http_get(url: str, params: dict[str, Any]) -> Any:
    """GET ``url`` and return parsed JSON (the real client; tests pass their own)."""
    import requests

    try:
        response = requests.get(url, params=params, timeout=60)
    except requests.RequestException as exc:
        raise DataValidationError(
            f"Geen verbinding met {url.split('/')[2]}: controleer de internetverbinding ({exc.__class__.__name__})."
        ) from exc
    if response.status_code != 200:
        raise DataValidationError(f"{url.split('/')[2]} antwoordde met status {response.status_code}.")
    try:
        return response.json()
    except ValueError as exc:
        raise DataValidationError(f"{url.split('/')[2]} gaf geen JSON terug.") from exc


def _gemeente_filter(gemeente: str) -> str:
    return ("<Filter xmlns=\"http://www.opengis.net/fes/2.0\"><PropertyIsEqualTo>"
            "<ValueReference>gemeentecode</ValueReference>"
            f"<Literal>{gemeente}</Literal></PropertyIsEqualTo></Filter>")


def fetch_pdok_layer(gemeente: str, year: int, layer: str, *, get: Getter | None = None) -> gpd.GeoDataFrame:
    """Download one layer of the PDOK wijken-en-buurten WFS for one gemeente, page by page."""
    get = get or http_get
    url = PDOK_WFS.format(year=year)
    features: list[dict] = []
    start = 0
    while True:
        page = get(url, {
            "service": "WFS", "version": "2.0.0", "request": "GetFeature",
            "typeNames": f"wijkenbuurten:{layer}", "outputFormat": "application/json",
            "srsName": "EPSG:28992", "count": PAGE_SIZE, "startIndex": start,
            "filter": _gemeente_filter(gemeente),
        })
        batch = page.get("features", []) if isinstance(page, dict) else []
        features.extend(batch)
        if len(batch) < PAGE_SIZE:
            break
        start += PAGE_SIZE
    if not features:
        return gpd.GeoDataFrame(geometry=[], crs=28992)
    return gpd.GeoDataFrame.from_features(features, crs=28992)


def fetch_areas_file(gemeente: str, year: int, folder: Path, *, get: Getter | None = None) -> Path:
    """Download gemeente, wijken and buurten from PDOK into a GeoPackage in ``folder``."""
    get = get or http_get
    path = Path(folder) / f"wijkenbuurten_{year}_{gemeente}.gpkg"
    found = 0
    for layer in LAYERS:
        frame = fetch_pdok_layer(gemeente, year, layer, get=get)
        if frame.empty:
            continue
        frame.to_file(path, layer=layer)
        found += len(frame)
    if not found:
        raise DataValidationError(
            f"PDOK heeft geen wijken en buurten voor gemeente {gemeente} in {year}. Controleer de "
            "gemeentecode (GM gevolgd door vier cijfers) en of dat jaar al gepubliceerd is.")
    return path


def _odata_rows(url: str, params: dict[str, Any], get: Getter) -> list[dict]:
    rows: list[dict] = []
    page = get(url, params)
    while True:
        rows.extend(page.get("value", []))
        nxt = page.get("odata.nextLink") or page.get("@odata.nextLink")
        if not nxt:
            return rows
        page = get(nxt, {})


def fetch_health_file(gemeente: str, folder: Path, *, get: Getter | None = None) -> Path:
    """Download the gemeente's rows of StatLine table 50120NED as CSV in ``folder``.

    Age groups and margins arrive as codes; their titles come from the table's dimension
    lists, so the CSV reads like a StatLine export ('18 jaar of ouder', 'Ondergrens ...').
    """
    get = get or http_get
    base = STATLINE_ODATA.format(table=HEALTH_TABLE)
    digits = gemeente[2:]
    flt = (f"startswith(WijkenEnBuurten,'BU{digits}') or startswith(WijkenEnBuurten,'WK{digits}') "
           f"or WijkenEnBuurten eq '{gemeente}'")
    rows = _odata_rows(f"{base}/TypedDataSet", {"$filter": flt, "$format": "json"}, get)
    if not rows:
        raise DataValidationError(f"StatLine (tabel {HEALTH_TABLE}) heeft geen cijfers voor {gemeente}.")
    frame = pd.DataFrame(rows)
    for dim in ("Leeftijd", "Marges"):
        if dim in frame:
            titles = {r["Key"]: r["Title"] for r in _odata_rows(f"{base}/{dim}", {"$format": "json"}, get)}
            frame[dim] = frame[dim].map(lambda k, t=titles: t.get(k, k))
    frame["WijkenEnBuurten"] = frame["WijkenEnBuurten"].astype(str).str.strip()
    path = Path(folder) / f"{HEALTH_TABLE}_{gemeente}.csv"
    frame.to_csv(path, sep=";", index=False)
    return path
