"""Shared Streamlit helpers for the pages: cached loaders and error display.

Loaders are keyed by the store path and its modification time, so a write to the store
(an import, an edit) is visible on the next rerun without a manual refresh.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from data.demo import ensure_demo_store
from data.errors import DataValidationError
from data.store import GeoPackageStore, default_store_path


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


def current_user() -> str:
    """The name written to the audit log for what this session does."""
    return st.session_state.get("sk_user", "app")


def store_path() -> str:
    """Return the configured store path as a string."""
    return str(default_store_path())


@st.cache_resource(show_spinner="De opslag wordt geopend…")
def _open_store(path: str) -> GeoPackageStore:
    return ensure_demo_store(path)


def get_store() -> GeoPackageStore:
    """Open (and on first run create with the demo municipality) the configured store.

    When the store cannot be opened the page shows why, in Dutch, and stops.
    """
    try:
        return _open_store(store_path())
    except DataValidationError as exc:
        show_error(exc)
        st.stop()


def _version(store: GeoPackageStore) -> float:
    return os.path.getmtime(store.path)


@st.cache_data(show_spinner=False)
def _areas(path: str, mtime: float, level: str) -> gpd.GeoDataFrame:
    return GeoPackageStore(path).read_areas(level)


@st.cache_data(show_spinner=False)
def _area_values(path: str, mtime: float) -> pd.DataFrame:
    return GeoPackageStore(path).read_area_values()


@st.cache_data(show_spinner=False)
def _area_index(path: str, mtime: float) -> pd.DataFrame:
    return pd.DataFrame(GeoPackageStore(path).read_table("areas").drop(columns="geometry"))


@st.cache_data(show_spinner=False)
def _counts(path: str, mtime: float) -> dict:
    return GeoPackageStore(path).counts()


def load_areas(level: str) -> gpd.GeoDataFrame:
    """Areas of one level with their key figures, cached."""
    store = get_store()
    return _areas(str(store.path), _version(store), level)


def load_area_values() -> pd.DataFrame:
    """All key figures in long form (with status 'geheim'/'onbekend'), cached."""
    store = get_store()
    return _area_values(str(store.path), _version(store))


def load_area_index() -> pd.DataFrame:
    """Codes, names and levels of all areas (no geometry), cached."""
    store = get_store()
    return _area_index(str(store.path), _version(store))


@st.cache_data(show_spinner=False)
def _provisions(path: str, mtime: float) -> gpd.GeoDataFrame:
    return GeoPackageStore(path).read_table("provisions")


@st.cache_data(show_spinner=False)
def _provision_types(path: str, mtime: float) -> dict:
    return GeoPackageStore(path).read_provision_types()


def load_provision_types() -> dict:
    """The provision type catalogue of the store (defaults plus the user's own), cached."""
    store = get_store()
    return _provision_types(str(store.path), _version(store))


def load_provisions() -> gpd.GeoDataFrame:
    """All provisions (EPSG:28992), cached."""
    store = get_store()
    return _provisions(str(store.path), _version(store))


@st.cache_resource(show_spinner="De kaart wordt opgebouwd…", max_entries=32)
def _choropleth(path: str, mtime: float, level: str, indicator: str, scheme: str, k: int, tiles: str,
                with_provisions: bool = True):
    from data.indicators import BY_NAME
    from mapping.choropleth import choropleth_map

    areas = _areas(path, mtime, level)
    values = _area_values(path, mtime)
    ind = BY_NAME[indicator]
    status = (values.loc[values["indicator"] == indicator].sort_values("year")
              .drop_duplicates("area_code", keep="last").set_index("area_code")["status"])
    return choropleth_map(
        areas, indicator, label=ind.label, unit=ind.unit, decimals=ind.decimals,
        higher_is_need=ind.higher_is_need, scheme=scheme, k=k, tiles=tiles,
        status=status.reindex(areas["area_code"]).set_axis(areas.index),
        level_label="Buurt" if level == "buurt" else "Wijk",
        provisions=_provisions(path, mtime) if with_provisions else None,
        provision_types=_provision_types(path, mtime),
    )


def cached_choropleth(level: str, indicator: str, scheme: str, k: int, tiles: str, with_provisions: bool = True):
    """The choropleth for these choices, built once: a click re-uses the same map.

    st_folium rewrites the ids inside the map it renders, so it gets a copy of the cached map;
    the copy renders to the same script, so the browser keeps the map it already has.
    """
    store = get_store()
    return copy.deepcopy(_choropleth(str(store.path), _version(store), level, indicator, scheme, k, tiles,
                                     with_provisions))


@st.cache_data(show_spinner="Netwerkmaten worden berekend…")
def _measures(path: str, mtime: float) -> pd.DataFrame:
    from graphs.measures import person_measures

    store = GeoPackageStore(path)
    persons, ties, participation = (store.read_table(n) for n in ("persons", "ties", "participation"))
    return person_measures(persons, ties, participation, store.read_table("alter_links"))


@st.cache_data(show_spinner=False)
def _signals(path: str, mtime: float, rules):
    from graphs.signals import poor_network_signals

    store = GeoPackageStore(path)
    return poor_network_signals(store.read_table("persons"), store.read_table("ties"), rules=rules,
                                measures=_measures(path, mtime))


def load_signals(rules=None) -> pd.DataFrame:
    """Network measures, screening scores and the poor-network signal for every person, cached.

    The measures are computed once per store version; changing the rules only re-applies them.
    """
    from graphs.signals import DEFAULT_RULES

    store = get_store()
    return _signals(str(store.path), _version(store), rules or DEFAULT_RULES)


@st.cache_data(show_spinner=False)
def _table(path: str, mtime: float, name: str) -> pd.DataFrame:
    return GeoPackageStore(path).read_table(name)


def load_table(name: str) -> pd.DataFrame:
    """One store table (persons, ties, participation, ...), cached."""
    store = get_store()
    return _table(str(store.path), _version(store), name)


def load_counts() -> dict:
    """Record counts per table and the schema version, cached."""
    store = get_store()
    return _counts(str(store.path), _version(store))


@contextlib.contextmanager
def uploaded_file(upload) -> Iterator[Path]:
    """Give an uploaded file a real path (readers such as GDAL need one), removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
        yield path


def show_error(exc: DataValidationError) -> None:
    """Show a validation error in Dutch, with the row-level report when there is one."""
    st.error(str(exc))
    if exc.problems:
        st.dataframe(pd.DataFrame(exc.problems), hide_index=True)
