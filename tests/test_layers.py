"""The layers of DESIGN.md hold: pages reach the store only through the access layer, the store has one narrow
backend interface with two implementations, and the access layer does not import analysis code at import time."""

import ast
import subprocess
import sys
from pathlib import Path

from data.postgis import PostgisStore
from data.store import GeoPackageStore
from data.store_api import StoreBackend, store_at

ROOT = Path(__file__).resolve().parents[1]
STORE_CLASSES = {"GeoPackageStore", "PostgisStore"}  # SqlStore as a type annotation is fine


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names |= {alias.name for alias in node.names}
    return names


def test_pages_never_construct_a_store_themselves():
    offenders = {p.name: sorted(_imported_names(p) & STORE_CLASSES) for p in (ROOT / "pages").glob("*.py")}
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}, f"pages that import a store class instead of going through data.access: {offenders}"
    common = (ROOT / "pages" / "common.py").read_text(encoding="utf-8")
    # Every cached loader opens the store through ScopedStore (_scoped / _public), never a raw store_at(...).read
    assert "store_at(path)." not in common


def _protocol_members() -> set[str]:
    return {n for n in vars(StoreBackend) if not n.startswith("__") and n not in ("_is_protocol", "_is_runtime_protocol")
            and not n.startswith("_abc")}


def test_both_stores_implement_the_backend_interface(tmp_path):
    members = _protocol_members()
    assert {"location", "data_version", "_connection", "_transaction", "read_batches", "undo_batch"} <= members
    for cls in (GeoPackageStore, PostgisStore):
        missing = [m for m in members if not hasattr(cls, m)]
        assert missing == [], f"{cls.__name__} lacks {missing}"
    assert isinstance(GeoPackageStore.open(tmp_path / "a.gpkg"), StoreBackend)
    assert isinstance(store_at("postgresql://x@localhost/db"), PostgisStore)
    assert isinstance(store_at(str(tmp_path / "a.gpkg")), GeoPackageStore)


def test_accounts_are_not_store_methods():
    for name in ("create_user", "authenticate", "set_totp", "read_users", "has_users"):
        assert not hasattr(GeoPackageStore, name), f"{name} belongs in data.auth"


def test_the_access_layer_imports_no_analysis_code_at_import_time():
    code = ("import sys, data.access; print(sorted(m for m in sys.modules if m.startswith(('graphs', 'mapping', "
            "'streamlit'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
