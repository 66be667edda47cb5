"""The community network: persons and the provisions they join, its connectors and gaps.

People are linked through their ties with other persons in the data and through the groups they
join. Connectors are people or groups whose removal splits the network (articulation points) or
that lie on many shortest paths (high betweenness). The interactive view uses vis-network from the
installed pyvis package, served by the app itself (no CDN).
"""

from __future__ import annotations

import json

import networkx as nx
import pandas as pd

from data.provision_types import PROVISION_TYPES


def community_graph(persons: pd.DataFrame, ties: pd.DataFrame, participation: pd.DataFrame,
                    provisions: pd.DataFrame) -> nx.Graph:
    """Undirected graph: person–person ties and person–provision participation."""
    graph = nx.Graph()
    graph.add_nodes_from(persons["person_id"].astype(str), kind="persoon")
    graph.add_nodes_from(("V:" + provisions["provision_id"].astype(str)).tolist(), kind="voorziening")
    linked = ties.dropna(subset=["alter_id"])
    graph.add_edges_from(zip(linked["ego_id"].astype(str), linked["alter_id"].astype(str), strict=True), kind="steun")
    joins = participation.loc[participation["provision_id"].isin(provisions["provision_id"])]
    graph.add_edges_from(zip(joins["person_id"].astype(str), "V:" + joins["provision_id"].astype(str), strict=True),
                         kind="deelname")
    return graph


def community_summary(graph: nx.Graph, *, betweenness_sample: int = 300, top_share: float = 0.02) -> dict:
    """Components, isolated persons and connectors (articulation points and top betweenness)."""
    persons = [n for n, d in graph.nodes(data=True) if d.get("kind") == "persoon"]
    isolated = [n for n in persons if graph.degree(n) == 0]
    components = [c for c in nx.connected_components(graph) if len(c) > 1]
    largest = max((len(c) for c in components), default=0)
    cut = set(nx.articulation_points(graph))
    k = min(betweenness_sample, graph.number_of_nodes())
    between = nx.betweenness_centrality(graph, k=k, seed=0) if k else {}
    ranked = sorted(between, key=between.get, reverse=True)
    top = set(ranked[: max(1, int(len(ranked) * top_share))]) if ranked else set()
    return {
        "components": len(components),
        "largest_component": largest,
        "isolated_persons": len(isolated),
        "persons": len(persons),
        "connectors": sorted(top | cut, key=lambda n: -between.get(n, 0)),
        "articulation_points": cut,
        "betweenness": between,
    }


def community_html(graph: nx.Graph, summary: dict, *, signalled: set[str], provision_names: dict[str, str],
                   provision_types: dict[str, str], vis_base: str, height: int = 620) -> str:
    """A self-contained page drawing the graph with vis-network (assets from ``vis_base``)."""
    connectors = set(summary["connectors"])
    nodes = []
    for node, data in graph.nodes(data=True):
        if data.get("kind") == "voorziening":
            pid = node[2:]
            ptype = provision_types.get(pid, "")
            colour = PROVISION_TYPES[ptype].colour if ptype in PROVISION_TYPES else "#555555"
            # Plain text: vis-network 9 shows a string title with innerText and draws labels on the canvas,
            # so HTML entities would show literally ('&amp;'); the JSON below is made safe for <script>.
            name = str(provision_names.get(pid, pid))
            nodes.append({"id": node, "shape": "square", "size": 14 if node in connectors else 10, "color": colour,
                          "title": name, "label": name})
        else:
            is_connector = node in connectors
            nodes.append({"id": node, "shape": "dot", "size": 9 if is_connector else 4,
                          "color": {"background": "#d7191c" if node in signalled else "#7da7c9",
                                    "border": "#111111" if is_connector else "#ffffff"},
                          "borderWidth": 2 if is_connector else 0.5,
                          "title": node + (" · verbinder" if is_connector else "")
                                   + (" · signaal arm netwerk" if node in signalled else "")})
    edges = [{"from": u, "to": v, "color": "#bbbbbb" if d.get("kind") == "steun" else "#e6ab02"}
             for u, v, d in graph.edges(data=True)]
    # As Jinja's tojson: no '<', '>', '&' or "'" in the script, so no text can close it or hide its end.
    data = json.dumps({"nodes": nodes, "edges": edges})
    for char in "<>&'":
        data = data.replace(char, f"\\u{ord(char):04x}")
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{vis_base}/vis-network.css">
<script src="{vis_base}/vis-network.min.js"></script>
<style>html,body{{margin:0;font-family:sans-serif}}#net{{width:100%;height:{height}px;border:1px solid #ddd}}</style>
</head><body><div id="net"></div><script>
const data = {data};
const network = new vis.Network(document.getElementById('net'),
  {{nodes: new vis.DataSet(data.nodes), edges: new vis.DataSet(data.edges)}},
  {{physics: {{solver: 'forceAtlas2Based', stabilization: {{iterations: 150}}}},
    nodes: {{font: {{size: 11}}}}, edges: {{width: 0.6}}, interaction: {{hover: true, tooltipDelay: 100}}}});
network.once('stabilizationIterationsDone', () => network.setOptions({{physics: false}}));
</script></body></html>"""
