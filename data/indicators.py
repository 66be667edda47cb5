"""Catalogue of key figures (kerncijfers): one harmonised name for every CBS year.

Internal names follow the current CBS wijk- en buurtkaart (GeoPackage, 2022 and later);
``aliases`` lists the abbreviated column names of the older shapefiles/GeoJSON (2015-2021),
matched case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from data.errors import DataValidationError


@dataclass(frozen=True)
class Indicator:
    """One key figure: how to label, format and aggregate it."""

    name: str
    label: str
    unit: str  # shown after the value: "", "%", "× € 1.000", "per km²", "ha"
    decimals: int
    aggregation: str  # "sum" (counts), "weighted_mean" (rates, by `weight`), "none"
    weight: str | None = None  # indicator that is the denominator of a rate
    higher_is_need: bool | None = None
    aliases: tuple[str, ...] = ()
    source: str = "CBS Kerncijfers wijken en buurten"


_INHABITANTS = "aantal_inwoners"
_HOUSEHOLDS = "aantal_part_huishoudens"

CATALOGUE: tuple[Indicator, ...] = (
    Indicator(_INHABITANTS, "Aantal inwoners", "", 0, "sum", aliases=("AANT_INW",)),
    Indicator("mannen", "Mannen", "", 0, "sum", aliases=("AANT_MAN",)),
    Indicator("vrouwen", "Vrouwen", "", 0, "sum", aliases=("AANT_VROUW",)),
    Indicator("percentage_personen_0_tot_15_jaar", "Personen 0 tot 15 jaar", "%", 0,
              "weighted_mean", _INHABITANTS, aliases=("P_00_14_JR",)),
    Indicator("percentage_personen_15_tot_25_jaar", "Personen 15 tot 25 jaar", "%", 0,
              "weighted_mean", _INHABITANTS, aliases=("P_15_24_JR",)),
    Indicator("percentage_personen_25_tot_45_jaar", "Personen 25 tot 45 jaar", "%", 0,
              "weighted_mean", _INHABITANTS, aliases=("P_25_44_JR",)),
    Indicator("percentage_personen_45_tot_65_jaar", "Personen 45 tot 65 jaar", "%", 0,
              "weighted_mean", _INHABITANTS, aliases=("P_45_64_JR",)),
    Indicator("percentage_personen_65_jaar_en_ouder", "Personen 65 jaar en ouder", "%", 0,
              "weighted_mean", _INHABITANTS, True, aliases=("P_65_EO_JR",)),
    Indicator("percentage_ongehuwd", "Ongehuwd", "%", 0, "weighted_mean", _INHABITANTS,
              aliases=("P_ONGEHUWD",)),
    Indicator("percentage_gehuwd", "Gehuwd", "%", 0, "weighted_mean", _INHABITANTS,
              aliases=("P_GEHUWD",)),
    Indicator("percentage_gescheid", "Gescheiden", "%", 0, "weighted_mean", _INHABITANTS, True,
              aliases=("P_GESCHEID",)),
    Indicator("percentage_verweduwd", "Verweduwd", "%", 0, "weighted_mean", _INHABITANTS, True,
              aliases=("P_VERWEDUW",)),
    Indicator("bevolkingsdichtheid_inwoners_per_km2", "Bevolkingsdichtheid", "inwoners per km²",
              0, "none", aliases=("BEV_DICHTH",)),
    Indicator(_HOUSEHOLDS, "Aantal huishoudens", "", 0, "sum", aliases=("AANTAL_HH",)),
    Indicator("percentage_eenpersoonshuishoudens", "Eenpersoonshuishoudens", "%", 0,
              "weighted_mean", _HOUSEHOLDS, True, aliases=("P_EENP_HH",)),
    Indicator("percentage_huishoudens_zonder_kinderen", "Huishoudens zonder kinderen", "%", 0,
              "weighted_mean", _HOUSEHOLDS, aliases=("P_HH_Z_K",)),
    Indicator("percentage_huishoudens_met_kinderen", "Huishoudens met kinderen", "%", 0,
              "weighted_mean", _HOUSEHOLDS, aliases=("P_HH_M_K",)),
    Indicator("gemiddelde_huishoudsgrootte", "Gemiddelde huishoudensgrootte", "personen", 1,
              "weighted_mean", _HOUSEHOLDS, aliases=("GEM_HH_GR",)),
    Indicator("percentage_westerse_migratieachtergrond", "Westerse migratieachtergrond", "%", 0,
              "weighted_mean", _INHABITANTS, aliases=("P_WEST_AL",)),
    Indicator("percentage_niet_westerse_migratieachtergrond",
              "Niet-westerse migratieachtergrond", "%", 0, "weighted_mean", _INHABITANTS,
              aliases=("P_N_W_AL",)),
    Indicator("gemiddeld_inkomen_per_inwoner", "Gemiddeld inkomen per inwoner", "× € 1.000", 1,
              "weighted_mean", _INHABITANTS, False),
    Indicator("percentage_huishoudens_onder_of_rond_sociaal_minimum",
              "Huishoudens onder of rond sociaal minimum", "%", 0, "weighted_mean", _HOUSEHOLDS,
              True),
    Indicator("personen_per_soort_uitkering_bijstand", "Personen met bijstandsuitkering", "", 0,
              "sum", higher_is_need=True, aliases=("WWB_UITTOT",)),
    Indicator("personen_per_soort_uitkering_ao", "Personen met arbeidsongeschiktheidsuitkering",
              "", 0, "sum", higher_is_need=True, aliases=("AO_UIT_TOT",)),
    Indicator("personen_per_soort_uitkering_ww", "Personen met WW-uitkering", "", 0, "sum",
              higher_is_need=True, aliases=("WW_UIT_TOT",)),
    Indicator("personen_per_soort_uitkering_aow", "Personen met AOW-uitkering", "", 0, "sum",
              aliases=("A_SOZ_OW",)),
    Indicator("omgevingsadressendichtheid", "Omgevingsadressendichtheid", "adressen per km²", 0,
              "none", aliases=("OAD",)),
    Indicator("stedelijkheid_adressen_per_km2", "Stedelijkheid (1 = zeer sterk, 5 = niet)", "",
              0, "none", aliases=("STED",)),
    Indicator("oppervlakte_totaal_in_ha", "Oppervlakte totaal", "ha", 0, "sum",
              aliases=("OPP_TOT",)),
    Indicator("oppervlakte_land_in_ha", "Oppervlakte land", "ha", 0, "sum", aliases=("OPP_LAND",)),
    Indicator("oppervlakte_water_in_ha", "Oppervlakte water", "ha", 0, "sum",
              aliases=("OPP_WATER",)),
)

HEALTH_SOURCE = "RIVM/GGD Gezondheidsmonitor (CBS 50120NED)"
# Small-area estimates per buurt with a 95% interval; estimates cannot be summed or averaged
# to wijk level, so their aggregation is 'none' (the monitor publishes every level itself).
HEALTH_MEASURES = {
    "eenzaam": ("Eenzaam", True),
    "ernstig_eenzaam": ("Ernstig of zeer ernstig eenzaam", True),
    "emotioneel_eenzaam": ("Emotioneel eenzaam", True),
    "sociaal_eenzaam": ("Sociaal eenzaam", True),
    "psychische_klachten": ("Hoog risico op angststoornis of depressie", True),
    "mantelzorger": ("Mantelzorger", None),
    "vrijwilligerswerk": ("Doet vrijwilligerswerk", False),
    "moeite_rondkomen": ("Moeite met rondkomen", True),
}
HEALTH_AGES = {"18": "18+", "65": "65+"}
CATALOGUE = CATALOGUE + tuple(
    Indicator(f"gm_{key}_{age}", f"{label} ({age_label})", "%", 0, "none", higher_is_need=need,
              source=HEALTH_SOURCE)
    for age, age_label in HEALTH_AGES.items()
    for key, (label, need) in HEALTH_MEASURES.items()
)

BY_NAME: dict[str, Indicator] = {i.name: i for i in CATALOGUE}

# Status of a rate whose denominator is 0 in that area and year: a share of nobody is no number.
# An area without inhabitants says 'geen inwoners' for all its rates; an inhabited area without
# private households says 'geen huishoudens' for the rates per household.
NO_BASE_STATUS = {_INHABITANTS: "geen_inwoners", _HOUSEHOLDS: "geen_huishoudens"}


def catalogue_frame() -> pd.DataFrame:
    """Return the catalogue as a table (one row per indicator)."""
    return pd.DataFrame(
        {
            "name": [i.name for i in CATALOGUE],
            "label": [i.label for i in CATALOGUE],
            "unit": [i.unit for i in CATALOGUE],
            "decimals": [i.decimals for i in CATALOGUE],
            "aggregation": [i.aggregation for i in CATALOGUE],
            "weight": [i.weight for i in CATALOGUE],
            "higher_is_need": [i.higher_is_need for i in CATALOGUE],
            "source": [i.source for i in CATALOGUE],
        }
    )


def alias_map() -> dict[str, str]:
    """Return {lower-case source column: internal name} for every name and alias."""
    out: dict[str, str] = {}
    for ind in CATALOGUE:
        out[ind.name.lower()] = ind.name
        for alias in ind.aliases:
            out[alias.lower()] = ind.name
    return out


def mask_rates_without_base(values: pd.DataFrame) -> pd.DataFrame:
    """Make every rate of an area and year whose denominator is 0 missing, with its reason.

    A rate (aggregation ``weighted_mean``: shares and averages per inhabitant or household) is
    a share of its denominator, the catalogue's ``weight``. CBS files still carry numbers for
    areas without inhabitants (0% or 100%); they describe nobody. Where the denominator of the
    same area and year is 0, ``value``, ``lower`` and ``upper`` become NaN and ``status`` becomes
    ``geen_inwoners`` (no inhabitants: every rate of the area) or ``geen_huishoudens``
    (inhabitants but no private households: the rates per household). A denominator that is
    missing (secret, unknown) is not 0: those rates are left alone.

    Parameters
    ----------
    values : DataFrame
        Key figures in long form: area_code, indicator, year, value, status and optionally
        lower, upper and other columns (kept as they are).

    Returns
    -------
    DataFrame
        A copy of ``values`` with the rates without a base masked; same rows, same order.

    Raises
    ------
    DataValidationError
        When one of the columns area_code, indicator, year, value, status is missing.
    """
    missing = [c for c in ("area_code", "indicator", "year", "value", "status") if c not in values]
    if missing:
        raise DataValidationError(f"Kolommen ontbreken in de kerncijfers: {', '.join(missing)}.",
                                  column=missing[0])
    out = values.copy()
    if out.empty:
        return out
    weight = out["indicator"].map({i.name: i.weight for i in CATALOGUE
                                   if i.aggregation == "weighted_mean" and i.weight in NO_BASE_STATUS})
    keys = out[["area_code", "year"]].reset_index(drop=True)
    zero = {}
    for base in NO_BASE_STATUS:
        rows = out.loc[out["indicator"] == base, ["area_code", "year", "value"]]
        rows = rows.drop_duplicates(["area_code", "year"], keep="last").rename(columns={"value": "_base"})
        # A left merge on unique keys keeps the rows and their order of ``keys``.
        zero[base] = keys.merge(rows, on=["area_code", "year"], how="left")["_base"].eq(0).to_numpy()
    is_rate = weight.notna().to_numpy()
    per_household = (weight == _HOUSEHOLDS).to_numpy()
    no_inhabitants = is_rate & zero[_INHABITANTS]
    no_households = per_household & zero[_HOUSEHOLDS] & ~no_inhabitants
    masked = no_inhabitants | no_households
    if not masked.any():
        return out
    for col in ("value", "lower", "upper"):
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).mask(masked)
    out.loc[no_inhabitants, "status"] = NO_BASE_STATUS[_INHABITANTS]
    out.loc[no_households, "status"] = NO_BASE_STATUS[_HOUSEHOLDS]
    return out
