"""2SFCA by hand on a small grid, and equal to PySAL access on the demo."""

import numpy as np
import pandas as pd
import pytest

from mapping.accessibility import decay_weights, two_step_fca


def test_two_step_fca_by_hand():
    """Three buurten on a line 1 km apart (need 100, 300, 100) and two provisions.

    V1 at buurt 0 (capacity 40, reach 1.5 km) reaches buurten 0 and 1: R1 = 40 / 400 = 0.1.
    V2 at buurt 2 (capacity 10, reach 500 m) reaches only buurt 2:      R2 = 10 / 100 = 0.1.
    A = [0.1, 0.1, 0.1]; with V1 switched off: A = [0, 0, 0.1].
    """
    buurten = np.array([[0.0, 0.0], [1000.0, 0.0], [2000.0, 0.0]])
    need = np.array([100.0, 300.0, 100.0])
    prov = np.array([[0.0, 0.0], [2000.0, 0.0]])
    access, ratio = two_step_fca(buurten, need, prov, np.array([40.0, 10.0]), np.array([1500.0, 500.0]))
    assert ratio.tolist() == pytest.approx([0.1, 0.1])
    assert access.tolist() == pytest.approx([0.1, 0.1, 0.1])
    off, _ = two_step_fca(buurten, need, prov[1:], np.array([10.0]), np.array([500.0]))
    assert off.tolist() == pytest.approx([0.0, 0.0, 0.1])


def test_decay_functions():
    d = np.array([0.0, 300.0, 600.0, 900.0, 1200.0])
    reach = np.full(5, 900.0)
    assert decay_weights(d, reach, "step").tolist() == [1, 1, 1, 1, 0]
    assert decay_weights(d, reach, "e2sfca").tolist() == [1, 1, 0.68, 0.22, 0]
    assert decay_weights(d, reach, "gaussian")[2] == pytest.approx(np.exp(-(600 ** 2) / (2 * 450 ** 2)))


@pytest.mark.parametrize("decay", ["step", "gaussian", "e2sfca"])
def test_equal_to_pysal_access(demo, decay):
    access_lib = pytest.importorskip("access")
    buurten = demo.areas.loc[demo.areas["level"] == "buurt"].reset_index(drop=True)
    centres = buurten.geometry.representative_point()
    inh = demo.area_values.query("indicator == 'aantal_inwoners'").set_index("area_code")["value"]
    need = inh.reindex(buurten["area_code"]).fillna(0).to_numpy() * 0.05
    prov = demo.provisions.loc[demo.provisions["type"] == "buurthuis"].reset_index(drop=True)
    reach = 1500.0
    ours, _ = two_step_fca(np.c_[centres.x, centres.y], need, np.c_[prov.geometry.x, prov.geometry.y],
                           prov["capacity_per_year"].to_numpy(float), np.full(len(prov), reach), decay=decay)
    dist = np.hypot(centres.x.to_numpy()[:, None] - prov.geometry.x.to_numpy()[None, :],
                    centres.y.to_numpy()[:, None] - prov.geometry.y.to_numpy()[None, :])
    cost = pd.DataFrame({"origin": np.repeat(np.arange(len(buurten)), len(prov)),
                         "dest": np.tile(np.arange(len(prov)), len(buurten)), "cost": dist.ravel()})
    model = access_lib.Access(
        demand_df=pd.DataFrame({"geoid": np.arange(len(buurten)), "need": need}), demand_index="geoid",
        demand_value="need",
        supply_df=pd.DataFrame({"sid": np.arange(len(prov)), "cap": prov["capacity_per_year"].to_numpy(float)}),
        supply_index="sid", supply_value="cap",
        cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost")
    fn = {"step": access_lib.weights.step_fn({reach: 1}),
          "gaussian": access_lib.weights.gaussian(reach / 2),
          "e2sfca": access_lib.weights.step_fn({reach / 3: 1, 2 * reach / 3: 0.68, reach: 0.22})}[decay]
    theirs = model.two_stage_fca(name="x", max_cost=reach, weight_fn=fn)
    theirs = theirs.iloc[:, 0].reindex(range(len(buurten))).fillna(0).to_numpy()
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)
    assert ours.max() > 0
