"""The community network: persons and the provisions they join, its connectors and gaps.

People are linked through their ties with other persons in the data and through the groups they
join. Connectors are people or groups whose removal splits the network (articulation points) or
that lie on many shortest paths (high betweenness). The interactive view uses vis-network from the
installed pyvis package, served by the app itself (no CDN): it opens fitted to the drawn graph,
with its legend inside the view. People without any link in the data (no tie to another person
in the data, no group) are not drawn, they would only push the layout apart; the summary lists
them, next to the connectors, so that the page can name them.

A tie links to a person only through ``alter_id``, the code of a person in the data (an import
refuses an ``alter`` that is not a person; the conversation form sets it when the code of the
person added is one of the persons in the data). An ``alter_id`` that is not among ``persons``
(someone outside the user's view) adds no node.
"""

from __future__ import annotations

import html
import json

import networkx as nx
import pandas as pd

from data.provision_types import PROVISION_TYPES


def community_graph(persons: pd.DataFrame, ties: pd.DataFrame, participation: pd.DataFrame,
                    provisions: pd.DataFrame) -> nx.Graph:
    """Undirected graph: person–person ties and person–provision participation."""
    graph = nx.Graph()
    ids = persons["person_id"].astype(str)
    graph.add_nodes_from(ids, kind="persoon")
    graph.add_nodes_from(("V:" + provisions["provision_id"].astype(str)).tolist(), kind="voorziening")
    linked = ties.dropna(subset=["alter_id"])
    known = linked["ego_id"].astype(str).isin(ids) & linked["alter_id"].astype(str).isin(ids)
    linked = linked.loc[known & (linked["ego_id"].astype(str) != linked["alter_id"].astype(str))]
    graph.add_edges_from(zip(linked["ego_id"].astype(str), linked["alter_id"].astype(str), strict=True), kind="steun")
    joins = participation.loc[participation["provision_id"].isin(provisions["provision_id"])]
    graph.add_edges_from(zip(joins["person_id"].astype(str), "V:" + joins["provision_id"].astype(str), strict=True),
                         kind="deelname")
    return graph


def community_summary(graph: nx.Graph, *, betweenness_sample: int = 300, top_share: float = 0.02) -> dict:
    """Components, isolated persons and connectors (articulation points and top betweenness).

    Besides the counts: ``isolated`` (the codes of persons without any link, sorted) and
    ``person_connectors`` (persons among the connectors, highest betweenness first).
    """
    persons = [n for n, d in graph.nodes(data=True) if d.get("kind") == "persoon"]
    isolated = [n for n in persons if graph.degree(n) == 0]
    components = [c for c in nx.connected_components(graph) if len(c) > 1]
    largest = max((len(c) for c in components), default=0)
    cut = set(nx.articulation_points(graph))
    k = min(betweenness_sample, graph.number_of_nodes())
    between = nx.betweenness_centrality(graph, k=k, seed=0) if k else {}
    ranked = sorted(between, key=between.get, reverse=True)
    top = set(ranked[: max(1, int(len(ranked) * top_share))]) if ranked else set()
    connectors = sorted(top | cut, key=lambda n: (-between.get(n, 0), n))
    return {
        "components": len(components),
        "largest_component": largest,
        "isolated_persons": len(isolated),
        "persons": len(persons),
        "connectors": connectors,
        "articulation_points": cut,
        "betweenness": between,
        "isolated": sorted(isolated),
        "person_connectors": [n for n in connectors if graph.nodes[n].get("kind") == "persoon"],
    }


_LEGEND_CSS = (
    "#wrap{display:flex;gap:0;border:1px solid #ddd}#net{flex:1;min-width:0}"
    "#side{width:190px;flex:none;border-left:1px solid #ddd;padding:6px 9px;font-size:12px;line-height:1.55;"
    "overflow-y:auto;box-sizing:border-box}"
    "#legend b{display:block;margin-top:6px}"
    ".dot,.sq{display:inline-block;width:10px;height:10px;margin-right:6px;vertical-align:-1px}"
    ".dot{border-radius:50%}.ln{display:inline-block;width:20px;height:0;border-top:2px solid;margin-right:6px;"
    "vertical-align:3px}"
    "#fit{margin-top:10px;font:12px sans-serif;padding:3px 8px;background:#fff;border:1px solid #bbb;"
    "border-radius:4px;cursor:pointer}"
)


def _legend_html(graph: nx.Graph, provision_types: dict[str, str]) -> str:
    """The legend inside the view: persons, signal, connectors, the kinds of group drawn, the lines."""
    kinds = {provision_types.get(node[2:], "") for node, kind in graph.nodes(data="kind")
             if kind == "voorziening" and graph.degree(node)}
    known = [PROVISION_TYPES[k] for k in PROVISION_TYPES if k in kinds]
    rows = ['<b>Personen</b>',
            '<span class="dot" style="background:#7da7c9"></span>persoon',
            '<span class="dot" style="background:#d7191c"></span>signaal arm netwerk',
            '<span class="dot" style="background:#7da7c9;border:2px solid #111;width:12px;height:12px"></span>'
            'verbinder (dikke rand)',
            '<b>Groepen (vierkant, groter = verbinder)</b>']
    rows += [f'<span class="sq" style="background:{html.escape(t.colour)}"></span>{html.escape(t.label)}'
             for t in known]
    if kinds - set(PROVISION_TYPES):
        rows.append('<span class="sq" style="background:#555555"></span>andere soort')
    rows += ['<b>Lijnen</b>', '<span class="ln" style="border-color:#bbbbbb"></span>steunrelatie',
             '<span class="ln" style="border-color:#e6ab02"></span>doet mee aan de groep']
    return '<div id="legend">' + "".join(f"<div>{row}</div>" for row in rows) + "</div>"


def community_html(graph: nx.Graph, summary: dict, *, signalled: set[str], provision_names: dict[str, str],
                   provision_types: dict[str, str], vis_base: str, height: int = 620) -> str:
    """A self-contained page drawing the graph with vis-network (assets from ``vis_base``).

    Nodes without any link are left out of the drawing (``summary["isolated"]`` lists the persons);
    the view is fitted to the graph once the layout has settled, and its legend sits inside the view,
    in a column beside the drawing (so that it covers no node).
    """
    connectors = set(summary["connectors"])
    nodes = []
    for node, data in graph.nodes(data=True):
        if graph.degree(node) == 0:
            continue
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
<style>html,body{{margin:0;font-family:sans-serif}}#net,#side{{height:{height}px}}
{_LEGEND_CSS}</style>
</head><body><div id="wrap"><div id="net"></div><div id="side">{_legend_html(graph, provision_types)}
<button id="fit" type="button">Alles in beeld</button></div></div><script>
const data = {data};
const network = new vis.Network(document.getElementById('net'),
  {{nodes: new vis.DataSet(data.nodes), edges: new vis.DataSet(data.edges)}},
  {{physics: {{solver: 'forceAtlas2Based', stabilization: {{iterations: 150, fit: true}}}},
    nodes: {{font: {{size: 11}}}}, edges: {{width: 0.6}}, interaction: {{hover: true, tooltipDelay: 100}}}});
const fitAll = () => network.fit({{animation: false}});
network.once('stabilizationIterationsDone', () => {{
  network.setOptions({{physics: false}}); fitAll(); document.body.dataset.fitted = '1';
}});
document.getElementById('fit').addEventListener('click', fitAll);
window.addEventListener('resize', fitAll);
</script></body></html>"""
