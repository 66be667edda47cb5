"""The built-in demo municipality "Voorbeeldstad", generated deterministically.

Voorbeeldstad (GM9999, fictitious) lies in RD New near the Gelderse Vallei. Its six wijken
each have a character (old centre, post-war estate, new-build family district, mixed
1970s district, village, rural area with a lake) and the buurt key figures, provisions
and support networks follow from that character, so that the data tells a believable
story: the post-war estate has many widowed older residents on low incomes, a pocket of
residents with poor networks, and its visiting service has lost its subsidy.

Everything comes from one seeded numpy generator: the same seed gives the same data.
The buurt, wijk and gemeente tables are written in the column style of the current CBS
wijk- en buurtkaart and then go through the same harmonisation as real CBS files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.aggregate import aggregate_indicators
from data.cbs import harmonise_cbs_areas
from data.provision_types import PROVISION_TYPES
from data.schema import AGE_BANDS, CRS_EPSG, KIN_ROLES

DEMO_SEED = 20260601
GEMEENTE_CODE = "GM9999"
GEMEENTE_NAME = "Voorbeeldstad"
CENTRE = (167_500.0, 447_500.0)  # RD New, Gelderse Vallei
DEMO_YEAR = 2024
SECRET = -99999999
REFERENCE_DATE = pd.Timestamp("2026-09-01")

# name, character, centre offset (m) for urban wijken, buurt names
_WIJKEN = (
    ("Centrum", "centrum", ("Binnenstad", "Marktkwartier", "Havenkwartier", "Kerkbuurt",
                            "Stationsbuurt", "Vestingwal", "Molenbuurt", "Bleekveld")),
    ("Kanaalzone", "naoorlogs", ("Kanaalbuurt", "Rozenhof", "Tuinwijk", "Flatwijk De Horst",
                                 "Lindenhof", "Sluispark", "Klaverveld")),
    ("De Weiden", "vinex", ("Weidebuurt", "Waterrijk", "Boomgaard", "Laakse Velden",
                            "Park Zuid", "Zonnehof", "Beekdal", "Eikenrode")),
    ("Noorderhout", "gemengd", ("Berkenhout", "Vogelbuurt", "Schildersbuurt", "Dichtersbuurt",
                                "Sportpark", "Bloemenbuurt", "Heidezoom")),
    ("Oosterbroek", "dorp", ("Dorpskern Oosterbroek", "Oosterbroek-Noord", "Oosterbroek-Zuid",
                             "Kerkeland", "Hooilanden")),
    ("Buitengebied", "buitengebied", ("Polder Noord", "Bedrijventerrein De Vaart", "Landgoed Hoekelo",
                                      "Polder Zuid", "Voorbeeldmeer")),
)
_WATER_BUURT = "Voorbeeldmeer"

# Per character: density (inhabitants/km²), age shares 0-15/15-25/25-45/45-65/65+,
# % one-person households, % households with children, income (×1000 €/inhabitant),
# % households at or below the social minimum, urbanity class, network richness shift.
_PROFILE = {
    "centrum": (6500, (10, 16, 34, 24, 16), 55, 18, 30.0, 9, 1, 0.0),
    "naoorlogs": (5200, (13, 10, 23, 25, 29), 48, 24, 22.5, 17, 2, -0.7),
    "vinex": (4200, (26, 10, 35, 21, 8), 18, 55, 35.0, 3, 2, 0.2),
    "gemengd": (3600, (16, 11, 25, 29, 19), 34, 33, 29.0, 7, 3, 0.0),
    "dorp": (1900, (17, 10, 22, 30, 21), 29, 36, 31.0, 5, 4, 0.5),
    "buitengebied": (45, (15, 10, 21, 34, 20), 24, 38, 33.0, 4, 5, 0.3),
}


@dataclass
class DemoData:
    """All tables of the demo municipality, in the store's columns."""

    areas: gpd.GeoDataFrame
    area_values: pd.DataFrame
    provisions: gpd.GeoDataFrame
    persons: pd.DataFrame
    ties: pd.DataFrame
    participation: pd.DataFrame
    raw_buurten: gpd.GeoDataFrame  # CBS-style table with secrecy codes, as a file would have
    alter_links: pd.DataFrame | None = None  # which anonymous alters of an ego know each other

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the frames keyed by store table name."""
        return {
            "areas": self.areas,
            "area_values": self.area_values,
            "provisions": self.provisions,
            "persons": self.persons,
            "ties": self.ties,
            "participation": self.participation,
            "alter_links": self.alter_links if self.alter_links is not None else pd.DataFrame(
                columns=["ego_id", "source", "target"]),
        }


# --------------------------------------------------------------------------- geometry


def _blob(rng: np.random.Generator, centre: tuple[float, float], radius: float,
          wobble: float = 0.12, n: int = 96) -> shapely.Polygon:
    """Return an irregular, star-shaped polygon around ``centre``."""
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.full(n, float(radius))
    for k, amp in zip((2, 3, 5, 7), (wobble, wobble * 0.6, wobble * 0.4, wobble * 0.2), strict=True):
        r *= 1 + amp * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    poly = shapely.Polygon(np.c_[centre[0] + r * np.cos(theta), centre[1] + r * np.sin(theta)])
    return shapely.set_precision(poly, 0.01)  # all demo geometry lives on a 1 cm grid


def _points_in(rng: np.random.Generator, poly: shapely.Geometry, k: int,
               min_dist: float) -> np.ndarray:
    """Return ``k`` random points inside ``poly`` at least ``min_dist`` apart (best effort)."""
    minx, miny, maxx, maxy = poly.bounds
    chosen: list[np.ndarray] = []
    while len(chosen) < k:
        cand = np.c_[rng.uniform(minx, maxx, 256), rng.uniform(miny, maxy, 256)]
        cand = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]
        for p in cand:
            if all(np.hypot(*(p - q)) >= min_dist for q in chosen):
                chosen.append(p)
                if len(chosen) == k:
                    break
        min_dist *= 0.9  # relax when the polygon is too small for the spacing
    return np.array(chosen)


def _voronoi_split(poly: shapely.Geometry, seeds: np.ndarray) -> list[shapely.Geometry]:
    """Split ``poly`` into Voronoi cells of ``seeds`` (in seed order) that tile it exactly.

    The Voronoi edges are noded together with the outline and polygonised, so neighbouring
    cells share their edges exactly: no gaps, no overlaps.
    """
    edges = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=poly, only_edges=True)
    lines = shapely.node(shapely.union_all([edges, shapely.boundary(poly)]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    faces = faces[shapely.within(shapely.point_on_surface(faces), poly)]
    points = shapely.points(seeds)
    owner = np.argmin(shapely.distance(shapely.point_on_surface(faces)[:, None], points[None, :]), axis=1)
    inside = shapely.contains(faces[:, None], points[None, :])
    owner = np.where(inside.any(axis=1), inside.argmax(axis=1), owner)
    return [shapely.union_all(faces[owner == i]) for i in range(len(seeds))]


def _demo_geometry(rng: np.random.Generator) -> tuple[shapely.Polygon, list, list]:
    """Return the gemeente polygon, wijk polygons and buurt polygons (nested lists)."""
    gemeente = _blob(rng, CENTRE, 5200, wobble=0.07)
    town = _blob(rng, CENTRE, 1900, wobble=0.10)
    village_centre = (CENTRE[0] + 3300 * np.cos(0.6), CENTRE[1] + 3300 * np.sin(0.6))
    village = _blob(rng, village_centre, 750, wobble=0.08)
    # The town splits into four wijken around the centre.
    angles = np.array([0.0, 1.6, 3.4, 5.0]) + rng.uniform(-0.2, 0.2, 4)
    seeds = np.c_[CENTRE[0] + [150, 1200, 1200, 1200] * np.cos(angles),
                  CENTRE[1] + [150, 1200, 1200, 1200] * np.sin(angles)]
    seeds[0] = CENTRE
    town_wijken = _voronoi_split(town, seeds)
    rural = shapely.difference(shapely.difference(gemeente, town, grid_size=0.01), village,
                               grid_size=0.01)
    wijken = [*town_wijken, village, rural]
    buurten = []
    for (_, _, names), wijk in zip(_WIJKEN, wijken, strict=True):
        spacing = np.sqrt(wijk.area / len(names)) * 0.6
        pts = _points_in(rng, wijk, len(names), spacing)
        buurten.append(_voronoi_split(wijk, pts))
    return gemeente, wijken, buurten


# --------------------------------------------------------------------------- key figures


def _round5(x: np.ndarray) -> np.ndarray:
    return (np.round(np.asarray(x, dtype=float) / 5) * 5).astype(int)


def _buurt_figures(rng: np.random.Generator, buurten: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return CBS-style key figures per buurt (wide, catalogue names, no secrecy codes)."""
    prof = buurten["character"].map(_PROFILE)
    n = len(buurten)
    density = np.array([p[0] for p in prof]) * rng.lognormal(0, 0.25, n)
    land_ha = buurten.geometry.area.to_numpy() / 1e4
    water = buurten["water"].to_numpy()
    land_ha = np.where(water, 0.0, land_ha)
    inhabitants = _round5(density * land_ha / 100)
    ages = np.vstack([rng.dirichlet(np.array(p[1], dtype=float) * 3) for p in prof]) * 100
    # Some buurten in the post-war wijk are ageing faster than their neighbours.
    single = np.clip(np.array([p[2] for p in prof]) + rng.normal(0, 5, n), 8, 75)
    with_kids = np.clip(np.array([p[3] for p in prof]) + rng.normal(0, 5, n), 5, 70)
    with_kids = np.minimum(with_kids, 95 - single)
    without_kids = 100 - single - with_kids
    hh_size = (single * 1 + without_kids * 2.05 + with_kids * 3.7) / 100
    households = _round5(inhabitants / hh_size)
    widowed = np.clip(ages[:, 4] * rng.uniform(0.22, 0.34, n), 0.5, None)
    income = np.array([p[4] for p in prof]) * rng.lognormal(0, 0.08, n)
    minimum = np.clip(np.array([p[5] for p in prof]) * rng.lognormal(0, 0.25, n), 1, 40)
    welfare = _round5(households * minimum / 100 * 0.55)
    figures = pd.DataFrame(
        {
            "aantal_inwoners": inhabitants,
            "mannen": _round5(inhabitants * rng.uniform(0.47, 0.51, n)),
            "percentage_personen_0_tot_15_jaar": np.round(ages[:, 0]),
            "percentage_personen_15_tot_25_jaar": np.round(ages[:, 1]),
            "percentage_personen_25_tot_45_jaar": np.round(ages[:, 2]),
            "percentage_personen_45_tot_65_jaar": np.round(ages[:, 3]),
            "percentage_personen_65_jaar_en_ouder": np.round(ages[:, 4]),
            "percentage_verweduwd": np.round(widowed),
            "aantal_part_huishoudens": households,
            "percentage_eenpersoonshuishoudens": np.round(single),
            "percentage_huishoudens_zonder_kinderen": np.round(without_kids),
            "percentage_huishoudens_met_kinderen": np.round(with_kids),
            "gemiddelde_huishoudsgrootte": np.round(hh_size, 1),
            "gemiddeld_inkomen_per_inwoner": np.round(income, 1),
            "percentage_huishoudens_onder_of_rond_sociaal_minimum": np.round(minimum),
            "personen_per_soort_uitkering_bijstand": welfare,
            "bevolkingsdichtheid_inwoners_per_km2": np.round(
                inhabitants / np.maximum(land_ha, 1e-9) * 100),
            "stedelijkheid_adressen_per_km2": np.array([p[6] for p in prof]),
            "oppervlakte_totaal_in_ha": np.round(buurten.geometry.area.to_numpy() / 1e4),
            "oppervlakte_land_in_ha": np.round(land_ha),
        }
    )
    figures["vrouwen"] = figures["aantal_inwoners"] - figures["mannen"]
    figures["oppervlakte_water_in_ha"] = figures["oppervlakte_totaal_in_ha"] - figures[
        "oppervlakte_land_in_ha"]
    figures.index = buurten.index
    return figures


def _apply_secrecy(figures: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Code values as CBS does: secret where too few inhabitants or households."""
    out = figures.astype(float).copy()
    inh = out["aantal_inwoners"]
    rates = [c for c in out.columns if c.startswith("percentage_") or c.startswith("gemiddeld")]
    empty = inh == 0
    out.loc[empty, rates + ["bevolkingsdichtheid_inwoners_per_km2", "mannen", "vrouwen",
                            "aantal_part_huishoudens", "personen_per_soort_uitkering_bijstand"]] = SECRET
    small = (inh > 0) & (inh < 400)
    income_cols = ["gemiddeld_inkomen_per_inwoner",
                   "percentage_huishoudens_onder_of_rond_sociaal_minimum",
                   "personen_per_soort_uitkering_bijstand"]
    out.loc[small, income_cols] = SECRET
    # CBS also hides a few single cells for disclosure control.
    cand = np.flatnonzero((inh >= 400).to_numpy())
    for idx in rng.choice(cand, size=2, replace=False):
        out.iloc[idx, out.columns.get_loc("personen_per_soort_uitkering_bijstand")] = SECRET
    return out


# --------------------------------------------------------------------------- areas


def _demo_areas(rng: np.random.Generator):
    gemeente_poly, wijk_polys, buurt_polys = _demo_geometry(rng)
    rows = []
    for w, ((wname, character, names), polys) in enumerate(zip(_WIJKEN, buurt_polys, strict=True)):
        wcode = f"WK{GEMEENTE_CODE[2:]}{w:02d}"
        for b, (bname, poly) in enumerate(zip(names, polys, strict=True)):
            rows.append({
                "buurtcode": f"BU{GEMEENTE_CODE[2:]}{w:02d}{b:02d}",
                "buurtnaam": bname,
                "wijkcode": wcode,
                "wijknaam": wname,
                "gemeentecode": GEMEENTE_CODE,
                "gemeentenaam": GEMEENTE_NAME,
                "water": "JA" if bname == _WATER_BUURT else "NEE",
                "character": character,
                "geometry": poly,
            })
    buurten = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS_EPSG)
    figures = _buurt_figures(rng, buurten.assign(water=buurten["water"] == "JA"))
    raw = pd.concat([buurten, _apply_secrecy(figures, rng)], axis=1)
    raw = gpd.GeoDataFrame(raw, geometry="geometry", crs=CRS_EPSG)

    known = raw[figures.columns].mask(raw[figures.columns] <= SECRET + 1)
    by_wijk = aggregate_indicators(known, raw["wijkcode"])
    by_gem = aggregate_indicators(known, raw["gemeentecode"])
    for agg in (by_wijk, by_gem):
        agg["bevolkingsdichtheid_inwoners_per_km2"] = np.round(
            agg["aantal_inwoners"] / agg["oppervlakte_land_in_ha"].where(lambda a: a > 0) * 100)
    rate_cols = [c for c in by_wijk.columns if c.startswith(("percentage_", "gemiddeld"))]
    by_wijk[rate_cols] = by_wijk[rate_cols].round(1)
    by_gem[rate_cols] = by_gem[rate_cols].round(1)
    wijken = gpd.GeoDataFrame(
        {
            "wijkcode": [f"WK{GEMEENTE_CODE[2:]}{w:02d}" for w in range(len(_WIJKEN))],
            "wijknaam": [w[0] for w in _WIJKEN],
            "gemeentecode": GEMEENTE_CODE,
            "gemeentenaam": GEMEENTE_NAME,
            "water": "NEE",
        },
        geometry=wijk_polys,
        crs=CRS_EPSG,
    )
    wijken = wijken.join(by_wijk, on="wijkcode")
    gemeente = gpd.GeoDataFrame(
        {"gemeentecode": [GEMEENTE_CODE], "gemeentenaam": [GEMEENTE_NAME], "water": ["NEE"]},
        geometry=[gemeente_poly],
        crs=CRS_EPSG,
    ).join(by_gem, on="gemeentecode")

    parts = [
        harmonise_cbs_areas(layer.drop(columns=["character"], errors="ignore"),
                            file=f"demo-{name}", year=DEMO_YEAR, source="Demo Voorbeeldstad")
        for name, layer in (("gemeente", gemeente), ("wijken", wijken), ("buurten", raw))
    ]
    areas = gpd.GeoDataFrame(pd.concat([p.areas for p in parts], ignore_index=True), crs=CRS_EPSG)
    values = pd.concat([p.values for p in parts], ignore_index=True)
    return areas, values, raw


# --------------------------------------------------------------------------- provisions

_PROVISION_PLAN = (
    # type, how many, preferred characters, capacity range, names
    ("bezoekdienst_weduwen", 3, ("naoorlogs", "centrum", "dorp"), (60, 120),
     ("Bezoekdienst Samen Verder", "Humanitas Steun bij Rouw", "Weduwenkring Oosterbroek")),
    ("grip_en_glans", 4, ("naoorlogs", "gemengd", "centrum"), (20, 36),
     ("Grip & Glans Kanaalzone", "Grip & Glans Noorderhout", "Grip & Glans Centrum",
      "Grip & Glans De Horst")),
    ("jongerenwerk", 5, ("vinex", "naoorlogs", "centrum"), (120, 300),
     ("Jongerenwerk De Weiden", "Jongerenplek Het Station", "Jongerenwerk Kanaalzone",
      "Tienerhuis Zonnehof", "Jongerenwerk Noorderhout")),
    ("opbouwwerk", 3, ("naoorlogs", "gemengd", "centrum"), (150, 400),
     ("Opbouwwerk Kanaalzone", "Opbouwwerk Noorderhout", "Opbouwwerk Binnenstad")),
    ("sociaal_cultureel_werk", 3, ("centrum", "dorp", "gemengd"), (200, 600),
     ("Cultuurhuis De Vonk", "Dorpsactiviteiten Oosterbroek", "Creatief Noorderhout")),
    ("buurthuis", 9, ("centrum", "naoorlogs", "vinex", "gemengd", "dorp"), (400, 2500),
     ("Buurthuis De Linde", "Wijkcentrum De Horst", "Ontmoetingsplek Rozenhof",
      "Buurthuis Het Anker", "Dorpshuis Oosterbroek", "Huiskamer Vogelbuurt",
      "Wijkcentrum De Weiden", "Buurtkamer Sluispark", "Inloophuis Marktkwartier")),
    ("maatjesproject", 4, ("centrum", "naoorlogs", "gemengd"), (15, 45),
     ("Maatjesproject Voorbeeldstad", "Wandelmaatjes Noorderhout", "Taalmaatjes Kanaalzone",
      "Maatje voor Mantelzorgers")),
    ("mantelzorgondersteuning", 4, ("centrum", "gemengd", "dorp", "vinex"), (100, 260),
     ("Mantelzorgpunt Voorbeeldstad", "Mantelzorgcafé Oosterbroek", "Steunpunt Mantelzorg Noord",
      "Mantelzorgcafé De Weiden")),
    ("inloop_armoede_schulden", 5, ("naoorlogs", "centrum", "gemengd"), (80, 220),
     ("Geldzaken Inloop Kanaalzone", "SchuldHulpMaatje Voorbeeldstad", "Formulierenbrigade",
      "Voedselbank-inloop De Horst", "Budgetcafé Noorderhout")),
)
_ORGANISATIONS = {
    "bezoekdienst_weduwen": ("Humanitas Voorbeeldstad", "Stichting Samen Verder"),
    "grip_en_glans": ("Welzijn Voorbeeldstad", "GGZ Vallei Preventie"),
    "jongerenwerk": ("Welzijn Voorbeeldstad",),
    "opbouwwerk": ("Welzijn Voorbeeldstad",),
    "sociaal_cultureel_werk": ("Stichting De Vonk", "Dorpsraad Oosterbroek"),
    "buurthuis": ("Welzijn Voorbeeldstad", "Bewonersvereniging", "Stichting Wijkcentra"),
    "maatjesproject": ("Humanitas Voorbeeldstad", "Vrijwilligerscentrale Voorbeeldstad"),
    "mantelzorgondersteuning": ("Mantelzorg Vallei",),
    "inloop_armoede_schulden": ("SchuldHulpMaatje", "Diaconie Voorbeeldstad", "Welzijn Voorbeeldstad"),
}
_EVIDENCE = {
    "grip_en_glans": "Erkend: goed onderbouwd (Databank Effectieve sociale interventies)",
    "maatjesproject": "Goed beschreven (Databank Effectieve sociale interventies)",
    "bezoekdienst_weduwen": "Praktijkkennis, niet beoordeeld",
}


def _widowed_hotspot_first(pool: gpd.GeoDataFrame, picks: np.ndarray) -> np.ndarray:
    """Put the buurt with the most widowed residents of the wijk with the most of them second."""
    widowed = pool["aantal_inwoners"].fillna(0) * pool["percentage_verweduwd"].fillna(0) / 100
    wijk = pool["area_code"].str[2:8]
    top_wijk = widowed.groupby(wijk).sum().idxmax()
    best = int(np.argmax(np.where(wijk == top_wijk, widowed, -1)))
    others = [int(p) for p in picks if int(p) != best]
    return np.array([others[0], best, *others[1:len(picks) - 1]])


def _demo_provisions(rng: np.random.Generator, buurten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    inhabited = buurten.loc[~buurten["water"] & (buurten["aantal_inwoners"].fillna(0) > 0)]
    rows = []
    for ptype, count, characters, (cap_lo, cap_hi), names in _PROVISION_PLAN:
        pool = inhabited.loc[inhabited["character"].isin(characters)]
        weights = pool["aantal_inwoners"].to_numpy(float)
        picks = rng.choice(len(pool), size=count, replace=False, p=weights / weights.sum())
        if ptype == "bezoekdienst_weduwen":
            # The service under pressure sits where most widowed people live: the scenario
            # "what if its subsidy stops?" then matters most (DESIGN: the decentralisation story).
            picks = _widowed_hotspot_first(pool, picks)
        spec = PROVISION_TYPES[ptype]
        for i, pick in enumerate(picks):
            buurt = pool.iloc[pick]
            point = shapely.Point(_points_in(rng, buurt.geometry.buffer(-40), 1, 0)[0])
            rows.append({
                "name": names[i],
                "type": ptype,
                "organisation": rng.choice(_ORGANISATIONS[ptype]),
                "buurt_code": buurt["area_code"],
                "reach_m": float(spec.default_reach_m),
                "target_groups": ";".join(spec.target_groups),
                "capacity_per_year": int(rng.integers(cap_lo, cap_hi + 1)),
                "capacity_unit": spec.capacity_unit,
                "volunteers": int(rng.integers(0, 25)),
                "evidence_label": _EVIDENCE.get(ptype),
                "contact": f"info@{names[i].lower().replace(' ', '').replace('&', 'en')[:20]}.example",
                "geometry": point,
            })
    prov = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS_EPSG)
    n = len(prov)
    prov.insert(0, "provision_id", [f"V{i + 1:03d}" for i in range(n)])
    status = np.where(rng.random(n) < 0.16, "onder_druk", "actief").astype(object)
    # The widowers' visiting services tell the decentralisation story: one stopped,
    # one under pressure; and one Grip & Glans group stopped when its funding ended.
    visit = np.flatnonzero(prov["type"].to_numpy() == "bezoekdienst_weduwen")
    status[visit[0]], status[visit[1]] = "gestopt", "onder_druk"
    status[np.flatnonzero(prov["type"].to_numpy() == "grip_en_glans")[1]] = "gestopt"
    status[np.flatnonzero(prov["type"].to_numpy() == "buurthuis")[3]] = "gestopt"
    prov["status"] = status
    months = np.where(status == "gestopt", rng.integers(-20, -2, n),
                      np.where(status == "onder_druk", rng.integers(2, 10, n), rng.integers(8, 40, n)))
    prov["funding_end"] = [
        (REFERENCE_DATE + pd.DateOffset(months=int(m))).normalize() for m in months
    ]
    prov["funding_source"] = rng.choice(
        ["Subsidie gemeente", "Wmo-budget", "Fonds", "Kerk/diaconie", "Eigen middelen"],
        size=n, p=[0.5, 0.2, 0.15, 0.1, 0.05],
    )
    prov["last_verified"] = [
        (REFERENCE_DATE - pd.Timedelta(days=int(d))).normalize()
        for d in rng.integers(10, 600, n)
    ]
    prov["notes"] = None
    prov["version"] = 1
    return prov


# --------------------------------------------------------------------------- network

_ROLE_NAMES = np.array(["partner", "ouder", "kind", "familie", "vriend", "buur", "collega",
                        "vrijwilliger", "professional", "groepsgenoot", "kerk_vereniging", "anders"])
# Base role weights for a rich and for a poor network; mixed by the person's richness.
_ROLE_RICH = np.array([0.10, 0.05, 0.14, 0.16, 0.22, 0.10, 0.06, 0.02, 0.03, 0.05, 0.05, 0.02])
_ROLE_POOR = np.array([0.03, 0.02, 0.10, 0.10, 0.08, 0.12, 0.01, 0.10, 0.34, 0.04, 0.02, 0.04])
# Probability of each support type per role: practical, emotional, informational, companionship.
_SUPPORT_P = np.array([
    [0.85, 0.90, 0.50, 0.90],  # partner
    [0.40, 0.55, 0.50, 0.40],  # ouder
    [0.65, 0.60, 0.45, 0.50],  # kind
    [0.40, 0.40, 0.35, 0.45],  # familie
    [0.35, 0.65, 0.40, 0.80],  # vriend
    [0.55, 0.15, 0.20, 0.35],  # buur
    [0.15, 0.20, 0.55, 0.35],  # collega
    [0.60, 0.25, 0.40, 0.55],  # vrijwilliger
    [0.45, 0.25, 0.75, 0.05],  # professional
    [0.20, 0.35, 0.35, 0.75],  # groepsgenoot
    [0.30, 0.35, 0.30, 0.70],  # kerk_vereniging
    [0.25, 0.20, 0.25, 0.40],  # anders
])
_FREQS = np.array(["dagelijks", "wekelijks", "tweewekelijks", "maandelijks", "minder"])
_DJG_NEGATIVE = np.array([2, 3, 5, 6, 9, 10])  # emotional loneliness items
_DJG_POSITIVE = np.array([1, 4, 7, 8, 11])  # social loneliness items


def _lsns_item(counts: np.ndarray) -> np.ndarray:
    """Score an LSNS-6 item from a count of people: 0, 1, 2, 3-4, 5-8, 9+ -> 0..5."""
    return np.searchsorted(np.array([1, 2, 3, 5, 9]), counts, side="right")


def _demo_network(rng: np.random.Generator, buurten: gpd.GeoDataFrame, n_persons: int):
    inhabited = buurten.loc[~buurten["water"] & (buurten["aantal_inwoners"].fillna(0) > 0)]
    weights = inhabited["aantal_inwoners"].to_numpy(float)
    # Network data is gathered where wijkteams work: over-represent the deprived wijken.
    weights = weights * np.where(inhabited["character"].isin(["naoorlogs", "centrum"]), 1.6, 1.0)
    b_idx = np.sort(rng.choice(len(inhabited), size=n_persons, p=weights / weights.sum()))
    buurt = inhabited.iloc[b_idx]
    codes = buurt["area_code"].to_numpy()
    character = buurt["character"].to_numpy()

    age_p = np.array([0.16, 0.20, 0.27, 0.16, 0.14, 0.07])
    older = buurt["percentage_personen_65_jaar_en_ouder"].fillna(18).to_numpy() / 18
    age_w = np.outer(np.ones(n_persons), age_p)
    age_w[:, 3:] *= older[:, None]
    age_w /= age_w.sum(axis=1, keepdims=True)
    age_idx = (rng.random(n_persons)[:, None] > np.cumsum(age_w, axis=1)).sum(axis=1)
    age_idx = np.minimum(age_idx, len(AGE_BANDS) - 1)

    widow_p = np.array([0.0, 0.01, 0.03, 0.12, 0.30, 0.55])[age_idx]
    widowed = rng.random(n_persons) < widow_p
    single_share = buurt["percentage_eenpersoonshuishoudens"].fillna(30).to_numpy() / 100
    alone = widowed | (rng.random(n_persons) < single_share * 0.8)
    kids = ~alone & (age_idx <= 2) & (rng.random(n_persons) < 0.6)
    household = np.where(alone, "alleenstaand",
                         np.where(kids, np.where(rng.random(n_persons) < 0.15, "eenouder",
                                                 "paar_met_kinderen"), "paar_zonder_kinderen"))
    partnered = np.isin(household, ["paar_met_kinderen", "paar_zonder_kinderen"])

    # Latent network richness: lower in deprived buurten, after widowhood, living alone, very old.
    minimum = buurt["percentage_huishoudens_onder_of_rond_sociaal_minimum"].fillna(6).to_numpy()
    shift = np.array([_PROFILE[c][7] for c in character])
    pocket = codes == inhabited.loc[inhabited["name"] == "Flatwijk De Horst", "area_code"].iloc[0]
    richness = (rng.normal(0, 0.8, n_persons) + shift - 0.05 * (minimum - 6) - 0.7 * widowed
                - 0.45 * alone - 0.5 * (age_idx >= 4) - 0.9 * pocket)
    n_alters = np.minimum(rng.poisson(np.exp(1.8 + 0.45 * richness)), 25)

    ego = np.repeat(np.arange(n_persons), n_alters)
    r = richness[ego]
    mix = 1 / (1 + np.exp(-1.5 * (r + 0.3)))  # 1 = rich-network roles, 0 = poor
    role_p = mix[:, None] * _ROLE_RICH + (1 - mix[:, None]) * _ROLE_POOR
    role_p[:, 0] *= partnered[ego] * 6  # a partner only for those who live with one
    role_p /= role_p.sum(axis=1, keepdims=True)
    role_idx = (rng.random(len(ego))[:, None] > np.cumsum(role_p, axis=1)).sum(axis=1)
    role_idx = np.minimum(role_idx, len(_ROLE_NAMES) - 1)
    # At most one partner per ego.
    is_partner = role_idx == 0
    first = pd.Series(is_partner).groupby(ego).cumsum().to_numpy()
    role_idx[is_partner & (first > 1)] = 3
    support_p = _SUPPORT_P[role_idx] * np.clip(0.75 + 0.2 * r, 0.35, 1.0)[:, None]
    support = rng.random((len(ego), 4)) < support_p
    kin = np.isin(_ROLE_NAMES[role_idx], KIN_ROLES)
    freq_base = np.where(role_idx == 0, 0, np.where(np.isin(role_idx, [5, 8, 9]), 1, 2))
    freq = np.clip(freq_base + rng.integers(-1, 3, len(ego)), 0, 4)
    same_buurt = np.where(role_idx == 5, True, rng.random(len(ego)) < np.where(kin, 0.25, 0.45))
    same_buurt[role_idx == 0] = True

    persons_order = np.arange(n_persons)  # persons are sorted by buurt index (b_idx sorted)
    start = np.searchsorted(b_idx, b_idx)
    count = np.bincount(b_idx, minlength=len(inhabited))[b_idx]
    ids = np.array([f"P{v:08x}" for v in rng.choice(2**32, size=n_persons, replace=False)])
    # Some neighbours, friends and group members are themselves persons in the data.
    linkable = np.isin(role_idx, [4, 5, 9, 10]) & same_buurt & (rng.random(len(ego)) < 0.45)
    offset = (np.floor(rng.random(len(ego)) * count[ego])).astype(int)
    alter_pos = start[ego] + offset
    alter_pos = np.where(alter_pos == persons_order[ego],
                         start[ego] + (offset + 1) % np.maximum(count[ego], 1), alter_pos)
    linkable &= (count[ego] > 1) & (alter_pos != ego)
    alter_id = np.where(linkable, ids[alter_pos], None)
    alter_key = np.where(linkable, None,
                         np.char.add("a", (pd.Series(ego).groupby(ego).cumcount() + 1).astype(str).to_numpy()))
    reciprocal = rng.random(len(ego)) < np.where(role_idx == 8, 0.05, 0.7)
    ties = pd.DataFrame({
        "ego_id": ids[ego],
        "alter_id": alter_id,
        "alter_key": alter_key,
        "role": _ROLE_NAMES[role_idx],
        "support_practical": support[:, 0],
        "support_emotional": support[:, 1],
        "support_informational": support[:, 2],
        "support_companionship": support[:, 3],
        "contact_frequency": _FREQS[freq],
        "closeness": np.clip(np.where(kin | (role_idx == 4), 3, 2) - (freq >= 3), 1, 3),
        "reciprocal": reciprocal,
        "same_buurt": same_buurt,
    })
    ties = ties.loc[~(ties["alter_id"].notna() & ties.duplicated(["ego_id", "alter_id"]))]
    ties = ties.reset_index(drop=True)

    # Who in an ego's network knows whom: relatives know each other, friends and neighbours less so.
    anon = ties.loc[ties["alter_key"].notna(), ["ego_id", "alter_key", "role"]]
    pairs = anon.merge(anon, on="ego_id", suffixes=("_a", "_b"))
    pairs = pairs.loc[pairs["alter_key_a"] < pairs["alter_key_b"]]
    kin_a, kin_b = pairs["role_a"].isin(KIN_ROLES), pairs["role_b"].isin(KIN_ROLES)
    p_know = np.where(kin_a & kin_b, 0.8, np.where(kin_a | kin_b, 0.25, 0.2))
    p_know = np.where((pairs["role_a"] == "professional") | (pairs["role_b"] == "professional"), 0.05, p_know)
    know = rng.random(len(pairs)) < p_know
    alter_links = pd.DataFrame({"ego_id": pairs["ego_id"].to_numpy()[know],
                                "source": pairs["alter_key_a"].to_numpy()[know],
                                "target": pairs["alter_key_b"].to_numpy()[know]})

    # Screening answers, consistent with the network but not identical to it.
    t_ego = pd.Series(ties["ego_id"].map(pd.Series(np.arange(n_persons), index=ids)).to_numpy())
    monthly = ties["contact_frequency"].ne("minder").to_numpy()
    t_kin = ties["role"].isin(KIN_ROLES).to_numpy()
    informal = ~ties["role"].isin(["professional", "vrijwilliger"]).to_numpy()

    def per_person(mask: np.ndarray) -> np.ndarray:
        return np.bincount(t_ego[mask], minlength=n_persons)

    emo = ties["support_emotional"].to_numpy()
    prac = ties["support_practical"].to_numpy()
    friend = informal & ~t_kin
    lsns_counts = [per_person(t_kin & monthly), per_person(t_kin & emo), per_person(t_kin & prac),
                   per_person(friend & monthly), per_person(friend & emo), per_person(friend & prac)]
    # Respondents also count people who are not in the recorded support network.
    extra = rng.poisson(np.exp(0.8 + 0.45 * richness)[:, None], size=(n_persons, 6))
    lsns = _lsns_item(np.column_stack(lsns_counts) + extra)
    lsns = np.clip(lsns + rng.choice([-1, 0, 0, 0, 0, 1], size=lsns.shape), 0, 5)

    lonely = -richness + rng.normal(0, 0.6, n_persons)
    djg = np.empty((n_persons, 11), dtype=object)
    thresholds = rng.normal(1.4, 0.5, 11)
    p_lonely = 1 / (1 + np.exp(-1.8 * (lonely[:, None] - thresholds[None, :])))
    is_lonely = rng.random((n_persons, 11)) < p_lonely
    mild = rng.random((n_persons, 11)) < 0.4
    for item in range(1, 12):
        col = item - 1
        lonely_answer = np.where(mild[:, col], "min of meer",
                                 "ja" if item in _DJG_NEGATIVE else "nee")
        other = "nee" if item in _DJG_NEGATIVE else "ja"
        djg[:, col] = np.where(is_lonely[:, col], lonely_answer, other)

    screened = rng.random(n_persons) < 0.72
    measured = [
        (REFERENCE_DATE - pd.Timedelta(days=int(d))).normalize()
        for d in rng.integers(5, 400, n_persons)
    ]
    widowed_since = [
        (REFERENCE_DATE - pd.Timedelta(days=int(d))).normalize() if w else pd.NaT
        for w, d in zip(widowed, rng.integers(60, 3650, n_persons), strict=True)
    ]
    persons = pd.DataFrame({
        "person_id": ids,
        "buurt_code": codes,
        "age_band": np.array(AGE_BANDS)[age_idx],
        "household_type": household,
        "widowed_since": pd.to_datetime(pd.Series(widowed_since)),
        "life_events": np.where(widowed, "verweduwd", None),
        "measured_on": pd.to_datetime(pd.Series(measured)),
        "consent": rng.random(n_persons) < 0.97,
    })
    for i in range(6):
        persons[f"lsns_{i + 1}"] = pd.array(np.where(screened, lsns[:, i], np.nan)).astype("Int64")
    for i in range(11):
        persons[f"djg_{i + 1}"] = np.where(screened, djg[:, i], None)
    persons.loc[~screened, "measured_on"] = pd.NaT
    return persons, ties, richness, alter_links


def _demo_participation(rng: np.random.Generator, persons: pd.DataFrame, richness: np.ndarray,
                        provisions: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame) -> pd.DataFrame:
    centroids = buurten.set_index("area_code").geometry.centroid
    pxy = np.column_stack([centroids.x.reindex(persons["buurt_code"]).to_numpy(),
                           centroids.y.reindex(persons["buurt_code"]).to_numpy()])
    active = provisions.loc[provisions["status"] != "gestopt"]
    qxy = np.column_stack([active.geometry.x, active.geometry.y])
    dist = np.hypot(pxy[:, None, 0] - qxy[None, :, 0], pxy[:, None, 1] - qxy[None, :, 1])
    old = persons["age_band"].isin(["65-74", "75-84", "85+"]).to_numpy()
    widowed = persons["widowed_since"].notna().to_numpy()
    young = persons["age_band"].eq("18-29").to_numpy()
    eligible = {
        "bezoekdienst_weduwen": widowed,
        "grip_en_glans": richness < -0.3,
        "jongerenwerk": young,
        "maatjesproject": richness < -0.5,
        "mantelzorgondersteuning": rng.random(len(persons)) < 0.15,
        "inloop_armoede_schulden": rng.random(len(persons)) < 0.2,
    }
    # The most isolated rarely find their way in: participation peaks at moderate richness.
    reach_in = np.exp(-0.5 * ((richness + 0.2) / 1.0) ** 2)
    rows = []
    for j, prov in enumerate(active.itertuples()):
        ok = eligible.get(prov.type, old | (rng.random(len(persons)) < 0.3))
        ok = ok & (dist[:, j] <= prov.reach_m)
        cand = np.flatnonzero(ok)
        if len(cand) == 0:
            continue
        k = min(len(cand), max(1, int(prov.capacity_per_year * 0.08)))
        p = reach_in[cand] / reach_in[cand].sum()
        chosen = rng.choice(cand, size=k, replace=False, p=p)
        since = [(REFERENCE_DATE - pd.Timedelta(days=int(d))).normalize()
                 for d in rng.integers(14, 900, k)]
        rows.append(pd.DataFrame({
            "person_id": persons["person_id"].to_numpy()[chosen],
            "provision_id": prov.provision_id,
            "role": np.where(rng.random(k) < 0.08, "vrijwilliger", "deelnemer"),
            "since": since,
        }))
    return pd.concat(rows, ignore_index=True)


def generate_demo(seed: int = DEMO_SEED, *, n_persons: int = 2000) -> DemoData:
    """Generate the demo municipality Voorbeeldstad.

    Parameters
    ----------
    seed : int
        Seed of the random generator; the same seed gives identical data.
    n_persons : int
        Number of pseudonymous residents in the support networks.

    Returns
    -------
    DemoData
        Areas (gemeente, 6 wijken, 40 buurten) with key figures, about 40 provisions,
        persons, ties and participation, all in the store's columns.
    """
    rng = np.random.default_rng(seed)
    areas, values, raw = _demo_areas(rng)
    buurten = areas.loc[areas["level"] == "buurt"].merge(
        values.pivot_table(index="area_code", columns="indicator", values="value"),
        left_on="area_code", right_index=True, how="left",
    )
    buurten["character"] = raw["character"].to_numpy()
    provisions = _demo_provisions(rng, buurten)
    persons, ties, richness, alter_links = _demo_network(rng, buurten, n_persons)
    participation = _demo_participation(rng, persons, richness, provisions, buurten)
    return DemoData(areas, values, provisions, persons, ties, participation,
                    raw.drop(columns=["character"]), alter_links)


def write_demo_store(path, *, seed: int = DEMO_SEED, user: str = "demo", replace: bool = False):
    """Write the demo municipality as the store at ``path``, complete before it appears.

    The demo is built in a temporary file next to ``path`` and moved into place when it is whole,
    so a start that is interrupted never leaves a half-built or empty store. With ``replace`` an
    existing file is replaced (``cli.py demo --force``); otherwise it must not exist.
    Returns the opened :class:`~data.store.GeoPackageStore`.
    """
    from pathlib import Path

    from data.store import GeoPackageStore, mark_demo

    demo = generate_demo(seed)

    def fill(store) -> None:
        store.replace_tables(demo.tables(), user=user, action="demo",
                             details={"gemeente": GEMEENTE_CODE, "seed": seed})
        mark_demo(store)

    path = Path(path)
    if replace and path.exists():
        staged = path.with_name(f".steunkaart-demo-{path.name}")
        staged.unlink(missing_ok=True)
        try:
            GeoPackageStore.create_new(staged, fill=fill)
            os.replace(staged, path)
        finally:
            staged.unlink(missing_ok=True)
    else:
        GeoPackageStore.create_new(path, fill=fill)
    return GeoPackageStore.open(path, create=False)


def ensure_demo_store(path):
    """Open the demo store at ``path``, building it when it is missing or was never completed.

    A store at the demo's path that is not flagged as demo, holds no data, no accounts and no
    imports, and whose demo was not removed on purpose, is what an interrupted first start of an
    older version left: it is rebuilt instead of being shown as the first use of an empty store.
    """
    from pathlib import Path

    from data.errors import StoreError
    from data.store import GeoPackageStore

    if not Path(path).exists():
        try:
            return write_demo_store(path)
        except StoreError:
            if not Path(path).exists():
                raise
            return GeoPackageStore.open(path, create=False)  # another server finished it first
    store = GeoPackageStore.open(path, create=False)
    if not store.is_demo and _never_completed(store):
        import logging

        logging.getLogger(__name__).warning("Demo-opslag %s was niet af (onderbroken eerste start); opnieuw gebouwd.",
                                            path)
        return write_demo_store(path, replace=True)
    return store


def _never_completed(store) -> bool:
    with store._connection() as conn:
        removed = conn.execute("SELECT 1 FROM steunkaart_meta WHERE key = 'demo_removed_at'").fetchone()
        used = sum(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                   for t in ("areas", "area_values", "provisions", "persons", "users", "batches"))
    return removed is None and used == 0


def is_demo_store(store) -> bool:
    """True when the store holds the built-in demo (the demo may start signed in).

    ``write_demo_store`` flags the store; only removing the demo clears the flag (imports of real
    data into it are refused). Stores from before the flag were flagged by the migration to v5.
    """
    return store.is_demo
