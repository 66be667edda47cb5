"""Open Referral HSDS 3.0: the inventory of provisions exported and imported as HSDS.

The Human Services Data Specification (HSDS, https://docs.openreferral.org) describes services,
the organisations that run them and the locations where they are offered. Its canonical form since
3.0 is JSON (one ``service`` object with its ``organization``, ``service_at_locations[].location``
and other objects nested); it may also be published as a Tabular Data Package: one CSV per object,
linked by ``id`` columns, and a ``datapackage.json`` describing them. Both are written and read here:

- :func:`inventory_to_hsds` turns the store's provisions into HSDS tables;
- :func:`write_hsds_csv` writes them as a Tabular Data Package (RFC 4180 CSV, ``,`` and ``.``,
  UTF-8) with ``datapackage.json``; :func:`write_hsds_json` writes ``services.json``, an HSDS API
  ``Page`` whose ``contents`` are the service objects;
- :func:`read_hsds_dir` reads either form back into the store's provision columns, through
  :func:`data.provisions.validate_provisions`, so every check of a provisions import applies.

One provision is one ``service`` with one ``service_at_location`` and one ``location``. Ids are
UUIDs, derived with UUID 5 from the provision id (organisations: from their name; types and units:
from their code and name), so exporting again gives the same ids.

Mapping (store column → HSDS)
-----------------------------
====================  ===========================================================================
provision_id          ``service.x_steunkaart_provision_id`` (``service.id`` = UUID 5 of it)
name                  ``service.name`` (and ``location.name``)
type                  ``service.attributes``: an ``attribute`` (``link_type`` ``service_type``) to a
                      ``taxonomy_term`` (``code`` = type code, ``name`` = Dutch label) of the
                      ``taxonomy`` "Steunkaart: soorten collectieve voorzieningen"
organisation          ``organization.name``; none: the placeholder organisation "Onbekende
                      organisatie" with ``organization.x_steunkaart_unknown`` true
geometry              ``location.latitude`` / ``location.longitude`` (WGS84, 9 decimals, ±0.1 mm)
street, house_number  ``address.address_1`` ("street house_number"), parts exactly in
                      ``address.x_steunkaart_street`` / ``address.x_steunkaart_house_number``
postcode, city        ``address.postal_code``, ``address.city`` (``country`` NL,
                      ``address_type`` physical)
capacity_per_year     ``service_capacity.maximum`` (and ``available``: Steunkaart keeps no free
                      places), with its ``unit`` (``unit.name`` = capacity_unit)
capacity_unit         ``unit.name``; exactly (also when empty) in ``service.x_steunkaart_capacity_unit``
status                ``service.status``: actief/onder_druk → active, gestopt → inactive; exactly
                      in ``service.x_steunkaart_status``
funding_source        ``funding.source``
funding_end           ``funding.x_steunkaart_end_date`` (HSDS has no end date of funding)
evidence_label        ``service.accreditations``
contact               ``service.email`` when it is an e-mail address, a ``phone.number`` when it
                      is a phone number; the text exactly in ``service.x_steunkaart_contact``
last_verified         ``service.assured_date`` (ISO date)
notes                 ``service.description``
target_groups         ``service.eligibility_description`` (Dutch labels); the codes exactly in
                      ``service.x_steunkaart_target_groups``
reach_m               ``service.x_steunkaart_reach_m``
volunteers            ``service.x_steunkaart_volunteers``
source_id             ``service.x_steunkaart_source_id``
outside_areas         ``service.x_steunkaart_outside_areas`` (recomputed from the areas on import)
====================  ===========================================================================

Extension
---------
HSDS allows properties of its own next to the specified ones, as long as no HSDS property fits
and they are documented (HSDS "Extending HSDS" and "Conformance"). Steunkaart's are the
``x_steunkaart_*`` properties above: columns of the CSV tables (described in ``datapackage.json``)
and keys of the JSON objects. ``service_capacity`` and ``unit`` are written as HSDS specifies them
(they entered the schema after 3.0: a 3.0 consumer reads the rest and ignores them).

Reading foreign HSDS
--------------------
A service without ``x_steunkaart_provision_id`` comes from another system: it gets a new ``V###``
id and its ``service.id`` as source id (``service.id/location.id`` for a service at several
locations: one provision per location), so importing the same data again updates instead of
duplicating. Its type is the first linked taxonomy term whose code or name is a catalogue type;
empty fields get the type's defaults as in any provisions import; the contact is its e-mail or
first phone number, the street and number are split from ``address_1``; ``inactive``, ``defunct``
and ``temporarily closed`` read as gestopt; several funding sources are joined with ``; `` (the
earliest end date counts), of several capacities the first is taken.

In the CSV files a text starting with ``= + - @``, tab or CR carries one leading ``'`` (the formula
protection of :mod:`data.export`), which is removed again on import. A directory with both forms is
read as the Tabular Data Package.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.export import frame_to_csv_bytes, restore_text
from data.provision_types import PROVISION_TYPES, TARGET_GROUPS
from data.provisions import type_code, validate_provisions
from data.tabular import DELIMITER_HEAD_CHARS, MAX_TABLE_BYTES, check_file, csv_delimiter

HSDS_VERSION = "3.0"
X = "x_steunkaart_"  # prefix of Steunkaart's extension properties
DESCRIPTOR = "datapackage.json"
JSON_FILE = "services.json"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://steunkaart.nl/hsds/")
TAXONOMY_KEY = "steunkaart-soorten"
TAXONOMY_NAME = "Steunkaart: soorten collectieve voorzieningen"
UNKNOWN_ORGANISATION = "Onbekende organisatie"
NO_UNIT = "per jaar"  # unit name of a capacity whose provision has no unit (HSDS requires one)
_ORG_DESCRIPTION = "Aanbieder van collectieve, preventieve voorzieningen (uit Steunkaart)."
_UNKNOWN_DESCRIPTION = "Steunkaart: de organisatie van deze voorzieningen is niet bekend."
_CAPACITY_DESCRIPTION = "Capaciteit per jaar (Steunkaart houdt geen vrije plekken bij: beschikbaar = maximaal)."
_TO_HSDS_STATUS = {"actief": "active", "onder_druk": "active", "gestopt": "inactive"}
_FROM_HSDS_STATUS = {"active": "actief", "inactive": "gestopt", "defunct": "gestopt", "temporarily closed": "gestopt"}
_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{5,}[0-9]")
_HOUSE_NUMBER = re.compile(r"^(?P<street>.*?\S)\s+(?P<number>\d+\S*(?:\s+\S{1,4})?)$")
_ISO_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\s*$")
_TRUE = {"true", "1", "ja", "yes", "waar"}
STORE_COLUMNS = ("provision_id", "name", "type", "organisation", "reach_m", "target_groups", "capacity_per_year",
                 "capacity_unit", "volunteers", "status", "funding_source", "funding_end", "evidence_label", "contact",
                 "last_verified", "notes", "street", "house_number", "postcode", "city", "source_id", "outside_areas")


@dataclass(frozen=True)
class _Resource:
    """One HSDS object as a CSV table of the Tabular Data Package."""

    path: str
    fields: tuple[tuple[str, str, str], ...]  # (name, Table Schema type, description)
    foreign_keys: tuple[tuple[str, str], ...] = ()  # (field, resource whose id it references)
    required: tuple[str, ...] = ()  # columns without which the table cannot be read

    @property
    def columns(self) -> list[str]:
        return [name for name, _, _ in self.fields]


_ID = ("id", "string", "Identifier (UUID).")
RESOURCES: dict[str, _Resource] = {
    "organization": _Resource("organizations.csv", (
        _ID,
        ("name", "string", "Name of the organisation (Steunkaart: organisation)."),
        ("description", "string", "A brief summary about the organisation."),
        (X + "unknown", "boolean", "Extension: true for the placeholder organisation of provisions whose "
                                    "organisation is not known."),
    ), required=("id", "name")),
    "service": _Resource("services.csv", (
        _ID,
        ("organization_id", "string", "The organisation that runs the provision."),
        ("name", "string", "Name of the provision."),
        ("description", "string", "Steunkaart: notes."),
        ("email", "string", "The contact, when it is an e-mail address."),
        ("status", "string", "active, inactive, defunct or temporarily closed (Steunkaart: actief and onder druk "
                             "are active, gestopt is inactive)."),
        ("accreditations", "string", "Steunkaart: evidence label (erkenning)."),
        ("eligibility_description", "string", "Steunkaart: target groups, as Dutch labels."),
        ("assured_date", "date", "The date the information was last checked (Steunkaart: last verified)."),
        (X + "provision_id", "string", "Extension: the provision's id in Steunkaart (V###)."),
        (X + "status", "string", "Extension: Steunkaart's status: actief, onder_druk or gestopt."),
        (X + "reach_m", "number", "Extension: reach of the provision in metres."),
        (X + "target_groups", "string", "Extension: target group codes separated by ';'."),
        (X + "capacity_unit", "string", "Extension: unit of the capacity per year, also when there is no capacity."),
        (X + "volunteers", "integer", "Extension: number of volunteers."),
        (X + "contact", "string", "Extension: the contact exactly as entered (e-mail, phone or text)."),
        (X + "source_id", "string", "Extension: the provision's id in the source it was imported from."),
        (X + "outside_areas", "boolean", "Extension: the point lies outside the loaded areas."),
    ), (("organization_id", "organization"),), required=("id", "name")),
    "location": _Resource("locations.csv", (
        _ID,
        ("location_type", "string", "physical."),
        ("organization_id", "string", "The organisation that runs the provision."),
        ("name", "string", "Name of the provision."),
        ("latitude", "number", "Latitude, decimal degrees, WGS84."),
        ("longitude", "number", "Longitude, decimal degrees, WGS84."),
    ), (("organization_id", "organization"),), required=("id", "latitude", "longitude")),
    "service_at_location": _Resource("service_at_location.csv", (
        _ID,
        ("service_id", "string", "The service."),
        ("location_id", "string", "Where the service is offered."),
    ), (("service_id", "service"), ("location_id", "location")), required=("service_id", "location_id")),
    "address": _Resource("addresses.csv", (
        _ID,
        ("location_id", "string", "The location of this address."),
        ("address_1", "string", "Street and house number."),
        ("city", "string", "City (Steunkaart: plaats)."),
        ("state_province", "string", "Province (not kept by Steunkaart: empty)."),
        ("postal_code", "string", "Postcode (1234 AB)."),
        ("country", "string", "ISO 3166-1 country code: NL."),
        ("address_type", "string", "physical."),
        (X + "street", "string", "Extension: the street alone."),
        (X + "house_number", "string", "Extension: the house number (with addition) alone."),
    ), (("location_id", "location"),), required=("location_id",)),
    "phone": _Resource("phones.csv", (
        _ID,
        ("service_id", "string", "The service."),
        ("number", "string", "The contact, when it is a phone number."),
        ("type", "string", "voice."),
    ), (("service_id", "service"),), required=("service_id", "number")),
    "funding": _Resource("funding.csv", (
        _ID,
        ("service_id", "string", "The service."),
        ("source", "string", "Steunkaart: funding source."),
        (X + "end_date", "date", "Extension: the date the funding ends (Steunkaart: funding end)."),
    ), (("service_id", "service"),), required=("service_id",)),
    "unit": _Resource("units.csv", (
        _ID,
        ("name", "string", "Steunkaart: capacity unit, e.g. 'plaatsen per jaar'."),
        ("scheme", "string", "Steunkaart."),
    ), required=("id", "name")),
    "service_capacity": _Resource("service_capacity.csv", (
        _ID,
        ("service_id", "string", "The service."),
        ("unit_id", "string", "The unit of the capacity."),
        ("available", "number", "Steunkaart keeps no free places: the capacity per year."),
        ("maximum", "number", "Steunkaart: capacity per year."),
        ("description", "string", "What the capacity counts."),
        ("updated", "datetime", "Last verified, or the time of the export."),
    ), (("service_id", "service"), ("unit_id", "unit")), required=("service_id",)),
    "taxonomy": _Resource("taxonomies.csv", (
        _ID,
        ("name", "string", "Name of the taxonomy."),
        ("description", "string", "What it classifies."),
    ), required=("id",)),
    "taxonomy_term": _Resource("taxonomy_terms.csv", (
        _ID,
        ("code", "string", "Steunkaart: type code."),
        ("name", "string", "Steunkaart: the type's Dutch label."),
        ("description", "string", "The type's description."),
        ("taxonomy", "string", "Name of the taxonomy."),
        ("taxonomy_id", "string", "The taxonomy."),
        ("language", "string", "nl."),
    ), (("taxonomy_id", "taxonomy"),), required=("id",)),
    "attribute": _Resource("attributes.csv", (
        _ID,
        ("link_id", "string", "The service."),
        ("taxonomy_term_id", "string", "The type."),
        ("link_type", "string", "service_type."),
        ("link_entity", "string", "service."),
    ), (("link_id", "service"), ("taxonomy_term_id", "taxonomy_term")), required=("link_id", "taxonomy_term_id")),
}
REQUIRED_TABLES = ("service", "service_at_location", "location")
# Alternative file names of other publishers (3.0 drafts used plural names).
_ALTERNATIVE_PATHS = {"service_at_location": ("services_at_location.csv", "service_at_locations.csv"),
                      "funding": ("fundings.csv",), "service_capacity": ("service_capacities.csv",)}
_ORIGIN = ("_file", "_row", "_path")
# Which HSDS object and property a header of the provisions sheet came from (for the row report).
_HEADER_SOURCE = {
    "id": ("service", X + "provision_id"), "naam": ("service", "name"), "soort": ("service", "attributes"),
    "organisatie": ("organization", "name"), "breedtegraad": ("location", "latitude"),
    "lengtegraad": ("location", "longitude"), "bereik_m": ("service", X + "reach_m"),
    "doelgroepen": ("service", X + "target_groups"), "capaciteit_per_jaar": ("service_capacity", "maximum"),
    "capaciteitseenheid": ("service", X + "capacity_unit"), "vrijwilligers": ("service", X + "volunteers"),
    "status": ("service", "status"), "financiering": ("funding", "source"),
    "financiering_tot": ("funding", X + "end_date"), "erkenning": ("service", "accreditations"),
    "contact": ("service", X + "contact"), "laatst_gecontroleerd": ("service", "assured_date"),
    "notities": ("service", "description"), "straat": ("address", X + "street"),
    "huisnummer": ("address", X + "house_number"), "postcode": ("address", "postal_code"),
    "plaats": ("address", "city"), "bron_id": ("service", X + "source_id"),
    "buiten_gebieden": ("service", X + "outside_areas"),
}
_ORIGIN_KINDS = ("service", "organization", "location", "address", "funding", "service_capacity")


# --------------------------------------------------------------------------- export


def _uuids(kind: str, keys: pd.Series) -> pd.Series:
    """Deterministic UUIDs (UUID 5) of ``kind/key``: the same provision gets the same id in every export."""
    return pd.Series([str(uuid.uuid5(_NAMESPACE, f"{kind}/{key}")) for key in keys.astype(str)],
                     index=keys.index, dtype=object)


def _text(series: pd.Series) -> pd.Series:
    """Text as objects: None where missing or empty."""
    text = series.astype(object)
    return text.where(series.notna() & (series.astype("string").str.strip().fillna("") != ""), None)


def _iso(series: pd.Series) -> pd.Series:
    dates = pd.to_datetime(series, errors="coerce")
    return dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), None)


def inventory_to_hsds(provisions: gpd.GeoDataFrame, catalogue: dict | None = None, *,
                      exported_at: pd.Timestamp | None = None) -> dict[str, pd.DataFrame]:
    """Turn the store's provisions into HSDS tables (one frame per HSDS object).

    Parameters
    ----------
    provisions : GeoDataFrame
        The provisions as :meth:`GeoPackageStore.read_table` returns them (EPSG:28992).
    catalogue : dict, optional
        Provision types (the store's catalogue) for the taxonomy terms; defaults to the built-in one.
    exported_at : Timestamp, optional
        ``service_capacity.updated`` of provisions never verified; defaults to now (UTC).

    Returns
    -------
    dict of str to DataFrame
        Keyed by HSDS object (``organization``, ``service``, ``location``, ``service_at_location``,
        ``address``, ``phone``, ``funding``, ``unit``, ``service_capacity``, ``taxonomy``,
        ``taxonomy_term``, ``attribute``), columns as in :data:`RESOURCES`.

    Raises
    ------
    DataValidationError
        When ``provisions`` is not a GeoDataFrame with the store's columns, or ids repeat.
    """
    if not isinstance(provisions, gpd.GeoDataFrame):
        raise DataValidationError("De HSDS-export verwacht de voorzieningen als kaartlaag (GeoDataFrame).")
    missing = [c for c in STORE_COLUMNS if c not in provisions.columns]
    if missing:
        raise DataValidationError(f"De voorzieningen missen de kolommen {', '.join(missing)}; exporteer ze uit de "
                                  "opslag.")
    if provisions["provision_id"].duplicated().any():
        raise DataValidationError("Elke voorziening moet een eigen id hebben; er komen id's dubbel voor.")
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    stamp = (pd.Timestamp.now(tz="UTC") if exported_at is None else pd.Timestamp(exported_at)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    p = provisions.reset_index(drop=True)
    pid = p["provision_id"].astype(str)
    service_id = _uuids("service", pid)
    location_id = _uuids("location", pid)
    organisation = _text(p["organisation"])
    known = organisation.notna()
    org_id = _uuids("organization", organisation.where(known, ""))
    tables: dict[str, pd.DataFrame] = {}
    tables["organization"] = pd.DataFrame({
        "id": org_id, "name": organisation.where(known, UNKNOWN_ORGANISATION),
        "description": np.where(known, _ORG_DESCRIPTION, _UNKNOWN_DESCRIPTION), X + "unknown": ~known,
    }).drop_duplicates("id").reset_index(drop=True)

    contact = _text(p["contact"])
    contact_text = contact.astype("string").str.strip()
    email = contact.where(contact_text.str.fullmatch(_EMAIL).fillna(False).astype(bool), None)
    phone = contact.where(contact_text.str.fullmatch(_PHONE).fillna(False).astype(bool), None)
    groups = _text(p["target_groups"])
    codes = groups.fillna("").astype(str).str.split(";").explode()
    labels = codes.map(TARGET_GROUPS).fillna(codes).groupby(level=0).agg(lambda s: ", ".join(v for v in s if v))
    outside = p["outside_areas"].astype("boolean").fillna(False).astype(bool)
    tables["service"] = pd.DataFrame({
        "id": service_id, "organization_id": org_id, "name": p["name"].astype(object),
        "description": _text(p["notes"]), "email": email,
        "status": p["status"].map(_TO_HSDS_STATUS).fillna("active").astype(object),
        "accreditations": _text(p["evidence_label"]), "eligibility_description": labels.where(labels != "", None),
        "assured_date": _iso(p["last_verified"]),
        X + "provision_id": pid.astype(object), X + "status": p["status"].astype(object),
        X + "reach_m": p["reach_m"].astype(float), X + "target_groups": groups,
        X + "capacity_unit": _text(p["capacity_unit"]), X + "volunteers": p["volunteers"].astype("Int64"),
        X + "contact": contact, X + "source_id": _text(p["source_id"]), X + "outside_areas": outside,
    })
    wgs = p.geometry.to_crs(4326)
    tables["location"] = pd.DataFrame({
        "id": location_id, "location_type": "physical", "organization_id": org_id, "name": p["name"].astype(object),
        "latitude": np.round(wgs.y.to_numpy(dtype=float), 9), "longitude": np.round(wgs.x.to_numpy(dtype=float), 9),
    })
    tables["service_at_location"] = pd.DataFrame({
        "id": _uuids("service_at_location", pid), "service_id": service_id, "location_id": location_id})

    street, number, postcode, city = (_text(p[c]) for c in ("street", "house_number", "postcode", "city"))
    has_address = street.notna() | number.notna() | postcode.notna() | city.notna()
    line = (street.fillna("").astype(str) + " " + number.fillna("").astype(str)).str.strip()
    tables["address"] = pd.DataFrame({
        "id": _uuids("address", pid), "location_id": location_id, "address_1": line.astype(object),
        "city": city.fillna(""), "state_province": "", "postal_code": postcode.fillna(""), "country": "NL",
        "address_type": "physical", X + "street": street, X + "house_number": number,
    }).loc[has_address.to_numpy()].reset_index(drop=True)
    tables["phone"] = pd.DataFrame({
        "id": _uuids("phone", pid), "service_id": service_id, "number": phone, "type": "voice",
    }).loc[phone.notna().to_numpy()].reset_index(drop=True)
    source, end = _text(p["funding_source"]), _iso(p["funding_end"])
    tables["funding"] = pd.DataFrame({
        "id": _uuids("funding", pid), "service_id": service_id, "source": source, X + "end_date": end,
    }).loc[(source.notna() | end.notna()).to_numpy()].reset_index(drop=True)

    capacity = p["capacity_per_year"].astype("Float64")
    has_capacity = capacity.notna().to_numpy()
    unit_name = _text(p["capacity_unit"]).fillna(NO_UNIT)
    unit_id = _uuids("unit", unit_name)
    tables["unit"] = pd.DataFrame({"id": unit_id, "name": unit_name, "scheme": "Steunkaart"}).loc[
        has_capacity].drop_duplicates("id").reset_index(drop=True)
    verified = _iso(p["last_verified"])
    tables["service_capacity"] = pd.DataFrame({
        "id": _uuids("service_capacity", pid), "service_id": service_id, "unit_id": unit_id,
        "available": capacity.astype(float), "maximum": capacity.astype(float), "description": _CAPACITY_DESCRIPTION,
        "updated": (verified.astype("string") + "T00:00:00Z").astype(object).where(verified.notna(), stamp),
    }).loc[has_capacity].reset_index(drop=True)

    taxonomy_id = str(uuid.uuid5(_NAMESPACE, f"taxonomy/{TAXONOMY_KEY}"))
    tables["taxonomy"] = pd.DataFrame({"id": [taxonomy_id], "name": [TAXONOMY_NAME], "description": [
        "De soorten collectieve, preventieve voorzieningen van de catalogus van Steunkaart."]})
    types = p["type"].astype(str)
    used = pd.Series(types.unique(), dtype=object)
    term_id = _uuids("taxonomy_term", types)
    tables["taxonomy_term"] = pd.DataFrame({
        "id": _uuids("taxonomy_term", used), "code": used,
        "name": used.map(lambda c: catalogue[c].label if c in catalogue else c),
        "description": used.map(lambda c: catalogue[c].description if c in catalogue else c),
        "taxonomy": TAXONOMY_NAME, "taxonomy_id": taxonomy_id, "language": "nl",
    })
    tables["attribute"] = pd.DataFrame({
        "id": _uuids("attribute", pid), "link_id": service_id, "taxonomy_term_id": term_id,
        "link_type": "service_type", "link_entity": "service",
    })
    return {name: tables[name].reindex(columns=res.columns) for name, res in RESOURCES.items()}


def datapackage_descriptor(*, created: str | None = None) -> dict:
    """The ``datapackage.json`` of the export: HSDS's resources with Steunkaart's extension fields."""
    resources = []
    for name, res in RESOURCES.items():
        fields = []
        for field, kind, description in res.fields:
            entry = {"name": field, "type": kind, "description": description}
            if field == "id" or (field.endswith("_id") and not field.startswith(X)):
                entry["format"] = "uuid"
            if field == "id":
                entry["constraints"] = {"required": True, "unique": True}
            fields.append(entry)
        schema = {"fields": fields, "primaryKey": "id"}
        if res.foreign_keys:
            schema["foreignKeys"] = [{"fields": f, "reference": {"resource": r, "fields": "id"}}
                                     for f, r in res.foreign_keys]
        resources.append({"name": name, "path": res.path, "profile": "tabular-data-resource", "format": "csv",
                          "mediatype": "text/csv", "encoding": "utf-8", "schema": schema})
    descriptor = {
        "name": "steunkaart-voorzieningen",
        "title": "Steunkaart: collectieve, preventieve voorzieningen (Open Referral HSDS 3.0)",
        "description": ("De sociale kaart van Steunkaart als HSDS 3.0 Tabular Data Package. Velden die met "
                        f"'{X}' beginnen zijn een gedocumenteerde uitbreiding (status, einde financiering, bereik, "
                        "doelgroepen, vrijwilligers, ...). Een tekst die met = + - @ begint, staat in de CSV met "
                        "een ' ervoor (bescherming tegen formules in spreadsheets)."),
        "profile": "tabular-data-package",
        "version": HSDS_VERSION,
        "homepage": "https://docs.openreferral.org",
        "resources": resources,
    }
    if created:
        descriptor["created"] = created
    return descriptor


def _check_form(folder: Path, form: str) -> None:
    """Refuse to write one form into a folder that holds the other (the import would read the wrong one)."""
    has_tables = (folder / DESCRIPTOR).exists() or (folder / RESOURCES["service"].path).exists()
    if (form == "json" and has_tables) or (form == "csv" and (folder / JSON_FILE).exists()):
        other = "CSV-tabellen (datapackage.json)" if form == "json" else JSON_FILE
        raise DataValidationError(f"De map bevat al een HSDS-export als {other}; kies een lege map, zodat een "
                                  "import niet de verkeerde vorm leest.", file=str(folder))


def write_hsds_csv(tables: dict[str, pd.DataFrame], folder: str | Path) -> list[Path]:
    """Write the tables as an HSDS Tabular Data Package: one CSV per object and ``datapackage.json``.

    CSV as RFC 4180 (``,`` between fields, ``.`` as decimal mark, UTF-8 with BOM, CRLF) through
    :func:`data.export.frame_to_csv_bytes`, so no text becomes a spreadsheet formula. Returns the
    files written; the folder is made when missing.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _check_form(folder, "csv")
    written = []
    for name, res in RESOURCES.items():
        target = folder / res.path
        target.write_bytes(frame_to_csv_bytes(tables[name].reindex(columns=res.columns), sep=",", decimal="."))
        written.append(target)
    descriptor = folder / DESCRIPTOR
    descriptor.write_text(json.dumps(datapackage_descriptor(created=_now()), ensure_ascii=False, indent=2),
                          encoding="utf-8")
    return [*written, descriptor]


def _now() -> str:
    return pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _records(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[dict]:
    """Rows as JSON objects: missing values left out, numpy scalars as Python values."""
    kept = frame.drop(columns=[c for c in drop if c in frame.columns])
    clean = kept.astype(object).where(kept.notna(), None)
    return [{k: _plain(v) for k, v in row.items() if v is not None} for row in clean.to_dict("records")]


def hsds_services(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """The tables as HSDS 3.0 service objects, with their related objects nested as the JSON schema has them."""
    def by(frame: pd.DataFrame, key: str, drop: tuple[str, ...] = ()) -> dict[str, list[dict]]:
        grouped: dict[str, list[dict]] = defaultdict(list)
        for parent, record in zip(frame[key].astype(str), _records(frame, (key, *drop)), strict=True):
            grouped[parent].append(record)
        return grouped

    organizations = {r["id"]: r for r in _records(tables["organization"])}
    locations = {r["id"]: r for r in _records(tables["location"])}
    units = {r["id"]: r for r in _records(tables["unit"])}
    terms = {r["id"]: r for r in _records(tables["taxonomy_term"])}
    addresses = by(tables["address"], "location_id")
    at_locations = by(tables["service_at_location"], "service_id")
    phones, funding = by(tables["phone"], "service_id"), by(tables["funding"], "service_id")
    capacities = by(tables["service_capacity"], "service_id")
    attributes = by(tables["attribute"], "link_id")
    organization_of = dict(zip(tables["service"]["id"].astype(str), tables["service"]["organization_id"],
                               strict=True))
    services = []
    for service in _records(tables["service"], ("organization_id",)):
        sid = service["id"]
        org = organization_of.get(sid)
        if org in organizations:
            service["organization"] = organizations[org]
        sal = []
        for link in at_locations.get(sid, []):
            location_id = link.pop("location_id")
            location = dict(locations.get(location_id, {"id": location_id}))
            if addresses.get(location_id):
                location["addresses"] = addresses[location_id]
            sal.append({**link, "location": location})
        service["service_at_locations"] = sal
        for key, grouped in (("phones", phones), ("funding", funding)):
            if grouped.get(sid):
                service[key] = grouped[sid]
        if capacities.get(sid):
            service["capacities"] = [{**{k: v for k, v in c.items() if k != "unit_id"},
                                      "unit": units.get(c.get("unit_id"), {"id": c.get("unit_id")})}
                                     for c in capacities[sid]]
        if attributes.get(sid):
            service["attributes"] = [{**{k: v for k, v in a.items() if k != "taxonomy_term_id"},
                                      "taxonomy_term": terms.get(a.get("taxonomy_term_id"),
                                                                 {"id": a.get("taxonomy_term_id")})}
                                     for a in attributes[sid]]
        services.append(service)
    return services


def write_hsds_json(tables: dict[str, pd.DataFrame], folder: str | Path) -> Path:
    """Write ``services.json``: an HSDS API ``Page`` whose ``contents`` are the service objects."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _check_form(folder, "json")
    services = hsds_services(tables)
    page = {"total_items": len(services), "total_pages": 1, "page_number": 1, "size": len(services),
            "first_page": True, "last_page": True, "empty": not services, "contents": services}
    target = folder / JSON_FILE
    target.write_text(json.dumps(page, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


# --------------------------------------------------------------------------- import


def _problem(problems: list, origin: pd.Series | dict, column: str, message: str) -> None:
    path = origin.get("_path")
    path = path if isinstance(path, str) else ""
    row = origin.get("_row")
    problems.append({"bestand": origin.get("_file"), "rij": None if row is None or pd.isna(row) else int(row),
                     "kolom": f"{path}.{column}" if path else column, "melding": message})


def _raise(problems: list) -> None:
    if not problems:
        return
    problems[:] = list({tuple(p.items()): p for p in problems}.values())  # a shared term is reported once
    problems.sort(key=lambda p: (str(p["bestand"] or ""), int(p["rij"] or 0), str(p["kolom"] or "")))
    first = problems[0]
    raise DataValidationError(
        f"{len(problems)} probleem/problemen in de HSDS-gegevens; er is niets geïmporteerd. Eerste: "
        f"{first['melding']}", file=first["bestand"], row=first["rij"], column=first["kolom"], problems=problems)


def _read_csv(path: Path) -> pd.DataFrame:
    """One CSV table as text cells (None for empty), the export's formula marks removed."""
    check_file(path, max_bytes=MAX_TABLE_BYTES)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataValidationError("Het bestand is geen UTF-8-tekst; HSDS-tabellen zijn UTF-8.",
                                  file=path.name) from exc
    sep = csv_delimiter(text[:DELIMITER_HEAD_CHARS], whole=len(text) <= DELIMITER_HEAD_CHARS)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataValidationError(f"Het CSV-bestand is niet goed opgebouwd: {exc}", file=path.name) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(object).apply(restore_text)
    return frame.where(frame.notna() & (frame.astype("string").fillna("") != ""), None)


def _load_json(path: Path):
    check_file(path, max_bytes=MAX_TABLE_BYTES)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataValidationError("Het bestand is geen UTF-8-tekst; HSDS is UTF-8.", file=path.name) from exc
    except json.JSONDecodeError as exc:
        raise DataValidationError(f"Het bestand is geen geldige JSON (regel {exc.lineno}, teken {exc.colno}).",
                                  file=path.name) from exc
    except RecursionError as exc:
        raise DataValidationError("Het bestand is te diep genest om als HSDS gelezen te worden.",
                                  file=path.name) from exc


def _resource_paths(folder: Path, problems: list) -> dict[str, Path]:
    """Where each table is: the descriptor's resource paths, else HSDS's file names."""
    paths = {name: folder / res.path for name, res in RESOURCES.items()}
    for name, alternatives in _ALTERNATIVE_PATHS.items():
        for alternative in alternatives:
            if not paths[name].exists() and (folder / alternative).exists():
                paths[name] = folder / alternative
    descriptor = folder / DESCRIPTOR
    if not descriptor.exists():
        return paths
    data = _load_json(descriptor)
    resources = data.get("resources") if isinstance(data, dict) else None
    for pos, resource in enumerate(resources if isinstance(resources, list) else []):
        if not isinstance(resource, dict) or resource.get("name") not in RESOURCES:
            continue
        target = (folder / str(resource.get("path", ""))).resolve()
        if folder.resolve() not in target.parents:
            _problem(problems, {"_file": DESCRIPTOR, "_row": None, "_path": f"resources[{pos}]"}, "path",
                     f"het pad '{resource.get('path')}' ligt buiten de map; alleen bestanden in de map worden gelezen.")
            continue
        paths[resource["name"]] = target
    return paths


def _read_csv_tables(folder: Path) -> dict[str, pd.DataFrame]:
    problems: list[dict] = []
    paths = _resource_paths(folder, problems)
    tables = {}
    for name, res in RESOURCES.items():
        path = paths[name]
        if not path.exists():
            if name in REQUIRED_TABLES:
                _problem(problems, {"_file": path.name, "_row": None}, "",
                         f"de HSDS-tabel '{name}' ontbreekt ({path.name}); zonder die tabel zijn de voorzieningen "
                         "niet te lezen.")
            tables[name] = pd.DataFrame(columns=[*res.columns, *_ORIGIN])
            continue
        frame = _read_csv(path)
        for column in res.required:
            if column not in frame.columns:
                _problem(problems, {"_file": path.name, "_row": 1}, column,
                         f"de kolom '{column}' ontbreekt in de tabel '{name}'.")
        frame = frame.assign(_file=path.name, _row=np.arange(len(frame)) + 2, _path="")
        tables[name] = frame.reindex(columns=list(dict.fromkeys([*res.columns, *frame.columns])))
    _raise(problems)
    return tables


def _scalar(value) -> str | None:
    """A JSON value as the text a CSV cell would hold (objects and arrays: None)."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return text if text.strip() else None


def _flat(obj: dict, **extra) -> dict:
    return {**{k: _scalar(v) for k, v in obj.items() if not isinstance(v, dict | list)}, **extra}


def _tables_from_json(files: list[Path]) -> dict[str, pd.DataFrame]:
    """Flatten HSDS service objects (a Page, a list or one service per file) into the tables of the CSV form."""
    rows: dict[str, list[dict]] = defaultdict(list)
    problems: list[dict] = []
    for path in files:
        data = _load_json(path)
        if isinstance(data, dict) and isinstance(data.get("contents"), list):
            services, prefix = data["contents"], "contents"
        elif isinstance(data, list):
            services, prefix = data, ""
        elif isinstance(data, dict) and "name" in data:
            services, prefix = [data], None
        else:
            _problem(problems, {"_file": path.name, "_row": None}, "",
                     "geen HSDS: verwacht een dienst (service), een lijst van diensten of een pagina met 'contents'.")
            continue
        for pos, service in enumerate(services):
            where = {"_file": path.name, "_row": pos + 1,
                     "_path": "" if prefix is None else f"{prefix}[{pos}]"}
            if not isinstance(service, dict):
                _problem(problems, where, "", "is geen HSDS-dienst (JSON-object).")
                continue
            _flatten_service(service, where, rows)
    _raise(problems)
    tables = {}
    for name, res in RESOURCES.items():
        frame = pd.DataFrame(rows.get(name, []))
        frame = frame.reindex(columns=list(dict.fromkeys([*res.columns, *frame.columns, *_ORIGIN])))
        if name in ("organization", "location", "unit", "taxonomy_term") and len(frame):
            # Nested objects repeat in every service that shares them: one row per id.
            frame = frame.loc[~(frame["id"].notna() & frame["id"].duplicated())]
        tables[name] = frame.reset_index(drop=True).astype(object).where(frame.notna().reset_index(drop=True), None)
    return tables


def _flatten_service(service: dict, where: dict, rows: dict[str, list[dict]]) -> None:
    base = where["_path"]

    def at(path: str) -> dict:
        return {**where, "_path": f"{base}.{path}" if base else path}

    sid = _scalar(service.get("id")) or f"#{where['_file']}#{where['_row']}"
    organization = service.get("organization")
    org_id = _scalar(service.get("organization_id"))
    if isinstance(organization, dict):
        org_id = _scalar(organization.get("id")) or org_id
        rows["organization"].append(_flat(organization, **at("organization")))
    rows["service"].append(_flat(service, **where, id=_scalar(service.get("id")), _key=sid, organization_id=org_id))
    for j, link in enumerate(_items(service.get("service_at_locations"))):
        location = link.get("location")
        location_id = _scalar(link.get("location_id"))
        if isinstance(location, dict):
            location_id = _scalar(location.get("id")) or location_id
            rows["location"].append(_flat(location, **at(f"service_at_locations[{j}].location")))
            for k, address in enumerate(_items(location.get("addresses"))):
                rows["address"].append(_flat(address, **at(f"service_at_locations[{j}].location.addresses[{k}]"),
                                             location_id=location_id))
        rows["service_at_location"].append(_flat(link, **at(f"service_at_locations[{j}]"), service_id=sid,
                                                 location_id=location_id))
    for key, table in (("phones", "phone"), ("funding", "funding"), ("fundings", "funding")):
        for j, item in enumerate(_items(service.get(key))):
            rows[table].append(_flat(item, **at(f"{key}[{j}]"), service_id=sid))
    for j, capacity in enumerate(_items(service.get("capacities"))):
        unit = capacity.get("unit")
        unit_id = _scalar(capacity.get("unit_id"))
        if isinstance(unit, dict):
            unit_id = _scalar(unit.get("id")) or unit_id
            rows["unit"].append(_flat(unit, **at(f"capacities[{j}].unit")))
        rows["service_capacity"].append(_flat(capacity, **at(f"capacities[{j}]"), service_id=sid, unit_id=unit_id))
    for j, attribute in enumerate(_items(service.get("attributes"))):
        term = attribute.get("taxonomy_term")
        term_id = _scalar(attribute.get("taxonomy_term_id"))
        if isinstance(term, dict):
            term_id = _scalar(term.get("id")) or term_id
            rows["taxonomy_term"].append(_flat(term, **at(f"attributes[{j}].taxonomy_term")))
        rows["attribute"].append(_flat(attribute, **at(f"attributes[{j}]"), link_id=sid, taxonomy_term_id=term_id,
                                       link_entity=_scalar(attribute.get("link_entity")) or "service"))


def _items(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _read_tables(folder: Path) -> tuple[dict[str, pd.DataFrame], str]:
    if (folder / DESCRIPTOR).exists() or (folder / RESOURCES["service"].path).exists():
        tables, form = _read_csv_tables(folder), "csv"
    else:
        files = sorted(p for p in folder.glob("*.json") if p.name != DESCRIPTOR)
        if not files:
            raise DataValidationError(
                "In deze map staat geen HSDS: verwacht services.csv met de andere HSDS-tabellen (en "
                "datapackage.json), of services.json.", file=folder.name)
        tables, form = _tables_from_json(files), "json"
    tables = {name: frame.astype(object).where(frame.notna(), None).reset_index(drop=True)
              for name, frame in tables.items()}
    service = tables["service"]
    key = service["_key"] if "_key" in service.columns else service["id"]
    service["_key"] = key.where(key.notna(), "#" + service["_file"].astype(str) + "#" + service["_row"].astype(str))
    return tables, form


def _numbers(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text.astype("string").str.strip(), errors="coerce").astype(float)


def _check_ids(frame: pd.DataFrame, name: str, problems: list) -> None:
    ids = frame["id"]
    for pos in np.flatnonzero(ids.isna().to_numpy()):
        _problem(problems, frame.iloc[pos], "id", f"een {name} zonder id; elke {name} heeft een eigen id nodig.")
    for pos in np.flatnonzero((ids.notna() & ids.duplicated()).to_numpy()):
        _problem(problems, frame.iloc[pos], "id", f"id '{ids.iloc[pos]}' komt vaker voor in de tabel '{name}'.")


def _dangling(frame: pd.DataFrame, column: str, known: pd.Series, what: str, problems: list) -> pd.Series:
    """Mask of rows whose ``column`` points at an id in ``known``; report the others (also empty ones)."""
    ok = frame[column].isin(set(known.dropna()))
    for pos in np.flatnonzero((~ok).to_numpy()):
        value = frame[column].iloc[pos]
        message = (f"verwijst naar een onbekende {what} '{value}'." if value is not None
                   else f"is leeg; hier hoort de id van een {what}.")
        _problem(problems, frame.iloc[pos], column, message)
    return ok


def _iso_dates(frame: pd.DataFrame, column: str, problems: list) -> pd.Series:
    text = frame[column].astype("string").str.strip()
    day = text.str.extract(_ISO_DATE, expand=False)
    parsed = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    for pos in np.flatnonzero((parsed.isna() & text.notna()).to_numpy()):
        _problem(problems, frame.iloc[pos], column, f"'{text.iloc[pos]}' is geen datum (gebruik jjjj-mm-dd).")
    return parsed


def _dutch_number(values: pd.Series, text: pd.Series | None = None) -> pd.Series:
    """A number as the provisions sheet reads it without doubt (decimal comma: '1.125' would be 1125), else
    the text itself, so that the sheet's check reports it."""
    formatted = values.map(lambda v: repr(float(v)).replace(".", ","), na_action="ignore").astype(object)
    if text is None:
        return formatted.where(values.notna(), None)
    return formatted.where(values.notna(), text.astype(object).where(text.notna(), None))


def _lookup(values: pd.Series, keys: pd.Series) -> pd.Series:
    """``values`` (unique index) at ``keys``, missing where a key is absent; indexed like ``keys``."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def _first_per(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.loc[~frame[key].duplicated()].set_index(key)


def _truthy(text: pd.Series) -> pd.Series:
    return text.astype("string").str.strip().str.lower().isin(_TRUE).fillna(False).astype(bool)


def _sheet_from_tables(tables: dict[str, pd.DataFrame], catalogue: dict) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                   pd.DataFrame]:
    """The provisions sheet (Dutch headers, text cells), where each row came from, and the exact extension values."""
    problems: list[dict] = []
    service, location = tables["service"], tables["location"]
    organization, links = tables["organization"], tables["service_at_location"]
    _check_ids(service, "dienst (service)", problems)
    _check_ids(location, "locatie (location)", problems)
    if len(organization):
        _check_ids(organization, "organisatie (organization)", problems)

    has_org = service["organization_id"].notna()
    known_org = service["organization_id"].isin(set(organization["id"].dropna()))
    for pos in np.flatnonzero((has_org & ~known_org).to_numpy()):
        _problem(problems, service.iloc[pos], "organization_id",
                 f"verwijst naar een onbekende organisatie '{service['organization_id'].iloc[pos]}'.")

    unplaced = ~service["_key"].isin(set(links["service_id"]))
    good = _dangling(links, "service_id", service["_key"], "dienst (service)", problems)
    good &= _dangling(links, "location_id", location["id"], "locatie (location)", problems)
    links = links.loc[good.to_numpy()]
    for pos in np.flatnonzero(unplaced.to_numpy()):
        _problem(problems, service.iloc[pos], "service_at_locations",
                 f"dienst '{service['name'].iloc[pos]}' heeft geen locatie (service_at_location); een voorziening "
                 "heeft een plek op de kaart nodig.")

    used = location.loc[location["id"].isin(set(links["location_id"]))]
    lat, lon = _numbers(used["latitude"]), _numbers(used["longitude"])
    for column, values, limit in (("latitude", lat, 90), ("longitude", lon, 180)):
        cells = used[column]
        for pos in np.flatnonzero(cells.isna().to_numpy()):
            _problem(problems, used.iloc[pos], column,
                     f"locatie '{used['name'].iloc[pos] or used['id'].iloc[pos]}' heeft geen coördinaten; "
                     "latitude en longitude (WGS84) zijn nodig.")
        for pos in np.flatnonzero((cells.notna() & values.isna()).to_numpy()):
            _problem(problems, used.iloc[pos], column, f"'{cells.iloc[pos]}' is geen getal.")
        for pos in np.flatnonzero((values.abs() > limit).to_numpy()):
            _problem(problems, used.iloc[pos], column,
                     f"{values.iloc[pos]} is geen {column} (decimale graden tussen -{limit} en {limit}).")
    coordinates = pd.DataFrame({"lat": lat.to_numpy(), "lon": lon.to_numpy()}, index=used["id"].to_numpy())
    coordinates = coordinates.loc[~coordinates.index.duplicated()]

    types = _types(tables, service, catalogue, problems)
    status_text = service["status"].astype("string").str.strip().str.lower()
    known_status = status_text.isin(list(_FROM_HSDS_STATUS)).fillna(False).astype(bool)
    for pos in np.flatnonzero((status_text.notna() & ~known_status & service[X + "status"].isna()).to_numpy()):
        _problem(problems, service.iloc[pos], "status",
                 f"onbekende status '{service['status'].iloc[pos]}'; HSDS kent active, inactive, defunct en "
                 "temporarily closed.")
    verified = _iso_dates(service, "assured_date", problems)

    funding = tables["funding"]
    funding = funding.loc[_dangling(funding, "service_id", service["_key"], "dienst (service)", problems).to_numpy()]
    funding = funding.assign(_end=_iso_dates(funding, X + "end_date", problems).to_numpy())
    capacity = tables["service_capacity"]
    capacity = capacity.loc[_dangling(capacity, "service_id", service["_key"], "dienst (service)",
                                      problems).to_numpy()]
    units = tables["unit"]
    stray_unit = capacity["unit_id"].notna() & ~capacity["unit_id"].isin(set(units["id"].dropna()))
    for pos in np.flatnonzero(stray_unit.to_numpy()):
        _problem(problems, capacity.iloc[pos], "unit_id",
                 f"verwijst naar een onbekende eenheid (unit) '{capacity['unit_id'].iloc[pos]}'.")
    amount_text = capacity["maximum"].where(capacity["maximum"].notna(), capacity["available"])
    amount = _numbers(amount_text)
    for pos in np.flatnonzero((amount_text.notna() & amount.isna()).to_numpy()):
        _problem(problems, capacity.iloc[pos], "maximum", f"'{amount_text.iloc[pos]}' is geen getal.")
    address = tables["address"]
    address = address.loc[_dangling(address, "location_id", location["id"], "locatie (location)",
                                    problems).to_numpy()]
    phone = tables["phone"]
    phone = phone.loc[(phone["service_id"].isin(set(service["_key"])) & phone["number"].notna()).to_numpy()]
    _raise(problems)

    # One sheet row per service at a location, in the order of the services and their locations.
    order = pd.Series(np.arange(len(service)), index=service["_key"].to_numpy())
    links = links.assign(_order=links["service_id"].map(order).to_numpy(), _pos=np.arange(len(links)))
    links = links.sort_values(["_order", "_pos"], kind="stable")
    rows = links["_order"].to_numpy(dtype=int)
    svc = service.iloc[rows].reset_index(drop=True)
    loc = _first_per(location, "id").loc[links["location_id"].to_numpy()].reset_index()
    key, place = svc["_key"], loc["id"]
    several = links["service_id"].duplicated(keep=False).to_numpy()
    ours = svc[X + "provision_id"].notna().to_numpy(dtype=bool)

    def exact_or(column: str, other: pd.Series) -> pd.Series:
        """The extension value; where it is empty the HSDS value, except in Steunkaart's own rows (exact)."""
        own = svc[X + column]
        return own.where(own.notna(), pd.Series(other.to_numpy(), index=svc.index).where(~ours, None))

    org = _first_per(organization, "id")
    org_id = svc["organization_id"].where(svc["organization_id"].isin(set(org.index)), None)
    org_name = _lookup(org["name"], org_id).where(~_truthy(_lookup(org[X + "unknown"], org_id)), None)
    fund = funding.groupby("service_id", sort=False).agg(
        source=("source", lambda s: "; ".join(s.dropna().astype(str)) or None), end=("_end", "min"))
    cap = _first_per(capacity.assign(_amount=amount.to_numpy(),
                                     _unit=_lookup(_first_per(units, "id")["name"], capacity["unit_id"]).to_numpy()),
                     "service_id")
    adr = _first_per(address, "location_id")
    tel = _first_per(phone, "service_id")["number"]
    coordinates = coordinates.loc[place.to_numpy()]
    line = _lookup(adr["address_1"], place)
    split = line.astype("string").str.extract(_HOUSE_NUMBER)
    exact_address = ours | _lookup(adr[X + "street"], place).notna().to_numpy(dtype=bool)
    street = _lookup(adr[X + "street"], place).where(
        exact_address, split["street"].astype(object).where(split["street"].notna(), line))
    number = _lookup(adr[X + "house_number"], place).where(exact_address, split["number"].astype(object))
    hsds_status = status_text.iloc[rows].map(_FROM_HSDS_STATUS).to_numpy()
    reach_text, volunteers_text = svc[X + "reach_m"], svc[X + "volunteers"]
    ends = pd.to_datetime(_lookup(fund["end"], key))
    checked = pd.Series(verified.iloc[rows].to_numpy(), index=svc.index)
    sheet = pd.DataFrame({
        "id": svc[X + "provision_id"],
        "naam": svc["name"],
        "soort": types.iloc[rows].to_numpy(),
        "organisatie": org_name,
        "breedtegraad": coordinates["lat"].map(repr).to_numpy(),
        "lengtegraad": coordinates["lon"].map(repr).to_numpy(),
        "bereik_m": _dutch_number(_numbers(reach_text), reach_text),
        "doelgroepen": svc[X + "target_groups"],
        "capaciteit_per_jaar": _dutch_number(_lookup(cap["_amount"], key).astype(float)),
        "capaciteitseenheid": exact_or("capacity_unit", _lookup(cap["_unit"], key)),
        "vrijwilligers": _dutch_number(_numbers(volunteers_text), volunteers_text),
        "status": svc[X + "status"].where(svc[X + "status"].notna(), hsds_status),
        "financiering": _lookup(fund["source"], key),
        "financiering_tot": ends.dt.strftime("%d-%m-%Y"),
        "erkenning": svc["accreditations"],
        "contact": exact_or("contact", svc["email"].where(svc["email"].notna(), _lookup(tel, key))),
        "laatst_gecontroleerd": checked.dt.strftime("%d-%m-%Y"),
        "notities": svc["description"],
        "straat": street,
        "huisnummer": number,
        "postcode": _lookup(adr["postal_code"], place),
        "plaats": _lookup(adr["city"], place),
        "bron_id": exact_or("source_id", key.where(~several, key + "/" + place)),
        "buiten_gebieden": np.where(_truthy(svc[X + "outside_areas"]), "ja", ""),
    })
    sheet = sheet.astype(object).where(sheet.notna(), None)
    where = _origins(svc, loc, org_id, organization, funding, capacity, address)
    exact = pd.DataFrame({"ours": ours, "reach_m": _numbers(reach_text).to_numpy(),
                          "target_groups": svc[X + "target_groups"].to_numpy(),
                          "capacity_unit": svc[X + "capacity_unit"].to_numpy()})
    return sheet, where, exact


def _types(tables: dict[str, pd.DataFrame], service: pd.DataFrame, catalogue: dict, problems: list) -> pd.Series:
    """The catalogue type of each service, from its attributes' taxonomy terms (Steunkaart's taxonomy first)."""
    attributes, terms = tables["attribute"], tables["taxonomy_term"]
    entity = attributes["link_entity"].astype("string").str.strip().str.lower()
    attributes = attributes.loc[((entity.isna() | (entity == "service")).fillna(True).astype(bool)
                                 & attributes["link_id"].isin(set(service["_key"]))).to_numpy()]
    known = attributes["taxonomy_term_id"].isin(set(terms["id"].dropna()))
    for pos in np.flatnonzero((~known).to_numpy()):
        _problem(problems, attributes.iloc[pos], "taxonomy_term_id",
                 f"verwijst naar een onbekende term (taxonomy_term) '{attributes['taxonomy_term_id'].iloc[pos]}'.")
    linked = attributes.loc[known.to_numpy()]
    term = _first_per(terms, "id").loc[linked["taxonomy_term_id"].to_numpy()].reset_index(drop=True)
    by_code = term["code"].map(lambda c: type_code(c, catalogue), na_action="ignore")
    by_name = term["name"].map(lambda c: type_code(c, catalogue), na_action="ignore")
    taxonomy_id = str(uuid.uuid5(_NAMESPACE, f"taxonomy/{TAXONOMY_KEY}"))
    own = ((term["taxonomy_id"] == taxonomy_id) | (term["taxonomy"] == TAXONOMY_NAME)).fillna(False).astype(bool)
    candidates = term.assign(service=linked["link_id"].to_numpy(), type=by_code.where(by_code.notna(), by_name),
                             own=own, pos=np.arange(len(term)))
    candidates["match"] = candidates["type"].notna()
    unknown_own = candidates["own"] & ~candidates["match"]
    for pos in np.flatnonzero(unknown_own.to_numpy()):
        row = candidates.iloc[pos]
        _problem(problems, row, "code", f"onbekende soort '{row['code'] or row['name']}'; kies uit: "
                 f"{', '.join(catalogue)}.")
    chosen = candidates.loc[candidates["match"]].sort_values(["own", "pos"], ascending=[False, True], kind="stable")
    types = _lookup(chosen.drop_duplicates("service").set_index("service")["type"], service["_key"])
    names = candidates.groupby("service")["name"].agg(lambda s: ", ".join(str(v) for v in s if v))
    reported = service["_key"].isin(set(candidates.loc[unknown_own, "service"]))
    for pos in np.flatnonzero((types.isna() & ~reported).to_numpy()):
        named, title = names.get(service["_key"].iloc[pos]), service["name"].iloc[pos]
        _problem(problems, service.iloc[pos], "attributes",
                 f"onbekende soort: geen van de classificaties ({named}) van '{title}' is een soort uit de "
                 f"catalogus; kies uit: {', '.join(catalogue)}." if named else
                 f"dienst '{title}' heeft geen soort (een attribute met een taxonomy_term uit de catalogus: "
                 f"{', '.join(catalogue)}).")
    return types


def _origins(svc: pd.DataFrame, loc: pd.DataFrame, org_id: pd.Series, organization: pd.DataFrame,
             funding: pd.DataFrame, capacity: pd.DataFrame, address: pd.DataFrame) -> pd.DataFrame:
    """Per sheet row, the file, row and path of each HSDS object it was read from (for the row report)."""
    origin = {f"service{c}": svc[c].to_numpy() for c in _ORIGIN}
    origin.update({f"location{c}": loc[c].to_numpy() for c in _ORIGIN})
    for kind, frame, column, keys in (("organization", organization, "id", org_id),
                                      ("funding", funding, "service_id", svc["_key"]),
                                      ("service_capacity", capacity, "service_id", svc["_key"]),
                                      ("address", address, "location_id", loc["id"])):
        first = _first_per(frame, column)
        origin.update({f"{kind}{c}": _lookup(first[c], keys).to_numpy() for c in _ORIGIN})
    return pd.DataFrame(origin)


def _translate(problem: dict, where: pd.DataFrame) -> dict:
    """A problem of the provisions sheet, told in the HSDS file, row and property it came from."""
    pos = int(problem.get("rij") or 2) - 2
    if not 0 <= pos < len(where):
        return problem
    kind, column = _HEADER_SOURCE.get(problem.get("kolom"), ("service", problem.get("kolom") or ""))
    row = where.iloc[pos]
    if pd.isna(row[f"{kind}_file"]):
        kind = "service"
    found: list[dict] = []
    _problem(found, {c: row[f"{kind}{c}"] for c in _ORIGIN}, column, problem.get("melding", ""))
    return found[0]


def read_hsds_dir(path: str | Path, catalogue: dict | None = None, *, area=None, next_number: int = 1,
                  existing: pd.DataFrame | None = None, warnings: list | None = None) -> gpd.GeoDataFrame:
    """Read HSDS (a Tabular Data Package of CSV tables, or JSON service objects) into the store's provisions.

    Parameters
    ----------
    path : str or Path
        The directory: ``services.csv`` and the other tables (with ``datapackage.json``, whose resource
        paths are followed), or one or more ``.json`` files (an HSDS ``Page``, a list of services or
        one service).
    catalogue : dict, optional
        Provision types (the store's catalogue); defaults to the built-in one.
    area : shapely geometry, optional
        The municipality (RD New): points outside it are imported with ``outside_areas`` True.
    next_number : int
        First number for the ids (``V###``) of services from other systems.
    existing : DataFrame, optional
        The stored provisions: a service from another system that was imported before (same
        source id) updates that provision.
    warnings : list, optional
        Receives the provisions import's warnings (damaged letters, odd postcodes) in HSDS terms.

    Returns
    -------
    GeoDataFrame
        One row per service at a location, in the store's provision columns (EPSG:28992), ready
        for :meth:`GeoPackageStore.import_provisions`.

    Raises
    ------
    DataValidationError
        With ``problems`` naming the file, row (CSV: as in a spreadsheet, header = 1; JSON: the
        service's number) and column (JSON: the property's path) of every problem: a missing table
        or column, an id used twice, a reference to an unknown object, a location without
        coordinates, an unknown type or status, a bad date or number, and every check of a
        provisions import. Nothing is returned then.
    """
    folder = Path(path)
    if not folder.is_dir():
        what = "is een bestand, geen map" if folder.exists() else "bestaat niet"
        raise DataValidationError(f"De map {what}; geef de map met de HSDS-bestanden (CSV-tabellen met "
                                  "datapackage.json, of services.json).", file=str(path))
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    tables, _ = _read_tables(folder)
    if tables["service"].empty:
        raise DataValidationError("De HSDS-gegevens bevatten geen diensten (services); er is niets geïmporteerd.",
                                  file=folder.name)
    sheet, where, exact = _sheet_from_tables(tables, catalogue)
    found: list[dict] = []
    try:
        out = validate_provisions(sheet, file=str(where["service_file"].iloc[0]), area=area,
                                  next_number=next_number, catalogue=catalogue, outside_areas="flag",
                                  existing=existing, warnings=found)
    except DataValidationError as exc:
        if not exc.problems:
            raise
        _raise([_translate(p, where) for p in exc.problems])
        raise
    if warnings is not None:
        warnings.extend(_translate(w, where) for w in found)
    # Steunkaart's own export is exact: what it left empty stays empty (no type defaults filled in).
    ours = exact["ours"].to_numpy(dtype=bool)
    out["reach_m"] = np.where(ours & exact["reach_m"].isna().to_numpy(), np.nan, out["reach_m"].to_numpy(dtype=float))
    for column in ("target_groups", "capacity_unit"):
        cleared = ours & exact[column].isna().to_numpy()
        out[column] = out[column].astype(object).where(~cleared, None)
    return out
