"""The case report: one self-contained HTML page per case, its figures, its tables as Excel and CSV,
and an index of every case.

Everything is read from the stage tables (``data/processed/<case>``); nothing is
recomputed. A case writes into ``reports/<case>/``:

- ``report.html``: title, data provenance, the parameters used, one section per
  stage with its key tables and figures (PNG embedded as data URIs, so the page
  needs no network), the strategy tables, and a reproducibility block (input and
  params hashes, package versions, seeds, the command);
- ``figures/<name>.png`` and ``.svg``;
- ``tables.xlsx`` (one formatted sheet per result table) and ``tables/<name>.csv``;
- ``summary.json``: the headline figures the index shows.

``reports/index.html`` lists every case that has a ``summary.json``.

Privacy: the report holds aggregates only. The one customer-level table
(``top_risk``) carries keyed-hash pseudonyms (:mod:`crmlib.privacy`); the
scatter figures show points without ids; the params shown leave out the
pseudonym salt.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import jinja2
import pandas as pd
import yaml
from matplotlib.figure import Figure

from . import engine, figures, io, provenance, report
from .check import CHANGE_TABLES, change_counts, change_line
from .labels import Language, column_label, named_labels, text
from .params import STAGES, CaseParams
from .tables import registry
from .workbook import format_value, number_format, write_workbook

__all__ = ["KINDS", "data_kinds", "data_kind", "headline", "write_case_report", "write_index"]

_TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("crmlib", "templates"), autoescape=True,
                                keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


#: Kinds of data, in the order a report names them: any synthetic file makes the case's results not findings,
#: any private one keeps it from being labelled public.
KINDS = ("synthetic", "private", "public")


def data_kinds(params: CaseParams) -> list[str]:
    """The kinds of the case's data files, in the order of :data:`KINDS`."""
    present = {source.kind for _, source in params.data_sources()}
    return [kind for kind in KINDS if kind in present]


def data_kind(params: CaseParams) -> str:
    """The case's kind as the index shows it: the first of :func:`data_kinds`."""
    return data_kinds(params)[0]


def _html_table(frame: pd.DataFrame, formats: dict[str, str | None]) -> dict:
    numeric = [formats[c] is not None for c in frame.columns]
    rows = [[format_value(v, formats[c]) for c, v in zip(frame.columns, row)] for row in frame.itertuples(index=False)]
    return {"columns": list(frame.columns), "numeric": numeric, "rows": rows}


def _png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _shown_params(params: CaseParams) -> str:
    """The params as YAML (every set value), the pseudonym salt left out."""
    def redact(node):
        if isinstance(node, dict):
            return {k: ("(not shown)" if k in provenance.SECRET_KEYS else redact(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [redact(v) for v in node]
        return node
    dumped = redact(params.model_dump(mode="json", exclude_none=True))
    return yaml.safe_dump(dumped, allow_unicode=True, sort_keys=False, width=110)


def headline(params: CaseParams, tables: dict[str, pd.DataFrame]) -> dict:
    """The figures the index shows for a case, read off its stage tables: overall KMO, factors retained,
    cumulative variance explained by them (extraction, or the mean communality of an EFA), customers per
    grade/class/tier (best first) or respondents kept, and the cross-validated ROC AUC of each churn model."""
    summary = {"case": params.case, "title_en": params.title_en, "title_zh": params.title_zh,
               "kind": data_kind(params), "lang": params.report.lang, "kmo": None, "factors": None,
               "variance_explained": None, "segments": [], "respondents": None, "auc": {}}
    kmo_table = "kmo" if "kmo" in tables else "survey_kmo"
    if kmo_table in tables:
        kmo = tables[kmo_table].set_index(tables[kmo_table].columns[0])["msa"]
        summary["kmo"] = float(kmo["overall"])
    eigen_table = "eigenvalues" if "eigenvalues" in tables else "survey_eigenvalues"
    if eigen_table in tables:
        summary["factors"] = int(tables[eigen_table]["retained"].sum())
    if "total_variance_explained" in tables:
        summary["variance_explained"] = float(tables["total_variance_explained"]["extraction_cum_pct"].dropna()
                                              .iloc[-1]) / 100
    elif "efa_loadings" in tables:
        summary["variance_explained"] = float(tables["efa_loadings"]["communality"].mean())
    sizes = report.segment_sizes(tables)
    if sizes is not None:
        frame, id_column = sizes
        labels = {lang: named_labels(params, lang) for lang in ("en", "zh")}
        summary["segments"] = [{"id": s, "label_en": labels["en"].get(s, s), "label_zh": labels["zh"].get(s, s),
                                "customers": int(n)} for s, n in zip(frame[id_column], frame["customers"])]
    if "respondents" in tables:
        summary["respondents"] = int(tables["respondents"]["n_out"].iloc[0])
    if "churn_discrimination" in tables:
        summary["auc"] = {m: float(a) for m, a in tables["churn_discrimination"][["model", "roc_auc"]].itertuples(
            index=False)}
    return summary


#: Customers the workbook's per-customer sheet lists in full (Excel's limit is 1,048,576 rows).
SHEET_ROWS = 100_000
#: Rows of the per-customer sheet, the header included, for a larger customer base: the first 9,998 customers and
#: a note saying where the full table is (``tables/customers.parquet``, every customer). Writing 99,998 rows took
#: XlsxWriter 4.5 s at a million customers, and a sheet that cannot list them all is only a first look.
EXCERPT_ROWS = 10_000


def _within_sheet_rows(frame: pd.DataFrame, customers: int, lang: Language, full_table: str) -> pd.DataFrame:
    """The per-customer sheet from its first rows ``frame`` (at least :data:`EXCERPT_ROWS`, or all) of
    ``customers``: every customer when there are at most :data:`SHEET_ROWS`; else the first :data:`EXCERPT_ROWS`
    rows, the header and a last row saying where the full table is (``full_table``, a path relative to the
    report) included."""
    if customers <= SHEET_ROWS:
        return frame
    shown = EXCERPT_ROWS - 2
    note = text("full_table", lang, n=customers - shown, shown=shown, file=full_table)
    return pd.concat([frame.iloc[:shown], pd.DataFrame({frame.columns[0]: [note]})], ignore_index=True)


def _write_sheet(sheet: report.CustomerSheet, path: Path, headers: dict[str, str] | None = None, *,
                 ids: bool = False, bom: bool = False) -> Path:
    """Write the whole customer ``sheet`` (with ``headers``, with ``ids``): as ``<path>.csv`` through pandas, or
    above :data:`crmlib.io.PARQUET_ROWS` customers as ``<path>.parquet`` written by the engine, never in memory;
    the file of the other kind, from an earlier run, is removed."""
    if sheet.customers > io.PARQUET_ROWS:
        path.with_suffix(".csv").unlink(missing_ok=True)
        return sheet.run.write_parquet(sheet.sql(headers, ids=ids), path.with_suffix(".parquet"))
    return io.write_stage_table(sheet.frame(headers, ids=ids), path.parent, path.name, bom=bom)


def _write_key(sheet: report.CustomerSheet, processed: Path) -> Path:
    """The link from each pseudonym to its customer id, beside the stage tables: ``customers_with_ids.xlsx``, or for
    more customers than the customer sheet lists in full (:data:`SHEET_ROWS`), every one of them, in
    ``customers_with_ids.parquet`` (written by the engine above :data:`crmlib.io.PARQUET_ROWS`); the file of the
    other kind, from an earlier run, is removed."""
    workbook, table = processed / "customers_with_ids.xlsx", processed / "customers_with_ids.parquet"
    if sheet.customers <= SHEET_ROWS:
        table.unlink(missing_ok=True)
        return write_workbook({"customers": (sheet.frame(ids=True), {})}, workbook)
    workbook.unlink(missing_ok=True)
    if sheet.customers > io.PARQUET_ROWS:
        return sheet.run.write_parquet(sheet.sql(ids=True), table)
    return io.write_bytes(sheet.frame(ids=True).to_parquet(index=False), table)


def _write_text(text_: str, path: Path) -> Path:
    return io.write_bytes(text_.encode("utf-8"), path)


def write_case_report(params: CaseParams, processed: Path, out: Path, *, lang: Language, command: str,
                      progress=print) -> Path:
    """Write a case's report, figures, workbook, CSV tables and summary into ``out`` from the stage tables in
    ``processed``; returns the path of ``report.html``."""
    declared = [t for t in registry().values() if t.family in {f.folder for f in params.families}]
    present = [t.name for t in declared if io.table_file(processed, t.name).is_file()]
    tables = report.read_tables(processed, [t.name for t in declared if t.shown != "stage" and t.name in present])
    localized = {t.name: report.localized(tables[t.name], t.name, params, lang) for t in declared
                 if t.shown in ("report", "workbook") and t.name in tables}
    for name, (frame, _) in localized.items():
        io.write_table(frame, out / "tables" / f"{name}.csv", bom=True)
    sheets = dict(localized)
    sheet = report.customer_sheet(engine.DuckDBEngine(), {t.name: io.engine_source(processed, t.name)
                                                          for t in declared if t.per_customer and t.name in present},
                                  leave_out=[i.id for i in params.indicators] + ["fold"])
    if sheet is not None:
        headers = {c: column_label(c, lang) for c in ["customer", *sheet.columns]}
        full = _write_sheet(sheet, out / "tables" / "customers", headers, bom=True)
        first = sheet.frame(headers, limit=SHEET_ROWS if sheet.customers <= SHEET_ROWS else EXCERPT_ROWS)
        sheets["customers"] = (_within_sheet_rows(first, sheet.customers, lang, f"tables/{full.name}"),
                               {c: number_format(c, first[c]) for c in first})
        if "private" in data_kinds(params):  # the link from pseudonym to id stays with the stage tables
            _write_key(sheet, Path(processed))
    write_workbook(sheets, out / "tables.xlsx")

    figures_by_stage: dict[str, list[dict]] = {stage: [] for stage in STAGES}
    for family in params.families:
        for spec in [f for f in family.figures if family.takes_part(params, f.stage)]:
            figure = getattr(family.display(), spec.draw)(tables, params, lang)
            if isinstance(figure, Figure):
                png, _ = figures.save_figure(figure, out / "figures", spec.name)
                figures_by_stage[spec.stage].append({"name": spec.name, "caption": getattr(spec, f"caption_{lang}"),
                                                     "src": _png_data_uri(png)})

    notes: dict[str, list[str]] = {stage: [] for stage in STAGES}
    notes["01_clean"].append(change_line(change_counts({n: tables[n] for n in CHANGE_TABLES if n in tables}), lang))
    for family in params.families:
        written = family.display_function("report_notes")
        for stage, sentences in (written(tables, params, lang) if written else {}).items():
            notes[stage] += sentences
    sections = []
    for stage in STAGES:
        shown = [{"name": t.name, "caption": t.caption(lang), **_html_table(*localized[t.name])}
                 for t in declared if t.stage == stage and t.shown == "report" and t.name in localized]
        if shown or figures_by_stage[stage]:
            sections.append({"id": stage, "title": text(f"stage_{stage}", lang), "tables": shown,
                             "figures": figures_by_stage[stage], "notes": notes[stage]})
    summary = headline(params, tables)
    page = _TEMPLATES.get_template("report.html.j2").render(
        lang=lang, t=lambda key, **v: text(key, lang, **v), params=params,
        title=params.title_en if lang == "en" else params.title_zh,
        subtitle=params.title_zh if lang == "en" else params.title_en, kinds=data_kinds(params),
        sources=params.data_sources(),
        shown_params=_shown_params(params), strategy_source=report.strategy_source(params, lang), sections=sections,
        inputs=provenance.input_files(params).to_dict("records"),
        params_file={"file": params.source_file.name, "sha256": provenance.sha256(params.source_file)},
        packages=provenance.package_versions().to_dict("records"),
        seeds=provenance.random_seeds(params).to_dict("records"), command=command)
    _write_text(json.dumps(summary, ensure_ascii=False, indent=1, sort_keys=True) + "\n", out / "summary.json")
    progress(f"[{params.case}] report written ({lang}, {sum(len(s['figures']) for s in sections)} figures, "
             f"{len(localized)} tables)")
    return _write_text(page, out / "report.html")


def write_index(reports_root) -> Path:
    """Write ``reports/index.html``, in Chinese and English: every case with a ``summary.json``, its kind, headline
    figures and link."""
    root = Path(reports_root)
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.glob("*/summary.json"))]
    page = _TEMPLATES.get_template("index.html.j2").render(
        cases=cases, t=lambda key, **v: text(key, "en", **v), tz=lambda key, **v: text(key, "zh", **v),
        kind=lambda kind: text(kind, "en") if kind in KINDS else kind,  # a report written by an older version
        kindz=lambda kind: text(kind, "zh") if kind in KINDS else kind)
    return _write_text(page, root / "index.html")
