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

Follow-up of participants (issue 16) is drawn with its own generator (``seed + 16``), so the rest
of the demo is the same with or without it:

- one Grip & Glans round at a running Grip & Glans provision: 10 participants with a poor network
  (LSNS-6 below 12 and lonely, De Jong Gierveld 3+) living within its reach, and a comparison group
  of 10 such persons who take part in no Grip & Glans; intake T0 between 26-02-2026 and 02-03-2026,
  T1 and T2 at the type's weeks (6 and 19) ± 3 days; 2 participants and 1 comparison person not
  measured at T2;
- one Bezoekdienst weduwen (the service under pressure): 12 widowed participants and 8 widowed
  comparison persons, T0 in November/December 2025, T1 +26 and T2 +39 weeks; 1 participant missing
  at T2;
- planted effects (:data:`FOLLOWUP_EFFECTS`, change from T0 in scale points): Grip & Glans
  participants LSNS-6 +4 at T1 and +3 at T2, De Jong Gierveld 11 −3 and −2, their comparison group
  +0,5 and −0,5; Bezoekdienst participants LSNS-6 +2/+2, De Jong Gierveld −2,5/−2, comparison
  +0,5/+0,5 and −1/−1,5 (grief eases anyway: the before/after change overstates the effect). Each
  person's change is the effect plus normal noise (sd 1,5 points, cut at 2 sd), put on the items
  (LSNS-6 items 0-5, De Jong Gierveld answers ja / min of meer / nee) one point at a time and kept
  within the scales; the noise is centred per group and moment, so the sample mean change is the
  planted effect up to rounding to whole points (at most 0,5/n) and the test checks that the
  statistics recover it within their 95% intervals;
- the network per moment: T0 is the person's demo network (alter_key, or the alter's person code),
  later moments start from the previous one (ties lost, changed and new; participants gain more),
  Grip & Glans participants name other participants of their round (``from_group``; at T2 about 70%
  of those measured), the bezoekdienst's volunteer appears at T1 and mostly goes at T2;
- participation rows for the participants (since their T0), and aftercare plans (4 contacts a year
  for 12 months) from each bezoekdienst participant's T1 and for 3 persons after wijkteam support,
  with about 70% of the contacts planned before 24-11-2026 registered: on 01-12-2026
  (:data:`FOLLOWUP_REFERENCE`) some are overdue and some are due in December 2026.

The wijkagenda (issue 17) is drawn with its own generator too (``seed + 17``) and only reads what is drawn
before it: for the Kanaalzone and the Centrum (:data:`DEMO_AGENDA_WIJKEN`) 4-5 items each, owned by the
gebiedsverbinder, the opbouwwerk and the wijkteam, with statuses idee/gepland/loopt/afgerond, dates between
09-2026 and 03-2027 and 2-3 updates each. The 'tekort' item of each wijk points at the buurt with the largest
shortage of the bezoekdienst weduwen in that wijk (exact top 1, computed by :func:`_visiting_shortage` as the
gap page does: Rozenhof in the Kanaalzone, which is also the gemeente's largest, and Vestingwal in the Centrum);
other items come from the wijk's provisions under pressure or stopped and from the buurt with the largest share
of poor-network signals (Flatwijk De Horst). Three residents' initiatives (linked to items) and four key figures
(one with a consented name). Origin figures are aggregates (never under 5 persons), never a person id.
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
from data.formatting import format_number, round_to_five
from data.provision_types import PROVISION_TYPES
from data.schema import (
    AGE_BANDS,
    CRS_EPSG,
    DEFAULT_AFTERCARE_MONTHS,
    DEFAULT_AFTERCARE_PER_YEAR,
    KIN_ROLES,
    TABLES,
)

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
    # The follow-up cohorts (issue 16): measurements T0-T2 with the network per moment, and aftercare.
    measurements: pd.DataFrame | None = None
    followup_ties: pd.DataFrame | None = None
    aftercare_plans: pd.DataFrame | None = None
    aftercare_contacts: pd.DataFrame | None = None
    # The wijkagenda (issue 17): items with their links and updates, residents' initiatives, key figures.
    agenda_items: pd.DataFrame | None = None
    agenda_links: pd.DataFrame | None = None
    agenda_updates: pd.DataFrame | None = None
    initiatives: gpd.GeoDataFrame | None = None
    key_figures: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the frames keyed by store table name (tables left out are written empty)."""
        def given(name: str) -> pd.DataFrame:
            frame = getattr(self, name)
            if frame is not None:
                return frame
            if TABLES[name].geometry_type:
                return gpd.GeoDataFrame(columns=[*TABLES[name].column_names, "geometry"], geometry="geometry",
                                        crs=CRS_EPSG)
            return pd.DataFrame(columns=TABLES[name].column_names)

        return {
            "areas": self.areas,
            "area_values": self.area_values,
            "provisions": self.provisions,
            "persons": self.persons,
            "ties": self.ties,
            "participation": self.participation,
            "alter_links": given("alter_links"),
            "measurements": given("measurements"),
            "followup_ties": given("followup_ties"),
            "aftercare_plans": given("aftercare_plans"),
            "aftercare_contacts": given("aftercare_contacts"),
            **{name: given(name) for name in ("agenda_items", "agenda_links", "agenda_updates", "initiatives",
                                              "key_figures")},
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


# --------------------------------------------------------------------------- follow-up cohort (issue 16)

# "Today" of the follow-up story: measurements up to the demo's reference date, aftercare contacts registered
# up to this day, so that on it some contacts are overdue and some are due in December 2026.
FOLLOWUP_REFERENCE = pd.Timestamp("2026-12-01")
# The planted effects: the expected change from T0 per provision type, study group, measure and moment, in
# scale points (LSNS-6 0-30, higher = larger network; De Jong Gierveld 11 'djg' 0-11, higher = lonelier). The
# planted difference-in-differences is the participants' effect minus the comparison group's.
FOLLOWUP_EFFECTS = {
    "grip_en_glans": {
        "deelnemer": {"lsns6": {"T1": 4.0, "T2": 3.0}, "djg": {"T1": -3.0, "T2": -2.0}},
        "vergelijking": {"lsns6": {"T1": 0.5, "T2": 0.5}, "djg": {"T1": -0.5, "T2": -0.5}},
    },
    "bezoekdienst_weduwen": {
        # Grief eases with time also without visits: the comparison group gets less lonely too, so the
        # before/after change of the participants overstates what the visits brought.
        "deelnemer": {"lsns6": {"T1": 2.0, "T2": 2.0}, "djg": {"T1": -2.5, "T2": -2.0}},
        "vergelijking": {"lsns6": {"T1": 0.5, "T2": 0.5}, "djg": {"T1": -1.0, "T2": -1.5}},
    },
}
FOLLOWUP_NOISE_SD = 1.5  # spread of the individual changes around the planted effect (points)
# The two cohorts: group sizes, the intake dates (T0) and how many were not measured at T2.
FOLLOWUP_COHORTS = {
    "grip_en_glans": {"participants": 10, "comparison": 10, "t0_from": "2026-02-26", "t0_to": "2026-03-02",
                      "missing_T2": {"deelnemer": 2, "vergelijking": 1}, "group_share_T2": 0.7},
    "bezoekdienst_weduwen": {"participants": 12, "comparison": 8, "t0_from": "2025-11-03", "t0_to": "2025-12-19",
                             "missing_T2": {"deelnemer": 1, "vergelijking": 0}, "group_share_T2": 0.0},
}
FOLLOWUP_DATE_JITTER_DAYS = 3  # each follow-up is measured up to this many days before or after its week
_FOLLOWUP_RANGES = {"lsns6": (0, 30), "djg": (0, 11)}
# Preferred status of the provision each cohort is drawn for: a running Grip & Glans round; the visiting
# service under pressure (local evidence matters most where a subsidy decision is near).
_COHORT_STATUS = {"grip_en_glans": ("actief", "onder_druk"), "bezoekdienst_weduwen": ("onder_druk", "actief")}
_WIJKTEAM_AFTERCARE = (("2026-06-01", 4), ("2026-08-17", 5), ("2026-10-12", 4))  # starts_on, contacts per year
_AFTERCARE_OUTCOME_P = {"gaat_goed": 0.55, "lichte_zorg": 0.2, "niet_bereikt": 0.1, "doorverwezen": 0.08,
                        "terug_naar_wijkteam": 0.07}
_NEW_ALTER_ROLES = np.array(["vriend", "buur", "kerk_vereniging", "familie", "anders"])
_NEW_ALTER_P = np.array([0.35, 0.3, 0.15, 0.1, 0.1])
_NEW_ALTER_ROLE_POS = np.array([list(_ROLE_NAMES).index(r) for r in _NEW_ALTER_ROLES])
# New alters per ego per follow-up moment (Poisson mean), and the chance that a tie is lost or changed.
_NEW_ALTERS = {"deelnemer": 1.2, "vergelijking": 0.25}
_P_LOST = {"deelnemer": 0.08, "vergelijking": 0.12}
_P_CHANGED = {"deelnemer": 0.2, "vergelijking": 0.15}


def _planted_changes(rng: np.random.Generator, before: np.ndarray, effect: float, lo: int, hi: int) -> np.ndarray:
    """Whole-point changes around ``effect`` whose mean is the effect (up to 1/n) and that stay in [lo, hi].

    Each change is effect + noise (normal, sd :data:`FOLLOWUP_NOISE_SD`, cut at 2 sd), rounded and kept within
    the scale; then single points are moved between persons (to persons with room on the scale) until the sum
    is round(effect · n): the spread stays, the sample mean is the planted effect.
    """
    n = len(before)
    if n == 0:
        return np.zeros(0, dtype=int)
    noise = np.clip(rng.normal(0.0, FOLLOWUP_NOISE_SD, n), -2 * FOLLOWUP_NOISE_SD, 2 * FOLLOWUP_NOISE_SD)
    low, high = lo - before, hi - before
    change = np.clip(np.round(effect + noise), low, high).astype(int)
    gap = int(np.round(effect * n)) - int(change.sum())
    while gap:  # a few points at most
        step = 1 if gap > 0 else -1
        room = np.flatnonzero(change + step <= high) if step > 0 else np.flatnonzero(change + step >= low)
        if len(room) == 0:
            break
        change[rng.choice(room)] += step
        gap -= step
    return change


def _move_units(rng: np.random.Generator, items: np.ndarray, change: np.ndarray, cap: int) -> np.ndarray:
    """Add ``change[i]`` points to row i of ``items`` (0..cap each), one point at a time on a random item."""
    items = items.copy()
    remaining = change.astype(int).copy()
    for _ in range(int(np.abs(remaining).max(initial=0))):
        step = np.sign(remaining)
        room = np.where(step[:, None] > 0, items < cap, np.where(step[:, None] < 0, items > 0, False))
        score = np.where(room, rng.random(items.shape), -1.0)
        rows = np.flatnonzero(room.any(axis=1))
        pick = score.argmax(axis=1)[rows]
        items[rows, pick] += step[rows]
        remaining[rows] -= step[rows]
    return items


def _djg_points(answers: np.ndarray) -> np.ndarray:
    """1 where an answer scores as lonely (graphs.screening's rule), per person × item 1..11."""
    negative = np.isin(np.arange(1, 12), _DJG_NEGATIVE)
    lonely = np.where(negative, "ja", "nee")
    return ((answers == lonely[None, :]) | (answers == "min of meer")).astype(int)


def _djg_answers(rng: np.random.Generator, answers0: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Answers with the given lonely points: unchanged items keep their T0 answer, changed ones get a new one."""
    negative = np.isin(np.arange(1, 12), _DJG_NEGATIVE)
    lonely = np.broadcast_to(np.where(negative, "ja", "nee"), points.shape)
    not_lonely = np.broadcast_to(np.where(negative, "nee", "ja"), points.shape)
    became = np.where(rng.random(points.shape) < 0.4, "min of meer", lonely)
    now = np.where(points == 1, became, not_lonely)
    return np.where(points == _djg_points(answers0), answers0, now).astype(object)


def _followup_dates(rng: np.random.Generator, t0: pd.Series, weeks: int | None) -> pd.Series:
    if weeks is None:
        return pd.Series(pd.NaT, index=t0.index)
    jitter = rng.integers(-FOLLOWUP_DATE_JITTER_DAYS, FOLLOWUP_DATE_JITTER_DAYS + 1, len(t0))
    return t0 + pd.to_timedelta(weeks * 7 + jitter, unit="D")


def _cohort_members(rng: np.random.Generator, ptype: str, persons: pd.DataFrame, participation: pd.DataFrame,
                    provisions: gpd.GeoDataFrame, dist: np.ndarray, taken: set) -> tuple[str, np.ndarray, np.ndarray]:
    """The provision of the cohort and the row positions of its participants and comparison persons."""
    spec = FOLLOWUP_COHORTS[ptype]
    items = persons[[f"lsns_{i}" for i in range(1, 7)]].astype("float64").to_numpy()
    answers = persons[[f"djg_{i}" for i in range(1, 12)]].to_numpy(dtype=object)
    complete = ~np.isnan(items).any(axis=1) & np.isin(answers, ["ja", "min of meer", "nee"]).all(axis=1)
    lsns = np.where(complete, np.nan_to_num(items).sum(axis=1), np.nan)
    djg = np.where(complete, _djg_points(answers).sum(axis=1), -1)
    of_type = provisions["type"].to_numpy() == ptype
    in_type = participation["provision_id"].isin(provisions.loc[of_type, "provision_id"])
    free = complete & ~persons["person_id"].isin(set(participation.loc[in_type, "person_id"]) | taken).to_numpy()
    if ptype == "bezoekdienst_weduwen":
        t0 = pd.Timestamp(spec["t0_from"])
        since = persons["widowed_since"]
        eligible = free & (since < t0 - pd.Timedelta(days=60)).to_numpy(dtype=bool)
        recent = eligible & (since >= t0 - pd.DateOffset(years=3)).to_numpy(dtype=bool)
    else:  # a poor network: LSNS-6 below 12 and lonely (De Jong Gierveld 3 or more)
        eligible = recent = free & (lsns < 12) & (djg >= 3)
    wanted = spec["participants"] + spec["comparison"]
    order = np.argsort(provisions["provision_id"].to_numpy())
    candidates = [j for status in _COHORT_STATUS[ptype] for j in order
                  if of_type[j] and provisions["status"].iloc[j] == status]
    best, best_pool = None, np.zeros(0, dtype=int)
    for j in candidates:  # the first provision of the preferred status with enough candidates in reach
        reach = dist[:, j] <= provisions["reach_m"].iloc[j]
        pool = np.flatnonzero(recent & reach)
        if len(pool) < wanted:
            pool = np.flatnonzero(eligible & reach)
        if len(pool) > len(best_pool):
            best, best_pool = j, pool
        if len(pool) >= wanted:
            break
    if best is None:
        return "", np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    drawn = rng.permutation(best_pool)
    n_part = min(spec["participants"], len(drawn))
    return (provisions["provision_id"].iloc[best], drawn[:n_part],
            drawn[n_part:n_part + spec["comparison"]])


def _network_at(rng: np.random.Generator, previous: pd.DataFrame, egos: pd.DataFrame, moment: str) -> pd.DataFrame:
    """The network of each ego at ``moment``, starting from ``previous``: each tie kept, changed or lost, plus new
    alters (participants gain more than comparison persons). Group ties are added by the caller."""
    prev = previous.loc[~previous["from_group"].astype(bool) & previous["person_id"].isin(egos["person_id"])]
    group_of = egos.set_index("person_id")["group"]
    is_part = prev["person_id"].map(group_of).eq("deelnemer").to_numpy()
    visitor = prev["alter_key"].eq("bezoeker").to_numpy()
    p_lost = np.where(is_part, _P_LOST["deelnemer"], _P_LOST["vergelijking"])
    p_lost = np.where(prev["role"].isin(KIN_ROLES).to_numpy(), p_lost * 0.3, p_lost)
    p_lost = np.where(visitor, 0.6, p_lost)  # the visits ended at T1: most visitors are gone at T2
    keep = rng.random(len(prev)) >= p_lost
    kept, is_part, visitor = prev.loc[keep].copy(), is_part[keep], visitor[keep]
    p_changed = np.where(is_part, _P_CHANGED["deelnemer"], _P_CHANGED["vergelijking"])
    changed = (rng.random(len(kept)) < p_changed) | visitor
    level = kept["contact_frequency"].map({f: i for i, f in enumerate(_FREQS)}).fillna(2).to_numpy(dtype=int)
    # Participants see the people they keep more often; a visitor who stays comes by less often.
    shift = np.where(visitor, 2, np.where(is_part, -1, rng.choice([-1, 1], len(kept))))
    kept["contact_frequency"] = _FREQS[np.clip(level + np.where(changed, shift, 0), 0, len(_FREQS) - 1)]
    kept["moment"] = moment
    n_new = rng.poisson(np.where(egos["group"] == "deelnemer", _NEW_ALTERS["deelnemer"],
                                 _NEW_ALTERS["vergelijking"]))
    ego = np.repeat(np.arange(len(egos)), n_new)
    role_idx = rng.choice(len(_NEW_ALTER_ROLES), size=len(ego), p=_NEW_ALTER_P)
    roles = _NEW_ALTER_ROLES[role_idx]
    support = rng.random((len(ego), 4)) < _SUPPORT_P[_NEW_ALTER_ROLE_POS[role_idx]]
    number = pd.Series(ego).groupby(ego).cumcount().to_numpy() + 1
    new = pd.DataFrame({
        "person_id": egos["person_id"].to_numpy()[ego], "provision_id": egos["provision_id"].to_numpy()[ego],
        "moment": moment, "alter_key": [f"{moment.lower()}-{k}" for k in number], "alter_id": None,
        "role": roles, "support_practical": support[:, 0], "support_emotional": support[:, 1],
        "support_informational": support[:, 2], "support_companionship": support[:, 3],
        "contact_frequency": rng.choice(_FREQS[1:4], len(ego)), "closeness": rng.integers(1, 3, len(ego)),
        "from_group": False,
    })
    return pd.concat([kept, new], ignore_index=True)


def _group_ties(rng: np.random.Generator, members: np.ndarray, provision_id: str, counts: dict[str, np.ndarray],
                ) -> dict[str, pd.DataFrame]:
    """Per moment the ties of participants to other participants of their group (from_group, role groepsgenoot).

    Each participant has one random order of the others; at a moment they name the first ``counts[moment][i]``
    of it, so a group member named at T1 and again at T2 is the same alter (kept or changed).
    """
    rows = {moment: [] for moment in counts}
    for i, person in enumerate(members):  # one small group: a handful of persons
        others = rng.permutation(np.delete(members, i))
        for moment, k in counts.items():
            for other in others[:int(k[i])]:
                rows[moment].append((person, other))
    out = {}
    for moment, pairs in rows.items():
        pairs = np.array(pairs, dtype=object).reshape(-1, 2)
        n = len(pairs)
        out[moment] = pd.DataFrame({
            "person_id": pairs[:, 0], "provision_id": provision_id, "moment": moment, "alter_key": pairs[:, 1],
            "alter_id": pairs[:, 1], "role": "groepsgenoot", "support_practical": rng.random(n) < 0.15,
            "support_emotional": rng.random(n) < 0.45, "support_informational": rng.random(n) < 0.3,
            "support_companionship": True,
            "contact_frequency": ("wekelijks" if moment == "T1" else rng.choice(["tweewekelijks", "maandelijks"], n)),
            "closeness": 2, "from_group": True,
        })
    return out


def _aftercare_planned(starts_on: pd.Timestamp, per_year: int, months: int) -> list[pd.Timestamp]:
    """Planned dates of a plan: n = ceil(c · M / 12) contacts, contact k on starts_on + round(k · 365.25 / c)
    days (the rule of graphs.aftercare)."""
    n = int(np.ceil(per_year * months / 12))
    return [starts_on + pd.Timedelta(days=int(round(k * 365.25 / per_year))) for k in range(1, n + 1)]


def _demo_aftercare(rng: np.random.Generator, visits: pd.DataFrame, extra: list[str], provision_id: str
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Aftercare plans after the visiting service (from each participant's T1) and after wijkteam support."""
    per_year = PROVISION_TYPES["bezoekdienst_weduwen"].aftercare_per_year or DEFAULT_AFTERCARE_PER_YEAR
    plans = pd.concat([
        pd.DataFrame({"person_id": visits["person_id"].to_numpy(), "provision_id": provision_id,
                      "reason": "voorziening", "starts_on": pd.to_datetime(visits["measured_on"]).to_numpy(),
                      "contacts_per_year": per_year}),
        pd.DataFrame({"person_id": extra, "provision_id": None, "reason": "wijkteam",
                      "starts_on": pd.to_datetime([s for s, _ in _WIJKTEAM_AFTERCARE[:len(extra)]]),
                      "contacts_per_year": [c for _, c in _WIJKTEAM_AFTERCARE[:len(extra)]]}),
    ], ignore_index=True)
    plans = plans.sort_values("starts_on", kind="stable").reset_index(drop=True)
    plans.insert(0, "plan_id", [f"NZ-{i + 1:04d}" for i in range(len(plans))])
    plans["months"] = DEFAULT_AFTERCARE_MONTHS
    plans["status"] = "actief"
    plans["created_by"] = "demo"
    plans["created_at"] = plans["starts_on"].dt.strftime("%Y-%m-%dT09:00:00.000000Z")
    rows = []
    for plan in plans.itertuples(index=False):  # fifteen plans
        for k, planned in enumerate(_aftercare_planned(plan.starts_on, plan.contacts_per_year, plan.months), 1):
            rows.append((plan.plan_id, k, planned, plan.reason))
    contacts = pd.DataFrame(rows, columns=["plan_id", "sequence", "planned_on", "reason"])
    past = (contacts["planned_on"] < FOLLOWUP_REFERENCE - pd.Timedelta(days=7)).to_numpy()
    done = past & (rng.random(len(contacts)) < 0.7)
    if past.any() and done[past].all():  # some contacts are left open: they are overdue
        done[rng.choice(np.flatnonzero(past))] = False
    contacts = contacts.loc[done].reset_index(drop=True)
    shift = pd.to_timedelta(rng.integers(-5, 8, len(contacts)), unit="D")
    contacts["done_on"] = (contacts["planned_on"] + shift).clip(upper=FOLLOWUP_REFERENCE - pd.Timedelta(days=1))
    contacts["by_role"] = np.where(contacts["reason"] == "wijkteam", "wijkteam",
                                   np.where(rng.random(len(contacts)) < 0.8, "vrijwilliger", "welzijn"))
    codes = list(_AFTERCARE_OUTCOME_P)
    contacts["outcome"] = rng.choice(codes, size=len(contacts), p=list(_AFTERCARE_OUTCOME_P.values()))
    contacts["registered_by"] = "demo"
    contacts["registered_at"] = contacts["done_on"].dt.strftime("%Y-%m-%dT16:00:00.000000Z")
    contacts = contacts.drop(columns=["reason"])
    # As register_aftercare_contact leaves them: one version up per registered contact.
    plans["version"] = 1 + plans["plan_id"].map(contacts.groupby("plan_id").size()).fillna(0).astype(int)
    return plans, contacts


def _demo_followup(rng: np.random.Generator, persons: pd.DataFrame, ties: pd.DataFrame,
                   participation: pd.DataFrame, provisions: gpd.GeoDataFrame, buurten: gpd.GeoDataFrame) -> dict:
    """The follow-up cohorts of the demo: measurements T0-T2, networks per moment, participation and aftercare.

    Everything the test of the planted effects relies on is in :data:`FOLLOWUP_EFFECTS` and
    :data:`FOLLOWUP_COHORTS`; see :func:`generate_demo` for the story.
    """
    centroids = buurten.set_index("area_code").geometry.centroid
    pxy = np.column_stack([centroids.x.reindex(persons["buurt_code"]).to_numpy(),
                           centroids.y.reindex(persons["buurt_code"]).to_numpy()])
    qxy = np.column_stack([provisions.geometry.x, provisions.geometry.y])
    dist = np.hypot(pxy[:, None, 0] - qxy[None, :, 0], pxy[:, None, 1] - qxy[None, :, 1])
    lsns_cols = [f"lsns_{i}" for i in range(1, 7)]
    djg_cols = [f"djg_{i}" for i in range(1, 12)]
    by_id = pd.Series(np.arange(len(persons)), index=persons["person_id"].to_numpy())
    t0_ties = ties.assign(person_id=ties["ego_id"], alter_key=ties["alter_key"].fillna(ties["alter_id"]),
                          from_group=False)
    measurements, networks, new_participation = [], [], []
    taken: set = set()
    visits = pd.DataFrame(columns=["person_id", "measured_on"])
    visit_provision = ""
    for ptype in ("grip_en_glans", "bezoekdienst_weduwen"):
        spec, weeks = FOLLOWUP_COHORTS[ptype], PROVISION_TYPES[ptype].moment_weeks
        provision_id, part, comp = _cohort_members(rng, ptype, persons, participation, provisions, dist, taken)
        if not provision_id:
            continue
        taken |= set(persons["person_id"].iloc[np.r_[part, comp]])
        egos = pd.DataFrame({"person_id": persons["person_id"].to_numpy()[np.r_[part, comp]],
                             "provision_id": provision_id,
                             "group": ["deelnemer"] * len(part) + ["vergelijking"] * len(comp)})
        span = (pd.Timestamp(spec["t0_to"]) - pd.Timestamp(spec["t0_from"])).days
        t0 = pd.Series(pd.Timestamp(spec["t0_from"]) + pd.to_timedelta(rng.integers(0, span + 1, len(egos)),
                                                                        unit="D"))
        dates = {"T0": t0, "T1": _followup_dates(rng, t0, weeks["T1"]), "T2": _followup_dates(rng, t0, weeks["T2"])}
        # Who is missing at T2: drawn per group.
        measured = {m: np.ones(len(egos), dtype=bool) for m in dates}
        for group, missing in spec["missing_T2"].items():
            rows = np.flatnonzero(egos["group"].to_numpy() == group)
            measured["T2"][rng.choice(rows, size=min(missing, len(rows)), replace=False)] = False
        pos = by_id.reindex(egos["person_id"]).to_numpy()
        lsns0 = persons[lsns_cols].astype("float64").to_numpy()[pos].astype(int)
        djg0 = persons[djg_cols].to_numpy(dtype=object)[pos]
        points0 = _djg_points(djg0)
        networks.append(t0_ties.loc[t0_ties["person_id"].isin(egos["person_id"])].assign(
            provision_id=provision_id, moment="T0"))
        previous = networks[-1]
        group_counts = {}
        if ptype == "grip_en_glans":  # at the end some name a group member; at T2 ~70% of those measured
            n = len(part)
            t1 = np.where(rng.random(n) < 0.5, rng.integers(1, 3, n), 0)
            t2 = np.zeros(n, dtype=int)
            at_t2 = np.flatnonzero(measured["T2"][:n])
            named = rng.choice(at_t2, size=int(round(spec["group_share_T2"] * len(at_t2))), replace=False)
            t2[named] = rng.integers(2, 4, len(named))
            group_counts = _group_ties(rng, egos["person_id"].to_numpy()[:n], provision_id, {"T1": t1, "T2": t2})
        by_moment = {}
        for moment in ("T0", "T1", "T2"):
            rows = measured[moment]
            lsns, points = lsns0.copy(), points0.copy()
            if moment != "T0":
                for group in ("deelnemer", "vergelijking"):
                    effect = FOLLOWUP_EFFECTS[ptype][group]
                    sel = rows & (egos["group"].to_numpy() == group)
                    for measure, items, cap in (("lsns6", lsns, 5), ("djg", points, 1)):
                        lo, hi = _FOLLOWUP_RANGES[measure]
                        change = _planted_changes(rng, items[sel].sum(axis=1), effect[measure][moment], lo, hi)
                        items[sel] = _move_units(rng, items[sel], change, cap)
                network = _network_at(rng, previous, egos.loc[rows], moment)
                if ptype == "bezoekdienst_weduwen" and moment == "T1":  # the volunteer who visited
                    visitors = egos.loc[rows & (egos["group"].to_numpy() == "deelnemer")]
                    network = pd.concat([network, pd.DataFrame({
                        "person_id": visitors["person_id"], "provision_id": provision_id, "moment": moment,
                        "alter_key": "bezoeker", "alter_id": None, "role": "vrijwilliger",
                        "support_practical": rng.random(len(visitors)) < 0.3, "support_emotional": True,
                        "support_informational": rng.random(len(visitors)) < 0.5, "support_companionship": True,
                        "contact_frequency": "tweewekelijks", "closeness": 2, "from_group": False})],
                        ignore_index=True)
                if moment in group_counts:
                    network = pd.concat([network, group_counts[moment]], ignore_index=True)
                network = network.drop_duplicates(["person_id", "alter_key"], keep="last")
                networks.append(network)
                previous = network
            answers = _djg_answers(rng, djg0, points)
            frame = pd.DataFrame({"person_id": egos["person_id"], "provision_id": provision_id,
                                  "study_group": egos["group"], "moment": moment,
                                  "measured_on": pd.to_datetime(dates[moment]).dt.normalize()})
            for i, col in enumerate(lsns_cols):
                frame[col] = pd.array(lsns[:, i], dtype="Int64")
            for i, col in enumerate(djg_cols):
                frame[col] = answers[:, i]
            frame["network_recorded"] = True
            frame["version"] = 1
            by_moment[moment] = frame.loc[rows]
        measurements.extend(by_moment.values())
        participants = egos.loc[egos["group"] == "deelnemer"]
        new_participation.append(pd.DataFrame({"person_id": participants["person_id"], "provision_id": provision_id,
                                               "role": "deelnemer", "since": t0[participants.index].dt.normalize()}))
        if ptype == "bezoekdienst_weduwen":
            end = by_moment["T1"]  # the last visit: aftercare starts here
            visits = end.loc[end["study_group"] == "deelnemer", ["person_id", "measured_on"]]
            visit_provision = provision_id
    columns = {name: [c for c, _ in TABLES[name].columns]
               for name in ("measurements", "followup_ties", "aftercare_plans", "aftercare_contacts")}
    m = pd.concat(measurements, ignore_index=True) if measurements else pd.DataFrame(columns=columns["measurements"])
    f = (pd.concat(networks, ignore_index=True).reindex(columns=columns["followup_ties"]) if networks
         else pd.DataFrame(columns=columns["followup_ties"]))
    f["closeness"] = pd.array(f["closeness"], dtype="Int64")
    participation = pd.concat([participation, *new_participation], ignore_index=True)
    participation = participation.drop_duplicates(["person_id", "provision_id"], keep="first").reset_index(drop=True)
    # Aftercare after wijkteam support: three persons with a poor network in the visiting service's wijk.
    extra: list[str] = []
    if visit_provision:
        wijk = provisions.loc[provisions["provision_id"] == visit_provision, "buurt_code"].iloc[0][:8]
        lsns = persons[lsns_cols].astype("float64").sum(axis=1, min_count=6).to_numpy()
        pool = np.flatnonzero((lsns < 12) & persons["buurt_code"].str.startswith(wijk).to_numpy(dtype=bool)
                              & ~persons["person_id"].isin(taken).to_numpy())
        extra = list(persons["person_id"].to_numpy()[rng.choice(pool, size=min(3, len(pool)), replace=False)])
    if len(visits) or extra:
        plans, contacts = _demo_aftercare(rng, visits, extra, visit_provision)
    else:
        plans = pd.DataFrame(columns=columns["aftercare_plans"])
        contacts = pd.DataFrame(columns=columns["aftercare_contacts"])
    return {"measurements": m[columns["measurements"]].reset_index(drop=True), "followup_ties": f,
            "participation": participation, "aftercare_plans": plans[columns["aftercare_plans"]],
            "aftercare_contacts": contacts[columns["aftercare_contacts"]]}


# --------------------------------------------------------------------------- wijkagenda (issue 17)

# The two wijken with a demo agenda: the Kanaalzone (the widowed hot spot, its visiting service under pressure,
# the pocket of poor networks in Flatwijk De Horst) and the Centrum (its visiting service stopped).
DEMO_AGENDA_WIJKEN = (f"WK{GEMEENTE_CODE[2:]}01", f"WK{GEMEENTE_CODE[2:]}00")
# The provision type whose shortage the 'tekort' items are about: in each agenda wijk one item points at the buurt
# with the largest shortage of it in that wijk (computed in the generator, see _visiting_shortage).
DEMO_AGENDA_SHORTAGE_TYPE = "bezoekdienst_weduwen"
# Need of the visiting service per widowed resident: the weight of mapping.gaps.DEFAULT_NEED (data/ does not import
# mapping/; tests/test_demo_agenda.py checks that the two agree).
VISIT_NEED_PER_WIDOWED = 0.10
# The fictitious accounts that wrote the demo agenda, by their role.
DEMO_AGENDA_USERS = {"gebiedsverbinder": "demo-gebiedsverbinder", "opbouwwerker": "demo-opbouwwerker",
                     "wijkteam": "demo-wijkteam"}
# Every starts_on and due_on lies in this period; every update is made before FOLLOWUP_REFERENCE.
DEMO_AGENDA_PERIOD = (pd.Timestamp("2026-09-01"), pd.Timestamp("2027-03-31"))
DEMO_AGENDA_MIN_COUNT = 5  # no figure of fewer persons (data.disclosure.MIN_CELL) is put in an origin_figure
SIGNAL_MIN_SCREENED = 20  # a buurt's share with a poor-network signal is only used with this many screened
# Per wijk: (kind of item, owner team, status). Kinds: 'tekort' (the largest shortage of the visiting service),
# 'onder_druk' (the wijk's provision under pressure whose funding ends first), 'gestopt' (a stopped provision,
# a buurthuis first), 'signaal' (the buurt with the largest share of poor-network signals), 'ontmoeting' and
# 'sleutelfiguren' (entered by hand).
_AGENDA_PLAN = {
    DEMO_AGENDA_WIJKEN[0]: (("tekort", "opbouwwerker", "loopt"), ("onder_druk", "gebiedsverbinder", "gepland"),
                            ("signaal", "wijkteam", "idee"), ("ontmoeting", "wijkteam", "afgerond"),
                            ("sleutelfiguren", "gebiedsverbinder", "loopt")),
    DEMO_AGENDA_WIJKEN[1]: (("tekort", "gebiedsverbinder", "gepland"), ("gestopt", "opbouwwerker", "loopt"),
                            ("onder_druk", "gebiedsverbinder", "idee"), ("signaal", "wijkteam", "afgerond")),
}
# The update history per status: the statuses an item went through (the first is its creation).
_AGENDA_PATHS = {"idee": ("idee", "idee"), "gepland": ("idee", "gepland"), "loopt": ("idee", "gepland", "loopt"),
                 "afgerond": ("gepland", "loopt", "afgerond")}
# The dates per status: (first start, last start, days from start to due), within DEMO_AGENDA_PERIOD.
_AGENDA_DATES = {"idee": ("2027-01-04", "2027-01-29", 56), "gepland": ("2026-12-01", "2027-01-15", 70),
                 "loopt": ("2026-09-07", "2026-10-16", 120), "afgerond": ("2026-09-01", "2026-09-18", 60)}
# Short notes about the action (never about a person), per kind: on creation ('nieuw'), a second note while it is
# still an idea ('idee'), and when it was planned, started and finished.
_AGENDA_NOTES = {
    "tekort": {"nieuw": "Op de agenda gezet vanuit het tekort op de kaart van de tekorten.",
               "idee": "Nagevraagd bij de bezoekdiensten hoeveel vrijwilligers er nodig zijn.",
               "gepland": "Besproken in het driehoeksoverleg: werving van bezoekvrijwilligers met eigen ervaring.",
               "loopt": "Wervingsavond gehouden; de eerste nieuwe vrijwilligers volgen de training.",
               "afgerond": "De nieuwe vrijwilligers zijn getraind en bezoeken nu zelfstandig."},
    "onder_druk": {"nieuw": "Op de agenda gezet: de financiering van deze voorziening loopt af.",
                   "idee": "De organisatie levert cijfers over bereik en wachtlijst aan.",
                   "gepland": "Gesprek met de gemeente en de organisatie ingepland over de periode na de subsidie.",
                   "loopt": "Het gesprek met de gemeente loopt; een voorstel voor de verlenging is in de maak.",
                   "afgerond": "De financiering is verlengd."},
    "gestopt": {"nieuw": "Op de agenda gezet: de voorziening is gestopt en bewoners missen een ontmoetingsplek.",
                "idee": "Rondgevraagd welke ruimtes in de buurt vrij zijn.",
                "gepland": "Afgesproken het bewonersinitiatief te steunen met een ruimte en begeleiding.",
                "loopt": "De koffieochtenden lopen; het opbouwwerk zoekt een vaste ruimte.",
                "afgerond": "Er is een vaste ruimte gevonden; het initiatief draait zelfstandig."},
    "signaal": {"nieuw": "Op de agenda gezet vanuit het aandeel bewoners met een signaal van een arm netwerk.",
                "idee": "Besproken met het opbouwwerk: eerst met bewoners zelf een plan maken.",
                "gepland": "Overleg met huisartsen en praktijkondersteuners ingepland.",
                "loopt": "Het overleg is gestart; de groepen en ontmoetingsplekken van de wijk zijn op een rij gezet.",
                "afgerond": "Afspraken gemaakt met huisartsen en praktijkondersteuners over verwijzen naar groepen."},
    "ontmoeting": {"nieuw": "Idee uit het wijkteamoverleg: een vaste inloopmiddag in de wijk.",
                   "idee": "Nagevraagd welke middag het buurthuis vrij heeft.",
                   "gepland": "Inloopmiddagen gepland in overleg met het buurthuis.",
                   "loopt": "De eerste inloopmiddag is gehouden.",
                   "afgerond": "De inloopmiddagen zijn gehouden; ze horen nu bij het vaste programma van het huis."},
    "sleutelfiguren": {"nieuw": "Op de agenda gezet: de sleutelfiguren van de wijk beter leren kennen.",
                       "idee": "Een eerste lijst van organisaties en rollen gemaakt.",
                       "gepland": "Kennismakingsronde gepland langs bewonerscommissie, moskee en huisartsen.",
                       "loopt": "De eerste gesprekken zijn gevoerd; de sleutelfiguren staan in Steunkaart.",
                       "afgerond": "De kennismakingsronde is rond."},
}


def _month(value) -> str:
    """'juni 2027': a month without a day number (an origin figure holds no small numbers)."""
    from babel.dates import format_date as babel_date

    return babel_date(pd.Timestamp(value).date(), format="MMMM y", locale="nl_NL")


def _count(value: float) -> int:
    """A count of persons as shown: a whole number, rounded half up."""
    return int(np.floor(float(value) + 0.5))


def _visiting_shortage(buurten: gpd.GeoDataFrame, provisions: gpd.GeoDataFrame,
                       ptype: str = DEMO_AGENDA_SHORTAGE_TYPE) -> pd.Series:
    """The shortage of a visiting service per buurt (persons), by area_code, as the gap page computes it.

    Need = :data:`VISIT_NEED_PER_WIDOWED` × inhabitants × % widowed / 100 (none in water buurten); supply is the
    step 2SFCA accessibility A of the running provisions of the type (the definitions of :mod:`data.reach`); the
    shortage is need × max(0, 1 − A). This is :func:`mapping.gaps.gaps_from_need_and_supply` with decay 'step' for
    this type, written here from the generator's own data because ``data/`` does not import ``mapping/``.
    """
    from data.reach import buurt_xy, catchment_pairs, effective_reach_m, is_running, supply_per_year

    water = buurten["water"].fillna(False).astype(bool).to_numpy()
    need = (VISIT_NEED_PER_WIDOWED * buurten["aantal_inwoners"] * buurten["percentage_verweduwd"] / 100).to_numpy(
        dtype=float)
    need = np.where(water, np.nan, need)
    running = provisions.loc[(provisions["type"] == ptype).to_numpy() & is_running(provisions)]
    xy = buurt_xy(buurten)
    reach = effective_reach_m(running)
    i, j, _ = catchment_pairs(xy, np.c_[running.geometry.x, running.geometry.y], reach)
    served = np.bincount(j, weights=np.nan_to_num(need)[i], minlength=len(running))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(served > 0, supply_per_year(running) / served, 0.0)
    access = np.bincount(i, weights=ratio[j], minlength=len(buurten))
    return pd.Series(need * np.clip(1 - access, 0, 1), index=buurten["area_code"].to_numpy())


def _signal_shares(persons: pd.DataFrame) -> pd.DataFrame:
    """Per buurt: screened persons (all six LSNS-6 items) and those with LSNS-6 below 12 (a poor-network signal)."""
    lsns = persons[[f"lsns_{i}" for i in range(1, 7)]].astype("float64").sum(axis=1, min_count=6)
    frame = pd.DataFrame({"buurt_code": persons["buurt_code"].to_numpy(), "screened": lsns.notna().to_numpy(),
                          "signal": (lsns < 12).to_numpy()})
    return frame.groupby("buurt_code")[["screened", "signal"]].sum()


def _point_in(rng: np.random.Generator, geometry: shapely.Geometry) -> shapely.Point:
    inner = geometry.buffer(-30)
    return shapely.Point(_points_in(rng, inner if not inner.is_empty else geometry, 1, 0)[0])


def _demo_agenda(rng: np.random.Generator, buurten: gpd.GeoDataFrame, wijken: pd.DataFrame,
                 provisions: gpd.GeoDataFrame, persons: pd.DataFrame) -> dict:
    """The wijkagenda of the demo: items with links and updates, residents' initiatives and key figures.

    For each wijk of :data:`DEMO_AGENDA_WIJKEN` the items of ``_AGENDA_PLAN`` are made from the demo's own figures:
    the 'tekort' item points at the buurt with the largest shortage of :data:`DEMO_AGENDA_SHORTAGE_TYPE` in the wijk
    (:func:`_visiting_shortage`), the 'signaal' item at the buurt with the largest share of screened residents with
    LSNS-6 below 12 (at least :data:`SIGNAL_MIN_SCREENED` screened), the provision items at the wijk's provisions
    under pressure or stopped. Every origin_figure is an aggregate as the pages show it (whole persons, shares in
    whole percent of a count rounded to 5, no day numbers); an item whose figure would hold fewer than
    :data:`DEMO_AGENDA_MIN_COUNT` persons, or whose provision is absent, is left out. No person id anywhere.
    """
    from data.provision_types import PROVISION_TYPES as types

    shortage = _visiting_shortage(buurten, provisions)
    signals = _signal_shares(persons)
    names = buurten.set_index("area_code")["name"]
    geoms = buurten.set_index("area_code").geometry
    xy = pd.DataFrame(np.c_[buurten.geometry.representative_point().x, buurten.geometry.representative_point().y],
                      index=buurten["area_code"].to_numpy(), columns=["x", "y"])
    wijk_names = wijken.set_index("area_code")["name"]
    measured_year = int(pd.to_datetime(persons["measured_on"]).dt.year.max())
    label = types[DEMO_AGENDA_SHORTAGE_TYPE].label.lower()
    stamp = "%Y-%m-%dT%H:%M:%S.000000Z"

    def in_wijk(codes: pd.Series, wijk: str) -> np.ndarray:
        return codes.astype(str).str[2:8].eq(wijk[2:]).to_numpy()

    # What each wijk's items are about.
    context = {}
    for wijk in DEMO_AGENDA_WIJKEN:
        own = provisions.loc[in_wijk(provisions["buurt_code"], wijk)]
        gaps = shortage.loc[in_wijk(pd.Series(shortage.index), wijk)].dropna()
        top = gaps.idxmax() if len(gaps) and _count(gaps.max()) >= DEMO_AGENDA_MIN_COUNT else None
        shares = signals.loc[in_wijk(pd.Series(signals.index), wijk)]
        shares = shares.loc[(shares["screened"] >= SIGNAL_MIN_SCREENED) & (shares["signal"] >= DEMO_AGENDA_MIN_COUNT)]
        signal = (shares["signal"] / shares["screened"]).idxmax() if len(shares) else None
        risky = own.loc[own["status"] == "onder_druk"].assign(first=lambda f: f["type"] != DEMO_AGENDA_SHORTAGE_TYPE)
        risky = risky.sort_values(["first", "funding_end", "provision_id"])
        stopped = own.loc[own["status"] == "gestopt"].assign(
            first=lambda f: f["type"] != "buurthuis").sort_values(["first", "provision_id"])
        houses = own.loc[(own["type"] == "buurthuis") & (own["status"] != "gestopt")].sort_values(
            ["capacity_per_year", "provision_id"], ascending=[False, True])
        visiting = provisions.loc[(provisions["type"] == DEMO_AGENDA_SHORTAGE_TYPE).to_numpy()
                                  & (provisions["status"] != "gestopt").to_numpy()]
        near = None
        if top is not None and len(visiting):
            d = np.hypot(visiting.geometry.x - xy.at[top, "x"], visiting.geometry.y - xy.at[top, "y"])
            near = visiting.iloc[int(np.argmin(d.to_numpy()))] if (d <= visiting["reach_m"]).any() else None
        opbouw = own.loc[own["type"] == "opbouwwerk", "organisation"]
        stopped_visit = sorted(own.loc[(own["type"] == DEMO_AGENDA_SHORTAGE_TYPE) & (own["status"] == "gestopt"),
                                       "provision_id"])
        context[wijk] = {"top": top, "gaps": gaps, "signal": signal, "shares": shares,
                         "risky": risky.iloc[0] if len(risky) else None,
                         "stopped": stopped.iloc[0] if len(stopped) else None,
                         "house": houses.iloc[0] if len(houses) else None, "near": near,
                         "stopped_visit": stopped_visit,
                         "opbouw": opbouw.iloc[0] if len(opbouw) else "Welzijn Voorbeeldstad"}

    # Residents' initiatives: a dinner table where the shortage is largest and a living room where the signals are
    # (Kanaalzone), a coffee morning where a buurthuis closed (Centrum).
    initiatives, initiative_of = [], {}
    first, second = (context[w] for w in DEMO_AGENDA_WIJKEN)
    plans = []
    if first["top"] is not None:
        org = first["near"]["organisation"] if first["near"] is not None else "Humanitas Voorbeeldstad"
        plans.append(("tekort", DEMO_AGENDA_WIJKEN[0], first["top"], f"Eettafel {names[first['top']]}",
                      "Eens per week samen koken en eten, voor bewoners die alleen zijn komen te staan.", "loopt",
                      "Vrijwilligers die willen koken en vervoer voor wie slecht ter been is.", str(org)))
    if first["signal"] is not None:
        plans.append(("signaal", DEMO_AGENDA_WIJKEN[0], first["signal"], f"Huiskamer {names[first['signal']]}",
                      "Bewoners willen twee ochtenden per week een open huiskamer: koffie, een praatje, samen iets "
                      "ondernemen.", "idee", "Een ruimte op de begane grond en een kleine startsubsidie.",
                      f"{first['opbouw']} (opbouwwerk)"))
    if second["stopped"] is not None:
        where = second["stopped"]["buurt_code"]
        plans.append(("gestopt", DEMO_AGENDA_WIJKEN[1], where, f"Koffieochtend {names[where]}",
                      f"Buurtbewoners houden een wekelijkse koffieochtend nu {second['stopped']['name']} dicht is.",
                      "loopt", "Een vaste ruimte en een bijdrage in de huur.", f"{second['opbouw']} (opbouwwerk)"))
    for k, (kind, wijk, buurt, name, what, status, support, org) in enumerate(plans, 1):
        initiative_id = f"IN-{k:04d}"
        initiative_of[(wijk, kind)] = initiative_id
        initiatives.append({"initiative_id": initiative_id, "name": name, "what": what, "buurt_code": buurt,
                            "status": status, "support_asked": support, "contact_organisation": org,
                            "created_by": DEMO_AGENDA_USERS["opbouwwerker"],
                            "created_at": (pd.Timestamp("2026-06-15") + pd.Timedelta(days=int(rng.integers(0, 60)),
                                                                                      hours=10)).strftime(stamp),
                            "version": 1, "geometry": _point_in(rng, geoms[buurt])})

    def provision_figure(p) -> str:
        state = ("gestopt, financiering liep af in " if p["status"] == "gestopt"
                 else "onder druk, financiering tot ")
        text = f"{p['name']} ({types[p['type']].label.lower()}): {state}{_month(p['funding_end'])}"
        if pd.notna(p["capacity_per_year"]) and p["capacity_per_year"] >= DEMO_AGENDA_MIN_COUNT:
            text += f"; {format_number(p['capacity_per_year'])} {types[p['type']].capacity_unit}"
        return text

    items, links, updates = [], [], []
    for wijk in DEMO_AGENDA_WIJKEN:
        c, wname = context[wijk], wijk_names[wijk]
        for kind, owner, status in _AGENDA_PLAN[wijk]:
            item_links: list[tuple[str, str]] = []
            if kind == "tekort":
                if c["top"] is None or _count(c["gaps"].sum()) < DEMO_AGENDA_MIN_COUNT:
                    continue
                buurt = names[c["top"]]
                title = f"Bezoekvrijwilligers werven voor {buurt}"
                aim = (f"Meer verweduwde bewoners in {buurt} een bezoekvrijwilliger bieden: vrijwilligers met eigen "
                       "ervaring werven en trainen, samen met de bezoekdienst.")
                origin, figure = "tekort", (f"Tekort {label} in {buurt}: {format_number(_count(c['gaps'][c['top']]))} "
                                            f"personen (in {wname}: {format_number(_count(c['gaps'].sum()))}); "
                                            f"{DEMO_YEAR}")
                item_links += [("buurt", c["top"]), ("tekort", DEMO_AGENDA_SHORTAGE_TYPE)]
                item_links += [("voorziening", p["provision_id"]) for p in (c["near"],) if p is not None]
                item_links += [("voorziening", v) for v in c["stopped_visit"]]
            elif kind in ("onder_druk", "gestopt"):
                p = c["risky"] if kind == "onder_druk" else c["stopped"]
                if p is None:
                    continue
                if kind == "onder_druk":
                    title = f"Toekomst van {p['name']} na {_month(p['funding_end'])}"
                    aim = (f"Met de gemeente en {p['organisation']} afspraken maken over de financiering, zodat het "
                           "aanbod in de wijk niet wegvalt.")
                else:
                    title = f"Ontmoeting in {names[p['buurt_code']]} na het stoppen van {p['name']}"
                    aim = ("Bewoners een ontmoetingsplek houden: het bewonersinitiatief steunen en een vaste ruimte "
                           "zoeken.")
                origin, figure = "voorziening", provision_figure(p)
                item_links += [("voorziening", p["provision_id"]), ("buurt", p["buurt_code"])]
            elif kind == "signaal":
                if c["signal"] is None:
                    continue
                buurt, row = names[c["signal"]], c["shares"].loc[c["signal"]]
                all_rows = signals.loc[in_wijk(pd.Series(signals.index), wijk)].sum()
                title = (f"Samen met bewoners een huiskamer in {buurt}" if (wijk, "signaal") in initiative_of else
                         f"Signalen van arme netwerken in {buurt} bespreken met de huisartsen")
                aim = ("Bewoners met een klein netwerk in groepen en ontmoeting opnemen, in plaats van ieder apart "
                       "te helpen.")
                origin = "signaal"
                figure = (f"Signaal arm netwerk (LSNS-6 onder 12) in {buurt}: "
                          f"{format_number(100 * row['signal'] / row['screened'])}% van circa "
                          f"{format_number(round_to_five([row['screened']]).iloc[0])} gescreende bewoners (in {wname}: "
                          f"{format_number(100 * all_rows['signal'] / all_rows['screened'])}%); {measured_year}")
                item_links.append(("buurt", c["signal"]))
            elif kind == "ontmoeting":
                if c["house"] is None:
                    continue
                title = f"Inloopmiddag van het wijkteam in {c['house']['name']}"
                aim = "Een vaste middag waarop bewoners zonder afspraak binnen kunnen lopen bij het wijkteam."
                origin, figure = "handmatig", None
                item_links += [("voorziening", c["house"]["provision_id"]), ("buurt", c["house"]["buurt_code"])]
            else:  # sleutelfiguren
                title = f"Kennismaken met de sleutelfiguren van {wname}"
                aim = "Weten wie er in de wijk toe doet, zodat signalen en initiatieven sneller bij het team komen."
                origin, figure = "handmatig", None
                item_links += [("buurt", b) for b in (c["signal"], c["top"]) if b is not None]
            if (wijk, kind) in initiative_of:
                item_links.append(("initiatief", initiative_of[(wijk, kind)]))
            item_id = f"AG-{len(items) + 1:04d}"
            lo, hi, days = _AGENDA_DATES[status]
            starts = pd.Timestamp(lo) + pd.Timedelta(days=int(rng.integers(0, (pd.Timestamp(hi) - pd.Timestamp(lo)).days
                                                                             + 1)))
            due = starts + pd.Timedelta(days=days)
            # The history: made in the summer, planned in the triangle meeting (by the gebiedsverbinder), started on
            # the start date and finished after the due date, by the owning team; all before FOLLOWUP_REFERENCE.
            moments = [pd.Timestamp("2026-06-01") + pd.Timedelta(days=int(rng.integers(0, 75)))]
            for step in _AGENDA_PATHS[status][1:]:
                after = moments[-1] + pd.Timedelta(days=int(rng.integers(14, 36)))
                on = {"loopt": starts + pd.Timedelta(days=int(rng.integers(0, 8))),
                      "afgerond": due + pd.Timedelta(days=int(rng.integers(0, 6)))}.get(step, after)
                moments.append(max(on, moments[-1] + pd.Timedelta(days=1)))
            for k, (step, at) in enumerate(zip(_AGENDA_PATHS[status], moments, strict=True)):
                role = "gebiedsverbinder" if step == "gepland" and k > 0 else owner
                updates.append({"item_id": item_id, "at": (at + pd.Timedelta(hours=9 + k)).strftime(stamp),
                                "user": DEMO_AGENDA_USERS[role], "role": role, "status": step,
                                "note": _AGENDA_NOTES[kind]["nieuw" if k == 0 else step]})
            history = updates[-len(moments):]
            items.append({"item_id": item_id, "wijk_code": wijk, "title": title, "aim": aim, "owner_role": owner,
                          "status": status, "starts_on": starts, "due_on": due, "origin_kind": origin,
                          "origin_figure": figure, "created_by": history[0]["user"], "created_at": history[0]["at"],
                          "updated_by": history[-1]["user"], "updated_at": history[-1]["at"],
                          "version": len(history)})
            links += [{"item_id": item_id, "kind": kind_, "target": target}
                      for kind_, target in dict.fromkeys(item_links)]

    # Key figures by role and organisation; only the chair of the residents' committee consented to her name.
    figures = []
    if first["signal"] is not None:
        figures.append(("voorzitter bewonerscommissie", f"Bewonerscommissie {names[first['signal']]}",
                        DEMO_AGENDA_WIJKEN[0], first["signal"], "Ria Bakker"))
    figures.append(("imam", "Stichting Moskee Kanaalzone", DEMO_AGENDA_WIJKEN[0], None, None))
    if first["top"] is not None:
        figures.append(("huisarts", f"Gezondheidscentrum {names[first['top']]}", DEMO_AGENDA_WIJKEN[0], first["top"],
                        None))
    if second["stopped"] is not None:
        figures.append(("buurtconciërge", "Woningcorporatie Vallei Wonen", DEMO_AGENDA_WIJKEN[1],
                        second["stopped"]["buurt_code"], None))
    key_figures = pd.DataFrame([
        {"figure_id": f"SF-{k:04d}", "role_label": role, "organisation": org, "wijk_code": wijk, "buurt_code": buurt,
         "name": name, "consent_name": name is not None, "created_by": DEMO_AGENDA_USERS["gebiedsverbinder"],
         "created_at": (pd.Timestamp("2026-09-20T11:00") + pd.Timedelta(days=3 * k)).strftime(stamp), "version": 1}
        for k, (role, org, wijk, buurt, name) in enumerate(figures, 1)], columns=TABLES["key_figures"].column_names)

    def frame(name: str, rows: list) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=TABLES[name].column_names)

    items_frame = frame("agenda_items", items)
    for col in ("starts_on", "due_on"):
        items_frame[col] = pd.to_datetime(items_frame[col])
    layer = gpd.GeoDataFrame(pd.DataFrame(initiatives, columns=[*TABLES["initiatives"].column_names, "geometry"]),
                             geometry="geometry", crs=CRS_EPSG)
    return {"agenda_items": items_frame, "agenda_links": frame("agenda_links", links),
            "agenda_updates": frame("agenda_updates", updates), "initiatives": layer, "key_figures": key_figures}


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
        persons, ties and participation, the follow-up cohorts (measurements, networks per
        moment, aftercare plans and contacts; see the module docstring and :data:`FOLLOWUP_EFFECTS`)
        and the wijkagenda of two wijken (items, links, updates, initiatives, key figures; see
        :func:`_demo_agenda`), all in the store's columns.
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
    # The follow-up cohorts draw from their own generator: the rest of the demo stays as it was.
    followup = _demo_followup(np.random.default_rng(seed + 16), persons, ties, participation, provisions, buurten)
    # So does the wijkagenda (seed + 17): it only reads what is drawn above.
    agenda = _demo_agenda(np.random.default_rng(seed + 17), buurten, areas.loc[areas["level"] == "wijk"], provisions,
                          persons)
    return DemoData(areas, values, provisions, persons, ties, followup["participation"],
                    raw.drop(columns=["character"]), alter_links, measurements=followup["measurements"],
                    followup_ties=followup["followup_ties"], aftercare_plans=followup["aftercare_plans"],
                    aftercare_contacts=followup["aftercare_contacts"], **agenda)


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

    from data.postgis import PostgisStore, is_postgres_url

    if is_postgres_url(str(path)):  # the demo in a database of its own (never in a municipality's)
        if replace:
            PostgisStore(str(path)).drop_all()
        PostgisStore.create_new(str(path), fill=fill)
        return PostgisStore.open(str(path), create=False)
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
