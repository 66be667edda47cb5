"""Harmonise CBS wijk- en buurtkaart tables (any year, any column style) for the store.

CBS publishes the same key figures under different column names per year (``AANT_INW``
in 2015, ``aant_inw`` in 2017, ``aantal_inwoners`` since 2022) and codes secret or
unknown values as large negative numbers. :func:`harmonise_cbs_areas` maps all of that to
the indicator catalogue and to missing values with a status, so that no secrecy code
ever enters a sum or an average.

It also refuses what cannot be true, collecting every problem of a layer (row, column,
message) into one error before anything reaches the store: bad or duplicate codes, areas
that are no polygons, areas outside the Netherlands (with a hint at swapped x/y or a wrong
coordinate system) or far from the other areas of their gemeente, negative figures,
percentages outside 0-100 and more households than inhabitants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.errors import DataValidationError
from data.formatting import format_number
from data.indicators import BY_NAME, alias_map
from data.schema import CRS_EPSG
from data.uploads import geometry_type_nl

# Secrecy / missing codes used across CBS products. Any value at or below the
# threshold is a code, never a number.
SECRECY_CODES: dict[int, str] = {
    -99999999: "geheim",
    -99999997: "onbekend",
    -99997: "geheim",
    -99995: "onbekend",
}
_CODE_THRESHOLD = -99995

# Plausibility of locations, in RD New metres: the extent of the Netherlands (EPSG:28992 is
# only defined there), and how far an area may lie from the middle of the other areas of its
# gemeente in the same file (the largest gemeenten are about 50 km across).
RD_NEW_BOUNDS_M = (0.0, 289_000.0, 300_000.0, 629_000.0)  # xmin, ymin, xmax, ymax
MAX_DISTANCE_FROM_MEDIAN_M = 50_000.0
_MIN_AREAS_FOR_MEDIAN = 3  # with two areas the median is their midpoint: both would be "far"
_INHABITANTS = "aantal_inwoners"
_HOUSEHOLDS = "aantal_part_huishoudens"

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
        No geometry, no CRS, no code column or a gemeente that is not in the file; and, with
        ``problems`` listing every one (``bestand``, ``rij``, ``kolom``, ``melding``; rows counted
        with the header as row 1): bad or duplicate codes, geometries that are no (multi)polygon,
        centroids outside :data:`RD_NEW_BOUNDS_M` or more than :data:`MAX_DISTANCE_FROM_MEDIAN_M`
        from the median centroid of their gemeente's areas, negative figures, percentages outside
        0-100, more households than inhabitants. Secrecy codes are never errors.
    """
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise DataValidationError("Het bestand bevat geen geometrie (vlakken).", file=file)
    if frame.crs is None:
        raise DataValidationError(
            "Het bestand heeft geen coördinatenstelsel. Sla het op in RD New (EPSG:28992) "
            "of WGS84 (EPSG:4326) en probeer opnieuw.",
            file=file,
        )
    original = {str(c).lower(): str(c) for c in frame.columns}  # messages name the column as the file has it
    geom_col = str(frame.geometry.name)
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
    rows = np.arange(len(gdf)) + 2  # as the user counts them: header = row 1
    problems: list[dict] = []
    bad_code = ~codes.fillna("").str.match(rf"^{prefix}\d{{4,8}}$").to_numpy(dtype=bool)
    _add_problems(problems, file, rows, bad_code, original[code_col],
                  f"Ongeldige {level}code '" + codes.fillna("").astype(str)
                  + f"': verwacht {prefix} gevolgd door cijfers.")
    gm_codes = "GM" + codes.str.slice(2, 6)
    if gemeente is not None:
        keep = (gm_codes == gemeente).fillna(False).to_numpy(dtype=bool)
        if not keep.any():
            raise_if_problems(problems)
            present = sorted(gm_codes.dropna().unique())
            raise DataValidationError(
                f"Gemeente {gemeente} komt niet voor in dit bestand. Kies een gemeente die er wel in staat ("
                + ", ".join(present[:5]) + (", …" if len(present) > 5 else "") + ").",
                file=file, column=original[code_col],
            )
        gdf, codes, gm_codes, rows = gdf.loc[keep], codes[keep], gm_codes[keep], rows[keep]
    known = codes.fillna("")
    dup = (codes.duplicated(keep="first") & codes.notna()).to_numpy(dtype=bool)
    first_row = pd.Series(rows, index=codes.index).groupby(known.to_numpy()).transform("first")
    _add_problems(problems, file, rows, dup, original[code_col],
                  "Gebiedscode " + known.astype(str) + " komt meer dan één keer voor (ook in rij "
                  + first_row.astype(str) + "); elke code mag maar één keer voorkomen.")

    source_geoms = gdf.geometry.to_numpy()
    geoms = gdf.geometry.to_crs(CRS_EPSG).to_numpy()
    # Coordinates that RD New cannot hold (metres read as degrees) become infinite; those areas are
    # reported as outside the Netherlands below, not repaired or judged by their type.
    with np.errstate(invalid="ignore"):
        projectable = np.isfinite(shapely.bounds(geoms)).all(axis=1) | shapely.is_empty(geoms)
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms) & projectable
    if invalid.any():
        repaired = shapely.make_valid(geoms[invalid])
        # make_valid can return collections with lines; keep the polygonal part.
        geoms = geoms.copy()
        geoms[invalid] = [_polygonal(g) for g in repaired]
    type_ids = shapely.get_type_id(geoms)
    not_polygonal = ~np.isin(type_ids, [-1, 3, 6]) & projectable  # -1: no geometry at all, left to the store
    type_names = pd.Series([geometry_type_nl(int(t)) for t in type_ids[not_polygonal]], dtype="string")
    _add_problems(problems, file, rows, not_polygonal, geom_col,
                  codes[not_polygonal].fillna("").astype(str).reset_index(drop=True)
                  + np.where(invalid[not_polygonal], ": de geometrie is ongeldig en is na herstel geen vlak maar een ",
                             ": de geometrie is een ")
                  + type_names + "; een gebied moet een vlak of multivlak zijn.")
    problems.extend(_location_problems(source_geoms, geoms, frame.crs, codes, gm_codes, rows, file=file,
                                       column=geom_col))

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
            "postcode": _most_common_postcode(gdf) if level == "buurt" else None,
        },
        geometry=geoms,
        crs=CRS_EPSG,
    )

    wide, sources = _indicator_table(gdf)
    problems.extend(_value_problems(wide, {k: original[v] for k, v in sources.items()}, codes, rows, file=file))
    problems.sort(key=lambda p: (p["rij"], str(p["kolom"])))
    raise_if_problems(problems)
    values, n_secret, n_unknown = _long_values(wide, codes, year=year, source=source)
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


def _most_common_postcode(gdf: pd.DataFrame) -> np.ndarray:
    """CBS's ``postcode`` of a buurt (its most common PC4) as text, None where absent, secret or not 4 digits.

    CBS writes it as text ('1505'), as a number in some shapefiles (1505.0) and a secrecy code or '.'
    where a buurt has no addresses; only a real PC4 (four digits, the first not 0) is kept.
    """
    if "postcode" not in gdf:
        return np.full(len(gdf), None, dtype=object)
    text = gdf["postcode"].astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    valid = text.str.fullmatch(r"[1-9][0-9]{3}").fillna(False).astype(bool)
    return np.where(valid.to_numpy(), text.to_numpy(dtype=object), None)


def _water_flag(gdf: pd.DataFrame) -> pd.Series:
    if "water" in gdf:
        return gdf["water"].astype("string").str.upper().isin(["JA", "1", "TRUE"])
    return pd.Series(False, index=gdf.index)


def raise_if_problems(problems: list[dict]) -> None:
    """Raise one DataValidationError that lists every problem; return when there are none.

    Parameters
    ----------
    problems : list of dict
        One dict per problem with the keys ``bestand``, ``rij``, ``kolom`` and ``melding``
        (the column titles of the row-level report on screen).

    Raises
    ------
    DataValidationError
        Naming the first problem's file, row and column, with ``problems`` set to the list.
    """
    if not problems:
        return
    first = problems[0]
    count = f"{len(problems)} probleem" if len(problems) == 1 else f"{format_number(len(problems))} problemen"
    raise DataValidationError(
        f"{count} gevonden; er is niets geïmporteerd. Eerste: {first['melding']}",
        file=first["bestand"], row=first["rij"], column=first["kolom"], problems=problems,
    )


def _add_problems(problems: list[dict], file: str, rows: np.ndarray, mask: np.ndarray, column: str,
                  messages) -> None:
    """Append one problem per flagged row; ``messages`` is one text, or one per row or per flagged row."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    if isinstance(messages, str):
        texts = [messages] * int(mask.sum())
    else:
        texts = np.asarray(messages, dtype=object)
        texts = texts[mask] if len(texts) == len(mask) else texts
    problems.extend({"bestand": file, "rij": int(row), "kolom": column, "melding": str(text)}
                    for row, text in zip(rows[mask], texts, strict=True))


def _inside_rd_new(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xmin, ymin, xmax, ymax = RD_NEW_BOUNDS_M
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & np.isfinite(y) & (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)


def _centres(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroid coordinates; NaN for missing or empty geometries and for infinite coordinates."""
    with np.errstate(invalid="ignore"):
        centre = shapely.centroid(geoms)
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    known = ~(shapely.is_missing(centre) | shapely.is_empty(centre))
    x[known], y[known] = shapely.get_x(centre[known]), shapely.get_y(centre[known])
    return x, y


def _location_problems(source: np.ndarray, target: np.ndarray, crs, codes: pd.Series, gm_codes: pd.Series,
                       rows: np.ndarray, *, file: str, column: str) -> list[dict]:
    """Areas outside the Netherlands (with a hint at swapped x/y or a wrong CRS) or far from the others.

    ``source`` holds the geometries in the file's CRS, ``target`` the same in RD New. An area is
    outside when its centroid lies outside :data:`RD_NEW_BOUNDS_M`; it is far when its centroid
    lies more than :data:`MAX_DISTANCE_FROM_MEDIAN_M` from the coordinate-wise median centroid of
    the areas of its gemeente in the file (per gemeente, so a national file is judged per gemeente).
    """
    problems: list[dict] = []
    labels = codes.fillna("").astype(str).to_numpy(dtype=object)
    present = ~(shapely.is_missing(target) | shapely.is_empty(target))
    x, y = _centres(target)
    inside = _inside_rd_new(x, y)
    outside = present & ~inside
    if outside.any():
        sx, sy = _centres(source[outside])
        swapped = gpd.GeoSeries(shapely.points(sy, sx), crs=crs).to_crs(CRS_EPSG)
        swap_helps = _inside_rd_new(*_centres(swapped.to_numpy()))
        degrees = (np.abs(sx) <= 180) & (np.abs(sy) <= 90)
        geographic = bool(crs.is_geographic)
        crs_name = f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.name
        hint = np.select(
            [swap_helps, degrees & (not geographic), ~degrees & geographic],
            ["De x- en y-coördinaten lijken verwisseld (omgedraaid ligt het wel in Nederland); controleer de "
             "volgorde van de coördinaten of het coördinatenstelsel van het bestand.",
             f"De coördinaten lijken graden (WGS84, EPSG:4326), maar het bestand geeft {crs_name} op; "
             "controleer het coördinatenstelsel van het bestand.",
             "De coördinaten lijken meters (zoals RD New, EPSG:28992), maar het bestand geeft graden (WGS84) "
             "op; controleer het coördinatenstelsel van het bestand."],
            "Controleer het coördinatenstelsel van het bestand (verwacht RD New, EPSG:28992, of WGS84, "
            "EPSG:4326).",
        )
        ox, oy = x[outside], y[outside]
        finite = np.isfinite(ox) & np.isfinite(oy)
        where = np.array(["de coördinaten vallen buiten het bereik van RD New"] * len(ox), dtype=object)
        where[finite] = [f"middelpunt x {format_number(a)}, y {format_number(b)} m in RD New"
                         for a, b in zip(ox[finite], oy[finite], strict=True)]
        _add_problems(problems, file, rows, outside, column,
                      labels[outside] + ": ligt buiten Nederland (" + where + "). " + hint)
    if inside.sum() >= _MIN_AREAS_FOR_MEDIAN:
        frame = pd.DataFrame({"gemeente": gm_codes.fillna("").to_numpy(), "x": x, "y": y})[present & inside]
        groups = frame.groupby("gemeente")
        size = groups["x"].transform("size")
        distance = np.hypot(frame["x"] - groups["x"].transform("median"),
                            frame["y"] - groups["y"].transform("median"))
        far_in_frame = ((size >= _MIN_AREAS_FOR_MEDIAN) & (distance > MAX_DISTANCE_FROM_MEDIAN_M)).to_numpy()
        far = np.zeros(len(target), dtype=bool)
        far[np.flatnonzero(present & inside)[far_in_frame]] = True
        km = [format_number(d / 1000) for d in distance.to_numpy()[far_in_frame]]
        _add_problems(problems, file, rows, far, column,
                      labels[far] + ": ligt " + np.array(km, dtype=object) + " km van het midden van de andere "
                      "gebieden van " + frame["gemeente"].to_numpy(dtype=object)[far_in_frame]
                      + f" in dit bestand (meer dan {format_number(MAX_DISTANCE_FROM_MEDIAN_M / 1000)} km). "
                      "Controleer de coördinaten van dit gebied (x en y verwisseld of verkeerd overgenomen) "
                      "en de gebiedscode.")
    return problems


def _indicator_table(gdf: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Return the catalogue's indicator columns as numbers (secrecy codes still in), and their source columns."""
    mapping = {col: name for col, name in alias_map().items() if col in gdf.columns and name in BY_NAME}
    raw = gdf[list(mapping)].apply(pd.to_numeric, errors="coerce")
    raw.columns = [mapping[c] for c in raw.columns]
    raw = raw.T.groupby(level=0).first().T  # two aliases of one indicator: keep the first
    sources: dict[str, str] = {}
    for col, name in mapping.items():
        sources.setdefault(name, col)
    return raw.reset_index(drop=True), sources


def _value_problems(raw: pd.DataFrame, sources: dict[str, str], codes: pd.Series, rows: np.ndarray, *,
                    file: str) -> list[dict]:
    """Negative figures, percentages outside 0-100 and more households than inhabitants.

    Secrecy codes (at or below -99995) are missing values here, never errors.
    """
    problems: list[dict] = []
    numbers = raw.mask(raw <= _CODE_THRESHOLD)
    labels = codes.fillna("").astype(str).to_numpy(dtype=object)
    for name in numbers.columns:  # one vectorised check per indicator column
        ind = BY_NAME[name]
        column = numbers[name].to_numpy(dtype=float)
        percent = ind.unit == "%"
        with np.errstate(invalid="ignore"):
            bad = (column < 0) | (column > 100) if percent else column < 0
        if not bad.any():
            continue
        shown = [format_number(v, ind.decimals if float(v).is_integer() else max(ind.decimals, 1))
                 for v in column[bad]]
        suffix = ("%; een percentage ligt tussen 0 en 100." if percent
                  else "; dat kan niet negatief zijn (geheimhoudingscodes zoals -99999999 mogen wel).")
        _add_problems(problems, file, rows, bad, sources[name],
                      labels[bad] + f": {ind.label} is " + np.array(shown, dtype=object) + suffix)
    if _HOUSEHOLDS in numbers and _INHABITANTS in numbers:
        households, inhabitants = numbers[_HOUSEHOLDS].to_numpy(float), numbers[_INHABITANTS].to_numpy(float)
        with np.errstate(invalid="ignore"):
            more = (households > inhabitants) & (inhabitants >= 0)  # a negative count is reported above
        if more.any():
            texts = [f": {format_number(h)} huishoudens maar {format_number(i)} inwoners; er kunnen niet meer "
                     "huishoudens dan inwoners zijn. Staan de kolommen verwisseld?"
                     for h, i in zip(households[more], inhabitants[more], strict=True)]
            _add_problems(problems, file, rows, more, sources[_HOUSEHOLDS],
                          labels[more] + np.array(texts, dtype=object))
    return problems


def _long_values(
    raw: pd.DataFrame, codes: pd.Series, *, year: int | None, source: str
) -> tuple[pd.DataFrame, int, int]:
    """Melt the indicator table to long form; secrecy codes become NaN with a status."""
    if raw.columns.empty:
        empty = pd.DataFrame(columns=["area_code", "indicator", "year", "value", "status", "source"])
        return empty, 0, 0
    raw = raw.copy()
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
    return (
        long[["area_code", "indicator", "year", "value", "status", "source"]].reset_index(drop=True),
        int((status == "geheim").sum()),
        int((status == "onbekend").sum()),
    )
