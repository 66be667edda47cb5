"""Harmonise CBS wijk- en buurtkaart tables (any year, any column style) for the store.

CBS publishes the same key figures under different column names per year (``AANT_INW``
in 2015, ``aant_inw`` in 2017, ``aantal_inwoners`` since 2022) and codes secret or
unknown values as large negative numbers. :func:`harmonise_cbs_areas` maps all of that to
the indicator catalogue and to missing values with a status, so that no secrecy code
ever enters a sum or an average.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.errors import DataValidationError
from data.indicators import BY_NAME, alias_map
from data.schema import CRS_EPSG

# Secrecy / missing codes used across CBS products. Any value at or below the
# threshold is a code, never a number.
SECRECY_CODES: dict[int, str] = {
    -99999999: "geheim",
    -99999997: "onbekend",
    -99997: "geheim",
    -99995: "onbekend",
}
_CODE_THRESHOLD = -99995

_LEVEL_COLUMNS = {
    # level: (code columns, name columns) in order of preference, lower case
    "buurt": (("bu_code", "buurtcode"), ("bu_naam", "buurtnaam")),
    "wijk": (("wk_code", "wijkcode"), ("wk_naam", "wijknaam")),
    "gemeente": (("gm_code", "gemeentecode"), ("gm_naam", "gemeentenaam")),
}


@dataclass
class HarmonisedAreas:
    """Areas ready for the store plus a report of what was changed on the way."""

    areas: gpd.GeoDataFrame
    values: pd.DataFrame
    report: dict = field(default_factory=dict)


def _first_present(columns: pd.Index, candidates: tuple[str, ...]) -> str | None:
    for cand in candidates:
        if cand in columns:
            return cand
    return None


def detect_level(columns: pd.Index) -> str:
    """Return 'buurt', 'wijk' or 'gemeente' from the code columns present."""
    lower = pd.Index([str(c).lower() for c in columns])
    for level, (codes, _) in _LEVEL_COLUMNS.items():
        if _first_present(lower, codes):
            return level
    raise DataValidationError(
        "Geen gebiedscode gevonden: verwacht een kolom zoals 'buurtcode'/'BU_CODE', "
        "'wijkcode'/'WK_CODE' of 'gemeentecode'/'GM_CODE'.",
        column="buurtcode",
    )


def harmonise_cbs_areas(
    frame: gpd.GeoDataFrame,
    *,
    file: str = "invoer",
    year: int | None = None,
    gemeente: str | None = None,
    source: str = "CBS Wijk- en Buurtkaart",
    level: str | None = None,
) -> HarmonisedAreas:
    """Turn one CBS wijk/buurt/gemeente layer into store areas and long key figures.

    Parameters
    ----------
    frame : GeoDataFrame
        A CBS layer as read from GeoPackage, shapefile or GeoJSON, in RD New or WGS84.
    file : str
        File name used in messages.
    year : int, optional
        Data year; stored with every value.
    gemeente : str, optional
        Keep only this gemeente code (e.g. ``GM0080``).
    source : str
        Source label stored with every value.
    level : str, optional
        Expected level ('buurt', 'wijk', 'gemeente'), e.g. from the layer name; detected from
        the code columns when omitted.

    Returns
    -------
    HarmonisedAreas
        ``areas`` in EPSG:28992 with the store's columns, ``values`` in long form
        (area_code, indicator, year, value, status, source) and a ``report`` with the
        counts of repaired geometries, missing values and uninhabited areas.

    Raises
    ------
    DataValidationError
        No code column, no or unknown CRS, duplicate codes, or an empty selection.
    """
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise DataValidationError("Het bestand bevat geen geometrie (vlakken).", file=file)
    if frame.crs is None:
        raise DataValidationError(
            "Het bestand heeft geen coördinatenstelsel. Sla het op in RD New (EPSG:28992) "
            "of WGS84 (EPSG:4326) en probeer opnieuw.",
            file=file,
        )
    gdf = frame.rename(columns={c: str(c).lower() for c in frame.columns if c != frame.geometry.name})
    level = level or detect_level(gdf.columns)
    code_col = _first_present(gdf.columns, _LEVEL_COLUMNS[level][0])
    if code_col is None:
        raise DataValidationError(
            f"Geen {level}code gevonden: verwacht een kolom "
            + " of ".join(f"'{c}'" for c in _LEVEL_COLUMNS[level][0]) + ".",
            file=file, column=_LEVEL_COLUMNS[level][0][-1],
        )
    name_col = _first_present(gdf.columns, _LEVEL_COLUMNS[level][1])
    codes = gdf[code_col].astype("string").str.strip()
    prefix = {"buurt": "BU", "wijk": "WK", "gemeente": "GM"}[level]
    bad_code = ~codes.fillna("").str.match(rf"^{prefix}\d{{4,8}}$")
    if bad_code.any():
        row = int(np.flatnonzero(bad_code.to_numpy())[0]) + 2
        raise DataValidationError(
            f"Ongeldige {level}code '{codes.iloc[row - 2]}': verwacht {prefix} gevolgd door cijfers.",
            file=file, row=row, column=code_col,
        )
    gm_codes = "GM" + codes.str.slice(2, 6)
    if gemeente is not None:
        keep = (gm_codes == gemeente).to_numpy()
        if not keep.any():
            raise DataValidationError(
                f"Gemeente {gemeente} komt niet voor in dit bestand.", file=file, column=code_col
            )
        gdf, codes, gm_codes = gdf.loc[keep], codes[keep], gm_codes[keep]
    dup = codes.duplicated(keep="first")
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 2
        raise DataValidationError(
            f"Gebiedscode {codes.iloc[row - 2]} komt meer dan één keer voor; elke code mag maar "
            "één keer voorkomen.",
            file=file, row=row, column=code_col,
        )

    geoms = gdf.geometry.to_crs(CRS_EPSG).to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        repaired = shapely.make_valid(geoms[invalid])
        # make_valid can return collections with lines; keep the polygonal part.
        geoms = geoms.copy()
        geoms[invalid] = [_polygonal(g) for g in repaired]

    n = len(gdf)
    areas = gpd.GeoDataFrame(
        {
            "area_code": codes.to_numpy(),
            "name": (gdf[name_col].astype("string") if name_col else codes).to_numpy(),
            "level": level,
            "wijk_code": ("WK" + codes.str.slice(2, 8)).to_numpy() if level == "buurt" else None,
            "gemeente_code": gm_codes.to_numpy(),
            "gemeente_name": (
                gdf["gm_naam"] if "gm_naam" in gdf else gdf.get("gemeentenaam", pd.Series([None] * n))
            ).to_numpy(),
            "year": year,
            "water": _water_flag(gdf).to_numpy(),
        },
        geometry=geoms,
        crs=CRS_EPSG,
    )

    values, n_secret, n_unknown = _long_values(gdf, codes, year=year, source=source)
    inhabitants = values.loc[values["indicator"] == "aantal_inwoners"].set_index("area_code")["value"]
    uninhabited = int((inhabitants.reindex(areas["area_code"]).fillna(0) == 0).sum())
    report = {
        "niveau": level,
        "gebieden": n,
        "geometrie_hersteld": int(invalid.sum()),
        "waarden_geheim": n_secret,
        "waarden_onbekend": n_unknown,
        "zonder_inwoners": uninhabited,
        "kerncijfers": sorted(values["indicator"].unique().tolist()),
    }
    return HarmonisedAreas(areas.reset_index(drop=True), values, report)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    polys = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
    return shapely.union_all(polys) if len(polys) else geom


def _water_flag(gdf: pd.DataFrame) -> pd.Series:
    if "water" in gdf:
        return gdf["water"].astype("string").str.upper().isin(["JA", "1", "TRUE"])
    return pd.Series(False, index=gdf.index)


def _long_values(
    gdf: pd.DataFrame, codes: pd.Series, *, year: int | None, source: str
) -> tuple[pd.DataFrame, int, int]:
    """Melt the indicator columns to long form; secrecy codes become NaN with a status."""
    mapping = {col: name for col, name in alias_map().items() if col in gdf.columns}
    if not mapping:
        empty = pd.DataFrame(columns=["area_code", "indicator", "year", "value", "status", "source"])
        return empty, 0, 0
    raw = gdf[list(mapping)].apply(pd.to_numeric, errors="coerce")
    raw.columns = [mapping[c] for c in raw.columns]
    raw = raw.T.groupby(level=0).first().T  # two aliases of one indicator: keep the first
    raw.insert(0, "area_code", codes.to_numpy())
    long = raw.melt(id_vars="area_code", var_name="indicator", value_name="value")
    is_code = long["value"] <= _CODE_THRESHOLD
    status = pd.Series(pd.NA, index=long.index, dtype="string")
    status[is_code] = long.loc[is_code, "value"].map(SECRECY_CODES).fillna("onbekend")
    status[long["value"].isna()] = "onbekend"
    long["value"] = long["value"].mask(is_code)
    long["status"] = status
    long["year"] = year
    long["source"] = source
    long = long[long["indicator"].isin(BY_NAME)]
    return (
        long[["area_code", "indicator", "year", "value", "status", "source"]].reset_index(drop=True),
        int((status == "geheim").sum()),
        int((status == "onbekend").sum()),
    )
