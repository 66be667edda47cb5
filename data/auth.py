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
from datetime import datetime
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
