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
import time

import networkx as nx
import numpy as np
import pandas as pd

from data.formatting import format_number
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


def sampled_betweenness(graph: nx.Graph, *, budget_s: float = 2.0, k: int | None = None,
                        seed: int = 0) -> tuple[dict, int]:
    """Betweenness centrality (as ``nx.betweenness_centrality``, normalised) from as many sources as fit a budget.

    Brandes' accumulation runs source by source in a fixed random order (``seed``) until ``budget_s``
    seconds are spent or every node was a source (then it is the exact betweenness, as networkx's, up to
    the order of the sums). With ``k`` exactly that many sources are used, whatever the time. A source
    without links costs next to nothing and adds nothing, so the budget goes to the linked part.

    Returns the betweenness per node and the number of sources used (the estimate is on that many).
    """
    from networkx.algorithms.centrality.betweenness import (
        _accumulate_basic,
        _rescale,
        _single_source_shortest_path_basic,
    )

    nodes = list(graph.nodes())
    n = len(nodes)
    if n == 0:
        return {}, 0
    order = np.random.default_rng(seed).permutation(n)
    limit = n if k is None else min(int(k), n)
    between = dict.fromkeys(nodes, 0.0)
    deadline = time.perf_counter() + budget_s
    used = 0
    for index in order[:limit]:  # one pass per source (a bounded number), each over the whole component at once
        source = nodes[index]
        stack, preds, sigma, _ = _single_source_shortest_path_basic(graph, source)
        between, _ = _accumulate_basic(between, stack, preds, sigma, source)
        used += 1
        if k is None and used < n and time.perf_counter() > deadline:
            break
    sampled = None if used == n else [nodes[i] for i in order[:used]]
    return _rescale(between, n, normalized=True, directed=False, endpoints=False, sampled_nodes=sampled), used


def community_summary(graph: nx.Graph, *, budget_s: float = 2.0, betweenness_sample: int | None = None,
                      top_share: float = 0.02) -> dict:
    """Components, isolated persons and connectors (articulation points, bridges and top betweenness).

    The articulation points and bridges are exact (linear time). Betweenness is estimated on as many
    sources as fit ``budget_s`` seconds (:func:`sampled_betweenness`; exact on a small graph, or with
    ``betweenness_sample`` that many sources); ``sources`` says on how many.

    Besides the counts: ``isolated`` (the codes of persons without any link, sorted),
    ``person_connectors`` (persons among the connectors, highest betweenness first), ``bridges`` (the
    links whose removal splits the network) and ``linked_persons`` (persons with a link, sorted).
    """
    kinds = pd.Series(dict(graph.nodes(data="kind")), dtype=object)
    degree = pd.Series(dict(graph.degree()), dtype="int64").reindex(kinds.index)
    is_person = (kinds == "persoon").to_numpy()
    persons = kinds.index[is_person]
    isolated = np.sort(persons[(degree.to_numpy()[is_person] == 0)].to_numpy(dtype=object).astype(str))
    linked = np.sort(persons[(degree.to_numpy()[is_person] > 0)].to_numpy(dtype=object).astype(str))
    sizes = [len(c) for c in nx.connected_components(graph)]
    components = [s for s in sizes if s > 1]
    cut = set(nx.articulation_points(graph))
    bridges = list(nx.bridges(graph))
    between, sources = sampled_betweenness(graph, budget_s=budget_s, k=betweenness_sample)
    ranked = sorted(between, key=between.get, reverse=True)
    top = set(ranked[: max(1, int(len(ranked) * top_share))]) if ranked else set()
    connectors = sorted(top | cut, key=lambda n: (-between.get(n, 0), n))
    return {
        "components": len(components),
        "largest_component": max(components, default=0),
        "isolated_persons": len(isolated),
        "persons": len(persons),
        "connectors": connectors,
        "articulation_points": cut,
        "bridges": bridges,
        "betweenness": between,
        "sources": sources,
        "nodes": graph.number_of_nodes(),
        "isolated": isolated.tolist(),
        "linked_persons": linked.tolist(),
        "person_connectors": [n for n in connectors if graph.nodes[n].get("kind") == "persoon"],
    }


WHOLE_UP_TO = 300  # linked persons up to which the whole graph is drawn (a small team's data)


def summarised_graph(graph: nx.Graph, summary: dict, *, focus: str | None = None, max_connectors: int = 40,
                     max_neighbours: int = 60, whole_up_to: int = WHOLE_UP_TO) -> tuple[nx.Graph, dict]:
    """The part of a large community graph that is drawn: groups, connectors and one person's neighbourhood.

    Kept are every group (provision) with a participant, the ``max_connectors`` persons with the highest
    betweenness among the connectors, and ``focus`` with up to ``max_neighbours`` of its neighbours
    (groups first, then persons, by code), with the links among them. Each group keeps its number of
    participants in the whole graph (``members``). The node count is at most the number of groups plus
    ``max_connectors + max_neighbours + 1``. With at most ``whole_up_to`` linked persons the whole
    graph is returned (nothing left out).

    Returns the subgraph and what is left out: ``persons`` (linked persons not drawn), ``links`` (links
    not drawn) and ``neighbours`` (neighbours of ``focus`` not drawn).
    """
    if len(summary.get("linked_persons", ())) <= whole_up_to:
        return graph, {"persons": 0, "links": 0, "neighbours": 0}
    kinds = pd.Series(dict(graph.nodes(data="kind")), dtype=object)
    degree = pd.Series(dict(graph.degree()), dtype="int64").reindex(kinds.index)
    groups = kinds.index[((kinds == "voorziening") & (degree > 0)).to_numpy()].tolist()
    keep = set(groups) | set(summary["person_connectors"][:max_connectors])
    hidden_neighbours = 0
    if focus is not None and focus in graph:
        around = sorted(graph[focus], key=lambda n: (graph.nodes[n].get("kind") != "voorziening", str(n)))
        hidden_neighbours = max(0, len(around) - max_neighbours)
        keep |= {focus, *around[:max_neighbours]}
    sub = graph.subgraph(keep).copy()
    for node in groups:
        sub.nodes[node]["members"] = int(degree[node])
    drawn_persons = sum(1 for _, kind in sub.nodes(data="kind") if kind == "persoon")
    left_out = {"persons": max(0, len(summary.get("linked_persons", ())) - drawn_persons
                               + (1 if focus in sub and graph.degree(focus) == 0 else 0)),
                "links": graph.number_of_edges() - sub.number_of_edges(), "neighbours": hidden_neighbours}
    return sub, left_out


_LEGEND_CSS = (
    "#wrap{display:flex;gap:0;border:1px solid #ddd}#net{flex:1;min-width:0}"
    "#side{width:190px;flex:none;border-left:1px solid #ddd;padding:6px 9px;font-size:12px;line-height:1.55;"
    "overflow-y:auto;box-sizing:border-box}"
    "#legend b{display:block;margin-top:6px}"
    ".dot,.sq{display:inline-block;width:10px;height:10px;margin-right:6px;vertical-align:-1px}"
    ".dot{border-radius:50%}.ln{display:inline-block;width:20px;height:0;border-top:2px solid;margin-right:6px;"
    "vertical-align:3px}"
    "#left-out{margin-top:8px;color:#444}#left-out b{display:block}"
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
                   provision_types: dict[str, str], vis_base: str, height: int = 620, focus: str | None = None,
                   left_out: dict | None = None) -> str:
    """A self-contained page drawing the graph with vis-network (assets from ``vis_base``).

    Nodes without any link are left out of the drawing (``summary["isolated"]`` lists the persons),
    except ``focus`` (the chosen person, drawn larger with an orange border); the view is fitted to the
    graph once the layout has settled, and its legend sits inside the view, in a column beside the
    drawing (so that it covers no node). For a summarised graph (:func:`summarised_graph`) ``left_out``
    gives the counts of what is not drawn, named under the legend; a group's ``members`` attribute
    goes into its tooltip.
    """
    connectors = set(summary["connectors"])
    nodes = []
    for node, data in graph.nodes(data=True):
        if graph.degree(node) == 0 and node != focus:
            continue
        if data.get("kind") == "voorziening":
            pid = node[2:]
            ptype = provision_types.get(pid, "")
            colour = PROVISION_TYPES[ptype].colour if ptype in PROVISION_TYPES else "#555555"
            # Plain text: vis-network 9 shows a string title with innerText and draws labels on the canvas,
            # so HTML entities would show literally ('&amp;'); the JSON below is made safe for <script>.
            name = str(provision_names.get(pid, pid))
            members = data.get("members")
            nodes.append({"id": node, "shape": "square", "size": 14 if node in connectors else 10, "color": colour,
                          "title": name + ("" if members is None else f" · {format_number(members)} deelnemers"),
                          "label": name})
        else:
            is_connector = node in connectors
            chosen = node == focus
            nodes.append({"id": node, "shape": "dot", "size": 12 if chosen else 9 if is_connector else 4,
                          "color": {"background": "#d7191c" if node in signalled else "#7da7c9",
                                    "border": "#ff7f00" if chosen else "#111111" if is_connector else "#ffffff"},
                          "borderWidth": 3 if chosen else 2 if is_connector else 0.5,
                          "title": node + (" · gekozen persoon" if chosen else "")
                                   + (" · verbinder" if is_connector else "")
                                   + (" · signaal arm netwerk" if node in signalled else "")})
    edges = [{"from": u, "to": v, "color": "#bbbbbb" if d.get("kind") == "steun" else "#e6ab02"}
             for u, v, d in graph.edges(data=True)]
    # As Jinja's tojson: no '<', '>', '&' or "'" in the script, so no text can close it or hide its end.
    data = json.dumps({"nodes": nodes, "edges": edges}, separators=(",", ":"))
    for char in "<>&'":
        data = data.replace(char, f"\\u{ord(char):04x}")
    note = ""
    if focus is not None:
        note += ('<div><span class="dot" style="background:#7da7c9;border:3px solid #ff7f00;width:12px;height:12px">'
                 '</span>gekozen persoon</div>')
    if left_out and any(left_out.values()):
        parts = [f"{format_number(left_out.get('persons', 0))} personen",
                 f"{format_number(left_out.get('links', 0))} lijnen"]
        if left_out.get("neighbours"):
            parts.append(f"{format_number(left_out['neighbours'])} buren van de gekozen persoon")
        note += ('<div id="left-out"><b>Niet getekend</b>' + html.escape(", ".join(parts))
                 + " (samengevat: alle groepen, de verbinders en de omgeving van de gekozen persoon)</div>")
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{vis_base}/vis-network.css">
<script src="{vis_base}/vis-network.min.js"></script>
<style>html,body{{margin:0;font-family:sans-serif}}#net,#side{{height:{height}px}}
{_LEGEND_CSS}</style>
</head><body><div id="wrap"><div id="net"></div><div id="side">{_legend_html(graph, provision_types)}{note}
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
