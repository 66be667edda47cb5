"""Serve the map's JavaScript and CSS from the app itself, never from a public CDN.

folium loads Leaflet, jQuery, Bootstrap and icon fonts from public CDNs by default. On
closed municipal networks those are unreachable (the map stays blank) and for privacy a
resident's browser should not call third parties anyway. Leaflet comes from the
installed ``XStatic-Leaflet`` package and is copied into ``static/`` next to ``app.py``,
which Streamlit serves under ``/app/static/`` (``server.enableStaticServing``). The other
folium assets are dropped: the maps use SVG paths and circle markers only.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import folium
import xstatic.pkg.leaflet as xstatic_leaflet

APP_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = APP_DIR / "static"
STATIC_URL = "/app/static"
LEAFLET_VERSION = xstatic_leaflet.VERSION

LEAFLET_JS = [("leaflet", f"{STATIC_URL}/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{STATIC_URL}/leaflet/leaflet.css")]


def ensure_static_assets(static_dir: Path = STATIC_DIR) -> Path:
    """Copy Leaflet's dist files from the installed package into ``static_dir/leaflet``.

    Idempotent and cheap when the files are already there. Returns the target folder.
    """
    ensure_vis_assets(static_dir)
    source = Path(xstatic_leaflet.BASE_DIR)
    target = static_dir / "leaflet"
    for rel in ["leaflet.js", "leaflet.css", *(
        str(p.relative_to(source)) for p in (source / "images").glob("*.png")
    )]:
        src, dst = source / rel, target / rel
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    return target


VIS_URL = f"{STATIC_URL}/vis"


def ensure_vis_assets(static_dir: Path = STATIC_DIR) -> Path:
    """Copy vis-network (shipped inside the installed pyvis package) into ``static_dir/vis``."""
    import pyvis

    source = Path(pyvis.__file__).parent / "lib" / "vis-9.1.2"
    target = static_dir / "vis"
    for name in ("vis-network.min.js", "vis-network.css"):
        src, dst = source / name, target / name
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    return target


def local_map(**kwargs) -> folium.Map:
    """Return a folium Map whose only assets are the local Leaflet files."""
    m = folium.Map(**kwargs)
    m.default_js = list(LEAFLET_JS)
    m.default_css = list(LEAFLET_CSS)
    return m


def asset_links(m: folium.Element) -> Iterator[str]:
    """Yield every JS/CSS link that the map and its children would load."""
    stack = [m]
    while stack:
        elem = stack.pop()
        for _, link in getattr(elem, "default_js", []):
            yield link
        for _, link in getattr(elem, "default_css", []):
            yield link
        stack.extend(getattr(elem, "_children", {}).values())
