"""The inventory of collective provisions: template, validation, import and export.

Users fill a spreadsheet with Dutch headers (Excel or CSV from Dutch Excel), or bring a
municipality's open data (GeoJSON, GeoPackage, CSV or Excel in the source's own columns) through
an :class:`ImportMapping`: which column holds the type, how each source value maps to a catalogue
type (or is skipped), which column is the source's stable id, which hold the name and the address.
Every row is checked before anything is written; problems are reported per row and column, and an
import lands whole or not at all. Importing an export again updates the same provisions (matched
on ``id``), importing a source again updates them too (matched on the source id, ``bron_id``).

An organisation's address is not personal data: ``straat``, ``huisnummer``, ``postcode`` and
``plaats`` are part of a provision. Damaged letters (``?`` in place of a letter, the usual trace of
a wrong character set) and house numbers that Excel turned into dates are warned about per row.
Points outside the loaded areas are imported flagged (``outside_areas``: shown, never counted in
gaps or matching) or skipped, as the user chooses.
"""

from __future__ import annotations

import json
import re
import warnings as _warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from data.addresses import POSTCODE_HELP, normalise_postcodes
from data.errors import DataValidationError
from data.export import (
    FMT_DATE,
    FMT_INT,
    decimals_format,
    explanation_frame,
    frame_to_csv_bytes,
    frames_to_excel_bytes,
)
from data.provision_types import PROVISION_TYPES, TARGET_GROUPS
from data.schema import CRS_EPSG, PROVISION_STATUSES
from data.tabular import mapping_json, parse_numbers, read_table_file

# Dutch header -> store column, in template order.
HEADERS = {
    "id": "provision_id",
    "naam": "name",
    "soort": "type",
    "organisatie": "organisation",
    "breedtegraad": "lat",
    "lengtegraad": "lon",
    "straat": "street",
    "huisnummer": "house_number",
    "postcode": "postcode",
    "plaats": "city",
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
    "bron_id": "source_id",
    "buiten_gebieden": "outside_areas",
}
REQUIRED = ("naam", "soort", "breedtegraad", "lengtegraad")
ADDRESS_PARTS = {"straat": "Straat", "huisnummer": "Huisnummer", "postcode": "Postcode", "plaats": "Plaats"}
OUTSIDE_CHOICES = {"flag": "importeren, gemarkeerd als 'buiten de geladen gebieden'", "skip": "overslaan"}
OUTSIDE_LABEL = "buiten de geladen gebieden"
_YES = {"ja", "j", "yes", "y", "true", "waar", "1", "x"}
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


_ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"


def _dates(series: pd.Series, file: str, column: str, problems: list, rows: np.ndarray) -> pd.Series:
    text = series.astype("string").str.strip()
    empty = text.isna() | (text == "")
    # A date cell of Excel (the export writes real dates) reads back as '2027-01-02 00:00:00': year first,
    # so never day-first (that would make it 1 February).
    iso = text.str.fullmatch(_ISO_DATE, na=False)
    parsed = pd.to_datetime(text.where(~empty & ~iso), errors="coerce", dayfirst=True, format="mixed")
    if iso.any():
        parsed = parsed.where(~iso, pd.to_datetime(text.where(iso), errors="coerce", format="ISO8601"))
    for pos in np.flatnonzero((parsed.isna() & ~empty).to_numpy()):
        _problem(problems, file, int(rows[pos]), column, f"'{series.iloc[pos]}' is geen datum (gebruik dd-mm-jjjj).")
    return parsed


def validate_provisions(
    frame: pd.DataFrame,
    *,
    file: str,
    area: shapely.Geometry | None = None,
    next_number: int = 1,
    catalogue: dict | None = None,
    outside_areas: str = "refuse",
    existing: pd.DataFrame | None = None,
    warnings: list | None = None,
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
    outside_areas : {'refuse', 'flag'}
        Points outside ``area``: a problem ('refuse', for a single provision placed by hand) or
        imported with ``outside_areas`` True ('flag'; callers that skip them drop those rows).
    existing : DataFrame, optional
        The stored provisions (``provision_id``, ``source_id``): a row without an id whose
        ``bron_id`` is stored gets that provision's id, so a source imported again updates.
    warnings : list, optional
        Receives one dict (bestand, rij, kolom, melding) per suspicious cell that is not an error:
        damaged letters, a house number that looks like an Excel date (not taken over), a postcode
        that is not Dutch.

    Raises
    ------
    DataValidationError
        With ``problems`` listing every row and column that is wrong; nothing is returned then.
    """
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    # Row numbers for the report: the file's own (a mapped source passes them in '__rij'), else header = 1.
    rows = (pd.to_numeric(frame.pop("__rij")).to_numpy(dtype=np.int64) if "__rij" in frame
            else np.arange(len(frame), dtype=np.int64) + 2)
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
            _problem(problems, file, int(rows[pos]), h, "mag niet leeg zijn.")
    types = text["soort"].map(lambda t: type_code(t, catalogue) if pd.notna(t) and t else None)
    for pos in np.flatnonzero((types.isna() & text["soort"].fillna("").ne("")).to_numpy()):
        _problem(problems, file, int(rows[pos]), "soort",
                 f"onbekende soort '{text['soort'].iloc[pos]}'; kies uit: {', '.join(catalogue)}.")
    status_in = text["status"].fillna("actief").str.lower().replace("", "actief")
    status = status_in.map(_STATUS_INPUT)
    for pos in np.flatnonzero(status.isna().to_numpy()):
        _problem(problems, file, int(rows[pos]), "status",
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
                    _problem(problems, file, int(rows[pos]), h, f"'{cell}' is geen getal.")
            numbers[h] = values
    for h in ("capaciteit_per_jaar", "vrijwilligers", "bereik_m"):
        for pos in np.flatnonzero((numbers[h] < 0).fillna(False).to_numpy()):
            _problem(problems, file, int(rows[pos]), h, "mag niet negatief zijn.")

    lat, lon = numbers["breedtegraad"], numbers["lengtegraad"]
    x, y = _TO_RD.transform(lon.to_numpy(), lat.to_numpy())
    points = shapely.points(np.column_stack([x, y]))
    known = lat.notna() & lon.notna()
    in_nl = known & lat.between(50.5, 53.8) & lon.between(3.0, 7.4)
    for pos in np.flatnonzero((known & ~in_nl).to_numpy()):
        _problem(problems, file, int(rows[pos]), "breedtegraad",
                 f"coördinaten ({lat.iloc[pos]}, {lon.iloc[pos]}) liggen niet in Nederland; "
                 "breedtegraad ±51-53, lengtegraad ±3-7.")
    if area is not None:
        outside = in_nl & ~pd.Series(shapely.covers(area.buffer(50), points), index=frame.index)
        if outside_areas == "refuse":
            for pos in np.flatnonzero(outside.to_numpy()):
                _problem(problems, file, int(rows[pos]), "breedtegraad",
                         f"coördinaten ({lat.iloc[pos]}, {lon.iloc[pos]}) liggen buiten de gemeente.")
    else:
        outside = text["buiten_gebieden"].fillna("").str.lower().isin(_YES)

    ids = text["id"].where(text["id"].fillna("") != "")
    dup = ids.notna() & ids.duplicated(keep="first")
    for pos in np.flatnonzero(dup.to_numpy()):
        _problem(problems, file, int(rows[pos]), "id", f"id '{ids.iloc[pos]}' komt vaker voor.")
    source_ids = text["bron_id"].where(text["bron_id"].fillna("") != "")
    for pos in np.flatnonzero((source_ids.notna() & source_ids.duplicated(keep="first")).to_numpy()):
        _problem(problems, file, int(rows[pos]), "bron_id", f"bron-id '{source_ids.iloc[pos]}' komt vaker voor.")
    if existing is not None and len(existing) and source_ids.notna().any():
        stored = existing.dropna(subset=["source_id"]).drop_duplicates("source_id").set_index(
            existing.dropna(subset=["source_id"]).drop_duplicates("source_id")["source_id"].astype(str))
        owner = source_ids.map(stored["provision_id"].astype(str))
        clash = ids.notna() & owner.notna() & (ids != owner)
        for pos in np.flatnonzero(clash.to_numpy()):
            _problem(problems, file, int(rows[pos]), "bron_id",
                     f"bron-id '{source_ids.iloc[pos]}' hoort bij voorziening {owner.iloc[pos]}, niet bij "
                     f"{ids.iloc[pos]}.")
        ids = ids.where(ids.notna(), owner)
    address = _address_parts(text, file, warnings, rows)
    _warn_damaged_text(text, file, warnings, rows)
    groups = text["doelgroepen"].fillna("")
    for pos, cell in enumerate(groups):
        unknown = [g for g in re.split(r"[;,]", cell) if g.strip() and g.strip().lower() not in TARGET_GROUPS]
        if unknown:
            _problem(problems, file, int(rows[pos]), "doelgroepen",
                     f"onbekende doelgroep(en) {', '.join(unknown)}; kies uit: {', '.join(TARGET_GROUPS)}.")
    funding_end = _dates(text["financiering_tot"], file, "financiering_tot", problems, rows)
    verified = _dates(text["laatst_gecontroleerd"], file, "laatst_gecontroleerd", problems, rows)

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
        "street": address["straat"].to_numpy(),
        "house_number": address["huisnummer"].to_numpy(),
        "postcode": address["postcode"].to_numpy(),
        "city": address["plaats"].to_numpy(),
        "source_id": source_ids.to_numpy(),
        "outside_areas": outside.to_numpy(dtype=bool),
    }, geometry=points, crs=CRS_EPSG)
    for col in ("organisation", "funding_source", "evidence_label", "contact", "notes", "capacity_unit", "street",
                "house_number", "postcode", "city", "source_id"):
        out[col] = out[col].astype(object).where(out[col].notna() & (out[col].fillna("") != ""), None)
    return out


# Excel turns '1-3' or '12-14' into a date; what comes back is a serial (1954-2064) or a date text.
_DATE_SERIAL = re.compile(r"^(?:[2-5][0-9]{4}(?:[.,]0+)?|\d{4}-\d{2}-\d{2}(?:[ T]00:00(?::00)?)?|"
                          r"\d{1,2}-(?:jan|feb|mrt|mar|apr|mei|may|jun|jul|aug|sep|okt|oct|nov|dec)\w*)$",
                          re.IGNORECASE)
# A '?' between letters, or U+FFFD: a letter lost to a wrong character set ('Caf?', 'Bu?rtkamer').
_DAMAGED = re.compile(r"[^\W\d_]\?[^\W\d_]|\ufffd|[^\W\d_]\?(?=\s+[^\W\d_])")
_TEXT_CHECKED = {"naam": "naam", "organisatie": "organisatie", "straat": "straat", "plaats": "plaats"}


def _address_parts(text: dict, file: str, warnings: list | None, rows: np.ndarray) -> dict[str, pd.Series]:
    """Street, house number, postcode and city, cleaned: postcodes as '1234 AB', date-like numbers dropped."""
    out = {part: text[part].where(text[part].fillna("") != "") for part in ADDRESS_PARTS}
    number = out["huisnummer"].str.strip()
    looks_like_date = number.fillna("").str.fullmatch(_DATE_SERIAL)
    for pos in np.flatnonzero(looks_like_date.to_numpy()):
        _warn(warnings, file, int(rows[pos]), "huisnummer",
              f"huisnummer '{number.iloc[pos]}' lijkt door Excel in een datum veranderd (bijv. 1-3 werd 3 januari); "
              "niet overgenomen, vul het met de hand in of herstel de bron.")
    out["huisnummer"] = number.where(~looks_like_date)
    code = out["postcode"].str.strip()
    normalised, bad = normalise_postcodes(code)  # the one postcode rule, also of the page's forms
    for pos in np.flatnonzero(bad.to_numpy()):
        _warn(warnings, file, int(rows[pos]), "postcode", f"postcode '{code.iloc[pos]}' is geen Nederlandse postcode "
              f"({POSTCODE_HELP}); overgenomen zoals hij is.")
    out["postcode"] = code.where(bad, normalised)
    return out


def _warn_damaged_text(text: dict, file: str, warnings: list | None, rows: np.ndarray) -> None:
    for header in _TEXT_CHECKED:
        cells = text[header].fillna("")
        for pos in np.flatnonzero(cells.str.contains(_DAMAGED).to_numpy()):
            _warn(warnings, file, int(rows[pos]), header,
                  f"'{cells.iloc[pos]}' bevat een '?' waar een letter hoort (tekenset van de bron?); "
                  "overgenomen zoals het is, controleer de bron.")


def _warn(warnings: list | None, file: str, row: int, column: str, message: str) -> None:
    if warnings is not None:
        warnings.append({"bestand": file, "rij": row, "kolom": column, "melding": message})


# A provision is an organisation: its address is not personal data, a person's name, birth date or BSN is.
_PERSONAL = re.compile(r"^(voornaam|achternaam|roepnaam|bsn|burgerservicenummer|geboortedatum)$", re.IGNORECASE)


def _reject_personal_columns(frame: pd.DataFrame, file: str) -> None:
    """Refuse template sheets that carry columns of a person (a name, birth date, BSN).

    Only for the template, whose every column is stored; a source read through an :class:`ImportMapping`
    keeps only the columns the mapping names, so its other columns are never stored and not refused."""
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


# --------------------------------------------------------------------------- open data through a mapping

MAPPING_KEYS = ("type_column", "id_column", "name_column", "organisation_column", "address_columns", "types",
                "outside_areas", "type_for_all")
OTHER_VALUES = "*"  # in ``types``: every source value not named
_TYPE_COLUMNS = ("soort", "type", "kind", "categorie", "category", "typering", "functie")
_NAME_COLUMNS = ("naam", "name", "titel", "title", "omschrijving", "locatienaam")
_ID_COLUMNS = ("id", "objectid", "object_id", "fid", "identificatie", "code", "uuid", "guid")
_LAT_COLUMNS = ("breedtegraad", "lat", "latitude", "wgs84_lat", "lat_wgs84", "y_wgs84")
_LON_COLUMNS = ("lengtegraad", "lon", "lng", "long", "longitude", "wgs84_lon", "lon_wgs84", "x_wgs84")
_RD_COLUMNS = (("x", "y"), ("x_rd", "y_rd"), ("rd_x", "rd_y"), ("xcoord", "ycoord"))
_WKT_COLUMNS = ("wkt", "geometry", "geometrie", "geom", "wkt_lng_lat", "wkt_lat_lng")
_ADDRESS_GUESS = {"straat": ("straat", "straatnaam", "adres", "openbareruimte", "street"),
                  "huisnummer": ("huisnummer", "huisnr", "nummer", "housenumber", "huisnummer_toevoeging"),
                  "postcode": ("postcode", "pc6", "zipcode", "postal_code"),
                  "plaats": ("plaats", "woonplaats", "stad", "city", "plaatsnaam")}


@dataclass
class ImportMapping:
    """How a source's own columns become provisions; saved and loaded as JSON (the CLI's ``--mapping``).

    ``types`` maps each source value of ``type_column`` to a catalogue type (code or Dutch label) or to
    ``None`` (skip those rows); the key ``"*"`` stands for every value not named, and ``""`` for an empty
    cell. ``outside_areas``: ``"flag"`` imports points outside the loaded areas marked as such (shown,
    never counted in gaps), ``"skip"`` leaves them out with the reason in the report.
    """

    type_column: str | None = None
    id_column: str | None = None
    name_column: str | None = None
    organisation_column: str | None = None
    address_columns: dict[str, str] = field(default_factory=dict)
    types: dict[str, str | None] = field(default_factory=dict)
    outside_areas: str = "flag"
    type_for_all: str | None = None

    def to_dict(self) -> dict:
        out = {"type_column": self.type_column, "id_column": self.id_column, "name_column": self.name_column,
               "address_columns": dict(self.address_columns), "types": dict(self.types),
               "outside_areas": self.outside_areas}
        if self.organisation_column:
            out["organisation_column"] = self.organisation_column
        if self.type_for_all:
            out["type_for_all"] = self.type_for_all
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data, *, file: str | None = None) -> ImportMapping:
        """Check a mapping read from JSON; every problem named in Dutch."""
        if not isinstance(data, dict):
            raise DataValidationError("De koppeling moet een JSON-object zijn ({...}).", file=file)
        unknown = sorted(set(data) - set(MAPPING_KEYS))
        if unknown:
            raise DataValidationError(f"Onbekende sleutel(s) in de koppeling: {', '.join(unknown)}; toegestaan: "
                                      f"{', '.join(MAPPING_KEYS)}.", file=file, column=unknown[0])
        for key in ("type_column", "id_column", "name_column", "organisation_column", "type_for_all"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise DataValidationError(f"'{key}' moet een kolomnaam (tekst) of null zijn.", file=file, column=key)
        address = data.get("address_columns") or {}
        if not isinstance(address, dict) or not all(isinstance(v, str) for v in address.values()):
            raise DataValidationError("'address_columns' moet een object zijn zoals {\"straat\": \"Adres\"}.",
                                      file=file, column="address_columns")
        wrong = sorted(set(address) - set(ADDRESS_PARTS))
        if wrong:
            raise DataValidationError(f"Onbekend adresdeel {', '.join(wrong)} in 'address_columns'; kies uit "
                                      f"{', '.join(ADDRESS_PARTS)}.", file=file, column="address_columns")
        types = data.get("types") or {}
        if not isinstance(types, dict) or not all(v is None or isinstance(v, str) for v in types.values()):
            raise DataValidationError("'types' moet een object zijn van bronwaarde naar soort (of null om over te "
                                      "slaan).", file=file, column="types")
        outside = data.get("outside_areas", "flag")
        if outside not in OUTSIDE_CHOICES:
            raise DataValidationError(f"'outside_areas' moet \"flag\" of \"skip\" zijn, niet {json.dumps(outside)}.",
                                      file=file, column="outside_areas")
        return cls(data.get("type_column"), data.get("id_column"), data.get("name_column"),
                   data.get("organisation_column"), {str(k): str(v) for k, v in address.items()},
                   {str(k): v for k, v in types.items()}, outside, data.get("type_for_all"))

    @classmethod
    def from_json(cls, text: str | bytes, *, file: str | None = None) -> ImportMapping:
        return cls.from_dict(mapping_json(text, file=file), file=file)


def read_mapping(path: str | Path) -> ImportMapping:
    """Read a saved mapping (JSON) from a file."""
    path = Path(path)
    if not path.exists():
        raise DataValidationError("Het bestand bestaat niet.", file=str(path))
    return ImportMapping.from_json(path.read_bytes(), file=path.name)


@dataclass
class ProvisionSource:
    """A source read as it is: every column as text, points in WGS84 (NaN where a row has none)."""

    file: str
    frame: pd.DataFrame
    lat: np.ndarray
    lon: np.ndarray
    rows: np.ndarray  # row numbers for the report: CSV/Excel lines (header = 1), features from 1
    notes: list[str] = field(default_factory=list)

    @property
    def is_template(self) -> bool:
        """Our own template (Dutch headers): imported as it is, without a mapping."""
        cols = {str(c).strip().lower() for c in self.frame.columns}
        return set(REQUIRED) <= cols

    def column_summary(self, top: int = 3) -> pd.DataFrame:
        """Per source column: how many cells are filled, how many distinct values, a few examples."""
        frame = self.frame
        filled = frame.apply(lambda c: c.fillna("").str.strip().ne("")).sum()
        return pd.DataFrame({
            "kolom": frame.columns, "gevuld": filled.to_numpy(), "verschillend": frame.nunique().to_numpy(),
            "voorbeelden": [", ".join(frame[c].dropna().loc[lambda v: v.str.strip() != ""].unique()[:top])
                            for c in frame.columns],
        })

    def value_counts(self, column: str) -> pd.Series:
        """The values of a column with their counts, empty cells as '' (most frequent first)."""
        return self.frame[column].fillna("").str.strip().value_counts(sort=True)

    def guess_mapping(self, catalogue: dict | None = None) -> ImportMapping:
        """A first mapping from the column names: type, id, name and address columns; values that are
        catalogue types map to themselves, the others wait for the user (not mapped)."""
        cols = {str(c).strip().lower(): c for c in self.frame.columns}

        def pick(names):
            return next((cols[n] for n in names if n in cols), None)

        type_col = pick(_TYPE_COLUMNS)
        types = {}
        if type_col is not None:
            for value in self.value_counts(type_col).index:
                code = type_code(value, catalogue) if value else None
                if code:
                    types[value] = code
        address = {part: pick(names) for part, names in _ADDRESS_GUESS.items()}
        return ImportMapping(type_col, pick(_ID_COLUMNS), pick(_NAME_COLUMNS), pick(("organisatie", "organisation",
                                                                                      "aanbieder", "eigenaar")),
                             {k: v for k, v in address.items() if v is not None}, types)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text; whole floats (an integer column with gaps, as GDAL reads it) without '.0'."""
    out = {}
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_float_dtype(series) and series.dropna().mod(1).eq(0).all():
            series = series.astype("Int64")
        elif pd.api.types.is_datetime64_any_dtype(series):
            series = series.dt.strftime("%d-%m-%Y")
        out[str(col)] = series.astype("string").str.strip()
    return pd.DataFrame(out, index=frame.index)


def read_provision_source(path: str | Path) -> ProvisionSource:
    """Read GeoJSON, GeoPackage, CSV or Excel as it is, for the template or a mapping.

    GeoJSON without a ``crs`` member is WGS84 (RFC 7946); other geometries than points are placed at
    a point on their surface (noted). CSV/Excel need coordinate columns: breedtegraad/lengtegraad
    (lat/lon, latitude/longitude), RD x/y, or a WKT column.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json", ".gpkg"):
        from data.tabular import check_file
        check_file(path, max_bytes=MAX_SOURCE_BYTES, allowed=("geojson", "json", "gpkg"))
        try:
            with _warnings.catch_warnings():  # mixed-type properties are read as text, as we want them
                _warnings.simplefilter("ignore", UserWarning)
                points = pyogrio.read_dataframe(path)
        except Exception as exc:
            raise DataValidationError("Het bestand kan niet als kaartlaag gelezen worden; is het GeoJSON of een "
                                      "GeoPackage met punten?", file=path.name) from exc
        if points.empty:
            raise DataValidationError("Het bestand bevat geen punten.", file=path.name)
        notes = []
        geoms = points.geometry
        if points.crs is None:
            bounds = geoms.total_bounds
            if np.isfinite(bounds).all() and -180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= 90:
                points = points.set_crs(4326)
                notes.append("Geen coördinatenstelsel opgegeven: aangenomen WGS84 (lengte/breedte), zoals GeoJSON "
                             "voorschrijft.")
            else:
                raise DataValidationError("Het bestand heeft geen coördinatenstelsel en de coördinaten zijn geen "
                                          "lengte/breedte; sla het op met een coördinatenstelsel (bijv. EPSG:28992).",
                                          file=path.name)
        wgs = points.geometry.to_crs(4326)
        kinds = wgs.geom_type.dropna()
        if (kinds != "Point").any():
            wgs = wgs.where(wgs.geom_type.isin(["Point"]) | wgs.isna(), wgs.representative_point())
            notes.append(f"{int((kinds != 'Point').sum())} vlakken of lijnen zijn op een punt binnen de vorm "
                         "geplaatst.")
        empty = wgs.isna() | wgs.is_empty
        lat = np.where(empty, np.nan, wgs.y.where(~empty).to_numpy(dtype=float))
        lon = np.where(empty, np.nan, wgs.x.where(~empty).to_numpy(dtype=float))
        frame = _as_text(pd.DataFrame(points.drop(columns=points.geometry.name)))
        return ProvisionSource(path.name, frame.reset_index(drop=True), lat, lon,
                               np.arange(len(frame), dtype=np.int64) + 1, notes)
    frame = read_table_file(path)
    rows = np.arange(len(frame), dtype=np.int64) + 2
    source = ProvisionSource(path.name, frame.reset_index(drop=True), np.full(len(frame), np.nan),
                             np.full(len(frame), np.nan), rows)
    if source.is_template:
        return source  # coordinates are checked with the template's own columns
    source.lat, source.lon = _table_coordinates(frame, path.name)
    return source


MAX_SOURCE_BYTES = 200 * 1024 * 1024


def _table_coordinates(frame: pd.DataFrame, file: str) -> tuple[np.ndarray, np.ndarray]:
    cols = {str(c).strip().lower(): c for c in frame.columns}
    lat_col = next((cols[c] for c in _LAT_COLUMNS if c in cols), None)
    lon_col = next((cols[c] for c in _LON_COLUMNS if c in cols), None)
    if lat_col is not None and lon_col is not None:
        lat = parse_numbers(frame[lat_col], file=file, column=lat_col).to_numpy(dtype=float)
        lon = parse_numbers(frame[lon_col], file=file, column=lon_col).to_numpy(dtype=float)
        return lat, lon
    for x_name, y_name in _RD_COLUMNS:
        if x_name in cols and y_name in cols:
            x = parse_numbers(frame[cols[x_name]], file=file, column=cols[x_name]).to_numpy(dtype=float)
            y = parse_numbers(frame[cols[y_name]], file=file, column=cols[y_name]).to_numpy(dtype=float)
            lon, lat = _TO_WGS.transform(x, y)
            return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    wkt_col = next((cols[c] for c in _WKT_COLUMNS if c in cols), None)
    if wkt_col is not None:
        text = frame[wkt_col].fillna("").str.strip()
        try:
            geoms = shapely.from_wkt(text.where(text != "", None).to_numpy(dtype=object), on_invalid="raise")
        except shapely.errors.GEOSException as exc:
            raise DataValidationError(f"Kolom '{wkt_col}' bevat tekst die geen WKT-geometrie is.", file=file,
                                      column=wkt_col) from exc
        pts = shapely.point_on_surface(geoms)
        x, y = shapely.get_x(pts), shapely.get_y(pts)
        if np.nanmax(np.abs(np.r_[x, y, 0])) > 1000:  # RD New metres
            x, y = _TO_WGS.transform(x, y)
        lon, lat = (x, y) if wkt_col.lower() != "wkt_lat_lng" else (y, x)
        return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    raise DataValidationError(
        "Geen kolommen met coördinaten gevonden. Geef breedtegraad en lengtegraad (of lat/lon, latitude/longitude), "
        "RD-coördinaten x en y, of een WKT-kolom.", file=file)


@dataclass
class ProvisionImport:
    """A prepared import: what would be stored, what is skipped and why, and the warnings per row."""

    provisions: gpd.GeoDataFrame
    skipped: pd.DataFrame  # rij, naam, reden
    warnings: list[dict]
    notes: list[str]
    keyed: bool  # every row has an id or a source id: importing again updates instead of adding

    def warnings_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.warnings, columns=["bestand", "rij", "kolom", "melding"])


def _skipped(rows, names, reasons) -> pd.DataFrame:
    return pd.DataFrame({"rij": np.asarray(rows, dtype=np.int64), "naam": pd.Series(list(names), dtype=object),
                         "reden": pd.Series(list(reasons), dtype=object)})


def prepare_provision_import(source: ProvisionSource, mapping: ImportMapping | None = None, *,
                             area: shapely.Geometry | None = None, next_number: int = 1,
                             catalogue: dict | None = None, existing: pd.DataFrame | None = None,
                             outside_areas: str = "flag") -> ProvisionImport:
    """Turn a source (template or open data with a mapping) into provisions to store, skipped rows and warnings.

    Raises
    ------
    DataValidationError
        With ``problems`` for every wrong cell (nothing is stored then): a mapping naming a column the
        source lacks, source values the mapping does not name (with their counts), bad coordinates or
        dates, a source id that occurs twice.
    """
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    warnings: list[dict] = []
    if mapping is None and source.is_template:
        frame = source.frame.assign(__rij=source.rows)
        out = validate_provisions(frame, file=source.file, area=area, next_number=next_number, catalogue=catalogue,
                                  outside_areas="flag", existing=existing, warnings=warnings)
        skipped = _skipped([], [], [])
        if outside_areas == "skip":
            gone = out["outside_areas"].to_numpy(bool)
            skipped = _skipped(source.rows[gone], out.loc[gone, "name"], [OUTSIDE_LABEL] * int(gone.sum()))
            out = out.loc[~gone]
        keyed = bool(out["provision_id"].isin(frame.get("id", pd.Series(dtype=str))).all()) or bool(
            frame.get("bron_id", pd.Series("", index=frame.index)).fillna("").ne("").all())
        return ProvisionImport(out.reset_index(drop=True), skipped, warnings, list(source.notes), keyed)
    mapping = mapping or source.guess_mapping(catalogue)
    sheet, skipped = mapped_sheet(source, mapping, catalogue)
    out = validate_provisions(sheet, file=source.file, area=area, next_number=next_number, catalogue=catalogue,
                              outside_areas="flag", existing=existing, warnings=warnings)
    if mapping.outside_areas == "skip":
        gone = out["outside_areas"].to_numpy(bool)
        skipped = pd.concat([skipped, _skipped(sheet["__rij"].to_numpy()[gone], out.loc[gone, "name"],
                                               [OUTSIDE_LABEL] * int(gone.sum()))], ignore_index=True)
        out = out.loc[~gone]
    skipped = skipped.sort_values("rij", kind="stable").reset_index(drop=True)
    warnings.sort(key=lambda w: (w["rij"], w["kolom"]))
    return ProvisionImport(out.reset_index(drop=True), skipped, warnings, list(source.notes),
                           keyed=mapping.id_column is not None)


def mapped_sheet(source: ProvisionSource, mapping: ImportMapping, catalogue: dict | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The source in the template's Dutch headers (rows to import) and the rows skipped with their reason."""
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    frame = source.frame
    named = {"type_column": mapping.type_column, "id_column": mapping.id_column, "name_column": mapping.name_column,
             "organisation_column": mapping.organisation_column,
             **{f"address_columns.{k}": v for k, v in mapping.address_columns.items()}}
    absent = [(key, col) for key, col in named.items() if col is not None and col not in frame.columns]
    if absent:
        raise DataValidationError(
            "De koppeling noemt kolommen die het bestand niet heeft: "
            + ", ".join(f"{col} ({key})" for key, col in absent)
            + f". Kolommen in het bestand: {', '.join(map(str, frame.columns))}.", file=source.file,
            column=absent[0][1])
    if mapping.type_for_all is not None:
        code = type_code(mapping.type_for_all, catalogue)
        if code is None:
            raise DataValidationError(f"Onbekende soort '{mapping.type_for_all}'; kies uit: {', '.join(catalogue)}.",
                                      column="type_for_all")
        types = pd.Series(code, index=frame.index, dtype=object)
        skip = pd.Series(False, index=frame.index)
    else:
        if mapping.type_column is None:
            raise DataValidationError("Kies de kolom met de soort (type_column) of één soort voor alle punten.",
                                      file=source.file, column="type_column")
        raw = frame[mapping.type_column].fillna("").str.strip()
        table = {str(k).strip(): v for k, v in mapping.types.items()}
        named_values = raw.isin([k for k in table if k != OTHER_VALUES])
        if OTHER_VALUES in table:
            target = raw.map(table).where(named_values, table[OTHER_VALUES])
        else:
            unmapped = raw[~named_values].value_counts()
            if len(unmapped):
                listed = ", ".join(f"'{v}' ({c}×)" if v else f"leeg ({c}×)" for v, c in unmapped.items())
                raise DataValidationError(
                    f"{int(unmapped.sum())} rijen hebben een soort die de koppeling niet noemt: {listed}. Geef een "
                    "vertaling van bronwaarde naar soort (bijv. {\"" + str(unmapped.index[0]) + "\": \"buurthuis\"}), "
                    "null om over te slaan, of \"*\" voor alle overige waarden; of kies één soort voor alle punten.",
                    file=source.file, column=mapping.type_column)
            target = raw.map(table)
        skip = target.isna()
        codes = target.dropna().map(lambda t: type_code(t, catalogue))
        wrong = sorted(set(target.dropna()[codes.isna()]))
        if wrong:
            raise DataValidationError(f"De koppeling noemt onbekende soort(en): {', '.join(wrong)}; kies uit: "
                                      f"{', '.join(catalogue)}.", file=source.file, column="types")
        types = codes.reindex(frame.index)
    no_place = ~(np.isfinite(source.lat) & np.isfinite(source.lon))
    fallback = pd.Series([f"Naamloos punt {r}" for r in source.rows], index=frame.index)
    names = (frame[mapping.name_column].where(frame[mapping.name_column].fillna("") != "") if mapping.name_column
             else pd.Series(pd.NA, index=frame.index, dtype="string"))
    names = names.fillna(fallback)
    raw_type = (frame[mapping.type_column].fillna("").str.strip() if mapping.type_column
                else pd.Series("", index=frame.index)).to_numpy(dtype=object)
    reasons = np.where(skip.to_numpy(), np.where(raw_type == "", "geen soort (leeg), overgeslagen",
                                                 "soort overgeslagen ('" + raw_type + "')"),
                       np.where(no_place, "geen locatie (geen coördinaten)", ""))
    gone = reasons != ""
    skipped = _skipped(source.rows[gone], names[gone], reasons[gone])
    keep = ~gone
    sheet = pd.DataFrame({
        "__rij": source.rows[keep],
        "id": "",
        "naam": names[keep].to_numpy(),
        "soort": types[keep].to_numpy(),
        "breedtegraad": [repr(float(v)) for v in source.lat[keep]],
        "lengtegraad": [repr(float(v)) for v in source.lon[keep]],
        "bron_id": frame[mapping.id_column][keep].to_numpy() if mapping.id_column else "",
        "organisatie": frame[mapping.organisation_column][keep].to_numpy() if mapping.organisation_column else "",
    })
    for part, col in mapping.address_columns.items():
        sheet[part] = frame[col][keep].to_numpy()
    return sheet, skipped


def read_provision_points(path: str | Path, *, type_for_all: str | None = None,
                          type_map: dict[str, str] | None = None, area: shapely.Geometry | None = None,
                          next_number: int = 1, catalogue: dict | None = None,
                          existing: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Import points from GeoJSON/GeoPackage with the guessed mapping plus a type map (or one type for all).

    The shorthand of the CLI's ``--type``/``--type-map``: values not in the type map must be catalogue
    types, else they are refused, listing them with their counts. Points outside ``area`` are flagged.
    """
    source = read_provision_source(path)
    mapping = source.guess_mapping(catalogue)
    if type_for_all is not None:
        mapping.type_for_all = type_for_all
    elif type_map:
        mapping.types.update({str(k): v for k, v in type_map.items()})
    if mapping.type_column is None and type_for_all is None:
        raise DataValidationError("Geen kolom met de soort gevonden (soort, type, kind of categorie). Geef één soort "
                                  "voor alle punten of een koppeling (--mapping).", file=source.file, column="soort")
    return prepare_provision_import(source, mapping, area=area, next_number=next_number, catalogue=catalogue,
                                    existing=existing).provisions


def read_type_map(path: str | Path) -> dict[str, str | None]:
    """Read a type map: JSON object (null = skip), or a two-column CSV (bronwaarde;soort)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"De vertaaltabel is geen geldige JSON ({exc.msg}, regel {exc.lineno}).",
                                      file=path.name) from exc
        if not isinstance(data, dict):
            raise DataValidationError("De vertaaltabel moet een JSON-object zijn.", file=path.name)
        return {str(k): (None if v is None else str(v)) for k, v in data.items()}
    frame = read_table_file(path)
    return dict(zip(frame.iloc[:, 0].astype(str), frame.iloc[:, 1].astype(str), strict=True))


def _whole_numbers(values) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """Counts as integers (Int64: '30', not '30,0'); a column with a fraction in it stays float."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
    known = numbers.dropna()
    if np.allclose(known, np.round(known)):
        return pd.array(numbers.round(), dtype="Int64")
    return numbers.to_numpy()


def _day(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(values), errors="coerce").dt.normalize().to_numpy()


def provisions_sheet(provisions: gpd.GeoDataFrame) -> pd.DataFrame:
    """The store's provisions as the template sheet (Dutch headers, WGS84 coordinates), values typed.

    Parameters
    ----------
    provisions : GeoDataFrame
        The store's provisions (or a scenario's); empty gives the empty template (:data:`HEADERS`).

    Returns
    -------
    DataFrame
        The columns of :data:`HEADERS` in that order and then ``buurtcode`` (the CBS buurt the point lies
        in; for information, the import works it out from the location again). Coordinates, reach,
        capacity and volunteers are numbers (counts Int64), ``financiering_tot`` and
        ``laatst_gecontroleerd`` dates, missing values missing.
    """
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
        "straat": _column(provisions, "street"),
        "huisnummer": _column(provisions, "house_number"),
        "postcode": _column(provisions, "postcode"),
        "plaats": _column(provisions, "city"),
        "bereik_m": _whole_numbers(provisions["reach_m"]),
        "doelgroepen": provisions["target_groups"].to_numpy(),
        "capaciteit_per_jaar": _whole_numbers(provisions["capacity_per_year"]),
        "capaciteitseenheid": provisions["capacity_unit"].to_numpy(),
        "vrijwilligers": _whole_numbers(provisions["volunteers"]),
        "status": provisions["status"].to_numpy(),
        "financiering": provisions["funding_source"].to_numpy(),
        "financiering_tot": _day(provisions["funding_end"]),
        "erkenning": provisions["evidence_label"].to_numpy(),
        "contact": provisions["contact"].to_numpy(),
        "laatst_gecontroleerd": _day(provisions["last_verified"]),
        "notities": provisions["notes"].to_numpy(),
        "bron_id": _column(provisions, "source_id"),
        "buiten_gebieden": np.where(_column(provisions, "outside_areas", False).astype(bool), "ja", "nee"),
        "buurtcode": _column(provisions, "buurt_code"),
    })


def _column(frame: pd.DataFrame, name: str, default=None) -> np.ndarray:
    """A column as an array, or ``default`` everywhere (frames from before version 7, scenario tables)."""
    if name in frame:
        return frame[name].fillna(default).to_numpy(dtype=object) if default is not None else frame[name].to_numpy()
    return np.full(len(frame), default, dtype=object)


PROVISION_NUMBER_FORMATS = {"breedtegraad": decimals_format(6), "lengtegraad": decimals_format(6),
                            "bereik_m": FMT_INT, "capaciteit_per_jaar": FMT_INT, "vrijwilligers": FMT_INT,
                            "financiering_tot": FMT_DATE, "laatst_gecontroleerd": FMT_DATE}
_OWN = "Sociale kaart (eigen invoer of import)"


def _provision_explanation(catalogue: dict) -> pd.DataFrame:
    """The Toelichting of the provisions export: one row per column, what to fill in, unit, source."""
    rows = [
        ("id", "Laat leeg voor een nieuwe voorziening; bestaande id's worden bijgewerkt.", "", "Steunkaart"),
        ("naam", "Verplicht.", "", _OWN),
        ("soort", "Verplicht; een van: " + ", ".join(catalogue), "", _OWN),
        ("organisatie", "De organisatie die de voorziening aanbiedt.", "", _OWN),
        ("breedtegraad", "Verplicht; WGS84, bijv. 52,0906 (decimale komma mag).", "graden", _OWN),
        ("lengtegraad", "Verplicht; WGS84, bijv. 5,1214 (decimale komma mag).", "graden", _OWN),
        ("straat", "Adres van de organisatie (geen persoonsgegevens).", "", _OWN),
        ("huisnummer", "Huisnummer van het adres.", "", _OWN),
        ("postcode", "Postcode als 1234 AB.", "", _OWN),
        ("plaats", "Plaats van het adres.", "", _OWN),
        ("bereik_m", "Hemelsbrede afstand waarover de voorziening mensen bereikt. Leeg: standaard van de soort.",
         "meter", _OWN),
        ("doelgroepen", "Gescheiden door ';': " + ", ".join(TARGET_GROUPS), "", _OWN),
        ("capaciteit_per_jaar", "Hoeveel mensen of plaatsen per jaar (zie capaciteitseenheid).", "aantal per jaar",
         _OWN),
        ("capaciteitseenheid", "Waarin de capaciteit geteld is, bijv. plaatsen per jaar.", "", _OWN),
        ("vrijwilligers", "Aantal vrijwilligers.", "aantal", _OWN),
        ("status", "actief, onder druk of gestopt (leeg: actief).", "", _OWN),
        ("financiering", "Wie de voorziening betaalt.", "", _OWN),
        ("financiering_tot", "Einddatum van de financiering; datum als dd-mm-jjjj.", "datum", _OWN),
        ("erkenning", "Erkenning van de werkzaamheid (bijv. databank Effectieve sociale interventies).", "", _OWN),
        ("contact", "Contact van de organisatie (geen persoonsgegevens van bewoners).", "", _OWN),
        ("laatst_gecontroleerd", "Wanneer de gegevens voor het laatst zijn nagekeken; datum als dd-mm-jjjj.",
         "datum", _OWN),
        ("notities", "Vrije tekst.", "", _OWN),
        ("bron_id", "De id in de bron (open data): opnieuw importeren werkt dezelfde voorziening bij.", "",
         "Bron van de import"),
        ("buiten_gebieden", "ja: ligt buiten de geladen gebieden (getoond, niet meegeteld in tekorten).", "ja/nee",
         "Steunkaart"),
        ("buurtcode", "CBS-code van de buurt waarin de voorziening ligt; ter informatie, bij importeren wordt die "
         "opnieuw uit de ligging bepaald.", "", "CBS Wijk- en buurtkaart, ligging"),
    ]
    return explanation_frame([("Voorzieningen", *row) for row in rows])


def provisions_to_excel(provisions: gpd.GeoDataFrame, catalogue: dict | None = None) -> bytes:
    """Export (or, when empty, the template) as Excel: typed cells, number formats and a Toelichting sheet.

    Parameters
    ----------
    provisions : GeoDataFrame
        The provisions to export; empty gives the empty template.
    catalogue : dict, optional
        Provision types named in the Toelichting (default: the built-in catalogue).

    Returns
    -------
    bytes
        An .xlsx with the sheet 'Voorzieningen' (:func:`provisions_sheet`: numbers as number cells,
        dates as date cells dd-mm-jjjj, every text a string cell) and 'Toelichting' (Blad, Kolom,
        Betekenis, Eenheid, Bron). Importing it again (the first sheet) updates the same provisions.
    """
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    sheet = provisions_sheet(provisions)
    explanation = _provision_explanation(catalogue)
    explanation = explanation.loc[explanation["Kolom"].isin(sheet.columns)]
    sheets = {"Voorzieningen": sheet, "Toelichting": explanation}
    widths = {"Voorzieningen": dict(zip("ABCD", (8, 36, 26, 30), strict=True)),
              "Toelichting": {"A": 14, "B": 22, "C": 90, "D": 16, "E": 32}}
    return frames_to_excel_bytes(sheets, column_widths=widths,
                                 number_formats={"Voorzieningen": PROVISION_NUMBER_FORMATS})


def provisions_to_csv(provisions: gpd.GeoDataFrame) -> bytes:
    """Export as CSV the way Dutch Excel opens it: semicolons, decimal commas, UTF-8 with BOM.

    Counts are whole numbers ('30'), dates read dd-mm-jjjj (as the template asks), missing values are
    empty fields; the columns are those of :func:`provisions_sheet`.
    """
    sheet = provisions_sheet(provisions)
    for column in ("financiering_tot", "laatst_gecontroleerd"):
        if len(sheet):
            sheet[column] = pd.to_datetime(sheet[column]).dt.strftime("%d-%m-%Y")
    return frame_to_csv_bytes(sheet)


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
