"""Support networks in other formats: Network Canvas exports (import) and GraphML (both ways).

Network Canvas is read by :mod:`data.network_canvas` (CSV set, GraphML or their zip; a mapping
with a preset; identifying columns listed and not imported; other node types skipped); this
module keeps the short entry points :func:`read_network_canvas` and :func:`read_nc_mapping`.
GraphML written by :func:`network_to_graphml` (persons and anonymous alters as nodes, support ties
and alter links as edges) is read back by :func:`network_from_graphml` with the robust reader of
:mod:`data.graphml`: never a traceback, a Dutch message that says why.
"""

from __future__ import annotations

import io
from pathlib import Path

import networkx as nx
import pandas as pd

from data.errors import DataValidationError
from data.graphml import graphml_bool, read_graphml
from data.network_canvas import (
    NETWORK_CANVAS_PRESET,
    NetworkCanvasMapping,
    NetworkCanvasPreview,
    NetworkCanvasSource,
    network_canvas_frames,
    network_canvas_preset_table,
    preview_network_canvas,
    read_network_canvas_export,
    read_network_canvas_mapping,
)
from data.privacy import check_pseudonymous
from data.schema import CONTACT_FREQUENCIES, ROLES

__all__ = [
    "NETWORK_CANVAS_PRESET",
    "NetworkCanvasMapping",
    "NetworkCanvasPreview",
    "NetworkCanvasSource",
    "is_network_canvas_graphml",
    "network_canvas_frames",
    "network_canvas_preset_table",
    "network_from_graphml",
    "network_to_graphml",
    "preview_network_canvas",
    "read_nc_mapping",
    "read_network_canvas",
    "read_network_canvas_export",
    "read_network_canvas_mapping",
]


def read_nc_mapping(path: str | Path | None) -> NetworkCanvasMapping:
    """The mapping from a JSON file (new or the first import's format), or the preset for ``None``."""
    return read_network_canvas_mapping(path)


def read_network_canvas(files, mapping: NetworkCanvasMapping | dict | None = None, *,
                        known_buurten: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read a Network Canvas export (files, zip or folder) into persons, ties and alter links, or raise one error."""
    if isinstance(mapping, dict):
        mapping = NetworkCanvasMapping.from_dict(mapping)
    return network_canvas_frames(read_network_canvas_export(files), mapping, known_buurten=known_buurten)


# --------------------------------------------------------------------------- GraphML

_TIE_ATTRS = ["role", "support_practical", "support_emotional", "support_informational", "support_companionship",
              "contact_frequency", "closeness", "reciprocal", "same_buurt"]


def network_to_graphml(persons: pd.DataFrame, ties: pd.DataFrame, alter_links: pd.DataFrame | None = None) -> bytes:
    """The support network as GraphML (opens in Gephi): persons and anonymous alters as nodes.

    A value that is not known (a buurt, closeness, an unknown 'wederzijds') is left out of the
    element instead of written as an empty text, so every attribute keeps one type.
    """
    graph = nx.MultiDiGraph()  # a person's own tie and a link between the same two persons are two edges
    for row in persons.itertuples(index=False):
        attrs = {k: str(getattr(row, k)) for k in ("buurt_code", "age_band")
                 if hasattr(row, k) and not pd.isna(getattr(row, k)) and str(getattr(row, k))}
        graph.add_node(str(row.person_id), kind="persoon", **attrs)
    alter = ties["alter_id"].astype("string").fillna(ties["ego_id"].astype("string") + "|" + ties["alter_key"])
    for ego, target, row in zip(ties["ego_id"], alter, ties.itertuples(index=False), strict=True):
        if target not in graph:
            graph.add_node(str(target), kind="alter")
        attrs = {k: (bool(getattr(row, k)) if k.startswith(("support", "recip", "same")) else
                     (int(getattr(row, k)) if k == "closeness" else str(getattr(row, k))))
                 for k in _TIE_ATTRS if hasattr(row, k) and not pd.isna(getattr(row, k))}
        graph.add_edge(str(ego), str(target), kind="steun", **attrs)
    if alter_links is not None:
        for row in alter_links.itertuples(index=False):
            a, b = (f"{row.ego_id}|{x}" if f"{row.ego_id}|{x}" in graph else str(x) for x in (row.source, row.target))
            graph.add_edge(a, b, kind="kent", ego_id=str(row.ego_id))
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    return buffer.getvalue()


def is_network_canvas_graphml(path: str | Path | bytes) -> bool:
    """Whether a GraphML file was written by Network Canvas (its namespace or UUID keys); False if unreadable."""
    try:
        return read_graphml(path if isinstance(path, bytes) else Path(path)).is_network_canvas
    except DataValidationError:
        return False


def network_from_graphml(path: str | Path | bytes, *, file: str | None = None) -> dict[str, pd.DataFrame]:
    """Read GraphML written by :func:`network_to_graphml` (a path, or an upload's bytes with ``file``) back
    into frames (and ``warnings``).

    Raises
    ------
    DataValidationError
        For XML that is not GraphML (with the line), a Network Canvas GraphML (import that as a
        Network Canvas export), a GraphML without Steunkaart's node kinds, personal data, and every
        tie whose role, contact frequency or closeness is not one of ours (all in ``problems``).
    """
    doc = read_graphml(path if isinstance(path, bytes) else Path(path), file=file)
    name = doc.file
    if doc.is_network_canvas:
        raise DataValidationError(
            "Dit GraphML-bestand komt uit Network Canvas; importeer het als Network Canvas-export (--network-canvas): "
            "dan worden namen niet overgenomen en andere soorten knopen (zoals plekken) overgeslagen.", file=name)
    nodes, edges = doc.nodes, doc.edges
    if "kind" not in nodes or "kind" not in edges:
        raise DataValidationError(
            "Dit GraphML-bestand komt niet van Steunkaart: de knopen en banden hebben geen 'kind' (persoon/alter, "
            "steun/kent). Exporteer met 'python cli.py export-network', of importeer een Network Canvas-export met "
            "--network-canvas.", file=name)
    problems: list[dict] = []
    warnings = list(doc.warnings)

    def bad(frame: pd.DataFrame, mask, column: str, message: str) -> None:
        for line in frame.loc[mask.fillna(False).to_numpy(dtype=bool), "line"]:
            problems.append({"bestand": name, "rij": None if pd.isna(line) else int(line), "kolom": column,
                             "melding": message})

    kind = nodes["kind"].str.strip().str.lower()
    bad(nodes, ~kind.isin(["persoon", "alter"]), "kind", "Een knoop is 'persoon' of 'alter'.")
    attrs = [c for c in nodes.columns if c not in ("graph", "node_id", "line", "kind")]
    try:
        check_pseudonymous(nodes[["node_id", *attrs]].rename(columns={"node_id": "id"}), file=name,
                           id_columns=("id",))
    except DataValidationError as exc:
        problems.append({"bestand": name, "rij": exc.row, "kolom": exc.column or "",
                         "melding": str(exc).split(" (bestand")[0]})
    people = nodes.loc[kind.eq("persoon").fillna(False).to_numpy(dtype=bool)]
    persons = pd.DataFrame({"person_id": people["node_id"].to_numpy(),
                            "buurt_code": people.get("buurt_code", pd.Series(pd.NA, index=people.index)).to_numpy(),
                            "age_band": people.get("age_band", pd.Series(pd.NA, index=people.index)).to_numpy(),
                            "consent": True}).replace("", None)
    edge_kind = edges["kind"].str.strip().str.lower()
    bad(edges, ~edge_kind.isin(["steun", "kent"]), "kind", "Een band is 'steun' of 'kent'.")
    loop = edges["source"] == edges["target"]
    for line in edges.loc[loop.fillna(False).to_numpy(dtype=bool), "line"]:
        warnings.append({"bestand": name, "rij": None if pd.isna(line) else int(line), "kolom": "",
                         "melding": "Een band van een knoop naar zichzelf (lus) wordt overgeslagen."})
    edges = edges.loc[~loop.fillna(False).to_numpy(dtype=bool)]
    edge_kind = edge_kind.loc[edges.index]
    steun = edges.loc[edge_kind.eq("steun").fillna(False).to_numpy(dtype=bool)]
    known = set(persons["person_id"])
    bad(steun, ~steun["source"].isin(known), "source", "Een steunrelatie begint bij een persoon (kind 'persoon').")
    is_person = steun["target"].isin(known)

    def text(col: str) -> pd.Series:
        return steun[col].str.strip().replace("", None) if col in steun else pd.Series(pd.NA, index=steun.index,
                                                                                       dtype="string")

    role, contact = text("role"), text("contact_frequency")
    bad(steun, role.isna() | ~role.isin(list(ROLES)), "role", f"Onbekende of lege rol; kies uit {', '.join(ROLES)}.")
    bad(steun, contact.notna() & ~contact.isin(list(CONTACT_FREQUENCIES)), "contact_frequency",
        f"Onbekende contactfrequentie; kies uit {', '.join(CONTACT_FREQUENCIES)}.")
    closeness = pd.to_numeric(text("closeness"), errors="coerce")
    bad(steun, text("closeness").notna() & ~closeness.isin([1, 2, 3]), "closeness", "Nabijheid is 1, 2 of 3.")
    ties = pd.DataFrame({
        "ego_id": steun["source"].to_numpy(),
        "alter_id": steun["target"].where(is_person).to_numpy(),
        "alter_key": steun["target"].where(~is_person).str.split("|").str[-1].to_numpy(),
        "role": role.to_numpy(),
        **{f"support_{s}": graphml_bool(text(f"support_{s}")).fillna(False).astype(bool).to_numpy()
           for s in ("practical", "emotional", "informational", "companionship")},
        "contact_frequency": contact.to_numpy(),
        "closeness": closeness.astype("Int64").to_numpy(),
        "reciprocal": graphml_bool(text("reciprocal")).to_numpy(),
        "same_buurt": graphml_bool(text("same_buurt")).to_numpy(),
    })
    kent = edges.loc[edge_kind.eq("kent").fillna(False).to_numpy(dtype=bool)]
    links = pd.DataFrame({"ego_id": kent.get("ego_id", pd.Series(pd.NA, index=kent.index)).to_numpy(),
                          "source": kent["source"].str.split("|").str[-1].to_numpy(),
                          "target": kent["target"].str.split("|").str[-1].to_numpy()})
    bad(kent, links["ego_id"].isna().set_axis(kent.index), "ego_id", "Een band 'kent' heeft een ego_id nodig.")
    if problems:
        first = problems[0]
        raise DataValidationError(f"{len(problems)} probleem/problemen in het GraphML-bestand; er is niets "
                                  f"geïmporteerd. Eerste: {first['melding']}", file=name, row=first["rij"],
                                  column=first["kolom"] or None, problems=problems)
    return {"persons": persons, "ties": ties, "participation": pd.DataFrame(), "alter_links": links,
            "warnings": warnings}
