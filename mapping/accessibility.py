"""Two-step floating catchment area (2SFCA) accessibility, vectorised over sparse distance pairs.

For provisions j with capacity S_j and reach d_j, and buurten i with need P_i:

    R_j = S_j / Σ_i P_i W(d_ij)        (places per person in need within the catchment)
    A_i = Σ_j R_j W(d_ij)              (places per person in need reachable from buurt i)

W is a step (1 within reach), a Gaussian cut at the reach (σ = reach / 2), or the enhanced
variant (E2SFCA) with weights 1 / 0.68 / 0.22 for the thirds of the reach. Only pairs within
reach are ever formed (a k-d tree query), so a national run never builds a dense matrix.
Straight-line distance in metres in RD New. Tested against PySAL ``access``. Which pairs are within
reach is :func:`data.reach.catchment_pairs`, the one definition that gaps, scenarios and matching share.
"""

from __future__ import annotations

import numpy as np

from data.reach import catchment_pairs

DECAYS = {"step": "stap (binnen bereik telt volledig)", "gaussian": "Gaussisch (afnemend met afstand)",
          "e2sfca": "E2SFCA (1 / 0,68 / 0,22 per derde van het bereik)"}
E2SFCA_STEPS = ((1 / 3, 1.0), (2 / 3, 0.68), (1.0, 0.22))


def decay_weights(dist: np.ndarray, reach: np.ndarray, decay: str) -> np.ndarray:
    """Weight of each pair by distance and the provision's reach (0 beyond the reach)."""
    inside = dist <= reach
    if decay == "step":
        w = np.ones_like(dist)
    elif decay == "gaussian":
        sigma = reach / 2
        w = np.exp(-(dist ** 2) / (2 * sigma ** 2))
    elif decay == "e2sfca":
        w = np.select([dist <= reach * f for f, _ in E2SFCA_STEPS], [v for _, v in E2SFCA_STEPS], 0.0)
    else:
        raise ValueError(f"unknown decay {decay!r}")
    return np.where(inside, w, 0.0)


def two_step_fca(demand_xy: np.ndarray, need: np.ndarray, supply_xy: np.ndarray, capacity: np.ndarray,
                 reach_m: np.ndarray, *, decay: str = "step") -> tuple[np.ndarray, np.ndarray]:
    """Accessibility A_i per demand location and the provider ratio R_j per provision.

    Missing need counts as no demand in the ratio; provisions without anyone in reach get R = 0.
    """
    need = np.nan_to_num(np.asarray(need, dtype=float))
    capacity = np.nan_to_num(np.asarray(capacity, dtype=float))
    reach_m = np.asarray(reach_m, dtype=float)
    i, j, d = catchment_pairs(np.asarray(demand_xy, float), np.asarray(supply_xy, float), reach_m)
    w = decay_weights(d, reach_m[j], decay)
    served = np.bincount(j, weights=need[i] * w, minlength=len(capacity))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(served > 0, capacity / served, 0.0)
    access = np.bincount(i, weights=ratio[j] * w, minlength=len(need))
    return access, ratio
