"""The one reports module: autoescape, no request from a PDF, static maps with a metric scale."""

from __future__ import annotations

import http.server
import io
import threading

import geopandas as gpd
import jinja2
import pytest
import shapely
from PIL import Image

from mapping.static_map import scale_bar_label, scale_bar_length_m, static_map_png
from reports import environment, frame_rows, html_to_pdf, pdf_problem, png_data_uri, render_html
from tests.conftest import in_ci


def _pdf_or_skip():
    problem = pdf_problem()
    if problem and not in_ci():
        pytest.skip(problem)


def test_data_text_is_escaped_and_never_evaluated():
    hostile = "<script>alert(1)</script>{{ 7*7 }}"
    page = render_html("base.html", title=hostile, sources=[hostile])
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page and "49" not in page


def test_unknown_template_variables_are_errors_not_blanks():
    template = environment().from_string("{{ missing_value }}")
    with pytest.raises(jinja2.UndefinedError):
        template.render()


def test_filters_write_dutch_numbers_and_embed_images():
    template = environment().from_string("{{ 1234.5 | nl_number(1) }} {{ none | nl_number }}")
    assert template.render(none=None).strip() == "1.234,5"
    assert png_data_uri(b"\x89PNG").startswith("data:image/png;base64,")


def test_frame_rows_never_show_none_or_nan():
    import pandas as pd

    rows = frame_rows(pd.DataFrame({"a": ["x", None], "b": [1.5, float("nan")]}))
    assert rows == [["x", "1.5"], ["", ""]]


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (the http.server name)
        _Counter.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_pdf_is_made_without_fetching_anything_from_a_host():
    _pdf_or_skip()
    server = http.server.HTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        page = render_html("base.html", title="Rapport", sources=["CBS"]).replace(
            "<body>", f'<body><img src="{url}/spoor.png"><link rel="stylesheet" href="{url}/stijl.css">')
        pdf = html_to_pdf(page)
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF")
    assert _Counter.hits == []


def test_scale_bar_is_metric_and_round():
    assert scale_bar_length_m(12_000) == 2000
    assert scale_bar_length_m(3_000) == 500
    assert scale_bar_length_m(100) == 100
    assert scale_bar_label(500) == "500 m"
    assert scale_bar_label(2500) == "2,5 km"
    assert scale_bar_label(10000) == "10 km"


def test_static_map_draws_areas_and_puts_the_legend_below_the_map():
    areas = gpd.GeoDataFrame({"area_code": ["BU1", "BU2"], "name": ["Oost", "West"]},
                             geometry=[shapely.box(120_000, 480_000, 121_000, 481_000),
                                       shapely.box(121_000, 480_000, 122_000, 481_000)], crs=28992)
    plain = Image.open(io.BytesIO(static_map_png(areas, ["#ff0000", "#0000ff"], width_px=400)))
    with_legend = Image.open(io.BytesIO(static_map_png(areas, ["#ff0000", "#0000ff"], width_px=400,
                                                       legend=[("#ff0000", "hoog"), ("#0000ff", "laag")],
                                                       highlight="BU1")))
    assert plain.width == with_legend.width == 400
    assert with_legend.height > plain.height  # the legend adds room below, it does not cover the map
    colours = {c for _, c in plain.convert("RGB").getcolors(1_000_000)}
    assert (255, 0, 0) in colours and (0, 0, 255) in colours
    with pytest.raises(ValueError):
        static_map_png(areas, ["#ff0000"])
