"""Import CBS wijk- en buurtkaart files (GeoPackage, shapefile, zipped shapefile, GeoJSON).

One path for every source: files a municipality has, the demo, and what ``fetch-cbs``
downloads. Layers are read with pyogrio, harmonised by :mod:`data.cbs`, missing parent
levels (wijk, gemeente) are derived from the buurten, and the result is written to the
store in one transaction together with an import report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from data.aggregate import aggregate_indicators
from data.cbs import HarmonisedAreas, harmonise_cbs_areas
from data.errors import DataValidationError
from data.schema import CRS_EPSG
from data.tabular import check_file
from data.uploads import AREA_KINDS

MAX_FILE_BYTES = 1_000_000_000  # the national GeoPackage is ~600 MB
_LEVEL_LAYERS = {"gemeente": ("gemeenten", "gemeente"), "wijk": ("wijken", "wijk"),
                 "buurt": ("buurten", "buurt")}
_LEVEL_ORDER = {"gemeente": 0, "wijk": 1, "buurt": 2}


@dataclass
class AreaImport:
    """Areas and key figures ready for the store, and what happened on the way."""

    areas: gpd.GeoDataFrame
    values: pd.DataFrame
    year: int
    report: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def detect_year(path: Path) -> int | None:
    """Return the data year from a file name like ``wijkenbuurten_2024_v1.gpkg``, if any."""
    found = re.findall(r"(?<!\d)(19[89]\d|20[0-4]\d)(?!\d)", path.name)
    return int(found[-1]) if found else None


def _read_layers(path: Path, gemeente: str | None) -> dict[str, gpd.GeoDataFrame]:
    """Read the CBS layers of a file, keyed by layer name."""
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise DataValidationError(
            "Het bestand kan niet als kaartlaag gelezen worden. Gebruik een GeoPackage, "
            "shapefile (los of gezipt) of GeoJSON.",
            file=path.name,
        ) from exc
    names = [str(n) for n in layers[:, 0]]
    wanted = [n for n in names if n.lower() in {a for al in _LEVEL_LAYERS.values() for a in al}]
    if not wanted:
        wanted = names[:1] if len(names) == 1 else [
            n for n in names if re.search(r"buurt|wijk|gemeente", n, re.IGNORECASE)
        ]
    if not wanted:
        raise DataValidationError(
            f"Geen laag met gemeenten, wijken of buurten gevonden (lagen: {', '.join(names)}).",
            file=path.name,
        )
    out = {}
    for name in wanted:
        where = None
        if gemeente and re.fullmatch(r"GM\d{4}", gemeente):
            cols = {c.lower(): c for c in pyogrio.read_info(path, layer=name)["fields"]}
            gm_col = cols.get("gemeentecode") or cols.get("gm_code")
            if gm_col:
                where = f"\"{gm_col}\" = '{gemeente}'"
        try:
            out[name] = pyogrio.read_dataframe(path, layer=name, where=where)
        except Exception as exc:
            raise DataValidationError(f"Laag '{name}' kan niet gelezen worden ({exc}).",
                                      file=path.name) from exc
    return out


def _union(geoms: np.ndarray) -> shapely.Geometry:
    """Dissolve a coverage; fall back to the general union when it is not exactly noded."""
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms, grid_size=0.01)


def _derive_parents(buurten: HarmonisedAreas, have: set[str]) -> list[HarmonisedAreas]:
    """Build wijk and gemeente areas from buurten when the file does not have them."""
    derived = []
    areas, values = buurten.areas, buurten.values
    wide = values.pivot_table(index="area_code", columns="indicator", values="value", aggfunc="first")
    wide = wide.reindex(areas["area_code"])
    for level, key in (("wijk", "wijk_code"), ("gemeente", "gemeente_code")):
        if level in have:
            continue
        groups = areas[key].to_numpy()
        geoms = areas.geometry.to_numpy()
        codes = pd.unique(groups)
        merged = [_union(geoms[groups == c]) for c in codes]
        agg = aggregate_indicators(wide.reset_index(drop=True), pd.Series(groups)).reindex(codes)
        if "aantal_inwoners" in agg and "oppervlakte_land_in_ha" in agg:
            agg["bevolkingsdichtheid_inwoners_per_km2"] = np.round(
                agg["aantal_inwoners"] / agg["oppervlakte_land_in_ha"].where(agg["oppervlakte_land_in_ha"] > 0)
                * 100)
        gm_name = areas.groupby("gemeente_code")["gemeente_name"].first()
        level_areas = gpd.GeoDataFrame(
            {
                "area_code": codes,
                "name": [f"Wijk {c[-2:]}" if level == "wijk" else (gm_name.get(c) or c) for c in codes],
                "level": level,
                "wijk_code": None,
                "gemeente_code": ["GM" + c[2:6] for c in codes],
                "gemeente_name": [gm_name.get("GM" + c[2:6]) for c in codes],
                "year": buurten.areas["year"].iloc[0],
                "water": False,
            },
            geometry=merged, crs=CRS_EPSG,
        )
        long = agg.rename_axis("area_code").reset_index().melt(
            id_vars="area_code", var_name="indicator", value_name="value")
        long["status"] = np.where(long["value"].isna(), "onbekend", None)
        long["year"] = buurten.areas["year"].iloc[0]
        long["source"] = "afgeleid uit buurten"
        long = long[["area_code", "indicator", "year", "value", "status", "source"]]
        derived.append(HarmonisedAreas(level_areas, long, {"niveau": level, "afgeleid": True}))
    return derived


def read_area_file(path: str | Path, *, gemeente: str | None = None, year: int | None = None,
                   source: str = "CBS Wijk- en Buurtkaart") -> AreaImport:
    """Read and harmonise a CBS wijk- en buurtkaart file.

    Parameters
    ----------
    path : str or Path
        GeoPackage (layers ``gemeenten``/``wijken``/``buurten``), shapefile (``.shp`` or
        ``.zip``) or GeoJSON, in RD New or WGS84.
    gemeente : str, optional
        Keep only this gemeente (``GM0080``); needed for national files.
    year : int, optional
        Data year; taken from the file name when omitted.

    Returns
    -------
    AreaImport
        All levels (derived from the buurten where the file lacks them), key figures in
        long form and a report with counts per level, repaired geometries and missing values.

    Raises
    ------
    DataValidationError
        Missing, empty or unreadable file, no year, no area layer, bad or duplicate codes.
    """
    # Content must match the extension and zips must not be bombs; a national zipped shapefile
    # unpacks to a few GB, hence the larger unpacked limit here than for uploads.
    path = check_file(path, max_bytes=MAX_FILE_BYTES, allowed=AREA_KINDS, max_unpacked_bytes=8 * MAX_FILE_BYTES)
    year = year or detect_year(path)
    if year is None:
        raise DataValidationError(
            "Het jaar van de gegevens staat niet in de bestandsnaam. Geef het op met --jaar "
            "(bijvoorbeeld --jaar 2024).", file=path.name)
    frames = _read_layers(path, gemeente)
    parts: dict[str, HarmonisedAreas] = {}
    for name, frame in frames.items():
        if frame.empty:
            continue
        expected = next((lvl for lvl, names in _LEVEL_LAYERS.items() if name.lower() in names), None)
        part = harmonise_cbs_areas(frame, file=path.name, year=year, gemeente=gemeente, source=source,
                                   level=expected)
        level = part.report["niveau"]
        if level in parts:
            raise DataValidationError(f"Twee lagen met {level}en in één bestand ({name}).",
                                      file=path.name)
        parts[level] = part
    if not parts:
        raise DataValidationError(
            "Geen gebieden gevonden" + (f" voor gemeente {gemeente}" if gemeente else "") + ".",
            file=path.name)
    derived = _derive_parents(parts["buurt"], set(parts)) if "buurt" in parts else []
    everything = sorted([*parts.values(), *derived], key=lambda p: _LEVEL_ORDER[p.report["niveau"]])
    areas = gpd.GeoDataFrame(pd.concat([p.areas for p in everything], ignore_index=True), crs=CRS_EPSG)
    values = pd.concat([p.values for p in everything], ignore_index=True)
    dup = areas["area_code"].duplicated()
    if dup.any():
        raise DataValidationError(f"Gebiedscode {areas.loc[dup, 'area_code'].iloc[0]} komt dubbel voor.",
                                  file=path.name)
    report = {
        "bestand": path.name,
        "jaar": year,
        "gemeenten": sorted(areas["gemeente_code"].unique().tolist()),
        "per_niveau": {lvl: int((areas["level"] == lvl).sum()) for lvl in ("gemeente", "wijk", "buurt")},
        "afgeleid": [p.report["niveau"] for p in derived],
        "geometrie_hersteld": sum(p.report.get("geometrie_hersteld", 0) for p in parts.values()),
        "waarden_geheim": int((values["status"] == "geheim").sum()),
        "waarden_onbekend": int((values["status"] == "onbekend").sum()),
        "zonder_inwoners": parts["buurt"].report["zonder_inwoners"] if "buurt" in parts else 0,
        "kerncijfers": int(values["indicator"].nunique()),
    }
    return AreaImport(areas, values, year, report)


def format_report(report: dict, warnings: list[str] | None = None) -> list[str]:
    """Return the import report as Dutch lines for the CLI and the management page."""
    per = report["per_niveau"]
    lines = [
        f"Bestand {report['bestand']}, jaar {report['jaar']}, gemeente(n) {', '.join(report['gemeenten'])}.",
        f"Gebieden: {per['gemeente']} gemeente(n), {per['wijk']} wijken, {per['buurt']} buurten"
        + (f" (afgeleid uit de buurten: {', '.join(report['afgeleid'])})" if report["afgeleid"] else "")
        + ".",
        f"Kerncijfers: {report['kerncijfers']}; geheim: {report['waarden_geheim']} waarden, "
        f"onbekend: {report['waarden_onbekend']} waarden.",
        f"Hersteld: {report['geometrie_hersteld']} ongeldige vlak(ken).",
        f"Buurten zonder inwoners (wel bewaard, niet in percentages): {report['zonder_inwoners']}.",
    ]
    return lines + [f"Let op: {w}" for w in (warnings or [])]
