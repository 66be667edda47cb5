"""Network Canvas exports in: read the export, map its variables to ours, preview, then the store's frames.

What Network Canvas writes (Interviewer and Fresco, see the exporter ``network-exporters``):

- CSV, per interview (session), with CRLF line ends and fields quoted only when they hold a comma,
  quote or line break: ``<case>_<session>_ego.csv`` (``networkCanvasEgoUUID``,
  ``networkCanvasCaseID``, ``networkCanvasSessionID``, ``networkCanvasProtocolName``,
  ``sessionStart``, ``sessionFinish``, ``sessionExported``, then the ego variables by name),
  ``..._attributeList_<NodeType>.csv`` (``nodeID``, ``networkCanvasEgoUUID``, ``networkCanvasUUID``,
  the variables; a categorical variable as one ``true``/``false`` column per option,
  ``<variable>_<option>``; a layout variable as ``<variable>_x``/``_y``) and
  ``..._edgeList_<EdgeType>.csv`` (``edgeID``, ``from``, ``to`` (node ids), ``networkCanvasEgoUUID``,
  ``networkCanvasUUID``, ``networkCanvasSourceUUID``, ``networkCanvasTargetUUID``, the variables).
  A value that was not asked is an empty cell. Older exports use ``_egoID``/``_uid``/``_from``/``_to``;
  the documentation's example also has ``ego_id``/``alter_id``/``edge_type``; all are read.
- GraphML, one ``<graph>`` per interview: the ego's data as ``<data>`` directly under ``<graph>``
  (keys ``for="graph"``), codebook UUIDs as key ids with the variable name in ``attr.name`` (the
  same name can have several keys, one per node type), ``label`` (the alter's name), the node type
  in ``networkCanvasType``, UUIDs in ``networkCanvasUUID``/``networkCanvasSourceUUID``/``...TargetUUID``.
- Often both, for the same interviews, in one zip (``networkCanvasExport.zip``): an interview is read
  once (from the CSV).

How it becomes Steunkaart data: every interview is a person (the ego), every alter of a *person*
node type is a support tie to an anonymous alter keyed by its UUID, every edge between two such
alters is an alter link (who knows whom: density). Other node types (venues: places where people
meet) never become persons or ties; they are skipped and counted. Columns that identify people
(names, phone, e-mail, address, GraphML labels, the interviewer's case id) are not imported and are
listed as such; the import goes on. A :class:`NetworkCanvasMapping` (JSON; preset:
:data:`NETWORK_CANVAS_PRESET`) says which variables and values are our fields; unmapped variables
and values are reported with counts, and a value that looks like personal data in a mapped
variable is a problem on its row (the value itself is never repeated). Nothing is written here:
:func:`network_canvas_frames` returns the frames for ``merge_network``.
"""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from data import uploads
from data.errors import DataValidationError
from data.graphml import read_graphml
from data.privacy import _OPAQUE_ID, _PERSONAL_COLUMN, personal_value_kind
from data.schema import AGE_BANDS, CONTACT_FREQUENCIES, DJG_ANSWERS, HOUSEHOLD_TYPES, ROLES, SUPPORT_TYPES
from data.tabular import mapping_json, read_table_file

__all__ = [
    "NETWORK_CANVAS_PRESET",
    "NetworkCanvasMapping",
    "NetworkCanvasPreview",
    "NetworkCanvasSource",
    "network_canvas_frames",
    "network_canvas_preset_table",
    "preview_network_canvas",
    "read_network_canvas_export",
    "read_network_canvas_mapping",
]

# Internal columns of the source tables (Network Canvas variables never start with two underscores).
_FILE, _ROW, _EGO, _UUID, _TYPE, _NODE, _SRC, _TGT, _FROM, _TO = (
    "__file", "__row", "__ego", "__uuid", "__type", "__node_id", "__source", "__target", "__from", "__to")
_INTERNAL = (_FILE, _ROW, _EGO, _UUID, _TYPE, _NODE, _SRC, _TGT, _FROM, _TO, "__start")

# Columns Network Canvas writes itself (compared lower-case); never variables.
_EGO_ID_COLUMNS = ("networkcanvasegouuid", "_egoid", "ego_uuid")
_TECHNICAL = {
    "networkcanvasegouuid", "networkcanvasuuid", "networkcanvassourceuuid", "networkcanvastargetuuid",
    "networkcanvastype", "networkcanvassessionid", "networkcanvasprotocolname", "networkcanvasinterviewlocale",
    "networkcanvasfinishoutcome", "sessionstart", "sessionfinish", "sessionexported", "app_version", "commit_hash",
    "codebookhash", "nodeid", "edgeid", "from", "to", "ego_id", "alter_id", "edge_id", "edge_type", "node_type",
    "_egoid", "_uid", "_id", "_from", "_to", "_type", "_sessionid", "_protocolname", "_protocoluid",
    "_remoteprotocolid", "_sessionstart", "_sessionfinish", "_sessionexported", "protocoluid", "remoteprotocolid",
}
# Typed by the interviewer: can be a name (Network Canvas's own example uses one). Never imported.
_CASE_ID_COLUMNS = {"networkcanvascaseid", "_caseid", "caseid"}
_ENCRYPTED = "ENCRYPTED"  # Network Canvas writes this for variables anonymised in the protocol
# Words in a column name that mean the column identifies a person (first names, phone, address...).
_IDENT_TOKENS = {
    "name", "names", "naam", "namen", "voornaam", "achternaam", "roepnaam", "bijnaam", "nickname", "nick",
    "surname", "firstname", "lastname", "fullname", "givenname", "tussenvoegsel", "initials", "initialen",
    "label", "alias", "phone", "telephone", "telefoon", "telefoonnummer", "tel", "mobile", "mobiel", "gsm",
    "cellphone", "email", "mail", "address", "adres", "straat", "street", "huisnummer", "postcode", "zip",
    "zipcode", "woonplaats", "bsn", "burgerservicenummer", "birthday", "birthdate", "geboortedatum", "dob",
    "whatsapp", "facebook", "instagram", "twitter", "linkedin", "snapchat", "tiktok", "username", "iban",
}
_IDENT_PAIRS = {("e", "mail"), ("postal", "code"), ("house", "number"), ("birth", "date"), ("date", "birth"),
                ("social", "security")}

_BOOL_VALUES = {"true": True, "1": True, "yes": True, "ja": True, "j": True, "y": True, "waar": True,
                "x": True, "false": False, "0": False, "no": False, "nee": False, "n": False, "onwaar": False}


# --------------------------------------------------------------------------- names and values

def _norm_key(name: str) -> str:
    """A variable name for matching: lower case, letters and digits only ('ContactFreq' == 'contact_freq')."""
    return re.sub(r"[^0-9a-z]", "", _ascii(str(name)).lower())


def _norm_keys(values: pd.Series) -> pd.Series:
    """:func:`_norm_key` for a whole column (vectorised)."""
    folded = values.astype("string").str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    return folded.astype("string").str.lower().str.replace(r"[^0-9a-z]", "", regex=True)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _norm_value(value) -> str:
    """A source value for matching: lower case, words joined by '_' ('Less than weekly' == 'less_than_weekly')."""
    return re.sub(r"[^0-9a-z+]+", "_", _ascii(str(value)).lower()).strip("_")


def _norm_values(values: pd.Series) -> pd.Series:
    """:func:`_norm_value` for a whole column (vectorised); empty cells stay ``<NA>``."""
    text = values.astype("string").str.strip()
    text = text.where(text != "")
    folded = text.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii").astype("string")
    out = folded.str.lower().str.replace(r"[^0-9a-z+]+", "_", regex=True).str.strip("_")
    return out.where(text.notna())


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", _ascii(str(name)))
    return [t for t in re.split(r"[^0-9a-z]+", spaced.lower()) if t]


def is_identifying_column(name: str) -> bool:
    """True for a column whose name says it identifies a person (name, phone, e-mail, address, label, ...)."""
    raw = str(name).strip()
    if _PERSONAL_COLUMN.match(raw) or _norm_key(raw) in _CASE_ID_COLUMNS:
        return True
    tokens = _tokens(raw)
    if any(t in _IDENT_TOKENS for t in tokens):
        return True
    return any(pair in _IDENT_PAIRS for pair in zip(tokens, tokens[1:], strict=False))


# --------------------------------------------------------------------------- the mapping

EGO_FIELDS = {
    "person_id": "code van de persoon",
    "buurt_code": "buurtcode",
    "age_band": "leeftijdsklasse",
    "household_type": "huishouden",
    **{f"lsns_{i}": f"LSNS-6 vraag {i}" for i in range(1, 7)},
    **{f"djg_{i}": f"De Jong Gierveld vraag {i}" for i in range(1, 12)},
    "consent": "toestemming",
}
ALTER_FIELDS = {
    "role": "rol",
    "closeness": "nabijheid",
    "contact_frequency": "contactfrequentie",
    "same_buurt": "woont in dezelfde buurt",
    "reciprocal": "wederzijds",
}
SUPPORT_LABELS = {s: f"{label} steun" if s != "companionship" else "gezelschap"
                  for s, label in {"emotional": "emotionele", "practical": "praktische",
                                   "informational": "informatieve", "companionship": "gezelschap"}.items()}
_BOOL_FIELDS = ("same_buurt", "reciprocal", "consent")
MAPPING_KEYS = ("preset", "ego", "alter", "support", "person_node_types", "link_edge_types", "not_identifying",
                "allow_without_support")


@dataclass(frozen=True)
class FieldMapping:
    """Where one of our fields comes from: candidate variables (the first one present wins) and a
    translation of its values (normalised source value → our value; ``None``: empty on purpose).

    A variable matches a column of the same name (case, spaces and underscores ignored) or, when
    Network Canvas split a categorical variable, the boolean columns ``<variable>_<option>``.
    ``columns`` names boolean columns directly (column → our value; older mappings).
    """

    variables: tuple[str, ...] = ()
    values: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out: dict = {"variables": list(self.variables)}
        if self.values:
            out["values"] = dict(self.values)
        if self.columns:
            out["columns"] = dict(self.columns)
        return out


def _preset_values(table: dict[object, Iterable[str]]) -> dict[str, object]:
    return {_norm_value(source): ours for ours, sources in table.items() for source in sources}


_ROLE_WORDS = {
    "partner": ("partner", "spouse", "husband", "wife", "echtgenoot", "echtgenote", "boyfriend", "girlfriend",
                "significant other", "romantic partner", "levenspartner", "lover"),
    "ouder": ("ouder", "parent", "mother", "father", "mom", "mum", "dad", "moeder", "vader", "stepparent",
              "stiefouder", "stepmother", "stepfather", "parents", "ouders"),
    "kind": ("kind", "child", "son", "daughter", "zoon", "dochter", "stepchild", "stiefkind", "children",
             "kinderen"),
    "familie": ("familie", "family", "otherFam", "other family", "relative", "sibling", "brother", "sister",
                "broer", "zus", "zuster", "grandparent", "grandmother", "grandfather", "oma", "opa", "grootouder",
                "grandchild", "kleinkind", "aunt", "uncle", "tante", "oom", "cousin", "neef", "nicht", "in law",
                "schoonfamilie", "familielid", "family member", "extended family"),
    "vriend": ("vriend", "vriendin", "vriend(in)", "friend", "close friend", "best friend", "goede vriend",
               "friends", "vrienden"),
    "buur": ("buur", "buren", "neighbour", "neighbor", "neighbours", "neighbors", "buurman", "buurvrouw",
             "buurtgenoot"),
    "collega": ("collega", "colleague", "coworker", "co-worker", "work", "werk", "work colleague"),
    "vrijwilliger": ("vrijwilliger", "volunteer", "buddy", "maatje", "bezoekvrijwilliger"),
    "professional": ("professional", "hulpverlener", "care worker", "doctor", "gp", "huisarts", "nurse",
                     "verpleegkundige", "social worker", "maatschappelijk werker", "wijkteam", "case manager",
                     "casemanager", "therapist", "counselor", "counsellor", "psycholoog", "psychologist",
                     "thuiszorg", "home care", "coach", "begeleider", "formal", "professional caregiver",
                     "health professional", "provider", "service provider"),
    "groepsgenoot": ("groepsgenoot", "group member", "groupmember", "group", "groep", "classmate", "cursist",
                     "deelnemer"),
    "kerk_vereniging": ("kerk_vereniging", "kerk/vereniging", "kerk", "church", "religious", "religious community",
                        "moskee", "mosque", "vereniging", "club", "association", "sports", "sport", "sportclub",
                        "congregation"),
    "anders": ("anders", "other", "overig", "acquaintance", "kennis", "roommate", "housemate", "huisgenoot",
               "other relationship"),
}
_CLOSENESS_WORDS = {
    3: ("3", "very close", "extremely close", "zeer dichtbij", "heel dichtbij", "heel dicht", "zeer close"),
    2: ("2", "close", "somewhat close", "fairly close", "quite close", "dichtbij", "redelijk dichtbij"),
    1: ("1", "not close", "not very close", "not close at all", "not at all close", "distant", "a little close",
        "slightly close", "verder weg", "niet dichtbij", "niet zo dichtbij"),
}
_CONTACT_WORDS = {
    "dagelijks": ("dagelijks", "daily", "every day", "everyday", "almost daily", "bijna dagelijks"),
    "wekelijks": ("wekelijks", "weekly", "once a week", "every week", "several times a week", "few times a week",
                  "a few times a week", "more than weekly", "elke week"),
    "tweewekelijks": ("tweewekelijks", "every two weeks", "fortnightly", "biweekly", "bi-weekly", "twice a month",
                      "few times a month", "a few times a month", "om de week", "om de twee weken"),
    # 'Less than weekly' is fortnightly to monthly: counted as monthly, so role diversity (at least
    # fortnightly contact) is not inflated. Change it in a mapping when your protocol means otherwise.
    "maandelijks": ("maandelijks", "monthly", "once a month", "every month", "less than weekly", "elke maand"),
    "minder": ("minder", "minder dan maandelijks", "less than monthly", "less often", "few times a year",
               "a few times a year", "yearly", "once a year", "rarely", "seldom", "hardly ever", "never", "nooit",
               "zelden", "not in the past six months"),
}
_AGE_WORDS = {band: (band,) for band in AGE_BANDS} | {
    "18-29": ("18-29", "18 to 29", "18 29 years"), "30-44": ("30-44", "30 to 44"), "45-64": ("45-64", "45 to 64"),
    "65-74": ("65-74", "65 to 74"), "75-84": ("75-84", "75 to 84"),
    "85+": ("85+", "85 plus", "85 and over", "85 or older", "85 en ouder", "85 jaar of ouder"),
}
_HOUSEHOLD_WORDS = {
    "alleenstaand": ("alleenstaand", "living alone", "lives alone", "alone", "single", "one person", "alleen"),
    "paar_zonder_kinderen": ("paar zonder kinderen", "couple", "couple without children", "couple no children",
                             "with partner"),
    "paar_met_kinderen": ("paar met kinderen", "couple with children", "family", "gezin"),
    "eenouder": ("eenouder", "eenoudergezin", "single parent", "one parent", "lone parent"),
    "overig": ("overig", "other", "anders", "with others", "shared", "institution", "instelling"),
}
_LSNS_WORDS = {
    0: ("0", "none", "geen", "niemand", "nobody"), 1: ("1", "one", "een", "één"), 2: ("2", "two", "twee"),
    3: ("3", "three or four", "three four", "3-4", "drie of vier"),
    4: ("4", "five to eight", "five eight", "5-8", "vijf tot acht", "vijf tot en met acht"),
    5: ("5", "nine or more", "9 or more", "9+", "negen of meer"),
}
_DJG_WORDS = {"ja": ("ja", "yes"), "min of meer": ("min of meer", "more or less", "more less", "somewhat"),
              "nee": ("nee", "no")}


def _build_preset() -> dict:
    ego = {
        "person_id": FieldMapping(("code", "persoonscode", "clientcode", "client_code", "pseudoniem", "pseudonym",
                                   "person_code", "respondent_code", "steunkaart_code")),
        "buurt_code": FieldMapping(("buurtcode", "buurt_code", "buurt", "cbs_buurtcode", "bu_code",
                                    "neighbourhood_code", "neighborhood_code", "neighbourhood", "neighborhood")),
        "age_band": FieldMapping(("leeftijd", "leeftijdsklasse", "leeftijdsgroep", "age_band", "age_group",
                                  "age_category", "age"), _preset_values(_AGE_WORDS)),
        "household_type": FieldMapping(("huishouden", "huishoudtype", "household", "household_type",
                                        "living_situation", "woonsituatie"), _preset_values(_HOUSEHOLD_WORDS)),
        **{f"lsns_{i}": FieldMapping((f"lsns_{i}", f"lsns6_{i}", f"lubben_{i}", f"lsns_q{i}"),
                                     _preset_values(_LSNS_WORDS)) for i in range(1, 7)},
        **{f"djg_{i}": FieldMapping((f"djg_{i}", f"djg11_{i}", f"dejonggierveld_{i}", f"loneliness_{i}",
                                     f"eenzaamheid_{i}"), _preset_values(_DJG_WORDS)) for i in range(1, 12)},
        "consent": FieldMapping(("toestemming", "consent", "informed_consent")),
    }
    alter = {
        "role": FieldMapping(("rol", "role", "relatie", "relation", "relationship", "relationship_type", "rel_type",
                              "relation_type", "tie_type", "relationship_to_ego", "soort_relatie"),
                             _preset_values(_ROLE_WORDS)),
        "closeness": FieldMapping(("closeness", "nabijheid", "rel_strength", "relstrength", "tie_strength",
                                   "strength", "how_close", "emotional_closeness", "closeness_level",
                                   "hoe_dichtbij"), _preset_values(_CLOSENESS_WORDS)),
        "contact_frequency": FieldMapping(("contact_freq", "contact_frequency", "contactfrequentie", "contact",
                                           "frequency", "freq", "how_often", "frequentie", "freq_contact"),
                                          _preset_values(_CONTACT_WORDS)),
        "same_buurt": FieldMapping(("same_buurt", "zelfde_buurt", "same_neighbourhood", "same_neighborhood",
                                    "lives_nearby", "lives_in_neighbourhood", "lives_in_neighborhood", "nearby",
                                    "in_de_buurt", "woont_in_de_buurt", "woont_dichtbij")),
        "reciprocal": FieldMapping(("reciprocal", "wederzijds", "mutual", "reciprocity", "wederkerig",
                                    "steunt_terug")),
    }
    support = {
        "emotional": ("emotional_support", "emotional", "emotioneel", "emotionele_steun", "steun_emotional",
                      "steun_emotioneel", "support_emotional", "support_emotioneel", "confide", "confidant",
                      "discuss_important_matters", "important_matters", "talk_about_problems", "talk_to",
                      "vertrouwenspersoon"),
        "practical": ("practical_support", "practical", "praktisch", "praktische_steun", "steun_practical",
                      "steun_praktisch", "support_practical", "support_praktisch", "instrumental_support",
                      "instrumental", "practical_help", "help_with_tasks", "praktische_hulp", "help", "hulp"),
        "informational": ("informational_support", "informational", "informatief", "informatieve_steun",
                          "steun_informational", "steun_informatief", "support_informational",
                          "support_informatief", "advice", "advies", "gives_advice", "information"),
        "companionship": ("companionship", "gezelschap", "steun_companionship", "steun_gezelschap",
                          "support_companionship", "support_gezelschap", "socialize", "socialise", "socializing",
                          "socialising", "spend_time", "spend_time_together", "social_activities", "free_time",
                          "samen_dingen_doen"),
    }
    node_types = ("person", "persoon", "personen", "people", "mensen", "alter", "alters", "contact", "contacts",
                  "individual", "network_member", "member", "friend", "naaste", "naasten")
    return {"ego": ego, "alter": alter, "support": support, "person_node_types": node_types}


_PRESET = _build_preset()
_OUR_VALUES = {  # our own codes and labels, as given and normalised
    name: {**{k: k for k in table}, **{_norm_value(k): k for k in table},
           **{_norm_value(v): k for k, v in (table.items() if isinstance(table, dict) else ())}}
    for name, table in (("role", ROLES), ("contact_frequency", CONTACT_FREQUENCIES),
                        ("household_type", HOUSEHOLD_TYPES), ("age_band", AGE_BANDS))
}


def _allowed(field_name: str, value) -> object:
    """Our value for a value given in a mapping file, or raise ValueError with the choices in Dutch."""
    if value is None:
        return None
    if field_name in _OUR_VALUES:
        table = _OUR_VALUES[field_name]
        key = value if value in table else _norm_value(value)
        if key in table:
            return table[key]
        choices = ROLES if field_name == "role" else (
            CONTACT_FREQUENCIES if field_name == "contact_frequency" else (
                HOUSEHOLD_TYPES if field_name == "household_type" else AGE_BANDS))
        raise ValueError(f"kies uit {', '.join(choices)}")
    if field_name == "closeness":
        if str(value).strip() in ("1", "2", "3"):
            return int(str(value).strip())
        raise ValueError("nabijheid is 1 (verder weg), 2 (dichtbij) of 3 (heel dichtbij)")
    if field_name.startswith("lsns_"):
        if str(value).strip() in {str(i) for i in range(6)}:
            return int(str(value).strip())
        raise ValueError("een LSNS-6-score is 0 tot en met 5")
    if field_name.startswith("djg_"):
        if str(value).strip().lower() in DJG_ANSWERS:
            return str(value).strip().lower()
        raise ValueError("kies uit ja, min of meer, nee")
    if field_name in _BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        if _norm_value(value) in _BOOL_VALUES:
            return _BOOL_VALUES[_norm_value(value)]
        raise ValueError("kies true of false (ja of nee)")
    raise ValueError("dit veld heeft geen vertaling van waarden (het wordt overgenomen zoals het is)")


@dataclass(frozen=True)
class NetworkCanvasMapping:
    """How a Network Canvas protocol's variables become Steunkaart's fields; saved as JSON.

    ``ego``: our person fields (:data:`EGO_FIELDS`) → :class:`FieldMapping`; ``alter``: our tie
    fields (:data:`ALTER_FIELDS`); ``support``: support type (``emotional``, ``practical``,
    ``informational``, ``companionship``) → boolean alter variables (any true = that support).
    ``person_node_types``: node types that are persons (compared without case); every other type is
    skipped. ``link_edge_types``: edge types that are alter links (``None``: all). ``not_identifying``:
    columns whose name looks identifying but are not (they may then be mapped; their values are
    still checked). ``allow_without_support``: import even when no variable for emotional support is
    found (otherwise that is a problem: everyone would look as if no one supports them).

    JSON (see :meth:`to_dict`): a field is a variable name, a list of names, or
    ``{"variables": [...], "values": {"source value": "our value"}}``. With ``"preset": true`` (the
    default) the file changes the preset: a field given replaces the preset's variables, and its
    values are added to the preset's.
    """

    ego: dict[str, FieldMapping]
    alter: dict[str, FieldMapping]
    support: dict[str, tuple[str, ...]]
    person_node_types: tuple[str, ...]
    link_edge_types: tuple[str, ...] | None = None
    not_identifying: tuple[str, ...] = ()
    allow_without_support: bool = False

    @classmethod
    def preset(cls) -> NetworkCanvasMapping:
        """The Network Canvas preset: variable names and values common in Network Canvas protocols."""
        return cls(dict(_PRESET["ego"]), dict(_PRESET["alter"]), dict(_PRESET["support"]),
                   tuple(_PRESET["person_node_types"]))

    def to_dict(self) -> dict:
        """The whole mapping as JSON-ready data (``"preset": false``: it stands on its own)."""
        return {
            "preset": False,
            "ego": {k: v.to_dict() for k, v in self.ego.items()},
            "alter": {k: v.to_dict() for k, v in self.alter.items()},
            "support": {k: list(v) for k, v in self.support.items()},
            "person_node_types": list(self.person_node_types),
            "link_edge_types": None if self.link_edge_types is None else list(self.link_edge_types),
            "not_identifying": list(self.not_identifying),
            "allow_without_support": self.allow_without_support,
        }

    def to_json(self) -> str:
        """The mapping as JSON text, as the CLI's ``--mapping`` reads it."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str | bytes, *, file: str | None = None) -> NetworkCanvasMapping:
        """Read a mapping from JSON text (or bytes, BOM allowed); see :meth:`from_dict`."""
        return cls.from_dict(mapping_json(text, file=file), file=file)

    @classmethod
    def from_dict(cls, data, *, file: str | None = None) -> NetworkCanvasMapping:
        """Check a mapping read from JSON; every problem is listed (Dutch), then one error is raised."""
        if not isinstance(data, dict):
            raise DataValidationError("De koppeling moet een JSON-object zijn ({...}).", file=file)
        if set(data) & set(_LEGACY_KEYS) and not set(data) & {"ego", "alter", "support"}:
            data = _from_legacy(data)
        problems: list[dict] = []

        def bad(where: str, message: str) -> None:
            problems.append({"bestand": file or "koppeling", "rij": None, "kolom": where, "melding": message})

        unknown = sorted(set(data) - set(MAPPING_KEYS))
        if unknown:
            bad(unknown[0], f"Onbekende sleutel(s) in de koppeling: {', '.join(unknown)}; toegestaan: "
                            f"{', '.join(MAPPING_KEYS)}.")
        use_preset = data.get("preset", True)
        if not isinstance(use_preset, bool):
            bad("preset", "'preset' is true (de preset aanvullen) of false (alleen deze koppeling).")
            use_preset = True
        base = cls.preset() if use_preset else cls({}, {}, {}, ())
        ego, alter = dict(base.ego), dict(base.alter)
        for level, fields, target in (("ego", EGO_FIELDS, ego), ("alter", ALTER_FIELDS, alter)):
            given = data.get(level) or {}
            if not isinstance(given, dict):
                bad(level, f"'{level}' moet een object zijn van veld naar variabele.")
                continue
            for name, spec in given.items():
                if name not in fields:
                    bad(f"{level}.{name}", f"Onbekend veld '{name}' onder '{level}'; kies uit {', '.join(fields)}.")
                    continue
                parsed = _parse_field(spec, name, f"{level}.{name}", bad)
                if parsed is None:
                    continue
                if use_preset and name in target:
                    old = target[name]
                    parsed = FieldMapping(parsed.variables or old.variables, {**old.values, **parsed.values},
                                          {**old.columns, **parsed.columns})
                target[name] = parsed
        support = dict(base.support)
        given_support = data.get("support") or {}
        if not isinstance(given_support, dict):
            bad("support", "'support' moet een object zijn van steunsoort naar variabele(n).")
            given_support = {}
        for kind, spec in given_support.items():
            if kind not in SUPPORT_TYPES:
                bad(f"support.{kind}", f"Onbekende steunsoort '{kind}'; kies uit {', '.join(SUPPORT_TYPES)}.")
                continue
            names = [spec] if isinstance(spec, str) else spec
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                bad(f"support.{kind}", "Geef een variabele of een lijst van variabelen (booleans).")
                continue
            support[kind] = tuple(names)
        types = data.get("person_node_types", list(base.person_node_types))
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types) or not types:
            bad("person_node_types", "'person_node_types' is een lijst van knooppunttypen die personen zijn, "
                                     "bijv. [\"Person\"].")
            types = list(base.person_node_types)
        links = data.get("link_edge_types", None)
        if links is not None and (not isinstance(links, list) or not all(isinstance(t, str) for t in links)):
            bad("link_edge_types", "'link_edge_types' is null (alle soorten banden) of een lijst van soorten.")
            links = None
        not_ident = data.get("not_identifying", [])
        if not isinstance(not_ident, list) or not all(isinstance(t, str) for t in not_ident):
            bad("not_identifying", "'not_identifying' is een lijst van kolomnamen.")
            not_ident = []
        allow = data.get("allow_without_support", False)
        if not isinstance(allow, bool):
            bad("allow_without_support", "'allow_without_support' is true of false.")
            allow = False
        if problems:
            raise DataValidationError(
                f"De koppeling heeft {len(problems)} probleem/problemen. Eerste: {problems[0]['melding']}",
                file=file, column=problems[0]["kolom"], problems=problems)
        return cls(ego, alter, support, tuple(types), None if links is None else tuple(links), tuple(not_ident),
                   allow)


def _parse_field(spec, name: str, where: str, bad) -> FieldMapping | None:
    if isinstance(spec, str):
        return FieldMapping((spec,))
    if isinstance(spec, list) and all(isinstance(s, str) for s in spec):
        return FieldMapping(tuple(spec))
    if not isinstance(spec, dict):
        bad(where, "Geef een variabele, een lijst van variabelen of {\"variables\": [...], \"values\": {...}}.")
        return None
    wrong = sorted(set(spec) - {"variable", "variables", "values", "columns"})
    if wrong:
        bad(where, f"Onbekende sleutel(s) {', '.join(wrong)}; gebruik variables, values (en columns).")
    names = spec.get("variables", spec.get("variable", []))
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not all(isinstance(s, str) for s in names):
        bad(where, "'variables' is een lijst van variabelenamen.")
        return None
    values, columns = {}, {}
    for key, target in (("values", values), ("columns", columns)):
        given = spec.get(key) or {}
        if not isinstance(given, dict):
            bad(where, f"'{key}' is een object van bronwaarde naar onze waarde.")
            continue
        for source, ours in given.items():
            try:
                target[_norm_value(source) if key == "values" else str(source)] = _allowed(name, ours)
            except ValueError as exc:
                bad(where, f"Waarde '{ours}' voor '{source}' kan niet: {exc}.")
    return FieldMapping(tuple(names), values, columns)


# The JSON of the first Network Canvas import (tests/fixtures/network_canvas/koppeling.json).
_LEGACY_KEYS = ("persoon", "buurtcode", "leeftijd", "rollen", "steun", "nabijheid", "contact")


def _from_legacy(data: dict) -> dict:
    out: dict = {"preset": True, "ego": {}, "alter": {}, "support": {}}
    for old, new in (("persoon", "person_id"), ("buurtcode", "buurt_code"), ("leeftijd", "age_band")):
        if data.get(old):
            out["ego"][new] = data[old]
    for old, new in (("nabijheid", "closeness"), ("contact", "contact_frequency")):
        if data.get(old):
            out["alter"][new] = data[old]
    if isinstance(data.get("rollen"), dict):
        out["alter"]["role"] = {"variables": [], "columns": data["rollen"]}
    if isinstance(data.get("steun"), dict):
        for column, kind in data["steun"].items():
            out["support"].setdefault(kind, []).append(column)
    for key in set(data) - set(_LEGACY_KEYS):
        out[key] = data[key]
    return out


NETWORK_CANVAS_PRESET = NetworkCanvasMapping.preset()


def read_network_canvas_mapping(path: str | Path | None) -> NetworkCanvasMapping:
    """Read a mapping (JSON) from a file; ``None`` gives the preset."""
    if path is None:
        return NetworkCanvasMapping.preset()
    path = Path(path)
    if not path.is_file():
        raise DataValidationError("Het bestand met de koppeling bestaat niet.", file=str(path))
    return NetworkCanvasMapping.from_json(path.read_bytes(), file=path.name)


# --------------------------------------------------------------------------- reading the export

@dataclass
class NetworkCanvasSource:
    """A Network Canvas export as read, before any mapping: every variable as text (``<NA>`` = empty).

    ``egos``: one row per interview (``__ego`` = ego UUID, ``__start`` = session start, ``__file``,
    ``__row``) and the ego variables by name. ``nodes``: one row per alter of any node type
    (``__ego``, ``__uuid``, ``__type``, ``__node_id``) and its variables. ``edges``: one row per edge
    (``__ego``, ``__uuid``, ``__type``, ``__source``/``__target`` UUIDs, ``__from``/``__to`` node
    ids) and its variables. ``case_id_files`` lists the files whose interviewer-typed case ids are
    not read. ``warnings`` are report rows (bestand, rij, kolom, melding).
    """

    files: list[str]
    egos: pd.DataFrame
    nodes: pd.DataFrame
    edges: pd.DataFrame
    warnings: list[dict] = field(default_factory=list)
    case_id_files: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """A name for the import's record: the zip's name, else 'Network Canvas-export (n bestanden)'.

        Not the file names: Network Canvas starts them with the case id, which the interviewer types
        and which can be a name.
        """
        if len(self.inputs) == 1 and self.inputs[0].lower().endswith(".zip"):
            return self.inputs[0]
        return f"Network Canvas-export ({len(self.files)} bestanden)"

    def variables(self, frame: str) -> list[str]:
        """The variable columns of ``'egos'``, ``'nodes'`` or ``'edges'`` (no internal columns)."""
        return [c for c in getattr(self, frame).columns if c not in _INTERNAL]


def _problem(problems: list, file: str, row, column: str, message: str) -> None:
    problems.append({"bestand": file, "rij": None if row is None or pd.isna(row) else int(row), "kolom": column,
                     "melding": message})


def _empty_frame(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == _ROW else "string") for c in columns})


def _pick(cols: dict[str, str], *names: str) -> str | None:
    for name in names:
        if name in cols:
            return cols[name]
    return None


def _file_kind(name: str) -> tuple[str | None, str | None]:
    """What the exporter's file name says: ('ego'|'nodes'|'edges'|'matrix', entity type)."""
    for kind, marker in (("nodes", "attributelist"), ("edges", "edgelist"), ("matrix", "adjacencymatrix")):
        found = re.search(rf"(?:^|_){marker}_(.+)\.csv$", name, flags=re.IGNORECASE)
        if found:
            return kind, found.group(1)
    if re.search(r"(?:^|_)ego\.csv$", name, flags=re.IGNORECASE):
        return "ego", None
    return None, None


def _read_csv(path: Path, name: str, out: dict) -> None:
    try:
        frame = read_table_file(path)
    except DataValidationError as exc:
        if "geen gegevensrijen" in str(exc):  # an edge list of a type nobody had: a header only
            out["warnings"].append({"bestand": name, "rij": None, "kolom": "",
                                    "melding": "Het bestand heeft alleen een kopregel (geen rijen); overgeslagen."})
            return
        _problem(out["problems"], name, exc.row, exc.column or "", str(exc).split(" (bestand")[0])
        return
    kind, entity = _file_kind(name)
    if kind == "matrix":
        out["warnings"].append({"bestand": name, "rij": None, "kolom": "",
                                "melding": "Een adjacency matrix wordt niet gelezen: de edge list (…_edgeList_….csv) "
                                           "bevat dezelfde banden."})
        return
    cols = {str(c).strip().lower(): c for c in frame.columns}
    ego_col = _pick(cols, *_EGO_ID_COLUMNS)
    if ego_col is None:
        _problem(out["problems"], name, None, "networkCanvasEgoUUID",
                 "Dit is geen bestand van een Network Canvas-export: de kolom networkCanvasEgoUUID ontbreekt. Geef "
                 "de bestanden zoals Network Canvas ze exporteert (…_ego.csv, …_attributeList_….csv, "
                 "…_edgeList_….csv), of de zip.")
        return
    if kind is None:
        if _pick(cols, "networkcanvassourceuuid", "edgeid", "edge_id", "_from") or {"from", "to"} <= set(cols):
            kind = "edges"
        elif _pick(cols, "nodeid", "networkcanvasuuid", "_uid", "alter_id"):
            kind = "nodes"
        else:
            kind = "ego"
    rows = pd.Series(np.arange(len(frame)) + 2, index=frame.index, dtype="Int64")
    base = {_FILE: pd.Series(name, index=frame.index, dtype="string"), _ROW: rows, _EGO: frame[ego_col]}
    if _pick(cols, *_CASE_ID_COLUMNS):
        out["case_id_files"].append(name)
    if kind == "ego":
        start = _pick(cols, "sessionstart", "_sessionstart")
        base["__start"] = frame[start] if start else pd.Series(pd.NA, index=frame.index, dtype="string")
    elif kind == "nodes":
        uuid = _pick(cols, "networkcanvasuuid", "_uid")
        node_id = _pick(cols, "nodeid", "_id", "alter_id")
        type_col = _pick(cols, "networkcanvastype", "node_type", "_type")
        base[_UUID] = frame[uuid] if uuid else pd.Series(pd.NA, index=frame.index, dtype="string")
        base[_NODE] = frame[node_id] if node_id else pd.Series(pd.NA, index=frame.index, dtype="string")
        if entity:
            base[_TYPE] = pd.Series(entity, index=frame.index, dtype="string")
        elif type_col:
            base[_TYPE] = frame[type_col]
        else:
            base[_TYPE] = pd.Series("Person", index=frame.index, dtype="string")
            out["warnings"].append({"bestand": name, "rij": None, "kolom": "",
                                    "melding": "Het soort knoop staat niet in de bestandsnaam (…_attributeList_"
                                               "<soort>.csv); de rijen zijn als personen gelezen."})
        if not uuid:
            _problem(out["problems"], name, None, "networkCanvasUUID",
                     "De kolom networkCanvasUUID ontbreekt: zonder de id van elke andere kunnen de banden niet "
                     "gekoppeld worden.")
    else:
        type_col = _pick(cols, "networkcanvastype", "edge_type", "_type")
        base[_UUID] = frame[_pick(cols, "networkcanvasuuid", "_uid")] if _pick(cols, "networkcanvasuuid", "_uid") \
            else pd.Series(pd.NA, index=frame.index, dtype="string")
        base[_TYPE] = pd.Series(entity, index=frame.index, dtype="string") if entity else (
            frame[type_col] if type_col else pd.Series("edge", index=frame.index, dtype="string"))
        for target, names in ((_SRC, ("networkcanvassourceuuid",)), (_TGT, ("networkcanvastargetuuid",)),
                              (_FROM, ("from", "_from")), (_TO, ("to", "_to"))):
            col = _pick(cols, *names)
            base[target] = frame[col] if col else pd.Series(pd.NA, index=frame.index, dtype="string")
        if not _pick(cols, "networkcanvassourceuuid", "from", "_from"):
            _problem(out["problems"], name, None, "networkCanvasSourceUUID",
                     "Deze edge list heeft geen kolommen networkCanvasSourceUUID/networkCanvasTargetUUID of from/to.")
    variables = [c for c in frame.columns if str(c).strip().lower() not in _TECHNICAL
                 and str(c).strip().lower() not in _CASE_ID_COLUMNS and c not in _INTERNAL]
    out[kind].append(pd.concat([pd.DataFrame(base), frame[variables]], axis=1))


def _read_graphml_file(path: Path, name: str, out: dict) -> None:
    try:
        doc = read_graphml(path, file=name)
    except DataValidationError as exc:
        for p in exc.problems or [{"bestand": name, "rij": exc.row, "kolom": exc.column or "",
                                   "melding": str(exc).split(" (bestand")[0]}]:
            out["problems"].append(p)
        return
    out["graphml_warnings"][name] = list(doc.warnings)
    if not doc.is_network_canvas:
        ours = "kind" in doc.nodes.columns
        _problem(out["problems"], name, None, "",
                 "Dit GraphML-bestand is een export van Steunkaart; importeer het met --graphml (of op de pagina "
                 "als GraphML van Steunkaart)." if ours else
                 "Dit GraphML-bestand komt niet uit Network Canvas (geen networkCanvasUUID en geen Network "
                 "Canvas-namespace). Exporteer het gesprek opnieuw uit Network Canvas.")
        return
    graphs = doc.graphs
    ego = graphs["networkCanvasUUID"] if "networkCanvasUUID" in graphs else pd.Series(pd.NA, index=graphs.index,
                                                                                         dtype="string")
    if "@sessionUUID" in graphs:
        ego = ego.fillna(graphs["@sessionUUID"])
    missing = ego.isna()
    for line in graphs.loc[missing, "line"]:
        _problem(out["problems"], name, line, "networkCanvasUUID",
                 "Deze <graph> heeft geen ego-id (networkCanvasUUID of nc:sessionUUID).")
    if "@caseId" in graphs or "@caseID" in graphs:
        out["case_id_files"].append(name)
    ego_of = dict(zip(graphs["graph"].astype(int), ego, strict=True))
    start = graphs["@sessionStartTime"] if "@sessionStartTime" in graphs else pd.Series(pd.NA, index=graphs.index,
                                                                                          dtype="string")
    data_cols = [c for c in graphs.columns if not c.startswith("@") and c not in ("graph", "line")
                 and c.lower() not in _TECHNICAL]
    egos = pd.concat([pd.DataFrame({_FILE: name, _ROW: graphs["line"], _EGO: ego, "__start": start}),
                      graphs[data_cols]], axis=1)
    out["ego"].append(egos)
    nodes = doc.nodes
    if len(nodes):
        cols = [c for c in nodes.columns if c not in ("graph", "node_id", "line") and c.lower() not in _TECHNICAL]
        base = pd.DataFrame({
            _FILE: name, _ROW: nodes["line"], _EGO: nodes["graph"].astype(int).map(ego_of).astype("string"),
            _UUID: nodes.get("networkCanvasUUID", pd.NA),
            _TYPE: nodes.get("networkCanvasType", "Person"),
            _NODE: nodes["node_id"]})
        out["nodes"].append(pd.concat([base, nodes[cols]], axis=1))
        if _UUID not in base or base[_UUID].isna().any() or base[_UUID].eq("").any():
            _problem(out["problems"], name, None, "networkCanvasUUID",
                     "Knopen zonder networkCanvasUUID: zonder de id van elke andere kunnen de banden niet gekoppeld "
                     "worden.")
    edges = doc.edges
    if len(edges):
        cols = [c for c in edges.columns if c not in ("graph", "edge_id", "source", "target", "line")
                and c.lower() not in _TECHNICAL]
        base = pd.DataFrame({
            _FILE: name, _ROW: edges["line"], _EGO: edges["graph"].astype(int).map(ego_of).astype("string"),
            _UUID: edges.get("networkCanvasUUID", pd.NA),
            _TYPE: edges.get("networkCanvasType", "edge"),
            _SRC: edges.get("networkCanvasSourceUUID", pd.NA),
            _TGT: edges.get("networkCanvasTargetUUID", pd.NA),
            _FROM: edges["source"], _TO: edges["target"]})
        out["edges"].append(pd.concat([base, edges[cols]], axis=1))


_CSV_SUFFIXES, _GRAPHML_SUFFIXES = (".csv",), (".graphml", ".xml")


def _expand(files, folder: Path, out: dict) -> list[tuple[str, Path]]:
    """Files, folders, zips and (name, bytes) uploads as (name for messages, path on disk)."""
    found: list[tuple[str, Path]] = []
    for n, item in enumerate(files):
        if isinstance(item, tuple):
            name, content = Path(str(item[0])).name, item[1]
            path = folder / f"upload{n}_{re.sub(r'[^0-9A-Za-z._-]', '_', name)}"
            path.write_bytes(bytes(content))
        else:
            path = Path(item)
            name = path.name
            if path.is_dir():
                found.extend(_expand(sorted(p for p in path.iterdir() if p.is_file()), folder, out))
                continue
            if not path.is_file():
                _problem(out["problems"], str(item), None, "", "Het bestand bestaat niet.")
                continue
        with path.open("rb") as fh:
            zipped = fh.read(4) == b"PK\x03\x04"
        if zipped and not name.lower().endswith((".xlsx", ".xlsm")):
            found.extend(_unzip(path, name, folder, out))
        elif name.lower().endswith(_CSV_SUFFIXES + _GRAPHML_SUFFIXES):
            found.append((name, path))
        elif not name.startswith("."):
            out["warnings"].append({"bestand": name, "rij": None, "kolom": "",
                                    "melding": "Geen CSV- of GraphML-bestand; niet gelezen."})
    return found


def _check_zip(path: Path, name: str) -> None:
    """The upload checks for zips (size, zip bombs, unsafe names, nested archives), without the shapefile rule."""
    limit = uploads.max_upload_bytes()
    if path.stat().st_size > limit:
        raise DataValidationError(f"Het zip-bestand is te groot (maximaal {uploads.format_mib(limit)} MiB).", file=name)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise DataValidationError("Het zip-bestand is beschadigd en kan niet gelezen worden.", file=name) from exc
    unpacked = min(uploads.UNPACK_FACTOR * limit, uploads.MAX_UNPACKED_BYTES)
    uploads._check_zip(name, members, lambda: path.open("rb"), max_unpacked=unpacked, nested=False)
    uploads._check_nested_content(name, members, lambda: path.open("rb"))


def _unzip(path: Path, name: str, folder: Path, out: dict) -> list[tuple[str, Path]]:
    try:
        _check_zip(path, name)
    except DataValidationError as exc:
        _problem(out["problems"], name, None, "", str(exc).split(" (bestand")[0])
        return []
    found, used = [], set()
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            parts = PurePosixPath(member.filename.replace("\\", "/")).parts
            base = parts[-1] if parts else ""
            if member.is_dir() or not base or base.startswith(".") or "__MACOSX" in parts:
                continue
            if not base.lower().endswith(_CSV_SUFFIXES + _GRAPHML_SUFFIXES):
                out["warnings"].append({"bestand": f"{name}/{member.filename}", "rij": None, "kolom": "",
                                        "melding": "Geen CSV- of GraphML-bestand; niet gelezen."})
                continue
            shown = base if base not in used else "/".join(parts[-2:])
            used.add(shown)
            target = folder / f"zip{len(found)}_{re.sub(r'[^0-9A-Za-z._-]', '_', base)}"
            target.write_bytes(archive.read(member))
            found.append((shown, target))
    if not found:
        _problem(out["problems"], name, None, "", "De zip bevat geen CSV- of GraphML-bestanden van Network Canvas.")
    return found


def read_network_canvas_export(files: str | Path | tuple | Sequence) -> NetworkCanvasSource:
    """Read a Network Canvas export (CSV files, GraphML files, their zip or folder, or uploads).

    Parameters
    ----------
    files : path, (name, bytes) or a list of them
        The export's files as Network Canvas wrote them, a zip of them (``networkCanvasExport.zip``)
        or a folder; uploads as ``(file name, content)``. CSV and GraphML may be mixed: an interview
        that is in both is read once, from the CSV.

    Returns
    -------
    NetworkCanvasSource

    Raises
    ------
    DataValidationError
        With every problem in ``problems`` (bestand, rij, kolom, melding): files that are missing,
        unreadable, not CSV/GraphML of Network Canvas (e.g. a GraphML without Network Canvas ids),
        broken XML (with the line), a zip bomb, or an export without any interview.
    """
    items = [files] if isinstance(files, str | Path | tuple) else list(files)
    out: dict = {"ego": [], "nodes": [], "edges": [], "warnings": [], "problems": [], "case_id_files": [],
                 "graphml_warnings": {}}
    with tempfile.TemporaryDirectory(prefix="steunkaart-nc-") as tmp:
        found = _expand(items, Path(tmp), out)
        # CSV first: an interview in both formats is then read from the CSV.
        for name, path in sorted(found, key=lambda f: not f[0].lower().endswith(_CSV_SUFFIXES)):
            reader = _read_csv if name.lower().endswith(_CSV_SUFFIXES) else _read_graphml_file
            try:
                reader(path, name, out)
            except DataValidationError as exc:
                _problem(out["problems"], name, exc.row, exc.column or "", str(exc).split(" (bestand")[0])
            except (ValueError, KeyError, TypeError, IndexError, UnicodeError) as exc:
                # Content no export has (a hand-edited file): say which file, never a traceback.
                _problem(out["problems"], name, None, "",
                         f"Het bestand kan niet gelezen worden ({type(exc).__name__}). Is het een onveranderde "
                         "export van Network Canvas?")
    if not out["problems"] and not out["ego"]:
        _problem(out["problems"], ", ".join(n for n, _ in found) or "export", None, "",
                 "Geen gesprekken gevonden: een Network Canvas-export heeft per gesprek een ego-bestand "
                 "(…_ego.csv) of een GraphML-bestand.")
    if out["problems"]:
        first = out["problems"][0]
        raise DataValidationError(
            f"De Network Canvas-export kan niet gelezen worden ({len(out['problems'])} probleem/problemen); er is "
            f"niets geïmporteerd. Eerste: {first['melding']}", file=first["bestand"], row=first["rij"],
            column=first["kolom"] or None, problems=out["problems"])
    warnings = out["warnings"]
    _graphml_after_csv(out, warnings)
    egos = _concat(out["ego"], [_FILE, _ROW, _EGO, "__start"], warnings)
    nodes = _concat(out["nodes"], [_FILE, _ROW, _EGO, _UUID, _TYPE, _NODE], warnings)
    edges = _concat(out["edges"], [_FILE, _ROW, _EGO, _UUID, _TYPE, _SRC, _TGT, _FROM, _TO], warnings)
    # The same interview twice (CSV and GraphML side by side, or exported twice): read once.
    twice = egos[_EGO].notna() & egos[_EGO].duplicated()
    if twice.any():
        dropped = egos.loc[twice, [_EGO, _FILE]]
        keep_file = egos.loc[~twice].drop_duplicates(_EGO).set_index(_EGO)[_FILE]
        for frame_name, frame in (("nodes", nodes), ("edges", edges)):
            from_dropped = frame.set_index([_EGO, _FILE]).index.isin(dropped.set_index([_EGO, _FILE]).index)
            frame = frame.loc[~from_dropped]
            if frame_name == "nodes":
                nodes = frame
            else:
                edges = frame
        warnings.append({"bestand": ", ".join(sorted(set(dropped[_FILE]))), "rij": None, "kolom": "",
                         "melding": f"{len(dropped)} gesprek(ken) staan twee keer in de export; alleen het eerste "
                                    f"is gelezen ({', '.join(sorted(set(keep_file)))})."})
        egos = egos.loc[~twice]
    inputs = [Path(str(i[0] if isinstance(i, tuple) else i)).name for i in items]
    return NetworkCanvasSource(sorted({n for n, _ in found}), egos.reset_index(drop=True),
                               nodes.reset_index(drop=True), edges.reset_index(drop=True), warnings,
                               sorted(set(out["case_id_files"])), inputs)


def _graphml_after_csv(out: dict, warnings: list[dict]) -> None:
    """Network Canvas exports an interview as CSV and as GraphML side by side: read it once, from the CSV.

    Done before the tables are joined, so the variables (and the reader's notes) of a GraphML file
    that only repeats CSV interviews do not show up in the report.
    """
    def is_graphml(frame: pd.DataFrame) -> bool:
        return len(frame) > 0 and str(frame[_FILE].iloc[0]).lower().endswith(_GRAPHML_SUFFIXES)

    from_csv = set()
    for frame in out["ego"]:
        if not is_graphml(frame):
            from_csv |= set(frame[_EGO].astype("string").str.strip().dropna())
    repeated, files = 0, set()
    for kind in ("ego", "nodes", "edges"):
        kept = []
        for frame in out[kind]:
            if is_graphml(frame):
                again = frame[_EGO].astype("string").str.strip().isin(list(from_csv)).fillna(False).to_numpy()
                if again.any():
                    files.add(str(frame[_FILE].iloc[0]))
                    repeated += int(again.sum()) if kind == "ego" else 0
                    frame = frame.loc[~again]
                if frame.empty:
                    continue
            kept.append(frame)
        out[kind] = kept
    still_read = {str(f[_FILE].iloc[0]) for kind in ("ego", "nodes", "edges") for f in out[kind] if len(f)}
    for name, notes in out["graphml_warnings"].items():
        if name in still_read:
            warnings.extend(notes)
    if repeated:
        warnings.append({"bestand": ", ".join(sorted(files)), "rij": None, "kolom": "",
                         "melding": f"{repeated} gesprek(ken) staan zowel in de CSV- als in de GraphML-bestanden; ze "
                                    "zijn één keer gelezen (uit de CSV)."})


def _concat(frames: list[pd.DataFrame], first: list[str], warnings: list[dict]) -> pd.DataFrame:
    """All files of one kind in one table; cells stripped, empty and ENCRYPTED cells ``<NA>`` (once, vectorised)."""
    if not frames:
        return _empty_frame(first)
    out = pd.concat(frames, ignore_index=True, sort=False)
    columns = {}
    for col in out.columns:
        if col == _ROW:
            columns[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
            continue
        text = out[col].astype("string").str.strip()
        encrypted = text.eq(_ENCRYPTED).fillna(False)
        if col not in _INTERNAL and encrypted.any():
            for file, count in out.loc[encrypted.to_numpy(), _FILE].value_counts(sort=False).items():
                warnings.append({"bestand": file, "rij": None, "kolom": col,
                                 "melding": f"{int(count)} waarde(n) zijn in Network Canvas versleuteld (ENCRYPTED) "
                                            "en worden als leeg gelezen."})
        columns[col] = text.where((text != "") & ~encrypted)
    out = pd.DataFrame(columns)
    return out[first + [c for c in out.columns if c not in first]]


# --------------------------------------------------------------------------- mapping the source

@dataclass
class NetworkCanvasPreview:
    """What an import with this mapping would store, and everything the user should know first.

    ``counts``: personen, relaties, onderlinge_banden, overgeslagen_knopen, overgeslagen_banden.
    ``per_interview``: per ego (person_id, bestand, anderen, relaties, onderlinge_banden,
    overgeslagen_knopen). ``fields``: our field, its Dutch label, the source variable (or ``None``)
    and how many rows have a value. ``identifying``: columns not imported because they identify
    people (bestand, kolom, reden). ``skipped_node_types``: node types that are not persons (soort,
    knopen, banden). ``unmapped_variables``: variables no field uses (niveau, variabele, gevuld).
    ``unmapped_values``: values of mapped variables without a translation (veld, variabele, waarde,
    aantal); ``warnings`` and ``problems`` are report rows (bestand, rij, kolom, melding). Any problem
    blocks the import. ``frames``: persons, ties, participation and alter_links as they would be stored.
    """

    files: list[str]
    counts: dict[str, int]
    per_interview: pd.DataFrame
    fields: pd.DataFrame
    identifying: pd.DataFrame
    skipped_node_types: pd.DataFrame
    unmapped_variables: pd.DataFrame
    unmapped_values: pd.DataFrame
    warnings: pd.DataFrame
    problems: pd.DataFrame
    frames: dict[str, pd.DataFrame]

    @property
    def ok(self) -> bool:
        return self.problems.empty

    def raise_if_problems(self) -> None:
        """Raise one DataValidationError with every problem (nothing is imported)."""
        if self.problems.empty:
            return
        problems = self.problems.astype(object).where(self.problems.notna(), None).to_dict("records")
        first = problems[0]
        raise DataValidationError(
            f"{len(problems)} probleem/problemen gevonden; er is niets geïmporteerd. Eerste: {first['melding']}",
            file=first["bestand"], row=first["rij"], column=first["kolom"] or None, problems=problems)

    def report_lines(self) -> list[str]:
        """The report in Dutch, one line per item (for the command line; the page shows the tables)."""
        c = self.counts
        lines = [f"Network Canvas-export ({len(self.files)} bestand(en)): {c['personen']} gesprekken (personen), "
                 f"{c['relaties']} relaties, {c['onderlinge_banden']} banden tussen anderen."]
        if len(self.identifying):
            cols = ", ".join(dict.fromkeys(self.identifying["kolom"]))
            lines.append(f"Niet geïmporteerd (identificerend): {cols}.")
        for row in self.skipped_node_types.itertuples(index=False):
            lines.append(f"Overgeslagen (geen personen): {row.knopen} knopen van het soort '{row.soort}'"
                         + (f" en {row.banden} banden daarmee" if row.banden else "") + ".")
        found = self.fields.loc[self.fields["variabele"].notna()]
        if len(found):
            lines.append("Gekoppeld: " + "; ".join(f"{r.label} ← {r.variabele}" for r in found.itertuples()) + ".")
        missing = self.fields.loc[self.fields["variabele"].isna() & self.fields["belangrijk"]]
        if len(missing):
            lines.append("Niet gevonden: " + ", ".join(missing["label"]) + ".")
        if len(self.unmapped_variables):
            parts = [f"{r.variabele} ({r.niveau}, {r.gevuld} gevuld)" for r in self.unmapped_variables.itertuples()]
            lines.append(f"Niet gekoppelde variabelen ({len(parts)}): " + ", ".join(parts) + ".")
        for r in self.unmapped_values.itertuples(index=False):
            lines.append(f"Niet gekoppelde waarde: {r.veld} ({r.variabele}) '{r.waarde}' {r.aantal}×.")
        for r in self.warnings.itertuples(index=False):
            where = ", ".join(f"{k} {v}" for k, v in (("bestand", r.bestand), ("rij", r.rij), ("kolom", r.kolom))
                              if v is not None and not pd.isna(v) and v != "")
            lines.append(f"Let op: {r.melding}" + (f" ({where})" if where else ""))
        return lines


@dataclass
class _Resolved:
    source: str  # what the report shows: a column, or 'variable_* (n opties)'
    used: list[str]
    raw: pd.Series  # the source text per row (the option's name for split categoricals)
    norm: pd.Series  # normalised for matching
    column: pd.Series  # the column each row's value came from (for the row report)


def _boolish(values: pd.Series) -> bool:
    norm = _norm_values(values).dropna()
    return bool(norm.isin(list(_BOOL_VALUES)).all())


def _truthy(values: pd.Series) -> np.ndarray:
    return _norm_values(values).isin([k for k, v in _BOOL_VALUES.items() if v]).to_numpy(dtype=bool)


def _resolve(frame: pd.DataFrame, available: list[str], fm: FieldMapping, *, rank=None) -> _Resolved | None:
    """Find the field's variable in the frame: one column, or the boolean columns of a split categorical."""
    by_key: dict[str, str] = {}
    for col in available:
        by_key.setdefault(_norm_key(col), col)
    for var in fm.variables:
        col = by_key.get(_norm_key(var))
        if col is not None:
            raw = frame[col]
            return _Resolved(col, [col], raw, _norm_values(raw), pd.Series(col, index=frame.index, dtype="string"))
    split = [(var, opts) for var in fm.variables if (opts := _options(frame, available, var))]
    if split:
        var, options = split[0]
        # 'relationship' also matches relationship_type_partner; the longer candidate names the options.
        for longer, opts in split[1:]:
            if len(_norm_key(longer)) > len(_norm_key(var)) and _norm_key(longer).startswith(_norm_key(var)) \
                    and set(opts) <= set(options):
                var, options = longer, opts
        prefix = next(iter(options))[: -len(next(iter(options.values()))) - 1]
        return _from_options(frame, options, fm.values, rank, f"{prefix}_* ({len(options)} opties)")
    if fm.columns:
        present = {col: col for col in available if col in fm.columns}
        if present:
            values = {_norm_value(col): ours for col, ours in fm.columns.items()}
            return _from_options(frame, present, values, rank, ", ".join(present))
    return None


def _options(frame: pd.DataFrame, available: list[str], var: str) -> dict[str, str]:
    """The boolean columns ``<var>_<option>`` of a categorical variable that Network Canvas split: column → option."""
    options = {}
    for col in available:
        for at in [m.start() for m in re.finditer("_", col)]:
            if _norm_key(col[:at]) == _norm_key(var) and col[at + 1:] and _boolish(frame[col]):
                options[col] = col[at + 1:]
                break
    return options


def _from_options(frame: pd.DataFrame, options: dict[str, str], values: dict, rank, source: str) -> _Resolved:
    cols = list(options)
    order = sorted(range(len(cols)), key=lambda i: (rank(values.get(_norm_value(options[cols[i]]))) if rank else 0, i))
    cols = [cols[i] for i in order]
    truth = np.column_stack([_truthy(frame[c]) for c in cols])
    any_true = truth.any(axis=1)
    first = truth.argmax(axis=1)
    names = np.array([options[c] for c in cols], dtype=object)
    raw = pd.Series(np.where(any_true, names[first], None), index=frame.index, dtype="string")
    column = pd.Series(np.where(any_true, np.array(cols, dtype=object)[first], None), index=frame.index,
                       dtype="string")
    return _Resolved(source, cols, raw, _norm_values(raw), column)


def _lookup(norm: pd.Series, table: dict) -> tuple[np.ndarray, np.ndarray]:
    """Translate normalised values (vectorised): (our values as object array, found mask)."""
    keys = list(table)
    codes = pd.Index(keys, dtype=object).get_indexer(norm.astype(object).where(norm.notna(), None))
    found = codes >= 0
    out = np.full(len(norm), None, dtype=object)
    if keys:
        targets = np.array([table[k] for k in keys] + [None], dtype=object)
        out[found] = targets[codes[found]]
    return out, found


class _Builder:
    def __init__(self, source: NetworkCanvasSource, mapping: NetworkCanvasMapping) -> None:
        self.source, self.mapping = source, mapping
        self.problems: list[dict] = []
        self.warnings: list[dict] = list(source.warnings)
        self.unmapped: list[dict] = []
        self.fields: list[dict] = []
        self.used: dict[str, set[str]] = {"ego": set(), "alter": set(), "band": set()}

    def rows(self, frame: pd.DataFrame, mask, column, message) -> None:
        mask = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        if not mask.any():
            return
        sub = frame.loc[mask]
        cols = column if isinstance(column, pd.Series) else pd.Series(column, index=frame.index)
        for pos, (file, row, col) in enumerate(zip(sub[_FILE], sub[_ROW], cols[mask], strict=True)):
            text = message(np.flatnonzero(mask)[pos]) if callable(message) else message
            _problem(self.problems, file, row, "" if pd.isna(col) else str(col), text)

    def field(self, level: str, name: str, label: str, resolved: _Resolved | None, important: bool) -> None:
        self.fields.append({"niveau": level, "veld": name, "label": label,
                            "variabele": resolved.source if resolved else None,
                            "gevuld": int(resolved.raw.notna().sum()) if resolved else 0, "belangrijk": important})
        if resolved:
            self.used[level].update(resolved.used)

    def translate(self, frame: pd.DataFrame, resolved: _Resolved, table: dict, name: str, label: str,
                  extra=None) -> pd.Series:
        """Our value per row; unknown values are reported (or are a problem when they look personal)."""
        ours, found = _lookup(resolved.norm, table)
        result = pd.Series(ours, index=frame.index, dtype=object)
        if extra is not None:
            result, found = extra(resolved, result, found)
        unknown = resolved.norm.notna().to_numpy() & ~found
        if unknown.any():
            kind = personal_value_kind(resolved.raw.where(unknown), names=True)
            personal = kind.notna().to_numpy() & unknown
            self.rows(frame, personal, resolved.column,
                      lambda p: f"De waarde voor {label} lijkt {kind.iloc[p]}; zulke gegevens horen niet in "
                                "Steunkaart (de waarde wordt niet getoond). Haal hem uit het bestand, of koppel deze "
                                "variabele niet.")
            rest = resolved.raw[unknown & ~personal]
            for (value, column), count in pd.DataFrame({"v": rest, "c": resolved.column[unknown & ~personal]}) \
                    .value_counts(sort=False).items():
                self.unmapped.append({"veld": label, "variabele": column, "waarde": str(value)[:60],
                                      "aantal": int(count)})
        return result


def _available(frame: pd.DataFrame, mapping: NetworkCanvasMapping) -> tuple[list[str], list[str]]:
    """(variables that may be mapped, identifying columns)."""
    allowed = {_norm_key(c) for c in mapping.not_identifying}
    cols = [c for c in frame.columns if c not in _INTERNAL]
    ident = [c for c in cols if is_identifying_column(c) and _norm_key(c) not in allowed]
    return [c for c in cols if c not in ident], ident


def _age_from_number(resolved, result, found):
    age = pd.to_numeric(resolved.raw, errors="coerce")
    band = pd.cut(age, [18, 30, 45, 65, 75, 85, np.inf], right=False, labels=list(AGE_BANDS))
    numeric = ~found & age.notna().to_numpy() & band.notna().to_numpy()
    result = result.where(~numeric, band.astype(object))
    return result, found | numeric


def _persons(b: _Builder, known_buurten: set[str] | None) -> tuple[pd.DataFrame, dict]:
    egos, m = b.source.egos, b.mapping
    available, _ = _available(egos, m)
    persons = pd.DataFrame(index=egos.index)
    b.rows(egos, egos[_EGO].isna(), "networkCanvasEgoUUID", "Het gesprek heeft geen ego-id (networkCanvasEgoUUID).")
    fallback = ("NC-" + egos[_EGO].str.replace("-", "", regex=False).str[:8]).astype("string")
    pid_field = m.ego.get("person_id")
    resolved = _resolve(egos, available, pid_field) if pid_field else None
    b.field("ego", "person_id", EGO_FIELDS["person_id"], resolved, False)
    pid = fallback
    if resolved is not None:
        given = resolved.raw
        kind = personal_value_kind(given, names=True)
        opaque = given.str.fullmatch(_OPAQUE_ID.pattern).fillna(True).astype(bool)
        b.rows(egos, given.notna() & (kind.notna() | ~opaque), resolved.column,
               "De code van de persoon is geen ondoorzichtige code (alleen letters, cijfers en - _ . : |, zonder "
               "spaties; geen namen). De waarde zelf wordt niet getoond: het kan een persoonsgegeven zijn.")
        if given.isna().any() and given.notna().any():
            b.warnings.append({"bestand": resolved.source, "rij": None, "kolom": resolved.source,
                               "melding": f"{int(given.isna().sum())} gesprek(ken) zonder code; zij krijgen "
                                          "'NC-' + het begin van de ego-id."})
        pid = given.fillna(fallback)
    dup = pid.notna() & pid.duplicated(keep=False)
    b.rows(egos, dup & pid.duplicated(), resolved.column if resolved else "networkCanvasEgoUUID",
           "Deze code van de persoon komt vaker voor in de export; elke persoon heeft een eigen code.")
    persons["person_id"] = pid
    # Buurt: a CBS code, never translated.
    fm = m.ego.get("buurt_code")
    resolved = _resolve(egos, available, fm) if fm else None
    b.field("ego", "buurt_code", EGO_FIELDS["buurt_code"], resolved, True)
    if resolved is None:
        buurt = pd.Series(pd.NA, index=egos.index, dtype="string")
        if len(egos):
            b.warnings.append({"bestand": "", "rij": None, "kolom": "",
                               "melding": "Geen variabele met de buurtcode gevonden: de personen krijgen geen buurt "
                                          "(niet op de kaart, niet per buurt geteld; een wijkteam kan ze niet "
                                          "importeren). Koppel de buurtvariabele in een koppeling."})
    else:
        buurt = resolved.raw.str.upper().str.replace(r"\s", "", regex=True)
        kind = personal_value_kind(resolved.raw, names=True)
        bad = buurt.notna() & ~buurt.str.fullmatch(r"BU\d{8}").fillna(False).astype(bool)
        b.rows(egos, bad & kind.notna(), resolved.column,
               lambda p: f"De buurtcode lijkt {kind.iloc[p]} (de waarde wordt niet getoond); een buurtcode is BU + "
                         "8 cijfers.")
        b.rows(egos, bad & kind.isna(), resolved.column,
               lambda p: f"'{resolved.raw.iloc[p]}' is geen CBS-buurtcode (BU + 8 cijfers, bijv. BU03630000).")
        if known_buurten is not None:
            b.rows(egos, ~bad & buurt.notna() & ~buurt.isin(list(known_buurten)), resolved.column,
                   lambda p: f"buurtcode '{buurt.iloc[p]}' staat niet in de opslag; importeer eerst de "
                             "CBS-gebieden.")
    persons["buurt_code"] = buurt
    for name, extra in (("age_band", _age_from_number), ("household_type", None)):
        fm = m.ego.get(name)
        resolved = _resolve(egos, available, fm) if fm else None
        b.field("ego", name, EGO_FIELDS[name], resolved, False)
        persons[name] = (b.translate(egos, resolved, {**_OUR_VALUES[name], **fm.values}, name, EGO_FIELDS[name],
                                     extra) if resolved else pd.Series(None, index=egos.index, dtype=object))
    for i in range(1, 7):
        name = f"lsns_{i}"
        fm = m.ego.get(name)
        resolved = _resolve(egos, available, fm) if fm else None
        b.field("ego", name, EGO_FIELDS[name], resolved, False)
        values = b.translate(egos, resolved, fm.values or _preset_values(_LSNS_WORDS), name, EGO_FIELDS[name]) \
            if resolved else pd.Series(None, index=egos.index, dtype=object)
        persons[name] = pd.to_numeric(values, errors="coerce").astype("Int64")
    for i in range(1, 12):
        name = f"djg_{i}"
        fm = m.ego.get(name)
        resolved = _resolve(egos, available, fm) if fm else None
        b.field("ego", name, EGO_FIELDS[name], resolved, False)
        values = b.translate(egos, resolved, fm.values or _preset_values(_DJG_WORDS), name, EGO_FIELDS[name]) \
            if resolved else pd.Series(None, index=egos.index, dtype=object)
        persons[name] = values.astype("string")
    started = pd.to_datetime(egos["__start"], errors="coerce", utc=True, format="ISO8601")
    persons["measured_on"] = started.dt.tz_convert("Europe/Amsterdam").dt.tz_localize(None).dt.normalize()
    fm = m.ego.get("consent")
    resolved = _resolve(egos, available, fm) if fm else None
    b.field("ego", "consent", EGO_FIELDS["consent"], resolved, False)
    consent = pd.Series(True, index=egos.index)
    if resolved is not None:
        given = b.translate(egos, resolved, {**_BOOL_VALUES, **fm.values}, "consent", EGO_FIELDS["consent"])
        consent = ~given.eq(False)
    persons["consent"] = consent.astype(bool)
    return persons.reset_index(drop=True), dict(zip(egos[_EGO], persons["person_id"], strict=True))


_ROLE_RANK = {r: i for i, r in enumerate(ROLES)}


def _ties(b: _Builder, ego_of: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Ties of the person alters; also the skipped nodes and whether each node is a person."""
    nodes, m = b.source.nodes, b.mapping
    person_types = {_norm_key(t) for t in m.person_node_types}
    is_person = _norm_keys(nodes[_TYPE]).isin(list(person_types)).fillna(False).astype(bool)
    alters = nodes.loc[is_person]
    skipped = nodes.loc[~is_person]
    ego_id = alters[_EGO].map(ego_of)
    b.rows(alters, ego_id.isna(), "networkCanvasEgoUUID",
           "Deze andere hoort bij een gesprek (ego) dat niet in de export staat; geef ook het ego-bestand of het "
           "GraphML-bestand van dat gesprek.")
    b.rows(alters, alters[_UUID].isna(), "networkCanvasUUID", "Deze andere heeft geen networkCanvasUUID.")
    bad_key = alters[_UUID].notna() & ~alters[_UUID].str.fullmatch(_OPAQUE_ID.pattern).fillna(False).astype(bool)
    b.rows(alters, bad_key, "networkCanvasUUID",
           "De id van deze andere is geen ondoorzichtige code (de waarde wordt niet getoond).")
    dup = alters[_EGO].notna() & alters.duplicated([_EGO, _UUID])
    if dup.any():
        b.warnings.append({"bestand": ", ".join(sorted(set(alters.loc[dup, _FILE]))), "rij": None, "kolom": "",
                           "melding": f"{int(dup.sum())} andere(n) staan twee keer in de export (zelfde gesprek en "
                                      "id); alleen de eerste is gelezen."})
        alters, ego_id = alters.loc[~dup], ego_id.loc[~dup]
    available, _ = _available(alters, m)
    # Columns that only the skipped node types fill belong to them, not to the persons.
    available = [c for c in available if alters[c].notna().any() or not skipped.get(c, pd.Series(dtype="string"))
                 .notna().any()]
    ties = pd.DataFrame({"ego_id": ego_id.astype("string"), "alter_id": pd.Series(None, index=alters.index,
                                                                                 dtype=object),
                         "alter_key": alters[_UUID]}, index=alters.index)
    fm = m.alter.get("role")
    resolved = _resolve(alters, available, fm, rank=lambda v: _ROLE_RANK.get(v, len(ROLES))) if fm else None
    b.field("alter", "role", ALTER_FIELDS["role"], resolved, True)
    if resolved is None:
        role = pd.Series("anders", index=alters.index, dtype=object)
        if len(alters):
            b.warnings.append({"bestand": "", "rij": None, "kolom": "",
                               "melding": "Geen variabele met de rol (relatie) gevonden: alle relaties krijgen rol "
                                          "'anders'. Koppel de rolvariabele in een koppeling."})
    else:
        role = b.translate(alters, resolved, {**_OUR_VALUES["role"], **fm.values}, "role", ALTER_FIELDS["role"])
        role = role.where(role.notna(), "anders")
    ties["role"] = role.astype("string")
    found_support = {}
    for kind in SUPPORT_TYPES:
        flags = np.zeros(len(alters), dtype=bool)
        used = []
        by_key = {}
        for col in available:
            by_key.setdefault(_norm_key(col), col)
        for var in m.support.get(kind, ()):
            col = by_key.get(_norm_key(var))
            if col is None or col in used:
                continue
            used.append(col)
            resolved = _Resolved(col, [col], alters[col], _norm_values(alters[col]),
                                 pd.Series(col, index=alters.index, dtype="string"))
            value = b.translate(alters, resolved, _BOOL_VALUES, f"support_{kind}", SUPPORT_LABELS[kind])
            flags |= value.eq(True).to_numpy(dtype=bool)
        source = ", ".join(used) if used else None
        found_support[kind] = bool(used)
        b.fields.append({"niveau": "alter", "veld": f"support_{kind}", "label": SUPPORT_LABELS[kind],
                         "variabele": source, "gevuld": int(sum(alters[c].notna().sum() for c in used)),
                         "belangrijk": True})
        b.used["alter"].update(used)
        ties[f"support_{kind}"] = flags
    if len(alters) and not found_support["emotional"]:
        text = ("Geen variabele voor emotionele steun gevonden" + (
            " (en ook niet voor andere steun)" if not any(found_support.values()) else "") +
                ": dan lijkt niemand emotionele steun te hebben en geeft Steunkaart iedereen onterecht het signaal "
                "'geen emotionele steun'. Koppel de steunvariabelen in een koppeling (--mapping), of zet daarin "
                "\"allow_without_support\": true als de gesprekken geen vragen over steun hadden.")
        if m.allow_without_support:
            b.warnings.append({"bestand": "", "rij": None, "kolom": "", "melding": text.split(":")[0]
                               + " (allow_without_support): de signalen over emotionele steun zeggen voor deze "
                                 "personen niets."})
        else:
            _problem(b.problems, ", ".join(sorted(set(alters[_FILE]))), None, "", text)
    for kind, present in found_support.items():
        if len(alters) and not present and kind != "emotional" and any(found_support.values()):
            b.warnings.append({"bestand": "", "rij": None, "kolom": "",
                               "melding": f"Geen variabele voor {SUPPORT_LABELS[kind]} gevonden: niemand krijgt die "
                                          "steun."})
    fm = m.alter.get("closeness")
    resolved = _resolve(alters, available, fm) if fm else None
    b.field("alter", "closeness", ALTER_FIELDS["closeness"], resolved, True)
    closeness = b.translate(alters, resolved, fm.values, "closeness", ALTER_FIELDS["closeness"]) if resolved \
        else pd.Series(None, index=alters.index, dtype=object)
    ties["closeness"] = pd.to_numeric(closeness, errors="coerce").astype("Int64")
    if resolved is None and len(alters):
        b.warnings.append({"bestand": "", "rij": None, "kolom": "",
                           "melding": "Geen variabele voor nabijheid gevonden: het ecogram zet iedereen op de "
                                      "buitenste ring."})
    fm = m.alter.get("contact_frequency")
    resolved = _resolve(alters, available, fm) if fm else None
    b.field("alter", "contact_frequency", ALTER_FIELDS["contact_frequency"], resolved, True)
    ties["contact_frequency"] = (b.translate(alters, resolved, {**_OUR_VALUES["contact_frequency"], **fm.values},
                                             "contact_frequency", ALTER_FIELDS["contact_frequency"])
                                 if resolved else pd.Series(None, index=alters.index, dtype=object)).astype("string")
    if resolved is None and len(alters):
        b.warnings.append({"bestand": "", "rij": None, "kolom": "",
                           "melding": "Geen variabele voor de contactfrequentie gevonden: de rolvariatie (rollen "
                                      "met minstens tweewekelijks contact) is dan 0."})
    for name in ("reciprocal", "same_buurt"):
        fm = m.alter.get(name)
        resolved = _resolve(alters, available, fm) if fm else None
        b.field("alter", name, ALTER_FIELDS[name], resolved, name == "same_buurt")
        # Three-valued: an empty cell stays unknown, never 'nee'.
        value = b.translate(alters, resolved, {**_BOOL_VALUES, **fm.values}, name, ALTER_FIELDS[name]) \
            if resolved else pd.Series(None, index=alters.index, dtype=object)
        ties[name] = value.astype("boolean")
    b.available_alter = available
    return ties.reset_index(drop=True), skipped, is_person


def _links(b: _Builder, ego_of: dict, is_person: pd.Series) -> tuple[pd.DataFrame, dict[str, int]]:
    edges, nodes, m = b.source.edges, b.source.nodes, b.mapping
    skipped_links: dict[str, int] = {}
    if edges.empty:
        return pd.DataFrame({"ego_id": pd.Series(dtype="string"), "source": pd.Series(dtype="string"),
                             "target": pd.Series(dtype="string")}), skipped_links
    if m.link_edge_types is not None:
        wanted = {_norm_key(t) for t in m.link_edge_types}
        chosen = _norm_keys(edges[_TYPE]).isin(list(wanted)).fillna(False).astype(bool)
        if (~chosen).any():
            b.warnings.append({"bestand": "", "rij": None, "kolom": "",
                               "melding": f"{int((~chosen).sum())} band(en) van andere soorten dan "
                                          f"{', '.join(m.link_edge_types)} zijn niet gelezen (link_edge_types)."})
        edges = edges.loc[chosen]
    # From/to are node ids within one interview; the UUID columns win when they are there.
    by_node = pd.Series(nodes[_UUID].to_numpy(), index=pd.MultiIndex.from_arrays([nodes[_EGO], nodes[_NODE]]))
    by_node = by_node[~by_node.index.duplicated()]

    def endpoint(uuid_col: str, id_col: str) -> pd.Series:
        via_id = pd.Series(by_node.reindex(pd.MultiIndex.from_arrays([edges[_EGO], edges[id_col]])).to_numpy(),
                           index=edges.index, dtype="string")
        return edges[uuid_col].fillna(via_id)

    source, target = endpoint(_SRC, _FROM), endpoint(_TGT, _TO)
    by_uuid = pd.MultiIndex.from_arrays([nodes[_EGO], nodes[_UUID]])
    first = ~by_uuid.duplicated()
    node_type = pd.Series(nodes[_TYPE].to_numpy()[first], index=by_uuid[first])
    person = pd.Series(is_person.to_numpy()[first], index=by_uuid[first])

    def lookup(series: pd.Series, ends: pd.Series) -> pd.Series:
        return pd.Series(series.reindex(pd.MultiIndex.from_arrays([edges[_EGO], ends])).to_numpy(),
                         index=edges.index)

    src_person, tgt_person = lookup(person, source), lookup(person, target)
    src_type, tgt_type = lookup(node_type, source), lookup(node_type, target)
    ego_id = edges[_EGO].map(ego_of)
    b.rows(edges, ego_id.isna(), "networkCanvasEgoUUID",
           "Deze band hoort bij een gesprek (ego) dat niet in de export staat.")
    unknown_src = ego_id.notna() & src_person.isna()
    unknown_tgt = ego_id.notna() & ~unknown_src & tgt_person.isna()
    b.rows(edges, unknown_src, "networkCanvasSourceUUID",
           "Het begin van deze band staat niet bij de anderen van dit gesprek (ontbreekt een attributeList-bestand?).")
    b.rows(edges, unknown_tgt, "networkCanvasTargetUUID",
           "Het eind van deze band staat niet bij de anderen van dit gesprek (ontbreekt een attributeList-bestand?).")
    known = ego_id.notna() & src_person.notna() & tgt_person.notna()
    loop = known & (source == target)
    for file, row in zip(edges.loc[loop, _FILE], edges.loc[loop, _ROW], strict=True):
        b.warnings.append({"bestand": file, "rij": None if pd.isna(row) else int(row), "kolom": "",
                           "melding": "Een band van een andere naar zichzelf (lus) wordt overgeslagen."})
    both = known & ~loop & src_person.fillna(False).astype(bool) & tgt_person.fillna(False).astype(bool)
    other = known & ~loop & ~both
    if other.any():
        kinds = pd.concat([src_type.where(~src_person.fillna(True).astype(bool)),
                           tgt_type.where(~tgt_person.fillna(True).astype(bool))], axis=1).bfill(axis=1).iloc[:, 0]
        skipped_links = {str(k): int(v) for k, v in kinds[other].value_counts().items()}
    links = pd.DataFrame({"ego_id": ego_id[both].astype("string"), "source": source[both], "target": target[both]})
    # An alter link is who knows whom: one per pair, whichever the direction or the edge type.
    pair = pd.DataFrame({"e": links["ego_id"], "a": links[["source", "target"]].min(axis=1),
                         "z": links[["source", "target"]].max(axis=1)})
    dup = pair.duplicated()
    if dup.any():
        b.warnings.append({"bestand": "", "rij": None, "kolom": "",
                           "melding": f"{int(dup.sum())} band(en) tussen hetzelfde paar (een andere soort band of de "
                                      "andere richting) zijn samengenomen tot één onderlinge band."})
    return links.loc[~dup.to_numpy()].reset_index(drop=True), skipped_links


def preview_network_canvas(source: NetworkCanvasSource, mapping: NetworkCanvasMapping | None = None, *,
                           known_buurten: set[str] | None = None) -> NetworkCanvasPreview:
    """What importing ``source`` with ``mapping`` (default: the preset) would store, and the report.

    Parameters
    ----------
    source : NetworkCanvasSource
        From :func:`read_network_canvas_export`.
    mapping : NetworkCanvasMapping, optional
        Default :data:`NETWORK_CANVAS_PRESET`.
    known_buurten : set of str, optional
        Buurt codes in the store; others are a problem on their row.

    Returns
    -------
    NetworkCanvasPreview
        Never raises for the content: problems are in ``problems`` (use ``raise_if_problems``).
    """
    mapping = mapping or NetworkCanvasMapping.preset()
    b = _Builder(source, mapping)
    persons, ego_of = _persons(b, known_buurten)
    ties, skipped, is_person = _ties(b, ego_of)
    links, skipped_links = _links(b, ego_of, is_person)
    file_of = dict(zip(persons["person_id"], source.egos[_FILE], strict=True))
    refused = persons.loc[~persons["consent"], "person_id"]
    if len(refused):  # as the conversation form: without consent nothing is stored
        b.warnings.append({"bestand": "", "rij": None, "kolom": "",
                           "melding": f"{len(refused)} gesprek(ken) zonder toestemming zijn niet geïmporteerd."})
        persons = persons.loc[persons["consent"]].reset_index(drop=True)
        ties = ties.loc[~ties["ego_id"].isin(refused)].reset_index(drop=True)
        links = links.loc[~links["ego_id"].isin(refused)].reset_index(drop=True)
    identifying = []
    for frame_name, level in (("egos", "ego"), ("nodes", "alter"), ("edges", "band")):
        frame = getattr(source, frame_name)
        _, ident = _available(frame, mapping)
        for col in ident:
            files = sorted(set(frame.loc[frame[col].notna(), _FILE]))
            if not files:  # an empty column (or one of interviews read from the other format) holds nothing
                continue
            reason = ("GraphML-label: de naam zoals die in het gesprek is ingevuld" if col == "label"
                      else "de kolomnaam wijst op een naam, telefoonnummer, e-mail- of huisadres of ander "
                           "persoonsgegeven")
            identifying.append({"bestand": ", ".join(files), "kolom": col, "niveau": level,
                                "reden": f"niet geïmporteerd (identificerend): {reason}"})
    if source.case_id_files:
        identifying.append({"bestand": ", ".join(source.case_id_files), "kolom": "networkCanvasCaseID",
                            "niveau": "ego", "reden": "niet geïmporteerd (identificerend): de case-id typt de "
                                                      "interviewer zelf; het kan een naam zijn"})
    unmapped_vars = []
    for frame, level, available in ((source.egos, "ego", _available(source.egos, mapping)[0]),
                                    (source.nodes.loc[is_person.to_numpy()], "alter", getattr(b, "available_alter",
                                                                                               [])),
                                    (source.edges, "band", _available(source.edges, mapping)[0])):
        for col in available:
            if col not in b.used[level]:
                unmapped_vars.append({"niveau": level, "variabele": col, "gevuld": int(frame[col].notna().sum())})
    skipped_types = skipped[_TYPE].fillna("(onbekend)").value_counts()
    skipped_table = pd.DataFrame({"soort": skipped_types.index.astype(str), "knopen": skipped_types.to_numpy()})
    skipped_table["banden"] = skipped_table["soort"].map(skipped_links).fillna(0).astype(int)
    skipped_table["reden"] = "geen personen: niet als persoon of steunrelatie geïmporteerd"
    if len(skipped_table):
        b.warnings.append({"bestand": "", "rij": None, "kolom": "",
                           "melding": "Knopen van het soort " + ", ".join(f"'{s}'" for s in skipped_table["soort"])
                                      + " zijn geen personen en zijn overgeslagen (geen persoon, geen steunrelatie, "
                                        "geen onderlinge band). Zijn het wel personen, zet het soort dan in "
                                        "person_node_types van de koppeling."})
    per = pd.DataFrame({"person_id": persons["person_id"], "bestand": persons["person_id"].map(file_of)})
    per["relaties"] = per["person_id"].map(ties["ego_id"].value_counts()).fillna(0).astype(int)
    per["onderlinge_banden"] = per["person_id"].map(links["ego_id"].value_counts()).fillna(0).astype(int)
    per["overgeslagen_knopen"] = per["person_id"].map(
        skipped[_EGO].map(ego_of).value_counts()).fillna(0).astype(int)
    counts = {"personen": len(persons), "relaties": len(ties), "onderlinge_banden": len(links),
              "overgeslagen_knopen": int(len(skipped)), "overgeslagen_banden": int(sum(skipped_links.values()))}
    frames = {"persons": persons, "ties": ties,
              "participation": pd.DataFrame(columns=["person_id", "provision_id", "role", "since"]),
              "alter_links": links}
    return NetworkCanvasPreview(
        source.files, counts, per, pd.DataFrame(b.fields, columns=["niveau", "veld", "label", "variabele", "gevuld",
                                                                   "belangrijk"]),
        pd.DataFrame(identifying, columns=["bestand", "kolom", "niveau", "reden"]), skipped_table,
        pd.DataFrame(unmapped_vars, columns=["niveau", "variabele", "gevuld"]),
        pd.DataFrame(b.unmapped, columns=["veld", "variabele", "waarde", "aantal"]),
        _report_frame(b.warnings), _report_frame(b.problems), frames)


def _report_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["bestand", "rij", "kolom", "melding"])
    frame["rij"] = pd.to_numeric(frame["rij"], errors="coerce").astype("Int64")
    return frame


def network_canvas_frames(source: NetworkCanvasSource, mapping: NetworkCanvasMapping | None = None, *,
                          known_buurten: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """The frames for ``merge_network`` (persons, ties, participation, alter_links), or one error.

    Raises
    ------
    DataValidationError
        With every problem of :func:`preview_network_canvas` in ``problems``.
    """
    preview = preview_network_canvas(source, mapping, known_buurten=known_buurten)
    preview.raise_if_problems()
    return preview.frames


def network_canvas_preset_table() -> pd.DataFrame:
    """The preset as a table (for the README and the page): our field, NC variables, values → ours."""
    preset = NetworkCanvasMapping.preset()
    rows = []
    for level, fields in (("ego", EGO_FIELDS), ("alter", ALTER_FIELDS)):
        table = preset.ego if level == "ego" else preset.alter
        for name, label in fields.items():
            fm = table.get(name)
            if fm is None or (name.startswith(("lsns_", "djg_")) and name not in ("lsns_1", "djg_1")):
                continue
            grouped: dict = {}
            for source, ours in fm.values.items():
                grouped.setdefault(ours, []).append(source)
            values = "; ".join(f"{', '.join(s)} → {o}" for o, s in grouped.items())
            if name in _BOOL_FIELDS:
                values = ("true/false, ja/nee, yes/no, 1/0; false = het gesprek wordt niet geïmporteerd"
                          if name == "consent" else "true/false, ja/nee, yes/no, 1/0; leeg = onbekend")
            if name == "age_band":
                values += "; een leeftijd in jaren → de klasse"
            shown = label if not name.startswith(("lsns_", "djg_")) else label.replace(" 1", " 1…" + (
                "6" if name.startswith("lsns") else "11"))
            rows.append({"niveau": level, "veld": name if not name.endswith("_1") else name[:-1] + "i",
                         "label": shown, "variabelen": ", ".join(fm.variables), "waarden": values})
    for kind, names in preset.support.items():
        rows.append({"niveau": "alter", "veld": f"support_{kind}", "label": SUPPORT_LABELS[kind],
                     "variabelen": ", ".join(names), "waarden": "true/false, ja/nee, yes/no, 1/0; leeg = nee"})
    rows.append({"niveau": "knopen", "veld": "person_node_types", "label": "knooppunttypen die personen zijn",
                 "variabelen": ", ".join(preset.person_node_types), "waarden": "andere soorten worden overgeslagen"})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the page's mapping step

def value_choices(field_name: str) -> dict[str, str]:
    """Our values a source value of ``field_name`` can be mapped to (code -> Dutch label); {} when the
    field takes values as they are (buurt code, person code)."""
    if field_name == "role":
        return dict(ROLES)
    if field_name == "contact_frequency":
        return dict(CONTACT_FREQUENCIES)
    if field_name == "household_type":
        return dict(HOUSEHOLD_TYPES)
    if field_name == "age_band":
        return {b: b for b in AGE_BANDS}
    if field_name == "closeness":
        return {"3": "3 heel dichtbij", "2": "2 dichtbij", "1": "1 verder weg"}
    if field_name.startswith("lsns_"):
        return {str(i): str(i) for i in range(6)}
    if field_name.startswith("djg_"):
        return {a: a for a in DJG_ANSWERS}
    if field_name in _BOOL_FIELDS or field_name.startswith("support_"):
        return {"true": "ja", "false": "nee"}
    return {}


def base_variable(shown: str | None) -> str | None:
    """The variable behind a field's source as the preview shows it ('relationship_* (12 opties)' or
    'a, b' for several support columns: the first)."""
    if not shown:
        return None
    text = re.sub(r"_\* \(\d+ opties?\)$", "", str(shown))
    return text.split(", ")[0]


def mapping_with_choices(base: NetworkCanvasMapping, variables: dict[tuple[str, str], str | None],
                         values: dict[tuple[str, str], dict[str, str]]) -> NetworkCanvasMapping:
    """``base`` with the user's choices of the page's mapping step applied.

    ``variables``: (niveau, veld) -> the source variable chosen (None: not mapped), as in the preview's
    ``fields``; support fields are ``('alter', 'support_<kind>')``. ``values``: (niveau, veld) -> {source
    value: our value} for values the preview listed as unmapped. Values are added to the field's own.
    """
    ego, alter, support = dict(base.ego), dict(base.alter), dict(base.support)
    for (level, name), var in variables.items():
        if name.startswith("support_"):
            support[name.removeprefix("support_")] = (var,) if var else ()
            continue
        table = ego if level == "ego" else alter
        old = table.get(name, FieldMapping())
        table[name] = FieldMapping((var,) if var else (), dict(old.values), dict(old.columns) if not var else {})
    for (level, name), chosen in values.items():
        if name.startswith("support_") or not chosen:
            continue
        table = ego if level == "ego" else alter
        old = table.get(name, FieldMapping())
        extra = {}
        for source_value, ours in chosen.items():
            try:
                extra[_norm_value(source_value)] = _allowed(name, ours)
            except ValueError as exc:
                raise DataValidationError(f"'{ours}' past niet bij {name}: {exc}.", column=name) from exc
        table[name] = FieldMapping(old.variables, {**old.values, **extra}, dict(old.columns))
    return NetworkCanvasMapping(ego, alter, support, base.person_node_types, base.link_edge_types,
                                base.not_identifying, base.allow_without_support)
