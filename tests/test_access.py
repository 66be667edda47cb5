"""Accounts, sign-in, lock-out and the one gate (data/access.py) for person data, per role."""

import hashlib
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from data import auth
from data.access import AccessDenied, ScopedStore
from data.auth import DEMO_ADMIN, MAX_FAILED, SignInError, User, user_from_claims
from data.errors import DataValidationError

PASSWORD = "correct horse battery"
KANAALZONE = "WK999901"


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def accounts(town_store):
    auth.create_user(town_store, "beheer", "beheerder", (), PASSWORD, by="test")
    auth.create_user(town_store, "wijk1", "wijkteam", [KANAALZONE], PASSWORD, by="beheer")
    auth.create_user(town_store, "beleid", "gemeente", (), PASSWORD, by="beheer")
    auth.create_user(town_store, "opbouw", "opbouwwerker", (), PASSWORD, by="beheer")
    return town_store


def test_passwords_are_slow_salted_hashes(accounts):
    with accounts._connection() as conn:
        hashes = [r[0] for r in conn.execute("SELECT password_hash FROM users")]
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    assert len(set(hashes)) == len(hashes)  # same password, different salt
    assert "password_hash" not in auth.read_users(accounts).columns


def test_sign_in_and_lock_out(accounts):
    user = auth.authenticate(accounts, "Wijk1 ", PASSWORD)
    assert user == User("wijk1", "wijkteam", (KANAALZONE,))
    unknown = pytest.raises(SignInError, auth.authenticate, accounts, "niemand", PASSWORD)
    wrong = pytest.raises(SignInError, auth.authenticate, accounts, "wijk1", "fout wachtwoord")
    assert str(unknown.value) == str(wrong.value)  # no user probing: one message for every refusal
    assert str(wrong.value).startswith("Gebruikersnaam of wachtwoord klopt niet")
    for _ in range(MAX_FAILED - 1):
        with pytest.raises(SignInError):
            auth.authenticate(accounts, "wijk1", "fout wachtwoord")
    with pytest.raises(SignInError) as locked:
        auth.authenticate(accounts, "wijk1", PASSWORD)  # even the right password while locked
    assert str(locked.value) == str(wrong.value)
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert auth.authenticate(accounts, "wijk1", PASSWORD, now=later).role == "wijkteam"
    log = accounts.read_audit()
    failed = log.loc[log["action"] == "aanmelden-mislukt"]
    assert len(failed) == MAX_FAILED + 2 and failed["details"].str.contains('"geblokkeerd": true').sum() == 1
    assert (log["action"] == "aanmelden").sum() == 2
    assert not log["details"].str.contains(PASSWORD).any()


def test_account_rules(town_store):
    with pytest.raises(DataValidationError, match="eerste gebruiker is de beheerder"):
        auth.create_user(town_store, "beleid", "gemeente", (), PASSWORD, by="test")
    auth.create_user(town_store, "beheer", "beheerder", (), PASSWORD, by="test")
    with pytest.raises(DataValidationError, match="bestaat al"):
        auth.create_user(town_store, "BEHEER", "beheerder", (), PASSWORD, by="test")
    with pytest.raises(DataValidationError, match="minstens 12 tekens"):
        auth.create_user(town_store, "kort", "gemeente", (), "kort", by="test")
    with pytest.raises(DataValidationError, match="minstens één wijk"):
        auth.create_user(town_store, "wijk2", "wijkteam", (), PASSWORD, by="test")
    with pytest.raises(DataValidationError, match="Onbekende wijkcode"):
        auth.create_user(town_store, "wijk2", "wijkteam", ["WK123456"], PASSWORD, by="test")
    with pytest.raises(DataValidationError, match="altijd een actieve beheerder"):
        auth.update_user(town_store, "beheer", role="gemeente", by="test")
    auth.update_user(town_store, "beheer", password="een ander wachtwoord", by="test")
    assert auth.authenticate(town_store, "beheer", "een ander wachtwoord").is_admin


def test_oidc_claims_map_to_roles():
    mapping = {"a.jansen@gemeente.nl": {"rol": "wijkteam", "wijken": [KANAALZONE]},
               "groep:Beleid": {"rol": "gemeente"}, "groep:ICT": {"rol": "beheerder"}}
    user = user_from_claims({"email": "A.Jansen@gemeente.nl"}, mapping)
    assert user == User("a.jansen@gemeente.nl", "wijkteam", (KANAALZONE,), via="oidc")
    both = user_from_claims({"email": "x@gemeente.nl", "groups": ["ICT", "Beleid"]}, mapping)
    assert both.role == "gemeente"  # the least access of the matching groups
    assert user_from_claims({"email": "onbekend@gemeente.nl", "groups": ["Sport"]}, mapping) is None


def test_person_tables_per_role(accounts):
    persons = accounts.read_table("persons")
    in_wijk = set(persons.loc[persons["buurt_code"].str[2:8] == KANAALZONE[2:], "person_id"])
    admin = ScopedStore(accounts, User("beheer", "beheerder"))
    team = ScopedStore(accounts, User("wijk1", "wijkteam", (KANAALZONE,)))
    assert len(admin.read_table("persons")) == len(persons)
    seen = team.read_table("persons")
    assert set(seen["person_id"]) == in_wijk and 0 < len(seen) < len(persons)
    assert set(team.read_table("ties")["ego_id"]) <= in_wijk
    assert set(team.read_table("participation")["person_id"]) <= in_wijk
    assert set(team.read_table("alter_links")["ego_id"]) <= in_wijk
    for role in ("gemeente", "opbouwwerker", "gebiedsverbinder"):
        scoped = ScopedStore(accounts, User("x", role))
        for table in ("persons", "ties", "alter_links", "participation", "users", "audit"):
            with pytest.raises(AccessDenied, match="geeft geen toegang"):
                scoped.read_table(table)
        assert len(scoped.read_table("provisions")) == 40  # not person data
    with pytest.raises(AccessDenied):
        team.read_audit()


def test_writes_per_role_leave_the_store_untouched_when_refused(accounts):
    provisions = accounts.read_table("provisions")
    before = _digest(accounts.path)
    policy = ScopedStore(accounts, User("beleid", "gemeente"))
    with pytest.raises(AccessDenied):
        policy.update_provision("V004", {"name": "x"}, expected_version=1)
    with pytest.raises(AccessDenied):
        policy.import_provisions(provisions.head(1))
    with pytest.raises(AccessDenied):
        policy.create_user("nieuw", "gemeente", (), PASSWORD)
    team = ScopedStore(accounts, User("wijk1", "wijkteam", (KANAALZONE,)))
    outsider = accounts.read_table("persons").query("buurt_code.str[2:8] != '999901'").head(1)
    with pytest.raises(AccessDenied, match="eigen wijken"):
        team.merge_network(outsider, pd.DataFrame(columns=["ego_id", "alter_id", "alter_key", "role"]))
    assert _digest(accounts.path) == before
    builder = ScopedStore(accounts, User("opbouw", "opbouwwerker"))
    version = int(provisions.set_index("provision_id").loc["V004", "version"])
    builder.update_provision("V004", {"notes": "gesproken met de coördinator"}, expected_version=version)
    log = accounts.read_audit()
    assert log.loc[log["action"] == "wijzig-voorziening", "user"].tolist() == ["opbouw"]


def test_aggregates_for_roles_without_person_access(accounts):
    from graphs.signals import poor_network_signals

    policy = ScopedStore(accounts, User("beleid", "gemeente"))
    groups = policy.signal_groups()
    assert list(groups.columns) == ["buurt_code", "widowed", "needs", "count"]  # cells per buurt and needs
    signals = poor_network_signals(accounts.read_table("persons"), accounts.read_table("ties"))
    exact = ScopedStore(accounts, DEMO_ADMIN).signal_groups()
    assert exact["count"].sum() == signals["signal"].sum()  # the administrator: exact
    # Everyone else: the protected cells of data/disclosure.py: 1-4 persons as 0 (left out), the rest within 2.
    keyed = ["buurt_code", "needs"]
    assert (exact["count"] < 5).any() and (groups["count"] >= 5).all()
    assert set(map(tuple, groups[keyed].to_numpy())) == set(map(tuple, exact.loc[exact["count"] >= 5, keyed].to_numpy()))
    deviation = groups.set_index(keyed)["count"] - exact.set_index(keyed)["count"].reindex(
        pd.MultiIndex.from_frame(groups[keyed]))
    assert deviation.abs().max() <= 2
    totals = policy.match_totals(accounts.read_table("provisions"), accounts.read_areas("buurt"))
    assert totals["protected"] and totals["signalled"] == groups["count"].sum()  # computed from the cells only
    assert totals["matched"] + totals["unmatched"] == totals["signalled"]
    per = totals["per_provision"]
    assert (per["signalled_in_reach"] >= per["matched"]).all() and (per["matched"] <= per["free_places"]).all()
    admin_totals = ScopedStore(accounts, DEMO_ADMIN).match_totals(accounts.read_table("provisions"),
                                                                 accounts.read_areas("buurt"))
    assert not admin_totals["protected"]
    assert admin_totals["matched"] + admin_totals["unmatched"] == admin_totals["signalled"] == signals["signal"].sum()
    with pytest.raises(AccessDenied):
        policy.save_scenario("x", "{}")  # read-only: runs scenarios, does not keep them


def test_fixed_rules_for_roles_that_see_only_totals_are_enforced_in_the_access_layer(accounts):
    """A page that passes other rules for the gemeente, a gebiedsverbinder or an opbouwwerker gets the fixed
    default rules: varied rules would let totals be subtracted from each other."""
    from graphs.signals import DEFAULT_RULES, SignalRules, signal_table

    other = SignalRules(lsns_below=25, min_informal=8, djg_at_least=3)
    provisions, buurten = accounts.read_table("provisions"), accounts.read_areas("buurt")
    for role in ("gemeente", "gebiedsverbinder", "opbouwwerker"):
        store = ScopedStore(accounts, User("x", role))
        assert store.effective_rules(other) == DEFAULT_RULES
        pd.testing.assert_frame_equal(store.signal_share(other), store.signal_share())
        pd.testing.assert_frame_equal(store.signal_groups(other), store.signal_groups())
        with pytest.raises(AccessDenied, match="geen toegang tot gegevens over personen"):
            store.person_signals(other)
    policy = ScopedStore(accounts, User("beleid", "gemeente"))
    assert policy.match_totals(provisions, buurten, other)["signalled"] == policy.match_totals(
        provisions, buurten)["signalled"]
    # Roles that see persons get their own rules, from the one pipeline on all data.
    admin = ScopedStore(accounts, DEMO_ADMIN)
    assert admin.effective_rules(other) == other
    assert admin.signal_groups(other)["count"].sum() > admin.signal_groups()["count"].sum()
    tables = {n: accounts.read_table(n) for n in ("persons", "ties", "participation", "alter_links")}
    everyone = signal_table(tables["persons"], tables["ties"], tables["participation"], tables["alter_links"],
                            rules=other)
    team = ScopedStore(accounts, User("wijk1", "wijkteam", (KANAALZONE,))).person_signals(other)
    assert len(team) and team["buurt_code"].str[2:8].eq(KANAALZONE[2:]).all()
    pd.testing.assert_frame_equal(team, everyone.loc[team.index])
    assert len(admin.person_signals(other)) == len(everyone)


def test_wijkteam_cannot_take_over_persons_of_other_wijken(accounts):
    team = ScopedStore(accounts, User("wijk1", "wijkteam", (KANAALZONE,)))
    persons = accounts.read_table("persons")
    outsider = persons.loc[persons["buurt_code"].str[2:8] != KANAALZONE[2:]].iloc[[0]]
    moved = outsider.assign(buurt_code=persons.loc[persons["buurt_code"].str[2:8] == KANAALZONE[2:],
                                                   "buurt_code"].iloc[0])  # "move" them into the own wijk
    ties = pd.DataFrame({"ego_id": moved["person_id"], "alter_id": [None], "alter_key": ["a1"], "role": ["buur"]})
    before = _digest(accounts.path)
    with pytest.raises(AccessDenied, match="eigen wijken"):
        team.merge_network(moved, ties)
    own = persons.loc[persons["buurt_code"].str[2:8] == KANAALZONE[2:]].iloc[[0]]
    with pytest.raises(AccessDenied):  # a tie for an ego that is not among the persons sent
        team.merge_network(own, ties)
    assert _digest(accounts.path) == before


def test_ties_to_persons_outside_the_wijk_keep_the_tie_not_the_person(accounts):
    persons = accounts.read_table("persons")
    ties = accounts.read_table("ties")
    in_wijk = set(persons.loc[persons["buurt_code"].str[2:8] == KANAALZONE[2:], "person_id"])
    inside = sorted(in_wijk & set(ties["ego_id"]))[0]
    outside = persons.loc[persons["buurt_code"].str[2:8] != KANAALZONE[2:], "person_id"].iloc[0]
    own = ties.loc[ties["ego_id"] == inside]
    extra = own.iloc[[0]].assign(alter_id=outside, alter_key=None, role="vriend")
    accounts.merge_network(persons.loc[persons["person_id"] == inside], pd.concat([own, extra]), user="test")
    seen = ScopedStore(accounts, User("wijk1", "wijkteam", (KANAALZONE,))).read_table("ties")
    mine = seen.loc[seen["ego_id"] == inside]
    assert len(mine) == len(own) + 1 and outside not in set(seen["alter_id"].dropna())
    assert mine["alter_key"].str.startswith("buiten-wijk-").sum() == 1


def test_a_wijkteam_edit_keeps_ties_to_persons_outside_its_wijk_exactly(accounts):
    """Issue 12, attack 5: adding one alter to a person with a tie into another wijk must not rewrite that tie."""
    persons = accounts.read_table("persons")
    ties = accounts.read_table("ties")
    in_wijk = set(persons.loc[persons["buurt_code"].str[2:8] == KANAALZONE[2:], "person_id"])
    inside = sorted(in_wijk & set(ties["ego_id"]))[0]
    outside = persons.loc[persons["buurt_code"].str[2:8] != KANAALZONE[2:], "person_id"].iloc[0]
    own = ties.loc[ties["ego_id"] == inside]
    accounts.merge_network(persons.loc[persons["person_id"] == inside],
                           pd.concat([own, own.iloc[[0]].assign(alter_id=outside, alter_key=None, role="vriend")]),
                           user="test")
    others_before = accounts.read_table("ties").query("ego_id != @inside").to_csv(index=False)
    stored_outside = accounts.read_table("ties").query("ego_id == @inside and alter_id == @outside")
    team = ScopedStore(accounts, User("wijk1", "wijkteam", (KANAALZONE,)))
    seen = team.read_table("ties").query("ego_id == @inside")  # as the entry form reads it: the tie is masked
    assert seen["alter_key"].str.startswith("buiten-wijk-").sum() == 1
    new = seen.iloc[[0]].assign(alter_id=None, alter_key="a99", role="buur")
    team.merge_network(team.read_table("persons").query("person_id == @inside"), pd.concat([seen, new]),
                       kind="netwerk-invoer")
    after = accounts.read_table("ties")
    kept = after.query("ego_id == @inside and alter_id == @outside")
    pd.testing.assert_frame_equal(kept.reset_index(drop=True), stored_outside.reset_index(drop=True))
    assert not after["alter_key"].astype("string").str.startswith("buiten-wijk-").fillna(False).any()
    assert len(after.query("ego_id == @inside")) == len(own) + 2
    assert after.query("ego_id != @inside").to_csv(index=False) == others_before


def test_the_suitability_table_is_read_by_everyone_and_changed_by_the_administrator(accounts):
    """Issue 13: 'wat past bij wie' is shown to every role; only the administrator changes it, logged under
    their name, and the matching follows the new table at once."""
    from data.provision_types import DEFAULT_SUITABILITY

    roles = [User("wijk1", "wijkteam", (KANAALZONE,)), User("beleid", "gemeente"), User("opbouw", "opbouwwerker")]
    for user in roles:
        assert ScopedStore(accounts, user).read_suitability() == DEFAULT_SUITABILITY
    before = _digest(accounts.path)
    for user in roles:
        with pytest.raises(AccessDenied, match="wat past bij wie"):
            ScopedStore(accounts, user).save_suitability({"buurthuis": ("sociaal",)})
    assert _digest(accounts.path) == before
    admin = ScopedStore(accounts, User("beheer", "beheerder"))
    provisions, buurten = accounts.read_table("provisions"), accounts.read_areas("buurt")
    now = admin.match_totals(provisions, buurten)
    admin.save_suitability({**DEFAULT_SUITABILITY, "maatjesproject": ()})  # no maatjes for anyone any more
    assert "maatjesproject" not in ScopedStore(accounts, roles[1]).read_suitability()
    log = accounts.read_audit()
    assert log.loc[log["action"] == "wijzig-geschiktheid", "user"].tolist() == ["beheer"]
    then = admin.match_totals(provisions, buurten)
    assert "maatjesproject" not in set(then["per_provision"]["type"])
    assert then["matched"] < now["matched"]
