"""The one gate between the store and the app: what the signed-in user may read and change.

Pages never get a :class:`~data.store.GeoPackageStore` itself, only a :class:`ScopedStore` for the
signed-in :class:`~data.auth.User`, so a page cannot forget a rule:

* person tables (persons, ties, alter_links, participation) are refused to roles without person
  access and, for a wijkteam, filtered to the persons living in their wijken (and those persons'
  ties, links and participation);
* users and the audit log are for administrators;
* every write checks the role and is logged under the user's name;
* aggregates of persons (signal counts per buurt, matching totals) are computed here from all
  data, and counts under 5 persons are hidden before they leave, also against differencing.

This module is the one place in ``data/`` that calls the pure network functions of ``graphs/``:
an aggregate must be made where the person data still is.
"""

from __future__ import annotations

import pandas as pd

from data.auth import User
from data.errors import StoreError
from data.formatting import round_to_five
from data.store import GeoPackageStore

PERSON_TABLES = ("persons", "ties", "alter_links", "participation")
ADMIN_TABLES = ("users", "audit")


def refresh_user(store: GeoPackageStore, user: User, *, oidc: bool, demo_store: bool) -> User | None:
    """The signed-in user as the store has it now (None: signed out), checked on every run.

    A local account that was blocked or removed signs out; a changed role or wijken apply at once;
    the demo administrator disappears as soon as real accounts, OIDC or real data exist.
    """
    if user.via == "lokaal":
        return store.current_user(user.username)
    if user.via == "demo":
        return user if (not oidc and demo_store and not store.has_users()) else None
    return user  # OIDC: the identity provider's session; the role mapping is read at sign-in


def views_of_person(audit: pd.DataFrame, person_id: str) -> pd.DataFrame:
    """The audit rows in which this person's data was shown or exported: who, when, what, on whose behalf.

    Matches views and exports that list the person among their ``personen`` and entries about the
    person itself (an ecogram, the conversation form); the answer to a resident's question under the AVG.
    """
    import json

    code = str(person_id)
    quoted = json.dumps(code)
    candidates = audit.loc[(audit["target"].astype(str) == code)
                           | audit["details"].fillna("").str.contains(quoted, regex=False)]

    def names_person(row) -> bool:
        if str(row["target"]) == code:
            return True
        try:
            return code in json.loads(row["details"] or "{}").get("personen", [])
        except (ValueError, AttributeError):
            return False

    keep = candidates.apply(names_person, axis=1) if len(candidates) else pd.Series(dtype=bool)
    return candidates.loc[keep.astype(bool)].reset_index(drop=True) if len(candidates) else candidates


class AccessDenied(StoreError):
    """The signed-in user's role does not allow this; the message says so in Dutch."""


class ScopedStore:
    """A store seen through the eyes of one user."""

    def __init__(self, store: GeoPackageStore, user: User) -> None:
        self._store = store
        self.user = user

    # ------------------------------------------------------------------ plain reads (no person data)
    @property
    def path(self):
        return self._store.path

    def counts(self) -> dict:
        return self._store.counts()

    def read_areas(self, level: str | None = None):
        return self._store.read_areas(level)

    def read_area_values(self, area_codes=None):
        return self._store.read_area_values(area_codes)

    def read_provision_types(self) -> dict:
        return self._store.read_provision_types()

    def read_scenarios(self) -> pd.DataFrame:
        return self._store.read_scenarios()

    def outline(self):
        return self._store.outline()

    def buurt_codes_at(self, points):
        return self._store.buurt_codes_at(points)

    def next_provision_number(self) -> int:
        return self._store.next_provision_number()

    # ------------------------------------------------------------------ the gate for tables
    def read_table(self, name: str):
        """A table as far as this user may see it (person tables filtered to their scope)."""
        if name in ADMIN_TABLES:
            self._require(self.user.is_admin, "het logboek en de gebruikers")
            return self._store.read_table(name).drop(columns=["password_hash"], errors="ignore")
        if name not in PERSON_TABLES:
            return self._store.read_table(name)
        self._require(self.user.sees_persons, "gegevens over personen")
        frame = self._store.read_table(name)
        if self.user.is_admin:
            return frame
        persons = self._store.read_table("persons")
        visible = set(persons.loc[self.user.in_scope(persons["buurt_code"]), "person_id"].astype(str))
        key = {"persons": "person_id", "ties": "ego_id", "alter_links": "ego_id", "participation": "person_id"}[name]
        frame = frame.loc[frame[key].astype(str).isin(visible)].reset_index(drop=True)
        if name == "ties":
            # A tie to someone registered outside the user's wijken keeps the tie, not who it is.
            outside = frame["alter_id"].notna() & ~frame["alter_id"].astype(str).isin(visible)
            frame.loc[outside, "alter_key"] = "buiten-wijk-" + frame.index[outside].astype(str)
            frame.loc[outside, "alter_id"] = None
        if name == "alter_links":
            ties = self._store.read_table("ties")
            outside_ids = set(ties["alter_id"].dropna().astype(str)) - visible
            for col in ("source", "target"):
                frame = frame.loc[~frame[col].astype(str).isin(outside_ids)]
            frame = frame.reset_index(drop=True)
        return frame

    def read_users(self) -> pd.DataFrame:
        self._require(self.user.is_admin, "de gebruikers")
        return self._store.read_users()

    def read_audit(self) -> pd.DataFrame:
        self._require(self.user.is_admin, "het logboek")
        return self._store.read_audit()

    # ------------------------------------------------------------------ aggregates of persons
    def signal_groups(self, rules=None) -> pd.DataFrame:
        """Persons with a poor-network signal per buurt and widowed or not: buurt_code, widowed, count.

        An aggregate for the gap and scenario analyses (they work per buurt); no person ids.
        """
        signals, persons = self._signals_all(rules)
        flagged = signals.loc[signals["signal"]]
        if flagged.empty:
            return pd.DataFrame({"buurt_code": [], "widowed": [], "count": []})
        widowed = flagged.index.astype(str).isin(set(persons.loc[persons["widowed_since"].notna(), "person_id"]
                                                     .astype(str)))
        groups = (pd.DataFrame({"buurt_code": flagged["buurt_code"].to_numpy(), "widowed": widowed})
                  .value_counts().rename("count").reset_index())
        if not self.user.is_admin:
            # Rounded to 5 before it leaves: these counts feed need estimates, scenario and matching
            # figures that any role can vary, so exact small numbers could be worked out from them.
            groups["count"] = round_to_five(groups["count"])
            groups = groups.loc[groups["count"] > 0].reset_index(drop=True)
        return groups

    def signal_share(self, rules=None) -> pd.DataFrame:
        """Per buurt: persons with data, signalled and share, small cells hidden (see graphs.aggregates)."""
        from graphs.aggregates import signal_share_by_buurt

        signals, _ = self._signals_all(rules)
        return signal_share_by_buurt(signals)

    def participation_counts(self) -> pd.Series:
        """Participants per provision_id (for free places), rounded to 5 for everyone but the administrator."""
        counts = self._store.read_table("participation").groupby("provision_id").size()
        return counts if self.user.is_admin else round_to_five(counts)

    def match_totals(self, provisions, buurten, rules=None) -> dict:
        """Matching of signalled persons to provisions as totals: matched, unmatched and per provision.

        Counts under 5 are hidden in the per-provision table (as None) for roles without person
        access; ``provisions`` may be a scenario's provisions.
        """
        from graphs.matching import match_signalled

        signals, persons = self._signals_all(rules)
        result = match_signalled(signals, persons, provisions, buurten, self._store.read_table("participation"),
                                 catalogue=self._store.read_provision_types())
        per = result.per_provision.copy()
        totals = {"signalled": int(signals["signal"].sum()), "matched": result.n_matched,
                  "unmatched": result.n_unmatched}
        if not self.user.is_admin:
            # Rounded to 5 (not hidden): signalled = matched + unmatched, so hiding one small cell would
            # not protect it; free places = capacity - participants would give participants away.
            totals = {k: int(round_to_five(pd.Series([v])).iloc[0]) for k, v in totals.items()}
            for col in ("matched", "signalled_in_reach", "free_places"):
                per[col] = round_to_five(per[col])
        return {**totals, "per_provision": per, "rounded": not self.user.is_admin}

    def _signals_all(self, rules):
        from graphs.measures import person_measures
        from graphs.signals import DEFAULT_RULES, poor_network_signals

        tables = {n: self._store.read_table(n) for n in PERSON_TABLES}
        measures = person_measures(tables["persons"], tables["ties"], tables["participation"], tables["alter_links"])
        signals = poor_network_signals(tables["persons"], tables["ties"], rules=rules or DEFAULT_RULES,
                                       measures=measures)
        return signals, tables["persons"]

    # ------------------------------------------------------------------ writes, each checked and logged
    def log(self, action: str, target: str = "", details: dict | None = None) -> None:
        self._store.log(self.user.username, action, target, details)

    def merge_area_data(self, *args, **kwargs):
        self._require(self.user.is_admin, "gebieden importeren")
        return self._store.merge_area_data(*args, user=self.user.username, **kwargs)

    def merge_area_values(self, *args, **kwargs):
        self._require(self.user.is_admin, "kerncijfers importeren")
        return self._store.merge_area_values(*args, user=self.user.username, **kwargs)

    @property
    def is_demo(self) -> bool:
        return self._store.is_demo

    @property
    def last_batch_id(self):
        return self._store.last_batch_id

    def read_batches(self) -> pd.DataFrame:
        self._require(self.user.is_admin, "de imports")
        return self._store.read_batches()

    def undo_preview(self, batch_id: int) -> dict:
        self._require(self.user.is_admin, "imports ongedaan maken")
        return self._store.undo_preview(batch_id)

    def undo_batch(self, batch_id: int) -> dict:
        self._require(self.user.is_admin, "imports ongedaan maken")
        return self._store.undo_batch(batch_id, user=self.user.username)

    def remove_areas(self, gemeente_code: str, year: int) -> dict:
        self._require(self.user.is_admin, "gebieden verwijderen")
        return self._store.remove_areas(gemeente_code, year, user=self.user.username)

    def backup_to(self, out):
        self._require(self.user.is_admin, "reservekopieën")
        return self._store.backup_to(out)

    def remove_demo(self) -> dict:
        self._require(self.user.is_admin, "de demo verwijderen")
        return self._store.remove_demo(user=self.user.username)

    def add_provision_type(self, ptype) -> None:
        self._require(self.user.is_admin, "soorten voorzieningen toevoegen")
        self._store.add_provision_type(ptype, user=self.user.username)

    def import_provisions(self, provisions, *, source: str = "", sha256: str | None = None,
                          as_batch: bool = True) -> dict:
        self._require(self.user.edits_provisions, "voorzieningen wijzigen")
        return self._store.import_provisions(provisions, user=self.user.username, source=source, sha256=sha256,
                                             as_batch=as_batch)

    def update_provision(self, provision_id: str, changes: dict, *, expected_version: int) -> int:
        self._require(self.user.edits_provisions, "voorzieningen wijzigen")
        return self._store.update_provision(provision_id, changes, expected_version=expected_version,
                                            user=self.user.username)

    def delete_provision(self, provision_id: str, *, expected_version: int) -> None:
        self._require(self.user.edits_provisions, "voorzieningen verwijderen")
        self._store.delete_provision(provision_id, expected_version=expected_version, user=self.user.username)

    def merge_network(self, persons, ties, participation=None, *, alter_links=None, source: str = "",
                      sha256: str | None = None, kind: str = "netwerk"):
        """Add or replace persons and their ties; a wijkteam only for persons living in their wijken."""
        self._require(self.user.sees_persons, "netwerken vastleggen")
        if not self.user.is_admin:
            refused = AccessDenied("U kunt alleen netwerken vastleggen van personen die in uw eigen wijken wonen.")
            if not self.user.in_scope(persons["buurt_code"]).all():
                raise refused
            # Every person touched must be new or already one of the user's own (no overwriting of others).
            stored = self._store.read_table("persons")
            others = set(stored.loc[~self.user.in_scope(stored["buurt_code"]), "person_id"].astype(str))
            touched = set(persons["person_id"].astype(str)) | set(ties["ego_id"].astype(str))
            if participation is not None and len(participation):
                touched |= set(participation["person_id"].astype(str))
            if alter_links is not None and len(alter_links):
                touched |= set(alter_links["ego_id"].astype(str))
            if touched & others or not set(ties["ego_id"].astype(str)) <= set(persons["person_id"].astype(str)):
                raise refused
            ties, alter_links = self._keep_outside_ties(ties, alter_links, others)
        return self._store.merge_network(persons, ties, participation, alter_links=alter_links,
                                         user=self.user.username, source=source, sha256=sha256, kind=kind)

    def _keep_outside_ties(self, ties, alter_links, others: set[str]):
        """Ties (and links) of these egos to persons outside the user's scope stay exactly as stored.

        The user sees such a tie only as 'buiten-wijk-…' (read_table hides who it is), so what comes
        back from a form or file for it is the masked copy: drop it and keep the stored tie instead.
        """
        egos = set(ties["ego_id"].astype(str))
        stored = self._store.read_table("ties")
        stored = stored.loc[stored["ego_id"].astype(str).isin(egos)]
        outside = stored.loc[stored["alter_id"].notna() & stored["alter_id"].astype(str).isin(others)]
        masked = ties["alter_key"].astype("string").str.startswith("buiten-wijk-").fillna(False).to_numpy()
        kept_ties = pd.concat([ties.loc[~masked], outside], ignore_index=True)
        links = self._store.read_table("alter_links")
        links = links.loc[links["ego_id"].astype(str).isin(egos)
                          & (links["source"].astype(str).isin(others) | links["target"].astype(str).isin(others))]
        if len(links):
            alter_links = pd.concat([alter_links, links], ignore_index=True) if alter_links is not None else links
            alter_links = alter_links.drop_duplicates(["ego_id", "source", "target"])
        return kept_ties, alter_links

    def save_scenario(self, name: str, definition: str, *, expected_version: int | None = None) -> int:
        # Every role may run a scenario; keeping one is a change, which the read-only gemeente role may not.
        self._require(self.user.role != "gemeente", "scenario's bewaren")
        return self._store.save_scenario(name, definition, user=self.user.username, expected_version=expected_version)

    def delete_scenario(self, name: str) -> None:
        self._require(self.user.role != "gemeente", "scenario's verwijderen")
        self._store.delete_scenario(name, user=self.user.username)

    def create_user(self, username: str, role: str, wijken, password: str) -> None:
        self._require(self.user.is_admin, "gebruikers beheren")
        self._store.create_user(username, role, wijken, password, by=self.user.username)

    def update_user(self, username: str, **changes) -> None:
        self._require(self.user.is_admin, "gebruikers beheren")
        self._store.update_user(username, by=self.user.username, **changes)

    def _require(self, allowed: bool, what: str) -> None:
        if not allowed:
            from data.auth import ROLES

            raise AccessDenied(f"Uw rol ({ROLES.get(self.user.role, self.user.role)}) geeft geen toegang tot {what}.")
