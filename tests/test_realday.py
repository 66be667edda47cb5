"""The first real day of each real town of ../shared/realdata, from an empty store to an empty store.

As a municipality's administrator does it: ``cli.py init``, import the CBS buurten and wijken (two years
for Zaanstad), import the facilities with a type map, every page as every role, undo the provisions,
undo the areas; the store ends empty and its audit trail names every step.
"""

import json

import pytest

from data import auth
from data.auth import User
from data.store import GeoPackageStore
from tests.conftest import realdata
from tests.test_cli import run_cli
from tests.test_states import visit_every_page

TOWNS = {
    "leeuwarden": ["leeuwarden_buurten_2015.geojson", "leeuwarden_wijken_2015.geojson"],
    "haarlem": ["haarlem_buurten_2015.geojson", "haarlem_wijken_2015.geojson"],
    "zaanstad": ["zaanstad_buurten_2015.geojson", "zaanstad_wijken_2015.geojson",
                 "zaanstad_buurten_2017.geojson", "zaanstad_wijken_2017.geojson"],
}
TYPE_MAP = {"school_primary": "jongerenwerk", "school_secondary": "jongerenwerk", "care_ggz": "opbouwwerk",
            "care_vvt": "mantelzorgondersteuning", "care_ghz": "mantelzorgondersteuning",
            "hospital": "mantelzorgondersteuning"}


@pytest.mark.parametrize("town", list(TOWNS))
def test_first_real_day(town, tmp_path, monkeypatch):
    files = [realdata(name) for name in TOWNS[town]]
    facilities = realdata(f"{town}_facilities_nonosm.geojson")
    store_path = tmp_path / f"{town}.gpkg"
    assert run_cli("init", "--store", str(store_path)).returncode == 0

    for path in files:
        result = run_cli("import-areas", str(path), "--store", str(store_path), "--gebruiker", "beheer")
        assert result.returncode == 0, result.stderr
    type_map = tmp_path / "soorten.json"
    type_map.write_text(json.dumps(TYPE_MAP))
    result = run_cli("import-provisions", str(facilities), "--type-map", str(type_map), "--store", str(store_path),
                     "--gebruiker", "beheer")
    assert result.returncode == 0, result.stderr
    store = GeoPackageStore.open(store_path, create=False)
    counts = store.counts()
    assert counts["areas"] > 40 and counts["provisions"] > 50
    if town == "zaanstad":
        assert sorted(store.read_area_values()["year"].dropna().unique().tolist()) == [2015, 2017]

    wijk = store.read_areas("wijk")["area_code"].iloc[0]
    monkeypatch.setenv("STEUNKAART_STORE", str(store_path))
    for user in (User("beheer", "beheerder"), User("wijk", "wijkteam", (wijk,)), User("opbouw", "opbouwwerker"),
                 User("verbinder", "gebiedsverbinder"), User("beleid", "gemeente")):
        auth.create_user(store, user.username, user.role, user.wijken, "correct horse battery", by="beheer")
        texts = visit_every_page(user, where=f"in {town}")
        if user.sees_persons:  # no networks yet: the page says so and offers the form
            assert "Nog geen netwerkgegevens" in texts["pages/netwerken.py"]

    batches = json.loads(run_cli("imports", "--store", str(store_path), "--json").stdout)
    assert [b["kind"] for b in batches] == ["voorzieningen"] + ["gebieden"] * len(files)
    for batch in batches:  # newest first: the provisions, then the areas in reverse order
        result = run_cli("undo", str(batch["batch_id"]), "--store", str(store_path), "--gebruiker", "beheer")
        assert result.returncode == 0, result.stderr
    counts = store.counts()
    assert all(counts[k] == 0 for k in ("areas", "provisions", "persons", "ties", "participation"))
    assert store.read_area_values().empty
    actions = store.read_audit()["action"].tolist()[::-1]
    assert actions[0] == "nieuwe-opslag"
    assert actions.count("import-gebieden") == len(files) and actions.count("import-voorzieningen") == 1
    assert actions.count("ongedaan-maken") == len(files) + 1
    assert actions[-1] == "ongedaan-maken"
