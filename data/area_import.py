"""Import CBS wijk- en buurtkaart files (GeoPackage, shapefile, zipped shapefile, GeoJSON).

One path for every source: files a municipality has, the demo, and what ``fetch-cbs``
downloads. Layers are read with pyogrio, harmonised and checked for plausibility by
:mod:`data.cbs` (every problem of every layer is collected into one report), missing parent
levels (wijk, gemeente) are derived from the buurten, and the result is written to the
store in one transaction together with an import report. A CBS GeoPackage brings its
``gemeenten``, ``wijken`` and ``buurten`` layers in one go; from a buurten-only file the
report says which key figures could not be derived for the wijken and the gemeente.

Warnings of the libraries (GDAL, pyogrio, shapely, pandas) while reading are English and
technical: they go to the log of this module, never to the screen.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from data.aggregate import aggregate_indicators
from data.cbs import HarmonisedAreas, harmonise_cbs_areas, raise_if_problems
from data.errors import DataValidationError
from data.formatting import format_number
from data.indicators import BY_NAME
from data.schema import CRS_EPSG
from data.tabular import check_file
from data.uploads import AREA_KINDS, check_shapefile_parts

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 1_000_000_000  # the national GeoPackage is ~600 MB
_LEVEL_LAYERS = {"gemeente": ("gemeenten", "gemeente"), "wijk": ("wijken", "wijk"),
                 "buurt": ("buurten", "buurt")}
_LEVEL_ORDER = {"gemeente": 0, "wijk": 1, "buurt": 2}
_LEVEL_WORDS = {alias: level for level, aliases in _LEVEL_LAYERS.items() for alias in aliases}

# A figure "jumps" between two years when it changes by more than this in a buurt ...
JUMP_RELATIVE = 0.5  # ... relative to the older value (counts, averages)
JUMP_POINTS = 10.0  # ... or in percentage points (figures in %)
JUMP_SHARE = 0.9  # and it is a warning when at least this share of the buurten jumps
JUMP_MIN_AREAS = 5  # among at least this many buurten known in both years


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


def _layer_level(name: str) -> str | None:
    """Return the level a layer name stands for: 'buurten', 'cbs_buurten_2022', 'gemeenten_2023' -> level.

    The last level word in the name counts, so ``wijkenbuurten_2022_wijken`` is a wijk layer;
    a name without one (``wijkenbuurten_2023``) gives None.
    """
    words = [_LEVEL_WORDS[w] for w in re.findall(r"[a-z]+", name.lower()) if w in _LEVEL_WORDS]
    return words[-1] if words else None


def _read_layers(path: Path, gemeente: str | None) -> dict[str, gpd.GeoDataFrame]:
    """Read the CBS layers of a file, keyed by layer name."""
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        logger.info("%s: list_layers failed: %s", path.name, exc)
        raise DataValidationError(
            "Het bestand kan niet als kaartlaag gelezen worden. Gebruik een GeoPackage, "
            "shapefile (los of gezipt) of GeoJSON.",
            file=path.name,
        ) from exc
    names = [str(n) for n in layers[:, 0]]
    wanted = [n for n in names if _layer_level(n)]
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
            logger.info("%s: reading layer %s failed: %s", path.name, name, exc)
            raise DataValidationError(f"Laag '{name}' kan niet gelezen worden; het bestand is mogelijk "
                                      "beschadigd of onvolledig.", file=path.name) from exc
    return out


def _union(geoms: np.ndarray) -> shapely.Geometry:
    """Dissolve a coverage; fall back to the general union when it is not exactly noded."""
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms, grid_size=0.01)


def _derive_parents(buurten: HarmonisedAreas, have: set[str]) -> list[HarmonisedAreas]:
    """Build wijk and gemeente areas from buurten when the file does not have them.

    Each derived level's report lists under ``niet_afgeleid`` the key figures the buurten have
    but that cannot be derived for it: aggregation ``none`` in the catalogue (e.g. address
    density, urbanity), or a rate whose denominator is not in the file (or never known).
    """
    derived = []
    areas, values = buurten.areas, buurten.values
    wide = values.pivot_table(index="area_code", columns="indicator", values="value", aggfunc="first")
    wide = wide.reindex(areas["area_code"])
    known = [name for name in BY_NAME if name in wide and wide[name].notna().any()]
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
        missing = [name for name in known if name not in agg or agg[name].isna().all()]
        derived.append(HarmonisedAreas(level_areas, long, {"niveau": level, "afgeleid": True,
                                                           "niet_afgeleid": missing}))
    return derived


def _log_warnings(caught: list[warnings.WarningMessage], file: str) -> None:
    """Send library warnings (English, technical) to the log instead of the screen."""
    for item in caught:
        logger.warning("%s: %s: %s", file, item.category.__name__, item.message)


def _harmonised_layers(path: Path, *, gemeente: str | None, year: int | None,
                       source: str) -> dict[str, HarmonisedAreas]:
    """Read and harmonise every area layer of a file, keyed by level; collect the problems of all layers."""
    frames = _read_layers(path, gemeente)
    several = len(frames) > 1
    parts: dict[str, HarmonisedAreas] = {}
    problems: list[dict] = []
    for name, frame in frames.items():
        if frame.empty:
            continue
        # A layer name decides the level in a multi-layer file (cbs_buurten_2022); a single layer is
        # judged by its columns unless it is named exactly like a level.
        expected = _layer_level(name) if several else _LEVEL_WORDS.get(name.lower())
        label = f"{path.name}, laag {name}" if several else path.name
        try:
            part = harmonise_cbs_areas(frame, file=label, year=year, gemeente=gemeente, source=source,
                                       level=expected)
        except DataValidationError as exc:
            if not exc.problems:
                raise
            problems.extend(exc.problems)
            continue
        level = part.report["niveau"]
        if level in parts:
            raise DataValidationError(f"Twee lagen met {level}en in één bestand ({name}).", file=path.name)
        parts[level] = part
    raise_if_problems(problems)
    if not parts:
        raise DataValidationError(
            "Geen gebieden gevonden" + (f" voor gemeente {gemeente}; kies een gemeente die in het bestand staat"
                                        if gemeente else "") + ".",
            file=path.name)
    return parts


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
        long form and a report with counts per level, repaired geometries, missing values
        and, per derived level, the key figures that could not be derived (``niet_afgeleid``).

    Raises
    ------
    DataValidationError
        Missing, empty or unreadable file, a shapefile without its .shp/.shx/.dbf/.prj, no area
        layer, and then with ``problems`` (file/layer, row, column, message) every row-level problem
        of every layer: bad or duplicate codes, geometries that are no polygons, areas outside the
        Netherlands or far from the others, negative figures, percentages outside 0-100, more
        households than inhabitants. Only after those: no year.
    """
    # Content must match the extension and zips must not be bombs; a national zipped shapefile
    # unpacks to a few GB, hence the larger unpacked limit here than for uploads.
    path = check_file(path, max_bytes=MAX_FILE_BYTES, allowed=AREA_KINDS, max_unpacked_bytes=8 * MAX_FILE_BYTES)
    if path.suffix.lower() == ".shp":
        check_shapefile_parts([p.name for p in path.parent.iterdir() if p.stem.lower() == path.stem.lower()],
                              file=path.name)
    year = year or detect_year(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parts = _harmonised_layers(path, gemeente=gemeente, year=year, source=source)
        finally:
            _log_warnings(caught, path.name)
    # Only now the year: a file with content problems shows those first.
    if year is None:
        raise DataValidationError(
            "Het jaar van de gegevens staat niet in de bestandsnaam. Geef het jaar van de gegevens op "
            "(bijvoorbeeld 2024).", file=path.name)
    for part in parts.values():
        part.areas["year"] = year
        part.values["year"] = year
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
        "niet_afgeleid": {p.report["niveau"]: p.report["niet_afgeleid"] for p in derived},
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
    lines += _not_derived_lines(report.get("niet_afgeleid") or {})
    return lines + [f"Let op: {w}" for w in (warnings or [])]


def _not_derived_lines(missing: dict[str, list[str]]) -> list[str]:
    """One line per group of derived levels that miss the same key figures."""
    plural = {"wijk": "de wijken", "gemeente": "de gemeente"}
    by_names: dict[tuple[str, ...], list[str]] = {}
    for level, names in missing.items():
        if names:
            by_names.setdefault(tuple(names), []).append(plural.get(level, level))
    return [
        f"Niet uit de buurten af te leiden, dus leeg voor {' en '.join(levels)}: "
        + ", ".join(BY_NAME[n].label if n in BY_NAME else n for n in names) + "."
        for names, levels in by_names.items()
    ]


def year_jump_warnings(new_values: pd.DataFrame, stored_values: pd.DataFrame) -> list[str]:
    """Warn about key figures that jump in nearly every buurt between two years.

    A figure whose value changes strongly in (nearly) every buurt from one year to the next is
    more likely a swapped source column than a real change. For every indicator and year of
    ``new_values`` the nearest other year of the same indicator in ``stored_values`` is the
    reference (the earlier one on a tie). Over the buurten (codes ``BU...``) known in both
    years, a buurt jumps when

    - for a figure in %: ``|new - old| > JUMP_POINTS`` percentage points;
    - otherwise: ``|new - old| > JUMP_RELATIVE * |old|`` (from 0 to anything else is a jump).

    The indicator is reported when at least :data:`JUMP_MIN_AREAS` buurten are known in both
    years and at least :data:`JUMP_SHARE` of them jump. This is a warning for the import
    report, never a refusal: the values may be right.

    Parameters
    ----------
    new_values : DataFrame
        Values about to be stored, long form: ``area_code``, ``indicator``, ``year``, ``value``.
    stored_values : DataFrame
        Values already in the store, same columns (other columns are ignored).

    Returns
    -------
    list of str
        Dutch warnings, one per indicator and year, in catalogue order; empty when nothing jumps.
    """
    columns = ["area_code", "indicator", "year", "value"]
    missing = [c for c in columns if c not in new_values or c not in stored_values]
    if missing:
        raise DataValidationError(f"Kolom(men) {', '.join(missing)} ontbreken in de waarden.")

    def buurt_values(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[columns]
        keep = frame["area_code"].astype("string").str.startswith("BU").fillna(False) & frame["value"].notna()
        frame = frame.loc[keep.to_numpy(dtype=bool)].copy()
        frame["year"] = pd.to_numeric(frame["year"], errors="coerce")
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
        return frame.dropna(subset=["year", "value"]).drop_duplicates(["area_code", "indicator", "year"])

    new, old = buurt_values(new_values), buurt_values(stored_values)
    if new.empty or old.empty:
        return []
    pairs = new[["indicator", "year"]].drop_duplicates().merge(
        old[["indicator", "year"]].drop_duplicates().rename(columns={"year": "ref_year"}), on="indicator")
    pairs = pairs.loc[pairs["year"] != pairs["ref_year"]]
    pairs = pairs.assign(gap=(pairs["year"] - pairs["ref_year"]).abs()).sort_values(["gap", "ref_year"])
    pairs = pairs.drop_duplicates(["indicator", "year"])[["indicator", "year", "ref_year"]]
    both = new.merge(pairs, on=["indicator", "year"]).merge(
        old.rename(columns={"year": "ref_year", "value": "old"}), on=["area_code", "indicator", "ref_year"])
    if both.empty:
        return []
    change = (both["value"] - both["old"]).abs()
    percent = both["indicator"].isin([name for name, ind in BY_NAME.items() if ind.unit == "%"]).to_numpy()
    both["jump"] = np.where(percent, change > JUMP_POINTS, change > JUMP_RELATIVE * both["old"].abs())
    summary = both.groupby(["indicator", "year", "ref_year"], as_index=False).agg(
        areas=("jump", "size"), jumps=("jump", "sum"))
    flagged = summary.loc[(summary["areas"] >= JUMP_MIN_AREAS)
                          & (summary["jumps"] >= JUMP_SHARE * summary["areas"])].copy()
    order = {name: i for i, name in enumerate(BY_NAME)}
    flagged["order"] = flagged["indicator"].map(order).fillna(len(order))
    warnings_out = []
    for row in flagged.sort_values(["order", "indicator", "year"]).itertuples(index=False):
        ind = BY_NAME.get(row.indicator)
        label = ind.label if ind else row.indicator
        limit = (f"meer dan {format_number(JUMP_POINTS)} procentpunten" if ind and ind.unit == "%"
                 else f"meer dan {format_number(JUMP_RELATIVE * 100)}%")
        warnings_out.append(
            f"{label}: in {format_number(row.jumps)} van de {format_number(row.areas)} buurten verschilt "
            f"{int(row.year)} sterk van {int(row.ref_year)} ({limit}). Zo'n sprong in bijna elke buurt wijst "
            "vaak op verwisselde kolommen in het bestand; controleer de cijfers.")
    return warnings_out
