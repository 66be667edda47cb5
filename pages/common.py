"""Shared Streamlit helpers for the pages: cached loaders and error display.

Loaders are keyed by the store path and its modification time, so a write to the store
(an import, an edit) is visible on the next rerun without a manual refresh.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from data import auth
from data.access import ScopedStore, refresh_user
from data.auth import DEMO_ADMIN, User, client_key, idle_expired, idle_minutes, user_from_claims
from data.demo import ensure_demo_store, is_demo_store
from data.errors import DataValidationError
from data.sql import DATABASE_ERRORS
from data.store import StoreBusyError, uses_demo_store
from data.store_api import SqlStore, open_store, store_at, store_location
from data.uploads import MB, check_upload, max_upload_bytes


def leave_legacy_pages_mode() -> None:
    """Make sure app.py's st.navigation is in charge, also on a first visit to a deep link.

    Streamlit treats a folder called ``pages/`` next to the main script as an old-style
    multipage app until some run calls ``st.navigation``. A server's very first session that
    opens ``/over`` directly would then run pages/over.py on its own and list every file of
    pages/ in the sidebar. The layout (``pages/``) is fixed, so switch the mode off and rerun:
    the rerun goes through app.py and its navigation.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


leave_legacy_pages_mode()


def signed_in_user() -> User | None:
    """The user of this session, or None before sign-in."""
    return st.session_state.get("sk_user")


def current_user() -> str:
    """The name written to the audit log for what this session does."""
    user = signed_in_user()
    return user.username if user else "?"


# Entries per cached loader: the latest data versions for each user scope in use at once; older versions go.
CACHE_ENTRIES = 64


def store_path() -> str:
    """Return the configured store path as a string."""
    return store_location()


@st.cache_resource(show_spinner="De opslag wordt geopend…")
def _open_store(path: str) -> SqlStore:
    # Without STEUNKAART_STORE the app runs on the demo, in its own file; a named file that does not
    # exist yet becomes an empty store of the gemeente's own (never the demo).
    return ensure_demo_store(path) if uses_demo_store() else open_store(path)


@contextlib.contextmanager
def store_errors_shown() -> Iterator[None]:
    """Show a database error that reaches the page as a Dutch message and stop the page there.

    Without it Streamlit would show its exception box (with search buttons). A store held by another
    writer for longer than the busy timeout says so; any other SQLite error (a damaged file, a full or
    unreadable disk) gets a general Dutch message, its details go to the server log. Validation errors
    are not caught here: the pages show those themselves and go on. Works as ``with`` block and as a
    decorator (every loader below has it).
    """
    try:
        yield
    except StoreBusyError as exc:
        st.error(str(exc))
        st.stop()
    except (*DATABASE_ERRORS, pd.errors.DatabaseError) as exc:  # pandas wraps what read_sql_query met
        logging.getLogger(__name__).error("Fout in de opslag %s", store_path(), exc_info=exc)
        st.error(f"De opslag kan nu niet gelezen of geschreven worden ({type(exc).__name__}). Ververs de pagina "
                 "over een ogenblik; gebeurt het steeds, dan vindt de beheerder de details in het log van de server.")
        st.stop()


def _raw_store() -> SqlStore:
    try:
        with store_errors_shown():
            return _open_store(store_path())
    except DataValidationError as exc:
        show_error(exc)
        st.stop()


def get_store() -> ScopedStore:
    """The store as the signed-in user may see and change it (see data/access.py).

    When the store cannot be opened the page shows why, in Dutch, and stops; without a
    signed-in user nothing is shown.
    """
    store = _raw_store()
    user = signed_in_user()
    if user is None:
        st.warning("U bent niet aangemeld.")
        st.stop()
    return ScopedStore(store, user)


def require_admin() -> ScopedStore:
    """For the administrator's pages: anyone else sees a refusal (the navigation hides them too)."""
    store = get_store()
    if not store.user.is_admin:
        st.error("Deze pagina is alleen voor de beheerder.")
        st.stop()
    return store


def stop_without_areas(areas) -> None:
    """On a store without buurten or wijken: say what is missing and who adds it, then stop the page."""
    if len(areas):
        return
    user = signed_in_user()
    if user is not None and user.is_admin:
        st.info("**Nog geen gebieden in de opslag.** Importeer de CBS Wijk- en Buurtkaart van uw gemeente op de "
                "pagina Beheer (GeoPackage, shapefile of GeoJSON); daarna vult u de voorzieningen en netwerken.")
    else:
        st.info("**Nog geen gebieden in de opslag.** De beheerder importeert eerst de CBS Wijk- en Buurtkaart van "
                "de gemeente; daarna ziet u hier de buurten.")
    st.stop()


# Every ASCII character that starts Markdown in Streamlit: links and images, emphasis, code, HTML, tables,
# headings and lists (a leading '#', '-', '+', '>' or '1.'), directives like ':red[...]', math ('$').
_MARKDOWN_CHARS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&^])")
# Streamlit finds some things in the text *after* parsing, where a backslash no longer counts: emoji and
# icon shortcodes (':warning:', ':material/home:'), bare links ('http://', 'www.', 'name@host') and
# arrows ('->', '<='). An invisible word joiner (U+2060) inside each pattern breaks it.
_FOUND_AFTER_PARSING = re.compile(r"(?<=:)(?=[\w+\-/])|(?<=@)(?=[\w-])|(?i:(?<=www)(?=\.))|(?<=[<>~-])(?=[->=])")
WORD_JOINER = "\u2060"


def md(text) -> str:
    """Text from the data for anything Streamlit renders as Markdown: shown as written, never as markup.

    That is st.markdown, st.title/header/subheader, st.caption, st.info/success/warning/error, st.metric,
    st.table cells and headers, image captions, and the labels of checkboxes, buttons, download buttons,
    radio options, tabs and expanders. Not for selectbox and multiselect options, text inputs or
    dataframe cells: those show plain text (a backslash would show).
    """
    return _MARKDOWN_CHARS.sub(r"\\\1", _FOUND_AFTER_PARSING.sub(WORD_JOINER, str(text)))


def log_export(action: str, target: str, details: dict | None = None) -> None:
    """on_click of a download button: every export is in the audit log."""
    get_store().log(action, target, details or {})


def _scope(user: User) -> tuple:
    return (user.username, user.role, user.wijken)


def _scoped(path: str, scope: tuple) -> ScopedStore:
    return ScopedStore(store_at(path), User(scope[0], scope[1], tuple(scope[2])))


def _public(path: str) -> ScopedStore:
    """For the loaders of what every role may read (areas, key figures, provisions, the catalogue): through the
    access layer too, as the least-privileged role."""
    return ScopedStore(store_at(path), User("systeem", "gemeente", ()))


# --------------------------------------------------------------------------- sign-in

def oidc_roles() -> dict | None:
    """The OIDC role mapping from .streamlit/secrets.toml ([auth] and [steunkaart.rollen]), or None."""
    try:
        if "auth" not in st.secrets:
            return None
        return dict(st.secrets.get("steunkaart", {}).get("rollen", {}))
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a broken secrets file must not open the app
        return None


def sign_in_gate() -> User | None:
    """Who is using the app: the session's user, an OIDC user, the demo administrator or nobody.

    The demo administrator is only used for the built-in demo municipality as long as no account
    exists; once an administrator is created, everyone signs in.
    """
    store = _raw_store()
    roles = oidc_roles()
    user = signed_in_user()
    if user is not None:
        minutes = idle_minutes()
        if user.via != "demo" and idle_expired(st.session_state.get("sk_last_seen"), time.time(), minutes=minutes):
            sign_out(reason="niet actief")
            if user.via == "oidc":
                st.logout()  # else the provider's session would sign them straight in again
            st.session_state["sk_melding"] = (f"U bent afgemeld omdat u {minutes:g} minuten niets in Steunkaart hebt "
                                              "gedaan. Meld u opnieuw aan.")
            return None
        # Checked again on every run: a blocked account, a new password, another role or wijken, or
        # the end of the demo mode take effect at once, not at the next sign-in.
        now = refresh_user(store, user, oidc=roles is not None, demo_store=is_demo_store(store))
        if now != user:
            st.session_state.clear()
            if now is not None:
                st.session_state["sk_user"] = now
            elif user.via == "lokaal":
                st.session_state["sk_melding"] = ("Uw sessie is beëindigd omdat uw account is gewijzigd (wachtwoord, "
                                                  "rol of toegang). Meld u opnieuw aan.")
        elif now.epoch != user.epoch:
            st.session_state["sk_user"] = now  # a session from before epochs: remember the account's now
        if now is not None:
            st.session_state["sk_last_seen"] = time.time()
        return now
    if roles is not None and getattr(st.user, "is_logged_in", False):
        user = user_from_claims(st.user.to_dict(), roles)
        if user is not None:
            store.log(user.username, "aanmelden", user.username, {"via": "oidc", "rol": user.role})
            st.session_state["sk_user"] = user
            return user
        if not st.session_state.get("sk_oidc_geweigerd"):
            store.log(str(st.user.to_dict().get("email", "?"))[:80], "aanmelden-mislukt", "oidc", {"reden": "geen rol"})
            st.session_state["sk_oidc_geweigerd"] = True
    if roles is None and not auth.has_users(store) and is_demo_store(store):
        store.log(DEMO_ADMIN.username, "aanmelden", DEMO_ADMIN.username, {"via": "demo"})
        st.session_state["sk_user"] = DEMO_ADMIN
        return DEMO_ADMIN
    return None


def client() -> str:
    """This browser's key for the per-client limit on failed sign-ins (``data.auth.client_key``)."""
    try:
        return client_key(st.context.ip_address, dict(st.context.headers))
    except Exception:  # noqa: BLE001 - no browser connection (AppTest, bare mode): this machine
        return client_key(None, {})


def sign_in(username: str, password: str, code: str | None = None) -> User:
    """Check the password (and the app's code, once set up) against the local accounts; raises SignInError."""
    user = auth.authenticate(_raw_store(), username, password, code=code or None, client=client())
    st.session_state["sk_user"] = user
    st.session_state["sk_last_seen"] = time.time()
    return user


def needs_first_admin() -> bool:
    return not auth.has_users(_raw_store())


def create_first_admin(username: str, password: str) -> None:
    """The first-run step: the first account, always an administrator."""
    auth.create_user(_raw_store(), username, "beheerder", (), password, by="eerste-gebruik", only_first=True)


def sign_out(reason: str | None = None) -> None:
    """End this session (``reason`` goes into the audit log, e.g. 'niet actief')."""
    user = signed_in_user()
    if user is not None:
        _raw_store().log(user.username, "afmelden", user.username, {"reden": reason} if reason else {})
    st.session_state.clear()


def _version(store):
    """The data version of the store: the key of every cached loader (see SqlStore.data_version)."""
    return store.data_version()


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _areas(path: str, mtime: float, level: str) -> gpd.GeoDataFrame:
    return _public(path).read_areas(level)


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _area_values(path: str, mtime: float) -> pd.DataFrame:
    return _public(path).read_area_values()


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _area_index(path: str, mtime: float) -> pd.DataFrame:
    return pd.DataFrame(_public(path).read_table("areas").drop(columns="geometry"))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _counts(path: str, mtime: float) -> dict:
    return _public(path).counts()


@store_errors_shown()
def load_areas(level: str) -> gpd.GeoDataFrame:
    """Areas of one level with their key figures, cached."""
    store = get_store()
    return _areas(store.location, _version(store), level)


@store_errors_shown()
def load_area_values() -> pd.DataFrame:
    """All key figures in long form (with status 'geheim'/'onbekend'), cached."""
    store = get_store()
    return _area_values(store.location, _version(store))


@store_errors_shown()
def load_area_index() -> pd.DataFrame:
    """Codes, names and levels of all areas (no geometry), cached."""
    store = get_store()
    return _area_index(store.location, _version(store))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _provisions(path: str, mtime: float) -> gpd.GeoDataFrame:
    return _public(path).read_table("provisions")


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _provision_types(path: str, mtime: float) -> dict:
    return _public(path).read_provision_types()


@store_errors_shown()
def load_provision_types() -> dict:
    """The provision type catalogue of the store (defaults plus the user's own), cached."""
    store = get_store()
    return _provision_types(store.location, _version(store))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _suitability(path: str, mtime: float) -> dict:
    return _public(path).read_suitability()


@store_errors_shown()
def load_suitability() -> dict:
    """The table 'wat past bij wie' (provision type -> needs) of the store, cached."""
    store = get_store()
    return _suitability(store.location, _version(store))


@store_errors_shown()
def load_provisions() -> gpd.GeoDataFrame:
    """All provisions (EPSG:28992), cached."""
    store = get_store()
    return _provisions(store.location, _version(store))


@st.cache_resource(show_spinner="De kaart wordt opgebouwd…", max_entries=32)
def _choropleth(path: str, mtime: float, level: str, indicator: str, scheme: str, k: int, tiles: str,
                with_provisions: bool = True):
    from data.indicators import BY_NAME
    from mapping.choropleth import choropleth_map
    from pages.kaart_data import _web_geometries

    areas = _areas(path, mtime, level)
    values = _area_values(path, mtime)
    ind = BY_NAME[indicator]
    status = (values.loc[values["indicator"] == indicator].sort_values("year")
              .drop_duplicates("area_code", keep="last").set_index("area_code")["status"])
    return choropleth_map(
        areas, indicator, label=ind.label, unit=ind.unit, decimals=ind.decimals,
        geometries=_web_geometries(path, mtime, level, areas),  # simplified once, kept in the store
        higher_is_need=ind.higher_is_need, scheme=scheme, k=k, tiles=tiles,
        status=status.reindex(areas["area_code"]).set_axis(areas.index),
        level_label="Buurt" if level == "buurt" else "Wijk",
        provisions=_provisions(path, mtime) if with_provisions else None,
        provision_types=_provision_types(path, mtime),
        initiatives=_public(path).read_table("initiatives") if with_provisions else None,
    )


@store_errors_shown()
def cached_choropleth(level: str, indicator: str, scheme: str, k: int, tiles: str, with_provisions: bool = True):
    """The choropleth for these choices, built once: a click re-uses the same map.

    st_folium rewrites the ids inside the map it renders, so it gets a copy of the cached map;
    the copy renders to the same script, so the browser keeps the map it already has.
    """
    store = get_store()
    return copy.deepcopy(_choropleth(store.location, _version(store), level, indicator, scheme, k, tiles,
                                     with_provisions))


# The network loaders below share ONE access-layer object per (store, data version, user scope): its memo
# (data.access.ScopedStore._aggregate_memo) holds the person tables with their measures, the signal table per
# rules and the protected cells, so person_measures and the signal pipeline run once per data version (and
# rules), however many loaders (signals, shares, groups, matching totals, participants) a page calls. The
# tables and measures do not depend on the scope: one copy per data version serves every scope.
AGGREGATE_RULES_KEPT = 8  # signal tables (and their aggregates) per object for rule sets tried, the oldest go


class _Aggregates:
    """The shared access-layer object of one store version and scope, with a lock (one computation at a time)."""

    def __init__(self, path: str, mtime, scope: tuple) -> None:
        self.store = _scoped(path, scope)
        self.lock = threading.RLock()
        self.store.share_person_tables(_person_tables(path, mtime), mtime)

    def run(self, use):
        with self.lock:
            result = use(self.store)
            self.store.forget_rules(3 * AGGREGATE_RULES_KEPT)  # about three memo entries per rule set
            return result


@st.cache_resource(show_spinner="Netwerkmaten worden berekend…", max_entries=2)
def _person_tables(path: str, mtime) -> dict:
    # All person tables and person_measures of one data version (data.access.ScopedStore._aggregate_tables).
    return _scoped(path, ("systeem", "beheerder", ())).person_tables()


@st.cache_resource(show_spinner=False, max_entries=8)
def _aggregates(path: str, mtime, scope: tuple) -> _Aggregates:
    return _Aggregates(path, mtime, scope)


@st.cache_data(show_spinner="Netwerkmaten worden berekend…", max_entries=CACHE_ENTRIES)
def _signals(path: str, mtime: float, rules, scope: tuple):
    # The access layer runs the one pipeline (graphs.signals.signal_table) and applies the role's rules.
    return _aggregates(path, mtime, scope).run(lambda store: store.person_signals(rules))


@store_errors_shown()
def load_signals(rules=None) -> pd.DataFrame:
    """Network measures, screening scores, the poor-network signal and needs per person the user may see, cached
    (:meth:`data.access.ScopedStore.person_signals`).

    Raises AccessDenied for roles without person access (use the aggregates below instead).
    """
    from graphs.signals import DEFAULT_RULES

    store = get_store()  # the scoped store refuses person tables to roles without person access
    return _signals(store.location, _version(store), rules or DEFAULT_RULES, _scope(store.user))


@st.cache_data(show_spinner="Netwerkmaten worden berekend…", max_entries=CACHE_ENTRIES)
def _signal_groups(path: str, mtime: float, rules, scope: tuple) -> pd.DataFrame:
    return _aggregates(path, mtime, scope).run(lambda store: store.signal_groups(rules))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _signal_share(path: str, mtime: float, rules, scope: tuple) -> pd.DataFrame:
    return _aggregates(path, mtime, scope).run(lambda store: store.signal_share(rules))


@store_errors_shown()
def load_signal_groups(rules=None) -> pd.DataFrame:
    """Signalled persons per buurt and needs pattern (counts only, protected outside one's own persons), any role."""
    store = get_store()
    return _signal_groups(store.location, _version(store), rules, _scope(store.user))


@store_errors_shown()
def load_signal_share(rules=None) -> pd.DataFrame:
    """Share of persons with a signal per buurt, small cells hidden and protected (data/disclosure.py), any role."""
    store = get_store()
    return _signal_share(store.location, _version(store), rules, _scope(store.user))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _match_totals(path: str, mtime: float, key: str, _provisions: gpd.GeoDataFrame, rules, scope: tuple) -> dict:
    buurten = _areas(path, mtime, "buurt")
    return _aggregates(path, mtime, scope).run(lambda store: store.match_totals(_provisions, buurten, rules))


@store_errors_shown()
def load_match_totals(provisions: gpd.GeoDataFrame, rules=None) -> dict:
    """Matching of signalled persons as totals, from the protected counts of data/disclosure.py for every role but
    the administrator (raises DataValidationError for a hypothetical provision under the minimum)."""
    store = get_store()
    key = hashlib.sha256(provisions.drop(columns="geometry").astype(str).to_csv().encode()
                         + b"".join(provisions.geometry.to_wkb())).hexdigest()  # the provisions (a scenario's)
    return _match_totals(store.location, _version(store), key, provisions, rules, _scope(store.user))


@st.cache_data(show_spinner="Buren van de buurten worden bepaald…")
def _adjacency(path: str, mtime: float):
    from mapping.hotspots import queen_adjacency

    return queen_adjacency(_public(path).read_areas("buurt"))


@store_errors_shown()
def load_adjacency():
    """Queen contiguity of the buurten (sparse matrix in the order of load_areas('buurt')), cached."""
    store = get_store()
    return _adjacency(store.location, _version(store))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _participation_counts(path: str, mtime: float, scope: tuple) -> pd.Series:
    return _aggregates(path, mtime, scope).run(lambda store: store.participation_counts())


@store_errors_shown()
def load_participation_counts() -> pd.Series:
    """Participants per provision (an aggregate every role may use for free places)."""
    store = get_store()
    return _participation_counts(store.location, _version(store), _scope(store.user))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _outcome_summary(path: str, mtime: float, before: str, after: str, by: str, scope: tuple) -> pd.DataFrame:
    return _scoped(path, scope).outcome_summary(before=before, after=after, by=by)


@store_errors_shown()
def load_outcome_summary(before: str = "T0", after: str = "T1", by: str = "provision_id") -> pd.DataFrame:
    """Change per provision (or type) and measure between two moments: exact for the administrator, protected counts
    for every other role (:meth:`data.access.ScopedStore.outcome_summary`), cached."""
    store = get_store()
    return _outcome_summary(store.location, _version(store), before, after, by, _scope(store.user))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _group_contact(path: str, mtime: float, moment: str, scope: tuple) -> pd.DataFrame:
    return _scoped(path, scope).group_contact_summary(moment=moment)


@store_errors_shown()
def load_group_contact(moment: str = "T2") -> pd.DataFrame:
    """Share of participants still in contact with another participant of their group, per provision, cached."""
    store = get_store()
    return _group_contact(store.location, _version(store), moment, _scope(store.user))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _outcome_periods(path: str, mtime: float, scope: tuple) -> pd.DataFrame:
    return _scoped(path, scope).outcome_periods()


@store_errors_shown()
def load_outcome_periods() -> pd.DataFrame:
    """Per provision with measurements: type, moments measured, first and last date (no persons), cached."""
    store = get_store()
    return _outcome_periods(store.location, _version(store), _scope(store.user))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _table(path: str, mtime: float, name: str, scope: tuple) -> pd.DataFrame:
    return _scoped(path, scope).read_table(name)


@store_errors_shown()
def load_table(name: str) -> pd.DataFrame:
    """One store table as far as the user may see it (persons, ties, ... filtered or refused), cached."""
    store = get_store()  # the scoped store refuses or filters person tables inside _table
    return _table(store.location, _version(store), name, _scope(store.user))


@st.cache_resource(show_spinner="Het netwerk van de gemeenschap wordt berekend…", max_entries=4)
def _community(path: str, mtime: float, scope: tuple) -> dict:
    from graphs.community import community_graph, community_summary

    graph = community_graph(_table(path, mtime, "persons", scope), _table(path, mtime, "ties", scope),
                            _table(path, mtime, "participation", scope), _provisions(path, mtime))
    persons = sorted(str(n) for n, kind in graph.nodes(data="kind") if kind == "persoon")
    return {"graph": graph, "summary": community_summary(graph), "person_ids": persons}


@store_errors_shown()
def load_community() -> dict:
    """The community network of the persons the user may see (graph and summary, graphs.community), computed once
    per data version and scope; shared, not copied: read it, never change it. Refused (AccessDenied) to roles
    without person access."""
    store = get_store()
    return _community(store.location, _version(store), _scope(store.user))


@store_errors_shown()
def load_counts() -> dict:
    """Record counts per table and the schema version, cached."""
    store = get_store()
    return _counts(store.location, _version(store))


@contextlib.contextmanager
def uploaded_file(upload, *, allowed: tuple[str, ...]) -> Iterator[Path]:
    """Give an uploaded file a real path (readers such as GDAL need one), removed afterwards.

    The content is checked first (size, kind by content not extension, zip bombs): a refused
    file raises DataValidationError with a Dutch message naming it. The limit is the smaller of
    ``STEUNKAART_MAX_UPLOAD_MB`` and Streamlit's ``server.maxUploadSize`` (both in MiB).

    No copy of the upload is made: ``getvalue()`` hands out the bytes Streamlit already holds
    (``getbuffer()`` would copy them once per rerun), and the readers parse the temporary file.
    """
    data = upload.getvalue()
    limit = min(max_upload_bytes(), int(st.get_option("server.maxUploadSize")) * MB)
    check_upload(upload.name, data, allowed=allowed, max_bytes=limit)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(data)
        yield path


def show_error(exc: DataValidationError) -> None:
    """Show a validation error in Dutch, with the row-level report when there is one.

    The message can quote the data (a name, a file name, a cell): escaped, so it stays text.
    """
    st.error(md(str(exc)))
    if exc.problems:
        st.dataframe(pd.DataFrame(exc.problems), hide_index=True)


# --------------------------------------------------------------------------- access logging (NEN 7513)

_HIDE_TOOLBAR = ('<style>[class*="st-key-sk_personen_"] [data-testid="stElementToolbar"]'
                 "{display: none !important;}</style>")


def log_person_view(view: str, person_ids) -> None:
    """Log that this user was shown these persons (codes only in the log), once per change of what is shown.

    Who, when, which persons, in which view and on whose behalf (the role and wijken of the account).
    """
    codes = sorted({str(p) for p in person_ids})
    if not codes:
        return
    marker = hashlib.sha256("\n".join(codes).encode()).hexdigest()
    if st.session_state.get(f"sk_gelogd_{view}") == marker:
        return
    user = signed_in_user()
    get_store().log("bekijk-personen", view, {"weergave": view, "personen": codes, "aantal": len(codes),
                                              "namens": {"rol": user.role, "wijken": list(user.wijken)}})
    st.session_state[f"sk_gelogd_{view}"] = marker


def person_table(table: pd.DataFrame, *, key: str, view: str, file_name: str, person_column: str = "Persoon",
                 export: pd.DataFrame | None = None, explanation=None,
                 number_formats: dict[str, str] | None = None) -> None:
    """Show a table of persons without the built-in download toolbar, log its view, export it only logged.

    Parameters
    ----------
    table : DataFrame
        What is shown (Dutch texts such as ``1,2 km``).
    key, view : str
        Widget key and the name of the view in the audit log.
    file_name : str
        Name of the CSV download; the Excel download has the same stem with ``.xlsx``.
    person_column : str
        Column with the person codes that are logged.
    export : DataFrame, optional
        The table the downloads hold, numbers as numbers (default: ``table``).
    explanation : iterable of tuple, optional
        ``(kolom, betekenis, eenheid, bron)`` per column of ``export`` for the sheet *Toelichting*; a
        column left out gets a row with only its name.
    number_formats : dict, optional
        Column → Excel number format (:mod:`data.export`); other numeric columns get the default.

    Both downloads (CSV for Dutch Excel, and Excel with number cells and a Toelichting) go through the
    one safe writer and are logged as ``export-personen`` with every person code.
    """
    from pathlib import PurePath

    from data.export import explanation_frame, frame_to_csv_bytes, frames_to_excel_bytes

    st.html(_HIDE_TOOLBAR)
    with st.container(key=f"sk_personen_{key}"):
        st.dataframe(table, hide_index=True, width="stretch")
    codes = table[person_column].astype(str).tolist() if person_column in table else []
    log_person_view(view, codes)
    if len(table):
        user = signed_in_user()
        export = table if export is None else export
        sheet = "Personen"
        given = {row[0]: row[1:] for row in (explanation or ())}
        toelichting = explanation_frame([(sheet, str(c), *given.get(c, ())) for c in export.columns])
        excel_name = str(PurePath(file_name).with_suffix(".xlsx"))

        def details(name: str) -> dict:
            return {"bestand": name, "personen": sorted(set(codes)), "aantal": len(codes),
                    "namens": {"rol": user.role, "wijken": list(user.wijken)}}

        c1, c2 = st.columns(2)
        with c1:
            st.download_button(f"Download (CSV, {len(table)} personen)", frame_to_csv_bytes(export),
                               file_name=file_name, mime="text/csv", key=f"sk_download_{key}", on_click=log_export,
                               args=("export-personen", view, details(file_name)))
        with c2:  # the workbook is made only when the button is clicked (a cell at a time in openpyxl)
            st.download_button(f"Download (Excel, {len(table)} personen)",
                               lambda: frames_to_excel_bytes({sheet: export, "Toelichting": toelichting},
                                                             number_formats={sheet: dict(number_formats or {})}),
                               file_name=excel_name,
                               mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               key=f"sk_download_xlsx_{key}", on_click=log_export,
                               args=("export-personen", view, details(excel_name)))


# --------------------------------------------------------------------------- the wijkagenda (issue 17)

def can_add_to_agenda() -> bool:
    """Whether the signed-in user may put items on the wijkagenda (every role but the read-only gemeente)."""
    user = signed_in_user()
    return user is not None and user.role != "gemeente"


def wijk_of_buurt(code: str, areas: pd.DataFrame | None = None) -> str:
    """The wijk code of a buurt: the store's ``wijk_code`` of the area when known, else 'WK' + the CBS digits."""
    if areas is not None and "wijk_code" in areas:
        found = areas.loc[areas["area_code"].astype(str) == str(code), "wijk_code"].dropna()
        if len(found) and str(found.iloc[0]):
            return str(found.iloc[0])
    return "WK" + str(code)[2:8]


def to_agenda_button(*, key: str, wijk_code: str, title: str, origin_kind: str, figure: str, links,
                     label: str = "Naar de agenda") -> dict | None:
    """A button that puts an aggregate seen on a page on the wijkagenda as a new item (status 'idee').

    Parameters
    ----------
    key : str
        Widget key of the button.
    wijk_code : str
        The wijk whose agenda gets the item.
    title : str
        Title of the item (Dutch, about the collective action, never about a person).
    origin_kind : str
        Where the item comes from (``data.schema.AGENDA_ORIGINS``: 'tekort', 'hotspot', 'signaal', ...).
    figure : str
        The aggregate figure exactly as the page shows it (protected: never a count of 1 to 4, never a person).
    links : iterable of tuple
        ``(kind, target)`` pairs (``data.schema.AGENDA_LINK_KINDS``) stored with the item.
    label : str
        Text of the button.

    Returns
    -------
    dict or None
        The stored item after a click that saved it, else None. Nothing is rendered for the read-only
        gemeente role; a refusal (AccessDenied) or validation error is shown in Dutch and nothing is stored.
    """
    from data.schema import AGENDA_OWNERS

    user = signed_in_user()
    if not can_add_to_agenda():
        return None
    if not st.button(label, key=key, icon=":material/event_note:",
                     help="Zet dit als idee op de wijkagenda, met het cijfer zoals het hier staat."):
        return None
    item = {"wijk_code": wijk_code, "title": title,
            "owner_role": user.role if user.role in AGENDA_OWNERS else "gebiedsverbinder",
            "status": "idee", "origin_kind": origin_kind, "origin_figure": figure}
    try:
        with store_errors_shown():
            saved = get_store().save_agenda_item(item, list(links))
    except DataValidationError as exc:  # also AccessDenied and ConflictError (StoreError): shown in Dutch
        show_error(exc)
        return None
    st.success(f"Op de wijkagenda gezet als {md(saved['item_id'])}: {md(title)}.")
    st.page_link("pages/wijkagenda.py", label="Naar de wijkagenda", icon=":material/event_note:")
    return saved
