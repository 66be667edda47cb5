"""The one gate between the store and the app: what the signed-in user may read and change.

Pages never get a :class:`~data.store.SqlStore` itself, only a :class:`ScopedStore` for the
signed-in :class:`~data.auth.User`, so a page cannot forget a rule:

* person tables (persons, ties, alter_links, participation) are refused to roles without person
  access and, for a wijkteam, filtered to the persons living in their wijken (and those persons'
  ties, links and participation);
* users and the audit log are for administrators;
* every write checks the role and is logged under the user's name;
* aggregates of persons (signal counts and shares per buurt, need weights, matching and scenario
  figures, participants per provision) are computed here from all data; for everyone but the
  administrator, persons they may not see one by one enter them only through the protected table of
  :mod:`data.disclosure` (cell-key method, cells under 5 persons as 0), with the fixed default
  rules: a wijkteam's own rule changes apply to its own persons only;
* roles that see only totals (gemeente, gebiedsverbinder, opbouwwerker) always get the fixed default
  rules, whatever rules a page passes (:meth:`ScopedStore.effective_rules`): varied rules would let
  totals be subtracted from each other;
* the signal table per person (:meth:`ScopedStore.person_signals`) comes from the one pipeline
  :func:`graphs.signals.signal_table` on all data (a person's measures do not depend on who else
  the user may see), limited to the persons the user may see one by one.

This module is the one place in ``data/`` that calls the pure network functions of ``graphs/``:
an aggregate must be made where the person data still is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data import auth
from data.auth import SECRET_COLUMNS, User
from data.disclosure import MIN_CELL, check_hypothetical, protected_counts, record_keys, small_change, store_secret
from data.errors import StoreError
from data.store import SqlStore

PERSON_TABLES = ("persons", "ties", "alter_links", "participation", "measurements", "followup_ties",
                 "aftercare_plans", "aftercare_contacts")
ADMIN_TABLES = ("users", "audit")


def refresh_user(store: SqlStore, user: User, *, oidc: bool, demo_store: bool) -> User | None:
    """The signed-in user as the store has it now (None: signed out), checked on every run.

    A local account that was blocked or removed signs out, and so does a session whose epoch (from
    sign-in) is older than the account's: a new password, a block or another role end every live
    session of that user. Other wijken apply at once. A user without an epoch (a session from
    before it was remembered) takes the account's. The demo administrator disappears as soon as
    real accounts, OIDC or real data exist.
    """
    if user.via == "lokaal":
        now = auth.current_user(store, user.username)
        if now is None or (user.epoch is not None and now.epoch != user.epoch):
            return None
        return now
    if user.via == "demo":
        return user if (not oidc and demo_store and not auth.has_users(store)) else None
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

    def __init__(self, store: SqlStore, user: User) -> None:
        self._store = store
        self.user = user

    # ------------------------------------------------------------------ plain reads (no person data)
    @property
    def path(self):
        return self._store.path

    @property
    def location(self) -> str:
        """Where the store is (a file path or a database URL), for cached loaders; see data.store_api.store_at."""
        return self._store.location

    @property
    def is_postgis(self) -> bool:
        from data.postgis import PostgisStore

        return isinstance(self._store, PostgisStore)

    def data_version(self):
        return self._store.data_version()

    def counts(self) -> dict:
        return self._store.counts()

    def read_areas(self, level: str | None = None):
        return self._store.read_areas(level)

    def read_area_values(self, area_codes=None):
        return self._store.read_area_values(area_codes)

    def read_provision_types(self) -> dict:
        return self._store.read_provision_types()

    def read_suitability(self) -> dict:
        """Which provision types fit which needs (type -> needs): read by every role."""
        return self._store.read_suitability()

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
            return self._store.read_table(name).drop(columns=[*SECRET_COLUMNS, "totp_last_step"], errors="ignore")
        if name == "key_figures" and self.user.role == "gemeente":
            # Names of key figures (only ever stored with consent) are for the teams in the wijk, not for policy.
            return self._store.read_table(name).assign(name=None)
        if name not in PERSON_TABLES:
            return self._store.read_table(name)
        self._require(self.user.sees_persons, "gegevens over personen")
        frame = self._store.read_table(name)
        if self.user.is_admin:
            return frame
        persons = self._store.read_table("persons")
        visible = set(persons.loc[self.user.in_scope(persons["buurt_code"]), "person_id"].astype(str))
        key = {"persons": "person_id", "ties": "ego_id", "alter_links": "ego_id", "participation": "person_id",
               "measurements": "person_id", "followup_ties": "person_id", "aftercare_plans": "person_id",
               "aftercare_contacts": "plan_id"}[name]
        if name == "aftercare_contacts":  # a contact belongs to the person of its plan
            plans = self._store.read_table("aftercare_plans")
            visible_plans = set(plans.loc[plans["person_id"].astype(str).isin(visible), "plan_id"].astype(str))
            return frame.loc[frame["plan_id"].astype(str).isin(visible_plans)].reset_index(drop=True)
        frame = frame.loc[frame[key].astype(str).isin(visible)].reset_index(drop=True)
        if name == "followup_ties":  # as for ties: a tie to someone outside the user's wijken, not who it is
            outside = frame["alter_id"].notna() & ~frame["alter_id"].astype(str).isin(visible)
            frame.loc[outside, "alter_key"] = "buiten-wijk-" + frame.index[outside].astype(str)
            frame.loc[outside, "alter_id"] = None
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
        return auth.read_users(self._store)

    def read_audit(self) -> pd.DataFrame:
        self._require(self.user.is_admin, "het logboek")
        return self._store.read_audit()

    # ------------------------------------------------------------------ signals and aggregates of persons
    def effective_rules(self, rules=None):
        """The signal rules that apply for this user: the given ones (default: the default rules) for roles
        that see persons, always the fixed default rules for roles that see only totals."""
        from graphs.signals import DEFAULT_RULES

        return (rules or DEFAULT_RULES) if self.user.sees_persons else DEFAULT_RULES

    def person_signals(self, rules=None) -> pd.DataFrame:
        """The signal table (:func:`graphs.signals.signal_table`: measures, scores, signal, reasons and needs)
        of the persons this user may see one by one; refused to roles without person access.

        Computed from all data, so measures that look beyond the user's scope (where an alter lives, who
        else names the person) are the same for every user who may see the person.
        """
        self._require(self.user.sees_persons, "gegevens over personen")
        signals = self._signals_with(self.effective_rules(rules))
        return signals.loc[signals.index.astype(str).isin(self._own_ids())]

    # Every figure from person data leaves through here. For anyone but the administrator it is computed
    # from the one protected table of data/disclosure.py (the rule and why it holds are written there),
    # except a wijkteam's own persons, whom it sees one by one anyway.
    def signal_groups(self, rules=None) -> pd.DataFrame:
        """Persons with a poor-network signal per buurt and needs: buurt_code, widowed, needs, count.

        ``needs`` is the needs pattern of :func:`graphs.signals.need_categories` (e.g. 'verweduwd+sociaal',
        see :func:`data.reach.needs_pattern`); ``widowed`` is whether it holds 'verweduwd'. An aggregate for
        the need, gap and scenario analyses (they work per buurt); no person ids. Outside the user's own
        persons the counts are the protected cells of :mod:`data.disclosure` (1-4 become 0, larger ones carry
        the fixed cell-key noise) under the default rules; ``rules`` apply to the administrator and to a
        wijkteam's own persons only.
        """
        from data.reach import needs_pattern

        base = self._aggregate_base(rules)
        flagged = base["own_signals"].loc[base["own_signals"]["signal"]]
        own = pd.DataFrame({"buurt_code": flagged["buurt_code"].to_numpy(dtype=object),
                            "widowed": flagged.index.isin(base["widowed_ids"]),
                            "needs": needs_pattern(base["own_needs"].loc[flagged.index])})
        own = own.value_counts().rename("count").reset_index() if len(own) else base["cells"].iloc[:0]
        groups = pd.concat([own, base["cells"]], ignore_index=True)
        groups = groups.loc[groups["buurt_code"].notna() & (groups["count"] > 0)]
        groups = pd.DataFrame({"buurt_code": groups["buurt_code"].astype(object),
                               "widowed": groups["widowed"].astype(bool), "needs": groups["needs"].astype(object),
                               "count": groups["count"].astype(int)})
        return groups.sort_values(["buurt_code", "widowed", "needs"], ignore_index=True)

    def signal_share(self, rules=None) -> pd.DataFrame:
        """Per buurt: persons with data, signalled and share, small cells hidden (see graphs.aggregates).

        A wijkteam's own buurten are counted exactly with its ``rules``; all other buurten (every buurt for
        roles without person access) come from the protected cells with the default rules, and buurten
        whose protected count of persons is 0 (fewer than 5) are left out, as buurten without data are.
        """
        from graphs.aggregates import share_from_counts, signal_share_by_buurt

        base = self._aggregate_base(rules)
        parts = [signal_share_by_buurt(base["own_signals"])] if len(base["own_signals"]) else []
        measured = base["measured"].loc[lambda m: m > 0]
        if len(measured):
            signalled = (base["cells"].groupby("buurt_code")["count"].sum()
                         .reindex(measured.index, fill_value=0).astype(int))
            # Separate cells with their own noise need not add up: where the complement (persons without a
            # signal) is under 5 by these counts, or below 0, the signalled count is hidden and the share
            # shown as a band ('80% of meer', from the published count of persons only).
            # A protected 0 is 0 to 4 persons: hidden as small, never shown as "0%".
            parts.append(share_from_counts(measured, signalled, hide=signalled == 0,
                                           band=(measured - signalled) < MIN_CELL))
        if not parts:
            return signal_share_by_buurt(pd.DataFrame({"buurt_code": pd.Series(dtype=object),
                                                       "signal": pd.Series(dtype=bool)}))
        out = pd.concat(parts).sort_index()
        out["status"] = out["status"].astype(object).where(out["status"].notna(), None)  # one dtype, any parts
        return out

    def participation_counts(self) -> pd.Series:
        """Participants (role 'deelnemer': volunteers take no place) per provision_id, for free places: exact
        for the administrator and for a wijkteam's own persons, protected cells (:mod:`data.disclosure`) for
        all other participants."""
        return self._aggregate_memo("taken", self._taken)

    def match_totals(self, provisions, buurten, rules=None) -> dict:
        """Matching of signalled persons to provisions as totals: matched, unmatched and per provision.

        For everyone but the administrator the persons outside the user's own wijken enter the matching
        only as the protected cells of :mod:`data.disclosure` (a cell of 1-4 persons as 0), so every number
        returned is computed from the protected table, whatever ``provisions`` (a scenario's) are asked
        about; and hypothetical provisions need :data:`~data.disclosure.MIN_CAPACITY` places and
        :data:`~data.disclosure.MIN_REACH_M` metres of reach (else DataValidationError, in Dutch).
        """
        from graphs.matching import match_signalled

        protected = not self.user.is_admin
        if protected:
            check_hypothetical(provisions)
        catalogue = self._aggregate_memo("catalogue", self._store.read_provision_types)
        suitability = self._aggregate_memo("suitability", self._store.read_suitability)
        if not protected:
            base = self._aggregate_base(rules)
            own = base["own_signals"]
            tables = self._aggregate_tables()
            result = match_signalled(own, tables["persons"], provisions, buurten, tables["participation"],
                                     catalogue=catalogue, suitability=suitability, needs=base["own_needs"])
            signalled = int(own["signal"].sum())
        else:
            signals, persons, participation, needs = self._matching_input(rules)
            result = match_signalled(signals, persons, provisions, buurten, participation, catalogue=catalogue,
                                     taken=self.participation_counts(), suitability=suitability, needs=needs)
            signalled = len(signals)
        return {"signalled": signalled, "matched": result.n_matched, "unmatched": result.n_unmatched,
                "per_provision": result.per_provision.copy(), "protected": protected}

    def _matching_input(self, rules):
        """Signals, persons, participation and needs for matching with protected figures: the user's own
        signalled persons as they are, and the protected cells (buurt, needs pattern) as interchangeable
        stand-ins (a cell of n: n rows with the cell's needs)."""
        from data.provision_types import NEEDS
        from data.reach import needs_from_pattern

        base = self._aggregate_base(rules)

        def make():
            own = base["own_signals"]
            own_ids = own.index[own["signal"]].astype(str)
            tables = self._aggregate_tables()
            persons, participation = tables["persons"], tables["participation"]
            real = persons.loc[persons["person_id"].astype(str).isin(own_ids),
                               ["person_id", "buurt_code", "widowed_since"]]
            cells = base["cells"].loc[lambda c: c["count"] > 0]
            n = cells["count"].to_numpy(dtype=np.int64)
            stand_in = pd.Index("~cel-" + np.arange(n.sum()).astype(str), dtype=object)
            standing = pd.DataFrame({"person_id": stand_in,
                                     "buurt_code": np.repeat(cells["buurt_code"].to_numpy(dtype=object), n),
                                     "widowed_since": np.where(np.repeat(cells["widowed"].to_numpy(bool), n),
                                                               "weduwe of weduwnaar", None)})
            everyone = pd.Index(own_ids.to_numpy(dtype=object)).append(stand_in)
            own_needs = base["own_needs"].set_axis(base["own_needs"].index.astype(str)).reindex(
                own_ids, columns=list(NEEDS), fill_value=False)
            cell_needs = pd.DataFrame(np.repeat(needs_from_pattern(cells["needs"]), n, axis=0), index=stand_in,
                                      columns=list(NEEDS))
            needs = pd.concat([own_needs.set_axis(pd.Index(own_ids.to_numpy(dtype=object))), cell_needs])
            return (pd.DataFrame({"signal": True}, index=everyone), pd.concat([real, standing], ignore_index=True),
                    participation.loc[participation["person_id"].astype(str).isin(own_ids)], needs)
        key = (rules or None) if self.user.sees_persons else None
        return self._aggregate_memo(("matching", key), make)

    def match_change(self, now: dict, then: dict) -> dict:
        """The scenario's matching as it may be shown, next to the current one (both of :meth:`match_totals`).

        With protected figures a scenario that changes the number matched by 1 to 4 persons is reported
        as a change of 'minder dan 5': then ``small_change`` is True and matched/unmatched are the current
        ones. Returns matched, unmatched and small_change.
        """
        small = bool(then.get("protected")) and small_change(now["matched"], then["matched"])
        shown = now if small else then
        return {"matched": shown["matched"], "unmatched": shown["unmatched"], "small_change": small}

    def _aggregate_memo(self, key, make):
        """``make()`` once per key and version of the store file (a scenario is asked about many times)."""
        memo = self.__dict__.setdefault("_aggregates", {})
        full = (key, self._store.data_version())
        if full not in memo:
            memo[full] = make()
        return memo[full]

    def share_person_tables(self, tables: dict, version) -> None:
        """Use ``tables`` (what :meth:`person_tables` returns, computed by another ScopedStore of the same store)
        for data version ``version``: they are read from the whole store and do not depend on the scope, so one
        copy serves every role. Any other version is computed here as usual."""
        self.__dict__.setdefault("_aggregates", {})[("tables", version)] = tables

    def person_tables(self) -> dict:
        """The person tables of the whole store with ``measures`` (person_measures), once per data version."""
        return self._aggregate_tables()

    def forget_rules(self, keep: int) -> None:
        """Drop the memo of all but the ``keep`` most recent rule sets (signal tables and what came from them)."""
        memo = self.__dict__.get("_aggregates", {})
        ruled = [key for key in memo if isinstance(key[0], tuple)]  # (("signals", rules), version) and such
        for key in ruled[:max(0, len(ruled) - keep)]:
            memo.pop(key, None)

    def _aggregate_tables(self) -> dict:
        from graphs.measures import person_measures

        def make():
            tables = {n: self._store.read_table(n) for n in PERSON_TABLES}
            tables["measures"] = person_measures(tables["persons"], tables["ties"], tables["participation"],
                                                 tables["alter_links"])
            return tables
        return self._aggregate_memo("tables", make)

    def _signals_with(self, rules):
        from graphs.signals import signal_table

        def make():
            tables = self._aggregate_tables()
            return signal_table(tables["persons"], tables["ties"], tables["participation"], tables["alter_links"],
                                rules=rules, measures=tables["measures"])
        return self._aggregate_memo(("signals", rules), make)

    def _own_ids(self) -> set:
        persons = self._aggregate_tables()["persons"]
        return set(persons.loc[self.user.in_scope(persons["buurt_code"]).to_numpy(), "person_id"].astype(str))

    def _secret(self) -> bytes:
        return self._aggregate_memo("secret", lambda: store_secret(self._store))

    def _taken(self) -> pd.Series:
        from data.reach import PARTICIPANT_ROLE

        participation = self._aggregate_tables()["participation"]
        if "role" in participation:  # volunteers take no place
            taking = participation["role"].astype("string").fillna(PARTICIPANT_ROLE) == PARTICIPANT_ROLE
            participation = participation.loc[taking.to_numpy(dtype=bool)]
        ids = participation["person_id"].astype(str)
        mine = ids.isin(self._own_ids()).to_numpy()
        taken = participation.loc[mine].groupby("provision_id").size()
        if not mine.all():
            others = protected_counts(record_keys(ids[~mine], self._secret()),
                                      [participation.loc[~mine, "provision_id"].to_numpy(dtype=object)])
            taken = taken.add(others, fill_value=0)
        taken = taken.astype(int)
        return taken.loc[taken > 0].rename_axis("provision_id")

    def _aggregate_base(self, rules) -> dict:
        """The user's own persons with their rules, and everyone else as protected cells (default rules).

        Returns own_signals (signals of the persons the user sees one by one: all for the administrator,
        none for roles without person access), own_needs (their needs, :func:`graphs.signals.need_categories`
        with the same rules), widowed_ids, cells (buurt_code, needs, widowed, count: protected signalled
        persons outside the own persons per buurt and needs pattern, the default rules) and measured
        (protected persons with data per buurt).
        """
        from data.reach import NEED_CODES, needs_from_pattern, needs_pattern
        from graphs.signals import DEFAULT_RULES, needs_of

        # Roles that see only totals always get the fixed rules: varied rules are a differencing tool.
        rules = self.effective_rules(rules)

        def make():
            persons = self._aggregate_tables()["persons"]
            own_ids = self._own_ids()
            widowed_ids = set(persons.loc[persons["widowed_since"].notna(), "person_id"].astype(str))
            signals = self._signals_with(rules)
            own_signals = signals.loc[signals.index.astype(str).isin(own_ids)]
            own_needs = needs_of(own_signals)
            cells = pd.DataFrame({"buurt_code": pd.Series(dtype=object), "needs": pd.Series(dtype=object),
                                  "widowed": pd.Series(dtype=bool), "count": pd.Series(dtype=int)})
            measured = pd.Series(dtype=int)
            defaults = self._signals_with(DEFAULT_RULES)
            others = defaults.loc[~defaults.index.astype(str).isin(own_ids)]
            if len(others):
                keys = record_keys(others.index, self._secret())
                flagged = others["signal"].to_numpy(bool)
                buurt = others["buurt_code"].to_numpy(dtype=object)
                # One cell per buurt and needs pattern: the matching needs the needs of the stand-ins.
                pattern = needs_pattern(needs_of(others))
                cells = (protected_counts(keys[flagged], [buurt[flagged], pattern[flagged]])
                         .rename_axis(["buurt_code", "needs"]).rename("count").reset_index())
                cells["widowed"] = needs_from_pattern(cells["needs"])[:, NEED_CODES.index("verweduwd")]
                measured = protected_counts(keys, [buurt]).rename_axis("buurt_code")
                measured = measured.loc[measured.index.notna()]
            return {"own_signals": own_signals, "own_needs": own_needs, "widowed_ids": widowed_ids, "cells": cells,
                    "measured": measured}
        return self._aggregate_memo(("base", rules), make)

    # ------------------------------------------------------------------ writes, each checked and logged
    def log(self, action: str, target: str = "", details: dict | None = None) -> None:
        self._store.log(self.user.username, action, target, details)

    def merge_area_data(self, *args, **kwargs):
        self._require(self.user.is_admin, "gebieden importeren")
        return self._store.merge_area_data(*args, user=self.user.username, **kwargs)

    def merge_area_values(self, *args, **kwargs):
        self._require(self.user.is_admin, "kerncijfers importeren")
        return self._store.merge_area_values(*args, user=self.user.username, **kwargs)

    def import_postcodes(self, frame, *, source: str, sha256: str | None = None) -> dict:
        """Replace the table postcode -> buurt (:meth:`SqlStore.import_postcodes`); administrator only.

        Reading it is open to every role (``read_table("postcodes")``): it holds no person data.
        """
        self._require(self.user.is_admin, "postcodes importeren")
        return self._store.import_postcodes(frame, user=self.user.username, source=source, sha256=sha256)

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

    def save_suitability(self, table: dict) -> None:
        """Replace the table 'wat past bij wie' (type -> needs); administrator only, logged under the user."""
        self._require(self.user.is_admin, "de tabel 'wat past bij wie' wijzigen")
        self._store.save_suitability(table, user=self.user.username)

    def import_provisions(self, provisions, *, source: str = "", sha256: str | None = None,
                          as_batch: bool = True, refuse_same_file: bool = True) -> dict:
        self._require(self.user.edits_provisions, "voorzieningen wijzigen")
        return self._store.import_provisions(provisions, user=self.user.username, source=source, sha256=sha256,
                                             as_batch=as_batch, refuse_same_file=refuse_same_file)

    def preview_provisions(self, provisions):
        """What an import would do (nothing is written); for the roles that may import provisions."""
        self._require(self.user.edits_provisions, "voorzieningen wijzigen")
        return self._store.preview_provisions(provisions)

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

    # ------------------------------------------------------------------ the wijkagenda (issue 17)
    def _agenda_wijk_allowed(self, wijk_code) -> bool:
        """Whether this user may add items in this wijk: gebiedsverbinder of their wijken (all when the account
        names none), opbouwwerker anywhere, wijkteam in its own wijken, administrator everywhere."""
        role = self.user.role
        if role == "beheerder" or role == "opbouwwerker":
            return True
        if role in ("gebiedsverbinder", "wijkteam"):
            return not self.user.wijken or str(wijk_code) in self.user.wijken
        return False

    def save_agenda_item(self, item: dict, links=None, *, expected_version: int | None = None,
                         note: str | None = None) -> dict:
        """Create or change an agenda item within the role rules of the wijkagenda.

        The gebiedsverbinder keeps the agenda of their wijken (every item there); opbouwwerk and wijkteam add
        items (a wijkteam in its own wijken) and update the items they created; the gemeente reads only; the
        administrator may do everything. Edits use optimistic locking (ConflictError) and are audited.
        """
        self._require(self.user.role != "gemeente", "de wijkagenda wijzigen")
        refused = AccessDenied("U kunt alleen agendapunten van uw eigen wijken vastleggen, en als opbouwwerker of "
                               "wijkteam alleen de punten die u zelf hebt gemaakt wijzigen.")
        if expected_version is not None:
            stored = self._store.read_table("agenda_items")
            row = stored.loc[stored["item_id"].astype(str) == str(item.get("item_id"))]
            if row.empty:
                raise StoreError(f"Agendapunt {item.get('item_id')} bestaat niet (meer).")
            row = row.iloc[0]
            own = str(row["created_by"]) == self.user.username
            keeper = self.user.role == "gebiedsverbinder" and self._agenda_wijk_allowed(row["wijk_code"])
            if not (self.user.is_admin or keeper or own):
                raise refused
            if str(item.get("wijk_code", row["wijk_code"])) != str(row["wijk_code"]) and not \
                    self._agenda_wijk_allowed(item.get("wijk_code")):
                raise refused
        elif not self._agenda_wijk_allowed(item.get("wijk_code")):
            raise refused
        return self._store.save_agenda_item(item, links, user=self.user.username, role=self.user.role,
                                            expected_version=expected_version, note=note)

    def import_agenda_items(self, items, links=None, *, source: str = "") -> dict:
        """Agenda items from a file (all new), for the roles that may add items in every wijk of the file."""
        self._require(self.user.role != "gemeente", "de wijkagenda wijzigen")
        wijken = pd.unique(items["wijk_code"].astype(str)) if len(items) else []
        if not all(self._agenda_wijk_allowed(w) for w in wijken):
            raise AccessDenied("Dit bestand bevat agendapunten van wijken die niet de uwe zijn; er is niets "
                               "geïmporteerd.")
        return self._store.import_agenda_items(items, links, user=self.user.username, role=self.user.role,
                                               source=source)

    def save_initiative(self, record: dict, *, expected_version: int | None = None) -> dict:
        self._require(self.user.role != "gemeente", "bewonersinitiatieven vastleggen")
        return self._store.save_initiative(record, user=self.user.username, expected_version=expected_version)

    def save_key_figure(self, record: dict, *, expected_version: int | None = None) -> dict:
        self._require(self.user.role != "gemeente", "sleutelfiguren vastleggen")
        return self._store.save_key_figure(record, user=self.user.username, expected_version=expected_version)

    # ------------------------------------------------------------------ follow-up of participants
    def _require_own_persons(self, person_ids, what: str) -> None:
        """Person roles only; a wijkteam only for persons living in its own wijken."""
        self._require(self.user.sees_persons, what)
        if self.user.is_admin:
            return
        persons = self._store.read_table("persons")
        own = set(persons.loc[self.user.in_scope(persons["buurt_code"]).to_numpy(), "person_id"].astype(str))
        if not set(map(str, person_ids)) <= own:
            raise AccessDenied(f"U kunt alleen {what} van personen die in uw eigen wijken wonen.")

    def merge_measurements(self, measurements, followup_ties=None, *, source: str = "", sha256: str | None = None,
                           kind: str = "metingen", expected_versions: dict | None = None) -> dict:
        """Add or replace follow-up measurements (SqlStore.merge_measurements) of the user's own persons."""
        self._require_own_persons(measurements["person_id"], "metingen vastleggen")
        if followup_ties is not None and len(followup_ties):
            self._require_own_persons(followup_ties["person_id"], "metingen vastleggen")
            masked = followup_ties["alter_key"].astype("string").str.startswith("buiten-wijk-").fillna(False)
            # A masked tie (to someone outside the user's wijken) comes back from a pre-filled form as its mask:
            # drop the mask; the stored tie is kept below.
            followup_ties = followup_ties.loc[~masked.to_numpy()].copy()
        if not self.user.is_admin:
            # The store replaces a moment with its whole network: the ties of these moments to persons outside
            # the user's wijken, which the user only saw masked, stay exactly as stored.
            persons = self._store.read_table("persons")
            own = set(persons.loc[self.user.in_scope(persons["buurt_code"]).to_numpy(), "person_id"].astype(str))
            stored = self._store.read_table("followup_ties")
            keys = set(zip(measurements["person_id"].astype(str), measurements["provision_id"].astype(str),
                           measurements["moment"].astype(str), strict=True))
            at = pd.Series(list(zip(stored["person_id"].astype(str), stored["provision_id"].astype(str),
                                    stored["moment"].astype(str), strict=True)), index=stored.index, dtype=object)
            outside = (at.isin(keys) & stored["alter_id"].notna()
                       & ~stored["alter_id"].astype(str).isin(own)).to_numpy(dtype=bool)
            if outside.any():
                kept = stored.loc[outside]
                followup_ties = kept if followup_ties is None or not len(followup_ties) else pd.concat(
                    [followup_ties, kept], ignore_index=True)
        return self._store.merge_measurements(measurements, followup_ties, user=self.user.username, source=source,
                                              sha256=sha256, kind=kind, expected_versions=expected_versions)

    def save_aftercare_plan(self, plan: dict, *, expected_version: int | None = None) -> dict:
        self._require_own_persons([plan.get("person_id")], "nazorg plannen")
        return self._store.save_aftercare_plan(plan, user=self.user.username, expected_version=expected_version)

    def register_aftercare_contact(self, plan_id: str, sequence: int, *, done_on, by_role: str, outcome: str,
                                   expected_version: int, planned_on=None) -> int:
        plans = self._store.read_table("aftercare_plans")
        person = plans.loc[plans["plan_id"].astype(str) == str(plan_id), "person_id"]
        self._require_own_persons(person.astype(str).tolist() or ["?"], "nazorgcontacten registreren")
        return self._store.register_aftercare_contact(plan_id, sequence, done_on=done_on, by_role=by_role,
                                                      outcome=outcome, expected_version=expected_version,
                                                      user=self.user.username, planned_on=planned_on)

    def set_followup_schedule(self, code: str, **weeks) -> None:
        """Follow-up moments per provision type: the administrator and the provision editors."""
        self._require(self.user.edits_provisions, "de meetmomenten per soort")
        self._store.set_followup_schedule(code, user=self.user.username, **weeks)

    def outcome_long(self):
        """All follow-up measurements in the long format of graphs.outcomes (with the provision type)."""
        from graphs.outcomes import measurements_long

        def make():
            provisions = self._store.read_table("provisions")
            return measurements_long(self._store.read_table("measurements"), self._store.read_table("followup_ties"),
                                     provisions)
        return self._aggregate_memo("outcome_long", make)

    def outcome_summary(self, *, before: str = "T0", after: str = "T1", by: str = "provision_id"):
        """Change per provision (or type) and measure (graphs.outcomes.change_summary) from all follow-up data.

        Means, intervals and effect sizes are shown only for cells of at least 5 persons (else empty, with the
        reason). For everyone but the administrator the counts of persons are the protected cells of
        :mod:`data.disclosure` (1-4 as 0, larger ones with the fixed cell-key noise), the response rate is
        computed from those, and the shares improved/unchanged/worse are left out where one of them holds 1 to
        4 persons: the same protection as every other figure from person data.
        """
        from graphs.outcomes import change_summary, protect_summary

        long = self.outcome_long()
        summary = change_summary(long, before=before, after=after, by=by)
        if self.user.is_admin or summary.empty:
            return summary
        return protect_summary(summary, long, before=before, after=after, by=by, secret=self._secret())

    def outcome_sd_before(self, before: str = "T0") -> pd.Series:
        """The standard deviation per measure of every score at ``before`` (all persons): the SD_0 of the reliable
        change, so a person's label is the same for every user who may see the person. An aggregate, every role."""
        long = self.outcome_long()
        at = long.loc[long["moment"] == before]
        return at.groupby("measure")["score"].std(ddof=1)

    def outcome_periods(self) -> pd.DataFrame:
        """Per provision with measurements: its type, the moments measured and the first and last measurement date.

        No persons and no counts: every role may read it (it tells which reports and moment pairs exist).
        """
        long = self.outcome_long()
        columns = ["provision_id", "type", "moments", "first", "last"]
        if long.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        moments = (long[["provision_id", "moment"]].drop_duplicates().sort_values(["provision_id", "moment"])
                   .groupby("provision_id")["moment"].agg(tuple))
        grouped = long.groupby("provision_id")
        out = pd.DataFrame({"type": grouped["type"].first() if "type" in long else None, "moments": moments,
                            "first": grouped["measured_on"].min(), "last": grouped["measured_on"].max()})
        return out.rename_axis("provision_id").reset_index()[columns]

    def group_contact_summary(self, *, moment: str = "T2"):
        """Share of participants per provision who still name another participant of their group at ``moment``;
        cells of fewer than 5 participants empty; counts protected for everyone but the administrator."""
        from graphs.outcomes import still_in_contact_by_provision

        long = self.outcome_long()
        ties = self._store.read_table("followup_ties")
        measured = long.loc[(long["moment"] == moment) & (long["group"] == "deelnemer")
                            & (long["measure"] == "network_size") & long["score"].notna(),
                            ["person_id", "provision_id"]].drop_duplicates()
        at = ties.loc[(ties["moment"] == moment) & ties["from_group"].fillna(False).astype(bool)]
        table = still_in_contact_by_provision(at.rename(columns={"person_id": "ego_id"}), measured)
        if not self.user.is_admin and len(table):
            keys = record_keys(measured["person_id"].astype(str), self._secret())
            published = protected_counts(keys, [measured["provision_id"].astype(str).to_numpy(dtype=object)])
            table["n_participants"] = pd.array(published.reindex(table["provision_id"].astype(str)).fillna(0)
                                               .to_numpy(dtype=int), dtype="Int64")
        return table

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
        auth.create_user(self._store, username, role, wijken, password, by=self.user.username)

    def update_user(self, username: str, **changes) -> None:
        self._require(self.user.is_admin, "gebruikers beheren")
        auth.update_user(self._store, username, by=self.user.username, **changes)

    def has_own_totp(self) -> bool:
        """Whether the signed-in local user has the second sign-in step on."""
        return self.user.via == "lokaal" and auth.has_totp(self._store, self.user.username)

    def set_own_totp(self, secret: str, code: str) -> None:
        """Turn on the second sign-in step for the signed-in local user (any role)."""
        self._require(self.user.via == "lokaal", "tweestapsverificatie (alleen bij een lokaal account)")
        auth.set_totp(self._store, self.user.username, secret, code, by=self.user.username)

    def clear_own_totp(self, code: str) -> None:
        """Turn off one's own second step with a current code; an administrator's stays on."""
        self._require(self.user.via == "lokaal" and not self.user.is_admin,
                      "het uitzetten van de eigen tweestapsverificatie; vraag het een andere beheerder")
        auth.clear_totp(self._store, self.user.username, by=self.user.username, code=code)

    def clear_totp(self, username: str) -> None:
        """An administrator turns off another user's second step (e.g. after a lost phone)."""
        self._require(self.user.is_admin and username != self.user.username,
                      "het uitzetten van de tweestapsverificatie van een ander")
        auth.clear_totp(self._store, username, by=self.user.username)

    def _require(self, allowed: bool, what: str) -> None:
        if not allowed:
            from data.auth import ROLES

            raise AccessDenied(f"Uw rol ({ROLES.get(self.user.role, self.user.role)}) geeft geen toegang tot {what}.")
