"""The inventory of collective provisions: template, validation, import and export.

Users fill a spreadsheet with Dutch headers (Excel or CSV from Dutch Excel), or bring points
from GeoJSON/GeoPackage. Every row is checked before anything is written; problems are
reported per row and column, and an import lands whole or not at all. Importing an export
again updates the same provisions (matched on ``id``) instead of duplicating them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from data.errors import DataValidationError
from data.export import frame_to_csv_bytes, frames_to_excel_bytes
from data.provision_types import PROVISION_TYPES, TARGET_GROUPS
from data.schema import CRS_EPSG, PROVISION_STATUSES
from data.tabular import parse_numbers, read_table_file

# Dutch header -> store column, in template order.
HEADERS = {
    "id": "provision_id",
    "naam": "name",
    "soort": "type",
    "organisatie": "organisation",
    "breedtegraad": "lat",
    "lengtegraad": "lon",
    "bereik_m": "reach_m",
    "doelgroepen": "target_groups",
    "capaciteit_per_jaar": "capacity_per_year",
    "capaciteitseenheid": "capacity_unit",
    "vrijwilligers": "volunteers",
    "status": "status",
    "financiering": "funding_source",
    "financiering_tot": "funding_end",
    "erkenning": "evidence_label",
    "contact": "contact",
    "laatst_gecontroleerd": "last_verified",
    "notities": "notes",
}
REQUIRED = ("naam", "soort", "breedtegraad", "lengtegraad")
_TO_RD = Transformer.from_crs(4326, CRS_EPSG, always_xy=True)
_TO_WGS = Transformer.from_crs(CRS_EPSG, 4326, always_xy=True)
_STATUS_INPUT = {**{k: k for k in PROVISION_STATUSES}, **{v: k for k, v in PROVISION_STATUSES.items()},
                 "onder-druk": "onder_druk", "active": "actief", "gestopt": "gestopt"}


def type_code(text: str, catalogue: dict | None = None) -> str | None:
    """Return the catalogue code for a type given as code or Dutch label (any case)."""
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    lookup = {**{k.lower(): k for k in catalogue}, **{v.label.lower(): k for k, v in catalogue.items()}}
    key = str(text).strip().lower()
    return lookup.get(key) or lookup.get(key.replace(" ", "_"))


def _problem(problems: list, file: str, row: int, column: str, message: str) -> None:
    problems.append({"bestand": file, "rij": row, "kolom": column, "melding": message})


def _dates(series: pd.Series, file: str, column: str, problems: list) -> pd.Series:
    text = series.astype("string").str.strip()
    empty = text.isna() | (text == "")
    parsed = pd.to_datetime(text.where(~empty), errors="coerce", dayfirst=True, format="mixed")
    for pos in np.flatnonzero((parsed.isna() & ~empty).to_numpy()):
        _problem(problems, file, int(pos) + 2, column, f"'{series.iloc[pos]}' is geen datum (gebruik dd-mm-jjjj).")
    return parsed


def validate_provisions(
    frame: pd.DataFrame,
    *,
    file: str,
    area: shapely.Geometry | None = None,
    next_number: int = 1,
    catalogue: dict | None = None,
) -> gpd.GeoDataFrame:
    """Check a provisions table with Dutch headers and return it in the store's columns.

    Parameters
    ----------
    frame : DataFrame
        Cells as text, headers as in the template (case-insensitive).
    file : str
        File name for the report.
    area : shapely geometry, optional
        The municipality (RD New); points outside it are refused.
    next_number : int
        First number for new ids (``V###``) of rows without an id.
    catalogue : dict, optional
        Provision types (the store's catalogue); defaults to the built-in one.

    Raises
    ------
    DataValidationError
        With ``problems`` listing every row and column that is wrong; nothing is returned then.
    """
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    missing = [h for h in REQUIRED if h not in frame.columns]
    if missing:
        raise DataValidationError(
            f"Verplichte kolommen ontbreken: {', '.join(missing)}. Gebruik het sjabloon (kolommen: "
            f"{', '.join(HEADERS)}).", file=file, column=missing[0])
    _reject_personal_columns(frame, file)
    problems: list[dict] = []
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    text = {h: frame[h].astype("string").str.strip() if h in frame else pd.Series(pd.NA, index=frame.index,
                                                                                     dtype="string")
            for h in HEADERS}

    for h in REQUIRED:
        for pos in np.flatnonzero((text[h].isna() | (text[h] == "")).to_numpy()):
            _problem(problems, file, int(pos) + 2, h, "mag niet leeg zijn.")
    types = text["soort"].map(lambda t: type_code(t, catalogue) if pd.notna(t) and t else None)
    for pos in np.flatnonzero((types.isna() & text["soort"].fillna("").ne("")).to_numpy()):
        _problem(problems, file, int(pos) + 2, "soort",
                 f"onbekende soort '{text['soort'].iloc[pos]}'; kies uit: {', '.join(catalogue)}.")
    status_in = text["status"].fillna("actief").str.lower().replace("", "actief")
    status = status_in.map(_STATUS_INPUT)
    for pos in np.flatnonzero(status.isna().to_numpy()):
        _problem(problems, file, int(pos) + 2, "status",
                 f"onbekende status '{text['status'].iloc[pos]}'; kies actief, onder druk of gestopt.")

    numbers = {}
    for h in ("breedtegraad", "lengtegraad", "bereik_m", "capaciteit_per_jaar", "vrijwilligers"):
        counts = h in ("bereik_m", "capaciteit_per_jaar", "vrijwilligers")
        try:
            numbers[h] = parse_numbers(text[h], file=file, column=h, thousands_dot=counts)
        except DataValidationError:
            # Report every bad cell of the column, not only the first.
            values = pd.Series(np.nan, index=frame.index)
            for pos, cell in enumerate(text[h]):
                try:
                    values.iloc[pos] = parse_numbers(pd.Series([cell]), file=file, column=h,
                                                     thousands_dot=counts).iloc[0]
                except DataValidationError:
                    _problem(problems, file, pos + 2, h, f"'{cell}' is geen getal.")
            numbers[h] = values
    for h in ("capaciteit_per_jaar", "vrijwilligers", "bereik_m"):
        for pos in np.flatnonzero((numbers[h] < 0).fillna(False).to_numpy()):
            _problem(problems, file, int(pos) + 2, h, "mag niet negatief zijn.")

    lat, lon = numbers["breedtegraad"], numbers["lengtegraad"]
    x, y = _TO_RD.transform(lon.to_numpy(), lat.to_numpy())
    points = shapely.points(np.column_stack([x, y]))
    known = lat.notna() & lon.notna()
    in_nl = known & lat.between(50.5, 53.8) & lon.between(3.0, 7.4)
    for pos in np.flatnonzero((known & ~in_nl).to_numpy()):
        _problem(problems, file, int(pos) + 2, "breedtegraad",
                 f"coördinaten ({lat.iloc[pos]}, {lon.iloc[pos]}) liggen niet in Nederland; "
                 "breedtegraad ±51-53, lengtegraad ±3-7.")
    if area is not None:
        inside = shapely.covers(area.buffer(50), points)
        for pos in np.flatnonzero((in_nl & ~pd.Series(inside, index=frame.index)).to_numpy()):
            _problem(problems, file, int(pos) + 2, "breedtegraad",
                     f"coördinaten ({lat.iloc[pos]}, {lon.iloc[pos]}) liggen buiten de gemeente.")

    ids = text["id"].where(text["id"].fillna("") != "")
    dup = ids.notna() & ids.duplicated(keep="first")
    for pos in np.flatnonzero(dup.to_numpy()):
        _problem(problems, file, int(pos) + 2, "id", f"id '{ids.iloc[pos]}' komt vaker voor.")
    groups = text["doelgroepen"].fillna("")
    for pos, cell in enumerate(groups):
        unknown = [g for g in re.split(r"[;,]", cell) if g.strip() and g.strip().lower() not in TARGET_GROUPS]
        if unknown:
            _problem(problems, file, pos + 2, "doelgroepen",
                     f"onbekende doelgroep(en) {', '.join(unknown)}; kies uit: {', '.join(TARGET_GROUPS)}.")
    funding_end = _dates(text["financiering_tot"], file, "financiering_tot", problems)
    verified = _dates(text["laatst_gecontroleerd"], file, "laatst_gecontroleerd", problems)

    if problems:
        problems.sort(key=lambda p: (p["rij"], p["kolom"]))
        first = problems[0]
        raise DataValidationError(
            f"{len(problems)} probleem/problemen gevonden; er is niets geïmporteerd. Eerste: {first['melding']}",
            file=file, row=first["rij"], column=first["kolom"], problems=problems)

    new_ids = [f"V{next_number + i:03d}" for i in range(int(ids.isna().sum()))]
    ids = ids.copy()
    ids[ids.isna()] = new_ids
    default_reach = types.map(lambda t: float(catalogue[t].default_reach_m))
    default_groups = types.map(lambda t: ";".join(catalogue[t].target_groups))
    default_unit = types.map(lambda t: catalogue[t].capacity_unit)
    out = gpd.GeoDataFrame({
        "provision_id": ids.astype(str).to_numpy(),
        "name": text["naam"].to_numpy(),
        "type": types.to_numpy(),
        "organisation": text["organisatie"].to_numpy(),
        "reach_m": numbers["bereik_m"].fillna(default_reach).to_numpy(),
        "target_groups": groups.where(groups != "", default_groups).str.replace(",", ";").str.replace(" ", "")
        .str.lower().to_numpy(),
        "capacity_per_year": pd.array(numbers["capaciteit_per_jaar"].round(), dtype="Int64"),
        "capacity_unit": text["capaciteitseenheid"].where(text["capaciteitseenheid"].fillna("") != "",
                                                          default_unit).to_numpy(),
        "volunteers": pd.array(numbers["vrijwilligers"].round(), dtype="Int64"),
        "status": status.to_numpy(),
        "funding_source": text["financiering"].to_numpy(),
        "funding_end": funding_end.to_numpy(),
        "evidence_label": text["erkenning"].to_numpy(),
        "contact": text["contact"].to_numpy(),
        "last_verified": verified.to_numpy(),
        "notes": text["notities"].to_numpy(),
    }, geometry=points, crs=CRS_EPSG)
    for col in ("organisation", "funding_source", "evidence_label", "contact", "notes", "capacity_unit"):
        out[col] = out[col].where(out[col].fillna("") != "", None)
    return out


_PERSONAL = re.compile(r"^(voornaam|achternaam|bsn|burgerservicenummer|geboortedatum|telefoon.*|adres|"
                       r"straat|huisnummer|postcode|e-?mail.*)$", re.IGNORECASE)


def _reject_personal_columns(frame: pd.DataFrame, file: str) -> None:
    """Provisions are organisations, not people: refuse sheets that carry personal data columns."""
    hits = [c for c in frame.columns if _PERSONAL.match(str(c))]
    if hits:
        raise DataValidationError(
            f"Kolom '{hits[0]}' lijkt persoonsgegevens te bevatten; die horen niet in de sociale kaart. "
            "Verwijder de kolom en probeer opnieuw.", file=file, column=hits[0])


def read_provisions_file(path: str | Path, *, area: shapely.Geometry | None = None,
                         next_number: int = 1, catalogue: dict | None = None) -> gpd.GeoDataFrame:
    """Read and validate a provisions sheet (Excel or CSV, Dutch or English number style)."""
    path = Path(path)
    return validate_provisions(read_table_file(path), file=path.name, area=area, next_number=next_number,
                               catalogue=catalogue)


def read_provision_points(path: str | Path, *, type_for_all: str | None = None,
                          type_map: dict[str, str] | None = None, area: shapely.Geometry | None = None,
                          next_number: int = 1, catalogue: dict | None = None) -> gpd.GeoDataFrame:
    """Import points from GeoJSON/GeoPackage; their types must map to catalogue types.

    The source's type comes from a column ``soort``, ``type``, ``kind`` or ``categorie``. Values that are not
    catalogue types are refused, listing them, unless ``type_for_all`` or ``type_map`` maps them.
    """
    path = Path(path)
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    try:
        points = pyogrio.read_dataframe(path)
    except Exception as exc:
        raise DataValidationError("Het bestand kan niet als kaartlaag gelezen worden.", file=path.name) from exc
    if points.empty:
        raise DataValidationError("Het bestand bevat geen punten.", file=path.name)
    if points.crs is None:
        raise DataValidationError("Het bestand heeft geen coördinatenstelsel.", file=path.name)
    if not (points.geom_type == "Point").all():
        raise DataValidationError("Alleen punten kunnen als voorziening worden ingelezen.", file=path.name)
    cols = {c.lower(): c for c in points.columns}
    source_col = next((cols[c] for c in ("soort", "type", "kind", "categorie", "category") if c in cols), None)
    if type_for_all is not None:
        code = type_code(type_for_all, catalogue)
        if code is None:
            raise DataValidationError(f"Onbekende soort '{type_for_all}'; kies uit: {', '.join(catalogue)}.")
        types = pd.Series(code, index=points.index)
    else:
        raw = points[source_col].astype(str) if source_col else pd.Series("", index=points.index)
        mapping = {str(k): v for k, v in (type_map or {}).items()}
        types = raw.map(lambda v: type_code(mapping.get(v, v), catalogue))
        unmapped = sorted(raw[types.isna()].unique())
        if unmapped:
            raise DataValidationError(
                f"{int(types.isna().sum())} punten hebben een soort die niet in de catalogus staat "
                f"({', '.join(unmapped[:10])}). Geef een vertaling van bronwaarde naar soort (bijv. "
                f"{{\"{unmapped[0]}\": \"buurthuis\"}}) of kies één soort voor alle punten.",
                file=path.name, column=source_col or "soort")
    wgs = points.to_crs(4326)
    name_col = next((cols[c] for c in ("naam", "name") if c in cols), None)
    id_col = cols.get("id")
    fallback = pd.Series([f"Naamloos punt {i + 1}" for i in range(len(points))], index=points.index)
    names = points[name_col].astype("string").str.strip().replace("", pd.NA) if name_col else fallback
    sheet = pd.DataFrame({
        "id": points[id_col].astype(str) if id_col else "",
        "naam": names.fillna(fallback).to_numpy(),
        "soort": types.to_numpy(),
        "breedtegraad": wgs.geometry.y.map(repr).to_numpy(),
        "lengtegraad": wgs.geometry.x.map(repr).to_numpy(),
    })
    for header in HEADERS:
        if header in cols and header not in sheet:
            sheet[header] = points[cols[header]].astype("string")
    return validate_provisions(sheet, file=path.name, area=area, next_number=next_number, catalogue=catalogue)


def read_type_map(path: str | Path) -> dict[str, str]:
    """Read a type map: JSON object, or a two-column CSV (bronwaarde;soort)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"De vertaaltabel is geen geldige JSON ({exc.msg}, regel {exc.lineno}).",
                                      file=path.name) from exc
        if not isinstance(data, dict):
            raise DataValidationError("De vertaaltabel moet een JSON-object zijn.", file=path.name)
        return {str(k): str(v) for k, v in data.items()}
    frame = read_table_file(path)
    return dict(zip(frame.iloc[:, 0].astype(str), frame.iloc[:, 1].astype(str), strict=True))


def provisions_sheet(provisions: gpd.GeoDataFrame) -> pd.DataFrame:
    """The store's provisions as the template sheet (Dutch headers, WGS84 coordinates)."""
    if provisions.empty:
        return pd.DataFrame(columns=list(HEADERS))
    wgs = provisions.geometry.to_crs(4326)
    return pd.DataFrame({
        "id": provisions["provision_id"].to_numpy(),
        "naam": provisions["name"].to_numpy(),
        "soort": provisions["type"].to_numpy(),
        "organisatie": provisions["organisation"].to_numpy(),
        "breedtegraad": np.round(wgs.y.to_numpy(), 6),
        "lengtegraad": np.round(wgs.x.to_numpy(), 6),
        "bereik_m": provisions["reach_m"].to_numpy(),
        "doelgroepen": provisions["target_groups"].to_numpy(),
        "capaciteit_per_jaar": provisions["capacity_per_year"].to_numpy(),
        "capaciteitseenheid": provisions["capacity_unit"].to_numpy(),
        "vrijwilligers": provisions["volunteers"].to_numpy(),
        "status": provisions["status"].to_numpy(),
        "financiering": provisions["funding_source"].to_numpy(),
        "financiering_tot": pd.to_datetime(provisions["funding_end"]).dt.strftime("%d-%m-%Y").to_numpy(),
        "erkenning": provisions["evidence_label"].to_numpy(),
        "contact": provisions["contact"].to_numpy(),
        "laatst_gecontroleerd": pd.to_datetime(provisions["last_verified"]).dt.strftime("%d-%m-%Y").to_numpy(),
        "notities": provisions["notes"].to_numpy(),
    })


def provisions_to_excel(provisions: gpd.GeoDataFrame, catalogue: dict | None = None) -> bytes:
    """Export (or, when empty, the template) as Excel with an explanation sheet."""
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    sheet = provisions_sheet(provisions)
    help_rows = [
        ("id", "Laat leeg voor een nieuwe voorziening; bestaande id's worden bijgewerkt."),
        ("naam", "Verplicht."),
        ("soort", "Verplicht; een van: " + ", ".join(catalogue)),
        ("breedtegraad / lengtegraad", "Verplicht; WGS84, bijv. 52,0906 en 5,1214 (decimale komma mag)."),
        ("bereik_m", "Leeg: standaard van de soort."),
        ("doelgroepen", "Gescheiden door ';': " + ", ".join(TARGET_GROUPS)),
        ("status", "actief, onder druk of gestopt (leeg: actief)."),
        ("financiering_tot / laatst_gecontroleerd", "Datum als dd-mm-jjjj."),
    ]
    sheets = {"Voorzieningen": sheet, "Toelichting": pd.DataFrame(help_rows, columns=["kolom", "toelichting"])}
    widths = {"Voorzieningen": dict(zip("ABCD", (8, 36, 26, 30), strict=True))}
    return frames_to_excel_bytes(sheets, column_widths=widths)


def provisions_to_csv(provisions: gpd.GeoDataFrame) -> bytes:
    """Export as CSV the way Dutch Excel opens it: semicolons, decimal commas, UTF-8 with BOM."""
    return frame_to_csv_bytes(provisions_sheet(provisions))


def filter_provisions(
    provisions: gpd.GeoDataFrame,
    *,
    types: list[str] | None = None,
    statuses: list[str] | None = None,
    wijk_code: str | None = None,
    target_group: str | None = None,
    funding_within_months: int | None = None,
    unverified_days: int | None = None,
    today: pd.Timestamp | None = None,
) -> gpd.GeoDataFrame:
    """Filter the inventory the way the table page offers it (all criteria combined)."""
    today = pd.Timestamp.today().normalize() if today is None else pd.Timestamp(today)
    keep = pd.Series(True, index=provisions.index)
    if types:
        keep &= provisions["type"].isin(types)
    if statuses:
        keep &= provisions["status"].isin(statuses)
    if wijk_code:
        keep &= ("WK" + provisions["buurt_code"].fillna("").str[2:8]) == wijk_code
    if target_group:
        keep &= provisions["target_groups"].fillna("").str.split(";").map(lambda g: target_group in g)
    if funding_within_months:
        end = pd.to_datetime(provisions["funding_end"])
        keep &= end.notna() & (end >= today) & (end <= today + pd.DateOffset(months=int(funding_within_months)))
    if unverified_days:
        verified = pd.to_datetime(provisions["last_verified"])
        keep &= verified.isna() | (verified < today - pd.Timedelta(days=int(unverified_days)))
    return provisions.loc[keep]
