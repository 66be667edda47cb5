"""The netwerkkaart (ecogram): sectors, closeness circles, links, legend, escaping, labels that never overlap."""

import math
import re
import xml.etree.ElementTree as ET
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from data.errors import DataValidationError
from data.schema import KIN_ROLES, ROLES, SUPPORT_TYPES
from graphs.community import community_graph, community_html, community_summary
from graphs.ecogram import (
    BANDS,
    CHART_W,
    HEADER_H,
    HEIGHT,
    NODE_R,
    SECTOR_OF_ROLE,
    SECTORS,
    SUPPORT_SIGNS,
    WIDTH,
    ecogram_svg,
    netwerkkaart_layout,
    netwerkkaart_print_html,
)

SVG = "{http://www.w3.org/2000/svg}"
SUPPORT = ("support_emotional", "support_practical", "support_informational", "support_companionship")


def _ties(roles, closeness=2, keys=None, **support) -> pd.DataFrame:
    n = len(roles)
    keys = keys or [f"a{i + 1}" for i in range(n)]
    frame = pd.DataFrame({"ego_id": "K-1", "alter_id": None, "alter_key": keys, "role": roles,
                          "closeness": closeness, "contact_frequency": "wekelijks"})
    for col in SUPPORT:
        frame[col] = support.get(col, False)
    return frame


def _texts(svg: str) -> list[str]:
    return [el.text for el in ET.fromstring(svg).iter(f"{SVG}text")]


def _label_boxes(layout) -> np.ndarray:
    a, s, r = layout.alters, layout.sectors, layout.ring_labels
    cols = ["box_x0", "box_y0", "box_x1", "box_y1"]
    return np.vstack([a[cols].to_numpy(), s[cols].to_numpy(), r[cols].to_numpy()])


def _assert_no_overlap(layout) -> None:
    """Every label box (people, sectors, circles) pairwise apart, clear of every dot and inside the chart."""
    boxes = _label_boxes(layout)
    for (i, p), (j, q) in combinations(enumerate(boxes), 2):
        apart = p[2] <= q[0] or q[2] <= p[0] or p[3] <= q[1] or q[3] <= p[1]
        assert apart, f"label {i} {p.round(1)} overlaps label {j} {q.round(1)}"
    dots = layout.alters[["x", "y"]].to_numpy()
    for k, box in enumerate(boxes):
        nearest_x = np.clip(dots[:, 0], box[0], box[2])
        nearest_y = np.clip(dots[:, 1], box[1], box[3])
        assert (np.hypot(nearest_x - dots[:, 0], nearest_y - dots[:, 1]) >= NODE_R).all(), f"label {k} covers a dot"
        assert box[0] >= 0 and box[2] <= CHART_W and box[1] >= HEADER_H and box[3] <= HEIGHT


def _angle_in(angle: float, start: float, end: float) -> bool:
    return (angle - start) % (2 * math.pi) <= (end - start) + 1e-9


# --------------------------------------------------------------------------- sectors and circles


def test_every_role_has_one_sector_as_documented():
    assert {r: SECTOR_OF_ROLE[r] for r in KIN_ROLES} == dict.fromkeys(KIN_ROLES, "familie")
    assert {SECTOR_OF_ROLE[r] for r in ("vriend", "anders")} == {"vrienden"}
    assert SECTOR_OF_ROLE["buur"] == "buren"
    assert {SECTOR_OF_ROLE[r] for r in ("collega", "groepsgenoot", "kerk_vereniging")} == {"groepen"}
    assert {SECTOR_OF_ROLE[r] for r in ("professional", "vrijwilliger")} == {"professionals"}
    assert set(SECTOR_OF_ROLE) == set(ROLES)


def test_people_sit_in_the_sector_of_their_role():
    roles = list(ROLES) + ["onbekende_rol"]
    layout = netwerkkaart_layout(_ties(roles))
    spans = layout.sectors.set_index("sector")
    assert layout.alters["sector"].tolist() == [SECTOR_OF_ROLE.get(r, "vrienden") for r in roles]
    for row in layout.alters.itertuples():
        assert _angle_in(row.angle, spans.loc[row.sector, "start"], spans.loc[row.sector, "end"]), row.role
    # Sectors clockwise from familie (centred at the top), covering the whole circle once.
    assert spans.index.tolist() == list(SECTORS)
    assert spans["end"].iloc[-1] - spans["start"].iloc[0] == pytest.approx(2 * math.pi)
    fam = spans.loc["familie"]
    assert (fam["start"] + fam["end"]) / 2 == pytest.approx(-math.pi / 2)


def test_sector_sizes_follow_the_counts_and_empty_sectors_stay():
    # 30 neighbours: weights n + max(1.5, 30 / 10) = 3, 3, 33, 3, 3 of 45.
    layout = netwerkkaart_layout(_ties(["buur"] * 30))
    span = (layout.sectors["end"] - layout.sectors["start"]).to_numpy()
    assert span == pytest.approx(2 * math.pi * np.array([3, 3, 33, 3, 3]) / 45)
    assert layout.sectors["count"].tolist() == [0, 0, 30, 0, 0]
    svg = ecogram_svg(_ties(["buur"] * 30))
    assert {"Familie (0)", "Buren (30)", "kennissen (0)", "vrijwilligers (0)"} <= set(_texts(svg))
    empty = netwerkkaart_layout(_ties([]))
    assert (empty.sectors["end"] - empty.sectors["start"]).to_numpy() == pytest.approx([2 * math.pi / 5] * 5)


def test_closeness_3_is_innermost_and_unknown_has_its_own_band():
    ties = _ties(["vriend"] * 6, closeness=[3, 2, 1, None, 7, 3])
    layout = netwerkkaart_layout(ties)
    a = layout.alters
    assert a["band"].tolist() == [3, 2, 1, 0, 0, 3]  # missing and out-of-range closeness: unknown, not ring 1
    for row in a.itertuples():
        lo, hi = BANDS[row.band]
        assert lo < row.radius < hi
    assert BANDS[3][1] <= BANDS[2][0] and BANDS[2][1] <= BANDS[1][0] and BANDS[1][1] <= BANDS[0][0]
    texts = _texts(ecogram_svg(ties))
    assert {"heel dichtbij", "dichtbij", "verder weg", "nabijheid onbekend"} <= set(texts)
    assert "nabijheid onbekend (buitenrand)" in texts  # and in the legend


# --------------------------------------------------------------------------- lines, signs, legend


def test_links_between_people_who_know_each_other_are_drawn():
    ties = _ties(["partner", "kind", "buur", "vriend"])
    ties.loc[2, ["alter_id", "alter_key"]] = ["P00000abc", None]  # a person in the data: linked by alter_id
    links = pd.DataFrame({"ego_id": "K-1", "source": ["a1", "a2", "P00000abc", "a1", "a9", "a4"],
                          "target": ["a2", "a1", "a4", "a1", "a1", "P00000abc"]})
    layout = netwerkkaart_layout(ties, alter_links=links)
    # a1-a2 (twice), P-a4 (twice); a link to itself or to someone not in the network is left out
    assert sorted(map(tuple, layout.links.to_numpy().tolist())) == [(0, 1), (2, 3)]
    svg = ecogram_svg(ties, alter_links=links)
    lines = [el for el in ET.fromstring(svg).iter(f"{SVG}line") if el.get("class") == "kennen"]
    assert len(lines) == 2
    a = layout.alters
    assert {(float(el.get("x1")), float(el.get("y1"))) for el in lines} == {
        (round(a.loc[0, "x"], 1), round(a.loc[0, "y"], 1)), (round(a.loc[2, "x"], 1), round(a.loc[2, "y"], 1))}
    assert "2 keer kennen twee elkaar" in " ".join(_texts(svg))
    with pytest.raises(DataValidationError, match="mist de kolommen 'source' en 'target'"):
        netwerkkaart_layout(ties, alter_links=pd.DataFrame({"van": ["a1"]}))


def test_support_signs_and_ego_lines_per_person():
    ties = _ties(["vriend", "buur", "kind"])
    ties.loc[0, ["support_emotional", "support_practical"]] = True
    ties.loc[1, list(SUPPORT)] = True
    svg = ecogram_svg(ties)
    root = ET.fromstring(svg)
    ego_lines = [el for el in root.iter(f"{SVG}line") if el.get("class") == "ego"]
    assert len(ego_lines) == 3
    assert [el.get("stroke-dasharray") for el in ego_lines] == [None, None, "5 4"]  # contact without support dashed
    layout = netwerkkaart_layout(ties)
    assert layout.alters["supported"].tolist() == [True, True, False]
    widths = (layout.alters["box_x1"] - layout.alters["box_x0"]).round(1).tolist()
    # 2 characters × 7.2 px + 4 padding, + 3 + 10 px per sign
    assert widths == [round(14.4 + 4 + 3 + 20, 1), round(14.4 + 4 + 3 + 40, 1), round(14.4 + 4, 1)]


def test_the_legend_is_inside_the_svg():
    texts = set(_texts(ecogram_svg(_ties(["vriend"]))))
    assert set(ROLES.values()) <= texts  # every role with its colour
    assert {name for name, _ in SECTORS.values()} <= texts
    assert {text for text, _ in SUPPORT_SIGNS.values()} <= texts
    assert len(SUPPORT_SIGNS) == len(SUPPORT_TYPES)
    assert {"geeft steun (kleur van de rol)", "contact, geen steun", "kennen elkaar", "staat zelf in de gegevens"} <= texts


def test_person_in_the_data_is_marked_and_labelled_with_the_code():
    ties = _ties(["buur", "vriend"])
    ties.loc[0, ["alter_id", "alter_key"]] = ["P0000beef", None]
    layout = netwerkkaart_layout(ties)
    assert layout.alters["label"].tolist() == ["P0000beef", "a2"]
    assert layout.alters["in_data"].tolist() == [True, False]
    dots = [el for el in ET.fromstring(ecogram_svg(ties)).iter(f"{SVG}circle") if el.get("class") == "persoon"]
    assert [d.get("stroke") for d in dots] == ["#111111", "#ffffff"]


def test_svg_is_standalone_and_printable():
    svg = ecogram_svg(_ties(["vriend", "buur"]), title="Netwerkkaart van K-1")
    root = ET.fromstring(svg)
    assert root.get("width") == str(WIDTH) and root.get("viewBox") == f"0 0 {WIDTH} {HEIGHT}"
    assert {el.tag.removeprefix(SVG) for el in root.iter()} <= {"svg", "rect", "circle", "line", "text"}
    fonts = {el.get("font-family") for el in root.iter() if el.get("font-family")}
    assert fonts == {"sans-serif", "monospace"}  # generic families only
    assert not re.search(r"href|url\(|@import|<script|<style", svg)
    page = netwerkkaart_print_html(svg, title="Netwerkkaart van <K-1>")
    assert svg in page and "@page{size:A4 landscape" in page and "<title>Netwerkkaart van &lt;K-1&gt;</title>" in page


def test_empty_network_and_bad_input():
    svg = ecogram_svg(_ties([]), title="Netwerkkaart van K-1")
    assert "Geen steunrelaties vastgelegd." in _texts(svg)
    with pytest.raises(DataValidationError, match="kolom 'role'"):
        ecogram_svg(pd.DataFrame({"alter_key": ["a1"]}))
    with pytest.raises(DataValidationError, match="tabel met relaties"):
        ecogram_svg([{"role": "vriend"}])


def test_ecogram_of_a_demo_person_is_escaped_and_complete(demo):
    """(Was in test_network.py.) One line from ego per tie, one dot per tie, the title escaped."""
    ties = demo.ties.loc[demo.ties["ego_id"] == demo.ties["ego_id"].iloc[0]].copy()
    links = demo.alter_links.loc[demo.alter_links["ego_id"] == demo.ties["ego_id"].iloc[0]]
    svg = ecogram_svg(ties, alter_links=links, title="<b>x</b>")
    assert svg.startswith("<svg") and svg.count('<line class="ego"') == len(ties)
    assert svg.count('<circle class="persoon"') == len(ties)
    assert svg.count('<line class="kennen"') == len(netwerkkaart_layout(ties, alter_links=links).links)
    assert "&lt;b&gt;x&lt;/b&gt;" in svg and "<b>" not in svg


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "a & b «c»"])
def test_hostile_alter_key_and_role_are_escaped(text):
    ties = _ties(["vriend", "buur"], keys=[text, "a2"])
    ties.loc[1, "role"] = text
    links = pd.DataFrame({"source": [text], "target": ["a2"]})
    svg = ecogram_svg(ties, alter_links=links, title=f"Netwerkkaart van {text}")
    root = ET.fromstring(svg)  # well-formed
    assert "<script" not in svg and "<img" not in svg
    assert not [name for el in root.iter() for name in el.attrib if name.lower().startswith("on")]
    texts = _texts(svg)
    assert text[:15] + "…" in texts or text in texts  # the label, shortened to 16 characters
    assert text in texts  # the unknown role in the legend, as written
    assert root.get("aria-label") == f"Netwerkkaart van {text}"
    assert len(netwerkkaart_layout(ties, alter_links=links).links) == 1


# --------------------------------------------------------------------------- labels never overlap


def _mixed_25() -> pd.DataFrame:
    roles = (["partner", "ouder", "kind", "kind", "familie", "familie"] + ["vriend"] * 5 + ["anders"]
             + ["buur"] * 4 + ["collega", "groepsgenoot", "groepsgenoot", "kerk_vereniging"]
             + ["professional", "professional", "vrijwilliger", "professional", "vrijwilliger"])
    rng = np.random.default_rng(14)
    ties = _ties(roles, closeness=rng.choice([1, 2, 3, None], size=25, p=[0.3, 0.3, 0.3, 0.1]).tolist(),
                 keys=[f"P{v:08x}" for v in rng.choice(2**32, 25, replace=False)])
    for col in SUPPORT:
        ties[col] = rng.random(25) < 0.5
    return ties


def test_labels_of_25_mixed_people_do_not_overlap():
    layout = netwerkkaart_layout(_mixed_25())
    assert len(layout.alters) == 25
    _assert_no_overlap(layout)


@pytest.mark.parametrize("band", [3, 2, 1, None])
def test_labels_of_30_people_in_one_sector_do_not_overlap(band):
    ties = _ties(["buur"] * 30, closeness=band, keys=[f"buur-{i:02d}-x" for i in range(30)],
                 support_emotional=True, support_practical=True, support_informational=True,
                 support_companionship=True)  # the widest labels: 10 characters and all four signs
    layout = netwerkkaart_layout(ties)
    assert (layout.alters["sector"] == "buren").all()
    _assert_no_overlap(layout)


def test_labels_of_30_people_over_all_sectors_do_not_overlap():
    roles = [list(ROLES)[i % len(ROLES)] for i in range(30)]
    ties = _ties(roles, closeness=[(1, 2, 3, None)[i % 4] for i in range(30)],
                 keys=[f"P{i:08x}" for i in range(30)], support_emotional=True)
    _assert_no_overlap(netwerkkaart_layout(ties))


# --------------------------------------------------------------------------- community view


def test_community_links_only_persons_in_the_data_and_lists_isolated_and_connectors():
    persons = pd.DataFrame({"person_id": ["A", "B", "C", "D", "E"]})
    # A-B-C a path (B connects), D nobody, E joins a group with C; "X" is not a person in the view.
    ties = pd.DataFrame({"ego_id": ["A", "B", "A", "D"], "alter_id": ["B", "C", "X", None],
                         "alter_key": [None, None, None, "a1"]})
    participation = pd.DataFrame({"person_id": ["C", "E"], "provision_id": ["V1", "V1"]})
    provisions = pd.DataFrame({"provision_id": ["V1", "V2"], "name": ["Grip Oost", "Leeg"],
                               "type": ["grip_en_glans", "buurthuis"]})
    graph = community_graph(persons, ties, participation, provisions)
    assert "X" not in graph and graph.has_edge("A", "B") and graph.degree("D") == 0
    summary = community_summary(graph)
    assert summary["isolated"] == ["D"] and summary["isolated_persons"] == 1
    # A-B-C-V1-E is a path: C lies on 4 shortest paths (A/B to V1/E), B on 3 (A to C/V1/E), A and E on none.
    assert summary["person_connectors"] == ["C", "B"]
    assert summary["articulation_points"] == {"B", "C", "V:V1"}
    page = community_html(graph, summary, signalled={"D"}, provision_names={"V1": "Grip Oost", "V2": "Leeg"},
                          provision_types={"V1": "grip_en_glans", "V2": "buurthuis"}, vis_base="/app/static/vis")
    data = page[page.index("const data = ") + 13: page.index(";\nconst network")]
    assert '"D"' not in data and '"V:V2"' not in data  # nodes without any link are listed, not drawn
    assert 'id="legend"' in page and "Grip &amp; Glans" in page and "steunrelatie" in page
    assert "network.fit(" in page and "stabilizationIterationsDone" in page
    assert "http" not in page  # no CDN: vis-network from the app itself


# --------------------------------------------------------------------------- the page (AppTest)


def _open(at, tab: str):
    at.session_state["nw_tabs"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def _person_with_known_alters(store) -> str:
    ties = store.read_table("ties")
    return str(ties.loc[ties["alter_id"].notna(), "ego_id"].iloc[0])


def test_page_shows_the_netwerkkaart_with_downloads_and_links(app, demo_store):
    import json

    app.switch_page("pages/netwerken.py").run()
    person = _person_with_known_alters(demo_store)
    _open(app, "Ecogram").selectbox(key="nw_persoon").set_value(person).run()
    assert not app.exception
    assert {"Download (SVG)", "Afdrukversie (HTML, A4)"} <= {d.proto.label for d in app.get("download_button")}
    assert any(m.label == "Netwerkgrootte" for m in app.metric)
    known = demo_store.read_table("ties").query("ego_id == @person")["alter_id"].dropna().iloc[0]
    views = demo_store.read_audit().query("action == 'bekijk-personen'")
    assert json.loads(views["details"].iloc[0])["personen"] == [person]
    app.button(key=f"nk_open_{known}").click().run()  # the person in the map opens their own map
    assert app.selectbox(key="nw_persoon").value == known


def test_community_tab_lists_connectors_and_isolated_and_opens_a_map(app):
    app.switch_page("pages/netwerken.py").run()
    _open(app, "Gemeenschap")
    texts = " ".join(m.value for m in app.markdown)
    assert "**Verbinders**" in texts and "**Zonder verbinding**" in texts
    choice = app.selectbox(key="nw_gem_persoon")
    code = choice.options[0]
    choice.set_value(code).run()
    app.button(key="nw_gem_open").click().run()
    assert not app.exception
    assert app.session_state["nw_tabs"] == "Ecogram" and app.selectbox(key="nw_persoon").value == code

