"""Small counts are hidden the same way in every report of the same data: each wijk's and the gemeente's.

The leak this guards against: secondary suppression made per report hides a complement in one report
and shows it in another; with the wijk total from the first, the small cell follows by subtraction.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from graphs.aggregates import suppressed, suppressed_nested
from mapping.gap_report import GAP, NEED, build_gap_report, scoped_total_hidden, wijk_codes
from mapping.gaps import describe_need, gaps_from_need_and_supply
from mapping.scenarios import Scenario, run_scenario
from tests.conftest import realdata

VISIT = "bezoekdienst_weduwen"


# --------------------------------------------------------------------------- the rule, by hand
def test_per_scope_suppression_leaks_and_nested_does_not():
    """Wijk A: 3, 10, 20 (total 33); wijk B: 2, 6, 30 (total 38); gemeente 71.

    Per report: wijk A hides 3 (small) and 10 (complement); the gemeente report hides only 3 and 2
    (together 5, two cells: enough against the gemeente total) and shows 10. A reader of both takes the
    wijk total 33, minus 20 (shown in A), minus 10 (shown in the gemeente report): 3.
    """
    counts = pd.Series([3, 10, 20, 2, 6, 30], index=[f"BU{k}" for k in range(6)], dtype=float)
    groups = pd.Series(["A", "A", "A", "B", "B", "B"], index=counts.index)
    in_a = groups.eq("A")

    wijk_report = suppressed(counts[in_a])
    gemeente_report = suppressed(counts)
    assert wijk_report.tolist() == [True, True, False]
    assert gemeente_report.tolist() == [True, False, False, True, False, False]
    shown_anywhere = counts[in_a][~wijk_report | ~gemeente_report[in_a]]
    assert shown_anywhere.index.tolist() == ["BU1", "BU2"]  # only BU0 (3) is hidden in both reports
    assert counts[in_a].sum() - shown_anywhere.sum() == 3  # the leak: the hidden small cell worked out exactly

    nested = suppressed_nested(counts, groups)
    assert nested.tolist() == [True, True, False, True, True, False]
    # Every report now shows the same cells; each shown total (A, B, gemeente) minus its shown cells
    # leaves at least two hidden cells worth at least 5 together.
    for scope in (in_a, groups.eq("B"), pd.Series(True, index=counts.index)):
        hidden = counts[scope & nested]
        assert len(hidden) >= 2 and hidden.sum() >= 5
    assert counts[in_a].sum() - counts[in_a & ~nested].sum() == 13  # 3 + 10: no longer one cell


def test_a_small_wijk_total_is_protected_too():
    """Wijk A has one buurt with 3 (its total is 3); wijk B has 6 and 20. The gemeente total 29 minus
    B's total 26 would give A's 3 away, so B's total is hidden as well; then B's shown cells would add
    up to its total again, so one of them (6) is hidden: 29 − 20 leaves 3 + 6 = 9, two unknowns."""
    counts = pd.Series([3.0, 6.0, 20.0], index=["a", "b1", "b2"])
    groups = pd.Series(["A", "B", "B"], index=counts.index)
    assert suppressed_nested(counts, groups).tolist() == [True, True, False]
    assert scoped_total_hidden(counts, groups, groups.eq("A")) == (3.0, True)
    assert scoped_total_hidden(counts, groups, groups.eq("B")) == (26.0, True)
    assert scoped_total_hidden(counts, groups, pd.Series(True, index=counts.index)) == (29.0, False)


def test_one_group_gives_the_single_table_rule():
    rng = np.random.default_rng(7)
    for _ in range(200):
        values = pd.Series(rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 14, 40], rng.integers(1, 10)), dtype=float)
        one = pd.Series("W", index=values.index)
        assert suppressed_nested(values, one).equals(suppressed(values)), values.tolist()


def test_missing_values_and_zeros_are_never_hidden_and_already_counts():
    counts = pd.Series([np.nan, 0.0, 3.0, 7.0, 9.0], index=list("abcde"))
    groups = pd.Series(["A"] * 5, index=counts.index)
    mask = suppressed_nested(counts, groups)
    assert mask.tolist() == [False, False, True, True, False]  # 3, and the smallest other (7)
    already = pd.Series([False, False, False, False, True], index=counts.index)
    # 9 hidden for another reason: 3 + 9 are two cells worth 12, so 7 can stay.
    assert suppressed_nested(counts, groups, already=already).tolist() == [False, False, True, False, True]


def test_wijk_codes_from_the_store_or_the_cbs_code():
    codes = pd.Series(["BU19990001", "BU19990101", "X1"])
    assert wijk_codes(codes).tolist() == ["WK199900", "WK199901", ""]
    given = pd.Series({"BU19990001": "WK199901"})
    assert wijk_codes(codes, given).tolist() == ["WK199901", "WK199901", ""]


# --------------------------------------------------------------------------- every report of a town
def _reports(buurten: gpd.GeoDataFrame, gaps: pd.DataFrame, wijk_of: pd.Series, **kwargs):
    """The gemeente's report and one per wijk, from the same gaps table."""
    kw = dict(type_label="Bezoekdienst", formula=describe_need(VISIT), wijk_of=wijk_of, **kwargs)
    whole = build_gap_report(buurten, gaps, scope="Gemeente", **kw)
    per_wijk = {w: build_gap_report(buurten.loc[buurten["area_code"].map(wijk_of).eq(w).to_numpy()], gaps,
                                    scope=w, **kw) for w in sorted(set(wijk_of))}
    return whole, per_wijk


def _hidden(report, column: str) -> set[str]:
    data = report.data
    return set(data.loc[data[column].isna() & (data["Verborgen"] != ""), "Buurtcode"])


def _assert_consistent_and_safe(buurten, gaps, wijk_of, **kwargs):
    whole, per_wijk = _reports(buurten, gaps, wijk_of, **kwargs)
    truth = gaps.drop_duplicates("area_code").set_index("area_code")
    for column, raw in ((NEED, "need"), (GAP, "gap_people")):
        in_wijken = set().union(*(_hidden(r, column) for r in per_wijk.values()))
        assert in_wijken == _hidden(whole, column), column
        # No shown total (a wijk's or the gemeente's) minus the cells shown anywhere leaves a single hidden
        # cell or a hidden sum under 5.
        for report in [whole, *per_wijk.values()]:
            if report.total_values[column] is None:
                continue
            codes = report.data["Buurtcode"]
            hidden = truth.loc[codes[report.data[column].isna()], raw].dropna().round()
            hidden = hidden[hidden > 0]
            shown = report.data[column].dropna().astype(float)
            # ... as far as shown non-zero cells are left to hide (a sum of fractions may round to little).
            exhausted = not (shown > 0).any()
            assert hidden.empty or (len(hidden) >= 2 and hidden.sum() >= 5) or exhausted, (report.scope, column)
            assert not ((shown > 0) & (shown < 5)).any()
    return whole, per_wijk


def _demo_buurten(demo):
    wide = demo.area_values.pivot_table(index="area_code", columns="indicator", values="value")
    return demo.areas.loc[demo.areas["level"] == "buurt"].merge(wide, left_on="area_code", right_index=True)


@pytest.mark.parametrize("ptype", [VISIT, "maatjesproject", "grip_en_glans"])
def test_demo_every_wijk_report_hides_what_the_gemeente_report_hides(demo, ptype):
    buurten = _demo_buurten(demo)
    gaps = gaps_from_need_and_supply(buurten, demo.provisions, types=[ptype])
    wijk_of = buurten.set_index("area_code")["wijk_code"]
    _assert_consistent_and_safe(buurten, gaps, wijk_of)


def test_demo_flatwijk_de_horst_is_hidden_in_both_reports(demo):
    """The case users found: hidden as a complement in the wijk report, shown (6) in the gemeente's."""
    buurten = _demo_buurten(demo)
    gaps = gaps_from_need_and_supply(buurten, demo.provisions, types=[VISIT])
    wijk_of = buurten.set_index("area_code")["wijk_code"]
    horst = buurten.loc[buurten["name"] == "Flatwijk De Horst", "area_code"].iloc[0]
    kanaalzone = wijk_of.index[wijk_of.eq(wijk_of[horst])]
    # Per scope (the old way) the two reports disagree about this buurt ...
    per_wijk = suppressed(gaps.set_index("area_code").loc[kanaalzone, "gap_people"])
    per_gemeente = suppressed(gaps.set_index("area_code")["gap_people"])
    assert per_wijk[horst] != per_gemeente[horst]
    # ... the reports now agree.
    whole, reports = _reports(buurten, gaps, wijk_of)
    assert horst in _hidden(whole, GAP) and horst in _hidden(reports[wijk_of[horst]], GAP)


def test_demo_scenario_totals_hidden_alike(demo):
    """Switching the running visiting services off: per wijk the people losing reach; a wijk's small number is
    hidden, and then a second wijk's too, so the gemeente total cannot give it away."""
    buurten = _demo_buurten(demo)
    running = demo.provisions.query("type == @VISIT and status != 'gestopt'")["provision_id"]
    result = run_scenario(buurten, demo.provisions, Scenario("Alles uit", tuple(running)), types=[VISIT])
    gaps = gaps_from_need_and_supply(buurten, demo.provisions, types=[VISIT])
    wijk_of = buurten.set_index("area_code")["wijk_code"]
    whole, per_wijk = _reports(buurten, gaps, wijk_of, scenarios=[result])
    column = "Verliezen bereik (personen)"
    lose = result.per_buurt.set_index("area_code")["lose_reach"].groupby(wijk_of).sum()
    hidden = [w for w, r in per_wijk.items() if pd.isna(r.scenario_data[column].iloc[0])]
    assert set(hidden) == set(lose.index[suppressed(lose)])
    small = lose[(lose.round() > 0) & (lose.round() < 5)]
    assert set(small.index) <= set(hidden)
    if len(hidden):
        assert len(hidden) >= 2 and lose[hidden].sum() >= 5
    assert whole.scenario_data[column].iloc[0] == round(lose.sum())


def test_teststad_reports_agree(empty_store, tmp_path):
    """The fixture town (CBS 2017 files, a buurt without inhabitants and a water buurt) through the store."""
    from tests.towns import build_state, write_town_files

    store = build_state(empty_store, write_town_files(tmp_path), "voorzieningen")
    buurten = store.read_areas("buurt")
    gaps = gaps_from_need_and_supply(buurten, store.read_table("provisions"), types=[VISIT])
    wijk_of = buurten.set_index("area_code")["wijk_code"]
    whole, per_wijk = _assert_consistent_and_safe(buurten, gaps, wijk_of)
    assert set(per_wijk) == {"WK199900", "WK199901"}
    assert whole.total_values["Buurten zonder behoefteschatting"] >= 1  # Industrieterrein: secret figures


@pytest.mark.realdata
def test_zaanstad_2017_reports_agree_with_provisions():
    from data.cbs import harmonise_cbs_areas
    from data.provisions import read_provision_points

    result = harmonise_cbs_areas(gpd.read_file(realdata("zaanstad_buurten_2017_rd.geojson")), year=2017)
    wide = result.values.pivot_table(index="area_code", columns="indicator", values="value")
    buurten = result.areas.loc[result.areas["level"] == "buurt"].merge(wide, left_on="area_code",
                                                                       right_index=True, how="left")
    provisions = read_provision_points(realdata("zaanstad_facilities_nonosm.geojson"),
                                       type_map={"care_vvt": VISIT, "care_ghz": VISIT, "care_ggz": VISIT, "hospital": VISIT,
                                                 "school_primary": None, "school_secondary": None})
    provisions = provisions.assign(status=np.where(np.arange(len(provisions)) % 3 == 0, "onder_druk", "actief"))
    gaps = gaps_from_need_and_supply(buurten, provisions, types=[VISIT])
    wijk_of = buurten.set_index("area_code")["wijk_code"]
    assert wijk_of.nunique() == 19
    # Per scope (the old way) some wijk report would disagree with the gemeente's about a buurt ...
    gap = gaps.set_index("area_code")["gap_people"]
    per_scope = pd.concat([suppressed(gap[wijk_of.index[wijk_of.eq(w)]]) for w in wijk_of.unique()])
    assert (per_scope != suppressed(gap)[per_scope.index]).any()
    # ... the reports agree.
    whole, per_wijk = _assert_consistent_and_safe(buurten, gaps, wijk_of, provisions=provisions)
    hidden = _hidden(whole, GAP) | _hidden(whole, NEED)
    names = set(buurten.set_index("area_code").loc[list(hidden), "name"])
    for report in [whole, *per_wijk.values()]:
        # A key message may name a buurt with its shortage only where that shortage is shown.
        assert not [m for m in report.messages for n in names if f"{n} (" in m]
