"""Network Canvas exports written as Network Canvas writes them, for three interviews of one protocol.

The shape follows the exporter (``complexdatacollective/network-exporters``) and the Network Canvas
GraphML documentation, not our own templates:

- CSV per interview: ``<case>_<session>_ego.csv`` (networkCanvasEgoUUID, networkCanvasCaseID,
  networkCanvasSessionID, networkCanvasProtocolName, sessionStart, sessionFinish, sessionExported,
  then the ego variables), ``..._attributeList_Person.csv`` and ``..._attributeList_Venue.csv``
  (nodeID, networkCanvasEgoUUID, networkCanvasUUID, variables; the categorical relationship as one
  true/false column per option; the layout as ``layout_x``/``layout_y``), ``..._edgeList_knows.csv``
  and ``..._edgeList_visits.csv`` (edgeID, from, to, networkCanvasEgoUUID, networkCanvasUUID,
  networkCanvasSourceUUID, networkCanvasTargetUUID). Fields are quoted only when they hold a comma,
  quote or line break; an empty cell is a value not asked.
- GraphML per interview: keys with codebook UUIDs as ids and the name in ``attr.name`` (``name``
  twice for nodes, once per node type, and once more for the ego), the ego's data as ``<data>``
  under ``<graph>``, node and edge elements indented with tabs and CRLF (the exporter's formatXml)
  while the rest has LF.

Quirks on purpose: interview 1 has CRLF line ends (the exporter's), interview 2 LF (saved again),
interview 3 every field quoted (saved again by R or Excel); a quoted multi-line notes field; a
header column literally named ``null``; name, first/last/preferred name, phone and address columns;
two node types (Person and Venue: places where people meet); a self-loop; an undeclared GraphML key.

The expected ties and alter links are derived from the same interviews, so a test can compare what
was stored with what the files say (:func:`expected_ties`, :func:`expected_links`).
"""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

PROTOCOL = "Steunnetwerk in de wijk"
RELATIONSHIP_OPTIONS = ("partner", "parent", "child", "otherFam", "friend", "neighbour", "coworker", "professional",
                        "roommate")
ROLE_OF = {"partner": "partner", "parent": "ouder", "child": "kind", "otherFam": "familie", "friend": "vriend",
           "neighbour": "buur", "coworker": "collega", "professional": "professional", "roommate": "anders"}
CLOSENESS_OF = {"Very_close": 3, "Close": 2, "Not_close": 1}
CONTACT_OF = {"Daily": "dagelijks", "Weekly": "wekelijks", "Less_than_weekly": "maandelijks", "Monthly": "maandelijks"}
# Codebook UUIDs of the variables (Network Canvas uses these as GraphML key ids).
VAR = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"codebook/{name}")) for name in (
    "ego.buurtcode", "ego.age", "ego.name", "ego.email", *(f"ego.lsns_{i}" for i in range(1, 7)),
    "person.name", "person.first_name", "person.last_name", "person.preferred_name", "person.phone", "person.address",
    "person.relationship_type", "person.ContactFreq", "person.Closeness", "person.emotional_support",
    "person.practical_support", "person.advice", "person.socialize", "person.lives_nearby", "person.notes",
    "person.layout", "venue.name", "venue.venue_type", "edge.knows_since")}
NAMES = ("Ethan Vos", "Marcus de Wit", "Luca Smit", "Jamal Bakker", "Samuel Visser", "Alex Jordan", "Fatima El Idrissi",
         "Noor Jansen", "Henk de Boer", "Oma Mulder", "Dirk Meijer", "Sanne de Groot", "Tom Bos", "Lotte Dekker",
         "Yusuf Kaya")
PHONES = tuple(f"06-{12345670 + i}" for i in range(len(NAMES)))
ADDRESSES = tuple(f"Kerkstraat {i + 1}, 1999 A{chr(65 + i)} Teststad" for i in range(len(NAMES)))


def _uuid(*parts) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, "nc-fixture/" + "/".join(map(str, parts))))


@dataclass
class Alter:
    uuid: str
    name: str
    phone: str
    address: str
    relationship: tuple[str, ...]  # the options ticked
    contact: str | None
    closeness: str | None
    emotional: bool | None
    practical: bool | None
    advice: bool | None
    socialize: bool | None
    lives_nearby: bool | None
    notes: str | None = None


@dataclass
class Venue:
    uuid: str
    name: str
    venue_type: str


@dataclass
class Interview:
    case_id: str
    ego_uuid: str
    session_uuid: str
    start: str
    finish: str
    ego: dict  # ego variables by name (buurtcode, age, name, email, lsns_1..)
    alters: list[Alter]
    venues: list[Venue]
    knows: list[tuple[str, str]]  # alter uuid pairs (a self-loop among them)
    visits: list[tuple[str, str]]  # alter uuid -> venue uuid
    eol: str = "\r\n"
    quote_all: bool = False
    node_ids: dict = field(default_factory=dict)

    @property
    def person_id(self) -> str:
        return "NC-" + self.ego_uuid.replace("-", "")[:8]


def interviews() -> list[Interview]:
    """Three interviews: 5, 5 and 4 alters; two or one venue each; CRLF, LF, all quoted."""
    names = iter(zip(NAMES, PHONES, ADDRESSES, strict=True))

    def alter(k, *args, notes=None) -> Alter:
        name, phone, address = next(names)
        return Alter(_uuid("alter", k), name, phone, address, *args, notes=notes)

    one = [alter(1, ("partner",), "Daily", "Very_close", True, True, False, True, True,
                 notes="Helpt met de boodschappen, en belt\r\nelke avond"),
           alter(2, ("child",), "Weekly", "Very_close", True, False, None, None, False),
           alter(3, ("friend", "neighbour"), "Weekly", "Close", False, True, False, True, True),
           alter(4, ("professional",), "Monthly", "Not_close", False, True, True, False, False,
                 notes="Wijkteam, via de huisarts"),
           alter(5, ("neighbour",), "Less_than_weekly", "Close", None, True, None, None, None)]
    two = [alter(6, ("otherFam",), "Less_than_weekly", "Close", True, False, False, True, False),
           alter(7, ("friend",), "Weekly", "Very_close", True, False, True, True, True),
           alter(8, ("coworker",), None, None, False, False, True, False, None),
           alter(9, ("roommate",), "Daily", "Not_close", False, True, False, True, True),
           alter(10, ("parent",), "Weekly", "Close", True, True, True, False, False)]
    three = [alter(11, ("neighbour",), "Daily", "Close", False, True, False, True, True),
             alter(12, ("friend",), "Monthly", "Close", True, False, False, True, None),
             alter(13, ("child",), "Weekly", "Very_close", True, True, True, True, False),
             alter(14, ("professional",), "Monthly", "Not_close", False, True, True, False, None)]
    result = []
    for n, (case, alters, venues, knows, visits, ego, eol, quote_all) in enumerate((
            ("K-101", one, [Venue(_uuid("venue", 1), "Buurthuis De Kern", "community_centre"),
                            Venue(_uuid("venue", 2), "Bibliotheek Oost", "library")],
             [(1, 2), (1, 3), (3, 5), (2, 3)], [(1, 101), (3, 101), (4, 102)],
             {"buurtcode": "BU99990001", "age": 78, "name": "Marie Bakker", "email": "marie@example.nl",
              **{f"lsns_{i}": v for i, v in enumerate((1, 2, 1, 3, 0, 1), start=1)}}, "\r\n", False),
            ("K-102", two, [Venue(_uuid("venue", 3), "Moskee Al Fath", "religious")],
             [(6, 7), (7, 10), (9, 9), (6, 10), (10, 6)], [(7, 103), (9, 103)],
             {"buurtcode": "BU99990002", "age": 41, "name": "Ahmed Benali", "email": None}, "\n", False),
            ("K-103", three, [Venue(_uuid("venue", 4), "Sportpark Noord", "sports")],
             [(11, 12), (12, 13)], [(13, 104)],
             {"buurtcode": "BU99990001", "age": None, "name": "Joke Kramer", "email": None}, "\r\n", True))):
        first_alter, first_venue = (1, 6, 11)[n], (101, 103, 104)[n]
        by_k = {first_alter + i: a.uuid for i, a in enumerate(alters)}
        by_k |= {first_venue + j: v.uuid for j, v in enumerate(venues)}
        result.append(Interview(
            case, _uuid("ego", n + 1), _uuid("session", n + 1), f"2026-09-0{n + 1}T09:30:00.000Z",
            f"2026-09-0{n + 1}T10:15:00.000Z", ego, alters, venues,
            [(by_k[a], by_k[b]) for a, b in knows], [(by_k[a], by_k[b]) for a, b in visits], eol, quote_all))
    return result


# --------------------------------------------------------------------------- CSV

def _cell(value, quote_all: bool) -> str:
    """As the exporter's sanitizedCellValue: quotes only for comma, quote or line break (or all, re-saved)."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    if quote_all or any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv(header: list[str], rows: list[list], eol: str, quote_all: bool) -> bytes:
    lines = [",".join(_cell(h, quote_all) for h in header)]
    lines += [",".join(_cell(v, quote_all) for v in row) for row in rows]
    return (eol.join(lines) + eol).encode("utf-8")


def _ids(iv: Interview) -> dict[str, int]:
    """The exporter's export ids: one counter over the nodes, then the edges (from/to use them)."""
    ids = {}
    for n, entity in enumerate([*iv.alters, *iv.venues], start=1):
        ids[entity.uuid] = n
    return ids


def write_csv(iv: Interview, folder: Path) -> list[Path]:
    """The CSV files of one interview; returns their paths."""
    prefix = f"{iv.case_id}_{iv.session_uuid}"
    ids = _ids(iv)
    ego_vars = ["buurtcode", "age", *[f"lsns_{i}" for i in range(1, 7)], "name", "email"]
    ego_header = ["networkCanvasEgoUUID", "networkCanvasCaseID", "networkCanvasSessionID", "networkCanvasProtocolName",
                  "sessionStart", "sessionFinish", "sessionExported", *ego_vars]
    ego_row = [iv.ego_uuid, iv.case_id, iv.session_uuid, PROTOCOL, iv.start, iv.finish, "2026-09-10T12:00:00.000Z",
               *[iv.ego.get(v) for v in ego_vars]]
    person_header = ["nodeID", "networkCanvasEgoUUID", "networkCanvasUUID", "name", "first_name", "last_name",
                     "preferred_name", "phone", "address",
                     *[f"relationship_type_{o}" for o in RELATIONSHIP_OPTIONS], "ContactFreq", "Closeness",
                     "emotional_support", "practical_support", "advice", "socialize", "lives_nearby", "null", "notes",
                     "layout_x", "layout_y"]
    person_rows = []
    for k, a in enumerate(iv.alters):
        first, *rest = a.name.split(" ")
        person_rows.append([
            ids[a.uuid], iv.ego_uuid, a.uuid, a.name, first, " ".join(rest), first[:3], a.phone, a.address,
            *[o in a.relationship for o in RELATIONSHIP_OPTIONS], a.contact, a.closeness, a.emotional, a.practical,
            a.advice, a.socialize, a.lives_nearby, None, a.notes, f"{0.2 + 0.1 * k:.2f}", f"{0.7 - 0.1 * k:.2f}"])
    venue_header = ["nodeID", "networkCanvasEgoUUID", "networkCanvasUUID", "name", "venue_type"]
    venue_rows = [[ids[v.uuid], iv.ego_uuid, v.uuid, v.name, v.venue_type] for v in iv.venues]
    edge_header = ["edgeID", "from", "to", "networkCanvasEgoUUID", "networkCanvasUUID", "networkCanvasSourceUUID",
                   "networkCanvasTargetUUID"]
    next_id = len(ids)
    files = {f"{prefix}_ego.csv": _csv(ego_header, [ego_row], iv.eol, iv.quote_all),
             f"{prefix}_attributeList_Person.csv": _csv(person_header, person_rows, iv.eol, iv.quote_all),
             f"{prefix}_attributeList_Venue.csv": _csv(venue_header, venue_rows, iv.eol, iv.quote_all)}
    for kind, pairs in (("knows", iv.knows), ("visits", iv.visits)):
        rows = []
        for a, b in pairs:
            next_id += 1
            rows.append([next_id, ids[a], ids[b], iv.ego_uuid, _uuid("edge", iv.case_id, kind, a, b), a, b])
        files[f"{prefix}_edgeList_{kind}.csv"] = _csv(edge_header, rows, iv.eol, iv.quote_all)
    paths = []
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- GraphML

def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _esc(text) -> str:
    text = "true" if text is True else "false" if text is False else str(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _element(tag: str, attrs: dict, data: list[tuple[str, object]]) -> str:
    """A node or edge as the exporter's formatXml writes it: tab indents, CRLF inside."""
    head = " ".join(f'{k}="{_esc(v)}"' for k, v in attrs.items())
    inner = "".join(f'\r\n\t<data key="{k}">{_esc(v)}</data>' for k, v in data if v is not None)
    return f"<{tag} {head}>{inner}\r\n</{tag}>\n"


def graphml_text(iv: Interview, *, undeclared_key: bool = False) -> str:
    """One interview as Network Canvas GraphML."""
    ids = _ids(iv)
    keys = []

    def key(key_id, name, kind, domain):
        keys.append(f'<key id="{key_id}" attr.name="{name}" attr.type="{kind}" for="{domain}"/>')

    for name, kind in (("buurtcode", "string"), ("age", "int"), *((f"lsns_{i}", "int") for i in range(1, 7)),
                       ("name", "string"), ("email", "string")):
        key(VAR[f"ego.{name}"], name, kind, "graph")
    key("label", "label", "string", "all")
    key("networkCanvasType", "networkCanvasType", "string", "all")
    key("networkCanvasUUID", "networkCanvasUUID", "string", "all")
    for name in ("name", "first_name", "last_name", "preferred_name", "phone", "address"):
        key(VAR[f"person.{name}"], name, "string", "node")
    for option in RELATIONSHIP_OPTIONS:
        key(f"{VAR['person.relationship_type']}_{_sha1(option)}", f"relationship_type_{option}", "boolean", "node")
    key(VAR["person.ContactFreq"], "ContactFreq", "string", "node")
    key(VAR["person.Closeness"], "Closeness", "string", "node")
    for name in ("emotional_support", "practical_support", "advice", "socialize", "lives_nearby"):
        key(VAR[f"person.{name}"], name, "boolean", "node")
    key(VAR["person.notes"], "notes", "string", "node")
    key(f"{VAR['person.layout']}_X", "layout_X", "double", "node")
    key(f"{VAR['person.layout']}_Y", "layout_Y", "double", "node")
    key(VAR["venue.name"], "name", "string", "node")  # the same attr.name as the person's name
    key(VAR["venue.venue_type"], "venue_type", "string", "node")
    key("networkCanvasTargetUUID", "networkCanvasTargetUUID", "string", "edge")
    key("networkCanvasSourceUUID", "networkCanvasSourceUUID", "string", "edge")
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n  <graphml\n    xmlns="http://graphml.graphdrawing.org/xmlns"\n'
           '    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
           '    xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns\n'
           '    http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"\n'
           '    xmlns:nc="http://schema.networkcanvas.com/xmlns">\n', "\n".join(keys), "\n",
           f'<graph\n  edgedefault="undirected"\n  nc:caseId="{iv.case_id}"\n  nc:sessionUUID="{iv.session_uuid}"\n'
           f'  nc:protocolName="{PROTOCOL}"\n  nc:remoteProtocolID="{_sha1(PROTOCOL)}"\n'
           f'  nc:sessionExportTime="2026-09-10T12:00:00.000Z"\n    nc:sessionStartTime="{iv.start}"\n'
           f'    nc:sessionFinishTime="{iv.finish}"\n>\n']
    out.append(f'<data key="networkCanvasUUID">{iv.ego_uuid}</data>\n')
    for name in ("buurtcode", "age", *(f"lsns_{i}" for i in range(1, 7)), "name", "email"):
        if iv.ego.get(name) is not None:
            out.append(f'<data key="{VAR["ego." + name]}">{_esc(iv.ego[name])}</data>\n')
    for k, a in enumerate(iv.alters):
        first, *rest = a.name.split(" ")
        data = [("networkCanvasUUID", a.uuid), ("networkCanvasType", "Person"), ("label", a.name),
                (VAR["person.name"], a.name), (VAR["person.first_name"], first),
                (VAR["person.last_name"], " ".join(rest)), (VAR["person.preferred_name"], first[:3]),
                (VAR["person.phone"], a.phone), (VAR["person.address"], a.address),
                *((f"{VAR['person.relationship_type']}_{_sha1(o)}", o in a.relationship) for o in RELATIONSHIP_OPTIONS),
                (VAR["person.ContactFreq"], a.contact), (VAR["person.Closeness"], a.closeness),
                (VAR["person.emotional_support"], a.emotional), (VAR["person.practical_support"], a.practical),
                (VAR["person.advice"], a.advice), (VAR["person.socialize"], a.socialize),
                (VAR["person.lives_nearby"], a.lives_nearby), (VAR["person.notes"], a.notes),
                (f"{VAR['person.layout']}_X", f"{384 + 192 * k:.2f}"), (f"{VAR['person.layout']}_Y", "540.00")]
        if undeclared_key and k == 0:
            data.append(("d_removed_from_codebook", "x"))  # a key the file never declares
        out.append(_element("node", {"id": ids[a.uuid]}, data))
    for v in iv.venues:
        out.append(_element("node", {"id": ids[v.uuid]}, [
            ("networkCanvasUUID", v.uuid), ("networkCanvasType", "Venue"), ("label", v.name),
            (VAR["venue.name"], v.name), (VAR["venue.venue_type"], v.venue_type)]))
    next_id = len(ids)
    for kind, pairs in (("knows", iv.knows), ("visits", iv.visits)):
        for a, b in pairs:
            next_id += 1
            out.append(_element("edge", {"id": next_id, "source": ids[a], "target": ids[b]}, [
                ("networkCanvasUUID", _uuid("edge", iv.case_id, kind, a, b)), ("networkCanvasType", kind),
                ("networkCanvasSourceUUID", a), ("networkCanvasTargetUUID", b)]))
    out.append("</graph>\n</graphml>\n")
    return "".join(out)


def write_graphml(iv: Interview, folder: Path, *, undeclared_key: bool = True) -> Path:
    path = folder / f"{iv.case_id}_{iv.session_uuid}.graphml"
    path.write_bytes(graphml_text(iv, undeclared_key=undeclared_key).encode("utf-8"))
    return path


# --------------------------------------------------------------------------- whole exports

def write_export(folder: Path, *, formats: tuple[str, ...] = ("csv",), zipped: bool = False) -> list[Path]:
    """Write the three interviews as CSV and/or GraphML; with ``zipped``, one networkCanvasExport.zip."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for iv in interviews():
        if "csv" in formats:
            paths += write_csv(iv, folder)
        if "graphml" in formats:
            paths.append(write_graphml(iv, folder))
    if not zipped:
        return paths
    archive = folder / "networkCanvasExport.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in paths:
            zf.write(path, path.name)
    for path in paths:
        path.unlink()
    return [archive]


def expected_ties() -> pd.DataFrame:
    """The ties the files describe: one per Person alter (venues are not persons)."""
    rows = []
    order = list(ROLE_OF.values())
    rank = ["partner", "ouder", "kind", "familie", "vriend", "buur", "collega", "vrijwilliger", "professional",
            "groepsgenoot", "kerk_vereniging", "anders"]
    assert set(order) <= set(rank)
    for iv in interviews():
        for a in iv.alters:
            roles = sorted((ROLE_OF[o] for o in a.relationship), key=rank.index)
            rows.append({"ego_id": iv.person_id, "alter_key": a.uuid, "role": roles[0],
                         "support_emotional": a.emotional is True, "support_practical": a.practical is True,
                         "support_informational": a.advice is True, "support_companionship": a.socialize is True,
                         "closeness": CLOSENESS_OF.get(a.closeness), "contact_frequency": CONTACT_OF.get(a.contact),
                         "same_buurt": a.lives_nearby})
    return pd.DataFrame(rows)


def expected_links() -> set[tuple[str, frozenset]]:
    """Who knows whom: every knows edge between two different alters, once per pair."""
    return {(iv.person_id, frozenset(pair)) for iv in interviews() for pair in iv.knows if pair[0] != pair[1]}


def identifying_values() -> list[str]:
    """Names, phone numbers, addresses and notes in the files: none of them may reach the store."""
    values = []
    for iv in interviews():
        values += [iv.ego["name"], iv.case_id]
        values += [iv.ego["email"]] if iv.ego.get("email") else []
        for a in iv.alters:
            values += [a.name, a.phone, a.address]
            values += [a.notes.split(",")[0]] if a.notes else []
        values += [v.name for v in iv.venues]
    return values


# --------------------------------------------------------------------------- follow-up: the same case again

# Network Canvas has no follow-up: a team interviews the same case again with the same protocol. Every
# session gets a new ego and new alter UUIDs; the case id (typed by the interviewer) is the Steunkaart code.
# The protocol of these sessions asks a stable code per alter ('alter_code', no name or initials), the
# Steunkaart code of an alter who is a known person ('code') and "met wie uit de groep heeft u nog contact?"
# ('uit_de_groep', a boolean). Ego variables: LSNS-6, the 6-item De Jong Gierveld (English answers as a
# protocol has them), consent and optionally the moment ('meetmoment').
FOLLOWUP_OPTIONS = ("partner", "child", "friend", "neighbour", "professional", "groupMember")
FOLLOWUP_ROLE_OF = {"partner": "partner", "child": "kind", "friend": "vriend", "neighbour": "buur",
                    "professional": "professional", "groupMember": "groepsgenoot"}
FOLLOWUP_DJG_ITEMS = (3, 4, 7, 8, 9, 10)


@dataclass
class FollowupAlter:
    code: str | None  # the stable code the interviewer enters again (None: not entered)
    relationship: str
    contact: str | None
    closeness: str | None
    emotional: bool | None
    practical: bool | None
    advice: bool | None
    socialize: bool | None
    person: str | None = None  # a known person's Steunkaart code
    from_group: bool | None = None


@dataclass
class FollowupSession:
    case_id: str
    session_uuid: str
    start: str | None
    finish: str | None
    lsns: tuple[int, ...]
    djg6: tuple[str, ...]  # answers to djg_3, 4, 7, 8, 9, 10
    alters: list[FollowupAlter]
    moment: str | None = None
    exported: str = "2026-06-01T12:00:00.000Z"

    @property
    def ego_uuid(self) -> str:
        return _uuid("followup-ego", self.session_uuid)

    def alter_uuid(self, k: int) -> str:
        """A new UUID in every session, as Network Canvas gives it: it cannot follow an alter."""
        return _uuid("followup-alter", self.session_uuid, k)


def followup_case(case_id: str = "T-01", group_member: str = "T-02") -> list[FollowupSession]:
    """Three sessions (T0, T1, T2) of one case, with hand-made changes in the network.

    T0 → T1: a1 and a4 kept, a2 changed (weekly → daily contact), a3 lost, the group member and a5 new.
    T1 → T2: a1, a2 and the group member kept, a5 changed (friend → neighbour), a4 lost, a6 new.
    The session ids are chosen so that the file names sort T2, T1, T0: only the start gives the order.
    LSNS-6 totals 3, 8 and 11; De Jong Gierveld 6-item scores 6, 3 and 1.
    """
    a1 = FollowupAlter("a1", "partner", "Daily", "Very_close", True, True, False, True)
    a2 = FollowupAlter("a2", "child", "Weekly", "Close", True, False, False, False)
    a3 = FollowupAlter("a3", "neighbour", "Monthly", "Not_close", False, True, False, False)
    a4 = FollowupAlter("a4", "professional", "Monthly", "Not_close", False, False, True, False)
    member = FollowupAlter(None, "groupMember", "Weekly", "Close", True, False, False, True, person=group_member,
                           from_group=True)
    a5 = FollowupAlter("a5", "friend", "Weekly", "Close", False, False, False, True)
    a6 = FollowupAlter("a6", "neighbour", "Monthly", "Close", False, True, False, False)
    a2_daily = FollowupAlter("a2", "child", "Daily", "Close", True, False, False, False)
    a5_neighbour = FollowupAlter("a5", "neighbour", "Weekly", "Close", False, False, False, True)
    return [
        FollowupSession(case_id, "c3d4e5f6-0a0b-4c0d-8e0f-000000000001", "2026-01-12T09:00:00.000Z",
                        "2026-01-12T09:50:00.000Z", (1, 1, 0, 1, 0, 0),
                        ("yes", "no", "no", "no", "yes", "more or less"), [a1, a2, a3, a4]),
        FollowupSession(case_id, "9a8b7c6d-0a0b-4c0d-8e0f-000000000002", "2026-02-23T09:00:00.000Z",
                        "2026-02-23T09:40:00.000Z", (2, 1, 1, 2, 1, 1),
                        ("more or less", "yes", "no", "yes", "yes", "no"), [a1, a2_daily, a4, member, a5]),
        FollowupSession(case_id, "1f2e3d4c-0a0b-4c0d-8e0f-000000000003", "2026-05-25T09:00:00.000Z",
                        "2026-05-25T09:45:00.000Z", (2, 2, 1, 3, 2, 1),
                        ("no", "yes", "yes", "more or less", "no", "no"), [a1, a2_daily, member, a5_neighbour, a6]),
    ]


def _with_bom(content: bytes) -> bytes:
    return b"\xef\xbb\xbf" + content


def write_followup_csv(sessions: list[FollowupSession], folder: Path, *, alter_code: bool = True,
                       moment: bool = False, zipped: bool = False) -> list[Path]:
    """The sessions as Network Canvas's CSV export: per session ``<case>_<session>_ego.csv``,
    ``..._attributeList_Person.csv`` and ``..._edgeList_knows.csv`` (a BOM on the first header, CRLF,
    booleans true/false, empty cells for values not asked); with ``zipped`` one networkCanvasExport.zip."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    for s in sessions:
        prefix = f"{s.case_id}_{s.session_uuid}"
        ego_vars = [*(f"lsns_{i}" for i in range(1, 7)), *(f"djg_{i}" for i in FOLLOWUP_DJG_ITEMS), "consent",
                    *(["meetmoment"] if moment else [])]
        header = ["networkCanvasEgoUUID", "networkCanvasCaseID", "networkCanvasSessionID",
                  "networkCanvasProtocolName", "sessionStart", "sessionFinish", "sessionExported", *ego_vars]
        row = [s.ego_uuid, s.case_id, s.session_uuid, PROTOCOL, s.start, s.finish, s.exported, *s.lsns, *s.djg6,
               True, *([s.moment] if moment else [])]
        files[f"{prefix}_ego.csv"] = _with_bom(_csv(header, [row], "\r\n", False))
        node_header = ["nodeID", "networkCanvasEgoUUID", "networkCanvasUUID", "name",
                       *(f"relationship_type_{o}" for o in FOLLOWUP_OPTIONS), "ContactFreq", "Closeness",
                       "emotional_support", "practical_support", "advice", "socialize",
                       *(["alter_code"] if alter_code else []), "code", "uit_de_groep"]
        nodes = []
        for k, a in enumerate(s.alters, start=1):
            nodes.append([k, s.ego_uuid, s.alter_uuid(k), f"Naam {a.code or a.person}",
                          *(a.relationship == o for o in FOLLOWUP_OPTIONS), a.contact, a.closeness, a.emotional,
                          a.practical, a.advice, a.socialize, *([a.code] if alter_code else []), a.person,
                          a.from_group])
        files[f"{prefix}_attributeList_Person.csv"] = _with_bom(_csv(node_header, nodes, "\r\n", False))
        edge_header = ["edgeID", "from", "to", "networkCanvasEgoUUID", "networkCanvasUUID",
                       "networkCanvasSourceUUID", "networkCanvasTargetUUID"]
        edges = [[len(s.alters) + 1, 1, 2, s.ego_uuid, _uuid("followup-edge", s.session_uuid), s.alter_uuid(1),
                  s.alter_uuid(2)]] if len(s.alters) > 1 else []
        files[f"{prefix}_edgeList_knows.csv"] = _csv(edge_header, edges, "\r\n", False)
    if zipped:
        archive = folder / "networkCanvasExport.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, content in files.items():
                zf.writestr(name, content)
        return [archive]
    paths = []
    for name, content in files.items():
        (folder / name).write_bytes(content)
        paths.append(folder / name)
    return paths


def write_followup_graphml(sessions: list[FollowupSession], folder: Path, *, alter_code: bool = True) -> list[Path]:
    """The same sessions as Network Canvas GraphML, one ``<case>_<session>.graphml`` per session."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in sessions:
        keys = [f'<key id="{VAR.get("ego." + n, _sha1("ego." + n))}" attr.name="{n}" attr.type="string" for="graph"/>'
                for n in (*(f"lsns_{i}" for i in range(1, 7)), *(f"djg_{i}" for i in FOLLOWUP_DJG_ITEMS), "consent")]
        keys += ['<key id="label" attr.name="label" attr.type="string" for="all"/>',
                 '<key id="networkCanvasType" attr.name="networkCanvasType" attr.type="string" for="all"/>',
                 '<key id="networkCanvasUUID" attr.name="networkCanvasUUID" attr.type="string" for="all"/>',
                 '<key id="networkCanvasSourceUUID" attr.name="networkCanvasSourceUUID" attr.type="string" '
                 'for="edge"/>',
                 '<key id="networkCanvasTargetUUID" attr.name="networkCanvasTargetUUID" attr.type="string" '
                 'for="edge"/>']
        node_vars = [*(f"relationship_type_{o}" for o in FOLLOWUP_OPTIONS), "ContactFreq", "Closeness",
                     "emotional_support", "practical_support", "advice", "socialize",
                     *(["alter_code"] if alter_code else []), "code", "uit_de_groep"]
        keys += [f'<key id="{_sha1("node." + n)}" attr.name="{n}" attr.type="string" for="node"/>' for n in node_vars]
        ego_data = dict(zip((*(f"lsns_{i}" for i in range(1, 7)), *(f"djg_{i}" for i in FOLLOWUP_DJG_ITEMS),
                             "consent"), (*s.lsns, *s.djg6, True), strict=True))
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
               'xmlns:nc="http://schema.networkcanvas.com/xmlns">\n', "\n".join(keys), "\n",
               f'<graph edgedefault="undirected" nc:caseId="{s.case_id}" nc:sessionUUID="{s.session_uuid}" '
               f'nc:protocolName="{PROTOCOL}" nc:sessionExportTime="{s.exported}"'
               + (f' nc:sessionStartTime="{s.start}"' if s.start else "")
               + (f' nc:sessionFinishTime="{s.finish}"' if s.finish else "") + ">\n",
               f'<data key="networkCanvasUUID">{s.ego_uuid}</data>\n']
        for name, value in ego_data.items():
            out.append(f'<data key="{VAR.get("ego." + name, _sha1("ego." + name))}">{_esc(value)}</data>\n')
        for k, a in enumerate(s.alters, start=1):
            values = [*(a.relationship == o for o in FOLLOWUP_OPTIONS), a.contact, a.closeness, a.emotional,
                      a.practical, a.advice, a.socialize, *([a.code] if alter_code else []), a.person, a.from_group]
            out.append(_element("node", {"id": k}, [
                ("networkCanvasUUID", s.alter_uuid(k)), ("networkCanvasType", "Person"),
                ("label", f"Naam {a.code or a.person}"),
                *((_sha1("node." + n), v) for n, v in zip(node_vars, values, strict=True))]))
        if len(s.alters) > 1:
            out.append(_element("edge", {"id": len(s.alters) + 1, "source": 1, "target": 2}, [
                ("networkCanvasUUID", _uuid("followup-edge", s.session_uuid)), ("networkCanvasType", "knows"),
                ("networkCanvasSourceUUID", s.alter_uuid(1)), ("networkCanvasTargetUUID", s.alter_uuid(2))]))
        out.append("</graph>\n</graphml>\n")
        path = folder / f"{s.case_id}_{s.session_uuid}.graphml"
        path.write_bytes("".join(out).encode("utf-8"))
        paths.append(path)
    return paths
