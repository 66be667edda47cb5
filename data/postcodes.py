"""Postcodes and buurten: which buurt a postcode lies in, and finding an area by name or postcode.

Two sources link postcodes to buurten:

* the CBS wijk- en buurtkaart gives every buurt its *most common* postcode (PC4, column ``postcode``,
  kept as ``areas.postcode``): enough to find the buurten of a PC4, not to place a PC6;
* the CBS table "Buurt, wijk en gemeente voor postcode en huisnummer" gives the buurt of every
  address (``PC6;Huisnummer;Buurt2020;Wijk2020;Gemeente2020``) or of every PC6
  (``PC6;Buurt2020;Wijk2020;Gemeente2020``), one national semicolon-separated file a year.
  :func:`read_postcode_table` turns it into one buurt per PC6 (table ``postcodes``).

CBS writes the buurt code there as its eight digits without the ``BU`` prefix, and a spreadsheet
program drops the leading zeros (Amsterdam's 0363 01 01 becomes ``3630101``); both are read as
``BU03630101``. A PC6 whose addresses lie in several buurten goes to the buurt with the most of
them (a tie: the lowest code), and is counted in the report.

Postcodes are written here as PostNL's six characters without a space (``1505AB``), a PC4 as its
four digits; the rule what a Dutch postcode is, is that of :mod:`data.addresses`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from data.addresses import normalise_postcodes
from data.errors import DataValidationError
from data.formatting import format_number

POSTCODE_COLUMNS = ("postcode", "buurt_code", "year")
SEARCH_COLUMNS = ("area_code", "name", "level", "match")
SEARCH_LEVELS = ("buurt", "wijk")
# Column names of the CBS table and of a user's own table (lower case, spaces and '_' removed).
_POSTCODE_HEADERS = ("pc6", "postcode", "postcode6", "pc6code")
_BUURT_HEADER = re.compile(r"^(?:buurt|buurtcode|bucode|bu)(\d{4})?$")
_HOUSE_NUMBER_HEADERS = ("huisnummer", "huisnr", "hnr")
_PC4 = r"[1-9][0-9]{3}"
# A buurt code as digits: gemeente (4) + wijk (2) + buurt (2), leading zeros possibly lost; the lowest
# gemeente code (0003) leaves five digits.
_NUMERIC_BUURT = r"[0-9]{5,8}"
PC6_HELP = "vier cijfers en twee letters, bijvoorbeeld 1505AB"
# Problems of one kind listed one by one; the rest of that kind is counted in one more line.
MAX_PROBLEMS_PER_KIND = 200


def normalise_postcode_series(values: pd.Series) -> pd.Series:
    """Postcodes as ``1505AB`` (PC6) or ``1505`` (PC4); missing where a cell is neither.

    Case, spaces and a hyphen between digits and letters do not matter ('1505 ab', ' 1505-ab ');
    the letter pairs that are never issued (SA, SD, SS) are no postcode (:mod:`data.addresses`).
    """
    text = values.astype("string").str.replace("-", " ", regex=False).str.strip()
    pc6, _ = normalise_postcodes(text)
    pc6 = pc6.astype("string").str.replace(" ", "", regex=False)
    is_pc4 = text.str.fullmatch(_PC4).fillna(False).astype(bool)
    return pc6.fillna(text.where(is_pc4)).astype("string")


def normalise_postcode(text) -> str | None:
    """One postcode as ``1505AB`` or ``1505``; None when the text is neither.

    Parameters
    ----------
    text : str or None
        What a user typed: '1505 ab', '1505AB', ' 1505-ab ' and '1505' are postcodes.

    Returns
    -------
    str or None
        The PC6 without space in capitals, the PC4, or None.
    """
    if text is None:
        return None
    value = normalise_postcode_series(pd.Series([text], dtype=object)).iloc[0]
    return None if pd.isna(value) else str(value)


# --------------------------------------------------------------------------- the CBS table

def read_postcode_table(path: str | Path, *, file_name: str | None = None,
                        known_buurten=None) -> pd.DataFrame:
    """Read the CBS table "Buurt, wijk en gemeente voor postcode en huisnummer" into one buurt per PC6.

    Parameters
    ----------
    path : str or Path
        CSV (';', ',' or tab; as CBS publishes it: ``PC6;Huisnummer;Buurt2020;Wijk2020;Gemeente2020``
        per address, or ``PC6;Buurt2020;Wijk2020;Gemeente2020`` per PC6) or Excel. A table of one's own
        with the columns ``postcode`` and ``buurtcode`` (``BU03630101`` or the CBS digits) works too.
    file_name : str, optional
        The name the user knows the file by (an upload), for messages; default the file's name.
    known_buurten : iterable of str, optional
        The buurt codes in the store. When given, rows for buurten of other gemeenten are left out
        (the CBS file covers the whole country) and counted, and a buurt code of one of the store's
        gemeenten that is not in the store is a problem (another year's buurt division).

    Returns
    -------
    DataFrame
        ``postcode`` ('1505AB'), ``buurt_code`` ('BU04791110') and ``year`` (Int64, from the column
        name ``Buurt2020`` or else the file name), one row per PC6, sorted by postcode. ``attrs['report']``
        holds the counts: ``rijen``, ``postcodes``, ``buurten``, ``meerdere_buurten`` (PC6 with addresses
        in more than one buurt, given to the buurt with the most), ``buiten_gemeente`` (rows left out),
        ``per_adres`` (whether the file lists addresses) and ``jaar``.

    Raises
    ------
    DataValidationError
        A missing, empty or unreadable file, no postcode or buurt column (naming the columns found), and
        with ``problems`` (file, row, column, message) every row with an empty or invalid postcode or
        buurt code and, with ``known_buurten``, every buurt code of a known gemeente that is not in the
        store; none of the postcodes in a gemeente of the store.
    """
    from data.area_import import detect_year
    from data.cbs import raise_if_problems
    from data.tabular import read_table_file

    path = Path(path)
    file = file_name or path.name
    frame = read_table_file(path)  # its messages name the file on disk (an upload keeps its name there)
    keys = {re.sub(r"[\s_\-]", "", str(c).lower()): c for c in frame.columns}
    pc_col = next((keys[k] for k in _POSTCODE_HEADERS if k in keys), None)
    bu_key = next((k for k in keys if _BUURT_HEADER.match(k)), None)
    found = ", ".join(f"'{c}'" for c in frame.columns[:8])
    if pc_col is None:
        raise DataValidationError(f"Geen kolom met de postcode gevonden: verwacht 'PC6' (CBS) of 'postcode'. "
                                  f"Het bestand heeft {found}.", file=file, column="PC6")
    if bu_key is None:
        raise DataValidationError(f"Geen kolom met de buurtcode gevonden: verwacht 'Buurt2020' (CBS, met het "
                                  f"jaar) of 'buurtcode'. Het bestand heeft {found}.", file=file, column="Buurt")
    bu_col = keys[bu_key]
    header_year = _BUURT_HEADER.match(bu_key).group(1)
    year = int(header_year) if header_year else detect_year(Path(file))
    rows = np.arange(len(frame)) + 2  # as a spreadsheet shows them: header = row 1
    problems: list[dict] = []

    raw_pc = frame[pc_col].astype("string").str.strip()
    postcode = _per_value(raw_pc, normalise_postcode_series)
    empty_pc = (raw_pc.isna() | (raw_pc == "")).to_numpy(dtype=bool)
    bad_pc = (~empty_pc & (postcode.isna() | (postcode.str.len() != 6)).to_numpy(dtype=bool))
    _problems(problems, file, rows, empty_pc, pc_col, "De postcode ontbreekt.")
    _problems(problems, file, rows, bad_pc, pc_col,
              "'" + raw_pc.fillna("").astype(str).to_numpy(dtype=object) + "' is geen postcode van zes tekens "
              f"({PC6_HELP}).")

    raw_bu = frame[bu_col].astype("string").str.strip().str.upper()
    buurt = _per_value(raw_bu, buurt_codes)
    empty_bu = (raw_bu.isna() | (raw_bu == "")).to_numpy(dtype=bool)
    bad_bu = ~empty_bu & buurt.isna().to_numpy(dtype=bool)
    _problems(problems, file, rows, empty_bu, bu_col, "De buurtcode ontbreekt.")
    _problems(problems, file, rows, bad_bu, bu_col,
              "'" + raw_bu.fillna("").astype(str).to_numpy(dtype=object) + "' is geen buurtcode: verwacht de "
              "acht cijfers van CBS (bijvoorbeeld 04791110, ook zonder voorloopnullen) of BU gevolgd door acht "
              "cijfers.")

    usable = ~(empty_pc | bad_pc | empty_bu | bad_bu)
    outside = np.zeros(len(frame), dtype=bool)
    if known_buurten is not None:
        known = pd.Index(pd.unique(pd.Series(list(known_buurten), dtype=object).astype(str)))
        if known.empty:
            raise DataValidationError("Er staan nog geen buurten in de opslag. Importeer eerst de CBS-gebieden "
                                      "(hierboven) en daarna de postcodes.", file=file)
        gemeenten = set(known.str.slice(2, 6))
        in_gemeente = buurt.str.slice(2, 6).isin(gemeenten).fillna(False).to_numpy(dtype=bool)
        outside = usable & ~in_gemeente
        unknown = usable & in_gemeente & ~buurt.isin(known).fillna(False).to_numpy(dtype=bool)
        _problems(problems, file, rows, unknown, bu_col,
                  "Buurt " + buurt.fillna("").astype(str).to_numpy(dtype=object) + " staat niet in de opslag. "
                  "Kies de postcodetabel van het jaar van de buurtindeling in de opslag, of importeer eerst de "
                  "CBS-gebieden van dat jaar.")
        if usable.any() and not (usable & in_gemeente).any():
            raise_if_problems(problems)
            raise DataValidationError(
                "Geen van de postcodes ligt in een gemeente uit de opslag ("
                + ", ".join(sorted(f"GM{g}" for g in gemeenten)[:5]) + "). Kies de tabel die deze gemeente bevat.",
                file=file, column=bu_col)
    problems.sort(key=lambda p: (p["rij"], str(p["kolom"])))
    raise_if_problems(problems)

    keep = usable & ~outside
    pairs = pd.DataFrame({"postcode": postcode[keep].to_numpy(dtype=object),
                          "buurt_code": buurt[keep].to_numpy(dtype=object)})
    counted = pairs.value_counts().rename("n").reset_index()
    several = counted["postcode"].duplicated(keep=False)
    # Most addresses first; of equal counts the lowest code (sort is stable on the code order).
    best = (counted.sort_values(["postcode", "n", "buurt_code"], ascending=[True, False, True])
            .drop_duplicates("postcode", keep="first"))
    out = pd.DataFrame({"postcode": best["postcode"].to_numpy(dtype=object),
                        "buurt_code": best["buurt_code"].to_numpy(dtype=object),
                        "year": pd.array([year] * len(best), dtype="Int64")})
    out.attrs["report"] = {
        "bestand": file,
        "rijen": int(len(frame)),
        "per_adres": any(k in keys for k in _HOUSE_NUMBER_HEADERS),
        "postcodes": int(len(out)),
        "buurten": int(out["buurt_code"].nunique()),
        "meerdere_buurten": int(counted.loc[several, "postcode"].nunique()),
        "buiten_gemeente": int(outside.sum()),
        "jaar": year,
    }
    return out.reset_index(drop=True)


def _per_value(values: pd.Series, rule) -> pd.Series:
    """``rule`` applied to each distinct value once: a PC6 recurs for every address of it in the CBS table."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    done = np.append(rule(pd.Series(distinct, dtype="string")).to_numpy(dtype=object), None)
    return pd.Series(done[codes], index=values.index, dtype="string")  # code -1 (missing) takes the None


def buurt_codes(values: pd.Series) -> pd.Series:
    """Buurt codes as ``BU`` + eight digits from CBS digits ('3630101', '04791110', '4791110.0') or BU codes.

    Anything else is missing.
    """
    text = values.astype("string").str.strip().str.upper().str.replace(r"\.0+$", "", regex=True)
    digits = text.str.fullmatch(_NUMERIC_BUURT).fillna(False).astype(bool)
    prefixed = text.str.fullmatch(r"BU[0-9]{8}").fillna(False).astype(bool)
    return ("BU" + text.str.zfill(8)).where(digits, text.where(prefixed)).astype("string")


def check_postcode_frame(frame: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Check a postcode table before it is stored; return it with postcodes as ``1505AB``.

    Parameters
    ----------
    frame : DataFrame
        ``postcode`` and ``buurt_code`` (required), ``year`` and ``source`` (optional).
    file : str, optional
        The file it came from, for messages.

    Returns
    -------
    DataFrame
        ``postcode``, ``buurt_code``, ``year`` (Int64) and ``source`` if present.

    Raises
    ------
    DataValidationError
        Missing columns, no rows, a postcode that is no PC6, a buurt code that is no ``BU`` code, or a
        postcode twice; the message names the first row (header = row 1) and the column.
    """
    missing = [c for c in ("postcode", "buurt_code") if c not in frame.columns]
    if missing:
        raise DataValidationError(f"De postcodetabel mist de kolom(men) {', '.join(missing)}.", file=file,
                                  column=missing[0])
    if frame.empty:
        raise DataValidationError("De postcodetabel bevat geen postcodes; er is niets geïmporteerd.", file=file)
    postcode = normalise_postcode_series(frame["postcode"])
    bad = (postcode.isna() | (postcode.str.len() != 6)).to_numpy(dtype=bool)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise DataValidationError(f"'{frame['postcode'].iloc[at]}' is geen postcode van zes tekens "
                                  f"({format_number(int(bad.sum()))} rijen).", file=file, row=at + 2,
                                  column="postcode")
    codes = frame["buurt_code"].astype("string").str.strip()
    bad = ~codes.str.fullmatch(r"BU[0-9]{8}").fillna(False).to_numpy(dtype=bool)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise DataValidationError(f"'{frame['buurt_code'].iloc[at]}' is geen buurtcode (BU gevolgd door acht "
                                  "cijfers).", file=file, row=at + 2, column="buurt_code")
    dup = postcode.duplicated().to_numpy(dtype=bool)
    if dup.any():
        at = int(np.flatnonzero(dup)[0])
        raise DataValidationError(f"Postcode {postcode.iloc[at]} staat meer dan één keer in de tabel; elke "
                                  "postcode hoort bij één buurt.", file=file, row=at + 2, column="postcode")
    out = pd.DataFrame({"postcode": postcode.to_numpy(dtype=object), "buurt_code": codes.to_numpy(dtype=object),
                        "year": pd.array(frame["year"], dtype="Int64") if "year" in frame
                        else pd.array([None] * len(frame), dtype="Int64")})
    if "source" in frame:
        out["source"] = frame["source"].to_numpy(dtype=object)
    return out


def describe_postcode_table(frame: pd.DataFrame) -> list[str]:
    """The report of :func:`read_postcode_table` as Dutch lines for the Beheer page and the CLI."""
    report = frame.attrs.get("report", {})
    lines = [f"{format_number(report.get('postcodes', len(frame)))} postcodes (PC6) in "
             f"{format_number(report.get('buurten', frame['buurt_code'].nunique()))} buurten"
             + (f", buurtindeling {report['jaar']}" if report.get("jaar") else "") + "."]
    if report.get("per_adres"):
        lines.append(f"Gelezen uit {format_number(report['rijen'])} adressen.")
    skipped = report.get("buiten_gemeente", 0)
    if skipped:
        lines.append(f"{format_number(skipped)} "
                     + ("rij voor een buurt van een andere gemeente is" if skipped == 1
                        else "rijen voor buurten van andere gemeenten zijn") + " overgeslagen.")
    return lines


def postcode_table_warnings(frame: pd.DataFrame) -> list[str]:
    """Dutch warnings about a table read by :func:`read_postcode_table` (PC6 in more than one buurt)."""
    several = frame.attrs.get("report", {}).get("meerdere_buurten", 0)
    if not several:
        return []
    return [f"{format_number(several)} "
            + ("postcode ligt in meer dan één buurt; die is" if several == 1
               else "postcodes liggen in meer dan één buurt; elk is")
            + " gekoppeld aan de buurt met de meeste adressen (bij gelijke aantallen de laagste buurtcode)."]


def _problems(problems: list[dict], file: str, rows: np.ndarray, mask: np.ndarray, column: str, messages) -> None:
    """Add one problem per flagged row, at most MAX_PROBLEMS_PER_KIND, and one line counting the rest."""
    from data.cbs import _add_problems

    mask = np.asarray(mask, dtype=bool)
    flagged = np.flatnonzero(mask)
    if not len(flagged):
        return
    listed = np.zeros(len(mask), dtype=bool)
    listed[flagged[:MAX_PROBLEMS_PER_KIND]] = True
    texts = messages if isinstance(messages, str) else np.asarray(messages, dtype=object)[listed]
    _add_problems(problems, file, rows, listed, column, texts)
    rest = len(flagged) - MAX_PROBLEMS_PER_KIND
    if rest > 0:
        problems.append({"bestand": file, "rij": int(rows[flagged[MAX_PROBLEMS_PER_KIND]]), "kolom": column,
                         "melding": f"En nog {format_number(rest)} rijen met hetzelfde probleem in deze kolom."})


# --------------------------------------------------------------------------- search

def _folded(values: pd.Series) -> pd.Series:
    """Text without accents, case or repeated spaces, for comparing names ('Zuiderhóut ' ~ 'zuiderhout')."""
    return (values.astype("string").str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
            .str.casefold().str.replace(r"\s+", " ", regex=True).str.strip())


def _empty_result() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in SEARCH_COLUMNS})


def _result(rows: pd.DataFrame, match) -> pd.DataFrame:
    return pd.DataFrame({"area_code": rows["area_code"].to_numpy(dtype=object),
                         "name": rows["name"].to_numpy(dtype=object),
                         "level": rows["level"].to_numpy(dtype=object),
                         "match": np.broadcast_to(np.asarray(match, dtype=object), (len(rows),)).copy()})


def search_areas(query: str, areas: pd.DataFrame, postcodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Find buurten and wijken by name or postcode, best match first.

    Parameters
    ----------
    query : str
        What the user typed: a PC6 ('1505 AB'), a PC4 ('1505') or (part of) a name.
    areas : DataFrame
        The store's areas: ``area_code``, ``name``, ``level`` and, for buurten, ``postcode`` (CBS's
        most common PC4; optional).
    postcodes : DataFrame, optional
        The table ``postcodes`` (``postcode`` as '1505AB', ``buurt_code``); None or empty when none is
        imported.

    Returns
    -------
    DataFrame
        ``area_code``, ``name``, ``level`` and ``match`` (Dutch: how it matched), empty with those
        columns when nothing matches. A PC6 in the postcode table gives its buurt ('postcode 1505AB');
        another PC6 is looked up by its PC4. A PC4 gives the buurten with PC6 of it in the table, most
        first ('postcode 1505 (12 postcodes in deze buurt)'), then those whose CBS postcode it is
        ('postcode 1505 (meest voorkomende postcode volgens CBS)'). Any other text (or a postcode that
        finds nothing) is looked up in the names of buurten and wijken, case and accents ignored: the
        exact name first, then names starting with it, then names containing it ('naam').
    """
    text = "" if query is None else str(query).strip()
    if not text or areas is None or areas.empty:
        return _empty_result()
    candidates = areas.loc[areas["level"].isin(SEARCH_LEVELS)]
    code = normalise_postcode(text)
    if code is not None:
        found = _postcode_matches(code, candidates, postcodes)
        if len(found):
            return found
    return _name_matches(text, candidates)


def _postcode_matches(code: str, candidates: pd.DataFrame, postcodes: pd.DataFrame | None) -> pd.DataFrame:
    buurten = candidates.loc[candidates["level"] == "buurt"]
    if postcodes is not None and len(postcodes):
        table = pd.DataFrame({"postcode": postcodes["postcode"].astype("string").str.upper()
                              .str.replace(" ", "", regex=False),
                              "buurt_code": postcodes["buurt_code"].astype("string")})
    else:
        table = pd.DataFrame({"postcode": pd.Series(dtype="string"), "buurt_code": pd.Series(dtype="string")})
    if len(code) == 6:
        exact = buurten.loc[buurten["area_code"].isin(table.loc[table["postcode"] == code, "buurt_code"])]
        if len(exact):
            return _result(exact, f"postcode {code}")
        code = code[:4]
    per_buurt = table.loc[table["postcode"].str.slice(0, 4) == code].groupby("buurt_code").size()
    n = buurten["area_code"].map(per_buurt).fillna(0).astype(int)
    cbs = (buurten["postcode"].astype("string") == code).fillna(False).astype(bool) if "postcode" in buurten \
        else pd.Series(False, index=buurten.index)
    chosen = buurten.assign(_n=n, _cbs=cbs).loc[(n > 0) | cbs]
    if chosen.empty:
        return _empty_result()
    chosen = chosen.sort_values(["_n", "_cbs", "name", "area_code"], ascending=[False, False, True, True])
    counts = chosen["_n"].to_numpy()
    numbers = np.array([format_number(int(v)) for v in counts], dtype=object)
    match = np.where(counts > 0,
                     f"postcode {code} (" + numbers + np.where(counts == 1, " postcode", " postcodes")
                     + " in deze buurt)",
                     f"postcode {code} (meest voorkomende postcode volgens CBS)")
    return _result(chosen, match)


def _name_matches(text: str, candidates: pd.DataFrame) -> pd.DataFrame:
    wanted = _folded(pd.Series([text])).iloc[0]
    if not wanted:
        return _empty_result()
    names = _folded(candidates["name"]).fillna("")
    hit = names.str.contains(wanted, regex=False).to_numpy(dtype=bool)
    if not hit.any():
        return _empty_result()
    chosen = candidates.loc[hit]
    rank = np.select([names[hit] == wanted, names[hit].str.startswith(wanted)], [0, 1], 2)
    level = chosen["level"].map({lvl: i for i, lvl in enumerate(SEARCH_LEVELS)}).to_numpy()
    chosen = chosen.assign(_rank=rank, _level=level, _name=names[hit].to_numpy())
    chosen = chosen.sort_values(["_rank", "_name", "_level", "area_code"])
    return _result(chosen, "naam")
