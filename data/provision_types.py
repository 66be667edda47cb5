"""Catalogue of collective, preventive provision types, with defaults taken from practice."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

TARGET_GROUPS = {
    "alle_bewoners": "alle bewoners",
    "ouderen": "ouderen (65+)",
    "verweduwden": "weduwen en weduwnaars",
    "jongeren": "jongeren (12-23)",
    "gezinnen": "gezinnen met kinderen",
    "mantelzorgers": "mantelzorgers",
    "psychisch_kwetsbaren": "psychisch kwetsbaren",
    "eenzamen": "mensen die zich eenzaam voelen",
    "lage_inkomens": "mensen met een laag inkomen of schulden",
}


@dataclass(frozen=True)
class ProvisionType:
    """A kind of collective provision and its defaults."""

    code: str
    label: str
    description: str
    target_groups: tuple[str, ...]
    capacity_unit: str
    default_reach_m: int
    collective: bool = True
    preventive: bool = True
    colour: str = "#555555"


PROVISION_TYPES: dict[str, ProvisionType] = {
    t.code: t
    for t in (
        ProvisionType(
            "bezoekdienst_weduwen", "Bezoekdienst weduwen en weduwnaars",
            "Getrainde vrijwilligers met ervaringskennis bezoeken een weduwe of weduwnaar "
            "1 à 2 keer per maand, ongeveer een half jaar lang.",
            ("verweduwden", "ouderen"), "personen per jaar", 3000, colour="#7b3294",
        ),
        ProvisionType(
            "grip_en_glans", "Grip & Glans",
            "Groepscursus voor psychosociaal kwetsbare mensen: 8-12 deelnemers, zes wekelijkse "
            "bijeenkomsten en een terugkombijeenkomst; versterkt eigen regie en sociale contacten.",
            ("psychisch_kwetsbaren", "eenzamen", "ouderen"), "plaatsen per jaar", 2500,
            colour="#d95f02",
        ),
        ProvisionType(
            "jongerenwerk", "Jongerenwerk",
            "Ambulant en accommodatiegebonden werk met jongeren van 12 tot 23 jaar.",
            ("jongeren",), "jongeren per jaar", 1500, colour="#1b9e77",
        ),
        ProvisionType(
            "opbouwwerk", "Opbouwwerk",
            "Ondersteunt bewoners om samen de buurt te verbeteren en collectieve voorzieningen "
            "op te zetten.",
            ("alle_bewoners",), "bewoners per jaar", 2000, colour="#66a61e",
        ),
        ProvisionType(
            "sociaal_cultureel_werk", "Sociaal-cultureel werk",
            "Activiteiten die ontmoeting en meedoen bevorderen.",
            ("alle_bewoners", "ouderen", "eenzamen"), "deelnemers per jaar", 1500,
            colour="#e6ab02",
        ),
        ProvisionType(
            "buurthuis", "Buurthuis / ontmoetingsplek",
            "Vrij toegankelijke ontmoetingsplek in de buurt.",
            ("alle_bewoners", "ouderen", "eenzamen"), "bezoekers per jaar", 1000,
            colour="#1f78b4",
        ),
        ProvisionType(
            "maatjesproject", "Maatjesproject",
            "Een vrijwilliger trekt een jaar lang op met iemand met een klein netwerk.",
            ("eenzamen", "psychisch_kwetsbaren"), "koppelingen per jaar", 5000, colour="#e7298a",
        ),
        ProvisionType(
            "mantelzorgondersteuning", "Mantelzorgondersteuning",
            "Informatie, lotgenotencontact en respijtzorg voor mantelzorgers.",
            ("mantelzorgers",), "mantelzorgers per jaar", 5000, colour="#a6761d",
        ),
        ProvisionType(
            "inloop_armoede_schulden", "Inloop armoede en schulden",
            "Laagdrempelig spreekuur voor geldzaken, formulieren en schulden.",
            ("lage_inkomens",), "bezoekers per jaar", 2500, colour="#666666",
        ),
    )
}


def catalogue_frame(types: dict[str, ProvisionType] | None = None) -> pd.DataFrame:
    """The catalogue as a table in the store's columns."""
    import pandas as pd

    types = PROVISION_TYPES if types is None else types
    return pd.DataFrame({
        "code": list(types),
        "label": [t.label for t in types.values()],
        "description": [t.description for t in types.values()],
        "target_groups": [";".join(t.target_groups) for t in types.values()],
        "capacity_unit": [t.capacity_unit for t in types.values()],
        "default_reach_m": [float(t.default_reach_m) for t in types.values()],
        "collective": [int(t.collective) for t in types.values()],
        "preventive": [int(t.preventive) for t in types.values()],
        "colour": [t.colour for t in types.values()],
    })


def types_from_frame(frame) -> dict[str, ProvisionType]:
    """Build the catalogue from the store's table (defaults first, then the user's own)."""
    return {
        str(r.code): ProvisionType(
            str(r.code), str(r.label), str(r.description or ""),
            tuple(g for g in str(r.target_groups or "").split(";") if g),
            str(r.capacity_unit or "deelnemers per jaar"), int(r.default_reach_m),
            bool(r.collective), bool(r.preventive), str(r.colour or "#555555"),
        )
        for r in frame.itertuples(index=False)
    }
