"""Accounts, sign-in, lock-out and the one gate (data/access.py) for person data, per role."""

import hashlib
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from data.access import AccessDenied, ScopedStore
from data.auth import DEMO_ADMIN, MAX_FAILED, SignInError, User, user_from_claims
from data.errors import DataValidationError

PASSWORD = "correct horse battery"
KANAALZONE = "WK999901"


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def accounts(demo_store):
    demo_store.create_user("beheer", "beheerder", (), PASSWORD, by="test")
    demo_store.create_user("wijk1", "wijkteam", [KANAALZONE], PASSWORD, by="beheer")
    demo_store.create_user("beleid", "gemeente", (), PASSWORD, by="beheer")
    demo_store.create_user("opbouw", "opbouwwerker", (), PASSWORD, by="beheer")
    return demo_store


def test_passwords_are_slow_salted_hashes(accounts):
    with accounts._connection() as conn:
        hashes = [r[0] for r in conn.execute("SELECT password_hash FROM users")]
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    assert len(set(hashes)) == len(hashes)  # same password, different salt
    assert "password_hash" not in accounts.read_users().columns


def test_sign_in_and_lock_out(accounts):
    user = accounts.authenticate("Wijk1 ", PASSWORD)
    assert user == User("wijk1", "wijkteam", (KANAALZONE,))
    unknown = pytest.raises(SignInError, accounts.authenticate, "niemand", PASSWORD)
    wrong = pytest.raises(SignInError, accounts.authenticate, "wijk1", "fout wachtwoord")
    assert str(unknown.value) == str(wrong.value) == "Gebruikersnaam of wachtwoord klopt niet."  # no user probing
    for _ in range(MAX_FAILED - 2):
        with pytest.raises(SignInError):
            accounts.authenticate("wijk1", "fout wachtwoord")
    with pytest.raises(SignInError, match="nu 15 minuten geblokkeerd"):
        accounts.authenticate("wijk1", "fout wachtwoord")
    with pytest.raises(SignInError, match="tijdelijk geblokkeerd"):
        accounts.authenticate("wijk1", PASSWORD)  # even the right password while locked
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert accounts.authenticate("wijk1", PASSWORD, now=later).role == "wijkteam"
    log = accounts.read_audit()
    assert (log["action"] == "aanmelden-mislukt").sum() == MAX_FAILED + 2
    assert (log["action"] == "aanmelden").sum() == 2
    assert not log["details"].str.contains(PASSWORD).any()


def test_account_rules(demo_store):
    with pytest.raises(DataValidationError, match="eerste gebruiker is de beheerder"):
        demo_store.create_user("beleid", "gemeente", (), PASSWORD, by="test")
    demo_store.create_user("beheer", "beheerder", (), PASSWORD, by="test")
    with pytest.raises(DataValidationError, match="bestaat al"):
        demo_store.create_user("BEHEER", "beheerder", (), PASSWORD, by="test")
    with pytest.raises(DataValidationError, match="minstens 10 tekens"):
        demo_store.create_user("kort", "gemeente", (), "kort", by="test")
    with pytest.raises(DataValidationError, match="minstens één wijk"):
        demo_store.create_user("wijk2", "wijkteam", (), PASSWORD, by="test")
    with pytest.raises(DataValidationError, match="Onbekende wijkcode"):
        demo_store.create_user("wijk2", "wijkteam", ["WK123456"], PASSWORD, by="test")
    with pytest.raises(DataValidationError, match="altijd een actieve beheerder"):
        demo_store.update_user("beheer", role="gemeente", by="test")
    demo_store.update_user("beheer", password="een ander wachtwoord", by="test")
    assert demo_store.authenticate("beheer", "een ander wachtwoord").is_admin


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
    assert list(groups.columns) == ["buurt_code", "widowed", "count"]
    signals = poor_network_signals(accounts.read_table("persons"), accounts.read_table("ties"))
    assert groups["count"].sum() == signals["signal"].sum()
    totals = policy.match_totals(accounts.read_table("provisions"), accounts.read_areas("buurt"))
    assert totals["matched"] + totals["unmatched"] == totals["signalled"]
    shown = totals["per_provision"]["matched"].dropna()
    assert not ((shown > 0) & (shown < 5)).any()
    admin_totals = ScopedStore(accounts, DEMO_ADMIN).match_totals(accounts.read_table("provisions"),
                                                                 accounts.read_areas("buurt"))
    assert admin_totals["per_provision"]["matched"].notna().all()
