"""A small fictional municipality, "Teststad" (GM1999), written as the files a municipality really has.

Not the demo and not in our own shape: the buurten and wijken come as a CBS wijk- en buurtkaart 2017
GeoJSON (lower-case abbreviated columns, WGS84 with the CRS84 ``crs`` member, secrecy code
-99999999, a buurt without inhabitants, a water buurt), the provisions as a municipal open-data
GeoJSON (no ``crs`` member, Dutch categories, a source id), the health monitor as a Dutch Excel CSV
(semicolons, decimal commas) and the networks as the Dutch templates. Every state of the store is
built from those files through the same readers the CLI and the Beheer page use.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import shapely

from data.area_import import read_area_file
from data.health import read_health_file
from data.network_import import read_network_files
from data.provisions import read_provision_points, read_type_map
from data.store import GeoPackageStore, file_sha256

GEMEENTE = "GM1999"
GEMEENTE_NAME = "Teststad"
WIJKEN = {"WK199900": "Centrum", "WK199901": "Noord"}
# code, name, wijk, inhabitants, % widowed, % 65+, households, % one-person, column (x), row (y)
BUURTEN = (
    ("BU19990001", "Oude Kern", "WK199900", 2150, 9, 24, 1210, 52, 0, 0),
    ("BU19990002", "Haven", "WK199900", 1480, 6, 14, 790, 44, 1, 0),
    ("BU19990003", "Industrieterrein", "WK199900", 0, -99999999, -99999999, 0, -99999999, 2, 0),
    ("BU19990101", "Bloemenwijk", "WK199901", 3020, 11, 28, 1460, 38, 0, 1),
    ("BU19990102", "Parkzoom", "WK199901", 2410, 5, 12, 1010, 30, 1, 1),
    ("BU19990103", "Plas", "WK199901", 5, -99999999, -99999999, -99999999, -99999999, 2, 1),
)
ORIGIN_RD = (118_000.0, 486_000.0)  # a stretch of polder in RD New, well inside the Netherlands
SIDE_M = 900.0
STATES = ("leeg", "gebieden", "voorzieningen", "gezondheid", "netwerken")

OPEN_DATA = {
    "type": "FeatureCollection",
    "name": "maatschappelijke_voorzieningen",
    "features": [
        {"type": "Feature", "properties": {"objectid": 11, "categorie": "Buurtkamer", "naam": "Buurtkamer De Kern",
                                           "straat": "Kerkstraat", "huisnummer": "4", "postcode": "1999AA"},
         "geometry": None},
        {"type": "Feature", "properties": {"objectid": 12, "categorie": "Jongerencentrum", "naam": "JC Haven",
                                           "straat": "Kade", "huisnummer": "12", "postcode": "1999AB"},
         "geometry": None},
        {"type": "Feature", "properties": {"objectid": 13, "categorie": "Huis van de wijk",
                                           "naam": "Huis van de wijk Noord", "straat": "Parklaan",
                                           "huisnummer": "1", "postcode": "1999BA"},
         "geometry": None},
    ],
}
TYPE_MAP = {"Buurtkamer": "buurthuis", "Jongerencentrum": "jongerenwerk", "Huis van de wijk": "sociaal_cultureel_werk"}
HEALTH_CSV = ("Gebiedscode;Eenzaam;Eenzaam ondergrens;Eenzaam bovengrens\n"
              "BU19990001;48,5;41,0;56,0\nBU19990101;52,0;45,5;58,5\nWK199900;46,0;40,0;52,0\n"
              "GM1999;47,0;44,0;50,0\n")
PERSONS_CSV = ("persoon;buurtcode;leeftijd;huishouden;verweduwd_sinds;lsns_1;lsns_2;lsns_3;lsns_4;lsns_5;lsns_6;"
               "meetdatum;toestemming\n"
               "T-01;BU19990001;75-84;alleenstaand;03-02-2025;1;1;0;1;0;0;01-09-2026;ja\n"
               "T-02;BU19990001;65-74;paar zonder kinderen;;3;3;3;3;3;3;01-09-2026;ja\n"
               "T-03;BU19990101;45-64;alleenstaand;;;;;;;;01-10-2026;ja\n")
TIES_CSV = ("ego;alter;alter_label;rol;praktisch;emotioneel;informatief;gezelschap;contact;nabijheid;wederzijds;"
            "zelfde_buurt\n"
            "T-01;T-02;;buurvrouw;ja;nee;nee;ja;wekelijks;2;ja;ja\n"
            "T-01;;a1;professional;ja;nee;ja;nee;maandelijks;1;nee;nee\n"
            "T-02;;a1;partner;ja;ja;ja;ja;dagelijks;3;ja;ja\n"
            "T-03;;a1;kind;ja;ja;nee;nee;wekelijks;3;ja;nee\n")


def _square(col: int, row: int) -> shapely.Polygon:
    x, y = ORIGIN_RD[0] + col * SIDE_M, ORIGIN_RD[1] + row * SIDE_M
    return shapely.box(x, y, x + SIDE_M, y + SIDE_M)


def _cbs_2017(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write as CBS published 2017: WGS84 GeoJSON with the CRS84 member, lower-case columns."""
    frame.to_crs(4326).to_file(path, driver="GeoJSON")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_town_files(folder: Path) -> dict[str, Path]:
    """Write every source file of Teststad into ``folder``; return their paths by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for code, name, wijk, inw, widowed, older, hh, one_person, col, row in BUURTEN:
        rows.append({"bu_code": code, "bu_naam": name, "wk_code": wijk, "gm_code": GEMEENTE, "gm_naam": GEMEENTE_NAME,
                     "water": "JA" if name == "Plas" else "NEE", "aant_inw": inw,
                     "aant_man": inw // 2 if inw else 0, "aant_vrouw": inw - inw // 2 if inw else 0,
                     "p_65_eo_jr": older, "p_verweduw": widowed, "aantal_hh": hh, "p_eenp_hh": one_person,
                     "geometry": _square(col, row)})
    buurten = gpd.GeoDataFrame(rows, crs=28992)
    wijken = buurten.dissolve(by="wk_code", as_index=False, aggfunc={"aant_inw": "sum", "aant_man": "sum",
                                                                     "aant_vrouw": "sum", "aantal_hh": "sum"})
    wijken = wijken.assign(wk_naam=wijken["wk_code"].map(WIJKEN), gm_code=GEMEENTE, gm_naam=GEMEENTE_NAME,
                           water="NEE")[["wk_code", "wk_naam", "gm_code", "gm_naam", "water", "aant_inw",
                                         "aant_man", "aant_vrouw", "aantal_hh", "geometry"]]
    points = gpd.GeoSeries([_square(0, 0).centroid, _square(1, 0).centroid, _square(1, 1).centroid],
                           crs=28992).to_crs(4326)
    open_data = json.loads(json.dumps(OPEN_DATA))
    for feature, point in zip(open_data["features"], points, strict=True):
        feature["geometry"] = {"type": "Point", "coordinates": [round(point.x, 7), round(point.y, 7)]}
    files = {
        "buurten": _cbs_2017(buurten, folder / "buurt_2017.geojson"),
        "wijken": _cbs_2017(wijken, folder / "wijk_2017.geojson"),
        "voorzieningen": folder / "maatschappelijke_voorzieningen.geojson",
        "soorten": folder / "vertaling_soorten.json",
        "gezondheid": folder / "gezondheid_2022.csv",
        "personen": folder / "personen.csv",
        "relaties": folder / "relaties.csv",
    }
    files["voorzieningen"].write_text(json.dumps(open_data), encoding="utf-8")
    files["soorten"].write_text(json.dumps(TYPE_MAP), encoding="utf-8")
    files["gezondheid"].write_bytes(HEALTH_CSV.encode("cp1252"))
    files["personen"].write_text(PERSONS_CSV, encoding="utf-8-sig")
    files["relaties"].write_text(TIES_CSV, encoding="utf-8-sig")
    return files


def import_areas(store: GeoPackageStore, path: Path, *, user: str = "test", year: int | None = None) -> list[str]:
    imported = read_area_file(path, year=year)
    return store.merge_area_data(imported.areas, imported.values, user=user, file_name=path.name,
                                 sha256=file_sha256(path), details={"bestand": path.name})


def import_provisions(store: GeoPackageStore, path: Path, type_map_path: Path, *, user: str = "test") -> dict:
    provisions = read_provision_points(path, type_map=read_type_map(type_map_path), area=store.outline(),
                                       next_number=store.next_provision_number(),
                                       catalogue=store.read_provision_types())
    return store.import_provisions(provisions, user=user, source=path.name, sha256=file_sha256(path))


def build_state(store: GeoPackageStore, files: dict[str, Path], state: str) -> GeoPackageStore:
    """Fill an empty store up to ``state`` (one of STATES), each step as the import it is."""
    steps = STATES.index(state)
    if steps >= 1:
        import_areas(store, files["buurten"])
        import_areas(store, files["wijken"])
    if steps >= 2:
        import_provisions(store, files["voorzieningen"], files["soorten"])
    if steps >= 3:
        health = read_health_file(files["gezondheid"])
        store.merge_area_values(health, user="test", action="import-gezondheid", file_name=files["gezondheid"].name,
                                sha256=file_sha256(files["gezondheid"]))
    if steps >= 4:
        areas = store.read_table("areas")
        frames = read_network_files(files["personen"], files["relaties"],
                                    known_buurten=set(areas.loc[areas["level"] == "buurt", "area_code"]),
                                    known_persons=set(), known_provisions=set())
        store.merge_network(frames["persons"], frames["ties"], frames.get("participation"), user="test",
                            source=files["personen"].name, sha256=file_sha256(files["personen"]))
    return store


# --------------------------------------------------------------------------- a municipal open-data set

# As a city publishes its "maatschappelijke voorzieningen" (cf. Amsterdam's MVZN data set): a GeoJSON
# FeatureCollection without a ``crs`` member, the city's own categories in two columns (Categorie and a
# coarser Soort), an id of its own (MVZN_ID), the address split over Adres/Huisnummer/Postcode/Plaats, an
# organisation's phone and e-mail (not stored, not refused), letters damaged to '?' by a character-set
# round trip, house numbers that Excel turned into date serials, empty categories and points outside.
OPEN_DATA_CATEGORIES = (  # Categorie, Soort, how many (inside Teststad)
    ("Buurtkamer", "Ontmoeten", 9),
    ("Huis van de wijk", "Ontmoeten", 6),
    ("Jongerencentrum", "Jeugd", 5),
    ("Buurtteamlocatie", "Zorg en welzijn", 6),
    ("Bibliotheek", "Cultuur", 4),
    ("", "", 3),
)
OPEN_DATA_OUTSIDE = 4  # Buurtkamers in the next municipality east of Teststad
OPEN_DATA_MAPPING = {
    "type_column": "Categorie", "id_column": "MVZN_ID", "name_column": "Naam",
    "address_columns": {"straat": "Adres", "huisnummer": "Huisnummer", "postcode": "Postcode", "plaats": "Plaats"},
    "types": {"Buurtkamer": "buurthuis", "Jongerencentrum": "jongerenwerk", "Huis van de wijk": "sociaal_cultureel_werk",
              "*": None},
    "outside_areas": "flag",
}
DAMAGED_NAMES = {3: "Buurtkamer Caf? De Hoek", 11: "Huis van de Wijk Bu?rtzorg"}  # feature number -> name
DATE_SERIAL_NUMBERS = {5: 44929, 12: "45293"}  # feature number -> house number as Excel left it


def open_data_features() -> list[dict]:
    """The features of the open-data set (properties and WGS84 points), in file order."""
    to_wgs = gpd.GeoSeries(crs=28992)
    points, props = [], []
    k = 0
    for categorie, soort, count in OPEN_DATA_CATEGORIES:
        for i in range(count):
            k += 1
            # Spread over the 2 700 x 1 800 m of Teststad, 100 m from the edges.
            x = ORIGIN_RD[0] + 100 + (k * 373) % 2500
            y = ORIGIN_RD[1] + 100 + (k * 587) % 1600
            points.append(shapely.Point(x, y))
            props.append({"MVZN_ID": f"MVZN-{k:04d}", "Categorie": categorie or None, "Soort": soort or None,
                          "Naam": DAMAGED_NAMES.get(k, f"{categorie or 'Voorziening'} {i + 1}"),
                          "Adres": ("Kerkstraat", "Havenkade", "Parklaan", "Bloemstraat")[k % 4],
                          "Huisnummer": DATE_SERIAL_NUMBERS.get(k, f"{k * 2}{'a' if k % 5 == 0 else ''}"),
                          "Postcode": f"1999 {chr(65 + k % 26)}{chr(65 + (k * 7) % 26)}" if k % 3 else
                          f"1999{chr(65 + k % 26)}{chr(65 + (k * 7) % 26)}",
                          "Plaats": "Teststad", "Telefoon": f"020-555{k:04d}", "Email": f"info{k}@welzijn.example",
                          "Website": "https://welzijn.example"})
    for j in range(OPEN_DATA_OUTSIDE):
        k += 1
        points.append(shapely.Point(ORIGIN_RD[0] + 3 * SIDE_M + 400 + j * 300, ORIGIN_RD[1] + 500))
        props.append({"MVZN_ID": f"MVZN-{k:04d}", "Categorie": "Buurtkamer", "Soort": "Ontmoeten",
                      "Naam": f"Buurtkamer Buurgemeente {j + 1}", "Adres": "Dorpsweg", "Huisnummer": str(j + 1),
                      "Postcode": "1998 ZZ", "Plaats": "Buurdorp", "Telefoon": None, "Email": None, "Website": None})
    wgs = gpd.GeoSeries(points, crs=28992).to_crs(4326)
    del to_wgs
    return [{"type": "Feature", "properties": p, "geometry": {"type": "Point", "coordinates": [round(g.x, 7),
                                                                                               round(g.y, 7)]}}
            for p, g in zip(props, wgs, strict=True)]


def write_open_data(folder: Path) -> dict[str, Path]:
    """Write the open-data set as GeoJSON (no crs), as a Dutch Excel CSV (CRLF, decimal commas, a quoted
    cell with ';') and the saved mapping; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    features = open_data_features()
    geojson = folder / "maatschappelijke_voorzieningen_mvzn.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "name": "MVZN", "features": features},
                                  ensure_ascii=False), encoding="utf-8")
    columns = ["MVZN_ID", "Categorie", "Soort", "Naam", "Adres", "Huisnummer", "Postcode", "Plaats", "Telefoon",
               "Email", "LAT", "LNG"]

    def cell(value) -> str:
        text = "" if value is None else str(value)
        return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ';"\r\n') else text

    lines = [";".join(columns)]
    for k, f in enumerate(features):
        p = dict(f["properties"])
        if k == 6:
            p["Naam"] = "Buurtkamer; koffie & taal"  # Excel quotes a cell with the delimiter in it
        lon, lat = f["geometry"]["coordinates"]
        p["LAT"], p["LNG"] = f"{lat:.6f}".replace(".", ","), f"{lon:.6f}".replace(".", ",")
        lines.append(";".join(cell(p.get(c)) for c in columns))
    csv_path = folder / "maatschappelijke_voorzieningen_mvzn.csv"
    csv_path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    mapping = folder / "koppeling_mvzn.json"
    mapping.write_text(json.dumps(OPEN_DATA_MAPPING, ensure_ascii=False, indent=2), encoding="utf-8")
    return {"geojson": geojson, "csv": csv_path, "koppeling": mapping}
