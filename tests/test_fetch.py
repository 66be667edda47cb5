"""fetch-cbs on fixture files in PDOK's and StatLine's formats: no test touches the network."""

import json
from pathlib import Path

import pytest

import data.fetch as fetch
from data.area_import import read_area_file
from data.errors import DataValidationError
from data.health import read_health_file
from data.store import GeoPackageStore

FIXTURES = Path(__file__).parent / "fixtures"


class FakeServices:
    """Answers like PDOK's WFS and CBS's OData API, from the fixture files; records the calls."""

    def __init__(self, empty: bool = False):
        self.calls: list[tuple[str, dict]] = []
        self.empty = empty

    def __call__(self, url: str, params: dict):
        self.calls.append((url, params))
        if "pdok" in url:
            layer = params["typeNames"].split(":")[1]
            assert "GM0080" in params["filter"]
            data = json.loads((FIXTURES / f"pdok_{layer}.json").read_text())
            if self.empty:
                data["features"] = []
            return data
        if url.endswith("/Leeftijd"):
            return json.loads((FIXTURES / "statline_leeftijd.json").read_text())
        if url.endswith("/Marges"):
            return json.loads((FIXTURES / "statline_marges.json").read_text())
        if "skiptoken" in url:
            return json.loads((FIXTURES / "statline_page2.json").read_text())
        assert "startswith(WijkenEnBuurten,'BU0080')" in params["$filter"]
        return json.loads((FIXTURES / "statline_page1.json").read_text())


def test_pdok_layers_become_an_importable_geopackage(tmp_path):
    services = FakeServices()
    path = fetch.fetch_areas_file("GM0080", 2024, tmp_path, get=services)
    assert {c[1]["typeNames"] for c in services.calls} == {"wijkenbuurten:gemeenten", "wijkenbuurten:wijken",
                                                          "wijkenbuurten:buurten"}
    assert all(c[0] == "https://service.pdok.nl/cbs/wijkenbuurten/2024/wfs/v1_0" for c in services.calls)
    imported = read_area_file(path, gemeente="GM0080", year=2024)
    assert imported.report["per_niveau"] == {"gemeente": 1, "wijk": 2, "buurt": 4}
    assert imported.report["afgeleid"] == []
    values = imported.values.set_index(["area_code", "indicator"])
    assert values.loc[("BU00800102", "percentage_huishoudens_onder_of_rond_sociaal_minimum"), "status"] == "onbekend"
    assert values.loc[("BU00800202", "percentage_verweduwd"), "status"] == "geheim"
    assert imported.values["value"].min() >= 0
    wijken = imported.areas.loc[imported.areas["level"] == "wijk"].set_index("area_code")["name"]
    assert wijken["WK008001"] == "Centrum"


def test_paging_asks_for_the_next_page(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "PAGE_SIZE", 2)
    services = FakeServices()
    frame = fetch.fetch_pdok_layer("GM0080", 2024, "buurten", get=lambda u, p: _page(services, u, p))
    assert len(frame) == 4
    assert [c[1]["startIndex"] for c in services.calls] == [0, 2, 4]


def _page(services, url, params):
    data = services(url, params)
    start, count = params["startIndex"], params["count"]
    data["features"] = data["features"][start:start + count]
    return data


def test_statline_health_pages_and_titles(tmp_path):
    services = FakeServices()
    path = fetch.fetch_health_file("GM0080", tmp_path, get=services)
    assert sum("skiptoken" in c[0] for c in services.calls) == 1
    values = read_health_file(path).set_index(["area_code", "indicator"])
    assert values.loc[("BU00800101", "gm_eenzaam_18"), ["value", "lower", "upper"]].tolist() == [48, 43, 53]
    assert values.loc[("BU00800101", "gm_eenzaam_65"), "value"] == 55
    assert values.loc[("WK008001", "gm_moeite_rondkomen_18"), "value"] == 20
    assert (values["year"] == 2022).all()


def test_unknown_gemeente_is_a_dutch_error(tmp_path):
    with pytest.raises(DataValidationError, match="PDOK heeft geen wijken en buurten voor gemeente GM0080"):
        fetch.fetch_areas_file("GM0080", 2024, tmp_path, get=FakeServices(empty=True))


def test_cli_fetch_cbs_uses_the_same_import_path(tmp_path, monkeypatch, capsys):
    import cli

    monkeypatch.setattr(fetch, "http_get", FakeServices())
    store = tmp_path / "s.gpkg"
    assert cli.main(["fetch-cbs", "--gemeente", "GM0080", "--jaar", "2024", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "4 buurten" in out and "Gezondheidsmonitor 2022" in out
    counts = GeoPackageStore(store).counts()
    assert counts["areas"] == 7
    log = GeoPackageStore(store).read_audit()
    assert set(log["action"]) == {"nieuwe-opslag", "fetch-cbs"}  # a new own store, then two imports
    assert GeoPackageStore(store).read_batches()["kind"].tolist() == ["gezondheid", "gebieden"]


def test_cli_fetch_cbs_rejects_a_bad_code(tmp_path, capsys):
    import cli

    assert cli.main(["fetch-cbs", "--gemeente", "Leeuwarden", "--jaar", "2024", "--store",
                     str(tmp_path / "s.gpkg")]) == 2
    assert "geen gemeentecode" in capsys.readouterr().err
