"""Sign-in that holds under concurrency, the second step (TOTP), password rules and ending sessions.

Issue 12, points 3, 8 and 11: the lock-out is decided and the attempt counted before the password
is checked; a bounded number of Argon2 checks run at once; a per-client limit; a reset, block or
role change ends live sessions; an idle session ends; the Gebruikers form is cleared after adding.
"""

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from streamlit.testing.v1 import AppTest

from data import auth
from data.access import AccessDenied, ScopedStore, refresh_user
from data.auth import MAX_FAILED, RateLimiter, SignInBusy, SignInError, User
from data.errors import DataValidationError
from data.schema import SCHEMA_VERSION
from data.store import GeoPackageStore

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "correct horse battery"
KANAALZONE = "WK999901"


@pytest.fixture()
def accounts(town_store):
    auth.create_user(town_store, "beheer", "beheerder", (), PASSWORD, by="test")
    auth.create_user(town_store, "beheer2", "beheerder", (), PASSWORD, by="beheer")
    auth.create_user(town_store, "wijk1", "wijkteam", [KANAALZONE], PASSWORD, by="beheer")
    return town_store


def _row(store: GeoPackageStore, username: str) -> dict:
    with sqlite3.connect(store.path) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone())


def _attempt(store, username, password, **kwargs) -> str:
    try:
        auth.authenticate(store, username, password, **kwargs)
    except SignInError:
        return "geweigerd"
    return "ok"


# --------------------------------------------------------------------------- lock-out under concurrency

def test_twenty_parallel_attempts_check_at_most_max_failed_passwords(accounts, monkeypatch):
    real = auth.password_matches
    dummy = auth.DUMMY_HASH()
    checked, guard = [], threading.Lock()

    def counting(stored_hash, password):
        if stored_hash != dummy:  # a check against the account's own hash
            with guard:
                checked.append(password)
            # A real Argon2 check is slow next to counting an attempt; make that certain here, so the
            # outcome does not depend on thread timing: finish only once the burst has locked the account.
            deadline = time.monotonic() + 60
            while _row(accounts, "wijk1")["locked_until"] is None and time.monotonic() < deadline:
                time.sleep(0.01)
        return real(stored_hash, password)

    monkeypatch.setattr(auth, "password_matches", counting)
    passwords = [f"fout wachtwoord {i}" for i in range(20)]
    passwords[18] = PASSWORD  # the 19th is the right one
    start = threading.Barrier(20)

    def attempt(password):
        start.wait()
        return _attempt(accounts, "wijk1", password)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(attempt, passwords))
    assert len(checked) <= MAX_FAILED  # 20 attempts, at most MAX_FAILED passwords checked
    assert results == ["geweigerd"] * 20  # the right password too: the account is locked
    locked_until = _row(accounts, "wijk1")["locked_until"]
    assert locked_until is not None and datetime.fromisoformat(locked_until) > datetime.now(UTC)
    assert _attempt(accounts, "wijk1", PASSWORD) == "geweigerd"  # still locked
    log = accounts.read_audit()
    wrong = log.loc[(log["action"] == "aanmelden-mislukt") & log["details"].str.contains('"reden": "wachtwoord"')]
    assert len(wrong) <= MAX_FAILED and (log["action"] == "aanmelden").sum() == 0


def test_a_correct_password_never_lifts_an_active_lock(accounts, monkeypatch):
    for _ in range(MAX_FAILED):
        assert _attempt(accounts, "wijk1", "fout wachtwoord") == "geweigerd"
    locked_until = _row(accounts, "wijk1")["locked_until"]
    assert locked_until is not None
    assert _attempt(accounts, "wijk1", PASSWORD) == "geweigerd"
    assert _row(accounts, "wijk1")["locked_until"] == locked_until  # the lock stays as it was
    # A lock set by a parallel attempt while this correct password was being checked also wins.
    real = auth.password_matches
    until = (datetime.now(UTC) + timedelta(minutes=15)).isoformat()

    def locked_meanwhile(stored_hash, password):
        with sqlite3.connect(accounts.path) as conn:
            conn.execute("UPDATE users SET locked_until = ? WHERE username = 'beheer'", (until,))
        return real(stored_hash, password)

    monkeypatch.setattr(auth, "password_matches", locked_meanwhile)
    assert _attempt(accounts, "beheer", PASSWORD) == "geweigerd"
    assert _row(accounts, "beheer")["locked_until"] == until
    log = accounts.read_audit().query("target == 'beheer' and action == 'aanmelden-mislukt'")
    assert log["details"].str.contains('"reden": "geblokkeerd"').sum() == 1  # logged, not rolled back


def test_four_typos_then_the_right_password_still_signs_in(accounts):
    for _ in range(MAX_FAILED - 1):
        assert _attempt(accounts, "wijk1", "fout wachtwoord") == "geweigerd"
    assert _row(accounts, "wijk1")["failed_attempts"] == MAX_FAILED - 1
    assert auth.authenticate(accounts, "wijk1", PASSWORD).role == "wijkteam"
    assert _row(accounts, "wijk1")["failed_attempts"] == 0 and _row(accounts, "wijk1")["locked_until"] is None


def test_at_most_a_few_password_checks_run_at_once(monkeypatch):
    active, peak = 0, 0
    guard, release, entered = threading.Lock(), threading.Event(), threading.Semaphore(0)

    def slow(stored_hash, password):
        nonlocal active, peak
        with guard:
            active += 1
            peak = max(peak, active)
        entered.release()
        release.wait(timeout=60)
        with guard:
            active -= 1
        return False

    monkeypatch.setattr(auth, "password_matches", slow)
    monkeypatch.setattr(auth, "CHECK_WAIT_S", 60.0)
    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(auth.verify_password, "hash", "wachtwoord") for _ in range(10)]
        for _ in range(auth.MAX_PARALLEL_CHECKS):
            assert entered.acquire(timeout=60)
        assert not entered.acquire(timeout=0.2)  # the others wait for a free slot
        release.set()
        assert [f.result() for f in futures] == [False] * 10
    assert 2 <= auth.MAX_PARALLEL_CHECKS <= 4 and peak == auth.MAX_PARALLEL_CHECKS


def test_a_sign_in_is_refused_when_every_check_slot_is_taken(accounts, monkeypatch):
    monkeypatch.setattr(auth, "CHECK_WAIT_S", 0.01)
    taken = 0
    try:
        for _ in range(auth.MAX_PARALLEL_CHECKS):
            assert auth._ARGON2_SLOTS.acquire(timeout=10)
            taken += 1
        with pytest.raises(SignInBusy, match="Te veel aanmeldpogingen tegelijk; probeer het zo opnieuw."):
            auth.authenticate(accounts, "wijk1", PASSWORD)
    finally:
        for _ in range(taken):
            auth._ARGON2_SLOTS.release()
    assert _row(accounts, "wijk1")["failed_attempts"] == 0  # nothing was checked: nothing counted
    assert auth.authenticate(accounts, "wijk1", PASSWORD).username == "wijk1"


# --------------------------------------------------------------------------- per-client limit

def test_rate_limiter_per_client_key_with_a_sliding_window():
    now = [1000.0]
    limiter = RateLimiter(limit=3, window_s=60, clock=lambda: now[0], max_keys=2)
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b")  # another client has its own count
    limiter.forgive("a")  # a success gives its place back
    assert limiter.hit("a") and not limiter.hit("a")
    now[0] += 60.5  # the window has passed
    assert limiter.hit("a")
    assert limiter.hit("c") and limiter.hit("d")
    assert len(limiter._hits) <= 2  # memory stays bounded


def test_client_key_trusts_a_forwarded_address_only_from_a_proxy():
    assert auth.client_key("145.97.1.9", {"X-Forwarded-For": "198.51.100.1"}) == "145.97.1.9"
    assert auth.client_key(None, {"X-Forwarded-For": "198.51.100.1, 198.51.100.2"}) == "198.51.100.2"
    assert auth.client_key("10.0.0.2", {"x-forwarded-for": "198.51.100.3"}) == "198.51.100.3"
    assert auth.client_key(None, {}) == "127.0.0.1"


def test_too_many_failures_from_one_client_are_refused_without_a_check(accounts, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(auth, "CLIENT_LIMITER", RateLimiter(limit=2, window_s=600, clock=lambda: now[0]))
    assert auth.authenticate(accounts, "wijk1", PASSWORD, client="10.1.1.1").username == "wijk1"  # not counted
    assert _attempt(accounts, "niemand", PASSWORD, client="10.1.1.1") == "geweigerd"
    assert _attempt(accounts, "beheer", "fout wachtwoord", client="10.1.1.1") == "geweigerd"
    checks = []
    real = auth.password_matches
    monkeypatch.setattr(auth, "password_matches", lambda h, p: checks.append(p) or real(h, p))
    with pytest.raises(SignInError, match="vanaf dit adres"):
        auth.authenticate(accounts, "wijk1", PASSWORD, client="10.1.1.1")
    assert checks == []
    assert auth.authenticate(accounts, "wijk1", PASSWORD, client="10.1.1.2").username == "wijk1"
    now[0] += 601
    assert auth.authenticate(accounts, "wijk1", PASSWORD, client="10.1.1.1").username == "wijk1"


# --------------------------------------------------------------------------- second step (TOTP)

def test_totp_enrolment_then_required_at_sign_in(accounts):
    secret = auth.new_totp_secret()
    totp = pyotp.TOTP(secret)
    t0 = datetime.now(UTC)
    assert auth.totp_uri("wijk1", secret).startswith("otpauth://totp/Steunkaart:wijk1?secret=" + secret)
    wrong = "000000" if totp.at(t0) != "000000" else "111111"
    with pytest.raises(DataValidationError, match="De code klopt niet"):
        auth.set_totp(accounts, "wijk1", secret, wrong, by="wijk1", now=t0)
    assert not auth.has_totp(accounts, "wijk1")
    enrolled = t0 - timedelta(seconds=60)  # the code used to enrol is from a minute ago
    auth.set_totp(accounts, "wijk1", secret, totp.at(enrolled), by="wijk1", now=enrolled)
    assert auth.has_totp(accounts, "wijk1") and auth.read_users(accounts).set_index("username").loc["wijk1", "totp"]
    assert "totp_secret" not in auth.read_users(accounts).columns
    assert "totp_secret" not in ScopedStore(accounts, User("beheer", "beheerder")).read_table("users").columns
    assert _attempt(accounts, "wijk1", PASSWORD, now=t0) == "geweigerd"  # the password alone is not enough now
    assert _attempt(accounts, "wijk1", PASSWORD, code=wrong, now=t0) == "geweigerd"
    code = totp.at(t0)
    assert auth.authenticate(accounts, "wijk1", PASSWORD, code=code[:3] + " " + code[3:], now=t0).username == "wijk1"
    assert _attempt(accounts, "wijk1", PASSWORD, code=code, now=t0) == "geweigerd"  # a code works once
    later = t0 + timedelta(seconds=30)
    assert auth.authenticate(accounts, "wijk1", PASSWORD, code=totp.at(later), now=later).username == "wijk1"
    reasons = accounts.read_audit().query("action == 'aanmelden-mislukt'")["details"]
    assert reasons.str.contains('"reden": "code"').sum() == 3


def test_who_may_turn_the_second_step_off(accounts):
    secrets = {}
    for name in ("beheer", "wijk1"):
        secrets[name] = auth.new_totp_secret()
        at = datetime.now(UTC) - timedelta(seconds=90)
        auth.set_totp(accounts, name, secrets[name], pyotp.TOTP(secrets[name]).at(at), by=name, now=at)
    admin = ScopedStore(accounts, User("beheer", "beheerder"))
    team = ScopedStore(accounts, User("wijk1", "wijkteam", (KANAALZONE,)))
    assert admin.has_own_totp() and team.has_own_totp()
    with pytest.raises(AccessDenied, match="vraag het een andere beheerder"):
        admin.clear_own_totp(pyotp.TOTP(secrets["beheer"]).now())  # required for an administrator once set
    with pytest.raises(AccessDenied):
        team.clear_totp("beheer")
    with pytest.raises(DataValidationError, match="De code klopt niet"):
        team.clear_own_totp("12345")
    team.clear_own_totp(pyotp.TOTP(secrets["wijk1"]).now())
    assert not team.has_own_totp()
    ScopedStore(accounts, User("beheer2", "beheerder")).clear_totp("beheer")  # another administrator may
    assert not admin.has_own_totp()
    assert {"tweestaps-aan", "tweestaps-uit"} <= set(accounts.read_audit()["action"])


# --------------------------------------------------------------------------- password rules

@pytest.mark.parametrize(("password", "message"), [
    ("elf tekens!", "minstens 12 tekens"),
    ("Welkom2026!!!", "te vaak gebruikt"),
    ("wachtwoord123", "te vaak gebruikt"),
    ("W@chtw00rd2026", "te vaak gebruikt"),
    ("1234567890ab", "te vaak gebruikt"),
    ("qwertyuiop12", "te vaak gebruikt"),
    ("aaaaaaaaaaaaaa", "te vaak gebruikt"),
    ("annemarie-de-vries", "gebruikersnaam niet bevatten"),
])
def test_password_rules(town_store, password, message):
    auth.create_user(town_store, "beheer", "beheerder", (), PASSWORD, by="test")
    with pytest.raises(DataValidationError, match=message):
        auth.create_user(town_store, "annemarie", "gemeente", (), password, by="beheer")
    with pytest.raises(DataValidationError, match=message):
        auth.update_user(town_store, "beheer", password=password.replace("annemarie", "beheer"), by="test")
    assert set(auth.read_users(town_store)["username"]) == {"beheer"}


def test_passwords_that_pass_the_rules():
    for password in (PASSWORD, "een lang wachtwoord", "mijn fiets is rood 42", "Tulpen in de regen 7"):
        auth.check_password(password, "wijk1")
    assert "wachtwoord" in auth.common_passwords() and "welkom" in auth.common_passwords()
    assert len(auth.common_passwords()) >= 300


# --------------------------------------------------------------------------- schema version 6

def test_version_5_store_gets_the_new_user_columns(accounts):
    with sqlite3.connect(accounts.path) as conn:
        for column in ("totp_secret", "totp_last_step", "session_epoch"):
            conn.execute(f"ALTER TABLE users DROP COLUMN {column}")
        conn.execute("UPDATE steunkaart_meta SET value='5' WHERE key='schema_version'")
    store = GeoPackageStore.open(accounts.path)
    assert store.schema_version == SCHEMA_VERSION == 10
    assert {"totp_secret", "totp_last_step", "session_epoch"} <= set(_row(store, "wijk1"))
    assert _row(store, "wijk1")["session_epoch"] == 0
    assert auth.authenticate(store, "wijk1", PASSWORD).epoch == 0


# --------------------------------------------------------------------------- ending sessions

def test_reset_block_or_role_change_end_a_session_but_other_wijken_apply_at_once(accounts):
    session = auth.authenticate(accounts, "wijk1", PASSWORD)
    assert session.epoch == 0
    check = lambda user: refresh_user(accounts, user, oidc=False, demo_store=False)  # noqa: E731
    assert check(session) == session
    auth.update_user(accounts, "wijk1", wijken=[KANAALZONE, "WK999902"], by="beheer")
    assert check(session) == User("wijk1", "wijkteam", (KANAALZONE, "WK999902"))  # same session, new scope
    auth.update_user(accounts, "wijk1", password="een heel nieuw wachtwoord", by="beheer")
    assert check(session) is None
    for change in ({"role": "gemeente", "wijken": []}, {"active": False}):
        session = auth.authenticate(accounts, "beheer2", PASSWORD)
        auth.update_user(accounts, "beheer2", by="beheer", **change)
        assert check(session) is None, change
    assert check(User("wijk1", "wijkteam", (KANAALZONE,))) is not None  # no epoch known: takes the account's


@pytest.fixture()
def app_for(demo_store, monkeypatch):
    """Start the app with a session that holds ``values`` (as test_roles.py signs users in).

    A rerun of an AppTest that finished on a page file runs only that file (AppTest treats the
    pages/ folder as an old-style multipage app), not app.py and its sign-in gate. So the next
    click of a session is a new AppTest run with that session's remembered values.
    """
    monkeypatch.setenv("STEUNKAART_STORE", str(demo_store.path))
    monkeypatch.setattr(auth, "CLIENT_LIMITER", RateLimiter(limit=20, window_s=600))
    auth.create_user(demo_store, "beheer", "beheerder", (), PASSWORD, by="test")
    auth.create_user(demo_store, "wijk1", "wijkteam", [KANAALZONE], PASSWORD, by="test")

    def start(user: User, **values) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state["sk_user"] = user
        for key, value in values.items():
            at.session_state[key] = value
        at.run()
        assert not at.exception, at.exception
        return at
    return start


def _on_sign_in_page(at: AppTest) -> bool:
    return any(s.value == "Aanmelden" for s in at.subheader)


def _signed_in(at: AppTest) -> bool:
    return any("Aangemeld als" in c.value for c in at.caption) and not _on_sign_in_page(at)


def test_a_password_reset_ends_the_live_session(app_for, demo_store):
    at = app_for(User("wijk1", "wijkteam", (KANAALZONE,)))
    assert _signed_in(at)
    session = at.session_state["sk_user"]
    assert session.epoch == 0  # remembered on the first run
    assert _signed_in(app_for(session))  # the next click: still signed in
    auth.update_user(demo_store, "wijk1", password="een heel nieuw wachtwoord", by="beheer")
    at = app_for(session)
    assert _on_sign_in_page(at) and "sk_user" not in at.session_state
    assert any("Uw sessie is beëindigd" in i.value for i in at.info)
    assert "afmelden" not in set(demo_store.read_audit()["action"])  # ended, not signed out by the user


def test_an_idle_session_ends_with_a_message(app_for, demo_store, monkeypatch):
    user = User("wijk1", "wijkteam", (KANAALZONE,))
    assert _signed_in(app_for(user, sk_last_seen=time.time() - 29 * 60))  # 29 minutes: still signed in
    at = app_for(user, sk_last_seen=time.time() - 31 * 60)
    assert _on_sign_in_page(at) and "sk_user" not in at.session_state
    assert any("30 minuten niets" in i.value for i in at.info)
    log = demo_store.read_audit()
    assert log.loc[log["action"] == "afmelden", "details"].str.contains("niet actief").any()
    monkeypatch.setenv("STEUNKAART_IDLE_MINUTES", "5")
    at = app_for(user, sk_last_seen=time.time() - 6 * 60)
    assert _on_sign_in_page(at) and any("5 minuten niets" in i.value for i in at.info)


def test_idle_minutes_setting(monkeypatch):
    monkeypatch.delenv(auth.IDLE_ENV, raising=False)
    assert auth.idle_minutes() == 30
    for raw, minutes in (("45", 45), ("7,5", 7.5), ("0", 30), ("-3", 30), ("veel", 30)):
        monkeypatch.setenv(auth.IDLE_ENV, raw)
        assert auth.idle_minutes() == minutes, raw
    assert auth.idle_expired(1000.0, 1000.0 + 30 * 60 + 1, minutes=30)
    assert not auth.idle_expired(1000.0, 1000.0 + 30 * 60, minutes=30)
    assert not auth.idle_expired(None, 1e12, minutes=30)


def test_sign_in_page_asks_for_the_code(app_for, demo_store):
    secret = auth.new_totp_secret()
    enrolled = datetime.now(UTC) - timedelta(seconds=60)
    auth.set_totp(demo_store, "wijk1", secret, pyotp.TOTP(secret).at(enrolled), by="wijk1", now=enrolled)
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.text_input(key="sk_naam").input("wijk1")
    at.text_input(key="sk_ww").input(PASSWORD)
    next(b for b in at.button if b.label == "Aanmelden").click().run()
    assert at.error and at.error[0].value.startswith("Gebruikersnaam of wachtwoord klopt niet")
    at.text_input(key="sk_ww").input(PASSWORD)
    at.text_input(key="sk_code").input(pyotp.TOTP(secret).now())
    next(b for b in at.button if b.label == "Aanmelden").click().run()
    assert not at.exception, at.exception
    assert any("Aangemeld als" in c.value and "wijk1" in c.value for c in at.caption)


def test_a_user_enrols_on_the_account_page(app_for, demo_store):
    at = app_for(User("wijk1", "wijkteam", (KANAALZONE,)))
    at.switch_page("pages/account.py").run()
    assert not at.exception, at.exception
    at.button(key="ac_start").click().run()
    secret = at.session_state["ac_sleutel"]
    shown = " ".join(c.value for c in at.code)
    assert secret[:4] in shown and "otpauth://totp/" in shown
    at.text_input(key="ac_code").input("12345")
    next(b for b in at.button if b.label == "Bevestigen").click().run()
    assert at.error and not auth.has_totp(demo_store, "wijk1")
    at.text_input(key="ac_code").input(pyotp.TOTP(secret).now())
    next(b for b in at.button if b.label == "Bevestigen").click().run()
    assert not at.exception, at.exception
    assert auth.has_totp(demo_store, "wijk1") and any("staat aan" in s.value for s in at.success)


def test_gebruikers_form_is_cleared_and_confirms_what_was_created(app_for, demo_store):
    at = app_for(User("beheer", "beheerder"))
    at.switch_page("pages/gebruikers.py").run()
    at.text_input(key="gb_naam").input("Nieuw")
    at.selectbox(key="gb_rol").set_value("wijkteam")
    at.multiselect(key="gb_wijken").set_value([KANAALZONE, "WK999902"])
    at.text_input(key="gb_ww").input("een lang wachtwoord")
    at.text_input(key="gb_ww2").input("een ander wachtwoord")
    next(b for b in at.button if b.label == "Toevoegen").click().run()
    assert at.error and at.text_input(key="gb_naam").value == "Nieuw"  # a mistake keeps what was typed
    at.text_input(key="gb_ww2").input("een lang wachtwoord")
    next(b for b in at.button if b.label == "Toevoegen").click().run()
    assert not at.exception, at.exception
    users = auth.read_users(demo_store).set_index("username")
    assert users.loc["nieuw", "role"] == "wijkteam" and users.loc["nieuw", "wijken"] == [KANAALZONE, "WK999902"]
    assert [s.value for s in at.success] == ["Gebruiker 'nieuw' aangemaakt als Wijkteam voor wijken Kanaalzone, "
                                             "De Weiden."]
    assert at.text_input(key="gb_naam").value == "" and at.text_input(key="gb_ww").value == ""
    assert at.multiselect(key="gb_wijken").value == [] and at.selectbox(key="gb_rol").value == "beheerder"
