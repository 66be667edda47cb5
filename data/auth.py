"""Users, roles and passwords: who may see and change what.

Roles (DESIGN: users):

* ``beheerder`` — administrator: everything, manages users and imports;
* ``wijkteam`` — person data of the wijken assigned to the user;
* ``opbouwwerker`` / ``gebiedsverbinder`` — person data only as aggregates; provisions editable;
* ``gemeente`` — aggregates only, read-only.

Passwords are stored only as Argon2id hashes (argon2-cffi: slow, salted); a password has at least
:data:`MIN_PASSWORD` characters, is not in the list of common passwords (``common_passwords.txt``
beside this module) and does not contain the username. After :data:`MAX_FAILED` attempts in a row
without success an account is locked for :data:`LOCK_MINUTES`. Every Argon2 check costs 64 MiB, so at
most :data:`MAX_PARALLEL_CHECKS` run at once in the process (:func:`verify_password`), and one client
(address) gets at most :data:`CLIENT_MAX_FAILED` failed attempts per :data:`CLIENT_WINDOW_S` seconds
(:class:`RateLimiter`). A user can add a second step: a time-based code (TOTP, RFC 6238, ``pyotp``)
from an authenticator app, required at every sign-in once set up. A session ends after
:func:`idle_minutes` without a click.
For a municipality's own identity provider (OIDC via Streamlit's ``st.login``) the provider's
e-mail or group claims are mapped to a role with :func:`user_from_claims`.

The local accounts live in the store's ``users`` table, but every rule about them is here, as
functions that take the store first (:func:`create_user`, :func:`update_user`, :func:`authenticate`,
:func:`set_totp`, :func:`clear_totp`, :func:`current_user`, ...); they use only the store's read
connection, write transaction and ``read_table``, in SQL that SQLite and PostgreSQL share.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from data.errors import DataValidationError, StoreError

ROLES = {
    "beheerder": "Beheerder",
    "wijkteam": "Wijkteam",
    "opbouwwerker": "Opbouwwerker",
    "gebiedsverbinder": "Gebiedsverbinder",
    "gemeente": "Gemeente (beleid)",
}
ROLE_HELP = {
    "beheerder": "alles, ook gebruikers en imports",
    "wijkteam": "personen en netwerken van de eigen wijken",
    "opbouwwerker": "netwerken alleen als totalen; voorzieningen bewerken",
    "gebiedsverbinder": "netwerken alleen als totalen; voorzieningen bewerken",
    "gemeente": "alleen totalen, niets wijzigen",
}
PERSON_ROLES = ("beheerder", "wijkteam")
PROVISION_EDITORS = ("beheerder", "opbouwwerker", "gebiedsverbinder")
MAX_FAILED = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 12
MAX_PARALLEL_CHECKS = 3  # Argon2 checks at once in this process (64 MiB each)
CHECK_WAIT_S = 5.0  # how long a sign-in waits for a free check before it is refused
HASH_WAIT_S = 30.0  # how long setting a password waits
CLIENT_MAX_FAILED = 20  # failed sign-ins per client (address) ...
CLIENT_WINDOW_S = 600.0  # ... within this many seconds
IDLE_ENV = "STEUNKAART_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 30.0
TOTP_ISSUER = "Steunkaart"
SECRET_COLUMNS = ("password_hash", "totp_secret")  # never leave the store
BUSY_MESSAGE = "Te veel aanmeldpogingen tegelijk; probeer het zo opnieuw."
_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters (64 MiB)
_ARGON2_SLOTS = threading.BoundedSemaphore(MAX_PARALLEL_CHECKS)
_COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
_LEET = str.maketrans("@4310$5!7", "aaeiossit")
_SEQUENCES = ("01234567890123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm",
              "azertyuiopqsdfghjklmwxcvbn", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,59}")


class SignInError(StoreError):
    """Sign-in refused; the message says why in Dutch (without saying whether the user exists)."""


class SignInBusy(SignInError):
    """Refused because too many password checks run at once; nothing was checked or counted."""


@dataclass(frozen=True)
class User:
    """The signed-in user: a role and, for a wijkteam, the wijk codes (WK......) they work in."""

    username: str
    role: str
    wijken: tuple[str, ...] = ()
    demo: bool = False
    via: str = "lokaal"  # 'lokaal', 'oidc' or 'demo'
    # The account's session epoch at sign-in: a new password, a block or another role raise it in the
    # store, and a session that remembers an older one ends (data/access.refresh_user).
    epoch: int | None = field(default=None, compare=False, repr=False)

    @property
    def sees_persons(self) -> bool:
        return self.role in PERSON_ROLES

    @property
    def edits_provisions(self) -> bool:
        return self.role in PROVISION_EDITORS

    @property
    def is_admin(self) -> bool:
        return self.role == "beheerder"

    @property
    def label(self) -> str:
        scope = f", wijken {', '.join(self.wijken)}" if self.role == "wijkteam" else ""
        return f"{self.username} ({ROLES.get(self.role, self.role)}{scope})"

    def in_scope(self, buurt_codes: pd.Series) -> pd.Series:
        """Which persons (by their buurt code) this user may see one by one."""
        if self.role == "beheerder":
            return pd.Series(True, index=buurt_codes.index)
        if self.role != "wijkteam" or not self.wijken:
            return pd.Series(False, index=buurt_codes.index)
        own = {w[2:8] for w in self.wijken}
        return buurt_codes.astype("string").str[2:8].isin(own).fillna(False).astype(bool)


DEMO_ADMIN = User("demo-beheerder", "beheerder", demo=True, via="demo")


@functools.cache
def DUMMY_HASH() -> str:  # noqa: N802 - reads as the constant it is
    """A hash to check against when the username does not exist (same time as a real check)."""
    return _HASHER.hash("niet-bestaande-gebruiker")


def hash_password(password: str, username: str | None = None) -> str:
    """Check the password rules, then return its Argon2id hash.

    Parameters
    ----------
    password : str
        The new password.
    username : str, optional
        The account's username, which the password may not contain.

    Returns
    -------
    str
        The salted hash (``$argon2id$...``).

    Raises
    ------
    DataValidationError
        When the password breaks a rule (see :func:`check_password`).
    StoreError
        When no free Argon2 slot comes within :data:`HASH_WAIT_S` seconds.
    """
    check_password(password, username)
    if not _ARGON2_SLOTS.acquire(timeout=HASH_WAIT_S):
        raise StoreError("De server is even te druk om een wachtwoord vast te leggen; probeer het zo opnieuw. "
                         "Er is niets gewijzigd.")
    try:
        return _HASHER.hash(password)
    finally:
        _ARGON2_SLOTS.release()


def password_matches(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password with at most :data:`MAX_PARALLEL_CHECKS` Argon2 checks at once in the process.

    Parameters
    ----------
    stored_hash : str or None
        The stored Argon2 hash; None never matches.
    password : str
        The password typed at sign-in.

    Returns
    -------
    bool
        Whether the password matches.

    Raises
    ------
    SignInBusy
        When no check slot frees up within :data:`CHECK_WAIT_S` seconds; memory stays bounded.
    """
    if not _ARGON2_SLOTS.acquire(timeout=CHECK_WAIT_S):
        raise SignInBusy(BUSY_MESSAGE)
    try:
        return password_matches(stored_hash, password)
    finally:
        _ARGON2_SLOTS.release()


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case), English and Dutch."""
    lines = _COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    """Whether a password is a common one, also with digits or signs around it or letters as digits.

    ``Wachtwoord2026!``, ``W@chtw00rd`` and ``2026welkom!!`` all count as ``wachtwoord``/``welkom``;
    so do keyboard, alphabet and digit runs with at most three other characters (``qwertyuiop12``,
    ``1234567890ab``) and one or two repeated characters.
    """
    lowered = (password or "").lower()
    base = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", lowered)
    candidates = {lowered, re.sub(r"\s+", "", lowered), base, base.translate(_LEET), lowered.translate(_LEET)}
    if candidates & common_passwords():
        return True
    squeezed = re.sub(r"\s+", "", lowered)
    if len(set(squeezed)) <= 2:
        return True
    # A keyboard, alphabet or digit run with at most three other characters (qwertyuiop12, 1234567890ab).
    runs = [*_SEQUENCES, *(r[::-1] for r in _SEQUENCES)]
    longest = max(len(r) for r in runs)
    if len(squeezed) > longest + 3:
        return False
    covered = max((j - i for i in range(len(squeezed)) for j in range(len(squeezed), i, -1)
                   if any(squeezed[i:j] in run for run in runs)), default=0)
    return len(squeezed) - covered <= 3


def check_password(password: str, username: str | None = None) -> None:
    """Refuse a password that is short, common or holds the username.

    Parameters
    ----------
    password : str
        The new password.
    username : str, optional
        The account's username (compared case-insensitively; for an e-mail address also the part
        before the ``@``).

    Raises
    ------
    DataValidationError
        With a Dutch message naming the rule that the password breaks.
    """
    if len(password or "") < MIN_PASSWORD:
        raise DataValidationError(f"Kies een wachtwoord van minstens {MIN_PASSWORD} tekens.", column="wachtwoord")
    if password.strip() != password:
        raise DataValidationError("Een wachtwoord begint of eindigt niet met een spatie.", column="wachtwoord")
    name = (username or "").strip().lower()
    parts = {p for p in (name, name.split("@")[0]) if len(p) >= 3}
    if any(p in password.lower() for p in parts):
        raise DataValidationError("Het wachtwoord mag de gebruikersnaam niet bevatten; kies iets anders.",
                                  column="wachtwoord")
    if is_common_password(password):
        raise DataValidationError("Dit wachtwoord wordt te vaak gebruikt en is snel te raden. Kies een zin van een "
                                  "paar woorden die niet voor de hand ligt.", column="wachtwoord")


def check_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not _USERNAME.fullmatch(name):
        raise DataValidationError("Een gebruikersnaam heeft 3 tot 60 tekens: kleine letters, cijfers en . _ @ -",
                                  column="gebruikersnaam")
    return name


def check_role(role: str, wijken: tuple[str, ...] | list[str], known_wijken: set[str] | None = None) -> tuple:
    if role not in ROLES:
        raise DataValidationError(f"Onbekende rol '{role}'; kies uit {', '.join(ROLES)}.", column="rol")
    wijken = tuple(sorted({str(w).strip() for w in wijken if str(w).strip()}))
    if role == "wijkteam" and not wijken:
        raise DataValidationError("Een wijkteamlid heeft minstens één wijk.", column="wijken")
    bad = [w for w in wijken if not re.fullmatch(r"WK\d{6}", w) or (known_wijken is not None and w not in known_wijken)]
    if bad:
        raise DataValidationError(f"Onbekende wijkcode(s): {', '.join(bad)}.", column="wijken")
    return wijken


def user_from_claims(claims: Mapping, mapping: Mapping) -> User | None:
    """Map an identity provider's claims to a Steunkaart user (OIDC sign-in).

    ``mapping`` comes from ``.streamlit/secrets.toml``, section ``[steunkaart.rollen]``::

        [steunkaart.rollen]
        "a.jansen@gemeente.nl" = { rol = "wijkteam", wijken = ["WK036300"] }
        "groep:Beleid-Sociaal-Domein" = { rol = "gemeente" }

    The e-mail address wins over a group; with several matching groups the one with the
    least access is taken. Unknown users get no role (None): they cannot use the app.
    """
    email = str(claims.get("email") or "").strip().lower()
    entries = {str(k).strip().lower(): v for k, v in mapping.items()}
    groups = claims.get("groups") or []
    if isinstance(groups, str):
        groups = [groups]
    chosen = entries.get(email) if email else None
    if chosen is None:
        order = list(ROLES)[::-1]  # gemeente ... beheerder: least access first
        found = [entries[f"groep:{str(g).strip().lower()}"] for g in groups
                 if f"groep:{str(g).strip().lower()}" in entries]
        found = [f for f in found if f.get("rol") in ROLES]
        chosen = min(found, key=lambda f: order.index(f["rol"])) if found else None
    if not chosen or chosen.get("rol") not in ROLES:
        return None
    wijken = tuple(chosen.get("wijken", ()))
    if chosen["rol"] == "wijkteam" and not wijken:
        return None
    return User(email or str(claims.get("sub", "onbekend")), chosen["rol"], wijken, via="oidc")


# --------------------------------------------------------------------------- second step (TOTP)

def new_totp_secret() -> str:
    """A new random TOTP secret (base32, 160 bits) for an authenticator app."""
    return pyotp.random_base32(length=32)


def totp_uri(username: str, secret: str) -> str:
    """The ``otpauth://`` address to type or paste into an authenticator app (no QR service needed)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str | None, now: datetime) -> int | None:
    """The 30-second time step a six-digit code belongs to, or None when it is not valid now.

    Parameters
    ----------
    secret : str
        The user's TOTP secret (base32).
    code : str or None
        The code typed by the user; spaces are ignored.
    now : datetime
        The moment of sign-in (timezone-aware); one step of clock drift either way is accepted.

    Returns
    -------
    int or None
        The time step, so that the store can refuse a code that was already used.
    """
    digits = re.sub(r"\s", "", code or "")
    if not secret or not re.fullmatch(r"\d{6}", digits):
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), digits):
            return candidate
    return None


# --------------------------------------------------------------------------- clients and sessions

class RateLimiter:
    """At most ``limit`` failed sign-ins per client key within ``window_s`` seconds (sliding window).

    An attempt takes a place first (:meth:`hit`, atomic, so parallel attempts cannot pass the limit
    together) and gives it back when it succeeds (:meth:`forgive`): colleagues behind one address
    who sign in correctly do not use up each other's attempts.

    Parameters
    ----------
    limit : int
        Failed attempts allowed per key in the window.
    window_s : float
        Length of the window in seconds.
    clock : callable, optional
        Returns the time in seconds (default :func:`time.monotonic`; a fake one in tests).
    max_keys : int, optional
        Keys remembered at most; the oldest are forgotten first, so memory stays bounded.
    """

    def __init__(self, *, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        return hits

    def hit(self, key: str) -> bool:
        """Count one attempt for ``key``; False (and nothing counted) when the limit is reached."""
        with self._lock:
            now = self._clock()
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > self._max_keys:
                for old in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s]:
                    del self._hits[old]
                while len(self._hits) > self._max_keys:
                    del self._hits[next(iter(self._hits))]
            return True

    def forgive(self, key: str) -> None:
        """Give back the last attempt of ``key`` (it succeeded, or was refused before any check)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits:
                hits.pop()
            if hits is not None and not hits:
                del self._hits[key]


CLIENT_LIMITER = RateLimiter(limit=CLIENT_MAX_FAILED, window_s=CLIENT_WINDOW_S)


def client_key(ip_address: str | None, headers: Mapping[str, str] | None = None) -> str:
    """The key under which a client's sign-in attempts are counted.

    The connection's address, unless it comes from this machine or a private network (a reverse
    proxy): then the last address in ``X-Forwarded-For``, the one that proxy added itself.
    """
    peer = ip_address or "127.0.0.1"  # Streamlit gives None for localhost
    try:
        behind_proxy = ipaddress.ip_address(peer).is_private
    except ValueError:
        behind_proxy = False
    forwarded = ""
    for name, value in (headers or {}).items():
        if str(name).lower() == "x-forwarded-for":
            forwarded = str(value)
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    if behind_proxy and hops:
        return hops[-1][:64]
    return peer[:64]


def idle_minutes() -> float:
    """Minutes without a click after which a session ends: ``$STEUNKAART_IDLE_MINUTES`` when positive, else 30."""
    raw = os.environ.get(IDLE_ENV, "").strip().replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_IDLE_MINUTES
    return value if value > 0 else DEFAULT_IDLE_MINUTES


def idle_expired(last_seen: float | None, now: float, *, minutes: float) -> bool:
    """Whether a session last seen at ``last_seen`` (seconds) has been idle for more than ``minutes``."""
    return last_seen is not None and now - last_seen > minutes * 60


# --------------------------------------------------------------------------- local accounts in the store
#
# The accounts live in the store's ``users`` table; these functions hold every rule about them (password
# checks, lock-out, the second step, the session epoch), so the store only offers connections and
# transactions. The SQL is portable (SQLite and PostgreSQL): ``?`` placeholders, no SQLite-only functions.
# ``data.store`` is imported inside the functions: it imports this module lazily itself.

def _wijk_codes(store) -> set[str]:
    with store._connection() as conn:
        return {r[0] for r in conn.execute("SELECT area_code FROM areas WHERE level = 'wijk'").fetchall()}


def has_users(store) -> bool:
    """Whether the store holds any local account."""
    with store._connection() as conn:
        return conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] > 0


def read_users(store) -> pd.DataFrame:
    """Users without their secrets: username, role, wijken (list), active, locked_until, totp (bool)."""
    users = store.read_table("users")
    users["totp"] = users["totp_secret"].notna()
    users = users.drop(columns=[*SECRET_COLUMNS, "totp_last_step"])
    users["wijken"] = users["wijken"].fillna("").map(lambda w: [x for x in w.split(",") if x])
    return users.sort_values("username").reset_index(drop=True)


def create_user(store, username: str, role: str, wijken, password: str, *, by: str, only_first: bool = False) -> None:
    """Add a local account; the first account must be an administrator.

    Parameters
    ----------
    store : GeoPackageStore
        The store that holds the accounts.
    username, role, wijken, password
        The new account (see :func:`check_username`, :func:`check_role`, :func:`check_password`).
    by : str
        Who adds it (audit log).
    only_first : bool, optional
        The first-run step: refused once any account exists (checked in the same transaction, so
        two people at a fresh install cannot both become administrator).

    Raises
    ------
    DataValidationError
        With a Dutch message when a rule is broken or the username exists.
    """
    from data.store import _audit, _now_iso

    name = check_username(username)
    wijken = check_role(role, wijken, _wijk_codes(store))
    digest = hash_password(password, name)
    with store._transaction(data=False) as conn:
        first = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
        if first and role != "beheerder":
            raise DataValidationError("De eerste gebruiker is de beheerder.", column="rol")
        if only_first and not first:
            raise DataValidationError("Er is al een beheerder; meld u aan.")
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone():
            raise DataValidationError(f"Gebruiker '{name}' bestaat al.", column="gebruikersnaam")
        conn.execute("INSERT INTO users (username, role, wijken, password_hash, failed_attempts, active, "
                     "created_at) VALUES (?, ?, ?, ?, 0, 1, ?)", (name, role, ",".join(wijken), digest, _now_iso()))
        _audit(conn, by, "nieuwe-gebruiker", name, {"rol": role, "wijken": list(wijken)})


def update_user(store, username: str, *, by: str, role: str | None = None, wijken=None,
                active: bool | None = None, password: str | None = None) -> None:
    """Change a user's role, wijken, active flag or password (which also lifts a lock-out).

    A new password, another role or a change of the active flag raises the user's session
    epoch, so their live sessions end at the next click (``data.access.refresh_user``); other
    wijken apply at once, in the same session.

    Raises
    ------
    DataValidationError
        When a rule is broken, also when no active administrator would be left.
    StoreError
        When the account does not exist.
    """
    from data.store import _audit

    digest = None if password is None else hash_password(password, username)  # slow: before the lock
    known = _wijk_codes(store)
    with store._transaction(data=False) as conn:
        row = conn.execute("SELECT role, wijken, active FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise StoreError(f"Gebruiker '{username}' bestaat niet.")
        new_role = role or row[0]
        new_wijken = check_role(new_role, row[1].split(",") if wijken is None and row[1] else (wijken or ()), known)
        new_active = row[2] if active is None else int(bool(active))
        admins = conn.execute("SELECT COUNT(*) FROM users WHERE role = 'beheerder' AND active = 1 "
                              "AND username <> ?", (username,)).fetchone()[0]
        if admins == 0 and (new_role != "beheerder" or not new_active):
            raise DataValidationError("Er moet altijd een actieve beheerder zijn.", column="rol")
        ends = new_role != row[0] or int(new_active) != int(row[2]) or digest is not None
        conn.execute("UPDATE users SET role = ?, wijken = ?, active = ?, session_epoch = session_epoch + ? "
                     "WHERE username = ?", (new_role, ",".join(new_wijken), int(new_active), int(ends), username))
        changes = {"rol": new_role, "wijken": list(new_wijken), "actief": bool(new_active)}
        if digest is not None:
            conn.execute("UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL "
                         "WHERE username = ?", (digest, username))
            changes["wachtwoord"] = "gewijzigd"
        if ends:
            changes["sessies"] = "beëindigd"
        _audit(conn, by, "wijzig-gebruiker", username, changes)


def set_totp(store, username: str, secret: str, code: str, *, by: str, now: datetime | None = None) -> None:
    """Turn on the second sign-in step for a user, once a code from their app matches the secret.

    Parameters
    ----------
    store : GeoPackageStore
        The store that holds the accounts.
    username : str
        The account.
    secret : str
        The new TOTP secret (:func:`new_totp_secret`), shown to the user to enter in an app.
    code : str
        A code the app shows now: proves the app was set up, so nobody locks themselves out.
    by : str
        Who does it (audit log).
    now : datetime, optional
        The moment (for tests); default now.

    Raises
    ------
    DataValidationError
        When the code does not match or the second step is already on.
    StoreError
        When the account does not exist or is not active.
    """
    from data.store import _audit

    step = totp_step(secret, code, now or datetime.now(UTC))
    if step is None:
        raise DataValidationError("De code klopt niet. Typ de zes cijfers die de app nu toont en controleer of "
                                  "de klok van de telefoon goed staat.", column="code")
    with store._transaction(data=False) as conn:
        row = conn.execute("SELECT totp_secret FROM users WHERE username = ? AND active = 1", (username,)).fetchone()
        if row is None:
            raise StoreError(f"Gebruiker '{username}' bestaat niet of is niet actief.")
        if row[0]:
            raise DataValidationError("De tweestapsverificatie staat al aan.", column="code")
        conn.execute("UPDATE users SET totp_secret = ?, totp_last_step = ? WHERE username = ?",
                     (secret, step, username))
        _audit(conn, by, "tweestaps-aan", username, {})


def clear_totp(store, username: str, *, by: str, code: str | None = None, now: datetime | None = None) -> None:
    """Turn off a user's second sign-in step (e.g. after a lost phone).

    Parameters
    ----------
    store : GeoPackageStore
        The store that holds the accounts.
    username : str
        The account.
    by : str
        Who does it (audit log).
    code : str, optional
        When given, it must be a current code of the user's app (the user turning it off
        themselves); who may turn it off without a code is decided in ``data.access``.
    now : datetime, optional
        The moment (for tests); default now.

    Raises
    ------
    DataValidationError
        When a given code does not match.
    StoreError
        When the account does not exist.
    """
    from data.store import _audit

    with store._transaction(data=False) as conn:
        row = conn.execute("SELECT totp_secret, totp_last_step FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise StoreError(f"Gebruiker '{username}' bestaat niet.")
        if code is not None:
            step = totp_step(row[0], code, now or datetime.now(UTC))
            if step is None or (row[1] is not None and step <= row[1]):
                raise DataValidationError("De code klopt niet. Typ de zes cijfers die de app nu toont.", column="code")
        conn.execute("UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE username = ?", (username,))
        _audit(conn, by, "tweestaps-uit", username, {})


def has_totp(store, username: str) -> bool:
    """Whether the user has the second sign-in step on."""
    with store._connection() as conn:
        row = conn.execute("SELECT totp_secret FROM users WHERE username = ?", (username,)).fetchone()
    return bool(row and row[0])


def authenticate(store, username: str, password: str, *, code: str | None = None, client: str | None = None,
                 now: datetime | None = None) -> User:
    """Check a password (and, once set up, the app's code); return the User or raise SignInError.

    Parameters
    ----------
    store : GeoPackageStore
        The store that holds the accounts.
    username, password : str
        What was typed.
    code : str, optional
        The six digits of the authenticator app; required for an account with a second step.
    client : str, optional
        The client's key (:func:`client_key`); at most :data:`CLIENT_MAX_FAILED` failed attempts
        per key within :data:`CLIENT_WINDOW_S` seconds.
    now : datetime, optional
        The moment (for tests); default now.

    Returns
    -------
    User
        With the account's session epoch, which the session remembers.

    Raises
    ------
    SignInError
        One message for every refusal; ``SignInBusy`` when too many checks run at once.

    Notes
    -----
    The lock-out holds under parallel attempts: in one transaction, *before* the password is
    checked, the lock is read and the attempt counted as failed. Only then the slow Argon2
    check runs (at most :data:`MAX_PARALLEL_CHECKS` at once in the process); a correct password
    takes back its own count and those before it. Once MAX_FAILED attempts are counted without
    success, further ones are refused unchecked and the account is locked for LOCK_MINUTES; a
    correct password never lifts an active lock (the administrator can, with a new password).
    Every refusal costs one password check, whether the username exists, is locked or
    inactive, so neither the answer nor its timing tells which usernames exist.
    """
    from data.store import _audit

    now = now or datetime.now(UTC)
    name = (username or "").strip().lower()
    who = name[:60] or "?"
    refused = SignInError(f"Gebruikersnaam of wachtwoord klopt niet (of de code uit de app), of het account is na "
                          f"{MAX_FAILED} mislukte pogingen {LOCK_MINUTES} minuten geblokkeerd.")
    if client is not None and not CLIENT_LIMITER.hit(client):
        store.log(who, "aanmelden-mislukt", name[:60], {"reden": "te veel pogingen van dit adres"})
        raise SignInError(f"Te veel mislukte aanmeldpogingen vanaf dit adres; probeer het over "
                          f"{round(CLIENT_WINDOW_S / 60)} minuten opnieuw.")

    def locked(until: str | None) -> bool:
        return bool(until) and datetime.fromisoformat(until) > now

    # 1. The lock-out decision and counting the attempt: one transaction, before any check.
    with store._transaction(data=False) as conn:
        row = conn.execute("SELECT password_hash, locked_until, active, failed_attempts, totp_secret "
                           "FROM users WHERE username = ?", (name,)).fetchone()
        reason, lock = None, None
        if row is None:
            reason = "onbekende gebruiker"
        elif locked(row[1]):
            reason = "geblokkeerd"
        elif not row[2]:
            reason = "niet actief"
        elif row[3] >= MAX_FAILED:  # that many attempts counted and still running or wrong
            reason, lock = "geblokkeerd", (now + pd.Timedelta(minutes=LOCK_MINUTES)).isoformat()
            conn.execute("UPDATE users SET failed_attempts = 0, locked_until = ? WHERE username = ?", (lock, name))
        else:
            conn.execute("UPDATE users SET failed_attempts = failed_attempts + 1 WHERE username = ?", (name,))
        if reason:
            _audit(conn, who, "aanmelden-mislukt", name[:60], {"reden": reason, "geblokkeerd": bool(lock)})
    try:
        if reason:
            verify_password(DUMMY_HASH(), password)  # the same cost as a real refusal
            raise refused
        digest, _, _, before, secret = row
        try:
            matches = verify_password(digest, password)
        except SignInBusy:  # nothing was checked: the attempt does not count
            with store._transaction(data=False) as conn:
                conn.execute("UPDATE users SET failed_attempts = CASE WHEN failed_attempts > 0 "
                             "THEN failed_attempts - 1 ELSE 0 END WHERE username = ?", (name,))
            raise
    except SignInBusy:
        if client is not None:
            CLIENT_LIMITER.forgive(client)
        raise
    step = totp_step(secret, code, now) if matches and secret else None

    # 2. Settle the attempt with the account as it is now (a lock set meanwhile wins).
    with store._transaction(data=False) as conn:
        row = conn.execute("SELECT role, wijken, locked_until, active, failed_attempts, totp_secret, "
                           "totp_last_step, session_epoch FROM users WHERE username = ?", (name,)).fetchone()
        if row is None:
            raise refused
        role, wijken, locked_until, active, failed, secret, last_step, epoch = row
        second = not secret or (step is not None and (last_step is None or step > last_step))
        if matches and second and active and not locked(locked_until):
            taken = int(before) + 1  # this attempt and those counted before it
            conn.execute("UPDATE users SET failed_attempts = CASE WHEN failed_attempts > ? THEN failed_attempts - ? "
                         "ELSE 0 END, locked_until = NULL, totp_last_step = COALESCE(?, totp_last_step) "
                         "WHERE username = ?", (taken, taken, step, name))
            _audit(conn, name, "aanmelden", name, {"rol": role, "tweestaps": bool(secret)})
            if client is not None:
                CLIENT_LIMITER.forgive(client)
            return User(name, role, tuple(w for w in (wijken or "").split(",") if w), epoch=int(epoch))
        if matches and second:  # right, but locked meanwhile or blocked: the lock stays
            _audit(conn, name, "aanmelden-mislukt", name, {"reden": "geblokkeerd" if active else "niet actief"})
        else:
            lock = (now + pd.Timedelta(minutes=LOCK_MINUTES)).isoformat() \
                if failed >= MAX_FAILED and not locked(locked_until) else None
            if lock:
                conn.execute("UPDATE users SET failed_attempts = 0, locked_until = ? WHERE username = ?", (lock, name))
            _audit(conn, name, "aanmelden-mislukt", name, {"reden": "code" if matches else "wachtwoord",
                                                         "poging": int(before) + 1, "geblokkeerd": bool(lock)})
    raise refused  # outside the transaction: raising inside would roll back the count and the log


def current_user(store, username: str) -> User | None:
    """The stored account as a User (role, wijken, session epoch as they are now); None if gone or inactive."""
    with store._connection() as conn:
        row = conn.execute("SELECT role, wijken, active, session_epoch FROM users WHERE username = ?",
                           (username,)).fetchone()
    if row is None or not row[2]:
        return None
    return User(username, row[0], tuple(w for w in (row[1] or "").split(",") if w), epoch=int(row[3]))
