"""Read GraphML robustly: Network Canvas exports, our own export, and what Gephi or networkx write.

networkx's reader refuses what Network Canvas writes (ego data as ``<data>`` directly under
``<graph>``, codebook UUIDs as key ids, two keys with the same ``attr.name``), and a failure
surfaces as a traceback. This reader walks the XML once with expat (line numbers for the report)
and returns plain tables of strings:

- ``<key>`` elements resolve ``<data key=...>`` to the human name in ``attr.name``; a key declared
  ``for="all"`` applies everywhere, ``<default>`` fills elements that lack the value.
- Two keys with the same ``attr.name`` in one domain (Network Canvas declares ``name`` once per
  node type) become one column; only when one element carries both is the first one kept, and the
  report says so. The same name in different domains (ego ``for="graph"`` and node ``for="node"``)
  never collides: graphs, nodes and edges are separate tables.
- ``<data>`` that refers to an undeclared key is ignored and reported once per key.
- CRLF, CR and LF line ends are all read (expat normalises them); a DOCTYPE or entity declaration
  is refused (no entity expansion, no external files).

Every problem is a :class:`~data.errors.DataValidationError` with a Dutch message that says why and
where (``rij`` is the line number in the file); never a traceback.
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data.errors import DataValidationError

MAX_GRAPHML_BYTES = 200 * 1024 * 1024  # as the upload limit
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
NC_NS = "http://schema.networkcanvas.com/xmlns"
_DOMAINS = ("graph", "node", "edge", "all", "graphml", "hyperedge", "port", "endpoint")
_STRUCTURAL = ("graph", "node_id", "edge_id", "source", "target", "line")


@dataclass
class GraphmlKey:
    """One ``<key>``: its id, the name the data goes by, for which elements, its type and default."""

    id: str
    name: str
    domain: str
    type: str = "string"
    default: str | None = None
    line: int = 0


@dataclass
class GraphmlDocument:
    """A GraphML file as tables of strings (missing values are ``<NA>``).

    ``graphs``: one row per ``<graph>`` (``graph`` index, ``line``, its XML attributes by local name
    with an ``@`` in front, e.g. ``@caseId``/``@sessionUUID`` of Network Canvas, and its ``<data>``
    by attr.name).
    ``nodes``: ``graph``, ``node_id``, ``line`` and the data columns. ``edges``: ``graph``,
    ``edge_id``, ``source``, ``target``, ``line`` and the data columns. ``warnings`` are report rows
    (bestand, rij, kolom, melding) for what was ignored or merged.
    """

    file: str
    keys: dict[str, GraphmlKey]
    graphs: pd.DataFrame
    nodes: pd.DataFrame
    edges: pd.DataFrame
    root_attrs: dict[str, str] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)

    @property
    def is_network_canvas(self) -> bool:
        """Written by Network Canvas: its namespace, or its UUID keys."""
        names = {k.name for k in self.keys.values()}
        return bool(self.root_attrs.get("_nc_namespace")) or "networkCanvasUUID" in names \
            or "networkCanvasUUID" in self.graphs.columns or "@sessionUUID" in self.graphs.columns


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


class _Builder:
    """Expat callbacks collecting keys, graphs, nodes and edges (no tree is kept)."""

    def __init__(self, file: str, parser) -> None:
        self.file, self.parser = file, parser
        self.keys: dict[str, GraphmlKey] = {}
        self.graphs: list[dict] = []
        self.nodes: list[dict] = []
        self.edges: list[dict] = []
        self.root_attrs: dict[str, str] = {}
        self.warnings: list[dict] = []
        self.stack: list[str] = []
        self.owner: list[dict | None] = []  # the record that a <data> at this depth belongs to
        self.graph_of: list[int] = []
        self.key: GraphmlKey | None = None
        self.data_key: str | None = None
        self.text: list[str] = []
        self.in_default = False
        self.undeclared: dict[str, list[int]] = {}
        self.clashes: dict[tuple[str, str], int] = {}
        self.problems: list[dict] = []
        self.nested = 0

    def line(self) -> int:
        return int(self.parser.CurrentLineNumber)

    def problem(self, message: str, column: str = "") -> None:
        self.problems.append({"bestand": self.file, "rij": self.line(), "kolom": column, "melding": message})

    def warn(self, message: str, column: str = "", line: int | None = None) -> None:
        self.warnings.append({"bestand": self.file, "rij": self.line() if line is None else line, "kolom": column,
                              "melding": message})

    def start(self, name: str, attrs: dict) -> None:
        tag = _local(name)
        depth = len(self.stack)
        attrs = {_local(k): v for k, v in attrs.items()}
        if depth == 0:
            if tag != "graphml":
                raise DataValidationError(
                    f"Dit is geen GraphML-bestand: het bestand begint met <{tag}>, niet met <graphml>.",
                    file=self.file, row=self.line())
            self.root_attrs.update(attrs)
        parent = self.stack[-1] if self.stack else None
        record: dict | None = None
        if tag == "key" and parent == "graphml":
            key_id = attrs.get("id")
            if not key_id:
                self.problem("Een <key> zonder id; elke sleutel heeft een id nodig.", "key")
            else:
                domain = attrs.get("for", "all")
                key = GraphmlKey(key_id, attrs.get("attr.name") or key_id, domain if domain in _DOMAINS else "all",
                                 attrs.get("attr.type", "string"), None, self.line())
                if key_id in self.keys:
                    self.warn(f"De sleutel '{key_id}' is twee keer gedeclareerd; de eerste is gebruikt.", key_id)
                else:
                    self.keys[key_id] = key
                self.key = key
        elif tag == "default" and parent == "key":
            self.in_default, self.text = True, []
        elif tag == "graph":
            if "node" in self.stack or "edge" in self.stack:
                self.nested += 1
                if self.nested == 1:
                    self.warn("Een geneste <graph> in een knoop of band wordt niet gelezen.", "graph")
            elif parent == "graphml":
                # XML attributes of <graph> (Network Canvas: caseId, sessionUUID, ...) as '@name'.
                record = {"graph": len(self.graphs), "line": self.line(), **{f"@{k}": v for k, v in attrs.items()}}
                self.graphs.append(record)
                self.graph_of.append(record["graph"])
        elif tag == "node" and parent == "graph" and not self.nested:
            if not attrs.get("id"):
                self.problem("Een <node> zonder id.", "node")
            record = {"graph": self.graph_of[-1] if self.graph_of else 0, "node_id": attrs.get("id"),
                      "line": self.line()}
            self.nodes.append(record)
        elif tag == "edge" and parent == "graph" and not self.nested:
            if not attrs.get("source") or not attrs.get("target"):
                self.problem("Een <edge> zonder source of target.", "edge")
            record = {"graph": self.graph_of[-1] if self.graph_of else 0, "edge_id": attrs.get("id"),
                      "source": attrs.get("source"), "target": attrs.get("target"), "line": self.line()}
            self.edges.append(record)
        elif tag in ("hyperedge", "port", "locator") and not self.nested:
            self.warn(f"<{tag}> wordt niet gelezen.", tag)
        elif tag == "data":
            self.data_key, self.text = attrs.get("key"), []
        self.stack.append(tag)
        self.owner.append(record if record is not None else (self.owner[-1] if self.owner else None))

    def end(self, name: str) -> None:
        tag = self.stack.pop()
        record = self.owner.pop()
        if tag == "data":
            self._data(record)
        elif tag == "default" and self.key is not None:
            self.key.default = "".join(self.text).strip()
            self.in_default = False
        elif tag == "key":
            self.key = None
        elif tag == "graph":
            if self.nested:
                self.nested -= 1
            elif self.graph_of:
                self.graph_of.pop()

    def _data(self, record: dict | None) -> None:
        key_id, value = self.data_key, "".join(self.text).strip()
        self.data_key = None
        if record is None or self.nested:
            return
        key = self.keys.get(key_id or "")
        if key is None:
            self.undeclared.setdefault(key_id or "", []).append(self.line())
            return
        # A data name that is also a structural column gets a prefix.
        column = f"data_{key.name}" if key.name in _STRUCTURAL else key.name
        if column in record:
            self.clashes[(key.name, key_id)] = self.clashes.get((key.name, key_id), 0) + 1
            return
        record[column] = value

    def chars(self, data: str) -> None:
        if self.data_key is not None or self.in_default:
            self.text.append(data)


def _refuse_dtd(*_args) -> None:
    raise DataValidationError("Het GraphML-bestand bevat een DOCTYPE of entiteit; die worden om veiligheidsredenen "
                              "niet gelezen. Exporteer het bestand opnieuw uit Network Canvas of Gephi.")


def read_graphml(source: str | Path | bytes, *, file: str | None = None) -> GraphmlDocument:
    """Read a GraphML file into tables of strings, collecting what was ignored.

    Parameters
    ----------
    source : path or bytes
        The file, or its content.
    file : str, optional
        The name used in messages (default: the file name).

    Returns
    -------
    GraphmlDocument

    Raises
    ------
    DataValidationError
        Missing, empty or too large files, XML that is not well-formed (with the line and column),
        a file that is not GraphML or has no ``<graph>``, DOCTYPE/entity declarations, nodes
        without id, edges without source or target. The message is Dutch and names the file.
    """
    if isinstance(source, bytes):
        data, name = source, file or "graphml"
    else:
        path = Path(source)
        name = file or path.name
        if not path.is_file():
            raise DataValidationError("Het bestand bestaat niet.", file=str(path))
        if path.stat().st_size > MAX_GRAPHML_BYTES:
            raise DataValidationError("Het GraphML-bestand is te groot (maximaal 200 MiB).", file=name)
        data = path.read_bytes()
    if not data.strip():
        raise DataValidationError("Het GraphML-bestand is leeg.", file=name)
    if len(data) > MAX_GRAPHML_BYTES:
        raise DataValidationError("Het GraphML-bestand is te groot (maximaal 200 MiB).", file=name)
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    builder = _Builder(name, parser)
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.chars
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartNamespaceDeclHandler = lambda prefix, uri: builder.root_attrs.setdefault(
        "_nc_namespace", "1") if uri == NC_NS else None
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        reason = xml.parsers.expat.ErrorString(exc.code)
        dutch = _EXPAT_NL.get(reason, reason)
        raise DataValidationError(
            f"Het GraphML-bestand is geen geldige XML: {dutch} (regel {exc.lineno}, positie {exc.offset + 1}). "
            "Is het bestand volledig (niet afgebroken bij het kopiëren) en niet met de hand gewijzigd?",
            file=name, row=exc.lineno) from exc
    except DataValidationError as exc:
        if exc.file is None:
            raise DataValidationError(str(exc), file=name, row=builder.line()) from exc
        raise
    if not builder.graphs:
        raise DataValidationError("Het GraphML-bestand bevat geen <graph>: er is geen netwerk om te lezen.", file=name)
    if builder.problems:
        first = builder.problems[0]
        raise DataValidationError(f"{len(builder.problems)} probleem/problemen in het GraphML-bestand. Eerste: "
                                  f"{first['melding']}", file=name, row=first["rij"], column=first["kolom"],
                                  problems=builder.problems)
    warnings = list(builder.warnings)
    for key_id, lines in builder.undeclared.items():
        warnings.append({"bestand": name, "rij": lines[0], "kolom": key_id,
                         "melding": f"<data> verwijst naar de sleutel '{key_id}', die niet gedeclareerd is "
                                    f"({len(lines)}×); genegeerd."})
    by_name: dict[tuple[str, str], list[str]] = {}
    for key in builder.keys.values():
        by_name.setdefault((key.domain, key.name), []).append(key.id)
    domain_nl = {"graph": "ego (graph)", "node": "knopen", "edge": "banden", "all": "alles"}
    for (domain, attr), ids in by_name.items():
        if len(ids) > 1:
            warnings.append({"bestand": name, "rij": builder.keys[ids[1]].line, "kolom": attr,
                             "melding": f"attr.name '{attr}' hoort bij {len(ids)} sleutels voor "
                                        f"{domain_nl.get(domain, domain)} ({', '.join(ids)}); gelezen als één "
                                        "variabele."})
    for (attr, key_id), count in builder.clashes.items():
        warnings.append({"bestand": name, "rij": builder.keys[key_id].line, "kolom": attr,
                         "melding": f"{count} element(en) hebben twee waarden voor '{attr}' (ook sleutel "
                                    f"'{key_id}'); de eerste is gebruikt."})
    graphs = _frame(builder.graphs, ["graph", "line"])
    nodes = _frame(builder.nodes, ["graph", "node_id", "line"])
    edges = _frame(builder.edges, ["graph", "edge_id", "source", "target", "line"])
    _apply_defaults(builder.keys, graphs, "graph")
    _apply_defaults(builder.keys, nodes, "node")
    _apply_defaults(builder.keys, edges, "edge")
    return GraphmlDocument(name, builder.keys, graphs, nodes, edges, builder.root_attrs, warnings)


def _frame(records: list[dict], first: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=first)
    rest = [c for c in frame.columns if c not in first]
    out = frame.reindex(columns=first + rest).astype("string")
    for col in ("graph", "line"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
    return out


def _apply_defaults(keys: dict[str, GraphmlKey], frame: pd.DataFrame, domain: str) -> None:
    for key in keys.values():
        if key.default is None or key.domain not in (domain, "all"):
            continue
        if key.name in frame:
            frame[key.name] = frame[key.name].fillna(key.default)
        elif len(frame):
            frame[key.name] = pd.Series(key.default, index=frame.index, dtype="string")


def graphml_bool(values: pd.Series) -> pd.Series:
    """GraphML booleans ('true'/'false', '1'/'0', any case) as a nullable boolean; other text is ``<NA>``."""
    text = values.astype("string").str.strip().str.lower()
    return text.map({"true": True, "1": True, "false": False, "0": False}.get, na_action="ignore").astype("boolean")


# The expat reasons users meet most, in Dutch; others are shown as expat says them.
_EXPAT_NL = {
    "mismatched tag": "een element wordt met een andere tag gesloten dan geopend",
    "no element found": "het bestand houdt op voordat alle elementen gesloten zijn",
    "not well-formed (invalid token)": "ongeldig teken",
    "unclosed token": "een tag of waarde is niet afgesloten",
    "syntax error": "syntaxfout",
    "junk after document element": "er staat nog tekst na het einde van het document",
    "undefined entity": "onbekende entiteit (bijv. &naam; in plaats van &amp;)",
    "unbound prefix": "een voorvoegsel (namespace) wordt gebruikt zonder dat het gedeclareerd is",
    "duplicate attribute": "een attribuut staat twee keer in hetzelfde element",
    "encoding specified in XML declaration is incorrect": "de tekenset in de XML-declaratie klopt niet",
    "unknown encoding": "onbekende tekenset",
}
