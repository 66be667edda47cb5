"""Support networks in other formats: Network Canvas CSV export (import) and GraphML (both ways).

Network Canvas writes, per interview, an ego file (``networkCanvasEgoUUID``), node attribute lists
(one row per alter: ``networkCanvasEgoUUID``, ``networkCanvasUUID``, categorical variables as one
boolean column per value) and edge lists (``networkCanvasSourceUUID`` → ``networkCanvasTargetUUID``:
alters who know each other). A mapping tells which ego variables hold the buurt and age band and
which boolean columns mean which role and support type. Alters become anonymous alters keyed by
their Network Canvas UUID; edges between them become alter links (density among alters).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.privacy import check_pseudonymous
from data.schema import AGE_BANDS, ROLES, SUPPORT_TYPES
from data.tabular import read_table_file

DEFAULT_NC_MAPPING = {
    "persoon": None,  # ego variable with an opaque code; default: "NC-" + the first 8 characters of the ego UUID
    "buurtcode": "buurtcode",
    "leeftijd": "leeftijd",
    "rollen": {f"rol_{r}": r for r in ROLES},
    "steun": {f"steun_{s}": s for s in SUPPORT_TYPES},
    "nabijheid": "nabijheid",
    "contact": "contact",
}
_TRUE = {"true", "1", "ja", "yes", "waar"}


def read_nc_mapping(path: str | Path | None) -> dict:
    """The mapping from Network Canvas variables to Steunkaart's fields (JSON), over the defaults."""
    if path is None:
        return dict(DEFAULT_NC_MAPPING)
    path = Path(path)
    try:
        given = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataValidationError(f"De koppeling is geen geldige JSON ({exc}).", file=path.name) from exc
    if not isinstance(given, dict):
        raise DataValidationError("De koppeling moet een JSON-object zijn.", file=path.name)
    unknown_roles = [r for r in given.get("rollen", {}).values() if r not in ROLES]
    if unknown_roles:
        raise DataValidationError(f"Onbekende rol(len) in de koppeling: {', '.join(unknown_roles)}.", file=path.name)
    unknown_support = [s for s in given.get("steun", {}).values() if s not in SUPPORT_TYPES]
    if unknown_support:
        raise DataValidationError(f"Onbekende steunsoort(en) in de koppeling: {', '.join(unknown_support)} "
                                  f"(kies uit {', '.join(SUPPORT_TYPES)}).", file=path.name)
    return {**DEFAULT_NC_MAPPING, **given}


def _truthy(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(False, index=frame.index)
    return frame[col].astype("string").str.strip().str.lower().isin(_TRUE)


def read_network_canvas(files: list[str | Path], mapping: dict | None = None, *,
                        known_buurten: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read a Network Canvas CSV export into persons, ties and alter links."""
    mapping = mapping or dict(DEFAULT_NC_MAPPING)
    paths = [Path(f) for f in files]
    ego_files = [p for p in paths if "ego" in p.stem.lower() and "attributelist" not in p.stem.lower()
                 and "edgelist" not in p.stem.lower()]
    node_files = [p for p in paths if "attributelist" in p.stem.lower()]
    edge_files = [p for p in paths if "edgelist" in p.stem.lower()]
    if not ego_files or not node_files:
        raise DataValidationError("Een Network Canvas-export heeft een ego-bestand (…_ego.csv) en minstens één "
                                  "attributenlijst (…_attributeList_….csv) nodig.")
    frames = {}
    for path in paths:
        frame = read_table_file(path)
        check_pseudonymous(frame, file=path.name)
        frames[path] = frame
    egos = pd.concat([frames[p] for p in ego_files], ignore_index=True)
    if "networkCanvasEgoUUID" not in egos:
        raise DataValidationError("Kolom networkCanvasEgoUUID ontbreekt.", file=ego_files[0].name,
                                  column="networkCanvasEgoUUID")
    ego_uuid = egos["networkCanvasEgoUUID"].astype("string").str.strip()
    id_col = mapping.get("persoon")
    person_id = (egos[id_col].astype("string").str.strip() if id_col and id_col in egos
                 else "NC-" + ego_uuid.str.replace("-", "").str[:8])
    check_pseudonymous(pd.DataFrame({"persoon": person_id}), file=ego_files[0].name, id_columns=("persoon",))
    buurt_col, age_col = mapping.get("buurtcode"), mapping.get("leeftijd")
    buurt = egos[buurt_col].astype("string").str.strip().str.upper() if buurt_col in egos else pd.Series(
        pd.NA, index=egos.index, dtype="string")
    if known_buurten is not None:
        bad = buurt.notna() & ~buurt.isin(known_buurten)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise DataValidationError(f"buurtcode '{buurt.iloc[row - 2]}' staat niet in de opslag.",
                                      file=ego_files[0].name, row=row, column=buurt_col)
    age = egos[age_col].astype("string").str.strip() if age_col in egos else pd.Series(pd.NA, index=egos.index)
    age = age.where(age.isin(AGE_BANDS))
    persons = pd.DataFrame({"person_id": person_id, "buurt_code": buurt, "age_band": age, "consent": True})
    ego_of = dict(zip(ego_uuid, person_id, strict=True))

    nodes = pd.concat([frames[p] for p in node_files], ignore_index=True)
    for col in ("networkCanvasEgoUUID", "networkCanvasUUID"):
        if col not in nodes:
            raise DataValidationError(f"Kolom {col} ontbreekt in de attributenlijst.", file=node_files[0].name,
                                      column=col)
    node_ego = nodes["networkCanvasEgoUUID"].astype("string").str.strip().map(ego_of)
    if node_ego.isna().any():
        row = int(np.flatnonzero(node_ego.isna().to_numpy())[0]) + 2
        raise DataValidationError("Deze alter hoort bij een ego die niet in het ego-bestand staat.",
                                  file=node_files[0].name, row=row, column="networkCanvasEgoUUID")
    role = pd.Series("anders", index=nodes.index, dtype=object)
    for col, value in reversed(list(mapping.get("rollen", {}).items())):  # the first listed role wins
        role = role.mask(_truthy(nodes, col), value)
    ties = pd.DataFrame({
        "ego_id": node_ego.to_numpy(), "alter_id": None,
        "alter_key": nodes["networkCanvasUUID"].astype("string").str.strip().to_numpy(), "role": role.to_numpy(),
    })
    for col, support in mapping.get("steun", {}).items():
        ties[f"support_{support}"] = ties.get(f"support_{support}", False) | _truthy(nodes, col).to_numpy()
    for support in SUPPORT_TYPES:
        if f"support_{support}" not in ties:
            ties[f"support_{support}"] = False
    close_col = mapping.get("nabijheid")
    if close_col in nodes:
        ties["closeness"] = pd.to_numeric(nodes[close_col], errors="coerce").clip(1, 3).astype("Int64").to_numpy()
    contact_col = mapping.get("contact")
    if contact_col in nodes:
        ties["contact_frequency"] = nodes[contact_col].astype("string").str.strip().str.lower().to_numpy()

    links = pd.DataFrame(columns=["ego_id", "source", "target"])
    if edge_files:
        edges = pd.concat([frames[p] for p in edge_files], ignore_index=True)
        needed = ["networkCanvasEgoUUID", "networkCanvasSourceUUID", "networkCanvasTargetUUID"]
        missing = [c for c in needed if c not in edges]
        if missing:
            raise DataValidationError(f"Kolom {missing[0]} ontbreekt in de relatielijst.", file=edge_files[0].name,
                                      column=missing[0])
        links = pd.DataFrame({
            "ego_id": edges["networkCanvasEgoUUID"].astype("string").str.strip().map(ego_of).to_numpy(),
            "source": edges["networkCanvasSourceUUID"].astype("string").str.strip().to_numpy(),
            "target": edges["networkCanvasTargetUUID"].astype("string").str.strip().to_numpy(),
        }).drop_duplicates(["ego_id", "source", "target"])
    return {"persons": persons, "ties": ties, "participation": pd.DataFrame(), "alter_links": links}


# --------------------------------------------------------------------------- GraphML

_TIE_ATTRS = ["role", "support_practical", "support_emotional", "support_informational", "support_companionship",
              "contact_frequency", "closeness", "reciprocal", "same_buurt"]


def network_to_graphml(persons: pd.DataFrame, ties: pd.DataFrame, alter_links: pd.DataFrame | None = None) -> bytes:
    """The support network as GraphML (opens in Gephi): persons and anonymous alters as nodes."""
    graph = nx.DiGraph()
    for row in persons.itertuples(index=False):
        graph.add_node(str(row.person_id), kind="persoon", buurt_code=str(row.buurt_code or ""),
                       age_band=str(row.age_band or ""))
    alter = ties["alter_id"].astype("string").fillna(ties["ego_id"].astype("string") + "|" + ties["alter_key"])
    for ego, target, row in zip(ties["ego_id"], alter, ties.itertuples(index=False), strict=True):
        if target not in graph:
            graph.add_node(str(target), kind="alter")
        attrs = {k: ("" if pd.isna(getattr(row, k)) else
                     (bool(getattr(row, k)) if k.startswith(("support", "recip", "same")) else
                      (int(getattr(row, k)) if k == "closeness" else str(getattr(row, k)))))
                 for k in _TIE_ATTRS if hasattr(row, k)}
        graph.add_edge(str(ego), str(target), kind="steun", **attrs)
    if alter_links is not None:
        for row in alter_links.itertuples(index=False):
            a, b = (f"{row.ego_id}|{x}" if f"{row.ego_id}|{x}" in graph else str(x) for x in (row.source, row.target))
            graph.add_edge(a, b, kind="kent", ego_id=str(row.ego_id))
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    return buffer.getvalue()


def network_from_graphml(path: str | Path) -> dict[str, pd.DataFrame]:
    """Read GraphML written by :func:`network_to_graphml` (or in the same shape) back into frames."""
    path = Path(path)
    try:
        graph = nx.read_graphml(path)
    except Exception as exc:
        raise DataValidationError("Het GraphML-bestand kan niet gelezen worden.", file=path.name) from exc
    nodes = pd.DataFrame([{"id": n, **d} for n, d in graph.nodes(data=True)])
    check_pseudonymous(nodes.drop(columns=["kind"], errors="ignore"), file=path.name, id_columns=("id",))
    people = nodes.loc[nodes.get("kind", pd.Series("persoon", index=nodes.index)) == "persoon"]
    persons = pd.DataFrame({"person_id": people["id"], "buurt_code": people.get("buurt_code"),
                            "age_band": people.get("age_band"), "consent": True}).replace("", None)
    edges = pd.DataFrame([{"source": u, "target": v, **d} for u, v, d in graph.edges(data=True)])
    steun = edges.loc[edges.get("kind", "steun") == "steun"]
    known = set(persons["person_id"])
    is_person = steun["target"].isin(known)
    ties = pd.DataFrame({
        "ego_id": steun["source"].to_numpy(),
        "alter_id": steun["target"].where(is_person).to_numpy(),
        "alter_key": steun["target"].where(~is_person).str.split("|").str[-1].to_numpy(),
        **{k: steun[k].to_numpy() for k in _TIE_ATTRS if k in steun},
    }).replace("", None)
    kent = edges.loc[edges.get("kind", "") == "kent"]
    links = pd.DataFrame({"ego_id": kent.get("ego_id"), "source": kent["source"].str.split("|").str[-1],
                          "target": kent["target"].str.split("|").str[-1]}) if len(kent) else pd.DataFrame(
        columns=["ego_id", "source", "target"])
    return {"persons": persons, "ties": ties, "participation": pd.DataFrame(), "alter_links": links}
