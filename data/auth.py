"""Users, roles and passwords: who may see and change what.

Roles (DESIGN: users):

* ``beheerder`` — administrator: everything, manages users and imports;
* ``wijkteam`` — person data of the wijken assigned to the user;
* ``opbouwwerker`` / ``gebiedsverbinder`` — person data only as aggregates; provisions editable;
* ``gemeente`` — aggregates only, read-only.

Passwords are stored only as Argon2id hashes (argon2-cffi: slow, salted). After
:data:`MAX_FAILED` wrong passwords in a row an account is locked for :data:`LOCK_MINUTES`.
For a municipality's own identity provider (OIDC via Streamlit's ``st.login``) the provider's
e-mail or group claims are mapped to a role with :func:`user_from_claims`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
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
MIN_PASSWORD = 10
_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,59}")


class SignInError(StoreError):
    """Sign-in refused; the message says why in Dutch (without saying whether the user exists)."""


@dataclass(frozen=True)
class User:
    """The signed-in user: a role and, for a wijkteam, the wijk codes (WK......) they work in."""

    username: str
    role: str
    wijken: tuple[str, ...] = ()
    demo: bool = False
    via: str = "lokaal"  # 'lokaal', 'oidc' or 'demo'

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


def hash_password(password: str) -> str:
    check_password(password)
    return _HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise DataValidationError(f"Kies een wachtwoord van minstens {MIN_PASSWORD} tekens.", column="wachtwoord")
    if password.strip() != password:
        raise DataValidationError("Een wachtwoord begint of eindigt niet met een spatie.", column="wachtwoord")


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
