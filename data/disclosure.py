"""Disclosure control for every figure from person data that a user may not see person by person.

The rule
--------
Figures from person data reach a user who may not see those persons one by one (roles without
person access; a wijkteam for the persons outside its own wijken) only through **one protected
table of counts**, and every figure they see (signal shares per buurt, the signal counts that feed
need estimates, matching and scenario results, participants per provision) is computed from that
table, never from the persons themselves:

* cells: signalled persons (fixed default rules) per buurt and needs pattern (widowed, emotional,
  social: :func:`graphs.signals.need_categories`, which the matching needs to know what fits);
  persons with network data per buurt; participants ('deelnemer') per provision;
* each cell is published once, by the **cell-key method** of CBS and Eurostat:

  - every person has a fixed, secret record key ``r`` in [0, 1): a keyed hash (BLAKE2b in keyed
    mode, a MAC like HMAC, RFC 7693) of the person id with a random secret of the store, kept in
    ``steunkaart_meta`` (never in code), so nobody can compute keys of imagined sets of persons;
  - the cell key is the sum of the record keys of the persons in the cell, modulo 1; it depends on
    *which* persons are in the cell, not on the question that was asked;
  - the perturbation table (:data:`PTABLE`) maps (count, cell key) to the noise: zero cells stay 0;
    1 to 4 persons are published as 0; 5 or more get a deviation of at most
    :data:`MAX_DEVIATION` (variance 1 from 7 up), never below 5.

Why this holds against the attacks seen: a hidden cell of 1 to 4 persons enters every later
computation as 0, so no sequence of questions (switch provisions off, add a hypothetical provision
of capacity 1, 2, 3 … with a 100 m reach, move a signal threshold) can bring its true value back:
the answers are the same whatever the true value between 0 and 4 is. Larger cells always carry the
same noise, so asking again or asking a slightly different question cannot average it away; and
since all figures come from the one table, subtracting one figure from another only gives back
protected cells. Rounding the *output* does not do this: the inputs of a scenario vary freely and
the step where a rounded total flips gives the small number away.

On top of this, for the roles that see only totals: a hypothetical provision needs at least
:data:`MIN_CAPACITY` places and :data:`MIN_REACH_M` metres of reach (sensible for a collective
provision, and no probe of a single person's place), and a scenario that changes a matching result
by fewer than :data:`MIN_CELL` persons is reported as "minder dan 5" change, not as the number.

The administrator sees exact figures; a wijkteam sees its own persons exactly (it sees them one by
one anyway) and the rest through the protected table, computed with the fixed default rules: its own
rule changes apply to its own persons only.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np
import pandas as pd

from data.errors import DataValidationError

MIN_CELL = 5  # fewer persons than this in a cell: published as 0 (never the small number)
MAX_DEVIATION = 2
MIN_CAPACITY = 5  # places per year of a hypothetical provision, for roles that see only totals
MIN_REACH_M = 500
SECRET_META_KEY = "disclosure_secret"
KEY_BITS = 32  # record keys are integers in [0, 2**32): sums of 100,000s of them stay exact in int64
PROTECTION_NOTE = ("Aantallen personen zijn beschermd met de celsleutelmethode van het CBS: minder dan 5 personen "
                   "telt als 0 en andere aantallen wijken vast (steeds hetzelfde) hoogstens 2 af.")
SMALL_CHANGE = f"minder dan {MIN_CELL}"

NOISE = np.arange(-MAX_DEVIATION, MAX_DEVIATION + 1)
#: Probability of each noise value (-2 … +2) per count: zero stays zero, 1-4 become 0 (row unused),
#: 5 and 6 cannot go below 5 (the excluded mass goes to the lowest allowed value), 7 or more symmetric.
PTABLE = pd.DataFrame(
    [[0, 0, 1, 0, 0],
     [0, 0, 0.725, 0.2, 0.075],
     [0, 0.275, 0.45, 0.2, 0.075],
     [0.075, 0.2, 0.45, 0.2, 0.075]],
    index=pd.Index(["0-4", "5", "6", "7+"], name="count"), columns=NOISE)
_EDGES = np.cumsum(PTABLE.to_numpy(), axis=1)[:, :-1]  # cell key >= edge k: at least noise column k + 1


def store_secret(store) -> bytes:
    """The store's secret for record keys, created (32 random bytes) the first time it is needed.

    Kept in ``steunkaart_meta`` of the store itself, so a backup keeps the same noise and a new store
    gets its own. ``INSERT OR IGNORE`` then read: two sessions starting at once agree on one secret.
    """
    query = "SELECT value FROM steunkaart_meta WHERE key = ?"
    with store._connection() as conn:
        row = conn.execute(query, (SECRET_META_KEY,)).fetchone()
    if row is None:
        # Not a data write: the data version (the key of every cache) stays; nothing cached used a secret yet.
        with store._transaction(data=False) as conn:
            conn.execute("INSERT OR IGNORE INTO steunkaart_meta (key, value) VALUES (?, ?)",
                         (SECRET_META_KEY, secrets.token_hex(32)))
            row = conn.execute(query, (SECRET_META_KEY,)).fetchone()
    return bytes.fromhex(row[0])


def record_keys(person_ids, secret: bytes) -> pd.Series:
    """The fixed record key of each person: an integer in [0, 2**32) from a keyed hash of the id.

    Parameters
    ----------
    person_ids : array-like
        Person ids (pseudonyms), any order, repeats allowed.
    secret : bytes
        The store's secret (:func:`store_secret`), 16 to 64 bytes.

    Returns
    -------
    Series
        int64 record keys, index = the ids as given (as strings).
    """
    if not 16 <= len(secret) <= 64:
        raise DataValidationError("Het geheim voor de celsleutels moet 16 tot 64 bytes lang zijn.")
    ids = pd.Index(pd.Series(person_ids, dtype="string").fillna("").to_numpy(dtype=object), dtype=object)
    # One keyed hash per distinct id (no vectorised MAC exists); everything else is array work.
    unique = pd.unique(ids.to_numpy())
    digests = b"".join(hashlib.blake2b(str(i).encode(), key=secret, digest_size=KEY_BITS // 8).digest()
                       for i in unique)
    keys = pd.Series(np.frombuffer(digests, dtype=">u4").astype(np.int64), index=unique)
    return pd.Series(keys.reindex(ids).to_numpy(), index=ids, dtype=np.int64)


def perturb(counts, cell_keys) -> np.ndarray:
    """Published counts for true counts and cell keys in [0, 1), by the perturbation table.

    0 stays 0 and 1-4 become 0; 5 or more move by at most :data:`MAX_DEVIATION` and never below 5.
    The same (count, cell key) always gives the same answer.
    """
    n = np.asarray(counts, dtype=np.int64)
    key = np.asarray(cell_keys, dtype=float)
    if n.shape != key.shape or (n < 0).any() or ((key < 0) | (key >= 1)).any():
        raise DataValidationError("Celsleutels liggen tussen 0 en 1, aantallen zijn 0 of meer, één sleutel per cel.")
    flat_n, flat_key = n.ravel(), key.ravel()
    row = np.select([flat_n < MIN_CELL, flat_n == MIN_CELL, flat_n == MIN_CELL + 1], [0, 1, 2], default=3)
    noise = NOISE[(flat_key[:, None] >= _EDGES[row]).sum(axis=1)]
    return np.where(flat_n < MIN_CELL, 0, flat_n + noise).reshape(n.shape)


def protected_counts(keys: pd.Series, by) -> pd.Series:
    """Published number of persons per cell: one record key per person, grouped by ``by``.

    Parameters
    ----------
    keys : Series
        Record keys (:func:`record_keys`) of the persons, one row per person in a cell.
    by : Series, array or list of them
        The cell of each row (as for ``Series.groupby``); missing labels form a cell of their own.

    Returns
    -------
    Series
        int64 published counts per cell (0 for cells of fewer than :data:`MIN_CELL` persons).
    """
    grouped = pd.Series(keys.to_numpy(dtype=np.int64)).groupby(by, dropna=False, sort=True)
    n, total = grouped.size(), grouped.sum()
    cell_key = (total.to_numpy(dtype=np.int64) % (1 << KEY_BITS)) / float(1 << KEY_BITS)
    return pd.Series(perturb(n.to_numpy(), cell_key), index=n.index, dtype=np.int64)


def check_hypothetical(provisions: pd.DataFrame, *, status: str = "hypothetisch") -> None:
    """Refuse hypothetical provisions under :data:`MIN_CAPACITY` places or :data:`MIN_REACH_M` reach.

    Raises
    ------
    DataValidationError
        In Dutch, naming the provision; for roles that see totals only.
    """
    new = (provisions["status"] == status).to_numpy()
    if not new.any():
        return
    capacity = pd.to_numeric(provisions["capacity_per_year"], errors="coerce").to_numpy(dtype=float)
    reach = pd.to_numeric(provisions["reach_m"], errors="coerce").to_numpy(dtype=float)
    bad = new & ((capacity < MIN_CAPACITY) | np.isnan(capacity) | (reach < MIN_REACH_M))
    if bad.any():
        names = ", ".join(provisions["name"].astype(str).to_numpy()[bad])
        raise DataValidationError(
            f"Een nieuwe voorziening in een scenario heeft minstens {MIN_CAPACITY} plekken per jaar en een bereik "
            f"van minstens {MIN_REACH_M} m (kleiner rekent uw rol niet door, zodat geen enkel persoon uit de "
            f"uitkomst is af te leiden): {names}. Pas de capaciteit of het bereik aan.",
            column="capaciteit/bereik")


def small_change(before, after) -> bool:
    """Whether a figure changes by 1 to 4 persons (reported as 'minder dan 5', not as the number)."""
    diff = abs(int(after) - int(before))
    return 0 < diff < MIN_CELL
