"""The one reports module: HTML from Jinja2 templates with autoescape, PDF from that HTML with WeasyPrint.

Every printable report of Steunkaart (the area profile, the gap report, and the evidence report and the
wijkagenda that follow) is a template under ``reports/templates`` extending ``base.html``, rendered by
:func:`render_html`. Text from the data is escaped by Jinja's autoescape (never build HTML with
f-strings); maps are static PNG images made on the server (:mod:`mapping.static_map`) and embedded as
``data:`` URIs, so a report is one self-contained file and opening it makes no request at all.
:func:`html_to_pdf` turns the same HTML into a PDF; its URL fetcher refuses everything but ``data:``
URIs, so no PDF is ever made with something fetched from another host.

Filters in the templates: ``nl_number(decimals)`` (``1.234,5``), ``nl_date``, ``data_uri`` (PNG bytes).
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from data.errors import DataValidationError
from data.formatting import format_date, format_datetime, format_number

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PDF_MISSING = ("PDF maken lukt niet op deze computer: WeasyPrint vindt de systeembibliotheek Pango niet. "
               "Installeer Pango (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0) of "
               "druk de HTML-versie af als PDF vanuit de browser.")


def png_data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI for an image in a report (no file, no request)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _nl_number(value, decimals: int = 0) -> str:
    return format_number(value, decimals) if value is not None and not (isinstance(value, float)
                                                                         and pd.isna(value)) else ""


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of every report: autoescape on for all templates, unknown names are errors."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["nl_number"] = _nl_number
    env.filters["nl_date"] = format_date
    env.filters["nl_datetime"] = format_datetime
    env.filters["data_uri"] = png_data_uri
    return env


def frame_rows(frame: pd.DataFrame) -> list[list[str]]:
    """A table's cells as display texts for a template ('' for missing), in column order."""
    return [["" if (v is None or (not isinstance(v, str) and pd.isna(v))) else str(v) for v in row]
            for row in frame.itertuples(index=False)]


def render_html(template: str, **context) -> str:
    """Render ``reports/templates/<template>`` with autoescape.

    Parameters
    ----------
    template : str
        File name under ``reports/templates`` (e.g. ``profile.html``).
    **context
        The template's variables; ``generated`` (a timestamp) defaults to now.

    Returns
    -------
    str
        A complete HTML document without scripts or external references.
    """
    context.setdefault("generated", pd.Timestamp.now())
    return environment().get_template(template).render(**context)


def pdf_problem() -> str | None:
    """None when PDFs can be made here, otherwise the Dutch reason (WeasyPrint or Pango missing)."""
    try:
        import weasyprint  # noqa: F401  (loads Pango through cffi)
    except (ImportError, OSError):
        return PDF_MISSING
    return None


def html_to_pdf(document: str) -> bytes:
    """The PDF of a report's HTML (A4, as the template's print styles say), made with WeasyPrint.

    Raises
    ------
    DataValidationError
        When WeasyPrint cannot load Pango on this computer (the message says what to install).
    """
    problem = pdf_problem()
    if problem:
        raise DataValidationError(problem)
    import weasyprint

    # Only data: URIs (the embedded map): no file of this computer, no host.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=document, url_fetcher=fetcher, base_url=None).write_pdf()
