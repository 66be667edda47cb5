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
