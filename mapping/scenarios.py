"""Scenarios: what happens to gaps and reach when provisions stop or new ones start.

A scenario switches existing provisions off ("wat als de subsidie stopt?") and/or adds hypothetical
ones (type, location in RD New, capacity, reach). It is compared with the current situation per buurt
and type (gap before/after), in people of the target group who lose or gain a provision of the type
within reach, and, where network data exists, in signalled persons who lose or gain a suitable
provision with free places within reach. Scenarios are plain data (JSON) so the store can keep them.

Every "in reach", "running" and "free place" here is the definition of :mod:`data.reach`, the same
as the gap page and the matching use: the reach flags per buurt and type are the gap table's own
``in_reach`` (a running provision of the type reaches the buurt point), and a signalled person has
a suitable provision with room when a running provision of a type that suits one of their needs
(the suitability table) has a free place (places − participants; a type without places, such as a
buurthuis, never has one) and reaches their buurt point. Hypothetical provisions run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from data.provision_types import PROVISION_TYPES
from data.reach import HYPOTHETICAL, NEED_CODES, buurt_xy, needs_from_pattern, room_by_need
from mapping.gaps import Term, gaps_from_need_and_supply

_TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)


def rd_from_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """RD New (x, y) in metres of a map click, rounded to the metre."""
    x, y = _TO_RD.transform(lon, lat)
    return round(float(x)), round(float(y))


@dataclass(frozen=True)
class NewProvision:
    """A hypothetical provision: type, RD New location, capacity per year and reach."""

    type: str
    x: float
    y: float
    capacity: float
    reach_m: float
    name: str = "Nieuwe voorziening"


@dataclass(frozen=True)
class Scenario:
    name: str
    off: tuple[str, ...] = ()
    added: tuple[NewProvision, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps({"off": list(self.off), "added": [asdict(p) for p in self.added]}, ensure_ascii=False)

    @classmethod
    def from_json(cls, name: str, text: str) -> Scenario:
        raw = json.loads(text or "{}")
        return cls(name, tuple(str(p) for p in raw.get("off", ())),
                   tuple(NewProvision(**p) for p in raw.get("added", ())))

    @property
    def empty(self) -> bool:
        return not self.off and not self.added

    def describe(self, provisions: pd.DataFrame, catalogue: dict | None = None) -> str:
        """Plain Dutch: which provisions are switched off and which are added."""
        from data.formatting import format_number

        catalogue = PROVISION_TYPES if catalogue is None else catalogue
        names = provisions.set_index("provision_id")["name"]
        parts = []
        if self.off:
            parts.append("uit: " + ", ".join(str(names.get(p, p)) for p in self.off))
        if self.added:
            parts.append("nieuw: " + ", ".join(
                f"{p.name} ({catalogue[p.type].label.lower() if p.type in catalogue else p.type}, "
                f"{format_number(p.capacity)} "
                f"{'plekken' if p.type not in catalogue or catalogue[p.type].has_places else 'bezoekers'}, "
                f"bereik {format_number(p.reach_m / 1000, 1)} km)"
                for p in self.added))
        return "; ".join(parts) or "geen wijzigingen"


def apply_scenario(provisions: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """The provisions as they would be: switched-off ones removed, hypothetical ones added."""
    kept = provisions.loc[~provisions["provision_id"].isin(scenario.off)]
    if not scenario.added:
        return kept
    new = gpd.GeoDataFrame({
        "provision_id": [f"NIEUW-{k + 1}" for k in range(len(scenario.added))],
        "name": [p.name for p in scenario.added],
        "type": [p.type for p in scenario.added],
        "status": HYPOTHETICAL,
        "capacity_per_year": [float(p.capacity) for p in scenario.added],
        "reach_m": [float(p.reach_m) for p in scenario.added],
        "funding_end": pd.NaT,
    }, geometry=shapely.points([(p.x, p.y) for p in scenario.added]), crs=provisions.crs)
    return pd.concat([kept, new], ignore_index=True)


def _signalled_needs(signalled: pd.DataFrame) -> np.ndarray:
    """Needs of each row of ``signalled`` (booleans in the order of NEEDS).

    From the ``needs`` column (patterns such as 'verweduwd+sociaal') when present; without it (an older
    caller) every signalled person counts as needing emotional and social support, since the signal
    rules point at one or both, plus the bereavement need when ``widowed``.
    """
    if "needs" in signalled:
        return needs_from_pattern(signalled["needs"])
    out = np.zeros((len(signalled), len(NEED_CODES)), dtype=bool)
    out[:, NEED_CODES.index("emotioneel")] = True
    out[:, NEED_CODES.index("sociaal")] = True
    out[:, NEED_CODES.index("verweduwd")] = signalled["widowed"].to_numpy(dtype=bool)
    return out


@dataclass
class ScenarioResult:
    """Before/after of one scenario."""

    scenario: Scenario
    per_buurt: pd.DataFrame   # area_code, buurt, type, soort, need, gap_before, gap_after, gap_change, reach flags
    summary: pd.DataFrame     # one row per type: need, gaps, people losing/gaining reach
    signalled: dict = field(default_factory=dict)  # lose / gain: signalled persons (counts), None without data

    def within(self, area_codes) -> ScenarioResult:
        """The part for some buurten (a wijk): computed over the whole municipality, so demand and
        provisions just outside still count; the signalled-person counts are for the municipality only."""
        part = self.per_buurt.loc[self.per_buurt["area_code"].isin(area_codes)].reset_index(drop=True)
        return ScenarioResult(self.scenario, part, _summarise(part), {})


def _summarise(table: pd.DataFrame) -> pd.DataFrame:
    """One row per type: need, gap before/after, people losing/gaining reach, buurten worse/better."""
    summary = table.groupby(["type", "soort"], sort=False).agg(
        need=("need", "sum"), gap_before=("gap_before", "sum"), gap_after=("gap_after", "sum"),
        lose_reach=("lose_reach", "sum"), gain_reach=("gain_reach", "sum"),
        buurten_worse=("gap_change", lambda s: int((s > 1e-9).sum())),
        buurten_better=("gap_change", lambda s: int((s < -1e-9).sum())),
    ).reset_index()
    summary["gap_change"] = summary["gap_after"] - summary["gap_before"]
    return summary


def run_scenario(buurten: gpd.GeoDataFrame, provisions: gpd.GeoDataFrame, scenario: Scenario, *,
                 types: list[str], decay: str = "step", need_terms: dict[str, tuple[Term, ...]] | None = None,
                 signals_per_buurt: pd.Series | None = None, signalled: pd.DataFrame | None = None,
                 participation: pd.DataFrame | None = None, catalogue: dict | None = None,
                 suitability: dict | None = None) -> ScenarioResult:
    """Compare the current provisions with the scenario for the given types.

    ``signalled``: persons with a poor-network signal, columns buurt_code, widowed (bool), optionally
    needs (needs pattern, e.g. 'verweduwd+sociaal', as :meth:`data.access.ScopedStore.signal_groups`
    gives it) and count (one row per group; without it one row per person); when given, the result
    counts those who lose or gain a suitable provision with free places within reach of their buurt.
    ``participation``: participation rows (provision_id, role) or participants per provision_id (Series).
    ``suitability``: type → needs (the store's table; the default table when omitted).
    """
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    changed = apply_scenario(provisions, scenario)
    kwargs = dict(types=types, decay=decay, need_terms=need_terms, signals_per_buurt=signals_per_buurt,
                  catalogue=catalogue)
    before = gaps_from_need_and_supply(buurten, provisions, **kwargs)
    after = gaps_from_need_and_supply(buurten, changed, **kwargs)
    keys = ["area_code", "type"]
    table = before[keys + ["buurt", "soort", "need", "missing", "accessibility", "gap_people", "gap_index"]].rename(
        columns={"accessibility": "access_before", "gap_people": "gap_before", "gap_index": "index_before"}
    ).merge(after[keys + ["accessibility", "gap_people", "gap_index", "reason"]].rename(
        columns={"accessibility": "access_after", "gap_people": "gap_after", "gap_index": "index_after"}), on=keys)
    table["gap_change"] = table["gap_after"] - table["gap_before"]

    # Reach flags: the gap tables' own in_reach (one definition, data.reach), before and after.
    flags = before[keys + ["in_reach"]].rename(columns={"in_reach": "reach_before"}).merge(
        after[keys + ["in_reach"]].rename(columns={"in_reach": "reach_after"}), on=keys)
    table = table.merge(flags, on=keys, how="left")
    people = table["need"].fillna(0)
    table["lose_reach"] = people.where(table["reach_before"] & ~table["reach_after"], 0.0)
    table["gain_reach"] = people.where(~table["reach_before"] & table["reach_after"], 0.0)
    summary = _summarise(table)

    counts = {}
    if signalled is not None and len(signalled):
        codes = buurten["area_code"].to_numpy()
        xy = buurt_xy(buurten)
        room_b = room_by_need(xy, provisions, participation, catalogue, suitability)
        room_a = room_by_need(xy, changed, participation, catalogue, suitability)
        row = pd.Index(codes).get_indexer(signalled["buurt_code"])
        known = row >= 0
        needs = _signalled_needs(signalled)[known]
        row = row[known]
        weight = (signalled["count"].to_numpy(float) if "count" in signalled else np.ones(len(signalled)))[known]
        has_b = (needs & room_b[row]).any(axis=1)
        has_a = (needs & room_a[row]).any(axis=1)
        counts = {"lose": int(weight[has_b & ~has_a].sum()), "gain": int(weight[~has_b & has_a].sum()),
                  "without_before": int(weight[~has_b].sum()), "without_after": int(weight[~has_a].sum()),
                  "signalled": int(signalled["count"].sum() if "count" in signalled else len(signalled))}
    return ScenarioResult(scenario, table.sort_values("gap_change", ascending=False).reset_index(drop=True),
                          summary, counts)


def compare_scenarios(results: list[ScenarioResult]) -> pd.DataFrame:
    """One row per scenario and type, for a side-by-side comparison of saved scenarios."""
    rows = []
    for res in results:
        frame = res.summary.copy()
        frame.insert(0, "scenario", res.scenario.name)
        frame["signalled_lose"] = res.signalled.get("lose", np.nan)
        frame["signalled_gain"] = res.signalled.get("gain", np.nan)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
