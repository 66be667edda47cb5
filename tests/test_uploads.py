"""Upload checks: files are judged by content, too large or empty files and zip bombs are refused in Dutch."""

import gzip
import io
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from data import uploads
from data.errors import DataValidationError
from data.tabular import read_table_file
from data.uploads import AREA_KINDS, TABLE_KINDS, check_path, check_upload

CSV_TEXT = "buurtcode;naam;aantal\nBU00800000;Oud-Oost;1.234\nBU00800001;Fryslân café;12\n"
GEOJSON = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"naam": "a"}, '
           '"geometry": {"type": "Point", "coordinates": [5.8, 53.2]}}]}')


def _refused(name, data, match, allowed=TABLE_KINDS, **kwargs):
    with pytest.raises(DataValidationError, match=match) as info:
        check_upload(name, data, allowed=allowed, **kwargs)
    assert name in str(info.value) and info.value.file == name
    return str(info.value)


def _zip(members, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def small_limit(monkeypatch):
    """A 1 MB upload limit, so zips may unpack to at most 10 MB."""
    monkeypatch.setenv(uploads.MAX_UPLOAD_ENV, "1")


def test_good_csv_in_utf8_with_bom_and_in_windows_1252(tmp_path):
    assert check_upload("a.csv", CSV_TEXT.encode("utf-8-sig"), allowed=TABLE_KINDS) == "csv"
    assert check_upload("b.csv", memoryview(CSV_TEXT.encode("cp1252")), allowed=TABLE_KINDS) == "csv"
    assert check_upload("c.txt", CSV_TEXT.encode("utf-8"), allowed=TABLE_KINDS) == "csv"
    path = tmp_path / "d.csv"
    path.write_bytes(CSV_TEXT.encode("cp1252"))
    assert check_path(path, allowed=TABLE_KINDS) == "csv"
    assert read_table_file(path)["naam"].iloc[1] == "Fryslân café"


def test_good_excel_workbook(tmp_path):
    path = tmp_path / "sjabloon.xlsx"
    pd.DataFrame({"naam": ["Buurthuis"], "soort": ["buurthuis"]}).to_excel(path, index=False)
    assert check_upload(path.name, path.read_bytes(), allowed=TABLE_KINDS) == "xlsx"
    assert check_path(path, allowed=TABLE_KINDS) == "xlsx"


def test_good_geopackage_geojson_and_zipped_shapefile(tmp_path):
    frame = gpd.GeoDataFrame({"BU_CODE": ["BU00800000"]}, geometry=[box(0, 0, 100, 100)], crs=28992)
    gpkg = tmp_path / "buurten.gpkg"
    frame.to_file(gpkg, layer="buurten", driver="GPKG")
    assert check_upload(gpkg.name, gpkg.read_bytes(), allowed=AREA_KINDS) == "gpkg"

    assert check_upload("buurten.geojson", GEOJSON.encode(), allowed=AREA_KINDS) == "geojson"
    assert check_upload("buurten.json", ("\ufeff  " + GEOJSON).encode(), allowed=AREA_KINDS) == "geojson"

    folder = tmp_path / "shp"
    folder.mkdir()
    gpd.GeoDataFrame({"naam": ["a"]}, geometry=[Point(1, 2)], crs=28992).to_file(folder / "punten.shp")
    archive = _zip([(p.name, p.read_bytes()) for p in sorted(folder.iterdir())])
    assert check_upload("punten.zip", archive, allowed=AREA_KINDS) == "zip"
    assert check_path(folder / "punten.shp") == "shp"


def test_empty_file_is_refused():
    message = _refused("leeg.csv", b"", "Het bestand is leeg")
    assert message == "Het bestand is leeg. (bestand leeg.csv)"


def test_too_large_file_states_the_limit_in_dutch(monkeypatch):
    monkeypatch.setenv(uploads.MAX_UPLOAD_ENV, "0,5")
    data = (CSV_TEXT * 10_000).encode()
    assert len(data) > uploads.MB // 2
    message = _refused("groot.csv", data, "te groot")
    assert "maximaal 0,5 MiB" in message
    monkeypatch.setenv(uploads.MAX_UPLOAD_ENV, "onzin")
    assert uploads.max_upload_bytes() == 200 * uploads.MB
    assert check_upload("groot.csv", data, allowed=TABLE_KINDS) == "csv"
    # Just over the limit: the sizes would read alike in MiB, so the message gives the bytes.
    over = _refused("net.csv", data[:uploads.MB // 2 + 1], "te groot", max_bytes=uploads.MB // 2)
    assert "(524.289 bytes; maximaal 0,5 MiB = 524.288 bytes)" in over


def test_an_upload_is_checked_on_streamlits_buffer_without_a_copy(monkeypatch):
    import tracemalloc

    import streamlit as st
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    from pages.common import uploaded_file

    data = (CSV_TEXT * 40_000).encode()  # 2,9 MiB
    upload = UploadedFile(UploadedFileRec("id", "groot.csv", "text/csv", data), None)
    monkeypatch.setenv(uploads.MAX_UPLOAD_ENV, "1")
    for traced in (False, True):  # the first time also reads Streamlit's configuration
        if traced:
            tracemalloc.start()
        try:
            with pytest.raises(DataValidationError, match=r"te groot \(2,9 MiB; maximaal 1 MiB\)"), \
                    uploaded_file(upload, allowed=TABLE_KINDS):
                pass
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # No copy of the upload (getbuffer() would copy all of it); only the first MiB is looked at.
    assert peak < len(data) // 2
    # Streamlit's own limit (server.maxUploadSize, in MiB) caps ours: a larger STEUNKAART_MAX_UPLOAD_MB
    # cannot promise more than Streamlit accepts.
    monkeypatch.setenv(uploads.MAX_UPLOAD_ENV, "500")
    real = st.get_option
    monkeypatch.setattr(st, "get_option", lambda key: 2 if key == "server.maxUploadSize" else real(key))
    with pytest.raises(DataValidationError, match="maximaal 2 MiB"), uploaded_file(upload, allowed=TABLE_KINDS):
        pass
    monkeypatch.setattr(st, "get_option", real)
    with uploaded_file(upload, allowed=TABLE_KINDS) as path:
        assert path.name == "groot.csv" and path.read_bytes() == data
    assert not path.exists()


def test_program_renamed_to_csv_is_refused():
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
    message = _refused("virus.csv", exe, "geen CSV-bestand")
    assert "de inhoud is een programma" in message
    _refused("plaatje.csv", b"\x89PNG\r\n\x1a\n" + bytes(50), "afbeelding")
    _refused("rommel.csv", bytes(range(256)) * 4, "geen CSV-bestand: de inhoud is binaire gegevens")


def test_csv_renamed_to_xlsx_is_refused_and_read_table_file_agrees(tmp_path):
    message = _refused("lijst.xlsx", CSV_TEXT.encode(), r"geen Excel-bestand \(.xlsx\): de inhoud is tekst \(CSV\)")
    assert "extensie .csv" in message
    path = tmp_path / "lijst.xlsx"
    path.write_text(CSV_TEXT)
    with pytest.raises(DataValidationError, match="geen Excel-bestand"):
        read_table_file(path)
    _refused("oud.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "oud Office-bestand")
    _refused("unicode.csv", "a;b\n1;2\n".encode("utf-16"), "UTF-16")


def test_other_mismatches_and_kinds_not_allowed_here(tmp_path):
    workbook = tmp_path / "w.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(workbook, index=False)
    _refused("w.csv", workbook.read_bytes(), "geen CSV-bestand: de inhoud is een Excel-bestand")
    _refused("w.zip", workbook.read_bytes(), "geen zip-archief", allowed=AREA_KINDS)
    _refused("w.xlsx", workbook.read_bytes(), "kan hier niet gebruikt worden.*Toegestaan: GeoPackage",
             allowed=AREA_KINDS)
    _refused("kaart.gpkg", b"geen kaart", "geen GeoPackage")
    _refused("instellingen.json", b'{"a": 1}', "kan hier niet gebruikt worden: de inhoud is JSON-tekst",
             allowed=AREA_KINDS)
    _refused("kapot.zip", b"PK\x03\x04" + bytes(40), "beschadigd", allowed=AREA_KINDS)


def test_zip_bomb_by_compression_ratio_is_refused():
    bomb = _zip([("buurten.shp", bytes(50 * uploads.MB))])
    assert len(bomb) < 100_000
    message = _refused("bom.zip", bomb, "verdacht sterk ingepakt", allowed=AREA_KINDS)
    assert "buurten.shp" in message and "zip-bom" in message


def test_zip_bomb_by_total_size_and_member_count_is_refused(small_limit, monkeypatch):
    many = _zip([(f"deel{i}.dbf", bytes(uploads.MB)) for i in range(12)])
    assert len(many) < uploads.MB
    _refused("veel.zip", many, r"uitgepakt te groot \(meer dan 10 MiB\)", allowed=AREA_KINDS)
    monkeypatch.setattr(uploads, "MAX_ZIP_MEMBERS", 5)
    _refused("teveel.zip", _zip([(f"{i}.txt", b"x") for i in range(6)]), "te veel bestanden", allowed=AREA_KINDS)


def test_excel_bomb_is_refused(small_limit):
    workbook = _zip([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>"),
                     ("xl/worksheets/sheet1.xml", b" " * (12 * uploads.MB))])
    _refused("groot.xlsx", workbook, "zip-bom")


def test_unsafe_member_names_are_refused():
    for evil in ("../evil.shp", "map/../../evil.shp", "/etc/passwd", "C:\\Windows\\evil.dll", "..\\evil.shp"):
        message = _refused("pad.zip", _zip([("ok.shp", b"1234"), (evil, b"x")]), "onveilige bestandsnaam",
                           allowed=AREA_KINDS)
        assert evil in message


def test_nested_archives_are_refused():
    inner = _zip([("buurten.shp", b"1234")])
    _refused("nest.zip", _zip([("binnen.zip", inner)]), r"ander archief \('binnen.zip'\)", allowed=AREA_KINDS)
    _refused("vermomd.zip", _zip([("gegevens.dbf", inner)]), "ander archief", allowed=AREA_KINDS)
    _refused("gz.zip", _zip([("gegevens.bin", gzip.compress(b"abc"))]), "ander archief", allowed=AREA_KINDS)
    _refused("leeg.zip", _zip([]), "zip-archief is leeg", allowed=AREA_KINDS)


def _shapefile_parts(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    gpd.GeoDataFrame({"BU_CODE": ["BU00800000"]}, geometry=[box(0, 0, 100, 100)], crs=28992).to_file(
        folder / "buurt_2019.shp")
    return {p.suffix: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize(("missing", "message"), [
    (".dbf", r"Het \.dbf-bestand ontbreekt in de zip; daarin staan de kerncijfers\."),
    (".shx", r"Het \.shx-bestand ontbreekt in de zip; dat is de index bij het \.shp-bestand\."),
    (".shp", r"Het \.shp-bestand ontbreekt in de zip; daarin staan de vlakken \(de geometrie\)\."),
    (".prj", r"Het \.prj-bestand ontbreekt in de zip; daarin staat het coördinatenstelsel\."),
])
def test_zipped_shapefile_without_one_of_its_parts_is_refused(tmp_path, missing, message):
    parts = _shapefile_parts(tmp_path)
    archive = _zip([(f"kaart/buurt_2019{suffix}", data) for suffix, data in parts.items() if suffix != missing])
    text = _refused("buurt_2019.zip", archive, message, allowed=AREA_KINDS)
    assert text.endswith("Zet de .shp, .shx, .dbf en .prj van de shapefile samen in één zip. (bestand buurt_2019.zip)")


def test_zip_without_a_map_is_refused_and_other_maps_in_a_zip_pass(tmp_path):
    parts = _shapefile_parts(tmp_path)
    _refused("leesmij.zip", _zip([("LEESMIJ.txt", b"CBS wijk- en buurtkaart")]), r"De zip bevat geen shapefile",
             allowed=AREA_KINDS)
    both_missing = _zip([("a.shp", parts[".shp"]), ("a.prj", parts[".prj"])])
    text = _refused("half.zip", both_missing, r"\.shx-bestand ontbreekt", allowed=AREA_KINDS)
    assert "Het .dbf-bestand ontbreekt in de zip; daarin staan de kerncijfers." in text
    # Upper-case extensions, a macOS resource folder and a GeoJSON in a zip are all fine.
    upper = [(f"BUURT{suffix.upper()}", data) for suffix, data in parts.items()]
    assert check_upload("buurt.zip", _zip(upper + [("__MACOSX/._BUURT.SHP", b"\x00\x05\x16\x07")]),
                        allowed=AREA_KINDS) == "zip"
    assert check_upload("kaart.zip", _zip([("buurten.geojson", GEOJSON.encode())]), allowed=AREA_KINDS) == "zip"
