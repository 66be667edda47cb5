"""What the data says about one wijk, and the printable wijkagenda (issue 17); aggregates only.

:func:`wijk_facts` gathers the facts a wijk meeting starts from, each with a proposed agenda item (title
and links): what stands out in the wijk's profile, the largest shortages (all provision types with a need
formula, one gap computation), clusters of shortages (Getis-Ord Gi*), provisions whose funding ends soon or
that are under pressure or stopped, and the share of people with a poor-network signal where that share is
shown. A count of persons of 1 to 4 never appears: such a fact is left out.

:func:`agenda_report`, :func:`agenda_to_html` and :func:`agenda_to_pdf` make the printable agenda of the wijk
(``reports/templates/wijkagenda.html``): the facts, the items grouped by status and what changed since the
last meeting. The agenda tables hold no person id by construction (:mod:`data.agenda`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from data.agenda import LOCAL_TZ
from data.formatting import format_date, format_datetime, format_number
from data.schema import AGENDA_ORIGINS, AGENDA_STATUSES
from graphs.aggregates import BAND_STATUS, MIN_CELL, format_count, format_share
from mapping.gaps import DEFAULT_NEED, gaps_from_need_and_supply
from mapping.hotspots import MIN_NEED, gap_hotspots, queen_adjacency

FACT_KINDS = ("profiel", "tekort", "hotspot", "voorziening", "signaal")
FACTS_HEADING = "Wat de cijfers zeggen"
SOURCES = ("Kerncijfers en buurtgrenzen: CBS Kerncijfers wijken en buurten, CBS Wijk- en buurtkaart / Kadaster "
           "(CC BY 4.0)", "Voorzieningen: sociale kaart van de gemeente",
           "Netwerksignalen: netwerkgegevens van de wijkteams (alleen als aandelen, kleine aantallen verborgen)")
_LINK_ORDER = ("buurten", "voorzieningen", "initiatieven", "tekorten")
_LINK_LABELS = {"buurten": "Buurten", "voorzieningen": "Voorzieningen", "initiatieven": "Bewonersinitiatieven",
                "tekorten": "Tekorten"}


def _whole(value: float) -> int | None:
    """A count of persons rounded half up; None when unknown."""
    return None if pd.isna(value) else int(np.floor(float(value) + 0.5))


def _type_label(ptype: str, catalogue: dict) -> str:
    entry = catalogue.get(ptype) if catalogue else None
    return getattr(entry, "label", entry if isinstance(entry, str) else ptype)


def _cbs_year(values: pd.DataFrame, codes) -> str:
    """'CBS 2024': the newest year of the inhabitants of these areas (the base of every need formula)."""
    if values is None or values.empty or "year" not in values:
        return "CBS"
    years = values.loc[values["area_code"].isin(list(codes)) & values["indicator"].eq("aantal_inwoners"), "year"]
    years = pd.to_numeric(years, errors="coerce").dropna()
    return f"CBS {int(years.max())}" if len(years) else "CBS"


def _fact(kind: str, text: str, figure: str, title: str, links) -> dict:
    return {"kind": kind, "text": text, "figure": figure, "title": title, "links": [tuple(x) for x in links]}


def _wijk_buurten(buurten, wijk_code: str) -> pd.DataFrame:
    if "wijk_code" in buurten:
        wijk_of = buurten["wijk_code"].astype(object)
    else:  # the CBS code: BUggggwwbb -> WKggggww
        wijk_of = "WK" + buurten["area_code"].astype(str).str[2:8]
    return buurten.loc[wijk_of.eq(wijk_code).to_numpy()]


def _profile_facts(wijk_code, wijk_name, values, areas, today) -> list[dict]:
    from data.profile import area_profile, profile_messages

    if areas is None or values is None or wijk_code not in set(areas["area_code"].astype(str)):
        return []
    profile = area_profile(values, pd.DataFrame(areas).drop(columns="geometry", errors="ignore"), wijk_code)
    facts = []
    for message in profile_messages(profile, today=today):
        if not message.startswith("Valt op:"):
            continue
        figure = f"{wijk_name}: {message[len('Valt op:'):].strip().rstrip('.')}; {_cbs_year(values, [wijk_code])}"
        facts.append(_fact("profiel", message, figure, f"Opvallende kerncijfers van {wijk_name} bespreken",
                           []))
    return facts


def _shortage_facts(gaps: pd.DataFrame, own_codes, values, catalogue, top: int) -> list[dict]:
    own = gaps.loc[gaps["area_code"].isin(own_codes) & gaps["gap_people"].notna()].copy()
    own["persons"] = np.floor(own["gap_people"].astype(float) + 0.5)
    own = own.loc[own["persons"] >= MIN_CELL]
    own = own.sort_values(["gap_people", "area_code", "type"], ascending=[False, True, True]).head(top)
    facts = []
    for row in own.itertuples(index=False):
        label = _type_label(row.type, catalogue).lower()
        count = format_count(row.persons)
        figure = f"Tekort {label} in {row.buurt}: {count} personen; {_cbs_year(values, [row.area_code])}"
        text = (f"In {row.buurt} hebben naar schatting {count} personen in de doelgroep van {label} er geen "
                "binnen bereik.")
        facts.append(_fact("tekort", text, figure, f"Tekort {label} in {row.buurt} aanpakken",
                           [("buurt", row.area_code), ("tekort", row.type)]))
    return facts


def _hotspot_facts(gaps, buurten, own_codes, adjacency, values, catalogue) -> list[dict]:
    if len(buurten) < 3:
        return []
    adjacency = queen_adjacency(buurten) if adjacency is None else adjacency
    facts = []
    for ptype, rows in gaps.groupby("type", sort=False):
        by_code = rows.set_index("area_code")
        if by_code["gap_people"].notna().sum() < 3:
            continue
        spots = gap_hotspots(buurten, by_code["gap_people"], adjacency=adjacency, need=by_code["need"],
                             min_need=MIN_NEED)
        hot = spots.index[(spots["cluster"] == "hot").to_numpy() & spots.index.isin(own_codes)]
        if not len(hot):
            continue
        hot_rows = by_code.loc[list(hot)].sort_values("gap_people", ascending=False)
        total = _whole(hot_rows["gap_people"].sum())
        if total is None or total < MIN_CELL:
            continue
        label = _type_label(ptype, catalogue).lower()
        names = ", ".join(hot_rows["buurt"].astype(str))
        figure = (f"Cluster van tekorten {label} (Getis-Ord Gi*): {names}; samen {format_count(total)} personen "
                  f"tekort; {_cbs_year(values, hot_rows.index)}")
        text = f"{names} {'ligt' if len(hot_rows) == 1 else 'liggen'} in een cluster van hoge tekorten aan {label}."
        facts.append(_fact("hotspot", text, figure, f"Cluster van tekorten {label} in {names} aanpakken",
                           [*[("buurt", c) for c in hot_rows.index], ("tekort", ptype)]))
    return facts


def _provision_facts(provisions, wijk_buurten, catalogue, months: int, today: pd.Timestamp) -> list[dict]:
    if provisions is None or len(provisions) == 0 or wijk_buurten.empty:
        return []
    from data.reach import is_running

    geoms = wijk_buurten.geometry.to_numpy()
    points = provisions.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pairs = tree.query(points, predicate="intersects")
    if not pairs.shape[1]:
        return []
    first = pd.Series(pairs[1], index=pairs[0]).groupby(level=0).min()  # a point on a border: one buurt
    inside = provisions.iloc[first.index.to_numpy()].assign(
        buurt_=wijk_buurten["area_code"].to_numpy()[first.to_numpy()])
    end = pd.to_datetime(inside["funding_end"] if "funding_end" in inside else pd.Series(pd.NaT, index=inside.index),
                         errors="coerce")
    horizon = today + pd.DateOffset(months=months)
    running = pd.Series(np.asarray(is_running(inside), dtype=bool), index=inside.index)
    status = inside["status"].astype(str)
    ending = running & end.ge(today) & end.le(horizon)
    chosen = inside.loc[ending | status.isin(["onder_druk", "gestopt"])]
    chosen = chosen.assign(end_=end.loc[chosen.index], ending_=ending.loc[chosen.index]).sort_values(
        ["end_", "name"], na_position="last")
    facts = []
    for row in chosen.itertuples(index=False):
        label = _type_label(row.type, catalogue)
        until = format_date(row.end_) if pd.notna(row.end_) else ""
        if row.status == "gestopt":
            state = "gestopt" + (f" (financiering tot {until})" if until else "")
            title = f"Alternatief voor de gestopte {row.name}"
        elif row.ending_:
            state = f"financiering loopt af op {until}" + (" (onder druk)" if row.status == "onder_druk" else "")
            title = f"Toekomst van {row.name} na {until}"
        else:
            state = "onder druk" + (f" (financiering tot {until})" if until else "")
            title = f"{row.name} veiligstellen"
        figure = f"{row.name} ({label.lower()}): {state}"
        text = f"{row.name} ({label.lower()}) in deze wijk: {state}."
        links = [("voorziening", row.provision_id), ("buurt", row.buurt_)]
        if row.type in DEFAULT_NEED:
            links.append(("tekort", row.type))
        facts.append(_fact("voorziening", text, figure, title, links))
    return facts


def _signal_facts(signal_share: pd.DataFrame | None, wijk_buurten, top: int) -> list[dict]:
    if signal_share is None or len(signal_share) == 0:
        return []
    shares = signal_share.copy()
    shares.index = shares.index.astype(str)
    shares = shares.loc[shares.index.isin(wijk_buurten["area_code"].astype(str))]
    status = shares["status"] if "status" in shares else pd.Series(None, index=shares.index, dtype=object)
    exact = shares["share"].notna() & status.isna()
    at_least = shares["share_at_least"] if "share_at_least" in shares else pd.Series(np.nan, index=shares.index)
    band = shares["share"].isna() & at_least.notna() & status.eq(BAND_STATUS)
    shown = shares.loc[exact | band].assign(_rank=shares["share"].where(exact, at_least))
    shown = shown.sort_values(["_rank"], ascending=False).head(top)
    names = wijk_buurten.set_index(wijk_buurten["area_code"].astype(str))["name"]
    facts = []
    for code, row in shown.iterrows():
        name = names.get(code, code)
        share = format_share(round(row["share"])) if pd.notna(row["share"]) else format_share(np.nan, row["_rank"])
        measured = row.get("measured")
        base = (f" van {format_count(measured)} personen met netwerkgegevens"
                if pd.notna(measured) and measured >= MIN_CELL else "")
        figure = f"Aandeel met een signaal van een arm netwerk in {name}: {share}{base}"
        text = f"In {name} heeft {share} van de mensen met netwerkgegevens een signaal van een arm netwerk."
        facts.append(_fact("signaal", text, figure, f"Netwerken versterken in {name}", [("buurt", code)]))
    return facts


def wijk_facts(wijk_code: str, *, buurten, values: pd.DataFrame, areas: pd.DataFrame, provisions, catalogue: dict,
               signals_per_buurt: pd.Series | None = None, signal_share: pd.DataFrame | None = None,
               adjacency=None, months: int = 12, today=None, decay: str = "step", top: int = 3) -> list[dict]:
    """What the data says about one wijk, as facts that can become agenda items; aggregates only.

    Parameters
    ----------
    wijk_code : str
        The wijk (WK......).
    buurten : GeoDataFrame
        All buurten of the gemeente (RD New) with area_code, name, wijk_code and key figures (wide), as
        ``store.read_areas('buurt')``: the gaps and clusters are computed over the whole gemeente.
    values : DataFrame
        Key figures in long form (``store.read_area_values()``).
    areas : DataFrame
        The store's areas (area_code, name, level, wijk_code, gemeente_code); for the wijk's profile.
    provisions : GeoDataFrame
        Provisions (RD New) with provision_id, name, type, status, funding_end and the gap columns.
    catalogue : dict
        Provision types (code -> type with ``label``).
    signals_per_buurt : Series, optional
        Persons with a poor-network signal per buurt (counts, as the gap page uses them).
    signal_share : DataFrame, optional
        ``ScopedStore.signal_share()``: per buurt the share with a signal; only shares shown there are used
        (an exact share, or a band 'X% of meer'); hidden stays hidden.
    adjacency : sparse matrix, optional
        ``queen_adjacency(buurten)`` (computed when not given).
    months : int
        Funding that ends within this many months of ``today`` is a fact.
    today : date-like, optional
        Default: today.
    decay : str
        Distance decay of the gap computation.
    top : int
        How many of the largest shortages and of the highest signal shares.

    Returns
    -------
    list of dict
        Each {kind (an :data:`data.schema.AGENDA_ORIGINS` code), text, figure, title, links (list of (kind,
        target))}; profile first, then shortages, clusters, provisions and signals. No count of 1 to 4 persons.
    """
    today = pd.Timestamp(today if today is not None else pd.Timestamp.now()).normalize()
    if getattr(today, "tzinfo", None) is not None:
        today = today.tz_localize(None)
    index = pd.DataFrame(areas).set_index("area_code") if areas is not None and len(areas) else pd.DataFrame()
    wijk_name = str(index.loc[wijk_code, "name"]) if wijk_code in index.index else wijk_code
    own = _wijk_buurten(buurten, wijk_code)
    own_codes = own["area_code"].astype(str).tolist()
    facts = _profile_facts(wijk_code, wijk_name, values, areas, today)
    types = [t for t in DEFAULT_NEED if t in catalogue]
    if own_codes and types:
        gaps = gaps_from_need_and_supply(buurten, provisions, types=types, decay=decay,
                                         signals_per_buurt=signals_per_buurt, catalogue=catalogue)
        facts += _shortage_facts(gaps, own_codes, values, catalogue, top)
        facts += _hotspot_facts(gaps, buurten, own_codes, adjacency, values, catalogue)
    facts += _provision_facts(provisions, own, catalogue, months, today)
    facts += _signal_facts(signal_share, own, top)
    assert all(f["kind"] in AGENDA_ORIGINS for f in facts)
    return facts


# --------------------------------------------------------------------------- the printable agenda


def _text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def _date_text(value) -> str:
    return "" if value is None or pd.isna(value) else format_date(value)


def _local_time(value) -> str:
    """A naive local time (as :func:`data.agenda.changes_since` gives it) in Dutch notation."""
    if value is None or pd.isna(value):
        return ""
    moment = pd.Timestamp(value)
    return format_datetime(moment.tz_localize(LOCAL_TZ) if moment.tzinfo is None else moment)


def agenda_report(wijk_code: str, wijk_name: str, *, facts: list[dict], table: pd.DataFrame,
                  changes: pd.DataFrame | None = None, since=None, generated=None) -> dict:
    """Everything the printable wijkagenda shows, as display texts.

    Parameters
    ----------
    wijk_code, wijk_name : str
        The wijk.
    facts : list of dict
        From :func:`wijk_facts`.
    table : DataFrame
        :func:`data.agenda.agenda_table` of the wijk (rows of other wijken are left out).
    changes : DataFrame, optional
        :func:`data.agenda.changes_since` (rows of items not in ``table`` are left out).
    since : date-like, optional
        The date ``changes`` start from (shown in the heading).
    generated : Timestamp, optional
        When the agenda was made (default: now); the reference date.

    Returns
    -------
    dict
        title, wijk_code, wijk_name, generated, reference, facts, groups (per status in
        :data:`data.schema.AGENDA_STATUSES` order: label and items), changes (rows or None), since (text),
        count and sources.
    """
    generated = pd.Timestamp(generated) if generated is not None else pd.Timestamp.now()
    if table is not None and len(table) and "wijkcode" in table:
        table = table.loc[table["wijkcode"].astype(str).eq(wijk_code)]
    table = table if table is not None else pd.DataFrame()
    items = []
    for _, row in table.iterrows():
        links = [(_LINK_LABELS[c], _text(row.get(c))) for c in _LINK_ORDER if _text(row.get(c))]
        items.append({"id": _text(row.get("agendapunt")), "title": _text(row.get("titel")),
                      "aim": _text(row.get("doel")), "owner": _text(row.get("eigenaar")),
                      "status": _text(row.get("status")), "start": _date_text(row.get("start")),
                      "due": _date_text(row.get("deadline")), "origin": _text(row.get("bron")),
                      "figure": _text(row.get("cijfer")), "links": links})
    groups = []
    for label in [*AGENDA_STATUSES.values(), *sorted({i["status"] for i in items} - set(AGENDA_STATUSES.values()))]:
        chosen = [i for i in items if i["status"] == label]
        if chosen:
            groups.append({"label": label, "items": chosen})
    change_rows = None
    if changes is not None:
        ids = {i["id"] for i in items}
        own = changes.loc[changes["agendapunt"].astype(str).isin(ids)] if len(changes) else changes
        change_rows = [[_text(r["agendapunt"]), _text(r["titel"]), _text(r["wat"]),
                        _local_time(r["wanneer"]), _text(r["wie"])]
                       for _, r in own.iterrows()]
    return {
        "title": f"Wijkagenda {wijk_name}", "wijk_code": wijk_code, "wijk_name": wijk_name,
        "generated": generated, "reference": f"stand {format_date(generated)}",
        "facts": [{"kind": AGENDA_ORIGINS.get(f["kind"], f["kind"]), "text": f["text"], "figure": f["figure"],
                   "title": f["title"]} for f in facts],
        "groups": groups, "count": len(items), "count_text": format_number(len(items)),
        "changes": change_rows, "since": _date_text(since) if since is not None else "",
        "sources": list(SOURCES),
    }


def agenda_to_html(report: dict) -> str:
    """The printable wijkagenda (``reports/templates/wijkagenda.html``): self-contained, every data text escaped."""
    from reports import render_html

    return render_html("wijkagenda.html", report=report, title=report["title"], generated=report["generated"],
                       sources=report["sources"], facts_heading=FACTS_HEADING,
                       change_columns=["Agendapunt", "Titel", "Wat", "Wanneer", "Wie"])


def agenda_to_pdf(report: dict) -> bytes:
    """The wijkagenda as PDF (WeasyPrint via :func:`reports.html_to_pdf`)."""
    from reports import html_to_pdf

    return html_to_pdf(agenda_to_html(report))
