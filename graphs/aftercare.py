"""The aftercare ("nazorg") schedule, the follow-up measurements that are due, and a team's "te doen" list.

Pure functions on the store's tables (``aftercare_plans``, ``aftercare_contacts``, ``measurements``,
``persons``, ``provisions`` and the provision type catalogue); nothing here loops over plans or persons:
every schedule is built with :func:`numpy.repeat` and merges over the whole table.

The schedule of an aftercare plan
---------------------------------
A plan that starts on ``starts_on`` (the day support ended) with ``c`` contacts per year
(``contacts_per_year``) over ``M`` months (``months``) has

    n = ceil(c · M / 12)

planned contacts, and contact ``k`` (k = 1 .. n) is planned on

    planned_on_k = starts_on + round(k · 365.25 / c) days      (round half up)

so with c = 4 about every three months (91, 183, 274 and 365 days after the start), with c = 5 over 12 months
five contacts, with c = 4 over 6 months two. The days are computed in whole numbers,
``(2·k·36525 + 100·c) // (200·c)``, so no floating-point rounding can move a date.

A planned contact is

- 'gedaan'     when a contact is registered for its sequence number (``aftercare_contacts``);
- 'vervallen'  when it is not done and the plan is no longer active (status 'gestopt' or 'afgerond');
- 'te laat'    when it is not done, the plan is active and ``planned_on`` lies before ``today``;
  ``days_overdue`` = today − planned_on (> 0);
- 'te doen'    otherwise (not done, plan active, planned today or later).

A registered contact whose sequence lies beyond n (the plan was shortened after it was registered) stays
listed, as 'gedaan', on the date it was planned on when registered (else the rule's date).

Follow-up measurements that are due
-----------------------------------
For each person × provision with an intake measurement (moment T0 with a date ``measured_on``) whose provision
type has follow-up weeks (``t1_weeks``, ``t2_weeks``, ``t3_weeks``: :attr:`ProvisionType.moment_weeks`), each
later moment T1..T3 with weeks set is due on

    due_on = T0 date + weeks · 7 days

unless it is measured (a measurement row for that person, provision and moment exists) or a later moment is
measured already (a moment cannot be measured afterwards). A moment without weeks is not planned (its date is
entered with the measurement). Status 'te laat' / 'te doen' and ``days_overdue`` as for contacts. Both the
participants and the comparison group are followed (``study_group``).

The "te doen" list
------------------
For a period [start, end] (both days inclusive): every open item (aftercare contact 'te doen' / 'te laat' of an
active plan, due measurement) planned in the period, plus every overdue one ('te laat': planned before today
and not done), also when it was planned before the period. Contacts of stopped or finished plans
('vervallen') are never on it. With ``wijken`` only the persons living in those wijken (the rule of
:meth:`data.auth.User.in_scope`: a buurt code ``BU`` + 8 digits lies in wijk ``WK`` + its first 6 digits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.schema import DEFAULT_AFTERCARE_MONTHS, DEFAULT_AFTERCARE_PER_YEAR, MOMENTS

DONE = "gedaan"
OPEN = "te doen"
OVERDUE = "te laat"
LAPSED = "vervallen"
STATUSES = (DONE, OPEN, OVERDUE, LAPSED)
ACTIVE_PLAN = "actief"
FOLLOWUP_MOMENTS = ("T1", "T2", "T3")
KIND_CONTACT = "nazorgcontact"
KIND_MEASUREMENT = "meting"

CONTACT_COLUMNS = ["plan_id", "person_id", "provision_id", "reason", "sequence", "planned_on", "done_on",
                   "by_role", "outcome", "status", "days_overdue", "plan_version"]
DUE_COLUMNS = ["person_id", "provision_id", "study_group", "moment", "due_on", "status", "days_overdue"]
TODO_COLUMNS = ["kind", "person_id", "buurt_code", "provision_id", "provision_name", "what", "due_on", "status",
                "days_overdue", "plan_id", "sequence", "moment", "plan_version"]
OVERVIEW_COLUMNS = ["plan_id", "person_id", "provision_id", "reason", "status", "starts_on", "planned", "done",
                    "overdue", "next_due", "last_outcome", "plan_version"]

_PLAN_COLUMNS = ("plan_id", "person_id", "starts_on")
_CONTACT_INPUT = ("plan_id", "sequence", "done_on")
_MEASUREMENT_INPUT = ("person_id", "provision_id", "moment", "measured_on")
_DATE_COLUMNS = {"planned_on", "done_on", "due_on", "starts_on", "next_due"}
_INT_COLUMNS = {"sequence", "days_overdue", "plan_version", "planned", "done", "overdue"}
# 'meting T2 (follow-up 1)': the moment's label without its code, from data.schema.MOMENTS.
_MOMENT_NAMES = {m: re.sub(r"\s*\(T\d\)$", "", label) for m, label in MOMENTS.items()}
_WIJK = re.compile(r"WK\d{6}")


# ----------------------------------------------------------------------------------------------- helpers

def _empty(columns: list[str]) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of a result."""
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in _DATE_COLUMNS else
                                      "Int64" if c in _INT_COLUMNS else object) for c in columns})


def _day(value, what: str) -> pd.Timestamp:
    """A date argument (text, date or timestamp) as a timestamp at midnight."""
    day = pd.to_datetime(value, errors="coerce")
    if value is None or pd.isna(day):
        raise DataValidationError(f"Geef een geldige datum voor {what}.", column=what)
    return pd.Timestamp(day).normalize()


def _require(frame: pd.DataFrame | None, columns, table: str) -> None:
    """Refuse a table that lacks a column this module needs (one Dutch message naming them all)."""
    if frame is None:
        raise DataValidationError(f"De tabel {table} ontbreekt.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(f"De tabel {table} mist de kolom(men) {', '.join(missing)}.", column=missing[0])


def _dates(values: pd.Series) -> pd.Series:
    """Dates as datetime64 at midnight (text, dates or timestamps); unreadable -> NaT."""
    return pd.to_datetime(values, errors="coerce").dt.normalize().astype("datetime64[ns]")


def _status(done: np.ndarray, active: np.ndarray, planned: pd.Series, today: pd.Timestamp):
    """Status and days overdue of planned items by the rules in the module docstring."""
    late = ~done & active & (planned < today).to_numpy()
    status = np.select([done, ~active, late], [DONE, LAPSED, OVERDUE], default=OPEN)
    days = pd.Series((today - planned).dt.days.to_numpy(), dtype="Int64").where(late, pd.NA)
    return status, days.astype("Int64").to_numpy()


def _type_weeks(provision_types) -> pd.DataFrame:
    """The follow-up weeks per type code (columns code, T1, T2, T3) from the catalogue or its table."""
    if isinstance(provision_types, pd.DataFrame):
        _require(provision_types, ("code",), "provision_types")
        frame = pd.DataFrame({"code": provision_types["code"].astype(str)})
        for moment in FOLLOWUP_MOMENTS:
            column = f"{moment.lower()}_weeks"
            frame[moment] = (pd.to_numeric(provision_types[column], errors="coerce").to_numpy()
                             if column in provision_types else np.nan)
        return frame
    if not isinstance(provision_types, Mapping):
        raise DataValidationError("De soorten voorzieningen ontbreken (catalogus of tabel provision_types).")
    rows = [{"code": str(code), **{m: getattr(t, "moment_weeks", {}).get(m) for m in FOLLOWUP_MOMENTS}}
            for code, t in provision_types.items()]
    frame = pd.DataFrame(rows, columns=["code", *FOLLOWUP_MOMENTS])
    for moment in FOLLOWUP_MOMENTS:
        frame[moment] = pd.to_numeric(frame[moment], errors="coerce")
    return frame


def _in_wijken(buurt_codes: pd.Series, wijken) -> np.ndarray:
    """Whether each buurt code lies in one of ``wijken`` (the rule of data.auth.User.in_scope)."""
    from data.auth import User

    wijken = (wijken,) if isinstance(wijken, str) else tuple(str(w) for w in wijken)
    bad = [w for w in wijken if not _WIJK.fullmatch(w)]
    if bad:
        raise DataValidationError(f"'{bad[0]}' is geen wijkcode; een wijkcode is WK met 6 cijfers, bijvoorbeeld "
                                  "WK199900.", column="wijken")
    return User("te-doen-lijst", "wijkteam", wijken).in_scope(buurt_codes).to_numpy(dtype=bool)


def _plan_frame(plans: pd.DataFrame) -> pd.DataFrame:
    """The plans with defaults filled in, checked, and their number of contacts n = ceil(c·M/12)."""
    _require(plans, _PLAN_COLUMNS, "aftercare_plans")

    def column(name, default=None):
        if name not in plans:
            return pd.Series(default, index=plans.index, dtype=object)
        return plans[name].astype(object).where(plans[name].notna(), default)

    p = pd.DataFrame({"plan_id": plans["plan_id"].astype(str).to_numpy(),
                      "person_id": plans["person_id"].astype(str).to_numpy(),
                      "provision_id": column("provision_id").to_numpy(),
                      "reason": column("reason").to_numpy(),
                      "status": column("status", ACTIVE_PLAN).astype(str).to_numpy(),
                      "starts_on": _dates(plans["starts_on"]).to_numpy()})
    for name, default, target in (("contacts_per_year", DEFAULT_AFTERCARE_PER_YEAR, "c"),
                                  ("months", DEFAULT_AFTERCARE_MONTHS, "m")):
        values = pd.to_numeric(plans[name], errors="coerce") if name in plans else pd.Series(np.nan, index=plans.index)
        p[target] = values.fillna(default).to_numpy()
    p["active"] = (p["status"] == ACTIVE_PLAN).to_numpy()
    p["plan_version"] = (pd.to_numeric(plans["version"], errors="coerce").astype("Int64").to_numpy()
                         if "version" in plans else pd.array([pd.NA] * len(p), dtype="Int64"))
    problems = [(p["starts_on"].isna(), "starts_on", "heeft geen geldige begindatum"),
                (p["c"] < 1, "contacts_per_year", "heeft minder dan 1 contact per jaar"),
                (p["m"] < 1, "months", "loopt minder dan 1 maand")]
    for bad, name, what in problems:
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataValidationError(f"Nazorgplan {p['plan_id'].iloc[first]} {what} ({int(bad.sum())} plan(nen)).",
                                      row=first + 2, column=name)
    p["c"] = p["c"].astype("int64")
    p["m"] = p["m"].astype("int64")
    p["n"] = (p["c"] * p["m"] + 11) // 12  # ceil(c·M/12) in whole numbers
    return p


# ----------------------------------------------------------------------------------------------- schedule

def planned_contacts(plans: pd.DataFrame, contacts: pd.DataFrame | None, *, today) -> pd.DataFrame:
    """List every planned contact of every aftercare plan with its status on ``today``.

    The rule (see the module docstring): a plan with ``c`` contacts per year over ``M`` months has
    ``n = ceil(c·M/12)`` contacts; contact ``k`` (1..n) is planned on ``starts_on + round(k·365.25/c)`` days
    (round half up). Status 'gedaan' (registered for that sequence), 'vervallen' (not done, plan 'gestopt' or
    'afgerond'), 'te laat' (not done, plan active, planned before ``today``) or 'te doen'. A registered contact
    beyond n (plan shortened later) stays listed as 'gedaan'. Contacts of plans not in ``plans`` are left out
    (e.g. another wijk's plans, filtered by the scoped store).

    Parameters
    ----------
    plans : DataFrame
        The ``aftercare_plans`` table: plan_id, person_id, starts_on and, where present, provision_id, reason,
        contacts_per_year (missing: 4), months (missing: 12), status (missing: 'actief'), version.
    contacts : DataFrame or None
        The ``aftercare_contacts`` table: plan_id, sequence, done_on and, where present, planned_on, by_role,
        outcome.
    today : date-like
        The day the status is judged on.

    Returns
    -------
    DataFrame
        One row per planned (or registered) contact, columns :data:`CONTACT_COLUMNS`, sorted by plan and
        sequence; ``sequence``, ``days_overdue`` (> 0 only for 'te laat', else missing) and ``plan_version``
        Int64, dates datetime64.

    Raises
    ------
    DataValidationError
        A table without a needed column, a plan without a start date, numbers of contacts or months that are
        not at least 1, or ``today`` that is no date.
    """
    today = _day(today, "vandaag")
    if plans is None or plans.empty:
        return _empty(CONTACT_COLUMNS)
    p = _plan_frame(plans)
    if contacts is not None and len(contacts):
        _require(contacts, _CONTACT_INPUT, "aftercare_contacts")

    # n = ceil(c·M/12) rows per plan, k = 1..n within each plan.
    n = p["n"].to_numpy()
    at = np.repeat(np.arange(len(p)), n)
    k = np.arange(len(at)) - np.repeat(np.cumsum(n) - n, n) + 1
    schedule = p.iloc[at].reset_index(drop=True)
    schedule["sequence"] = k
    c = schedule["c"].to_numpy()
    days = (2 * k * 36525 + 100 * c) // (200 * c)  # round(k·365.25/c), half up, in whole numbers
    schedule["planned_on"] = schedule["starts_on"] + pd.to_timedelta(days, unit="D")

    done = pd.DataFrame(columns=["plan_id", "sequence", "done_on", "stored_planned_on", "by_role", "outcome"])
    if contacts is not None and len(contacts):
        done = pd.DataFrame({
            "plan_id": contacts["plan_id"].astype(str).to_numpy(),
            "sequence": pd.to_numeric(contacts["sequence"], errors="coerce").to_numpy(),
            "done_on": _dates(contacts["done_on"]).to_numpy(),
            "stored_planned_on": (_dates(contacts["planned_on"]).to_numpy() if "planned_on" in contacts
                                  else pd.NaT),
            "by_role": contacts["by_role"].astype(object).to_numpy() if "by_role" in contacts else None,
            "outcome": contacts["outcome"].astype(object).to_numpy() if "outcome" in contacts else None,
        })
        done = done.loc[done["sequence"].notna() & done["plan_id"].isin(set(p["plan_id"]))]
        done = done.astype({"sequence": "int64"}).drop_duplicates(["plan_id", "sequence"], keep="last")
    merged = schedule.merge(done, on=["plan_id", "sequence"], how="left", indicator=True)
    beyond = done.merge(schedule[["plan_id", "sequence"]], on=["plan_id", "sequence"], how="left",
                        indicator=True)
    beyond = beyond.loc[beyond["_merge"] == "left_only"].drop(columns="_merge")
    if len(beyond):
        extra = beyond.merge(p, on="plan_id", how="left")
        rule = (2 * extra["sequence"].to_numpy() * 36525 + 100 * extra["c"].to_numpy()) // (200 * extra["c"])
        extra["planned_on"] = extra["stored_planned_on"].fillna(extra["starts_on"] + pd.to_timedelta(rule, unit="D"))
        extra["_merge"] = "both"
        merged = pd.concat([merged, extra[merged.columns]], ignore_index=True)
    is_done = (merged["_merge"] == "both").to_numpy() & merged["done_on"].notna().to_numpy()
    merged["status"], merged["days_overdue"] = _status(is_done, merged["active"].to_numpy(dtype=bool),
                                                       merged["planned_on"], today)
    out = merged.sort_values(["plan_id", "sequence"], kind="stable").reset_index(drop=True)
    out = out[CONTACT_COLUMNS].astype({"sequence": "Int64", "days_overdue": "Int64", "plan_version": "Int64"})
    for column in ("planned_on", "done_on"):
        out[column] = out[column].astype("datetime64[ns]")
    for column in ("by_role", "outcome"):
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def measurement_due(measurements: pd.DataFrame, provisions: pd.DataFrame, provision_types, *,
                    today) -> pd.DataFrame:
    """List the follow-up measurements (T1..T3) that are due and not yet measured.

    The rule (see the module docstring): for each person × provision with a T0 that has a date, and a provision
    type whose follow-up weeks are set, each later moment with weeks is due on ``T0 date + weeks·7`` days,
    unless that moment is measured or a later moment is measured already. A moment without weeks is not
    planned. Status 'te laat' (due before ``today``, ``days_overdue`` = today − due_on) or 'te doen'.

    Parameters
    ----------
    measurements : DataFrame
        The ``measurements`` table: person_id, provision_id, moment, measured_on and, where present,
        study_group (missing: 'deelnemer').
    provisions : DataFrame
        provision_id and type (the provision type code).
    provision_types : dict or DataFrame
        The catalogue (``store.read_provision_types()``: code -> ProvisionType with ``moment_weeks``) or the
        ``provision_types`` table (code, t1_weeks, t2_weeks, t3_weeks).
    today : date-like
        The day the status is judged on.

    Returns
    -------
    DataFrame
        Columns :data:`DUE_COLUMNS`, sorted by due_on, person and moment; ``days_overdue`` Int64 (> 0 only for
        'te laat').

    Raises
    ------
    DataValidationError
        A table without a needed column, or ``today`` that is no date.
    """
    today = _day(today, "vandaag")
    weeks = _type_weeks(provision_types)
    if measurements is None or measurements.empty:
        return _empty(DUE_COLUMNS)
    _require(measurements, _MEASUREMENT_INPUT, "measurements")
    _require(provisions, ("provision_id", "type"), "provisions")
    m = pd.DataFrame({"person_id": measurements["person_id"].astype(str).to_numpy(),
                      "provision_id": measurements["provision_id"].astype(str).to_numpy(),
                      "moment": measurements["moment"].astype(str).to_numpy(),
                      "measured_on": _dates(measurements["measured_on"]).to_numpy(),
                      "study_group": (measurements["study_group"].astype(str).to_numpy()
                                      if "study_group" in measurements else "deelnemer")})
    keys = ["person_id", "provision_id"]
    intake = m.loc[(m["moment"] == "T0") & m["measured_on"].notna()].drop_duplicates(keys, keep="last")
    types = pd.DataFrame({"provision_id": provisions["provision_id"].astype(str).to_numpy(),
                          "code": provisions["type"].astype(str).to_numpy()}).drop_duplicates("provision_id")
    planned = (intake.merge(types, on="provision_id", how="inner").merge(weeks, on="code", how="inner")
               .melt(id_vars=[*keys, "study_group", "measured_on"], value_vars=list(FOLLOWUP_MOMENTS),
                     var_name="moment", value_name="weeks"))
    planned = planned.loc[planned["weeks"].notna()]
    # A moment is settled when it, or any later moment, has been measured.
    rank = {moment: i for i, moment in enumerate(MOMENTS)}
    measured = m.assign(rank=m["moment"].map(rank)).groupby(keys, as_index=False)["rank"].max()
    planned = planned.merge(measured, on=keys, how="left")
    planned = planned.loc[~(planned["moment"].map(rank) <= planned["rank"]).to_numpy(dtype=bool)]
    if planned.empty:
        return _empty(DUE_COLUMNS)
    planned = planned.reset_index(drop=True)
    planned["due_on"] = (planned["measured_on"]
                         + pd.to_timedelta(planned["weeks"].to_numpy(dtype="int64") * 7, unit="D"))
    none_done = np.zeros(len(planned), dtype=bool)
    planned["status"], planned["days_overdue"] = _status(none_done, ~none_done, planned["due_on"], today)
    out = planned.sort_values(["due_on", "person_id", "provision_id", "moment"], kind="stable")
    out = out[DUE_COLUMNS].reset_index(drop=True).astype({"days_overdue": "Int64"})
    out["due_on"] = out["due_on"].astype("datetime64[ns]")
    return out


# ----------------------------------------------------------------------------------------------- lists

def todo_list(plans: pd.DataFrame, contacts: pd.DataFrame | None, measurements: pd.DataFrame | None,
              persons: pd.DataFrame, provisions: pd.DataFrame, provision_types, *, start, end, today,
              wijken=None) -> pd.DataFrame:
    """Build the "te doen" list of a team for the period [start, end] (both days inclusive).

    The rule (see the module docstring): the open aftercare contacts of active plans ('te doen' / 'te laat',
    :func:`planned_contacts`) and the due measurements (:func:`measurement_due`) planned in the period, plus
    every overdue item ('te laat') also when it was planned before ``start``; contacts of stopped or finished
    plans never. With ``wijken`` only the persons whose ``persons.buurt_code`` lies in one of those wijken.

    Parameters
    ----------
    plans, contacts, measurements : DataFrame
        The ``aftercare_plans``, ``aftercare_contacts`` and ``measurements`` tables (as the scoped store gives
        them: a wijkteam gets only its own persons' rows).
    persons : DataFrame
        person_id and buurt_code.
    provisions : DataFrame
        provision_id, name and type.
    provision_types : dict or DataFrame
        The catalogue or the ``provision_types`` table (see :func:`measurement_due`).
    start, end : date-like
        The period; ``end`` not before ``start``.
    today : date-like
        The day the status is judged on.
    wijken : iterable of str, optional
        Wijk codes ('WK199900'); None keeps all persons.

    Returns
    -------
    DataFrame
        Columns :data:`TODO_COLUMNS`: kind ('nazorgcontact' | 'meting'), what ('nazorgcontact 2 van 4',
        'meting T2 (follow-up 1)'), due_on, status, days_overdue (Int64), plan_id / sequence / plan_version for
        contacts, moment for measurements. Overdue items first (most days first), then by due_on.

    Raises
    ------
    DataValidationError
        A table without a needed column, a period that ends before it starts, a date that is no date, or a
        wijk code that is not WK + 6 digits.
    """
    start, end = _day(start, "begin"), _day(end, "einde")
    if end < start:
        raise DataValidationError("Het einde van de periode ligt voor het begin; kies een latere einddatum.",
                                  column="einde")
    _require(persons, ("person_id", "buurt_code"), "persons")
    _require(provisions, ("provision_id",), "provisions")
    empty_plans = plans is None or plans.empty
    schedule = _empty(CONTACT_COLUMNS) if empty_plans else planned_contacts(plans, contacts, today=today)
    due = measurement_due(measurements, provisions, provision_types, today=today)

    n_planned = (pd.Series(dtype="int64") if empty_plans else
                 _plan_frame(plans).drop_duplicates("plan_id", keep="last").set_index("plan_id")["n"])
    who = pd.DataFrame({"person_id": persons["person_id"].astype(str).to_numpy(),
                        "buurt_code": persons["buurt_code"].astype(object).to_numpy()}).drop_duplicates("person_id")
    buurt_of = who.set_index("person_id")["buurt_code"]

    def select(frame: pd.DataFrame, date_column: str) -> pd.DataFrame:
        """The items planned in the period or overdue, of persons in ``wijken``: before any text is built."""
        dates = frame[date_column]
        keep = ((dates >= start) & (dates <= end)).to_numpy(dtype=bool) | (frame["status"] == OVERDUE).to_numpy()
        frame = frame.loc[keep]
        if wijken is not None:
            frame = frame.loc[_in_wijken(frame["person_id"].map(buurt_of), wijken)]
        return frame

    open_contacts = select(schedule.loc[schedule["status"].isin([OPEN, OVERDUE]).to_numpy()], "planned_on")
    due = select(due, "due_on")
    items_c = pd.DataFrame({
        "kind": KIND_CONTACT,
        "person_id": open_contacts["person_id"].to_numpy(),
        "provision_id": open_contacts["provision_id"].to_numpy(),
        "what": ("nazorgcontact " + open_contacts["sequence"].astype(str)
                 + " van " + open_contacts["plan_id"].map(n_planned).astype("Int64").astype(str)).to_numpy(),
        "due_on": open_contacts["planned_on"].to_numpy(),
        "status": open_contacts["status"].to_numpy(),
        "days_overdue": open_contacts["days_overdue"].to_numpy(),
        "plan_id": open_contacts["plan_id"].to_numpy(),
        "sequence": open_contacts["sequence"].to_numpy(),
        "moment": None,
        "plan_version": open_contacts["plan_version"].to_numpy(),
    })
    items_m = pd.DataFrame({
        "kind": KIND_MEASUREMENT,
        "person_id": due["person_id"].to_numpy(),
        "provision_id": due["provision_id"].to_numpy(),
        "what": ("meting " + due["moment"] + " (" + due["moment"].map(_MOMENT_NAMES) + ")").to_numpy(),
        "due_on": due["due_on"].to_numpy(),
        "status": due["status"].to_numpy(),
        "days_overdue": due["days_overdue"].to_numpy(),
        "plan_id": None,
        "sequence": pd.array([pd.NA] * len(due), dtype="Int64"),
        "moment": due["moment"].to_numpy(),
        "plan_version": pd.array([pd.NA] * len(due), dtype="Int64"),
    })
    items = pd.concat([frame for frame in (items_c, items_m) if len(frame)], ignore_index=True) \
        if len(items_c) or len(items_m) else _empty([c for c in TODO_COLUMNS if c not in
                                                     ("buurt_code", "provision_name")])
    items = items.merge(who, on="person_id", how="left")
    names = pd.DataFrame({"provision_id": provisions["provision_id"].astype(str).to_numpy(),
                          "provision_name": (provisions["name"].astype(object).to_numpy() if "name" in provisions
                                             else None)}).drop_duplicates("provision_id")
    provision_key = items["provision_id"].astype(object).where(items["provision_id"].notna(), None)
    items = items.assign(provision_id=provision_key).merge(names, on="provision_id", how="left")

    if items.empty:
        return _empty(TODO_COLUMNS)
    items = items.astype({"days_overdue": "Int64", "sequence": "Int64", "plan_version": "Int64"})
    items["due_on"] = pd.to_datetime(items["due_on"]).astype("datetime64[ns]")
    order = items.assign(_late=items["days_overdue"].fillna(-1).astype("int64"))
    order = order.sort_values(["_late", "due_on", "person_id", "kind", "sequence", "moment"],
                              ascending=[False, True, True, True, True, True], kind="stable", na_position="last")
    out = order[TODO_COLUMNS].reset_index(drop=True)
    for column in ("buurt_code", "provision_id", "provision_name", "plan_id", "moment"):
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def aftercare_overview(plans: pd.DataFrame, contacts: pd.DataFrame | None, *, today) -> pd.DataFrame:
    """Summarise each aftercare plan: contacts planned, done and overdue, the next one due and the last outcome.

    Parameters
    ----------
    plans, contacts : DataFrame
        The ``aftercare_plans`` and ``aftercare_contacts`` tables (see :func:`planned_contacts`).
    today : date-like
        The day the status is judged on.

    Returns
    -------
    DataFrame
        One row per plan, in the order of ``plans``, columns :data:`OVERVIEW_COLUMNS`: ``planned`` = n of the
        schedule rule, ``done`` = contacts registered (also any beyond n), ``overdue`` = contacts 'te laat',
        ``next_due`` = the earliest open contact ('te doen' or 'te laat'; empty for a plan that is not active
        or has none left), ``last_outcome`` = the outcome code of the contact done last (by done_on, then
        sequence; empty when none is done). Counts Int64.

    Raises
    ------
    DataValidationError
        As :func:`planned_contacts`.
    """
    schedule = planned_contacts(plans, contacts, today=today)
    if plans is None or plans.empty:
        return _empty(OVERVIEW_COLUMNS)
    base = _plan_frame(plans).rename(columns={"n": "planned"})
    s = schedule
    flags = pd.DataFrame({"plan_id": s["plan_id"],
                          "done": (s["status"] == DONE).astype("int64"),
                          "overdue": (s["status"] == OVERDUE).astype("int64")})
    counts = flags.groupby("plan_id")[["done", "overdue"]].sum()
    base["done"] = base["plan_id"].map(counts["done"]).fillna(0).to_numpy()
    base["overdue"] = base["plan_id"].map(counts["overdue"]).fillna(0).to_numpy()
    open_ = s.loc[s["status"].isin([OPEN, OVERDUE]).to_numpy()]
    first_open = pd.to_datetime(open_.groupby("plan_id")["planned_on"].min())  # empty when no plan has one open
    base["next_due"] = pd.to_datetime(first_open.reindex(base["plan_id"].to_numpy())).to_numpy()
    done = s.loc[(s["status"] == DONE).to_numpy()].sort_values(["plan_id", "done_on", "sequence"], kind="stable")
    last = done.drop_duplicates("plan_id", keep="last").set_index("plan_id")["outcome"]
    base["last_outcome"] = base["plan_id"].map(last).astype(object).to_numpy()
    base["last_outcome"] = base["last_outcome"].where(base["last_outcome"].notna(), None)
    out = base[OVERVIEW_COLUMNS].astype({"planned": "Int64", "done": "Int64", "overdue": "Int64",
                                         "plan_version": "Int64"})
    for column in ("starts_on", "next_due"):
        out[column] = pd.to_datetime(out[column]).astype("datetime64[ns]")
    return out
