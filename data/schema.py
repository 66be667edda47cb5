"""Tables of the store, their columns and the coded values they may hold.

One place for the data model of DESIGN.md; the store builds its DDL from here and
validation in ``data/`` checks input against the same lists.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 10
CRS_EPSG = 28992  # RD New: every geometry in the store is in metres

AREA_LEVELS = ("gemeente", "wijk", "buurt")
PROVISION_STATUSES = {"actief": "actief", "onder_druk": "onder druk", "gestopt": "gestopt"}
AGE_BANDS = ("18-29", "30-44", "45-64", "65-74", "75-84", "85+")
HOUSEHOLD_TYPES = {
    "alleenstaand": "alleenstaand",
    "paar_zonder_kinderen": "paar zonder kinderen",
    "paar_met_kinderen": "paar met kinderen",
    "eenouder": "eenoudergezin",
    "overig": "overig",
}
ROLES = {
    "partner": "partner",
    "ouder": "ouder",
    "kind": "kind",
    "familie": "familie",
    "vriend": "vriend(in)",
    "buur": "buur",
    "collega": "collega",
    "vrijwilliger": "vrijwilliger",
    "professional": "professional",
    "groepsgenoot": "groepsgenoot",
    "kerk_vereniging": "kerk/vereniging",
    "anders": "anders",
}
KIN_ROLES = ("partner", "ouder", "kind", "familie")
SUPPORT_TYPES = {
    "practical": "praktisch",
    "emotional": "emotioneel",
    "informational": "informatief",
    "companionship": "gezelschap",
}
CONTACT_FREQUENCIES = {
    "dagelijks": "dagelijks",
    "wekelijks": "wekelijks",
    "tweewekelijks": "tweewekelijks",
    "maandelijks": "maandelijks",
    "minder": "minder dan maandelijks",
}
DJG_ANSWERS = ("ja", "min of meer", "nee")
PARTICIPATION_ROLES = ("deelnemer", "vrijwilliger")
# Why a key figure is missing; 'geen_inwoners'/'geen_huishoudens': a rate whose denominator is 0
# (set when reading, see data.indicators.mask_rates_without_base).
VALUE_STATUSES = {"geheim": "geheim", "onbekend": "onbekend", "geen_inwoners": "geen inwoners",
                  "geen_huishoudens": "geen huishoudens"}
# Version 9: follow-up of participants. Measurement moments: intake, end, and two follow-ups.
MOMENTS = {"T0": "intake (T0)", "T1": "einde (T1)", "T2": "follow-up 1 (T2)", "T3": "follow-up 2 (T3)"}
STUDY_GROUPS = {"deelnemer": "deelnemer", "vergelijking": "vergelijkingsgroep"}
# Aftercare (nazorg): light contacts after a provision or wijkteam support ends. No free text about the
# person anywhere: who made the contact is a role, the outcome a code.
AFTERCARE_REASONS = {"voorziening": "na een voorziening", "wijkteam": "na ondersteuning door het wijkteam"}
AFTERCARE_STATUSES = {"actief": "actief", "afgerond": "afgerond", "gestopt": "gestopt"}
AFTERCARE_ROLES = {
    "wijkteam": "wijkteammedewerker",
    "vrijwilliger": "vrijwilliger",
    "opbouwwerk": "opbouwwerker",
    "welzijn": "welzijnswerker",
    "praktijkondersteuner": "praktijkondersteuner huisarts",
}
AFTERCARE_OUTCOMES = {
    "gaat_goed": "gaat goed",
    "lichte_zorg": "lichte zorg, redt zich",
    "terug_naar_wijkteam": "signaal: terug naar het wijkteam",
    "doorverwezen": "doorverwezen naar een voorziening",
    "niet_bereikt": "niet bereikt",
    "wil_geen_contact": "wil geen contact meer",
}
# Version 10: the wijkagenda (issue 17). Items are collective actions; they carry aggregate figures only.
AGENDA_STATUSES = {"idee": "idee", "gepland": "gepland", "loopt": "loopt", "afgerond": "afgerond", "gestopt": "gestopt"}
AGENDA_OWNERS = {"gebiedsverbinder": "gebiedsverbinder", "opbouwwerker": "opbouwwerk", "wijkteam": "wijkteam"}
AGENDA_ORIGINS = {"handmatig": "zelf ingevoerd", "tekort": "tekort (witte vlek)", "hotspot": "cluster van tekorten",
                  "signaal": "aandeel met een signaal van een arm netwerk", "voorziening": "voorziening in gevaar",
                  "profiel": "valt op in het profiel"}
AGENDA_LINK_KINDS = {"buurt": "buurt", "voorziening": "voorziening", "initiatief": "bewonersinitiatief",
                     "tekort": "tekort (soort voorziening)"}
INITIATIVE_STATUSES = {"idee": "idee", "loopt": "loopt", "gestopt": "gestopt"}
AGENDA_NOTE_MAX = 280  # an update is a short line about the action, never about a person
DEFAULT_AFTERCARE_PER_YEAR = 4
DEFAULT_AFTERCARE_MONTHS = 12


@dataclass(frozen=True)
class Table:
    """One table of the store: attribute table or feature layer (with a geometry column)."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (column, SQL type with constraints)
    geometry_type: str | None = None  # GeoPackage geometry type name, None for attributes
    description: str = ""
    unique: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "areas",
            (
                ("area_code", "TEXT NOT NULL"),
                ("name", "TEXT NOT NULL"),
                ("level", "TEXT NOT NULL"),
                ("wijk_code", "TEXT"),
                ("gemeente_code", "TEXT NOT NULL"),
                ("gemeente_name", "TEXT"),
                ("year", "INTEGER"),
                ("water", "INTEGER NOT NULL DEFAULT 0"),
                # Version 8: CBS's "meest voorkomende postcode" (PC4) of a buurt; NULL when absent or secret.
                ("postcode", "TEXT"),
            ),
            geometry_type="MULTIPOLYGON",
            description="CBS-gemeenten, -wijken en -buurten (EPSG:28992)",
            unique=("area_code",),
        ),
        Table(
            "area_values",
            (
                ("area_code", "TEXT NOT NULL"),
                ("indicator", "TEXT NOT NULL"),
                ("year", "INTEGER"),
                ("value", "REAL"),
                ("lower", "REAL"),
                ("upper", "REAL"),
                ("status", "TEXT"),
                ("source", "TEXT"),
            ),
            description="Kerncijfers per gebied; status 'geheim'/'onbekend' waar de waarde ontbreekt",
            unique=("area_code", "indicator", "year"),
        ),
        Table(
            "postcodes",
            (
                ("postcode", "TEXT NOT NULL"),  # PC6 as '1234AB'
                ("buurt_code", "TEXT NOT NULL"),
                ("year", "INTEGER"),
                ("source", "TEXT"),
            ),
            description="Postcode (PC6) -> buurt, uit de CBS-tabel 'Buurt, wijk en gemeente voor postcode en "
                        "huisnummer' (versie 8)",
            unique=("postcode",),
        ),
        Table(
            "provisions",
            (
                ("provision_id", "TEXT NOT NULL"),
                ("name", "TEXT NOT NULL"),
                ("type", "TEXT NOT NULL"),
                ("organisation", "TEXT"),
                ("buurt_code", "TEXT"),
                ("reach_m", "REAL"),
                ("target_groups", "TEXT"),
                ("capacity_per_year", "INTEGER"),
                ("capacity_unit", "TEXT"),
                ("volunteers", "INTEGER"),
                ("status", "TEXT NOT NULL"),
                ("funding_source", "TEXT"),
                ("funding_end", "DATE"),
                ("evidence_label", "TEXT"),
                ("contact", "TEXT"),
                ("last_verified", "DATE"),
                ("notes", "TEXT"),
                ("version", "INTEGER NOT NULL DEFAULT 1"),
                # Version 7: the organisation's address (not personal data), the id in the source
                # (open data: re-import updates instead of duplicating) and points outside the areas.
                ("street", "TEXT"),
                ("house_number", "TEXT"),
                ("postcode", "TEXT"),
                ("city", "TEXT"),
                ("source_id", "TEXT"),
                ("outside_areas", "INTEGER NOT NULL DEFAULT 0"),
            ),
            geometry_type="POINT",
            description="Collectieve, preventieve voorzieningen",
            unique=("provision_id",),
        ),
        Table(
            "persons",
            (
                ("person_id", "TEXT NOT NULL"),
                ("buurt_code", "TEXT"),
                ("age_band", "TEXT"),
                ("household_type", "TEXT"),
                ("widowed_since", "DATE"),
                ("life_events", "TEXT"),
                *((f"lsns_{i}", "INTEGER") for i in range(1, 7)),
                *((f"djg_{i}", "TEXT") for i in range(1, 12)),
                ("measured_on", "DATE"),
                ("consent", "INTEGER NOT NULL DEFAULT 0"),
            ),
            description="Bewoners in steunnetwerken, alleen pseudoniem (ondoorzichtige id)",
            unique=("person_id",),
        ),
        Table(
            "ties",
            (
                ("ego_id", "TEXT NOT NULL"),
                ("alter_id", "TEXT"),
                ("alter_key", "TEXT"),
                ("role", "TEXT NOT NULL"),
                ("support_practical", "INTEGER NOT NULL DEFAULT 0"),
                ("support_emotional", "INTEGER NOT NULL DEFAULT 0"),
                ("support_informational", "INTEGER NOT NULL DEFAULT 0"),
                ("support_companionship", "INTEGER NOT NULL DEFAULT 0"),
                ("contact_frequency", "TEXT"),
                ("closeness", "INTEGER"),
                ("reciprocal", "INTEGER"),
                ("same_buurt", "INTEGER"),
            ),
            description="Steunrelaties ego -> alter (persoon in de opslag of anonieme alter)",
        ),
        Table(
            "alter_links",
            (
                ("ego_id", "TEXT NOT NULL"),
                ("source", "TEXT NOT NULL"),
                ("target", "TEXT NOT NULL"),
            ),
            description="Wie in het netwerk van ego elkaar kent (alter_id of alter_key aan beide kanten)",
            unique=("ego_id", "source", "target"),
        ),
        Table(
            "participation",
            (
                ("person_id", "TEXT NOT NULL"),
                ("provision_id", "TEXT NOT NULL"),
                ("role", "TEXT NOT NULL DEFAULT 'deelnemer'"),
                ("since", "DATE"),
            ),
            description="Deelname van personen aan voorzieningen",
            unique=("person_id", "provision_id"),
        ),
        Table(
            "measurements",
            (
                ("person_id", "TEXT NOT NULL"),
                ("provision_id", "TEXT NOT NULL"),  # the provision taken part in, or compared with
                ("study_group", "TEXT NOT NULL"),  # deelnemer | vergelijking (STUDY_GROUPS)
                ("moment", "TEXT NOT NULL"),  # T0..T3 (MOMENTS)
                ("measured_on", "DATE"),
                *((f"lsns_{i}", "INTEGER") for i in range(1, 7)),
                *((f"djg_{i}", "TEXT") for i in range(1, 12)),
                ("network_recorded", "INTEGER NOT NULL DEFAULT 0"),  # the network was asked at this moment
                ("version", "INTEGER NOT NULL DEFAULT 1"),
            ),
            description="Metingen per deelname en moment (T0-T3): LSNS-6, De Jong Gierveld, netwerk (versie 9)",
            unique=("person_id", "provision_id", "moment"),
        ),
        Table(
            "followup_ties",
            (
                ("person_id", "TEXT NOT NULL"),  # the ego
                ("provision_id", "TEXT NOT NULL"),
                ("moment", "TEXT NOT NULL"),
                ("alter_key", "TEXT NOT NULL"),  # stable within the ego's network from moment to moment
                ("alter_id", "TEXT"),  # a person in the store (another participant, ...)
                ("role", "TEXT NOT NULL"),
                ("support_practical", "INTEGER NOT NULL DEFAULT 0"),
                ("support_emotional", "INTEGER NOT NULL DEFAULT 0"),
                ("support_informational", "INTEGER NOT NULL DEFAULT 0"),
                ("support_companionship", "INTEGER NOT NULL DEFAULT 0"),
                ("contact_frequency", "TEXT"),
                ("closeness", "INTEGER"),
                # 'met wie uit de groep heeft u nog contact?': the alter is another participant of this group.
                ("from_group", "INTEGER NOT NULL DEFAULT 0"),
            ),
            description="Het netwerk per meetmoment; elke alter behouden, veranderd, verloren of nieuw (versie 9)",
            unique=("person_id", "provision_id", "moment", "alter_key"),
        ),
        Table(
            "aftercare_plans",
            (
                ("plan_id", "TEXT NOT NULL"),
                ("person_id", "TEXT NOT NULL"),
                ("provision_id", "TEXT"),  # empty: after wijkteam support
                ("reason", "TEXT NOT NULL"),  # AFTERCARE_REASONS
                ("starts_on", "DATE NOT NULL"),  # the day support ended
                ("contacts_per_year", "INTEGER NOT NULL DEFAULT 4"),
                ("months", "INTEGER NOT NULL DEFAULT 12"),
                ("status", "TEXT NOT NULL DEFAULT 'actief'"),  # AFTERCARE_STATUSES
                ("created_by", "TEXT"),
                ("created_at", "TEXT"),
                ("version", "INTEGER NOT NULL DEFAULT 1"),
            ),
            description="Nazorgplannen: lichte contacten na het einde van een voorziening of ondersteuning (versie 9)",
            unique=("plan_id",),
        ),
        Table(
            "aftercare_contacts",
            (
                ("plan_id", "TEXT NOT NULL"),
                ("sequence", "INTEGER NOT NULL"),  # the k-th planned contact of the plan
                ("planned_on", "DATE"),
                ("done_on", "DATE NOT NULL"),
                ("by_role", "TEXT NOT NULL"),  # AFTERCARE_ROLES
                ("outcome", "TEXT NOT NULL"),  # AFTERCARE_OUTCOMES, never free text
                ("registered_by", "TEXT"),
                ("registered_at", "TEXT"),
            ),
            description="Geregistreerde nazorgcontacten: datum, rol en uitkomstcode, geen vrije tekst (versie 9)",
            unique=("plan_id", "sequence"),
        ),
        Table(
            "agenda_items",
            (
                ("item_id", "TEXT NOT NULL"),  # 'AG-0001'
                ("wijk_code", "TEXT NOT NULL"),
                ("title", "TEXT NOT NULL"),
                ("aim", "TEXT"),
                ("owner_role", "TEXT NOT NULL"),  # AGENDA_OWNERS: the team that carries the action
                ("status", "TEXT NOT NULL DEFAULT 'idee'"),  # AGENDA_STATUSES
                ("starts_on", "DATE"),
                ("due_on", "DATE"),
                ("origin_kind", "TEXT NOT NULL DEFAULT 'handmatig'"),  # AGENDA_ORIGINS
                ("origin_figure", "TEXT"),  # the aggregate figure as it was when the item was made (suppressed)
                ("created_by", "TEXT"),
                ("created_at", "TEXT"),
                ("updated_by", "TEXT"),
                ("updated_at", "TEXT"),
                ("version", "INTEGER NOT NULL DEFAULT 1"),
            ),
            description="Wijkagenda: gezamenlijke acties per wijk, alleen met geaggregeerde cijfers (versie 10)",
            unique=("item_id",),
        ),
        Table(
            "agenda_links",
            (
                ("item_id", "TEXT NOT NULL"),
                ("kind", "TEXT NOT NULL"),  # AGENDA_LINK_KINDS
                ("target", "TEXT NOT NULL"),  # a buurt code, provision id, initiative id or provision type
            ),
            description="Waar een agendapunt over gaat: buurten, voorzieningen, initiatieven, tekorten (versie 10)",
            unique=("item_id", "kind", "target"),
        ),
        Table(
            "agenda_updates",
            (
                ("item_id", "TEXT NOT NULL"),
                ("at", "TEXT NOT NULL"),
                ("user", "TEXT NOT NULL"),
                ("role", "TEXT NOT NULL"),
                ("status", "TEXT"),  # the status after this update
                ("due_on", "DATE"),  # the due date after this update (a changed deadline shows in the history)
                ("note", "TEXT"),  # a short line (AGENDA_NOTE_MAX), never about a person
            ),
            description="Korte geschiedenis per agendapunt: wie, wanneer, welke status, een korte notitie (versie 10)",
        ),
        Table(
            "initiatives",
            (
                ("initiative_id", "TEXT NOT NULL"),  # 'IN-0001'
                ("name", "TEXT NOT NULL"),
                ("what", "TEXT"),
                ("buurt_code", "TEXT"),
                ("status", "TEXT NOT NULL DEFAULT 'loopt'"),  # INITIATIVE_STATUSES
                ("support_asked", "TEXT"),
                ("contact_organisation", "TEXT"),  # contact goes through an organisation, never a person's details
                ("created_by", "TEXT"),
                ("created_at", "TEXT"),
                ("version", "INTEGER NOT NULL DEFAULT 1"),
            ),
            geometry_type="POINT",
            description="Bewonersinitiatieven: een kaartlaag, te koppelen aan agendapunten (versie 10)",
            unique=("initiative_id",),
        ),
        Table(
            "key_figures",
            (
                ("figure_id", "TEXT NOT NULL"),  # 'SF-0001'
                ("role_label", "TEXT NOT NULL"),  # e.g. 'voorzitter bewonerscommissie', 'imam', 'huisarts'
                ("organisation", "TEXT"),
                ("wijk_code", "TEXT"),
                ("buurt_code", "TEXT"),
                ("name", "TEXT"),  # only when the person consented (consent_name)
                ("consent_name", "INTEGER NOT NULL DEFAULT 0"),
                ("created_by", "TEXT"),
                ("created_at", "TEXT"),
                ("version", "INTEGER NOT NULL DEFAULT 1"),
            ),
            description="Sleutelfiguren per rol en organisatie; een naam alleen met toestemming (versie 10)",
            unique=("figure_id",),
        ),
        Table(
            "provision_types",
            (
                ("code", "TEXT NOT NULL"),
                ("label", "TEXT NOT NULL"),
                ("description", "TEXT"),
                ("target_groups", "TEXT"),
                ("capacity_unit", "TEXT"),
                ("default_reach_m", "REAL NOT NULL"),
                ("collective", "INTEGER NOT NULL DEFAULT 1"),
                ("preventive", "INTEGER NOT NULL DEFAULT 1"),
                ("colour", "TEXT"),
                # Version 7: whether the capacity is places (a course round, a visiting service) or only
                # visitors (a buurthuis: never a free place), and places per volunteer per year.
                ("has_places", "INTEGER NOT NULL DEFAULT 1"),
                ("places_per_volunteer", "REAL"),
                # Version 9: follow-up moments in weeks after intake (T1 end, T2, T3), and aftercare contacts
                # per year after the provision ends.
                ("t1_weeks", "INTEGER"),
                ("t2_weeks", "INTEGER"),
                ("t3_weeks", "INTEGER"),
                ("aftercare_per_year", "INTEGER"),
            ),
            description="Catalogus van soorten voorzieningen (uitbreidbaar door de gebruiker)",
            unique=("code",),
        ),
        Table(
            "suitability",
            (
                ("type", "TEXT NOT NULL"),
                ("need", "TEXT NOT NULL"),
            ),
            description="Welke soort voorziening past bij welke behoefte (signaal of doelgroep)",
            unique=("type", "need"),
        ),
        Table(
            "scenarios",
            (
                ("name", "TEXT NOT NULL"),
                ("definition", "TEXT NOT NULL"),
                ("created_by", "TEXT"),
                ("created_at", "TEXT"),
                ("version", "INTEGER NOT NULL DEFAULT 1"),
            ),
            description="Opgeslagen scenario's: voorzieningen uit en hypothetische nieuwe (JSON)",
            unique=("name",),
        ),
        Table(
            "users",
            (
                ("username", "TEXT NOT NULL"),
                ("role", "TEXT NOT NULL"),
                ("wijken", "TEXT"),
                ("password_hash", "TEXT"),
                ("failed_attempts", "INTEGER NOT NULL DEFAULT 0"),
                ("locked_until", "TEXT"),
                ("active", "INTEGER NOT NULL DEFAULT 1"),
                ("created_at", "TEXT"),
                # Version 6: the second step (TOTP secret, last time step used) and the session epoch,
                # raised by a new password, a block or another role to end the user's live sessions.
                ("totp_secret", "TEXT"),
                ("totp_last_step", "INTEGER"),
                ("session_epoch", "INTEGER NOT NULL DEFAULT 0"),
            ),
            description="Gebruikers met rol en wijken; wachtwoorden alleen als trage, gezouten hash",
            unique=("username",),
        ),
        Table(
            "batches",
            (
                ("batch_id", "INTEGER NOT NULL"),
                ("kind", "TEXT NOT NULL"),
                ("at", "TEXT NOT NULL"),
                ("user", "TEXT NOT NULL"),
                ("file_name", "TEXT"),
                ("sha256", "TEXT"),
                ("counts", "TEXT"),
                ("details", "TEXT"),
                ("undone_at", "TEXT"),
                ("undone_by", "TEXT"),
            ),
            description="Imports: wie, wanneer, welk bestand, hoeveel; ongedaan te maken",
            unique=("batch_id",),
        ),
        Table(
            "audit",
            (
                ("at", "TEXT NOT NULL"),
                ("user", "TEXT NOT NULL"),
                ("action", "TEXT NOT NULL"),
                ("target", "TEXT"),
                ("details", "TEXT"),
            ),
            description="Wie wat wanneer heeft gewijzigd of geëxporteerd",
        ),
    )
}

DATA_TABLES = ("areas", "provisions", "persons", "ties", "participation")

# Tables whose rows remember the import (batch) that wrote them, so that an import can be undone.
# Rows an import replaced or removed are kept in ``undo_<table>`` (same columns plus undo_batch).
BATCH_COLUMN = "batch_id"
BATCHED_TABLES = ("areas", "area_values", "provisions", "persons", "ties", "alter_links", "participation",
                  "postcodes", "measurements", "followup_ties")
BATCH_KINDS = {
    "gebieden": "CBS-gebieden",
    "gezondheid": "Gezondheidsmonitor",
    "voorzieningen": "voorzieningen",
    "netwerk": "netwerken (import)",
    "netwerk-invoer": "netwerk (gespreksformulier)",
    "verwijdering": "gebieden verwijderd",
    "handmatig": "met de hand gewijzigd",
    "postcodes": "postcodes bij buurten",
    "metingen": "metingen (import)",
    "meting-invoer": "meting (gespreksformulier)",
}
