"""Steunkaart command line, for analysts and scripts.

    python cli.py --help
    python cli.py demo --store var/steunkaart.gpkg
    python cli.py info --store var/steunkaart.gpkg --json

Every command that fails exits non-zero with a Dutch message on stderr and leaves the
store unchanged (every write is one transaction).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from data.errors import DataValidationError
from data.store import GeoPackageStore
from data.store_api import is_postgres_url, open_store, redacted, store_location

EXIT_INPUT = 2  # bad input or store: message on stderr
INFO_KEYS = ("areas", "provisions", "persons", "ties", "participation", "schema_version")
INFO_LABELS = {
    "areas": "gebieden",
    "provisions": "voorzieningen",
    "persons": "personen",
    "ties": "steunrelaties",
    "participation": "deelnames",
    "schema_version": "schemaversie",
}


class _DutchParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own messages are English
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"Fout in de opdracht: {message}\n")


def _cmd_demo(args: argparse.Namespace) -> int:
    from data.demo import GEMEENTE_NAME, write_demo_store

    path = args.store if is_postgres_url(args.store) else Path(args.store)
    if _store_exists(args.store):
        existing = open_store(args.store, create=False)  # still say so when it is not a store
        if args.if_missing:
            print(f"Opslag {path} bestaat al; niets gewijzigd.")
            return 0
        counts = existing.counts()
        if not existing.is_demo and any(counts[k] for k in INFO_KEYS[:-1]) and not args.force:
            raise DataValidationError(
                f"De opslag {path} bevat al gegevens. Gebruik --force om ze te vervangen door "
                "de demogemeente, of kies een ander bestand."
            )
    store = write_demo_store(path, seed=args.seed, replace=_store_exists(args.store))
    counts = store.counts()
    print(f"Demogemeente {GEMEENTE_NAME} geschreven naar {path}: "
          + ", ".join(f"{counts[k]} {INFO_LABELS[k]}" for k in INFO_KEYS[:-1]) + ".")
    return 0


def _store_exists(target: str) -> bool:
    """A file that exists, or a database that holds a Steunkaart store."""
    if not is_postgres_url(target):
        return Path(target).exists()
    from data.postgis import PostgisStore
    from data.sql import table_names

    with PostgisStore(target)._connection() as conn:
        return "steunkaart_meta" in table_names(conn)


def _cmd_init(args: argparse.Namespace) -> int:
    if is_postgres_url(args.store):
        from data.postgis import PostgisStore

        PostgisStore.create_new(args.store)
        print(f"Lege opslag aangemaakt in {redacted(args.store)}. Start de app met STEUNKAART_STORE=<die URL> en "
              "maak de beheerder aan.")
        return 0
    path = Path(args.store)
    if path.exists():
        raise DataValidationError(f"Het bestand {path} bestaat al; 'init' maakt alleen een nieuwe, lege opslag. "
                                  "Kies een nieuwe bestandsnaam.")
    GeoPackageStore.create_new(path)
    print(f"Lege opslag aangemaakt: {path}. Start de app met STEUNKAART_STORE={path} en maak de beheerder aan, "
          f"of importeer meteen: python cli.py import-areas BESTAND --store {path}")
    return 0


def _cmd_backup(args: argparse.Namespace) -> int:
    out = open_store(args.store, create=False).backup_to(args.out)
    from data.formatting import format_number

    print(f"Reservekopie van {args.store} geschreven naar {out} ({format_number(out.stat().st_size / 1e6, 1)} MB).")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    if is_postgres_url(args.store):
        raise DataValidationError("Een PostgreSQL-opslag zet u terug met pg_restore (zie "
                                  "'Met PostgreSQL/PostGIS' in de "
                                  "README), of u kopieert een GeoPackage-reservekopie in een lege database met python "
                                  "cli.py copy-store --from KOPIE.gpkg --to postgresql://... Er is niets gewijzigd.")
    result = GeoPackageStore.restore_from(args.copy, args.store, user=args.gebruiker)
    counts = result["counts"]
    print(f"Reservekopie {args.copy} teruggezet als {args.store}: "
          + ", ".join(f"{counts[k]} {INFO_LABELS[k]}" for k in INFO_KEYS[:-1]) + ".")
    if result["safety_copy"]:
        print(f"De opslag zoals die was, staat in {result['safety_copy']}.")
    return 0


def _cmd_imports(args: argparse.Namespace) -> int:
    from data.store import describe_counts

    batches = open_store(args.store, create=False).read_batches()
    if args.json:
        records = batches.drop(columns=["kind_label", "active"]).astype(object).where(batches.notna(), None)
        print(json.dumps(records.to_dict(orient="records"), ensure_ascii=False, default=str))
        return 0
    if batches.empty:
        print("Nog geen imports in deze opslag.")
        return 0
    print("import  datum             soort                          door        bestand / aantallen")
    for b in batches.itertuples(index=False):
        state = "" if b.active else f"  [ongedaan gemaakt {str(b.undone_at)[:10]} door {b.undone_by}]"
        print(f"{b.batch_id:>6}  {str(b.at)[:16].replace('T', ' ')}  {b.kind_label:<30} {b.user:<11} "
              f"{b.file_name or '-'}: {describe_counts(b.counts)}{state}")
    return 0


def _cmd_undo(args: argparse.Namespace) -> int:
    from data.store import describe_counts

    store = open_store(args.store, create=False)
    result = store.undo_batch(args.batch, user=args.gebruiker)
    print(f"Import {args.batch} ongedaan gemaakt: weg {describe_counts(result['verwijderd'])}; "
          f"teruggezet {describe_counts(result['teruggezet'])}.")
    if result["voorzieningen_zonder_buurt"]:
        print(f"Let op: {result['voorzieningen_zonder_buurt']} voorzieningen liggen nu in geen enkele buurt van de "
              "opslag.")
    if result["personen_in_verdwenen_buurt"]:
        print(f"Let op: {result['personen_in_verdwenen_buurt']} personen wonen in een buurt die niet meer in de "
              "opslag staat.")
    return 0


def _cmd_remove_areas(args: argparse.Namespace) -> int:
    result = open_store(args.store, create=False).remove_areas(args.gemeente, args.jaar, user=args.gebruiker)
    print(f"Verwijderd: {result['waarden']} kerncijfers van {args.jaar} en {result['gebieden']} gebieden van "
          f"{args.gemeente.upper()} (import {result['import']}; ongedaan te maken met "
          f"'python cli.py undo {result['import']}').")
    return 0


def _open_for_import(path: str):
    """The store an import goes into: created empty when missing, refused before any work if it is the demo."""
    store = open_store(path)
    if store.is_demo:
        from data.store import DemoStoreError

        raise DemoStoreError(f"De opslag {path} bevat de demogemeente Voorbeeldstad; echte gegevens komen in een "
                             "eigen opslag. Maak die aan met 'python cli.py init --store var/gemeente.gpkg' en "
                             "importeer daarin (--store var/gemeente.gpkg). Er is niets geïmporteerd.")
    return store


def _cmd_copy_store(args: argparse.Namespace) -> int:
    from data.formatting import format_number
    from data.store_copy import copy_store

    result = copy_store(args.source, args.target, user=args.gebruiker)
    width = max(len(r.table) for r in result)
    print(f"Opslag {redacted(store_location(args.source))} gekopieerd naar {redacted(store_location(args.target))}.")
    print(f"{'tabel':<{width}}  {'bron':>10}  {'kopie':>10}  inhoud")
    for r in result:
        print(f"{r.table:<{width}}  {format_number(r.source_rows):>10}  {format_number(r.target_rows):>10}  "
              f"{'gelijk' if r.equal else 'ANDERS'} ({r.target_hash[:12]})")
    total = sum(r.target_rows for r in result)
    print(f"Alle {len(result)} tabellen gelijk (aantallen en inhoud), {format_number(total)} rijen.")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    counts = open_store(args.store, create=False).counts()
    if args.json:
        print(json.dumps({k: counts[k] for k in INFO_KEYS}))
    else:
        from data.formatting import format_number

        print(f"Opslag: {args.store}")
        for key in INFO_KEYS:
            print(f"  {INFO_LABELS[key]:<14} {format_number(counts[key])}")
    return 0


def _cmd_import_areas(args: argparse.Namespace) -> int:
    from data.area_import import format_report, read_area_file
    from data.store import file_sha256

    store = _open_for_import(args.store)
    imported = read_area_file(args.file, gemeente=args.gemeente, year=args.jaar)
    warnings = store.merge_area_data(imported.areas, imported.values, user=args.gebruiker,
                                     details={"bestand": Path(args.file).name, "jaar": imported.year},
                                     file_name=Path(args.file).name, sha256=file_sha256(args.file))
    print("\n".join(format_report(imported.report, warnings)))
    print(f"Import {store.last_batch_id}; ongedaan te maken met 'python cli.py undo {store.last_batch_id}'.")
    return 0


def _cmd_import_health(args: argparse.Namespace) -> int:
    from data.health import read_health_file
    from data.store import file_sha256

    store = _open_for_import(args.store)
    values = read_health_file(args.file, year=args.jaar)
    summary = store.merge_area_values(values, user=args.gebruiker, action="import-gezondheid",
                                      details={"bestand": Path(args.file).name}, sha256=file_sha256(args.file))
    print(f"Gezondheidsmonitor {int(values['year'].iloc[0])}: {summary['waarden']} waarden voor "
          f"{values['area_code'].nunique()} gebieden en {values['indicator'].nunique()} kerncijfers "
          f"(import {summary['import']}).")
    if summary["onbekende_gebieden"]:
        print(f"Let op: {summary['onbekende_gebieden']} gebieden staan (nog) niet in de opslag; importeer "
              "hun CBS-gebieden om ze op de kaart te zien.")
    return 0


def _cmd_fetch_cbs(args: argparse.Namespace) -> int:
    import tempfile

    from data.area_import import format_report, read_area_file
    from data.fetch import fetch_areas_file, fetch_health_file
    from data.health import read_health_file
    from data.store import file_sha256

    gemeente = args.gemeente.strip().upper()
    if not re.fullmatch(r"GM\d{4}", gemeente):
        raise DataValidationError(f"'{args.gemeente}' is geen gemeentecode; gebruik GM gevolgd door vier cijfers.")
    store = _open_for_import(args.store)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"Wijken en buurten {args.jaar} van {gemeente} ophalen bij PDOK…")
        areas_file = fetch_areas_file(gemeente, args.jaar, Path(tmp))
        imported = read_area_file(areas_file, gemeente=gemeente, year=args.jaar,
                                  source=f"CBS Wijk- en Buurtkaart {args.jaar} (PDOK)")
        warnings = store.merge_area_data(imported.areas, imported.values, user=args.gebruiker,
                                         action="fetch-cbs", details={"gemeente": gemeente, "jaar": args.jaar},
                                         file_name=f"PDOK wijken en buurten {args.jaar} {gemeente}",
                                         sha256=file_sha256(areas_file))
        print("\n".join(format_report(imported.report, warnings)))
        if not args.zonder_gezondheid:
            print("Gezondheidsmonitor (CBS 50120NED) ophalen bij StatLine…")
            health_file = fetch_health_file(gemeente, Path(tmp))
            health = read_health_file(health_file)
            summary = store.merge_area_values(health, user=args.gebruiker, action="fetch-cbs",
                                              details={"gemeente": gemeente, "tabel": "50120NED"},
                                              file_name=f"StatLine 50120NED {gemeente}",
                                              sha256=file_sha256(health_file))
            print(f"Gezondheidsmonitor {int(health['year'].max())}: {summary['waarden']} waarden.")
    return 0


def _cmd_import_provisions(args: argparse.Namespace) -> int:
    from data.provisions import (
        prepare_provision_import,
        read_mapping,
        read_provision_source,
        read_type_map,
    )
    from data.store import file_sha256

    store = _open_for_import(args.store)
    path = Path(args.file)
    source = read_provision_source(path)
    catalogue = store.read_provision_types()
    if args.mapping:
        mapping = read_mapping(args.mapping)
        if args.outside_areas:
            mapping.outside_areas = args.outside_areas
    elif args.type or args.type_map:
        if source.is_template:
            raise DataValidationError("--type en --type-map gelden niet voor het sjabloon (dat heeft een kolom soort).")
        mapping = source.guess_mapping(catalogue)
        if mapping.type_column is None and not args.type:
            raise DataValidationError("Geen kolom met de soort gevonden; geef een koppeling (--mapping) die de kolom "
                                      "noemt, of --type voor één soort.", file=path.name)
        mapping.type_for_all = args.type
        mapping.types.update(read_type_map(args.type_map) if args.type_map else {})
        mapping.outside_areas = args.outside_areas or "flag"
    elif source.is_template:
        mapping = None
    else:
        mapping = source.guess_mapping(catalogue)
        mapping.outside_areas = args.outside_areas or "flag"
    existing = store.read_table("provisions")
    prepared = prepare_provision_import(source, mapping, area=store.outline(),
                                        next_number=store.next_provision_number(), catalogue=catalogue,
                                        existing=existing[["provision_id", "source_id"]],
                                        outside_areas=args.outside_areas or "flag")
    for note in prepared.notes:
        print(f"Let op: {note}")
    for warning in prepared.warnings[:50]:
        print(f"Waarschuwing rij {warning['rij']}, kolom {warning['kolom']}: {warning['melding']}")
    if len(prepared.warnings) > 50:
        print(f"… en nog {len(prepared.warnings) - 50} waarschuwingen.")
    outside = int(prepared.provisions["outside_areas"].sum())
    skipped = prepared.skipped
    reasons = skipped["reden"].str.replace(r" \('.*'\)$", "", regex=True).value_counts()
    skip_text = ", ".join(f"{n} {r}" for r, n in reasons.items())
    if args.dry_run or prepared.provisions.empty:
        plan = store.preview_provisions(prepared.provisions)["action"].value_counts()
        print(f"{'Proef' if args.dry_run else 'Niets te importeren'}: {plan.get('nieuw', 0)} nieuw, "
              f"{plan.get('bijgewerkt', 0)} bijgewerkt, {plan.get('ongewijzigd', 0)} ongewijzigd, "
              f"{len(skipped)} overgeslagen{f' ({skip_text})' if skip_text else ''}"
              f"{f'; {outside} buiten de geladen gebieden' if outside else ''}. Er is niets geschreven.")
        return 0
    counts = store.import_provisions(prepared.provisions, user=args.gebruiker, source=path.name,
                                     sha256=file_sha256(path), refuse_same_file=not prepared.keyed)
    print(f"Voorzieningen uit {path.name}: {counts['nieuw']} nieuw, {counts['bijgewerkt']} bijgewerkt, "
          f"{counts['ongewijzigd']} ongewijzigd, {len(skipped)} overgeslagen"
          f"{f' ({skip_text})' if skip_text else ''}"
          f"{f'; {outside} buiten de geladen gebieden (getoond, niet meegeteld in tekorten)' if outside else ''} "
          f"(import {store.last_batch_id}).")
    return 0


def _cmd_export_provisions(args: argparse.Namespace) -> int:
    from data.provisions import provisions_to_csv, provisions_to_excel

    store = open_store(args.store, create=False)
    provisions = store.read_table("provisions")
    out = Path(args.out)
    data = (provisions_to_csv(provisions) if out.suffix.lower() == ".csv"
            else provisions_to_excel(provisions, store.read_provision_types()))
    out.write_bytes(data)
    store.log(args.gebruiker, "export-voorzieningen", "provisions", {"bestand": out.name, "rijen": len(provisions)})
    print(f"{len(provisions)} voorzieningen geschreven naar {out}.")
    return 0


def _cmd_export_hsds(args: argparse.Namespace) -> int:
    from data.hsds import inventory_to_hsds, write_hsds_csv, write_hsds_json

    store = open_store(args.store, create=False)
    provisions = store.read_table("provisions")
    tables = inventory_to_hsds(provisions, store.read_provision_types())
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise DataValidationError(f"{out} is een bestand; geef voor --out een map (HSDS bestaat uit meerdere "
                                  "bestanden).")
    written = write_hsds_json(tables, out) if args.formaat == "json" else write_hsds_csv(tables, out)
    files = [written.name] if args.formaat == "json" else [p.name for p in written]
    store.log(args.gebruiker, "export-hsds", "provisions",
              {"map": out.name, "formaat": args.formaat, "bestanden": files, "rijen": len(provisions)})
    form = "JSON (services.json)" if args.formaat == "json" else "CSV-tabellen met datapackage.json"
    print(f"{len(provisions)} voorzieningen als Open Referral HSDS 3.0 ({form}) geschreven naar {out}.")
    return 0


def _cmd_import_hsds(args: argparse.Namespace) -> int:
    from data.hsds import read_hsds_dir

    store = _open_for_import(args.store)
    folder = Path(args.folder)
    warnings: list[dict] = []
    provisions = read_hsds_dir(folder, store.read_provision_types(), area=store.outline(),
                               next_number=store.next_provision_number(), existing=store.read_table("provisions"),
                               warnings=warnings)
    counts = store.import_provisions(provisions, user=args.gebruiker, source=folder.resolve().name, sha256=None)
    for warning in warnings[:20]:
        print(f"Let op: bestand {warning['bestand']}, rij {warning['rij']}, kolom {warning['kolom']}: "
              f"{warning['melding']}")
    print(f"Voorzieningen uit {folder.resolve().name} (HSDS): {counts['nieuw']} nieuw, {counts['bijgewerkt']} "
          f"bijgewerkt, {counts['ongewijzigd']} ongewijzigd (import {store.last_batch_id}; ongedaan te maken met "
          f"'python cli.py undo {store.last_batch_id}').")
    return 0


def _print_problems(exc: DataValidationError) -> int:
    """Every problem of a refused import on stderr (the first is in the message), then the exit code."""
    print(f"Fout: {exc}", file=sys.stderr)
    for problem in exc.problems[1:]:
        where = ", ".join(f"{k} {problem[k]}" if k != "kolom" else f"kolom '{problem[k]}'"
                          for k in ("bestand", "rij", "kolom") if problem.get(k) not in (None, ""))
        print(f"  - {where}: {problem.get('melding', '')}" if where else f"  - {problem.get('melding', '')}",
              file=sys.stderr)
    return EXIT_INPUT


def _cmd_import_network(args: argparse.Namespace) -> int:
    try:
        return _import_network(args)
    except DataValidationError as exc:
        if not exc.problems:
            raise
        return _print_problems(exc)


def _import_network(args: argparse.Namespace) -> int:
    from data.network_formats import (
        is_network_canvas_graphml,
        network_from_graphml,
        preview_network_canvas,
        read_network_canvas_export,
        read_network_canvas_mapping,
    )
    from data.network_import import read_network_files
    from data.store import file_sha256

    sources = [bool(args.personen or args.relaties), bool(args.network_canvas), bool(args.graphml)]
    if sum(sources) != 1:
        raise DataValidationError("Kies één bron: --personen met --relaties, --network-canvas of --graphml.")
    if args.mapping and not (args.network_canvas or args.graphml):
        raise DataValidationError("--mapping (--koppeling) hoort bij --network-canvas.")
    canvas = list(args.network_canvas or [])
    if args.graphml and is_network_canvas_graphml(args.graphml):
        canvas = [args.graphml]  # a Network Canvas GraphML: read as that export, with the mapping
    store = _open_for_import(args.store)
    areas = store.read_table("areas")
    buurten = set(areas.loc[areas["level"] == "buurt", "area_code"])
    warnings: list[dict] = []
    if canvas:
        source_files = read_network_canvas_export(canvas)
        preview = preview_network_canvas(source_files, read_network_canvas_mapping(args.mapping),
                                         known_buurten=buurten)
        for line in preview.report_lines():
            print(line)
        preview.raise_if_problems()
        frames = preview.frames
        # File names of an export carry the interviewer's case id (it can be a name): not stored.
        source, first = source_files.label, Path(canvas[0]) if Path(canvas[0]).is_file() else None
    elif args.graphml:
        frames = network_from_graphml(args.graphml)
        warnings = frames.get("warnings", [])
        source, first = Path(args.graphml).name, Path(args.graphml)
    else:
        if not args.personen:
            raise DataValidationError("Geef --personen (en --relaties, of één Excel-sjabloon met beide bladen).")
        frames = read_network_files(
            args.personen, args.relaties, args.deelname, known_buurten=buurten,
            known_persons=set(store.read_table("persons")["person_id"]),
            known_provisions=set(store.read_table("provisions")["provision_id"]))
        source, first = Path(args.personen).name, Path(args.personen)
    for warning in warnings:
        where = ", ".join(f"{k} {warning[k]}" for k in ("bestand", "rij", "kolom") if warning.get(k) not in (None, ""))
        print(f"Let op: {warning['melding']}" + (f" ({where})" if where else ""))
    counts = store.merge_network(frames["persons"], frames["ties"], frames.get("participation"),
                                 alter_links=frames.get("alter_links"), user=args.gebruiker, source=source,
                                 sha256=file_sha256(first) if first else None)
    print(f"Netwerk geïmporteerd: {counts['personen']} personen, {counts['relaties']} relaties, "
          f"{counts['deelnames']} deelnames, {counts['onderlinge_banden']} banden tussen anderen "
          f"(import {store.last_batch_id}).")
    return 0


def _cmd_import_measurements(args: argparse.Namespace) -> int:
    try:
        return _import_measurements(args)
    except DataValidationError as exc:
        if not exc.problems:
            raise
        return _print_problems(exc)


def _import_measurements(args: argparse.Namespace) -> int:
    """Follow-up measurements from the template, or from repeated Network Canvas interviews of the same case."""
    from data.outcome_import import network_canvas_followup, read_followup_export, read_measurements_file
    from data.store import file_sha256

    if bool(args.file) == bool(args.network_canvas):
        raise DataValidationError("Kies één bron: een ingevuld sjabloon (BESTAND) of --network-canvas.")
    store = _open_for_import(args.store)
    persons = set(store.read_table("persons")["person_id"].astype(str))
    provisions = set(store.read_table("provisions")["provision_id"].astype(str))
    if args.file:
        result = read_measurements_file(args.file, known_persons=persons, known_provisions=provisions)
        ties, source, first = None, Path(args.file).name, Path(args.file)
    else:
        if not args.voorziening:
            raise DataValidationError("Geef bij --network-canvas de voorziening (--voorziening V001).")
        source_files = read_followup_export(args.network_canvas)
        result = network_canvas_followup(source_files, provision_id=args.voorziening, study_group=args.groep,
                                         known_persons=persons, alter_code_variable=args.alter_code)
        for row in result.report:
            print("  " + "; ".join(f"{k}: {v}" for k, v in row.items() if v not in (None, "")))
        ties, source = result.followup_ties, source_files.label
        first = Path(args.network_canvas[0]) if Path(args.network_canvas[0]).is_file() else None
    print(result.describe())
    for warning in result.warnings:
        where = ", ".join(f"{k} {warning[k]}" for k in ("bestand", "rij", "kolom") if warning.get(k) not in (None, ""))
        print(f"Let op: {warning.get('melding', '')}" + (f" ({where})" if where else ""))
    counts = store.merge_measurements(result.measurements, ties, user=args.gebruiker, source=source,
                                      sha256=file_sha256(first) if first else None)
    print(f"Metingen geïmporteerd: {counts['metingen']} metingen van {counts['personen']} personen, "
          f"{counts['netwerkregels']} netwerkregels, {counts['vervangen_metingen']} vervangen "
          f"(import {counts['import']}).")
    return 0


def _cmd_export_network(args: argparse.Namespace) -> int:
    from data.export import frame_to_csv_bytes
    from data.network_formats import network_to_graphml

    store = open_store(args.store, create=False)
    out = Path(args.out)
    persons, ties = store.read_table("persons"), store.read_table("ties")
    if out.suffix.lower() == ".graphml":
        out.write_bytes(network_to_graphml(persons, ties, store.read_table("alter_links")))
    elif out.suffix.lower() == ".csv":
        import pandas as pd

        # A whole-number column with a gap is float in pandas: write it as the integers it holds ('2', not '2,0').
        floats = [c for c in ties.columns if pd.api.types.is_float_dtype(ties[c])
                  and ties[c].dropna().eq(ties[c].dropna().round()).all()]
        out.write_bytes(frame_to_csv_bytes(ties.astype({c: "Int64" for c in floats})))
    else:
        raise DataValidationError("Kies een .graphml- of .csv-bestand voor --out.")
    store.log(args.gebruiker, "export-netwerk", "persons,ties",
              {"bestand": out.name, "relaties": len(ties), "aantal": len(persons),
               "personen": sorted(persons["person_id"].astype(str))})
    print(f"Netwerk ({len(persons)} personen, {len(ties)} relaties) geschreven naar {out}.")
    return 0


def _cmd_gaps(args: argparse.Namespace) -> int:
    from data.export import FMT_1, FMT_2, FMT_3, explanation_frame, frame_to_csv_bytes, frames_to_excel_bytes
    from mapping.gaps import DECAYS_CLI, gaps_from_need_and_supply

    store = open_store(args.store, create=False)
    catalogue = store.read_provision_types()
    if args.type and args.type not in catalogue:
        raise DataValidationError(f"Onbekende soort '{args.type}'; kies uit: {', '.join(catalogue)}.")
    if args.verval not in DECAYS_CLI:
        raise DataValidationError(f"Onbekend afstandsverval '{args.verval}'; kies uit {', '.join(DECAYS_CLI)}.")
    import pandas as pd

    persons = store.read_table("persons")
    signals_per_buurt = None
    if len(persons):
        from graphs.signals import signals_from_store

        signals = signals_from_store(store)
        signals_per_buurt = signals.groupby("buurt_code")["signal"].sum()
    buurten = store.read_areas("buurt")
    table = gaps_from_need_and_supply(buurten, store.read_table("provisions"),
                                      types=[args.type] if args.type else None, decay=args.verval,
                                      signals_per_buurt=signals_per_buurt, catalogue=catalogue)
    out = Path(args.out)
    columns = {"area_code": "buurtcode", "buurt": "buurt", "type": "soort", "need": "behoefte",
               "accessibility": "bereikbaarheid_2sfca", "gap_people": "tekort_personen", "gap_index": "tekort_index",
               "at_risk": "voorziening_onder_druk", "reason": "reden"}
    export = table[list(columns)].rename(columns=columns)
    if out.suffix.lower() == ".xlsx":
        years = buurten.set_index("area_code")["year"] if "year" in buurten else None
        export = export.assign(cbs_jaar=(export["buurtcode"].map(years).astype("Int64") if years is not None
                                         else pd.array([pd.NA] * len(export), dtype="Int64")))
        cbs = "CBS Kerncijfers wijken en buurten (jaar: kolom cbs_jaar)"
        sheet = "Tekorten"
        explanation = explanation_frame([
            (sheet, "buurtcode", "CBS-code van de buurt.", "", "CBS Wijk- en buurtkaart"),
            (sheet, "buurt", "Naam van de buurt.", "", "CBS Wijk- en buurtkaart"),
            (sheet, "soort", "Soort voorziening (code uit de catalogus).", "", "Steunkaart"),
            (sheet, "behoefte", "Geschat aantal mensen in de doelgroep van deze soort (uit de kerncijfers en, waar "
             "er netwerkgegevens zijn, het aantal signalen).", "personen", cbs),
            (sheet, "bereikbaarheid_2sfca", "Aanbod binnen bereik per persoon in de doelgroep (two-step floating "
             f"catchment area, afstandsverval {args.verval}; hemelsbrede afstand).",
             "plaatsen (bij een soort zonder plaatsen: bezoekers) per jaar per persoon in de doelgroep",
             "Sociale kaart en " + cbs),
            (sheet, "tekort_personen", "Behoefte maal tekortindex: hoeveel mensen geen aanbod binnen bereik hebben.",
             "personen", "Berekend"),
            (sheet, "tekort_index", "1 - bereikbaarheid, begrensd op 0 tot 1; 1 = niets binnen bereik.", "0-1",
             "Berekend"),
            (sheet, "voorziening_onder_druk", "WAAR als een voorziening binnen bereik onder druk staat.", "waar/onwaar",
             "Sociale kaart"),
            (sheet, "reden", "De uitleg in woorden.", "", "Berekend"),
            (sheet, "cbs_jaar", "Jaar van de kerncijfers van de buurt.", "jaar", "CBS"),
        ])
        formats = {"behoefte": FMT_1, "bereikbaarheid_2sfca": FMT_3, "tekort_personen": FMT_1, "tekort_index": FMT_2,
                   "cbs_jaar": "0"}
        out.write_bytes(frames_to_excel_bytes({sheet: export, "Toelichting": explanation},
                                              number_formats={sheet: formats}))
    else:
        out.write_bytes(frame_to_csv_bytes(export))
    store.log(args.gebruiker, "export-tekorten", "areas,provisions", {"bestand": out.name, "rijen": len(table)})
    print(f"{len(table)} rijen (buurt × soort) geschreven naar {out}.")
    return 0


def _cmd_signals(args: argparse.Namespace) -> int:
    from data.export import FMT_INT, explanation_frame, frame_to_csv_bytes, frames_to_excel_bytes
    from graphs.signals import DEFAULT_RULES, signals_from_store

    store = open_store(args.store, create=False)
    signals = signals_from_store(store)
    flagged = signals.loc[signals["signal"]].reset_index()
    columns = {"person_id": "persoon", "buurt_code": "buurtcode", "age_band": "leeftijd", "lsns6": "lsns6",
               "djg11": "djg11", "network_size": "netwerkgrootte", "informal_size": "informele_contacten",
               "emotional_supporters": "emotionele_steun", "practical_supporters": "praktische_steun",
               "reasons": "redenen"}
    table = flagged[list(columns)].rename(columns=columns)
    # Scores and counts are whole numbers: '7', not '7,0'; a missing score stays empty.
    counts = [c for c in table.columns if c not in ("persoon", "buurtcode", "leeftijd", "redenen")]
    table = table.assign(**{c: table[c].round().astype("Int64") for c in counts})
    out = Path(args.out)
    if out.suffix.lower() == ".xlsx":
        sheet = "Signalen"
        names = store.read_areas("buurt").set_index("area_code")["name"]
        book = table.assign(buurt=table["buurtcode"].map(names))
        book = book[["persoon", "buurtcode", "buurt", *[c for c in table.columns if c not in ("persoon", "buurtcode")]]]
        screening = "Eigen vragenlijst (screening, geen diagnose)"
        network = "Eigen netwerkgegevens (wie de persoon zelf noemt)"
        explanation = explanation_frame([
            (sheet, "persoon", "Pseudonieme code van de persoon (geen naam).", "", "Steunkaart"),
            (sheet, "buurtcode", "CBS-code van de buurt waar de persoon woont.", "", "Netwerkgegevens"),
            (sheet, "buurt", "Naam van die buurt.", "", "CBS Wijk- en buurtkaart"),
            (sheet, "leeftijd", "Leeftijdsgroep.", "jaar", "Netwerkgegevens"),
            (sheet, "lsns6", "Lubben Social Network Scale (6 vragen); lager dan 12 = risico op sociaal isolement. "
             "Leeg: geen (volledige) antwoorden.", "score 0-30", screening),
            (sheet, "djg11", "De Jong Gierveld eenzaamheid (11 vragen); 3 of meer = eenzaam, 9 of meer = zeer "
             "eenzaam. Leeg: geen (volledige) antwoorden.", "score 0-11", screening),
            (sheet, "netwerkgrootte", "Aantal mensen in het netwerk.", "personen", network),
            (sheet, "informele_contacten", "Aantal informele contacten (geen professionals).", "personen", network),
            (sheet, "emotionele_steun", "Aantal mensen voor emotionele steun.", "personen", network),
            (sheet, "praktische_steun", "Aantal mensen voor praktische steun.", "personen", network),
            (sheet, "redenen", "Waarom er een signaal is (regels: " + "; ".join(DEFAULT_RULES.describe()) + ").", "",
             "Berekend"),
        ])
        formats = {c: FMT_INT for c in counts}
        out.write_bytes(frames_to_excel_bytes({sheet: book, "Toelichting": explanation},
                                              number_formats={sheet: formats}))
    else:
        out.write_bytes(frame_to_csv_bytes(table))
    store.log(args.gebruiker, "export-signalen", "persons",
              {"bestand": out.name, "aantal": len(table), "personen": sorted(table["persoon"].astype(str))})
    print(f"{len(table)} van {len(signals)} personen met een signaal van een arm netwerk geschreven naar {out}.")
    print("Regels: " + "; ".join(DEFAULT_RULES.describe()) + ". Een signaal is een reden om te kijken en te "
          "vragen, geen oordeel over een persoon.")
    return 0


def _cmd_match(args: argparse.Namespace) -> int:
    import pandas as pd

    from data.export import FMT_INT, explanation_frame, frame_to_csv_bytes, frames_to_excel_bytes
    from data.formatting import format_number
    from graphs.matching import match_signalled
    from graphs.signals import needs_of, signals_from_store

    store = open_store(args.store, create=False)
    persons, participation = store.read_table("persons"), store.read_table("participation")
    signals = signals_from_store(store)
    catalogue = store.read_provision_types()
    result = match_signalled(signals, persons, store.read_table("provisions"), store.read_areas("buurt"),
                             participation, catalogue=catalogue, suitability=store.read_suitability(),
                             needs=needs_of(signals))
    labels = {code: t.label for code, t in catalogue.items()}
    table = pd.concat([result.assignments.assign(reason=""), result.unmatched], ignore_index=True)
    table = table.sort_values("person_id", kind="stable")
    columns = {"person_id": "persoon", "buurt_code": "buurtcode", "provision_id": "voorziening_id",
               "name": "voorziening", "type": "soort", "distance_m": "afstand_m", "reason": "reden"}
    table = table.reindex(columns=list(columns)).assign(
        type=lambda t: t["type"].map(lambda c: labels.get(c, c), na_action="ignore"),
        distance_m=lambda t: t["distance_m"].astype("Int64"))
    out = Path(args.out)
    if out.suffix.lower() == ".xlsx":
        sheet = "Koppeling"
        names = store.read_areas("buurt").set_index("area_code")["name"]
        book = table.rename(columns=columns)
        book.insert(2, "buurt", book["buurtcode"].map(names))
        book = book.assign(reden=book["reden"].replace("", None))
        explanation = explanation_frame([
            (sheet, "persoon", "Pseudonieme code van de persoon met een signaal (geen naam).", "", "Steunkaart"),
            (sheet, "buurtcode", "CBS-code van de buurt waar de persoon woont.", "", "Netwerkgegevens"),
            (sheet, "buurt", "Naam van die buurt.", "", "CBS Wijk- en buurtkaart"),
            (sheet, "voorziening_id", "Id van de voorgestelde voorziening; leeg als er geen passende optie is.", "",
             "Sociale kaart"),
            (sheet, "voorziening", "Naam van de voorgestelde voorziening.", "", "Sociale kaart"),
            (sheet, "soort", "Soort van de voorziening.", "", "Sociale kaart"),
            (sheet, "afstand_m", "Hemelsbrede afstand van de buurt van de persoon tot de voorziening.", "meter",
             "Berekend"),
            (sheet, "reden", "Waarom er geen voorstel is (alleen zonder voorstel).", "", "Berekend"),
        ])
        out.write_bytes(frames_to_excel_bytes({sheet: book, "Toelichting": explanation},
                                              number_formats={sheet: {"afstand_m": FMT_INT}}))
    else:
        out.write_bytes(frame_to_csv_bytes(table.rename(columns=columns)))
    n_signalled = result.n_matched + result.n_unmatched
    print(f"{format_number(n_signalled)} personen met een signaal van een arm netwerk: "
          f"{format_number(result.n_matched)} met een voorstel voor een passende voorziening (samen "
          f"{format_number(result.total_distance_m / 1000, 1)} km van hun buurt), "
          f"{format_number(result.n_unmatched)} zonder mogelijkheid.")
    for reason, count in result.unmatched["reason"].value_counts().sort_index().items():
        print(f"  {reason}: {format_number(count)}")
    print("Per voorziening (voorgesteld / vrije plekken / met signaal binnen bereik):")
    for row in result.per_provision.itertuples(index=False):
        print(f"  {row.name} ({labels.get(row.type, row.type)}): {format_number(row.matched)} / "
              f"{format_number(row.free_places)} / {format_number(row.signalled_in_reach)}")
    store.log(args.gebruiker, "export-koppeling", "persons",
              {"bestand": out.name, "aantal": len(table), "personen": sorted(set(table["person_id"].astype(str)))})
    print(f"Geschreven naar {out}. Een voorstel is een aanleiding voor een gesprek, geen verwijzing.")
    return 0


def _cmd_export_measures(args: argparse.Namespace) -> int:
    from graphs.card import measures_export_bytes
    from graphs.signals import signals_from_store

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise DataValidationError("Kies een .csv- of .xlsx-bestand voor --out.")
    store = open_store(args.store, create=False)
    signals = signals_from_store(store)
    out.write_bytes(measures_export_bytes(signals, excel=out.suffix.lower() == ".xlsx"))
    store.log(args.gebruiker, "export-netwerkmaten", "persons,ties",
              {"bestand": out.name, "aantal": len(signals), "personen": sorted(signals.index.astype(str))})
    print(f"Netwerkmaten van {len(signals)} personen geschreven naar {out}"
          + (" (met een blad 'Toelichting' per kolom)." if out.suffix.lower() == ".xlsx" else "."))
    print("De maten volgen het eigen verhaal van elke persoon; wie door anderen genoemd wordt, staat apart. "
          "LSNS-6 en De Jong Gierveld zijn screeningsinstrumenten, geen diagnose.")
    return 0


_OUTCOME_PER = {"provision": "provision_id", "voorziening": "provision_id", "type": "type", "soort": "type"}
_OUTCOME_COUNTS = ("n_T0", "n_T1", "n_T2", "n_T3", "n_paired")


def _moment_arg(value: str, option: str) -> str:
    from graphs.outcomes import MOMENTS

    moment = str(value).strip().upper()
    if moment not in MOMENTS:
        raise DataValidationError(f"Onbekend meetmoment '{value}' voor {option}; kies uit {', '.join(MOMENTS)}.")
    return moment


def outcomes_export_table(summary, by: str = "provision_id"):
    """The rows of ``cli.py outcomes``: :func:`graphs.outcomes.outcomes_table` with small counts left out.

    Counts of 1 to 4 persons (n per moment, n paired) are empty and the reason names them ('minder dan 5
    personen gemeten: n_T2'); means, intervals and effect sizes below 5 persons are already empty with that
    reason. With ``by='type'`` the first column is ``type`` instead of ``provision_id``.

    Parameters
    ----------
    summary : DataFrame
        :func:`graphs.outcomes.change_summary` per ``by``.
    by : str
        'provision_id' or 'type'.

    Returns
    -------
    DataFrame
        Columns :data:`graphs.outcomes.OUTCOME_COLUMNS` (with ``type`` first for ``by='type'``), counts Int64.
    """
    import pandas as pd

    from data.disclosure import MIN_CELL
    from graphs.outcomes import OUTCOME_COLUMNS, TOO_FEW, outcomes_table

    if summary.empty:
        table = pd.DataFrame({c: pd.Series(dtype="Int64" if c in _OUTCOME_COUNTS else
                                           ("float64" if c not in ("provision_id", "measure", "reason") else object))
                              for c in OUTCOME_COLUMNS})
    else:
        table = outcomes_table(summary.rename(columns={by: "provision_id"}) if by != "provision_id" else summary)
    small = pd.DataFrame({c: ((table[c] >= 1) & (table[c] < MIN_CELL)).fillna(False).astype(bool)
                          for c in _OUTCOME_COUNTS})
    for column in _OUTCOME_COUNTS:
        table[column] = table[column].astype("Int64").mask(small[column])
    hidden = pd.Series("", index=table.index, dtype=object)
    for column in _OUTCOME_COUNTS:  # five columns, every row at once
        hidden = hidden.where(~small[column], hidden.where(hidden.eq(""), hidden + ", ") + column)
    reason = table["reason"].fillna("").astype(str)
    add = hidden.ne("") & ~reason.str.contains(TOO_FEW, regex=False)
    note = TOO_FEW + ": " + hidden
    reason = reason.where(~add, note.where(reason.eq(""), note + "; " + reason))
    table["reason"] = pd.array(reason.to_numpy(dtype=object), dtype="string")
    return table.rename(columns={"provision_id": "type"}) if by == "type" else table


def _signed(value: float, decimals: int = 1) -> str:
    from data.formatting import format_number

    value = round(float(value), decimals) + 0.0  # no '-0,0'
    return ("+" if value > 0 else "") + format_number(value, decimals)


def _cmd_outcomes(args: argparse.Namespace) -> int:
    import pandas as pd

    from data.access import ScopedStore
    from data.auth import User
    from data.export import FMT_2, FMT_INT, explanation_frame, frame_to_csv_bytes, frames_to_excel_bytes
    from data.formatting import format_number
    from graphs.outcomes import CAVEAT, MEASURE_LABELS, MOMENTS, TOO_FEW

    before, after = _moment_arg(args.before, "--before"), _moment_arg(args.after, "--after")
    if MOMENTS.index(before) >= MOMENTS.index(after):
        raise DataValidationError(f"--before ({before}) moet een eerder meetmoment zijn dan --after ({after}), "
                                  "bijvoorbeeld --before T0 --after T1.")
    by = _OUTCOME_PER.get(str(args.per).strip().lower())
    if by is None:
        raise DataValidationError(f"Onbekende indeling '{args.per}' voor --per; kies provision (per voorziening) of "
                                  "type (per soort).")
    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise DataValidationError("Kies een .csv- of .xlsx-bestand voor --out.")
    store = open_store(args.store, create=False)
    scoped = ScopedStore(store, User(args.gebruiker, "beheerder"))  # exact figures; small counts left out below
    long = scoped.outcome_long()
    summary = (scoped.outcome_summary(before=before, after=after, by=by) if len(long)
               else pd.DataFrame(columns=[by]))
    table = outcomes_export_table(summary, by)
    key = table.columns[0]
    provisions = store.read_table("provisions")
    catalogue = store.read_provision_types()
    names = (provisions.set_index("provision_id")["name"] if by == "provision_id"
             else pd.Series({code: t.label for code, t in catalogue.items()}, dtype=object))
    if out.suffix.lower() == ".xlsx":
        sheet = "Uitkomsten"
        book = table.copy()
        book.insert(1, "naam", book[key].map(names))
        book.insert(3, "omschrijving", book["measure"].map(MEASURE_LABELS))
        book["reason"] = book["reason"].replace("", None)
        source = "Metingen (LSNS-6, De Jong Gierveld, netwerk) in Steunkaart"
        rows = [
            (sheet, key, "Id van de voorziening." if by == "provision_id" else "Soort voorziening (code).", "",
             "Sociale kaart"),
            (sheet, "naam", "Naam van de voorziening." if by == "provision_id" else "Naam van de soort.", "",
             "Sociale kaart"),
            (sheet, "measure", "De maat (code).", "", "Steunkaart"),
            (sheet, "omschrijving", "Wat de maat meet en op welke schaal. LSNS-6 en netwerkomvang: hoger = groter "
             "netwerk; De Jong Gierveld: hoger = eenzamer.", "", "Steunkaart"),
            *[(sheet, f"n_{m}", f"Aantal deelnemers gemeten op {m}; leeg bij 1 tot 4 personen.", "personen", source)
              for m in MOMENTS],
            (sheet, "n_paired", f"Aantal deelnemers gemeten op {before} én {after}; leeg bij 1 tot 4 personen.",
             "personen", source),
            (sheet, "mean_change", f"Gemiddelde verandering van {before} naar {after} (na min voor) bij deelnemers; "
             f"leeg bij minder dan 5 personen.", "schaalpunten", "Berekend"),
            (sheet, "ci_low", "Ondergrens van het 95%-betrouwbaarheidsinterval van de gemiddelde verandering "
             "(gepaarde t).", "schaalpunten", "Berekend"),
            (sheet, "ci_high", "Bovengrens van dat interval.", "schaalpunten", "Berekend"),
            (sheet, "d_z", "Effectgrootte (Cohen's d_z): gemiddelde verandering gedeeld door de standaardafwijking "
             "van de veranderingen.", "", "Berekend"),
            (sheet, "did", "Verschil met de vergelijkingsgroep (verschil-in-verschillen): verandering deelnemers min "
             "verandering vergelijkingsgroep. " + CAVEAT, "schaalpunten", "Berekend"),
            (sheet, "did_ci_low", "Ondergrens van het 95%-interval van dat verschil (Welch).", "schaalpunten",
             "Berekend"),
            (sheet, "did_ci_high", "Bovengrens van dat interval.", "schaalpunten", "Berekend"),
            (sheet, "reason", "Waarom cellen leeg zijn (minder dan 5 personen, geen vergelijkingsgroep).", "",
             "Berekend"),
        ]
        formats = {**{c: FMT_INT for c in _OUTCOME_COUNTS},
                   **{c: FMT_2 for c in ("mean_change", "ci_low", "ci_high", "d_z", "did", "did_ci_low",
                                         "did_ci_high")}}
        out.write_bytes(frames_to_excel_bytes({sheet: book, "Toelichting": explanation_frame(rows)},
                                              number_formats={sheet: formats}))
    else:  # the figures to three decimals: a CSV has no number format to hide the rest
        figures = ["mean_change", "ci_low", "ci_high", "d_z", "did", "did_ci_low", "did_ci_high"]
        out.write_bytes(frame_to_csv_bytes(table.assign(**{c: table[c].astype(float).round(3) for c in figures})))
    store.log(args.gebruiker, "export-uitkomsten", "measurements",
              {"bestand": out.name, "rijen": len(table), "van": before, "naar": after, "per": by})
    if table.empty:
        print("Nog geen metingen in deze opslag; leg eerst metingen vast (intake T0 en een later moment) of "
              f"importeer ze. Alleen de kopregel is geschreven naar {out}.")
        return 0
    what = "voorziening" if by == "provision_id" else "soort"
    print(f"Verandering van {before} naar {after} per {what} (deelnemers; tussen haakjes het 95%-interval):")
    for code, rows in table.groupby(key, sort=True):
        per_measure = rows.set_index("measure")
        first = per_measure.iloc[0]
        n_text = ", ".join(f"{m} {format_number(first[f'n_{m}']) if pd.notna(first[f'n_{m}']) else 'minder dan 5'}"
                           for m in (before, after))
        parts = []
        for measure in ("lsns6", "djg", "djg6"):
            if measure not in per_measure.index:
                continue
            row = per_measure.loc[measure]
            label = MEASURE_LABELS[measure]
            if pd.isna(row["mean_change"]):
                parts.append(f"{label}: {TOO_FEW}")
                continue
            text = (f"{label} {_signed(row['mean_change'])} ({_signed(row['ci_low'])} tot "
                    f"{_signed(row['ci_high'])})")
            if pd.notna(row["did"]):
                text += (f", verschil met vergelijkingsgroep {_signed(row['did'])} ({_signed(row['did_ci_low'])} "
                         f"tot {_signed(row['did_ci_high'])})")
            parts.append(text)
        name = names.get(code, "")
        title = (f"{code} {name}" if by == "provision_id" else f"{name} ({code})") if name else code
        print(f"  {title}: gemeten {n_text}; " + ("; ".join(parts) or "geen LSNS-6 of "
                                                                               "De Jong Gierveld") + ".")
    print(CAVEAT + " Een verschil met de vergelijkingsgroep zegt meer, maar alleen als die groep lijkt op de "
          "deelnemers.")
    print(f"{len(table)} rijen ({what} × maat) geschreven naar {out}"
          + (" (met een blad 'Toelichting' per kolom)." if out.suffix.lower() == ".xlsx" else "."))
    return 0


def _wijk_args(values) -> list[str]:
    """The codes of --wijk, given more than once or as a comma list ('WK199900,WK199901')."""
    return [code.strip().upper() for value in values or () for code in str(value).split(",") if code.strip()]


def _cmd_export_agenda(args: argparse.Namespace) -> int:
    from data.access import ScopedStore
    from data.agenda import agenda_export_bytes, agenda_table
    from data.auth import User
    from data.formatting import format_number

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise DataValidationError("Kies een .csv- of .xlsx-bestand voor --out.")
    store = open_store(args.store, create=False)
    scoped = ScopedStore(store, User(args.gebruiker, "beheerder"))
    areas = scoped.read_table("areas")
    wijken = _wijk_args(args.wijk)
    known = set(areas.loc[areas["level"] == "wijk", "area_code"].astype(str))
    unknown = [w for w in wijken if w not in known]
    if unknown:
        raise DataValidationError(f"Onbekende wijk {', '.join(unknown)} voor --wijk; de opslag kent: "
                                  f"{', '.join(sorted(known)) or 'geen wijken'}.")
    items = scoped.read_table("agenda_items")
    if wijken:
        items = items.loc[items["wijk_code"].astype(str).isin(wijken)].reset_index(drop=True)
    table = agenda_table(items, scoped.read_table("agenda_links"), areas, scoped.read_table("provisions"),
                         scoped.read_table("initiatives"), provision_types=scoped.read_provision_types())
    out.write_bytes(agenda_export_bytes(table, out.suffix.lower().lstrip(".")))
    store.log(args.gebruiker, "export-agenda", "agenda_items",
              {"bestand": out.name, "rijen": len(table), "wijken": wijken or "alle"})
    where = f" van {', '.join(wijken)}" if wijken else ""
    if table.empty:
        print(f"Nog geen agendapunten{where} in deze opslag; alleen de kopregel is geschreven naar {out}.")
        return 0
    n = len(table)
    print(f"{format_number(n)} {'agendapunt' if n == 1 else 'agendapunten'}{where} geschreven naar {out}"
          + (" (met een blad 'Toelichting' per kolom)." if out.suffix.lower() == ".xlsx" else "."))
    return 0


def _cmd_import_agenda(args: argparse.Namespace) -> int:
    from data.access import ScopedStore
    from data.agenda import read_agenda_file
    from data.auth import User
    from data.formatting import format_number

    store = open_store(args.store, create=False)
    scoped = ScopedStore(store, User(args.gebruiker, "beheerder"))
    areas = scoped.read_table("areas")
    path = Path(args.file)
    agenda = read_agenda_file(path, known_wijken=areas.loc[areas["level"] == "wijk", "area_code"].astype(str),
                              known_buurten=areas.loc[areas["level"] == "buurt", "area_code"].astype(str),
                              known_provisions=scoped.read_table("provisions")["provision_id"].astype(str),
                              known_initiatives=scoped.read_table("initiatives")["initiative_id"].astype(str),
                              known_types=scoped.read_provision_types())
    result = scoped.import_agenda_items(agenda.items, agenda.links, source=path.name)
    for warning in agenda.warnings[:20]:
        print(f"Let op: bestand {warning['bestand']}, kolom {warning['kolom']}: {warning['melding']}")
    n = int(result.get("agendapunten", len(agenda.items)))
    ids = result.get("ids") or []
    print(f"{format_number(n)} {'agendapunt' if n == 1 else 'agendapunten'} geïmporteerd uit {path.name}"
          + (f" ({ids[0]} tot en met {ids[-1]})." if len(ids) > 1 else f" ({ids[0]})." if ids else "."))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = _DutchParser(prog="python cli.py", description="Steunkaart vanaf de opdrachtregel.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="OPDRACHT",
                                parser_class=_DutchParser)

    def command(name: str, help_text: str, func, *, writes: bool = True,
                store_required: bool = False) -> argparse.ArgumentParser:
        """A subcommand with the options every command shares (--store, and --gebruiker when it writes)."""
        cmd = sub.add_parser(name, help=help_text)
        if store_required:
            cmd.add_argument("--store", required=True, help="het nieuwe GeoPackage-bestand, bijv. var/gemeente.gpkg, "
                                                            "of een lege PostgreSQL-database (postgresql://...)")
        else:
            cmd.add_argument("--store", default=store_location(),
                             help="GeoPackage-bestand of postgresql://-URL van de opslag (standaard: "
                                  "$STEUNKAART_STORE of de demo, var/demo.gpkg)")
        if writes:
            cmd.add_argument("--gebruiker", default="cli", help="naam voor het logboek")
        cmd.set_defaults(func=func)
        return cmd

    demo = command("demo", "schrijf de demogemeente Voorbeeldstad naar de opslag", _cmd_demo, writes=False)
    demo.add_argument("--if-missing", action="store_true",
                      help="alleen als het bestand nog niet bestaat")
    demo.add_argument("--force", action="store_true", help="vervang bestaande gegevens")
    demo.add_argument("--seed", type=int, default=None, help="toevalszaadje (standaard vast)")

    imp = command("import-areas", "importeer een CBS wijk- en buurtkaart (GPKG, SHP, ZIP, GeoJSON)", _cmd_import_areas)
    imp.add_argument("file", metavar="BESTAND", help="GeoPackage, shapefile (los of gezipt) of GeoJSON")
    imp.add_argument("--gemeente", help="alleen deze gemeente, bijv. GM0080 (nodig bij landelijke bestanden)")
    imp.add_argument("--jaar", type=int, help="jaar van de gegevens (standaard: uit de bestandsnaam)")

    health = command("import-gezondheid", "importeer Gezondheidsmonitor-cijfers per buurt (CBS 50120NED, CSV of Excel)",
                     _cmd_import_health)
    health.add_argument("file", metavar="BESTAND", help="CSV of Excel (StatLine-export of sjabloon)")
    health.add_argument("--jaar", type=int, help="jaar van de cijfers (standaard: uit het bestand)")

    fetch = command("fetch-cbs", "haal wijken, buurten en kerncijfers online op (PDOK en CBS StatLine)", _cmd_fetch_cbs)
    fetch.add_argument("--gemeente", required=True, help="gemeentecode, bijv. GM0080")
    fetch.add_argument("--jaar", type=int, required=True, help="jaar van de wijk- en buurtkaart, bijv. 2024")
    fetch.add_argument("--zonder-gezondheid", action="store_true", help="sla de Gezondheidsmonitor over")

    iprov = command("import-provisions", "importeer voorzieningen (Excel/CSV-sjabloon, GeoJSON, GPKG)",
                    _cmd_import_provisions)
    iprov.add_argument("file", metavar="BESTAND")
    group = iprov.add_mutually_exclusive_group()
    group.add_argument("--mapping", metavar="KOPPELING.json",
                       help="koppeling van de bronkolommen (soort, bron-id, naam, adres, vertaling van waarden, "
                            "punten buiten de gebieden), zoals de pagina Voorzieningen hem bewaart")
    group.add_argument("--type", help="één soort voor alle punten")
    group.add_argument("--type-map", help="vertaling van bronwaarden naar soorten (JSON of CSV; null = overslaan)")
    iprov.add_argument("--outside-areas", choices=("flag", "skip"),
                       help="punten buiten de geladen gebieden: flag = importeren en markeren (standaard), "
                            "skip = overslaan")
    iprov.add_argument("--dry-run", action="store_true", help="alleen laten zien wat er zou gebeuren")

    eprov = command("export-provisions", "exporteer voorzieningen naar Excel (.xlsx) of CSV", _cmd_export_provisions)
    eprov.add_argument("--out", required=True, help="doelbestand, .xlsx of .csv")

    ehsds = command("export-hsds", "exporteer voorzieningen als Open Referral HSDS 3.0 (CSV-tabellen met "
                    "datapackage.json, of JSON)", _cmd_export_hsds)
    ehsds.add_argument("--out", required=True, metavar="MAP", help="doelmap (wordt aangemaakt als die ontbreekt)")
    ehsds.add_argument("--formaat", choices=("csv", "json"), default="csv",
                       help="csv: een CSV per HSDS-object met datapackage.json (standaard); json: services.json")

    ihsds = command("import-hsds", "importeer voorzieningen uit Open Referral HSDS 3.0 (CSV-tabellen of JSON)",
                    _cmd_import_hsds)
    ihsds.add_argument("folder", metavar="MAP", help="map met services.csv en de andere tabellen, of services.json")

    net = command("import-network", "importeer steunnetwerken (sjablonen personen, relaties, deelname; Network "
                  "Canvas; GraphML)", _cmd_import_network)
    net.add_argument("--personen", help="CSV/Excel met kolommen persoon, buurtcode, leeftijd, ... (of het "
                                        "Excel-sjabloon met de bladen Personen, Relaties en Deelname)")
    net.add_argument("--relaties", help="CSV/Excel met kolommen ego, alter of alter_label, rol, ...")
    net.add_argument("--network-canvas", nargs="+", metavar="PAD",
                     help="een Network Canvas-export: de CSV- en/of GraphML-bestanden, hun zip of de map")
    net.add_argument("--mapping", "--koppeling", dest="mapping", metavar="KOPPELING.json",
                     help="JSON: welke Network Canvas-variabelen en -waarden onze velden zijn (zonder: de Network "
                          "Canvas-preset; niet gekoppelde variabelen staan in het verslag)")
    net.add_argument("--graphml", help="GraphML-bestand (zoals export-network het schrijft, of van Network Canvas)")
    net.add_argument("--deelname", help="CSV/Excel met kolommen persoon, voorziening, rol, sinds")

    imeas = command("import-measurements", "importeer metingen van deelnemers (sjabloon: persoon, voorziening, "
                    "groep, moment, datum, lsns_1..6, djg_1..11; of herhaalde Network Canvas-interviews)",
                    _cmd_import_measurements)
    imeas.add_argument("file", nargs="?", metavar="BESTAND", help="het ingevulde sjabloon (CSV of Excel)")
    imeas.add_argument("--network-canvas", nargs="+", metavar="PAD",
                       help="een Network Canvas-export met herhaalde interviews van dezelfde case (CSV/GraphML, zip "
                            "of map); de case-id is de code van de persoon")
    imeas.add_argument("--voorziening", help="bij --network-canvas: de voorziening (provision_id)")
    imeas.add_argument("--groep", default="deelnemer", choices=("deelnemer", "vergelijking"),
                       help="bij --network-canvas: deelnemer (standaard) of vergelijking")
    imeas.add_argument("--alter-code", help="bij --network-canvas: de variabele met een vaste code per netwerklid")

    xnet = command("export-network", "exporteer het steunnetwerk als GraphML (Gephi) of CSV", _cmd_export_network)
    xnet.add_argument("--out", required=True, help="doelbestand, .graphml of .csv")

    gaps = command("gaps", "schrijf behoefte, bereikbaarheid en tekort per buurt en soort naar CSV", _cmd_gaps)
    gaps.add_argument("--type", help="alleen deze soort (standaard: alle soorten)")
    gaps.add_argument("--verval", default="step", help="afstandsverval: step, gaussian of e2sfca")
    gaps.add_argument("--out", required=True, help="doelbestand: .csv (puntkomma's) of .xlsx (met toelichting)")

    sig = command("signals", "schrijf de personen met een signaal van een arm netwerk naar CSV", _cmd_signals)
    sig.add_argument("--out", required=True, help="doelbestand: .csv (puntkomma's) of .xlsx (met toelichting)")

    emeasures = command("export-measures", "exporteer alle netwerkmaten per persoon (de netwerkkaart) naar CSV of "
                        "Excel", _cmd_export_measures)
    emeasures.add_argument("--out", required=True, help="doelbestand, .csv of .xlsx")

    match = command("match", "stel personen met een signaal een passende voorziening voor (min-cost flow) en "
                    "schrijf het resultaat naar CSV", _cmd_match)
    match.add_argument("--out", required=True, help="doelbestand: .csv (puntkomma's) of .xlsx (met toelichting)")

    outcomes = command("outcomes", "schrijf de verandering per voorziening (of soort) en maat naar CSV of Excel: "
                       "n per meetmoment, gemiddelde verandering met 95%%-interval, d_z en het verschil met de "
                       "vergelijkingsgroep", _cmd_outcomes)
    outcomes.add_argument("--out", required=True, help="doelbestand: .csv (puntkomma's) of .xlsx (met toelichting)")
    outcomes.add_argument("--before", default="T0", help="het eerste meetmoment: T0, T1, T2 of T3 (standaard T0)")
    outcomes.add_argument("--after", default="T1", help="het latere meetmoment (standaard T1)")
    outcomes.add_argument("--per", default="provision",
                          help="provision (per voorziening, standaard) of type (per soort voorziening)")

    eagenda = command("export-agenda", "exporteer de wijkagenda (agendapunten met wijk, titel, eigenaar, status, "
                      "datums en koppelingen) naar CSV of Excel", _cmd_export_agenda)
    eagenda.add_argument("--out", required=True, help="doelbestand: .csv (puntkomma's) of .xlsx (met toelichting)")
    eagenda.add_argument("--wijk", action="append", metavar="WK......",
                         help="alleen deze wijk(en); mag vaker gegeven worden of als lijst met komma's")

    iagenda = command("import-agenda", "importeer agendapunten uit CSV of Excel (zoals export-agenda ze schrijft); "
                      "elke rij wordt een nieuw agendapunt", _cmd_import_agenda)
    iagenda.add_argument("file", metavar="BESTAND", help="CSV of Excel met de kolommen wijkcode, titel, eigenaar, ...")

    command("init", "maak een nieuwe, lege opslag voor de eigen gemeente (een bestaand bestand wordt "
            "geweigerd)", _cmd_init, writes=False, store_required=True)

    backup = command("backup", "schrijf een consistente reservekopie van de opslag (ook terwijl de app draait)",
                     _cmd_backup, writes=False)
    backup.add_argument("--out", required=True, help="het nieuwe bestand van de kopie, bijv. backup/2026-12-01.gpkg")

    restore = command("restore", "zet een reservekopie terug als de opslag (na controle; de oude blijft bewaard)",
                      _cmd_restore)
    restore.add_argument("copy", metavar="KOPIE", help="de reservekopie (.gpkg)")

    imports = command("imports", "toon de imports in de opslag (nummer, wie, wanneer, bestand, aantallen)",
                      _cmd_imports, writes=False)
    imports.add_argument("--json", action="store_true", help="JSON voor scripts")

    undo = command("undo", "maak één import ongedaan", _cmd_undo)
    undo.add_argument("batch", metavar="IMPORT", type=int, help="het nummer van de import (zie 'imports')")

    remove = command("remove-areas", "verwijder de kerncijfers van één gemeente en één jaar (en gebieden zonder "
                     "cijfers)", _cmd_remove_areas)
    remove.add_argument("--gemeente", required=True, help="gemeentecode, bijv. GM0080")
    remove.add_argument("--jaar", type=int, required=True, help="jaar van de cijfers")

    copy = sub.add_parser("copy-store", help="kopieer een hele opslag tussen GeoPackage en PostgreSQL/PostGIS "
                          "(verliesvrij; aantallen en inhoud per tabel worden vergeleken)")
    copy.add_argument("--from", dest="source", required=True, metavar="BRON",
                      help="GeoPackage-bestand of postgresql://-URL van de bron (wordt alleen gelezen)")
    copy.add_argument("--to", dest="target", required=True, metavar="DOEL",
                      help="nieuw GeoPackage-bestand of een lege PostgreSQL-database (postgresql://...)")
    copy.add_argument("--gebruiker", default="cli", help="naam voor het logboek van het doel")
    copy.set_defaults(func=_cmd_copy_store)

    info = command("info", "toon de aantallen in de opslag", _cmd_info, writes=False)
    info.add_argument("--json", action="store_true", help="één JSON-object voor scripts")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    if getattr(args, "seed", 0) is None:
        from data.demo import DEMO_SEED

        args.seed = DEMO_SEED
    try:
        return args.func(args)
    except DataValidationError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        for problem in exc.problems[1:50]:  # the first is in the message; the row report follows
            where = ", ".join(f"{k} {problem[k]}" for k in ("bestand", "rij", "kolom")
                              if problem.get(k) not in (None, ""))
            print(f"  - {where}: {problem.get('melding', '')}" if where else f"  - {problem.get('melding', '')}",
                  file=sys.stderr)
        if len(exc.problems) > 50:
            print(f"  … en nog {len(exc.problems) - 50} problemen.", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        print(f"Fout: kan het bestand niet lezen of schrijven: {exc}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
