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
    # Places (a course round, a visiting service's volunteers) or only visitors (a buurthuis): a type
    # without places never counts as a free place in matching or scenarios.
    has_places: bool = True
    # Places per volunteer per year, for a capacity worked out from the number of volunteers
    # (a bezoekdienst: each volunteer visits one widow(er) for about half a year, so 2 a year).
    places_per_volunteer: float | None = None
    # Follow-up moments, weeks after intake (T0): T1 the end, T2 and T3 the follow-ups; None where the type
    # has no fixed course (the date is then entered with each measurement). And the light aftercare
    # contacts per year after the provision ends (None: the store's default, 4).
    t1_weeks: int | None = None
    t2_weeks: int | None = None
    t3_weeks: int | None = None
    aftercare_per_year: int | None = None

    @property
    def moment_weeks(self) -> dict[str, int | None]:
        """Weeks after T0 per follow-up moment: {'T1': .., 'T2': .., 'T3': ..}."""
        return {"T1": self.t1_weeks, "T2": self.t2_weeks, "T3": self.t3_weeks}


PROVISION_TYPES: dict[str, ProvisionType] = {
    t.code: t
    for t in (
        ProvisionType(
            "bezoekdienst_weduwen", "Bezoekdienst weduwen en weduwnaars",
            "Getrainde vrijwilligers met ervaringskennis bezoeken een weduwe of weduwnaar "
            "1 à 2 keer per maand, ongeveer een half jaar lang.",
            ("verweduwden", "ouderen"), "plaatsen per jaar", 3000, colour="#7b3294",
            places_per_volunteer=2.0,
            # About ten visits over half a year; follow-ups three and twelve months after the last visit.
            t1_weeks=26, t2_weeks=39, t3_weeks=78, aftercare_per_year=4,
        ),
        ProvisionType(
            "grip_en_glans", "Grip & Glans",
            "Groepscursus voor psychosociaal kwetsbare mensen: 8-12 deelnemers, zes wekelijkse "
            "bijeenkomsten en een terugkombijeenkomst; versterkt eigen regie en sociale contacten.",
            ("psychisch_kwetsbaren", "eenzamen", "ouderen"), "plaatsen per jaar", 2500,
            colour="#d95f02",
            # Six weekly meetings (T1 at week 6), the return meeting about three months later (T2), and a
            # follow-up a year after the course (T3).
            t1_weeks=6, t2_weeks=19, t3_weeks=58, aftercare_per_year=4,
        ),
        ProvisionType(
            "jongerenwerk", "Jongerenwerk",
            "Ambulant en accommodatiegebonden werk met jongeren van 12 tot 23 jaar.",
            ("jongeren",), "jongeren per jaar", 1500, colour="#1b9e77", has_places=False,
        ),
        ProvisionType(
            "opbouwwerk", "Opbouwwerk",
            "Ondersteunt bewoners om samen de buurt te verbeteren en collectieve voorzieningen "
            "op te zetten.",
            ("alle_bewoners",), "bewoners per jaar", 2000, colour="#66a61e", has_places=False,
        ),
        ProvisionType(
            "sociaal_cultureel_werk", "Sociaal-cultureel werk",
            "Activiteiten die ontmoeting en meedoen bevorderen.",
            ("alle_bewoners", "ouderen", "eenzamen"), "deelnemers per jaar", 1500,
            colour="#e6ab02", has_places=False,
        ),
        ProvisionType(
            "buurthuis", "Buurthuis / ontmoetingsplek",
            "Vrij toegankelijke ontmoetingsplek in de buurt.",
            ("alle_bewoners", "ouderen", "eenzamen"), "bezoekers per jaar", 1000,
            colour="#1f78b4", has_places=False,
        ),
        ProvisionType(
            "maatjesproject", "Maatjesproject",
            "Een vrijwilliger trekt een jaar lang op met iemand met een klein netwerk.",
            ("eenzamen", "psychisch_kwetsbaren"), "koppelingen per jaar", 5000, colour="#e7298a",
            places_per_volunteer=1.0,
            t1_weeks=52, t2_weeks=65, t3_weeks=104, aftercare_per_year=4,
        ),
        ProvisionType(
            "mantelzorgondersteuning", "Mantelzorgondersteuning",
            "Informatie, lotgenotencontact en respijtzorg voor mantelzorgers.",
            ("mantelzorgers",), "mantelzorgers per jaar", 5000, colour="#a6761d", has_places=False,
        ),
        ProvisionType(
            "inloop_armoede_schulden", "Inloop armoede en schulden",
            "Laagdrempelig spreekuur voor geldzaken, formulieren en schulden.",
            ("lage_inkomens",), "bezoekers per jaar", 2500, colour="#666666", has_places=False,
        ),
    )
}


def catalogue_frame(types: dict[str, ProvisionType] | None = None) -> pd.DataFrame:
    """The catalogue as a table in the store's columns."""
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
        "has_places": [int(t.has_places) for t in types.values()],
        "places_per_volunteer": [t.places_per_volunteer for t in types.values()],
        **{f"{m}_weeks": [getattr(t, f"{m}_weeks") for t in types.values()] for m in ("t1", "t2", "t3")},
        "aftercare_per_year": [t.aftercare_per_year for t in types.values()],
    })


def _int_or_none(value) -> int | None:
    return int(value) if value is not None and pd.notna(value) else None


def types_from_frame(frame) -> dict[str, ProvisionType]:
    """Build the catalogue from the store's table (defaults first, then the user's own)."""
    return {
        str(r.code): ProvisionType(
            str(r.code), str(r.label), str(r.description or ""),
            tuple(g for g in str(r.target_groups or "").split(";") if g),
            str(r.capacity_unit or "deelnemers per jaar"), int(r.default_reach_m),
            bool(r.collective), bool(r.preventive), str(r.colour or "#555555"),
            bool(r.has_places) if pd.notna(r.has_places) else True,
            float(r.places_per_volunteer) if pd.notna(r.places_per_volunteer) else None,
            *(_int_or_none(getattr(r, c, None)) for c in ("t1_weeks", "t2_weeks", "t3_weeks", "aftercare_per_year")),
        )
        for r in frame.itertuples(index=False)
    }


# What a signalled person needs, derived from the signal and the person's life events
# (see graphs.signals.need_categories); the suitability table says which types fit each need.
NEEDS = {
    "verweduwd": "verweduwd (verlies van de partner)",
    "emotioneel": "emotionele eenzaamheid of niemand voor emotionele steun",
    "sociaal": "sociale eenzaamheid of een klein netwerk",
}

# Which provision type fits which need, from practice (Movisie): bereavement is met by a visiting
# service of people with lived experience, emotional loneliness by a one-to-one bond (maatje), social
# loneliness by groups that build networks. A buurthuis is open to all but is no substitute for a
# bereavement visit.
DEFAULT_SUITABILITY: dict[str, tuple[str, ...]] = {
    "bezoekdienst_weduwen": ("verweduwd",),
    "maatjesproject": ("emotioneel",),
    "grip_en_glans": ("sociaal",),
    "sociaal_cultureel_werk": ("sociaal",),
    "buurthuis": ("sociaal",),
}


def suitability_frame(table: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """The suitability table as store rows (type, need), sorted."""
    table = DEFAULT_SUITABILITY if table is None else table
    rows = sorted((t, n) for t, needs in table.items() for n in needs)
    return pd.DataFrame(rows, columns=["type", "need"])


def suitability_from_frame(frame: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """The store's rows as {type: needs}, needs in the order of :data:`NEEDS`."""
    order = {n: k for k, n in enumerate(NEEDS)}
    out: dict[str, list[str]] = {}
    for ptype, need in zip(frame["type"].astype(str), frame["need"].astype(str), strict=True):
        out.setdefault(ptype, []).append(need)
    return {t: tuple(sorted(set(n), key=lambda x: order.get(x, len(order)))) for t, n in sorted(out.items())}


def check_new_type(ptype: ProvisionType, known) -> None:
    """Refuse a new catalogue entry with a clear Dutch message: its code, name and target groups, and a code that
    is in ``known`` (the catalogue of the store) already."""
    import re

    from data.errors import DataValidationError

    if not re.fullmatch(r"[a-z][a-z0-9_]{2,40}", ptype.code or ""):
        raise DataValidationError("De code van een soort bestaat uit kleine letters, cijfers en _ "
                                  "(3 tot 40 tekens), bijvoorbeeld 'taalcafe'.", column="code")
    if not ptype.label.strip():
        raise DataValidationError("Geef de soort een naam.", column="label")
    unknown = [g for g in ptype.target_groups if g not in TARGET_GROUPS]
    if unknown:
        raise DataValidationError(f"Onbekende doelgroep(en): {', '.join(unknown)}.", column="target_groups")
    if ptype.code in known:
        raise DataValidationError(f"Soort '{ptype.code}' bestaat al.", column="code")
